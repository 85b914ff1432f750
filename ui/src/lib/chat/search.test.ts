import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { BackendError, type SessionMatch } from "../backend";
import { FakeBackend, deferred } from "../../test/fake-backend";
import { session } from "../../test/chat-fixtures";
import { REMOTE_NOTICE, SEARCH_DELAY_MS, SessionSearch, normalizeQuery } from "./search.svelte";
import { SessionList } from "./sessions.svelte";

const fix = session({ id: "s1", title: "Fix CI", workingDirectory: "/home/me/api" });
const docs = session({ id: "s2", summary: "Write the docs", workingDirectory: "/home/me/site" });
const blank = session({ id: "s3" });

async function searchOver(...sessions: ReturnType<typeof session>[]) {
  const backend = new FakeBackend();
  backend.sessions = sessions.map((s) => ({ ...s }));
  const list = new SessionList(backend);
  await list.refresh();
  const search = new SessionSearch(backend, list);
  return { backend, list, search };
}

function ids(search: SessionSearch): string[] {
  return search.results.map((found) => found.session.id);
}

function snippetOf(search: SessionSearch, sessionId: string): string | undefined {
  return search.results.find((found) => found.session.id === sessionId)?.match?.snippet.map((p) => p.text).join("");
}

function answer(sessionId: string, text: string): SessionMatch {
  return { sessionId, snippet: [{ text, hit: true }], hits: 1 };
}

/** Let the debounce run out and Rust's answer arrive. */
async function pause(): Promise<void> {
  await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("normalizeQuery", () => {
  test("trims and turns whitespace runs into one space, as Rust does", () => {
    expect(normalizeQuery("  pine \n\t apple ")).toBe("pine apple");
    expect(normalizeQuery("   ")).toBe("");
  });
});

describe("SessionSearch", () => {
  test("a blank query lists every session, in the list's order, without asking Rust", async () => {
    const { backend, search } = await searchOver(fix, docs, blank);
    expect(ids(search)).toEqual(["s1", "s2", "s3"]);
    search.setQuery("   ");
    await pause();
    expect(ids(search)).toEqual(["s1", "s2", "s3"]);
    expect(backend.searchSessions).not.toHaveBeenCalled();
    expect(search.searching).toBe(false);
  });

  test("titles, summaries and folders filter at once; messages are searched once typing pauses", async () => {
    const { backend, search } = await searchOver(fix, docs, blank);
    search.setQuery("ci");
    expect(ids(search)).toEqual(["s1"]);
    search.setQuery("DOCS");
    expect(ids(search)).toEqual(["s2"]);
    search.setQuery("/home/me");
    expect(ids(search)).toEqual(["s1", "s2"]);
    expect(search.searching).toBe(true);
    expect(backend.searchSessions).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS - 1);
    expect(backend.searchSessions).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(backend.searchSessions.mock.calls).toEqual([["/home/me"]]);
    expect(search.searching).toBe(false);
  });

  test("typing quickly searches the messages once, for what was typed last, normalized", async () => {
    const { backend, search } = await searchOver(fix);
    for (const query of ["p", "pi", "pine", "pine  app"]) {
      search.setQuery(query);
      await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS / 2);
    }
    await pause();
    expect(backend.searchSessions.mock.calls).toEqual([["pine app"]]);
  });

  test("sessions found by their messages join the list with their snippet, in the list's order", async () => {
    const { backend, search } = await searchOver(fix, docs, blank);
    backend.messages.set("s3", ["A pineapple is a tropical fruit."]);
    backend.messages.set("s1", ["Fix the flaky test", "Pineapple on pizza broke CI"]);
    search.setQuery("pineapple");
    expect(ids(search)).toEqual([]);
    await pause();
    expect(ids(search)).toEqual(["s1", "s3"]);
    expect(snippetOf(search, "s3")).toBe("A pineapple is a tropical fruit.");
    const match = search.results[0]!.match!;
    expect(match.snippet.filter((part) => part.hit).map((part) => part.text)).toEqual(["Pineapple"]);
  });

  test("refresh searches again for the query in the box, keeping the matches until the answer", async () => {
    const { backend, search } = await searchOver(fix, docs, blank);
    backend.messages.set("s1", ["Pineapple on pizza broke CI"]);
    search.setQuery("pineapple");
    await pause();
    expect(ids(search)).toEqual(["s1"]);
    // A turn in s2 said it since.
    backend.messages.set("s2", ["Pineapples ripen after picking? No."]);
    search.refresh();
    expect(ids(search)).toEqual(["s1"]);
    await pause();
    expect(ids(search)).toEqual(["s1", "s2"]);
    expect(backend.searchSessions).toHaveBeenCalledTimes(2);
  });

  test("refresh with an empty box asks Rust nothing", async () => {
    const { backend, search } = await searchOver(fix, docs);
    search.refresh();
    await pause();
    expect(backend.searchSessions).not.toHaveBeenCalled();
  });

  test("a session found by title and by message shows its snippet too; by title only, none", async () => {
    const { backend, search } = await searchOver(fix, docs);
    backend.messages.set("s1", ["the ci job is red"]);
    search.setQuery("CI");
    await pause();
    expect(ids(search)).toEqual(["s1"]);
    expect(snippetOf(search, "s1")).toBe("the ci job is red");
    search.setQuery("docs");
    await pause();
    expect(search.results).toEqual([{ session: expect.objectContaining({ id: "s2" }), match: null }]);
  });

  test("an answer for an older query is dropped", async () => {
    const { backend, search } = await searchOver(fix, docs, blank);
    const older = deferred<SessionMatch[]>();
    const newer = deferred<SessionMatch[]>();
    backend.searchSessions.mockReturnValueOnce(older.promise).mockReturnValueOnce(newer.promise);
    search.setQuery("apple");
    await pause();
    search.setQuery("tomato");
    await pause();
    newer.resolve([answer("s3", "tomato")]);
    await vi.advanceTimersByTimeAsync(0);
    older.resolve([answer("s2", "apple")]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(search)).toEqual(["s3"]);
    expect(snippetOf(search, "s3")).toBe("tomato");
    expect(search.searching).toBe(false);
  });

  test("matches stay while the query narrows, and go when it changes otherwise or is cleared", async () => {
    const { backend, search } = await searchOver(fix, docs, blank);
    backend.messages.set("s3", ["pineapple"]);
    search.setQuery("pine");
    await pause();
    expect(ids(search)).toEqual(["s3"]);

    search.setQuery("pineapple");
    expect(ids(search)).toEqual(["s3"]);
    expect(search.searching).toBe(true);
    await pause();
    expect(ids(search)).toEqual(["s3"]);

    search.setQuery("pear");
    expect(ids(search)).toEqual([]);
    await pause();
    expect(ids(search)).toEqual([]);

    search.setQuery("pineapple");
    await pause();
    search.clear();
    expect(search.query).toBe("");
    expect(ids(search)).toEqual(["s1", "s2", "s3"]);
    expect(search.results.every((found) => found.match === null)).toBe(true);
  });

  test("a remote CLI: titles still filter, the notice says why messages are not searched, Rust is asked once", async () => {
    const { backend, search } = await searchOver(fix, docs);
    backend.searchSessions.mockRejectedValue(
      new BackendError({ code: "search_unavailable", message: "Message search is not available on this server." }),
    );
    search.setQuery("docs");
    await pause();
    expect(ids(search)).toEqual(["s2"]);
    expect(search.notice).toBe(REMOTE_NOTICE);
    expect(search.searching).toBe(false);

    search.setQuery("fix");
    await pause();
    expect(ids(search)).toEqual(["s1"]);
    expect(search.notice).toBe(REMOTE_NOTICE);
    expect(search.searching).toBe(false);
    expect(backend.searchSessions).toHaveBeenCalledTimes(1);

    search.clear();
    expect(search.notice).toBeNull();
  });

  test("a failed search says so and keeps the title matches; the next one clears it", async () => {
    const { backend, search } = await searchOver(fix, docs);
    backend.searchSessions.mockRejectedValueOnce(new BackendError({ code: "search_failed", message: "disk on fire" }));
    search.setQuery("fix");
    await pause();
    expect(ids(search)).toEqual(["s1"]);
    expect(search.notice).toBe("Could not search messages: disk on fire");
    search.setQuery("fix c");
    await pause();
    expect(search.notice).toBeNull();
  });

  test("an answer Rust superseded changes nothing", async () => {
    const { backend, search } = await searchOver(fix, docs);
    backend.messages.set("s2", ["pineapple"]);
    search.setQuery("pine");
    await pause();
    backend.searchSessions.mockRejectedValueOnce(new BackendError({ code: "search_superseded", message: "replaced" }));
    search.setQuery("pineapple");
    await pause();
    expect(ids(search)).toEqual(["s2"]);
    expect(search.notice).toBeNull();
    expect(search.searching).toBe(false);
  });

  test("dispose stops a pending search", async () => {
    const { backend, search } = await searchOver(fix);
    search.setQuery("pine");
    search.dispose();
    await pause();
    expect(backend.searchSessions).not.toHaveBeenCalled();
    expect(search.searching).toBe(false);
  });

  test("follows the list: sessions loaded later are filtered too", async () => {
    const { backend, list, search } = await searchOver(fix);
    search.setQuery("docs");
    expect(ids(search)).toEqual([]);
    backend.sessions = [{ ...fix }, { ...docs }];
    await list.refresh();
    expect(ids(search)).toEqual(["s2"]);
  });
});
