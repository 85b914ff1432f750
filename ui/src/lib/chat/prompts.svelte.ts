// The permission prompts and questions waiting for the user. Owns the prompts subscription (onPrompts), one
// FIFO queue per session, and sending the user's decision or answer back. It knows nothing of dialogs: the UI
// shows `current(activeSessionId)` and badges sessions with `countFor`. It never decides anything by itself.

import {
  describeError,
  toAppError,
  type Backend,
  type PermissionAnswer,
  type PermissionPrompt,
  type PromptEvent,
  type UserAnswer,
  type UserQuestion,
} from "../backend";

/** The code Rust answers with when a request was already answered elsewhere or withdrawn. */
export const PROMPT_NOT_PENDING = "prompt_not_pending";

/** One request waiting for the user: a permission prompt or a question, tagged by `type`. */
export type PendingRequest =
  | { type: "permission"; requestId: string; sessionId: string; prompt: PermissionPrompt }
  | { type: "question"; requestId: string; sessionId: string; question: UserQuestion };

export class PromptQueue {
  /** Every pending request, oldest first, all sessions together. */
  #items = $state.raw<PendingRequest[]>([]);
  /** Why the last decision or answer for a request failed, by request id. */
  #errors = $state.raw<Record<string, string>>({});
  /** Requests whose decision or answer is on its way to Rust. */
  #sending = $state.raw<ReadonlySet<string>>(new Set());
  /** Why the subscription failed; while set, nobody in this window is asked (Rust denies). */
  error = $state<string | null>(null);

  readonly #backend: Backend;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Subscribes; Rust then sends every pending request again, so the queue starts empty. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#items = [];
    this.#errors = {};
    this.error = null;
    try {
      const unsubscribe = await this.#backend.onPrompts((event) => {
        if (!this.#stopped) this.#apply(event);
      });
      if (this.#stopped) {
        unsubscribe();
        return;
      }
      this.#unsubscribe = unsubscribe;
    } catch (error) {
      if (!this.#stopped) this.error = describeError(error);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** All pending requests, oldest first. */
  get all(): readonly PendingRequest[] {
    return this.#items;
  }

  /** A session's pending requests, oldest first. */
  pendingFor(sessionId: string): PendingRequest[] {
    return this.#items.filter((item) => item.sessionId === sessionId);
  }

  /** How many requests a session has waiting (its sidebar badge). */
  countFor(sessionId: string): number {
    let count = 0;
    for (const item of this.#items) if (item.sessionId === sessionId) count += 1;
    return count;
  }

  /** The request to show now: the oldest of the active session's. Other sessions' requests wait. */
  current(activeSessionId: string | null | undefined): PendingRequest | null {
    if (!activeSessionId) return null;
    return this.#items.find((item) => item.sessionId === activeSessionId) ?? null;
  }

  /** Why the last attempt to answer this request failed, or null. */
  errorFor(requestId: string): string | null {
    return this.#errors[requestId] ?? null;
  }

  /** Whether this request's decision or answer is on its way. */
  isSending(requestId: string): boolean {
    return this.#sending.has(requestId);
  }

  /**
   * Answers a permission prompt. Resolves once Rust took it (the prompt is gone). Rejects when it failed:
   * the prompt stays, with the reason in `errorFor`. A prompt answered elsewhere is simply dropped.
   */
  decide(requestId: string, answer: PermissionAnswer): Promise<void> {
    return this.#reply(requestId, () => this.#backend.decide(requestId, answer));
  }

  /** Answers a question; resolves and rejects as `decide` does. */
  answer(requestId: string, answer: UserAnswer): Promise<void> {
    return this.#reply(requestId, () => this.#backend.answer(requestId, answer));
  }

  async #reply(requestId: string, send: () => Promise<void>): Promise<void> {
    this.#setError(requestId, null);
    this.#setSending(requestId, true);
    try {
      await send();
      this.#remove(requestId);
    } catch (error) {
      if (toAppError(error).code === PROMPT_NOT_PENDING) {
        this.#remove(requestId);
        return;
      }
      if (this.#items.some((item) => item.requestId === requestId)) this.#setError(requestId, describeError(error));
      throw error;
    } finally {
      this.#setSending(requestId, false);
    }
  }

  #apply(event: PromptEvent): void {
    switch (event.type) {
      case "permissionRequested": {
        const { prompt } = event;
        this.#add({ type: "permission", requestId: prompt.requestId, sessionId: prompt.sessionId, prompt });
        break;
      }
      case "questionAsked": {
        const { question } = event;
        this.#add({ type: "question", requestId: question.requestId, sessionId: question.sessionId, question });
        break;
      }
      case "resolved":
        this.#remove(event.requestId);
        break;
      default:
        // A kind of event from a newer Rust: nothing to show for it.
        break;
    }
  }

  // The same request sent again (a re-subscription, an update) replaces the old one in its place.
  #add(item: PendingRequest): void {
    const index = this.#items.findIndex((existing) => existing.requestId === item.requestId);
    if (index === -1) {
      this.#items = [...this.#items, item];
    } else {
      this.#items = this.#items.map((existing, i) => (i === index ? item : existing));
    }
  }

  #remove(requestId: string): void {
    if (this.#items.some((item) => item.requestId === requestId)) {
      this.#items = this.#items.filter((item) => item.requestId !== requestId);
    }
    this.#setError(requestId, null);
  }

  #setError(requestId: string, message: string | null): void {
    if (message === null) {
      if (!(requestId in this.#errors)) return;
      const { [requestId]: _removed, ...rest } = this.#errors;
      this.#errors = rest;
    } else {
      this.#errors = { ...this.#errors, [requestId]: message };
    }
  }

  #setSending(requestId: string, sending: boolean): void {
    if (this.#sending.has(requestId) === sending) return;
    const next = new Set(this.#sending);
    if (sending) next.add(requestId);
    else next.delete(requestId);
    this.#sending = next;
  }
}
