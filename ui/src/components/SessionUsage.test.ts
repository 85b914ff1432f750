import { render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import { expect, test } from "vitest";
import type { ChatEvent, ChatEventKind } from "../lib/backend";
import { SessionTranscript } from "../lib/chat/transcript.svelte";
import SessionUsage from "./SessionUsage.svelte";

let nextId = 0;
function ev(kind: ChatEventKind): ChatEvent {
  return { id: `u${++nextId}`, timestamp: "2026-01-01T00:00:00Z", kind };
}

function turn(input: number, output: number): ChatEvent[] {
  return [
    ev({ type: "userMessage", content: "Go" }),
    ev({ type: "turnStarted" }),
    ev({ type: "usage", model: "gpt-test", inputTokens: input, outputTokens: output }),
    ev({ type: "assistantMessage", messageId: `m${nextId}`, content: "Done." }),
    ev({ type: "idle" }),
  ];
}

test("adds up every turn of the session, history and live, exact for screen readers", () => {
  const transcript = new SessionTranscript();
  transcript.apply([...turn(12_000, 800), ...turn(30_500, 1_234)]);
  const { container } = render(SessionUsage, { totals: transcript.totals });
  expect(container.textContent).toContain("Session 42.5K in · 2K out");
  expect(screen.getByText("This session: 42,500 input and 2,034 output tokens")).toBeTruthy();
});

test("follows a live turn's usage as it is reported", () => {
  const transcript = new SessionTranscript();
  transcript.apply(turn(1_000, 10));
  const view = render(SessionUsage, { totals: transcript.totals });
  transcript.apply(turn(500, 5));
  view.rerender({ totals: transcript.totals });
  flushSync();
  expect(view.container.querySelector("p")?.title).toBe("This session: 1,500 input and 15 output tokens");
});

test("says nothing before the first usage report", () => {
  const transcript = new SessionTranscript();
  transcript.apply([ev({ type: "userMessage", content: "Hi" }), ev({ type: "turnStarted" })]);
  const { container } = render(SessionUsage, { totals: transcript.totals });
  expect(container.textContent?.trim()).toBe("");
});
