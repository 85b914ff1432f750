// The webview's live view of the CLI connection. Owns the subscription: it subscribes through the Backend
// before asking for the current state (so no change is lost in between), keeps the latest state reactive,
// and retries on request, re-subscribing first if the subscription itself had failed.

import { describeError, type Backend, type ConnectionState } from "./backend";

export class ConnectionMonitor {
  current = $state<ConnectionState>({ state: "connecting" });
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
      if (!this.#stopped) this.current = { state: "failed", reason: describeError(error) };
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  async retry(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      if (!this.#unsubscribe) await this.start();
      if (this.#unsubscribe && this.current.state === "failed") await this.#backend.retry();
    } catch (error) {
      this.current = { state: "failed", reason: describeError(error) };
    } finally {
      this.retrying = false;
    }
  }
}
