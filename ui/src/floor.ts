// The UI benchmark's floor (floor.html): a page that only subscribes to a Channel and paints what comes, so
// bench_ui can time a Rust-side event to a painted frame with nothing of the app in between: no Svelte, no
// transcript, no markdown, no frame batching. The Rust side exists only in builds with the cargo feature
// `bench`; anywhere else the hook answers with the error and the page stays blank.

import "./styles/theme.css";
import { benchChannelFloor, describeError } from "./lib/backend";

/** What one call of the hook reports to the benchmark. */
type FloorResult = { sentAtMs: number } | { error: string };

declare global {
  interface Window {
    /** Ask Rust to send `text` after `delayMs`; resolves once it is on the page (not yet painted). */
    __benchFloor?: (text: string, delayMs: number) => Promise<FloorResult>;
  }
}

const message = document.querySelector<HTMLElement>('article[aria-label="Copilot"]');
if (!message) throw new Error("floor.html has no message element");

window.__benchFloor = async (text, delayMs) => {
  let sentAtMs: number | null = null;
  try {
    await benchChannelFloor(text, delayMs, (tick) => {
      for (const event of tick.events) {
        if (event.kind.type === "messageDelta") message.textContent = event.kind.delta;
      }
      sentAtMs = tick.sentAtMs;
    });
  } catch (error) {
    return { error: describeError(error) };
  }
  return sentAtMs === null ? { error: "the command returned before its message came" } : { sentAtMs };
};
