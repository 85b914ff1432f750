// Paces a stream for the screen: collects whatever arrives (event batches from a session's channel) and hands
// it over at most once per animation frame, in arrival order. While the document is hidden there are no
// frames, so a timer takes over and background streams keep progressing. Knows nothing about what it carries.

/** Where the batcher gets its clock from; tests pass a manual one. */
export interface FrameScheduler {
  /** Runs `callback` before the next paint; returns a function that cancels it. */
  requestFrame(callback: () => void): () => void;
  /** Runs `callback` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
  /** True while the document is not visible (no animation frames will come). */
  isHidden(): boolean;
}

/** The real clock: requestAnimationFrame, setTimeout and document.visibilityState. */
export const browserScheduler: FrameScheduler = {
  requestFrame(callback) {
    if (typeof requestAnimationFrame !== "function") return browserScheduler.setTimer(callback, 16);
    const handle = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(handle);
  },
  setTimer(callback, ms) {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
  isHidden() {
    return typeof document !== "undefined" && document.visibilityState === "hidden";
  },
};

export interface FrameBatcherOptions {
  scheduler?: FrameScheduler;
  /** Delay of the timer used while the document is hidden. */
  hiddenDelayMs?: number;
  /** Safety net while visible: flush after this long even if no frame came (the window was hidden meanwhile). */
  frameTimeoutMs?: number;
  /** Start paused: collect, but hand nothing over until `resume()`. */
  paused?: boolean;
}

export class FrameBatcher<T> {
  readonly #onFlush: (items: T[]) => void;
  readonly #scheduler: FrameScheduler;
  readonly #hiddenDelayMs: number;
  readonly #frameTimeoutMs: number;
  #pending: T[] = [];
  #cancels: (() => void)[] = [];
  #paused: boolean;
  #disposed = false;

  /** `onFlush` receives everything pushed since the last flush, oldest first. */
  constructor(onFlush: (items: T[]) => void, options: FrameBatcherOptions = {}) {
    this.#onFlush = onFlush;
    this.#scheduler = options.scheduler ?? browserScheduler;
    this.#hiddenDelayMs = options.hiddenDelayMs ?? 50;
    this.#frameTimeoutMs = options.frameTimeoutMs ?? 250;
    this.#paused = options.paused ?? false;
  }

  /** How many pushed items wait for the next flush. */
  get pending(): number {
    return this.#pending.length;
  }

  push(item: T): void {
    if (this.#disposed) return;
    this.#pending.push(item);
    this.#schedule();
  }

  /** Hands over everything pending now (also while paused: an explicit flush is a decision). */
  flush(): void {
    this.#unschedule();
    if (this.#pending.length === 0) return;
    const items = this.#pending;
    this.#pending = [];
    this.#onFlush(items);
  }

  pause(): void {
    this.#paused = true;
    this.#unschedule();
  }

  /** Ends a pause; what was collected meanwhile goes out with the next frame. */
  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  /** Drops what is pending and stops for good. */
  dispose(): void {
    this.#disposed = true;
    this.#unschedule();
    this.#pending = [];
  }

  #schedule(): void {
    if (this.#paused || this.#disposed || this.#cancels.length > 0 || this.#pending.length === 0) return;
    const run = () => this.flush();
    if (this.#scheduler.isHidden()) {
      this.#cancels.push(this.#scheduler.setTimer(run, this.#hiddenDelayMs));
    } else {
      this.#cancels.push(this.#scheduler.requestFrame(run), this.#scheduler.setTimer(run, this.#frameTimeoutMs));
    }
  }

  #unschedule(): void {
    for (const cancel of this.#cancels) cancel();
    this.#cancels = [];
  }
}
