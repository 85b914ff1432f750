// The agents' requests to leave plan mode, waiting for the user: owns the plan-review subscription, the pending
// reviews of all sessions, and sending the user's decision back. Like PromptQueue, the UI shows only the open
// session's oldest review, and nothing here ever decides by itself.

import { describeError, toAppError, type Backend, type PlanDecision, type PlanReview } from "../backend";
import { PROMPT_NOT_PENDING } from "./prompts.svelte";

export class PlanReviewQueue {
  #items = $state.raw<PlanReview[]>([]);
  /** Why the subscription failed; while set, plans are not approved (nobody is there to review them). */
  error = $state<string | null>(null);

  readonly #backend: Backend;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#unsubscribe?.();
    this.#items = [];
    this.error = null;
    try {
      const unsubscribe = await this.#backend.onPlanReviews((event) => {
        if (this.#stopped) return;
        if (event.type === "requested") {
          const rest = this.#items.filter((r) => r.requestId !== event.review.requestId);
          this.#items = [...rest, event.review];
        } else {
          this.#items = this.#items.filter((r) => r.requestId !== event.requestId);
        }
      });
      if (this.#stopped) unsubscribe();
      else this.#unsubscribe = unsubscribe;
    } catch (error) {
      if (!this.#stopped) this.error = describeError(error);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  get all(): readonly PlanReview[] {
    return this.#items;
  }

  /** The review to show now: the oldest of the active session's. */
  current(activeSessionId: string | null | undefined): PlanReview | null {
    if (!activeSessionId) return null;
    return this.#items.find((r) => r.sessionId === activeSessionId) ?? null;
  }

  /** Sends the decision; the review goes once Rust took it. A review answered elsewhere is simply dropped. */
  async decide(requestId: string, decision: PlanDecision): Promise<void> {
    try {
      await this.#backend.decidePlan(requestId, decision);
    } catch (error) {
      if (toAppError(error).code !== PROMPT_NOT_PENDING) throw error;
    }
    this.#items = this.#items.filter((r) => r.requestId !== requestId);
  }
}
