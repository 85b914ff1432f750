import { describe, expect, test } from "vitest";
import { BackendError } from "../backend";
import { FakeBackend, deferred } from "../../test/fake-backend";
import { session } from "../../test/chat-fixtures";
import { SessionList, displayName, formatLastActivity, matchesQuery, shortenPath } from "./sessions.svelte";

function backendWith(...sessions: ReturnType<typeof session>[]): FakeBackend {
  const backend = new FakeBackend();
  // Copies: the fake renames in place, and these samples are shared by every test.
  backend.sessions = sessions.map((s) => ({ ...s }));
  return backend;
}

describe("displayName", () => {
  test("title, else summary, else Untitled session", () => {
    expect(displayName(session({ id: "1", title: "Fix CI", summary: "ignored" }))).toBe("Fix CI");
    expect(displayName(session({ id: "1", summary: "Refactor the parser" }))).toBe("Refactor the parser");
    expect(displayName(session({ id: "1", title: "  ", summary: null }))).toBe("Untitled session");
    expect(displayName(session({ id: "1" }))).toBe("Untitled session");
  });
});

describe("matchesQuery", () => {
  const s = session({ id: "1", title: "Fix CI", summary: "Flaky Tests", workingDirectory: "/home/me/Projects/api" });

  test.each([
    ["fix", true],
    ["FLAKY", true],
    ["projects/API", true],
    ["  ", true],
    ["deploy", false],
  ])("%j → %s", (query, expected) => {
    expect(matchesQuery(s, query)).toBe(expected);
  });

  test("a session with nothing to match only matches a blank query", () => {
    expect(matchesQuery(session({ id: "1" }), "a")).toBe(false);
    expect(matchesQuery(session({ id: "1" }), "")).toBe(true);
  });
});

describe("shortenPath", () => {
  test("writes the given home as ~", () => {
    expect(shortenPath("/srv/me/app", "/srv/me")).toBe("~/app");
    expect(shortenPath("/srv/me", "/srv/me/")).toBe("~");
    expect(shortenPath("/srv/meow", "/srv/me")).toBe("/srv/meow");
    expect(shortenPath("C:\\Users\\me\\src", "C:\\Users\\me")).toBe("~\\src");
  });

  test("guesses the usual home folders when not told", () => {
    expect(shortenPath("/home/me/src/app")).toBe("~/src/app");
    expect(shortenPath("/Users/me")).toBe("~");
    expect(shortenPath("C:\\Users\\me\\src")).toBe("~\\src");
    expect(shortenPath("/opt/work")).toBe("/opt/work");
    expect(shortenPath("/home")).toBe("/home");
  });
});

describe("formatLastActivity", () => {
  const now = new Date(2025, 5, 15, 14, 30); // 15 June 2025, 14:30 local time
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const at = (year: number, month: number, day: number, hour: number, minute: number) =>
    new Date(year, month, day, hour, minute).toISOString();

  test("under a minute (or in the future) is just now", () => {
    expect(formatLastActivity(ago(0), now, "en")).toBe("just now");
    expect(formatLastActivity(ago(59_000), now, "en")).toBe("just now");
    expect(formatLastActivity(ago(-30_000), now, "en")).toBe("just now");
  });

  test("minutes, then hours the same day", () => {
    expect(formatLastActivity(ago(5 * 60_000), now, "en")).toMatch(/^5 min\.? ago$/);
    expect(formatLastActivity(ago(59 * 60_000), now, "en")).toMatch(/^59 min\.? ago$/);
    expect(formatLastActivity(ago(3 * 3_600_000), now, "en")).toMatch(/^3 hr\.? ago$/);
  });

  test("the day before is yesterday, then days, then a date", () => {
    expect(formatLastActivity(at(2025, 5, 14, 23, 0), now, "en")).toBe("yesterday");
    expect(formatLastActivity(at(2025, 5, 12, 9, 0), now, "en")).toBe("3 days ago");
    expect(formatLastActivity(at(2025, 2, 4, 9, 0), now, "en")).toBe("Mar 4");
    expect(formatLastActivity(at(2023, 2, 4, 9, 0), now, "en")).toBe("Mar 4, 2023");
  });

  test("follows the locale", () => {
    expect(formatLastActivity(at(2025, 5, 14, 23, 0), now, "de")).toBe("gestern");
  });

  test("an unreadable timestamp reads as nothing", () => {
    expect(formatLastActivity("not a date", now, "en")).toBe("");
  });
});

describe("SessionList", () => {
  const fix = session({ id: "s1", title: "Fix CI", workingDirectory: "/home/me/api" });
  const docs = session({ id: "s2", summary: "Write the docs", workingDirectory: "/home/me/site" });

  test("loads through the Backend, with a loading state", async () => {
    const backend = backendWith(fix, docs);
    const answer = deferred<ReturnType<typeof session>[]>();
    backend.listSessions.mockReturnValueOnce(answer.promise);
    const list = new SessionList(backend);

    const loading = list.load();
    expect(list.loading).toBe(true);
    expect(list.loaded).toBe(false);
    answer.resolve([fix, docs]);
    await loading;

    expect(list.loading).toBe(false);
    expect(list.loaded).toBe(true);
    expect(list.sessions.map((s) => s.id)).toEqual(["s1", "s2"]);
  });

  test("a failed load keeps the list and carries the Backend's message", async () => {
    const backend = backendWith(fix);
    const list = new SessionList(backend);
    await list.refresh();

    backend.listSessions.mockRejectedValueOnce(new BackendError({ code: "cli", message: "CLI not connected" }));
    await list.refresh();
    expect(list.error).toBe("CLI not connected");
    expect(list.loading).toBe(false);
    expect(list.sessions).toHaveLength(1);

    await list.refresh();
    expect(list.error).toBeNull();
  });

  test("clear forgets the list and the selection, and an answer still on its way is dropped", async () => {
    const backend = backendWith(fix, docs);
    const list = new SessionList(backend);
    await list.refresh();
    list.select("s1");
    const late = deferred<ReturnType<typeof session>[]>();
    backend.listSessions.mockReturnValueOnce(late.promise);
    const loading = list.refresh();

    list.clear();
    expect(list.sessions).toEqual([]);
    expect(list.selectedId).toBeNull();
    expect(list.loaded).toBe(false);
    late.resolve([fix]);
    await loading;
    expect(list.sessions).toEqual([]);
  });

  test("an older answer does not overwrite a newer one", async () => {
    const backend = backendWith();
    const first = deferred<ReturnType<typeof session>[]>();
    backend.listSessions.mockReturnValueOnce(first.promise);
    const list = new SessionList(backend);

    const stale = list.refresh();
    backend.sessions = [fix, docs];
    await list.refresh();
    first.resolve([]);
    await stale;
    expect(list.sessions).toHaveLength(2);
  });

  test("create starts a session, puts it first and selects it", async () => {
    const backend = backendWith(fix);
    const list = new SessionList(backend);
    await list.refresh();

    const created = await list.create({ workingDirectory: "/home/me/new", model: "fake-model" });
    expect(backend.createSession).toHaveBeenCalledWith({ workingDirectory: "/home/me/new", model: "fake-model" });
    expect(list.sessions[0]).toEqual(created);
    expect(list.selectedId).toBe(created.id);
    expect(list.selected).toEqual(created);
  });

  test("a failed create rejects and changes nothing", async () => {
    const backend = backendWith(fix);
    backend.createSession.mockRejectedValueOnce(new BackendError({ code: "cli", message: "no such folder" }));
    const list = new SessionList(backend);
    await list.refresh();
    list.select("s1");

    await expect(list.create({ workingDirectory: "/nope", model: null })).rejects.toThrow("no such folder");
    expect(list.sessions).toHaveLength(1);
    expect(list.selectedId).toBe("s1");
  });

  test("rename names the session", async () => {
    const backend = backendWith(fix, docs);
    const list = new SessionList(backend);
    await list.refresh();

    await list.rename("s2", "Docs site");
    expect(backend.rename).toHaveBeenCalledWith("s2", "Docs site");
    expect(list.sessions.find((s) => s.id === "s2")?.title).toBe("Docs site");
  });

  test("a failed rename keeps the old title", async () => {
    const backend = backendWith(fix);
    backend.rename.mockRejectedValueOnce(new BackendError({ code: "cli", message: "nope" }));
    const list = new SessionList(backend);
    await list.refresh();

    await expect(list.rename("s1", "Other")).rejects.toThrow("nope");
    expect(list.sessions[0]?.title).toBe("Fix CI");
  });

  test("delete removes the session; deleting the selected one selects nothing", async () => {
    const backend = backendWith(fix, docs);
    const list = new SessionList(backend);
    await list.refresh();
    list.select("s1");

    await list.delete("s2");
    expect(list.sessions.map((s) => s.id)).toEqual(["s1"]);
    expect(list.selectedId).toBe("s1");

    await list.delete("s1");
    expect(backend.deleteSession).toHaveBeenCalledWith("s1");
    expect(list.sessions).toEqual([]);
    expect(list.selectedId).toBeNull();
    expect(list.selected).toBeNull();
  });

  test("a failed delete keeps the session", async () => {
    const backend = backendWith(fix);
    backend.deleteSession.mockRejectedValueOnce(new BackendError({ code: "cli", message: "busy" }));
    const list = new SessionList(backend);
    await list.refresh();

    await expect(list.delete("s1")).rejects.toThrow("busy");
    expect(list.sessions).toHaveLength(1);
  });

  test("refresh drops a selection that no longer exists", async () => {
    const backend = backendWith(fix, docs);
    const list = new SessionList(backend);
    await list.refresh();
    list.select("s2");

    backend.sessions = [fix];
    await list.refresh();
    expect(list.selectedId).toBeNull();
  });

  test("applyTitle shows a title the agent chose", async () => {
    const list = new SessionList(backendWith(docs));
    await list.refresh();
    list.applyTitle("s2", "Docs");
    expect(displayName(list.sessions[0]!)).toBe("Docs");
  });
});
