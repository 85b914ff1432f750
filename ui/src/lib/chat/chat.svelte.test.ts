import { describe, expect, test, vi } from "vitest";
import type { ChatEvent } from "../backend";
import { FakeBackend } from "../../test/fake-backend";
import { session } from "../../test/chat-fixtures";
import { ChatState, LOADING_REASON, sendBlockedReason } from "./chat.svelte";

const bundled = { kind: "bundled" } as const;
const server = { kind: "server", address: "127.0.0.1:4321" } as const;
const connected = { state: "connected", target: bundled, version: "1.0.102", protocolVersion: 3 } as const;

function event(id: string, kind: ChatEvent["kind"]): ChatEvent {
  return { id, timestamp: "2025-01-01T10:00:00Z", kind };
}

/** A stored turn: the CLI keeps no idle event, so a history ends with the answer. */
function storedTurn(n: number): ChatEvent[] {
  return [
    event(`u${n}`, { type: "userMessage", content: `question ${n}` }),
    event(`t${n}`, { type: "turnStarted" }),
    event(`a${n}`, { type: "assistantMessage", messageId: `m${n}`, content: `answer ${n}` }),
  ];
}

async function started(backend = new FakeBackend(connected)): Promise<{ backend: FakeBackend; chat: ChatState }> {
  const chat = new ChatState(backend);
  await chat.start();
  await chat.connectionChanged(backend.state);
  return { backend, chat };
}

describe("ChatState", () => {
  test("says why nothing can be sent while the CLI is not connected", () => {
    expect(sendBlockedReason(connected)).toBeNull();
    const restarting = { state: "restarting", attempt: 1, code: "cli_exited", reason: "crashed", retryInMs: 500 } as const;
    expect(sendBlockedReason({ ...restarting, target: bundled })).toContain("restarting");
    expect(sendBlockedReason({ ...restarting, target: server })).toContain("Reconnecting to 127.0.0.1:4321");
    expect(sendBlockedReason({ state: "failed", target: bundled, code: "crash_loop", reason: "gone" })).toContain("Retry");
    expect(sendBlockedReason({ state: "connecting", target: bundled })).toContain("start");
  });

  test("loads sessions and picks the first model once connected", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1", title: "First" })];
    backend.modelList = [
      { id: "m-a", name: "Model A" },
      { id: "m-b", name: "Model B" },
    ];
    const { chat } = await started(backend);
    expect(chat.sessions.sessions.map((s) => s.id)).toEqual(["s1"]);
    expect(chat.model).toBe("m-a");
  });

  test("a stored session opens at rest, with its history", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    backend.histories.set("s1", [...storedTurn(1), ...storedTurn(2)]);
    const { chat } = await started(backend);

    await chat.select("s1");
    expect(chat.open?.id).toBe("s1");
    expect(chat.open?.transcript.running).toBe(false);
    expect(chat.open?.transcript.items.filter((i) => i.kind === "assistant")).toHaveLength(2);
    expect(chat.sessions.selectedId).toBe("s1");
  });

  test("switching sessions stops the previous one's events", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" }), session({ id: "s2" })];
    const { chat } = await started(backend);
    await chat.select("s1");
    await chat.select("s2");
    expect(backend.sessionListeners.has("s1")).toBe(false);
    expect(backend.sessionListeners.has("s2")).toBe(true);
    expect(chat.open?.id).toBe("s2");
  });

  test("a failure to open is shown, not swallowed", async () => {
    const backend = new FakeBackend(connected);
    backend.openSession.mockRejectedValueOnce({ code: "session_not_found", message: "Session s9 was not found." });
    const { chat } = await started(backend);
    await chat.select("s9");
    expect(chat.open).toBeNull();
    expect(chat.openError).toContain("was not found");
  });

  test("create makes the session, selects it and opens it", async () => {
    const { backend, chat } = await started();
    await chat.create({ model: "fake-model", workingDirectory: "/work" });
    expect(backend.createSession).toHaveBeenCalledWith({ model: "fake-model", workingDirectory: "/work" });
    expect(chat.open?.id).toBe("session-1");
    await chat.send("hello");
    expect(backend.deliver).toHaveBeenCalledWith("session-1", "hello", [], "queue");
  });

  test("a turn of the open session ending searches the messages again, however quickly it ran", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" }), session({ id: "s2" })];
    backend.messages.set("s1", ["A pineapple is a fruit."]);
    const { chat } = await started(backend);
    await chat.select("s2");
    chat.search.setQuery("pineapple");
    await vi.waitFor(() => expect(chat.search.results.map((r) => r.session.id)).toEqual(["s1"]));

    // The whole turn arrives before the next frame: it is never seen running.
    backend.messages.set("s2", ["Pineapple again."]);
    backend.pushEvents("s2", [
      event("u1", { type: "userMessage", content: "fruit?" }),
      event("t1", { type: "turnStarted" }),
      event("a1", { type: "assistantMessage", messageId: "m1", content: "Pineapple again." }),
      event("i1", { type: "idle" }),
    ]);
    await vi.waitFor(() => expect(chat.search.results.map((r) => r.session.id)).toEqual(["s1", "s2"]));
    expect(backend.searchSessions).toHaveBeenCalledTimes(2);
  });

  test("a CLI restart mid-turn ends the turn with an explanation, and the session reloads when it is back", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    const { chat } = await started(backend);
    await chat.select("s1");
    chat.open!.transcript.apply([event("u1", { type: "userMessage", content: "long one" })]);
    expect(chat.open!.transcript.running).toBe(true);

    await chat.connectionChanged({
      state: "restarting",
      target: bundled,
      attempt: 1,
      code: "cli_exited",
      reason: "exit code 137",
      retryInMs: 200,
    });
    expect(chat.open!.transcript.running).toBe(false);
    expect(chat.open!.transcript.items.some((i) => i.kind === "error")).toBe(true);

    backend.histories.set("s1", storedTurn(1));
    const opens = backend.openSession.mock.calls.length;
    const seen: (string | undefined)[] = [];
    const watch = $effect.root(() => {
      $effect(() => {
        seen.push(chat.open?.id);
      });
    });
    await chat.connectionChanged(connected);
    watch();
    expect(backend.openSession.mock.calls.length).toBe(opens + 1);
    expect(chat.open?.transcript.items.some((i) => i.kind === "assistant")).toBe(true);
    // Reloaded in place: the session never left the screen (the composer and its text stay mounted).
    expect(seen).not.toContain(undefined);
    expect(backend.sessionListeners.has("s1")).toBe(true);
  });

  test("a lost server connection ends the turn naming the server", async () => {
    const backend = new FakeBackend({ ...connected, target: server });
    backend.sessions = [session({ id: "s1" })];
    const { chat } = await started(backend);
    await chat.select("s1");
    chat.open!.transcript.apply([event("u1", { type: "userMessage", content: "long one" })]);
    await chat.connectionChanged({
      state: "restarting",
      target: server,
      attempt: 1,
      code: "server_lost",
      reason: "lost",
      retryInMs: 200,
    });
    const error = chat.open!.transcript.items.find((i) => i.kind === "error");
    expect(JSON.stringify(error)).toContain("server at 127.0.0.1:4321 was lost");
  });

  test("connected to another CLI, the open session closes and the other CLI's sessions are listed", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    const { chat } = await started(backend);
    await chat.select("s1");
    expect(chat.open?.id).toBe("s1");

    backend.sessions = [session({ id: "remote-1" })];
    const opens = backend.openSession.mock.calls.length;
    // As soon as the connection names the other CLI, the old CLI's session and list go.
    await chat.connectionChanged({ state: "connecting", target: server });
    expect(chat.open).toBeNull();
    expect(chat.sessions.sessions).toEqual([]);
    await chat.connectionChanged({ ...connected, target: server });
    expect(chat.open).toBeNull();
    expect(chat.sessions.selectedId).toBeNull();
    expect(backend.openSession.mock.calls.length).toBe(opens);
    expect(backend.sessionListeners.has("s1")).toBe(false);
    expect(chat.sessions.sessions.map((s) => s.id)).toEqual(["remote-1"]);
  });

  test("the composer's model is the open session's, and picking another switches the session", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    backend.sessionModels.set("s1", "m-b");
    const { chat } = await started(backend);
    await chat.select("s1");
    await vi.waitFor(() => expect(chat.openModel.value).toBe("m-b"));

    await chat.chooseModel("m-a");
    expect(backend.setSessionModel).toHaveBeenCalledWith("s1", "m-a");
    expect(chat.openModel.value).toBe("m-a");

    backend.setSessionModel.mockRejectedValueOnce({ code: "cli_error", message: "unknown model" });
    await chat.chooseModel("m-c");
    expect(chat.openModel.value).toBe("m-a");
    expect(chat.openModel.error).toContain("unknown model");
  });

  test("deleting the open session closes it", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    const { chat } = await started(backend);
    await chat.select("s1");
    await chat.delete("s1");
    expect(chat.open).toBeNull();
    expect(backend.deleteSession).toHaveBeenCalledWith("s1");
    expect(chat.sessions.sessions).toEqual([]);
  });

  test("a title from the CLI reaches the sidebar", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    const { chat } = await started(backend);
    await chat.select("s1");
    chat.open!.transcript.apply([event("t", { type: "titleChanged", title: "Fix the build" })]);
    chat.titleChanged();
    expect(chat.sessions.sessions[0]?.title).toBe("Fix the build");
  });

  /** Holds back the next openSession until `release` (the CLI resuming), or fails it with `fail`. */
  function holdOpen(backend: FakeBackend) {
    let release!: () => void;
    let fail!: (error: unknown) => void;
    const released = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    const open = backend.openSession.getMockImplementation()!;
    backend.openSession.mockImplementationOnce(async (id, onEvents, onJournal) => {
      await released;
      return open(id, onEvents, onJournal);
    });
    return { release, fail };
  }

  test("a stored session shows its last screen, read-only, while the CLI resumes it; then all of it", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" })];
    backend.histories.set("s1", [1, 2, 3, 4].flatMap(storedTurn));
    backend.tails.set("s1", storedTurn(4));
    const { chat } = await started(backend);
    const { release } = holdOpen(backend);

    const selecting = chat.select("s1");
    await vi.waitFor(() => expect(chat.open?.provisional).toBe(true));
    expect(chat.open?.id).toBe("s1");
    expect(chat.open?.transcript.items.map((i) => i.key)).toEqual(["u4", "a4"]);
    expect(chat.open?.transcript.running).toBe(false);
    expect(chat.blockedReason).toBe(LOADING_REASON);
    await expect(chat.send("too early")).rejects.toThrow(LOADING_REASON);
    expect(backend.deliver).not.toHaveBeenCalled();

    release();
    await selecting;
    expect(chat.open?.provisional).toBeFalsy();
    expect(chat.open?.transcript.items).toHaveLength(8);
    expect(chat.open?.transcript.running).toBe(false);
    expect(chat.blockedReason).toBeNull();
  });

  test("switching away from a last screen drops it; a failure to resume replaces it with the reason", async () => {
    const backend = new FakeBackend(connected);
    backend.sessions = [session({ id: "s1" }), session({ id: "s2" })];
    backend.histories.set("s1", storedTurn(1));
    backend.tails.set("s1", storedTurn(1));
    const { chat } = await started(backend);
    const first = holdOpen(backend);
    const selecting = chat.select("s1");
    await vi.waitFor(() => expect(chat.open?.provisional).toBe(true));
    await chat.select("s2");
    expect(chat.open?.id).toBe("s2");
    first.release();
    await selecting;
    expect(chat.open?.id).toBe("s2");
    expect(backend.sessionListeners.has("s1")).toBe(false);

    const second = holdOpen(backend);
    const again = chat.select("s1");
    await vi.waitFor(() => expect(chat.open?.provisional).toBe(true));
    second.fail({ code: "session_not_found", message: "Session s1 was not found." });
    await again;
    expect(chat.open).toBeNull();
    expect(chat.openError).toContain("was not found");
  });
});

