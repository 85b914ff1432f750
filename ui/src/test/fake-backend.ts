// A Backend for UI tests: answers from memory, records calls, and lets a test push connection states the
// way Rust's channel would. No Tauri anywhere.

import { vi } from "vitest";
import type { Backend, ConnectionState } from "../lib/backend";

export class FakeBackend implements Backend {
  state: ConnectionState;
  readonly listeners = new Set<(state: ConnectionState) => void>();

  constructor(state: ConnectionState = { state: "connecting" }) {
    this.state = state;
  }

  connection = vi.fn(async (): Promise<ConnectionState> => this.state);

  onConnection = vi.fn(async (onState: (state: ConnectionState) => void) => {
    this.listeners.add(onState);
    return () => {
      this.listeners.delete(onState);
    };
  });

  retry = vi.fn(async (): Promise<void> => {});

  /** What Rust does on every change: remember it and send it down each open channel. */
  push(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }
}

/** A promise with its resolve and reject in hand, for answers a test releases when it chooses. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
