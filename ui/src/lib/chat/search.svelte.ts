// The sidebar's search: what was typed, and which sessions it finds. A session is found at once when its title,
// summary or folder contains the query (matchesQuery, on the list already loaded), and a moment later when its
// messages do: Rust searches the stored messages (Backend.searchSessions) once typing pauses for SEARCH_DELAY_MS,
// and only the answer to the latest query is kept. Found sessions stay in the list's order.

import { BackendError, describeError, type Backend, type SessionMatch, type SessionSummary } from "../backend";
import { matchesQuery, type SessionList } from "./sessions.svelte";

/** How long typing must pause before the messages are searched. */
export const SEARCH_DELAY_MS = 150;

/** Shown when the CLI is a server whose CLI cannot read its sessions' messages for the app (an older version). */
export const REMOTE_NOTICE = "This server's Copilot CLI cannot search messages; titles are searched";

/** A session the search finds, with where its messages matched (null when only its title, summary or folder did). */
export interface FoundSession {
  session: SessionSummary;
  match: SessionMatch | null;
}

/** `query` as Rust compares it: trimmed, every run of whitespace one space. */
export function normalizeQuery(query: string): string {
  return query.trim().replace(/\s+/g, " ");
}

export class SessionSearch {
  /** What is in the search box. */
  query = $state("");
  /** Messages are being searched for the current query (waiting for typing to pause, or for Rust). */
  searching = $state(false);
  /** Why messages are not searched (REMOTE_NOTICE) or why the last search failed; null otherwise. */
  notice = $state<string | null>(null);

  /** Message matches by session id, and the query they answer. */
  #matches = $state.raw<ReadonlyMap<string, SessionMatch>>(new Map());
  #matchedQuery = "";
  /** Rust said it cannot search here (a remote CLI); that does not change while the app runs. */
  #unavailable = false;
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  readonly #backend: Backend;
  readonly #list: SessionList;
  readonly #delayMs: number;

  constructor(backend: Backend, list: SessionList, options: { delayMs?: number } = {}) {
    this.#backend = backend;
    this.#list = list;
    this.#delayMs = options.delayMs ?? SEARCH_DELAY_MS;
  }

  /** The sessions to show for the query, in the list's order: everything when it is blank. */
  readonly results: FoundSession[] = $derived.by(() => {
    const query = this.query;
    const matches = this.#matches;
    return this.#list.sessions.flatMap((session) => {
      const match = matches.get(session.id) ?? null;
      return match || matchesQuery(session, query) ? [{ session, match }] : [];
    });
  });

  /** Type `query`: titles are filtered at once, messages searched once typing pauses. */
  setQuery(query: string): void {
    this.query = query;
    const generation = ++this.#generation;
    clearTimeout(this.#timer);
    const normalized = normalizeQuery(query);
    if (!normalized) {
      this.#setMatches(new Map(), "");
      this.searching = false;
      this.notice = null;
      return;
    }
    if (this.#unavailable) {
      this.notice = REMOTE_NOTICE;
      return;
    }
    // Typing on narrows the matches: keep showing the last ones until the new answer replaces them.
    // Anything else would show snippets of another query.
    if (!this.#matchedQuery || !normalized.toLowerCase().includes(this.#matchedQuery.toLowerCase())) {
      this.#setMatches(new Map(), "");
    }
    this.searching = true;
    this.#timer = setTimeout(() => void this.#search(normalized, generation), this.#delayMs);
  }

  /**
   * Search the messages again for the query in the box (a turn ended: what was said since may match), keeping
   * the matches shown until the new answer replaces them. Nothing to do while the box is empty.
   */
  refresh(): void {
    const normalized = normalizeQuery(this.query);
    if (!normalized || this.#unavailable) return;
    const generation = ++this.#generation;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#search(normalized, generation), this.#delayMs);
  }

  /** Empty the search box. */
  clear(): void {
    this.setQuery("");
  }

  /** Stop a pending search (the sidebar went away). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#generation++;
    this.searching = false;
  }

  async #search(query: string, generation: number): Promise<void> {
    try {
      const found = await this.#backend.searchSessions(query);
      if (generation !== this.#generation) return;
      this.#setMatches(new Map(found.map((match) => [match.sessionId, match])), query);
      this.notice = null;
    } catch (error) {
      if (generation !== this.#generation) return;
      const code = error instanceof BackendError ? error.code : null;
      // Another search started in Rust after this one; its answer is the one that counts.
      if (code === "search_superseded") return;
      this.#setMatches(new Map(), "");
      if (code === "search_unavailable") {
        this.#unavailable = true;
        this.notice = REMOTE_NOTICE;
      } else {
        this.notice = `Could not search messages: ${describeError(error)}`;
      }
    } finally {
      if (generation === this.#generation) this.searching = false;
    }
  }

  #setMatches(matches: ReadonlyMap<string, SessionMatch>, query: string): void {
    this.#matches = matches;
    this.#matchedQuery = query;
  }
}
