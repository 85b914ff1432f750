// Tests the Tauri Backend against Tauri's own IPC mock: the door's translation of commands, results,
// errors and channels. The only test allowed to touch @tauri-apps/* (see boundary.test.ts).

import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { BackendError, createTauriBackend, describeError, toAppError, type ConnectionState } from "./backend";

const connected: ConnectionState = { state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 };

// What Rust does when it sends a message down a channel.
function sendOnChannel(channel: { id: number }, index: number, message: unknown): void {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

describe("createTauriBackend", () => {
  beforeEach(() => vi.stubGlobal("isTauri", true));
  afterEach(() => {
    clearMocks();
    vi.unstubAllGlobals();
  });

  test("connection() calls get_connection and returns its data", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return connected;
    });
    await expect(createTauriBackend().connection()).resolves.toEqual(connected);
    expect(calls).toEqual(["get_connection"]);
  });

  test("a command's AppError becomes a BackendError with the same code", async () => {
    mockIPC(() => {
      throw { code: "cli_missing", message: "copilot binary not found" };
    });
    const failure = createTauriBackend().retry();
    await expect(failure).rejects.toBeInstanceOf(BackendError);
    await expect(failure).rejects.toMatchObject({ code: "cli_missing", message: "copilot binary not found" });
  });

  test("retry() calls retry_connection", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return null;
    });
    await expect(createTauriBackend().retry()).resolves.toBeUndefined();
    expect(calls).toEqual(["retry_connection"]);
  });

  test("onConnection() hands Rust a channel as onState and stops delivering after unsubscribe", async () => {
    let channel: { id: number } | undefined;
    mockIPC((cmd, args) => {
      expect(cmd).toBe("watch_connection");
      channel = (args as { onState: { id: number } }).onState;
      return null;
    });
    const received: ConnectionState[] = [];
    const unsubscribe = await createTauriBackend().onConnection((state) => received.push(state));

    sendOnChannel(channel!, 0, { state: "connecting" });
    sendOnChannel(channel!, 1, connected);
    expect(received).toEqual([{ state: "connecting" }, connected]);

    unsubscribe();
    sendOnChannel(channel!, 2, { state: "stopped" });
    expect(received).toHaveLength(2);
  });

  test("openSession() hands Rust two channels; an answer that follows the journal waits for the journal", async () => {
    const event = (id: string) => ({ id, kind: { type: "userMessage", content: id } }) as never;
    let args: { sessionId: string; onEvents: { id: number }; onJournal: { id: number } } | undefined;
    const closed: string[] = [];
    mockIPC((cmd, sent) => {
      if (cmd === "close_session") return closed.push((sent as { sessionId: string }).sessionId), null;
      expect(cmd).toBe("open_session");
      args = sent as typeof args;
      // The answer overtakes the journal's message, which is still on its way.
      return { afterJournal: true, events: [event("e3")] };
    });
    const order: string[] = [];
    const live: unknown[] = [];
    let resolved = false;
    const opening = createTauriBackend()
      .openSession(
        "s1",
        (batch) => live.push(batch),
        (history) => order.push(`journal:${history.length}`),
      )
      .then((opened) => {
        resolved = true;
        order.push(`opened:${opened.history.length}`);
        return opened;
      });
    await vi.waitFor(() => expect(args?.sessionId).toBe("s1"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(resolved).toBe(false);

    sendOnChannel(args!.onJournal, 0, [event("e1"), event("e2")]);
    const opened = await opening;
    expect(order).toEqual(["journal:2", "opened:1"]);
    expect(opened.afterJournal).toBe(true);
    sendOnChannel(args!.onEvents, 0, [event("e4")]);
    expect(live).toEqual([[event("e4")]]);

    await opened.close();
    expect(closed).toEqual(["s1"]);
  });

  test("openSession(): a whole history resolves at once, and a journal that comes after it is ignored", async () => {
    let onJournal: { id: number } | undefined;
    mockIPC((cmd, sent) => {
      if (cmd !== "open_session") return null;
      onJournal = (sent as { onJournal: { id: number } }).onJournal;
      return { afterJournal: false, events: [] };
    });
    const journal = vi.fn();
    const opened = await createTauriBackend().openSession("s1", () => {}, journal);
    expect(opened).toMatchObject({ afterJournal: false, history: [] });
    sendOnChannel(onJournal!, 0, []);
    expect(journal).not.toHaveBeenCalled();
  });

  test("outside the app every call fails with code no_tauri", async () => {
    vi.unstubAllGlobals();
    await expect(createTauriBackend().connection()).rejects.toMatchObject({ code: "no_tauri" });
  });
});

describe("toAppError", () => {
  test("keeps a command's AppError", () => {
    expect(toAppError({ code: "x", message: "y", extra: 1 })).toEqual({ code: "x", message: "y" });
  });

  test("wraps Tauri's plain-string rejections as code ipc", () => {
    expect(toAppError("command get_connection not allowed by ACL")).toEqual({
      code: "ipc",
      message: "command get_connection not allowed by ACL",
    });
  });

  test("describeError reads Errors and anything else", () => {
    expect(describeError(new BackendError({ code: "a", message: "broken" }))).toBe("broken");
    expect(describeError("denied")).toBe("denied");
  });
});

describe("createTauriBackend: the account", () => {
  beforeEach(() => vi.stubGlobal("isTauri", true));
  afterEach(() => {
    clearMocks();
    vi.unstubAllGlobals();
  });

  test("startSignIn() sends the host and a progress channel, and resolves to the code", async () => {
    let channel: { id: number } | undefined;
    const start = { userCode: "WDJB-MJHT", verificationUri: "https://github.com/login/device", expiresIn: 900 };
    mockIPC((cmd, args) => {
      expect(cmd).toBe("start_sign_in");
      const { host, onProgress } = args as { host: string; onProgress: { id: number } };
      expect(host).toBe("tenant.ghe.com");
      channel = onProgress;
      return start;
    });
    const states: unknown[] = [];
    await expect(createTauriBackend().startSignIn("tenant.ghe.com", (s) => states.push(s))).resolves.toEqual(start);
    sendOnChannel(channel!, 0, { state: "signedIn" });
    expect(states).toEqual([{ state: "signedIn" }]);
  });

  test("searchSessions() calls search_sessions with the query, and keeps its error codes", async () => {
    const found = [{ sessionId: "s1", snippet: [{ text: "toml", hit: true }], hits: 1 }];
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if ((args as { query: string }).query === "remote") {
        throw { code: "search_unavailable", message: "Message search is not available on this server." };
      }
      return found;
    });
    const backend = createTauriBackend();
    await expect(backend.searchSessions("toml")).resolves.toEqual(found);
    await expect(backend.searchSessions("remote")).rejects.toMatchObject({ code: "search_unavailable" });
    expect(calls).toEqual([
      ["search_sessions", { query: "toml" }],
      ["search_sessions", { query: "remote" }],
    ]);
  });

  test("saveProvider() calls save_provider_settings with the settings and the key (or null)", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { githubHost: "github.com", provider: null, providerKeyStored: false, notice: null, signInAvailable: true };
    });
    const settings = { providerType: "openai", baseUrl: "http://127.0.0.1:11434/v1", model: "m" } as const;
    await createTauriBackend().saveProvider(settings, null);
    expect(calls).toEqual([["save_provider_settings", { settings, apiKey: null }]]);
  });
});
