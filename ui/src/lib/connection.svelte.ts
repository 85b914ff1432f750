// The webview's live view of the CLI connection. Owns the subscription: it subscribes through the Backend
// before asking for the current state (so no change is lost in between), keeps the latest state reactive,
// and retries on request, re-subscribing first if the subscription itself had failed.

import { describeError, type Backend, type ConnectionState, type ConnectionTarget } from "./backend";

export class ConnectionMonitor {
  // Until Rust answers, the bundled CLI is the best guess (it reads "Connecting…" either way).
  current = $state<ConnectionState>({ state: "connecting", target: { kind: "bundled" } });
  retrying = $state(false);

  readonly #backend: Backend;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    let pushed = false;
    try {
      const unsubscribe = await this.#backend.onConnection((state) => {
        pushed = true;
        this.current = state;
      });
      if (this.#stopped) {
        unsubscribe();
        return;
      }
      this.#unsubscribe = unsubscribe;
      const current = await this.#backend.connection();
      // A pushed state is newer than the answer to a question asked before it arrived.
      if (!this.#stopped && !pushed) this.current = current;
    } catch (error) {
      if (!this.#stopped) this.current = this.#failed(error);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** The CLI the app talks to, as far as it is known. */
  get target(): ConnectionTarget {
    return this.current.state === "stopped" ? { kind: "bundled" } : this.current.target;
  }

  /** The bridge to Rust itself failed: shown like a failed CLI, so Retry is offered. */
  #failed(error: unknown): ConnectionState {
    return { state: "failed", target: this.target, code: "bridge", reason: describeError(error) };
  }

  async retry(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      if (!this.#unsubscribe) await this.start();
      if (this.#unsubscribe && this.current.state === "failed") await this.#backend.retry();
    } catch (error) {
      this.current = this.#failed(error);
    } finally {
      this.retrying = false;
    }
  }
}
