// The stored sessions as the sidebar shows them. Owns the list (loaded through the Backend), which one is
// selected, and the create/rename/delete calls that change it, plus the pure words for a session: its display
// name, its shortened folder and its last activity. Opening a session and its transcript live elsewhere.

import { describeError, type Backend, type NewSession, type SessionSummary } from "../backend";

/** What a session is called: its title, else its summary, else "Untitled session". */
export function displayName(session: SessionSummary): string {
  return session.title?.trim() || session.summary?.trim() || "Untitled session";
}

/** Whether a session's title, summary or working directory contains `query` (any case). Blank matches all. */
export function matchesQuery(session: SessionSummary, query: string): boolean {
  const needle = query.trim().toLocaleLowerCase();
  if (!needle) return true;
  return [session.title, session.summary, session.workingDirectory].some(
    (field) => field != null && field.toLocaleLowerCase().includes(needle),
  );
}

// /home/<user>, /Users/<user> and C:\Users\<user>: a home folder when we are not told which one is ours.
const HOME_GUESS = /^(?:\/home\/[^/]+|\/Users\/[^/]+|[A-Za-z]:\\Users\\[^\\]+)(?=$|[\\/])/;

/** `path` with the home folder written as ~. Without `home`, guesses it from the usual places. */
export function shortenPath(path: string, home?: string | null): string {
  const root = home?.replace(/[\\/]+$/, "");
  if (root) {
    if (path === root) return "~";
    if (path.startsWith(`${root}/`) || path.startsWith(`${root}\\`)) return `~${path.slice(root.length)}`;
    return path;
  }
  return path.replace(HOME_GUESS, "~");
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/**
 * How long ago `timestamp` was, for people: "just now", "5 min. ago", "3 hr. ago", "yesterday", "3 days ago",
 * then a date ("Mar 4", "Mar 4, 2023"). Words from Intl for `locale` (the user's when undefined).
 */
export function formatLastActivity(timestamp: string, now: Date = new Date(), locale?: string): string {
  const then = new Date(timestamp);
  if (Number.isNaN(then.getTime())) return "";
  const elapsed = now.getTime() - then.getTime();
  // Clocks disagree a little: the future is "just now" too.
  if (elapsed < MINUTE) return "just now";

  const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
  if (elapsed < HOUR) return relative.format(-Math.floor(elapsed / MINUTE), "minute");

  const days = Math.round((startOfDay(now) - startOfDay(then)) / DAY);
  if (days === 0) return relative.format(-Math.floor(elapsed / HOUR), "hour");
  if (days < 7) return relative.format(-days, "day");

  const sameYear = then.getFullYear() === now.getFullYear();
  return new Intl.DateTimeFormat(locale, {
    month: "short",
    day: "numeric",
    year: sameYear ? undefined : "numeric",
  }).format(then);
}

export class SessionList {
  /** Stored sessions, newest first. */
  sessions = $state.raw<SessionSummary[]>([]);
  selectedId = $state<string | null>(null);
  /** A load is on its way. */
  loading = $state(false);
  /** The list has been loaded at least once (so an empty list means there are no sessions). */
  loaded = $state(false);
  /** Why the last load failed (the Backend's message), or null. */
  error = $state<string | null>(null);

  readonly #backend: Backend;
  #generation = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The selected session, or null. */
  get selected(): SessionSummary | null {
    return this.sessions.find((session) => session.id === this.selectedId) ?? null;
  }

  /** Loads the list (again). A failure keeps what was shown and sets `error`. */
  async refresh(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const sessions = await this.#backend.listSessions();
      if (generation !== this.#generation) return;
      this.sessions = sessions;
      this.loaded = true;
      this.error = null;
      if (this.selectedId !== null && !sessions.some((session) => session.id === this.selectedId)) {
        this.selectedId = null;
      }
    } catch (error) {
      if (generation === this.#generation) this.error = describeError(error);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** Forget the list (the app switched to another CLI, whose sessions are others): empty until the next load. */
  clear(): void {
    this.#generation++;
    this.sessions = [];
    this.selectedId = null;
    this.loaded = false;
    this.loading = false;
    this.error = null;
  }

  /** The first load; the same as `refresh`. */
  load(): Promise<void> {
    return this.refresh();
  }

  select(sessionId: string | null): void {
    this.selectedId = sessionId;
  }

  /** Starts a session, puts it first and selects it. Rejects with the Backend's error. */
  async create(request: NewSession): Promise<SessionSummary> {
    const session = await this.#backend.createSession(request);
    this.sessions = [session, ...this.sessions.filter((existing) => existing.id !== session.id)];
    this.loaded = true;
    this.selectedId = session.id;
    return session;
  }

  /** Names a session. Rejects with the Backend's error (the old title stays). */
  async rename(sessionId: string, title: string): Promise<void> {
    await this.#backend.rename(sessionId, title);
    this.applyTitle(sessionId, title);
  }

  /** Deletes a session; if it was selected, nothing is. Rejects with the Backend's error (it stays). */
  async delete(sessionId: string): Promise<void> {
    await this.#backend.deleteSession(sessionId);
    this.sessions = this.sessions.filter((session) => session.id !== sessionId);
    if (this.selectedId === sessionId) this.selectedId = null;
  }

  /** A title that changed elsewhere (the agent named the session): show it without asking Rust. */
  applyTitle(sessionId: string, title: string): void {
    this.sessions = this.sessions.map((session) => (session.id === sessionId ? { ...session, title } : session));
  }
}
