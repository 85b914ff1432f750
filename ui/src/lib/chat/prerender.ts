// Renders the answers just outside the transcript's rendered window in idle time, so scrolling to them clones
// finished DOM (markdown.ts keeps it) instead of lexing, highlighting and sanitizing in the middle of a frame.
// Only once the window has been still for a moment: while the user scrolls, every frame is theirs.

import { whenIdle, type TimeLeft } from "../idle";
import { prerenderMarkdown } from "./markdown";
import type { TranscriptItem } from "./transcript.svelte";

/** How many rows beyond each edge of the rendered window are warmed. */
export const ROWS_AHEAD = 40;
/** How long the rendered window must stay put before warming starts. */
export const QUIET_MS = 150;

export interface PrerenderDeps {
  render(text: string): boolean;
  idle(work: (timeLeft: TimeLeft) => void): () => void;
  /** Calls `callback` after `ms`; the returned function cancels it. */
  later(callback: () => void, ms: number): () => void;
}

const defaultDeps: PrerenderDeps = {
  render: prerenderMarkdown,
  idle: whenIdle,
  later: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
};

export class Prerenderer {
  readonly #deps: PrerenderDeps;
  #queue: string[] = [];
  #cancel: (() => void) | undefined;

  constructor(deps: PrerenderDeps = defaultDeps) {
    this.#deps = deps;
  }

  /** Rows `start`..`end` (exclusive) of `items` are rendered: warm the finished answers nearest to them. */
  around(items: readonly TranscriptItem[], start: number, end: number): void {
    const queue: string[] = [];
    const take = (index: number) => {
      const item = items[index];
      if (item?.kind === "assistant" && !item.streaming && item.text !== "") queue.push(item.text);
    };
    // Nearest first, alternating: the row above the window, the row below it, and so on outwards.
    for (let distance = 1; distance <= ROWS_AHEAD; distance++) {
      if (start - distance >= 0) take(start - distance);
      if (end - 1 + distance < items.length) take(end - 1 + distance);
    }
    this.stop();
    this.#queue = queue;
    if (queue.length > 0) this.#cancel = this.#deps.later(() => this.#next(), QUIET_MS);
  }

  /** Drops what was not warmed yet (the transcript went away). */
  stop(): void {
    this.#queue = [];
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #next(): void {
    this.#cancel = undefined;
    if (this.#queue.length === 0) return;
    this.#cancel = this.#deps.idle((timeLeft) => {
      this.#cancel = undefined;
      // At least one text per slice, so a busy webview still gets there.
      do {
        const text = this.#queue.shift();
        if (text === undefined) break;
        this.#deps.render(text);
      } while (timeLeft() > 1);
      this.#next();
    });
  }
}
