// The open session's queue: the messages written while a turn ran, waiting for it to end (the CLI holds them; this
// mirrors what it says), and what the user does to them before they run: edit, remove, or send now (steer the
// running turn). Refreshed when the CLI says the queue changed, when a turn starts or ends, and after each action.

import { describeError, type Backend, type QueuedMessage } from "../backend";

export class SessionQueue {
  queued = $state.raw<QueuedMessage[]>([]);
  /** Steering messages the running turn has not read yet. */
  steering = $state.raw<string[]>([]);
  /** The last action that failed, in words. */
  error = $state<string | null>(null);

  readonly #backend: Backend;
  readonly #sessionId: string;
  #seq = 0;

  constructor(backend: Backend, sessionId: string) {
    this.#backend = backend;
    this.#sessionId = sessionId;
  }

  /** Ask the CLI what waits now (the newest answer wins). */
  async refresh(): Promise<void> {
    const seq = ++this.#seq;
    try {
      const state = await this.#backend.queuedMessages(this.#sessionId);
      if (seq !== this.#seq) return;
      this.queued = state.queued;
      this.steering = state.steering;
    } catch {
      // The CLI is away (restarting): the queue shows again when it is back.
    }
  }

  async edit(itemId: string, text: string): Promise<boolean> {
    return this.#act(() => this.#backend.editQueued(this.#sessionId, itemId, text.trim()));
  }

  async remove(itemId: string): Promise<boolean> {
    return this.#act(() => this.#backend.removeQueued(this.#sessionId, itemId));
  }

  /** Steer the running turn with a queued message. */
  async sendNow(itemId: string): Promise<boolean> {
    return this.#act(async () => {
      const steered = await this.#backend.sendQueuedNow(this.#sessionId, itemId);
      if (!steered) this.error = "No turn is running now; the message stays queued and runs next.";
    });
  }

  async #act(action: () => Promise<void>): Promise<boolean> {
    this.error = null;
    try {
      await action();
      return true;
    } catch (failure) {
      this.error = describeError(failure);
      return false;
    } finally {
      await this.refresh();
    }
  }
}
