import { describe, expect, test } from "vitest";
import type { ChatEvent, ChatEventKind } from "../backend";
import { CLI_RESTARTED, SessionTranscript, describeTool, writesPlan } from "./transcript.svelte";

let nextId = 0;
function ev(kind: ChatEventKind, id = `c${++nextId}`): ChatEvent {
  return { id, timestamp: "2026-01-01T00:00:00Z", kind };
}

describe("SessionTranscript and the agent controls", () => {
  test("follows the mode, the context use and the plan's changes", () => {
    const t = new SessionTranscript();
    expect(t.mode).toBeNull();
    expect(t.context).toBeNull();
    t.apply([
      ev({ type: "modeChanged", mode: "plan" }),
      ev({ type: "contextUsage", currentTokens: 1200, tokenLimit: 128000 }),
      ev({ type: "planChanged" }),
    ]);
    expect(t.mode).toBe("plan");
    expect(t.context).toEqual({ currentTokens: 1200, tokenLimit: 128000 });
    expect(t.planChanges).toBe(1);
    // Writing plan.md with the file tools counts too.
    t.apply([
      ev({ type: "toolStarted", toolCallId: "t1", toolName: "create", arguments: { path: "/s/abc/plan.md", file_text: "# P" } }),
      ev({ type: "toolCompleted", toolCallId: "t1", success: true, output: "ok", error: null }),
      ev({ type: "toolStarted", toolCallId: "t2", toolName: "create", arguments: { path: "/repo/notes.md", file_text: "x" } }),
      ev({ type: "toolCompleted", toolCallId: "t2", success: true, output: "ok", error: null }),
    ]);
    expect(t.planChanges).toBe(2);
    expect(t.items.every((item) => item.kind !== "compaction")).toBe(true);
  });

  test("a compaction is a divider item", () => {
    const t = new SessionTranscript();
    t.apply([ev({ type: "compacted", messagesRemoved: 5, tokensBefore: 9000, tokensAfter: 2000, error: null }, "k1")]);
    const item = t.items[0];
    expect(item?.kind).toBe("compaction");
    expect(item?.kind === "compaction" && item.messagesRemoved).toBe(5);
  });

  test("autopilot's empty continuation messages show no bubble", () => {
    const t = new SessionTranscript();
    t.apply([
      ev({ type: "userMessage", content: "go" }),
      ev({ type: "assistantMessage", messageId: "m1", content: "Working." }),
      ev({ type: "userMessage", content: "" }),
      ev({ type: "assistantMessage", messageId: "m2", content: "Still working." }),
      ev({ type: "idle" }),
    ]);
    expect(t.items.filter((i) => i.kind === "user").length).toBe(1);
    expect(t.items.filter((i) => i.kind === "assistant").length).toBe(2);
    // Autopilot that stops short of the task says so, in words.
    t.apply([ev({ type: "autopilotStopped", reason: "cap_reached" })]);
    const note = t.items[t.items.length - 1];
    expect(note?.kind === "autopilotStopped" && note.text).toContain("Autopilot paused");
    expect(note?.kind === "autopilotStopped" && note.text).not.toContain("cap_reached");
  });

  test("the CLI's exit keeps a partial reply, cut short, and a reload keeps it in place", () => {
    const t = new SessionTranscript();
    t.apply([
      ev({ type: "userMessage", content: "long one" }, "u1"),
      ev({ type: "messageDelta", messageId: "m1", delta: "The first words" }, "d1"),
      ev({ type: "sessionError", errorType: CLI_RESTARTED, message: "The Copilot CLI stopped unexpectedly." }),
      ev({ type: "idle" }),
    ]);
    const reply = t.items.find((i) => i.kind === "assistant");
    expect(reply?.kind === "assistant" && reply.text).toBe("The first words");
    expect(reply?.kind === "assistant" && reply.cutShort).toBe(true);

    // Another error (the CLI retries under a new message) still drops the partial.
    const other = new SessionTranscript();
    other.apply([
      ev({ type: "userMessage", content: "x" }),
      ev({ type: "messageDelta", messageId: "m9", delta: "partial" }),
      ev({ type: "sessionError", errorType: "model_error", message: "boom" }),
    ]);
    expect(other.items.some((i) => i.kind === "assistant")).toBe(false);

    // Reloaded from a history that never stored the partial: it goes back after the message it answered.
    const reloaded = new SessionTranscript();
    reloaded.apply([ev({ type: "userMessage", content: "long one" }, "u1"), ev({ type: "idle" })]);
    reloaded.keepCutShort(t);
    expect(reloaded.items.map((i) => i.kind)).toEqual(["user", "assistant"]);
    reloaded.keepCutShort(t);
    expect(reloaded.items.length).toBe(2);
  });

  test("writesPlan recognises plan.md written or edited by the file tools", () => {
    expect(writesPlan(describeTool("edit", { path: "/a/plan.md", old_str: "a", new_str: "b" }))).toBe(true);
    expect(writesPlan(describeTool("create", { path: "C:\\s\\plan.md", file_text: "x" }))).toBe(true);
    expect(writesPlan(describeTool("view", { path: "/a/plan.md" }))).toBe(false);
    expect(writesPlan(describeTool("create", { path: "/a/myplan.md", file_text: "x" }))).toBe(false);
  });
});
