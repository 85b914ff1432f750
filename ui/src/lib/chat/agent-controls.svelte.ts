// How the agent works in the open session: its mode (interactive, plan, autopilot) and its reasoning effort, with
// the models that offer efforts. Loads both when a session opens, follows the mode the CLI announces
// (`modeChanged` in the transcript), and sends the user's changes, putting the old value back when one fails.
// Knows nothing of components; AgentControls.svelte shows it.

import { describeError, type AgentMode, type Backend, type ModelEfforts } from "../backend";

export const MODES: readonly AgentMode[] = ["interactive", "plan", "autopilot"];

export const MODE_LABELS: Record<AgentMode, string> = {
  interactive: "Interactive",
  plan: "Plan",
  autopilot: "Autopilot",
};

/** What each mode means, for its tooltip. */
export const MODE_HINTS: Record<AgentMode, string> = {
  interactive: "Asks before it acts",
  plan: "Plans without changing anything",
  autopilot: "Acts without asking",
};

/** The mode after `mode`, as Shift+Tab cycles them in the terminal CLI. */
export function nextMode(mode: AgentMode): AgentMode {
  return MODES[(MODES.indexOf(mode) + 1) % MODES.length]!;
}

export function isAgentMode(value: string | null | undefined): value is AgentMode {
  return MODES.includes(value as AgentMode);
}

/** "high" → "High". */
export function effortLabel(effort: string): string {
  return effort.charAt(0).toUpperCase() + effort.slice(1);
}

export class SessionControls {
  sessionId = $state<string | null>(null);
  /** The session's mode; null until loaded. */
  mode = $state<AgentMode | null>(null);
  modeError = $state<string | null>(null);
  /** Models that let the user choose a reasoning effort. */
  efforts = $state.raw<ModelEfforts[]>([]);
  /** The effort the session runs with; null when none is set (the model's default applies). */
  effort = $state<string | null>(null);
  effortError = $state<string | null>(null);

  readonly #backend: Backend;
  #seq = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Show `sessionId`'s mode and effort (null: no session). */
  async load(sessionId: string | null): Promise<void> {
    const seq = ++this.#seq;
    this.sessionId = sessionId;
    this.mode = null;
    this.effort = null;
    this.modeError = null;
    this.effortError = null;
    if (!sessionId) return;
    const [mode, effort] = await Promise.allSettled([
      this.#backend.sessionMode(sessionId),
      this.#backend.sessionEffort(sessionId),
    ]);
    if (seq !== this.#seq) return;
    if (mode.status === "fulfilled") this.mode = mode.value;
    else this.modeError = `Could not read the mode: ${describeError(mode.reason)}`;
    if (effort.status === "fulfilled") this.effort = effort.value;
  }

  /** Read the session's effort again (its model changed: the CLI applies that model's effort). */
  async reloadEffort(): Promise<void> {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    const seq = this.#seq;
    try {
      const effort = await this.#backend.sessionEffort(sessionId);
      if (seq === this.#seq && this.sessionId === sessionId) this.effort = effort;
    } catch {
      // Not fatal: the picker keeps what it showed.
    }
  }

  /** The models' efforts; none when the CLI cannot list them (a provider of one's own). */
  async loadEfforts(): Promise<void> {
    try {
      this.efforts = await this.#backend.modelEfforts();
    } catch {
      this.efforts = [];
    }
  }

  /** The CLI announced a mode (the agent left plan mode, or another window switched it). */
  follow(mode: string | null): void {
    if (isAgentMode(mode)) this.mode = mode;
  }

  async setMode(mode: AgentMode): Promise<void> {
    const sessionId = this.sessionId;
    if (!sessionId || mode === this.mode) return;
    const previous = this.mode;
    this.mode = mode;
    this.modeError = null;
    try {
      await this.#backend.setSessionMode(sessionId, mode);
    } catch (error) {
      if (this.sessionId !== sessionId) return;
      this.mode = previous;
      this.modeError = `Could not switch to ${MODE_LABELS[mode]}: ${describeError(error)}`;
    }
  }

  /** Shift+Tab: the next mode. */
  cycle(): Promise<void> {
    return this.setMode(nextMode(this.mode ?? "interactive"));
  }

  /** The efforts `model` offers; null when it offers none (the picker hides). */
  effortsFor(model: string | null): ModelEfforts | null {
    if (!model) return null;
    return this.efforts.find((m) => m.modelId === model) ?? null;
  }

  async setEffort(effort: string): Promise<void> {
    const sessionId = this.sessionId;
    if (!sessionId || effort === this.effort) return;
    const previous = this.effort;
    this.effort = effort;
    this.effortError = null;
    try {
      await this.#backend.setSessionEffort(sessionId, effort);
    } catch (error) {
      if (this.sessionId !== sessionId) return;
      this.effort = previous;
      this.effortError = `Could not change the reasoning effort: ${describeError(error)}`;
    }
  }
}
