// How fast the chat view's pure parts are: the transcript reducer on a long history and on a fast live
// stream, and streaming markdown on a long answer. Run with `npx vitest bench --run` (jsdom, like the tests:
// the DOM-heavy markdown figures are jsdom's, several times slower than a real webview's).

import { bench, describe } from "vitest";
import type { ChatEvent, ChatEventKind } from "../src/lib/backend";
import { StreamingMarkdown } from "../src/lib/chat/markdown";
import { SessionTranscript } from "../src/lib/chat/transcript.svelte";

let nextId = 0;
function ev(kind: ChatEventKind): ChatEvent {
  return { id: `b${++nextId}`, timestamp: "2026-01-01T00:00:00Z", kind };
}

/** A stored session of `count` events: turns with a tool call, a long answer and usage. */
function history(count: number): ChatEvent[] {
  const events: ChatEvent[] = [];
  for (let i = 0; events.length < count; i++) {
    events.push(
      ev({ type: "userMessage", content: `Please look at issue ${i} and fix it.` }),
      ev({ type: "turnStarted" }),
      ev({ type: "toolStarted", toolCallId: `t${i}`, toolName: "bash", arguments: { command: `grep -rn thing${i} src` } }),
      ev({ type: "toolCompleted", toolCallId: `t${i}`, success: true, output: `src/a.ts:${i}: thing${i}\n`.repeat(5), error: null }),
      ev({ type: "assistantMessage", messageId: `m${i}`, content: `Here is what I found about issue ${i}. `.repeat(30) }),
      ev({ type: "usage", model: "gpt-bench", inputTokens: 1200, outputTokens: 300 }),
      ev({ type: "idle" }),
    );
  }
  return events.slice(0, count);
}

const HISTORY = history(10_000);

describe("transcript reducer", () => {
  bench("reduce a 10,000-event history", () => {
    new SessionTranscript().apply(HISTORY);
  });

  const DELTAS = Array.from({ length: 3_000 }, (_, i) => [ev({ type: "messageDelta", messageId: "live", delta: `word${i} ` })]);
  bench("apply 3,000 single-delta batches", () => {
    const transcript = new SessionTranscript();
    transcript.apply([ev({ type: "userMessage", content: "go" }), ev({ type: "turnStarted" })]);
    for (const batch of DELTAS) transcript.apply(batch);
  });
});

// A 20 KB answer of mixed prose, lists and code, streamed in 40-character deltas (about 500 updates).
const SECTION = `## Section

Some prose that explains the change, with \`inline code\`, **bold** text and a [link](https://example.com).
It runs over two lines.

- first point
- second point with more words

\`\`\`ts
export function add(a: number, b: number): number {
  return a + b; // a comment
}
\`\`\`

`;
const ANSWER = SECTION.repeat(Math.ceil(20_000 / SECTION.length)).slice(0, 20_000);
const STEPS: string[] = [];
for (let i = 40; i < ANSWER.length; i += 40) STEPS.push(ANSWER.slice(0, i));

describe("streaming markdown (20 KB message, 40-character deltas)", () => {
  bench(
    "stream the whole message: ~500 updates, only the open block re-rendered",
    () => {
      const element = document.createElement("div");
      const view = new StreamingMarkdown(element, { onLink: () => {} });
      for (const text of STEPS) view.update(text, true);
      view.update(ANSWER, false);
    },
    { iterations: 5, warmupIterations: 1, time: 0, warmupTime: 0 },
  );

  // One delta when the message is already 20 KB long, done incrementally...
  const element = document.createElement("div");
  const view = new StreamingMarkdown(element, { onLink: () => {} });
  for (const text of STEPS) view.update(text, true);
  // Each iteration appends one more word to the open block, as a delta would.
  let grown = STEPS[STEPS.length - 1]!;
  bench("one delta at 20 KB: incremental update", () => {
    grown += " word";
    view.update(grown, true);
  });

  // ...and what re-rendering the whole message for that delta would cost instead.
  bench(
    "one delta at 20 KB: whole-message re-render (for comparison)",
    () => {
      new StreamingMarkdown(document.createElement("div"), { onLink: () => {} }).update(ANSWER, false);
    },
    { iterations: 10, warmupIterations: 2, time: 0, warmupTime: 0 },
  );
});
