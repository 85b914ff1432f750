// Work for when the webview has nothing better to do. requestIdleCallback where the engine has it; elsewhere
// (WebKit ships it behind a flag) a short timeout with a small budget, so a slice never costs a frame.

/** Milliseconds left in this idle slice. */
export type TimeLeft = () => number;

const FALLBACK_DELAY_MS = 32;
const FALLBACK_BUDGET_MS = 6;

/** Calls `work` in the next idle slice; the returned function cancels it if it has not run. */
export function whenIdle(work: (timeLeft: TimeLeft) => void): () => void {
  if (typeof requestIdleCallback === "function") {
    const handle = requestIdleCallback((deadline) => work(() => deadline.timeRemaining()));
    return () => cancelIdleCallback(handle);
  }
  const handle = setTimeout(() => {
    const until = performance.now() + FALLBACK_BUDGET_MS;
    work(() => Math.max(0, until - performance.now()));
  }, FALLBACK_DELAY_MS);
  return () => clearTimeout(handle);
}
