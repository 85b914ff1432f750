import { describe, expect, test, vi } from "vitest";
import type { ChatEvent, ChatEventKind } from "../backend";
import { FakeBackend } from "../../test/fake-backend";
import type { FrameScheduler } from "./frame-batcher";
import {
  AssistantItem,
  ReasoningItem,
  SessionTranscript,
  ToolItem,
  TurnUsageItem,
  describeTool,
  diffLines,
  hintForError,
  openSessionTranscript,
  type TranscriptItem,
} from "./transcript.svelte";

let nextId = 0;
function ev(kind: ChatEventKind, id = `e${++nextId}`): ChatEvent {
  return { id, timestamp: "2026-01-01T00:00:00Z", kind };
}

const user = (content: string) => ev({ type: "userMessage", content });
const turn = () => ev({ type: "turnStarted" });
const delta = (messageId: string, text: string) => ev({ type: "messageDelta", messageId, delta: text });
const message = (messageId: string, content: string) => ev({ type: "assistantMessage", messageId, content });
const idle = () => ev({ type: "idle" });
const aborted = () => ev({ type: "aborted" });
const usage = (inputTokens: number | null, outputTokens: number | null, model = "gpt-test") =>
  ev({ type: "usage", model, inputTokens, outputTokens });

/** A compact picture of the items: kind plus what matters for the assertion. */
function shape(items: readonly TranscriptItem[]): string[] {
  return items.map((item) => {
    switch (item.kind) {
      case "user":
        return `user:${item.text}`;
      case "assistant":
        return `assistant:${item.text}${item.streaming ? "…" : ""}${item.stopped ? " (stopped)" : ""}`;
      case "reasoning":
        return `reasoning:${item.text}${item.streaming ? "…" : ""}`;
      case "tool":
        return `tool:${item.toolName}:${item.status}`;
      case "error":
        return `error:${item.errorType}`;
      case "stopped":
        return "stopped";
      case "usage":
        return `usage:${item.inputTokens}/${item.outputTokens}`;
      case "compaction":
        return `compaction:${item.messagesRemoved}`;
      case "autopilotStopped":
        return "autopilotStopped";
    }
  });
}

describe("SessionTranscript", () => {
  test("keeps events in order", () => {
    const t = new SessionTranscript();
    t.apply([user("hi"), turn(), message("m1", "Hello"), idle(), user("again"), turn(), message("m2", "Back"), idle()]);
    expect(shape(t.items)).toEqual(["user:hi", "assistant:Hello", "user:again", "assistant:Back"]);
  });

  test("drops events it has already seen (history and live overlap): the first wins", () => {
    const t = new SessionTranscript();
    const history = [user("hi"), turn(), message("m1", "Hello")];
    t.apply(history);
    const before = t.items;
    t.apply([history[1]!, { ...history[2]!, kind: { type: "assistantMessage", messageId: "m1", content: "changed" } }]);
    expect(t.items).toBe(before);
    expect(shape(t.items)).toEqual(["user:hi", "assistant:Hello"]);
    // A repeated delta (same id) is not appended twice.
    const d = delta("m2", "abc");
    t.apply([d]);
    t.apply([d]);
    expect(shape(t.items)).toEqual(["user:hi", "assistant:Hello", "assistant:abc…"]);
  });

  test("deltas build a streaming message; the final message replaces them and ends streaming", () => {
    const t = new SessionTranscript();
    t.apply([user("q"), turn(), delta("m1", "Hel")]);
    const item = t.items[1] as AssistantItem;
    expect(item.text).toBe("Hel");
    expect(item.streaming).toBe(true);
    const list = t.items;
    t.apply([delta("m1", "lo"), delta("m1", " wor")]);
    // The same object was mutated; no new list for a delta.
    expect(t.items).toBe(list);
    expect(t.items[1]).toBe(item);
    expect(item.text).toBe("Hello wor");
    t.apply([message("m1", "Hello world!")]);
    expect(item.text).toBe("Hello world!");
    expect(item.streaming).toBe(false);
    // Late deltas of a finished message are ignored.
    t.apply([delta("m1", "zzz")]);
    expect(item.text).toBe("Hello world!");
  });

  test("reasoning streams and finalizes the same way", () => {
    const t = new SessionTranscript();
    t.apply([
      user("q"),
      ev({ type: "reasoningDelta", reasoningId: "r1", delta: "Thinking" }),
      ev({ type: "reasoningDelta", reasoningId: "r1", delta: " hard" }),
    ]);
    const item = t.items[1] as ReasoningItem;
    expect(item.kind).toBe("reasoning");
    expect(item.text).toBe("Thinking hard");
    expect(item.streaming).toBe(true);
    t.apply([ev({ type: "reasoning", reasoningId: "r1", content: "Thought." })]);
    expect(item.text).toBe("Thought.");
    expect(item.streaming).toBe(false);
  });

  test("a partial the CLI never finalized (retried under a new id) is removed when the turn ends", () => {
    const t = new SessionTranscript();
    t.apply([user("q"), turn(), delta("m1", "Partial ans"), delta("m2", "Full answer"), message("m2", "Full answer")]);
    expect(shape(t.items)).toEqual(["user:q", "assistant:Partial ans…", "assistant:Full answer"]);
    t.apply([idle()]);
    expect(shape(t.items)).toEqual(["user:q", "assistant:Full answer"]);
  });

  test("a session error discards partials and shows the error with a hint", () => {
    const t = new SessionTranscript();
    t.apply([
      user("q"),
      turn(),
      delta("m1", "half"),
      ev({ type: "sessionError", errorType: "rate_limit", message: "Too many requests" }),
    ]);
    expect(shape(t.items)).toEqual(["user:q", "error:rate_limit"]);
    const error = t.items[1]!;
    expect(error.kind === "error" && error.message).toBe("Too many requests");
    expect(error.kind === "error" && error.hint).toMatch(/rate limited/);
  });

  test("abort keeps the partial, marks it stopped and says so", () => {
    const t = new SessionTranscript();
    t.apply([user("q"), turn(), delta("m1", "Half an ans")]);
    t.apply([
      ev({ type: "toolStarted", toolCallId: "t1", toolName: "bash", arguments: { command: "sleep 100" } }),
      aborted(),
    ]);
    expect(shape(t.items)).toEqual(["user:q", "assistant:Half an ans (stopped)", "tool:bash:failed", "stopped"]);
    expect(t.running).toBe(false);
    const tool = t.items[2] as ToolItem;
    expect(tool.error).toBe("stopped by you");
  });

  test("tool calls: arguments, live output, completion", () => {
    const t = new SessionTranscript();
    t.apply([
      user("run it"),
      turn(),
      ev({ type: "toolStarted", toolCallId: "t1", toolName: "bash", arguments: { command: "ls -la", description: "List files" } }),
      ev({ type: "toolOutput", toolCallId: "t1", output: "a\n" }),
    ]);
    const tool = t.items[1] as ToolItem;
    expect(tool.subject).toEqual({ kind: "command", command: "ls -la", description: "List files" });
    expect(tool.status).toBe("running");
    t.apply([ev({ type: "toolOutput", toolCallId: "t1", output: "b\n" })]);
    expect(tool.output).toBe("a\nb\n");
    t.apply([ev({ type: "toolCompleted", toolCallId: "t1", success: true, output: "a\nb\nc\n", error: null })]);
    expect(tool.status).toBe("succeeded");
    expect(tool.output).toBe("a\nb\nc\n");

    t.apply([
      ev({ type: "toolStarted", toolCallId: "t2", toolName: "edit", arguments: { path: "/x.ts", old_str: "a", new_str: "b" } }),
      ev({ type: "toolCompleted", toolCallId: "t2", success: false, output: null, error: "no match" }),
      ev({ type: "toolStarted", toolCallId: "t3", toolName: "create", arguments: { path: "/y.md", file_text: "# Y" } }),
    ]);
    const edit = t.items[2] as ToolItem;
    expect(edit.subject).toEqual({ kind: "edit", path: "/x.ts", before: "a", after: "b" });
    expect(edit.status).toBe("failed");
    expect(edit.error).toBe("no match");
    expect((t.items[3] as ToolItem).subject).toEqual({ kind: "create", path: "/y.md", content: "# Y" });
  });

  test("usage: summed per turn (shown at its end) and for the session", () => {
    const t = new SessionTranscript();
    t.apply([user("a"), turn(), usage(1000, 200), message("m1", "x"), turn(), usage(234, 367, "other-model")]);
    expect(t.turnUsage).toEqual({ inputTokens: 1234, outputTokens: 567, models: ["gpt-test", "other-model"] });
    t.apply([idle()]);
    expect(t.turnUsage).toBeNull();
    const first = t.items.at(-1) as TurnUsageItem;
    expect(shape([first])).toEqual(["usage:1234/567"]);
    expect(first.models).toEqual(["gpt-test", "other-model"]);

    t.apply([user("b"), turn(), usage(10, null), idle()]);
    expect(shape(t.items).filter((s) => s.startsWith("usage"))).toEqual(["usage:1234/567", "usage:10/0"]);
    expect(t.totals).toEqual({ inputTokens: 1244, outputTokens: 567 });

    // A turn without usage gets no usage line.
    t.apply([user("c"), turn(), message("m9", "ok"), idle()]);
    expect(t.items.at(-1)?.kind).toBe("assistant");
  });

  test("running: from a user message or turn start until idle or abort", () => {
    const t = new SessionTranscript();
    expect(t.running).toBe(false);
    t.apply([user("a")]);
    expect(t.running).toBe(true);
    t.apply([turn(), message("m1", "x"), idle()]);
    expect(t.running).toBe(false);
    t.apply([turn()]);
    expect(t.running).toBe(true);
    t.apply([aborted()]);
    expect(t.running).toBe(false);
  });

  test("title follows titleChanged", () => {
    const t = new SessionTranscript();
    expect(t.title).toBeNull();
    t.apply([ev({ type: "titleChanged", title: "Fix the build" })]);
    expect(t.title).toBe("Fix the build");
  });

  test("a message that carries only tool requests (empty content) shows nothing", () => {
    const t = new SessionTranscript();
    t.apply([user("q"), turn(), message("m1", ""), message("m2", "  \n")]);
    expect(shape(t.items)).toEqual(["user:q"]);
  });

  test("the list is copied once per applied batch, only when items were added or removed", () => {
    const t = new SessionTranscript();
    t.apply([user("q"), turn()]);
    const afterUser = t.items;
    t.applyBatches([[delta("m1", "a")], [delta("m1", "b")], [delta("m1", "c")]]);
    expect(t.items).not.toBe(afterUser);
    const afterFirstDelta = t.items;
    t.applyBatches([[delta("m1", "d")], [delta("m1", "e")]]);
    expect(t.items).toBe(afterFirstDelta);
    expect((t.items[1] as AssistantItem).text).toBe("abcde");
  });

  test("reduces a 10,000-event history quickly", () => {
    const events: ChatEvent[] = [];
    for (let i = 0; events.length < 10_000; i++) {
      events.push(user(`question ${i}`), turn());
      events.push(ev({ type: "toolStarted", toolCallId: `t${i}`, toolName: "bash", arguments: { command: `echo ${i}` } }));
      events.push(ev({ type: "toolCompleted", toolCallId: `t${i}`, success: true, output: `${i}\n`, error: null }));
      events.push(message(`m${i}`, `Answer ${i} `.repeat(20)), usage(100, 50), idle());
    }
    const t = new SessionTranscript();
    const start = performance.now();
    t.apply(events);
    const elapsed = performance.now() - start;
    expect(t.items.length).toBeGreaterThan(5000);
    // Generous for a slow CI machine; the benchmark has the real figure.
    expect(elapsed).toBeLessThan(300);
  });
});

describe("describeTool", () => {
  test("names what ran", () => {
    expect(describeTool("bash", { command: "npm test", description: "Run tests" })).toEqual({
      kind: "command",
      command: "npm test",
      description: "Run tests",
    });
    expect(describeTool("view", { path: "/a/b.ts" })).toEqual({ kind: "path", path: "/a/b.ts" });
    expect(describeTool("web_fetch", { url: "https://x.example" })).toEqual({ kind: "url", url: "https://x.example" });
    expect(describeTool("mystery", { a: 1 })).toEqual({ kind: "other", summary: '{"a":1}' });
    expect(describeTool("mystery", null)).toEqual({ kind: "other", summary: null });
  });
});

describe("diffLines", () => {
  test("keeps common lines as context and marks the rest", () => {
    expect(diffLines("a\nb\nc\nd", "a\nB\nc\nd\ne")).toEqual([
      { kind: "context", text: "a" },
      { kind: "added", text: "B" },
      { kind: "removed", text: "b" },
      { kind: "context", text: "c" },
      { kind: "context", text: "d" },
      { kind: "added", text: "e" },
    ]);
    expect(diffLines("", "x\ny")).toEqual([
      { kind: "added", text: "x" },
      { kind: "added", text: "y" },
    ]);
  });
});

describe("hintForError", () => {
  test("says what the user can do, by error type", () => {
    expect(hintForError("authentication")).toMatch(/Sign in/);
    expect(hintForError("network_error")).toMatch(/network/);
    expect(hintForError("something_else")).toMatch(/again/);
  });
});

describe("openSessionTranscript", () => {
  function manualScheduler() {
    const frames: (() => void)[] = [];
    const scheduler: FrameScheduler = {
      requestFrame(callback) {
        frames.push(callback);
        return () => frames.splice(frames.indexOf(callback) >>> 0, 1);
      },
      setTimer: () => () => {},
      isHidden: () => false,
    };
    return { scheduler, runFrame: () => frames.splice(0).forEach((f) => f()) };
  }

  test("applies the history first, then live batches once per frame, dropping the overlap", async () => {
    const backend = new FakeBackend();
    const history = [user("hi"), turn(), message("m1", "Hello")];
    backend.histories.set("s1", history);
    const { scheduler, runFrame } = manualScheduler();
    // A live batch arrives while the history is still on its way.
    const open = backend.openSession.getMockImplementation()!;
    backend.openSession.mockImplementationOnce(async (id, onEvents, onJournal) => {
      const result = await open(id, onEvents, onJournal);
      onEvents([history[2]!, idle()]);
      return result;
    });

    const { transcript, close } = await openSessionTranscript(backend, "s1", { scheduler });
    expect(shape(transcript.items)).toEqual(["user:hi", "assistant:Hello"]);
    expect(transcript.running).toBe(true);

    backend.pushEvents("s1", [user("next")]);
    backend.pushEvents("s1", [turn(), delta("m2", "Stre")]);
    expect(transcript.items).toHaveLength(2);
    runFrame();
    expect(shape(transcript.items)).toEqual(["user:hi", "assistant:Hello", "user:next", "assistant:Stre…"]);

    await close();
    expect(backend.sessionListeners.has("s1")).toBe(false);
  });

  test("onTurnEnded: after a live flush that ends a turn, even one begun in that flush; never for the history", async () => {
    const backend = new FakeBackend();
    backend.histories.set("s1", [user("hi"), turn(), message("m1", "Hello"), idle()]);
    const { scheduler, runFrame } = manualScheduler();
    const onTurnEnded = vi.fn();
    const { transcript } = await openSessionTranscript(backend, "s1", { scheduler, onTurnEnded });
    expect(onTurnEnded).not.toHaveBeenCalled();

    // A quick reply: the whole turn lands in one frame, so `running` is never published as true.
    backend.pushEvents("s1", [user("next"), turn()]);
    backend.pushEvents("s1", [message("m2", "Quick"), idle()]);
    runFrame();
    expect(transcript.running).toBe(false);
    expect(onTurnEnded).toHaveBeenCalledTimes(1);

    backend.pushEvents("s1", [user("more"), turn(), delta("m3", "Stre")]);
    runFrame();
    expect(onTurnEnded).toHaveBeenCalledTimes(1);
    backend.pushEvents("s1", [aborted()]);
    runFrame();
    expect(onTurnEnded).toHaveBeenCalledTimes(2);
  });

  /** openSession's answer, held back until the test lets it go (the CLI still resuming). */
  function holdOpen(backend: FakeBackend) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const open = backend.openSession.getMockImplementation()!;
    backend.openSession.mockImplementationOnce(async (id, onEvents, onJournal) => {
      await released;
      return open(id, onEvents, onJournal);
    });
    return release;
  }

  const stored = (n: number): ChatEvent[] => [
    ev({ type: "userMessage", content: `q${n}` }, `u${n}`),
    ev({ type: "turnStarted" }, `t${n}`),
    ev({ type: "assistantMessage", messageId: `m${n}`, content: `a${n}` }, `a${n}`),
  ];
  const keys = (items: readonly TranscriptItem[]) => items.map((item) => item.key);

  test("the journal's tail shows while the history loads; the history and live events replace it, each once", async () => {
    const backend = new FakeBackend();
    const history = [1, 2, 3, 4].flatMap(stored);
    backend.histories.set("s1", history);
    // Read before the CLI was done: the tail lacks turn 4, and holds a line the CLI's history does not (rewound).
    backend.tails.set("s1", [...stored(2), ...stored(3), ev({ type: "userMessage", content: "rewound" }, "gone")]);
    const { scheduler, runFrame } = manualScheduler();
    const release = holdOpen(backend);
    const provisional: SessionTranscript[] = [];
    const opening = openSessionTranscript(backend, "s1", { scheduler, onProvisional: (t) => provisional.push(t) });

    await vi.waitFor(() => expect(provisional).toHaveLength(1));
    expect(shape(provisional[0]!.items)).toEqual(["user:q2", "assistant:a2", "user:q3", "assistant:a3", "user:rewound"]);

    // Live events while the history is still on its way: the end of the history again, then a new turn.
    release();
    await vi.waitFor(() => expect(backend.sessionListeners.has("s1")).toBe(true));
    backend.pushEvents("s1", [...stored(4), ...stored(5)]);
    const { transcript } = await opening;
    runFrame();

    expect(transcript).not.toBe(provisional[0]);
    expect(shape(transcript.items)).toEqual([1, 2, 3, 4, 5].flatMap((n) => [`user:q${n}`, `assistant:a${n}`]));
    // Rows of the same event keep their key, so the list keeps their place and size.
    expect(keys(transcript.items)).toEqual(expect.arrayContaining(keys(provisional[0]!.items).filter((k) => k !== "gone")));
    expect(keys(transcript.items)).not.toContain("gone");
  });

  test("every event shows exactly once, in order, wherever the tail, the journal, the history and the live events overlap", async () => {
    const all = [1, 2, 3, 4, 5, 6].flatMap(stored);
    const expected = [1, 2, 3, 4, 5, 6].flatMap((n) => [`u${n}`, `a${n}`]);
    for (let historyEnd = 0; historyEnd <= all.length; historyEnd += 1) {
      for (let liveStart = 0; liveStart <= historyEnd; liveStart += 2) {
        for (const [tailStart, journalEnd] of [
          [0, undefined],
          [Math.max(0, historyEnd - 4), Math.floor(historyEnd / 2)],
          [historyEnd, historyEnd],
          [0, -1],
        ] as const) {
          const backend = new FakeBackend();
          backend.histories.set("s1", all.slice(0, historyEnd));
          backend.tails.set("s1", all.slice(tailStart, historyEnd));
          // The journal: none, the start of the history (confirmed), or one with a rewound event (dropped).
          if (journalEnd !== undefined) {
            const journal = all.slice(0, Math.max(0, journalEnd));
            backend.journals.set("s1", journalEnd < 0 ? [...journal, ev({ type: "turnStarted" }, "gone")] : journal);
          }
          const { scheduler, runFrame } = manualScheduler();
          const release = holdOpen(backend);
          const opening = openSessionTranscript(backend, "s1", { scheduler, onProvisional: () => {} });
          release();
          await new Promise((resolve) => setTimeout(resolve, 0));
          // The live stream starts somewhere in what the history holds and runs to the end.
          const live = all.slice(liveStart);
          backend.pushEvents("s1", live.slice(0, 5));
          const { transcript } = await opening;
          backend.pushEvents("s1", live.slice(5));
          runFrame();
          const where = `history to ${historyEnd}, live from ${liveStart}, tail from ${tailStart}, journal to ${journalEnd}`;
          expect(keys(transcript.items), where).toEqual(expected);
        }
      }
    }
  });

  test("a history in two parts: the journal's is applied while the CLI resumes, the rest follows it, each event once", async () => {
    const backend = new FakeBackend();
    const journal = [1, 2, 3, 4].flatMap(stored);
    const { scheduler, runFrame } = manualScheduler();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    backend.openSession.mockImplementationOnce(async (id, onEvents, onJournal) => {
      backend.sessionListeners.set(id, onEvents);
      onJournal([...journal]);
      await released; // the CLI still resuming
      return { history: stored(5), afterJournal: true, close: async () => {} };
    });
    const apply = vi.spyOn(SessionTranscript.prototype, "apply");
    const opening = openSessionTranscript(backend, "s1", { scheduler });
    await vi.waitFor(() => expect(apply).toHaveBeenCalledTimes(1));
    expect(apply.mock.calls[0]![0]).toHaveLength(journal.length);

    release();
    // Live events from the end of the journal on: the last turn again, then a new one.
    backend.pushEvents("s1", [...stored(4), ...stored(5), ...stored(6)]);
    const { transcript } = await opening;
    runFrame();
    apply.mockRestore();
    expect(keys(transcript.items)).toEqual([1, 2, 3, 4, 5, 6].flatMap((n) => [`u${n}`, `a${n}`]));
  });

  test("a journal the CLI does not confirm is dropped: all of the history replaces it", async () => {
    const backend = new FakeBackend();
    backend.histories.set("s1", [1, 2, 3].flatMap(stored));
    // Read before a rewind: it holds a turn the CLI's history no longer has.
    backend.journals.set("s1", [...stored(1), ...stored(2), ev({ type: "userMessage", content: "rewound" }, "gone")]);
    const { transcript } = await openSessionTranscript(backend, "s1");
    await expect(backend.openSession.mock.results[0]!.value).resolves.toMatchObject({ afterJournal: false });
    expect(keys(transcript.items)).toEqual([1, 2, 3].flatMap((n) => [`u${n}`, `a${n}`]));
  });

  test("an answer that says it follows a journal that never came fails, and closes the session", async () => {
    const backend = new FakeBackend();
    const close = vi.fn(async () => {});
    backend.openSession.mockResolvedValueOnce({ history: stored(2), afterJournal: true, close });
    await expect(openSessionTranscript(backend, "s1")).rejects.toThrow(/without its start/);
    expect(close).toHaveBeenCalled();
  });

  test("a tail that comes after the history, or none at all, changes nothing", async () => {
    const backend = new FakeBackend();
    backend.histories.set("s1", stored(1));
    let answerTail!: (tail: ChatEvent[]) => void;
    backend.sessionTail.mockImplementationOnce(() => new Promise((resolve) => (answerTail = resolve)));
    const onProvisional = vi.fn();
    const { transcript } = await openSessionTranscript(backend, "s1", { onProvisional });
    answerTail(stored(1));
    await Promise.resolve();
    expect(onProvisional).not.toHaveBeenCalled();
    expect(shape(transcript.items)).toEqual(["user:q1", "assistant:a1"]);

    // No journal to read (a remote server), or reading it failed: the history alone, as before.
    backend.sessionTail.mockResolvedValueOnce(null);
    expect(shape((await openSessionTranscript(backend, "s1", { onProvisional })).transcript.items)).toHaveLength(2);
    backend.sessionTail.mockRejectedValueOnce({ code: "ipc", message: "gone" });
    expect(shape((await openSessionTranscript(backend, "s1", { onProvisional })).transcript.items)).toHaveLength(2);
    expect(onProvisional).not.toHaveBeenCalled();
  });

  test("the history is not held once it is in the transcript", async () => {
    const backend = new FakeBackend();
    backend.histories.set("s1", stored(1));
    const opened = await openSessionTranscript(backend, "s1");
    const answered = await backend.openSession.mock.results[0]!.value;
    expect(Object.values(opened)).not.toContain(answered.history);
  });
});

