// The chat window's state in one place: the connection, the session list and its search, the prompt queue, the
// models, and the one open session (its transcript fed by the Backend's live channel). App.svelte lays it out;
// this class decides what happens when the user selects, creates, sends, stops or deletes, and when the CLI reconnects.

import {
  describeError,
  type Backend,
  type ChatEvent,
  type ConnectionState,
  type ConnectionTarget,
  type ModelInfo,
  type NewSession,
} from "../backend";
import { ConnectionMonitor } from "../connection.svelte";
import { sameTarget } from "../connection-text";
import { PlanReviewQueue } from "./plan-reviews.svelte";
import { DraftAttachments } from "./attachments.svelte";
import { PromptQueue } from "./prompts.svelte";
import { SessionQueue } from "./queue.svelte";
import { SessionSearch } from "./search.svelte";
import { SessionList } from "./sessions.svelte";
import { openSessionTranscript, type OpenTranscript, type SessionTranscript } from "./transcript.svelte";
import { CLI_RESTARTED } from "./transcript.svelte";

export interface OpenSession {
  id: string;
  transcript: SessionTranscript;
  /**
   * The transcript is the session's last screen from its journal, shown while the CLI resumes the session: read-only
   * (nothing can be sent yet), and replaced by the whole history when that arrives.
   */
  provisional?: boolean;
}

/** Why the composer waits while a session's last screen shows and the rest of it loads. */
export const LOADING_REASON = "Loading the rest of this session…";

/** The open session's model: what the CLI said, or what the user just picked. */
class SessionModel {
  value = $state<string | null>(null);
  error = $state<string | null>(null);
}

/** Why the composer cannot send now, or null when it can. */
export function sendBlockedReason(state: ConnectionState): string | null {
  switch (state.state) {
    case "connected":
      return null;
    case "connecting":
      return state.target.kind === "server"
        ? `Connecting to the Copilot CLI server at ${state.target.address}…`
        : "Waiting for the Copilot CLI to start…";
    case "restarting":
      return state.target.kind === "server"
        ? `Reconnecting to ${state.target.address}; your message will be kept until it is back.`
        : "The Copilot CLI is restarting; your message will be kept until it is back.";
    case "failed":
      return "The Copilot CLI is not running. Use Retry in the status bar.";
    case "stopped":
      return "The Copilot CLI has stopped.";
  }
}

let localEvents = 0;

/** End the transcript's open turn (if any) as the CLI would with `session.idle`, after an error if given. */
function endTurn(transcript: SessionTranscript, error?: { errorType: string; message: string }): void {
  if (!transcript.running) return;
  const timestamp = new Date().toISOString();
  const events: ChatEvent[] = [];
  if (error) events.push({ id: `local-${++localEvents}`, timestamp, kind: { type: "sessionError", ...error } });
  events.push({ id: `local-${++localEvents}`, timestamp, kind: { type: "idle" } });
  transcript.apply(events);
}

export class ChatState {
  readonly connection: ConnectionMonitor;
  readonly sessions: SessionList;
  /** The sidebar's search over the sessions' titles and messages. */
  readonly search: SessionSearch;
  readonly prompts: PromptQueue;
  /** The agents' requests to leave plan mode (AgentControls shows the open session's). */
  readonly planReviews: PlanReviewQueue;
  models = $state.raw<ModelInfo[]>([]);
  /** The model new sessions use; the first listed until the user picks one. */
  model = $state<string | null>(null);
  open = $state.raw<OpenSession | null>(null);
  /** Opening the selected session failed: what to tell the user. */
  openError = $state<string | null>(null);
  opening = $state(false);
  /** The open session's model, shown (and changed) in the composer. */
  readonly openModel = new SessionModel();
  /** The attachments of the message being written. */
  readonly draft: DraftAttachments;
  /** The open session's queued messages. */
  queue = $state.raw<SessionQueue | null>(null);

  readonly #backend: Backend;
  #opened: OpenTranscript | null = null;
  #openSeq = 0;
  /** The CLI whose sessions are shown (the last one connected): another one has other sessions. */
  #connectedTo: ConnectionTarget | null = null;

  constructor(backend: Backend) {
    this.#backend = backend;
    this.connection = new ConnectionMonitor(backend);
    this.sessions = new SessionList(backend);
    this.search = new SessionSearch(backend, this.sessions);
    this.prompts = new PromptQueue(backend);
    this.planReviews = new PlanReviewQueue(backend);
    this.draft = new DraftAttachments(backend);
  }

  get blockedReason(): string | null {
    return sendBlockedReason(this.connection.current) ?? (this.open?.provisional ? LOADING_REASON : null);
  }

  async start(): Promise<void> {
    await Promise.all([this.connection.start(), this.prompts.start(), this.planReviews.start()]);
  }

  stop(): void {
    this.connection.stop();
    this.prompts.stop();
    this.planReviews.stop();
    this.search.dispose();
    void this.#closeOpen();
  }

  /**
   * Follow the connection: load what needs the CLI when it (re)connects; end a turn the CLI lost. Back on the same
   * CLI, the open session reloads in place. Another CLI (the user switched in Settings) has other sessions: as
   * soon as the connection names it, the open session closes and the list empties, and its list loads once it is
   * connected.
   */
  async connectionChanged(state: ConnectionState): Promise<void> {
    if (state.state === "stopped") return;
    const previous = this.#connectedTo;
    if (previous !== null && !sameTarget(previous, state.target)) {
      this.#connectedTo = null;
      this.#openSeq++;
      this.openError = null;
      this.sessions.clear();
      await this.#closeOpen();
    }
    if (state.state === "connected") {
      const reconnected = this.#connectedTo !== null;
      this.#connectedTo = state.target;
      await Promise.all([this.sessions.refresh(), this.#loadModels()]);
      if (reconnected && this.open) await this.#reopen();
    } else if (state.state === "restarting" && this.open?.transcript.running) {
      const message =
        state.target.kind === "server"
          ? `The connection to the Copilot CLI server at ${state.target.address} was lost. This reply was cut short; send your message again once it is back.`
          : "The Copilot CLI stopped unexpectedly and is restarting. This reply was cut short; send your message again once it is back.";
      endTurn(this.open.transcript, { errorType: CLI_RESTARTED, message });
    }
  }

  async #loadModels(): Promise<void> {
    try {
      this.models = await this.#backend.models();
      if (!this.model || !this.models.some((m) => m.id === this.model)) this.model = this.models[0]?.id ?? null;
    } catch {
      this.models = [];
    }
  }

  /** Show `sessionId`: its history, then its live events. */
  async select(sessionId: string): Promise<void> {
    if (this.open?.id === sessionId && !this.openError) {
      this.sessions.select(sessionId);
      return;
    }
    this.sessions.select(sessionId);
    await this.#show(sessionId);
  }

  /**
   * Open `sessionId` and show it. Switching sessions clears the view first; reloading the one on screen
   * (`inPlace`) keeps the old transcript up until the new one is ready, so the composer, and whatever the user
   * is typing in it, stays where it is.
   */
  async #show(sessionId: string, inPlace = false): Promise<void> {
    const seq = ++this.#openSeq;
    if (!inPlace) await this.#closeOpen();
    this.opening = !inPlace;
    this.openError = null;
    try {
      const opened = await openSessionTranscript(this.#backend, sessionId, {
        // What the open session said in that turn may match what the sidebar searches for.
        onTurnEnded: () => {
          if (seq === this.#openSeq) this.search.refresh();
        },
        // Reloading in place keeps the old transcript up instead.
        onProvisional: inPlace
          ? undefined
          : (provisional) => {
              if (seq !== this.#openSeq) return;
              // A tail always ends mid-turn, as a history does; what runs now shows once the session is live.
              endTurn(provisional);
              this.open = { id: sessionId, transcript: provisional, provisional: true };
            },
      });
      if (seq !== this.#openSeq) {
        await opened.close();
        return;
      }
      // The CLI stores no idle event: a history always looks mid-turn. It is at rest until new events say otherwise.
      endTurn(opened.transcript);
      // A reply the CLI's exit cut short is in no history: it stays on screen, marked.
      if (inPlace && this.open?.id === sessionId) opened.transcript.keepCutShort(this.open.transcript);
      // In place, the old transcript is simply dropped: opening the session again replaced its channel in Rust,
      // and closing it would close the session's new channel too.
      this.#opened = opened;
      this.open = { id: sessionId, transcript: opened.transcript };
      if (this.queue === null || !inPlace) this.queue = new SessionQueue(this.#backend, sessionId);
      void this.queue.refresh();
      void this.#loadSessionModel(sessionId, seq);
    } catch (error) {
      if (seq === this.#openSeq && !inPlace) {
        // The last screen may be up: it goes, and the error says why nothing more came.
        this.open = null;
        this.openError = describeError(error);
      }
    } finally {
      if (seq === this.#openSeq) this.opening = false;
    }
  }

  /** After the CLI came back: load the open session again, so what it stored while we were away shows. */
  async #reopen(): Promise<void> {
    const id = this.open?.id;
    if (id) await this.#show(id, true);
  }

  async #loadSessionModel(sessionId: string, seq: number): Promise<void> {
    this.openModel.error = null;
    this.openModel.value = null;
    try {
      const model = await this.#backend.sessionModel(sessionId);
      if (seq === this.#openSeq) this.openModel.value = model;
    } catch {
      // Not fatal: the picker shows the default until the user picks one.
    }
  }

  /** The user picked another model for the open session. */
  async chooseModel(model: string | null): Promise<void> {
    const open = this.open;
    if (!open || !model || model === this.openModel.value) return;
    const previous = this.openModel.value;
    this.openModel.value = model;
    this.openModel.error = null;
    try {
      await this.#backend.setSessionModel(open.id, model);
    } catch (error) {
      if (this.open?.id !== open.id) return;
      this.openModel.value = previous;
      this.openModel.error = `Could not switch the model: ${describeError(error)}`;
    }
  }

  async #closeOpen(): Promise<void> {
    const opened = this.#opened;
    this.#opened = null;
    this.open = null;
    this.queue = null;
    if (opened) {
      try {
        await opened.close();
      } catch {
        // The CLI or the window went away: nothing left to stop.
      }
    }
  }

  async create(request: NewSession): Promise<void> {
    const created = await this.sessions.create(request);
    await this.select(created.id);
  }

  /**
   * Send `text` with the draft's attachments: at once when the session is idle, queued behind the running turn
   * otherwise, or (`steer`) into the running turn. The attachments go once the message went.
   */
  async send(text: string, steer = false): Promise<void> {
    const open = this.open;
    if (!open) throw new Error("No session is open.");
    if (open.provisional) throw new Error(LOADING_REASON);
    await this.#backend.deliver(open.id, text, this.draft.items, steer ? "steer" : "queue");
    this.draft.clear();
    void this.queue?.refresh();
  }

  /** Show the open session again from its history (after a rewind changed it), keeping the composer. */
  async reload(): Promise<void> {
    await this.#reopen();
  }

  /** A new session with the open one's history before the user message `eventId`, opened. */
  async fork(eventId: string): Promise<void> {
    const open = this.open;
    if (!open) return;
    const fork = await this.#backend.forkSession(open.id, eventId);
    await this.sessions.refresh();
    await this.select(fork.id);
  }

  async abort(): Promise<void> {
    const open = this.open;
    if (open) await this.#backend.abort(open.id);
  }

  async delete(sessionId: string): Promise<void> {
    if (this.open?.id === sessionId) {
      this.#openSeq++;
      await this.#closeOpen();
    }
    await this.sessions.delete(sessionId);
  }

  /** The open session got a title from the CLI: show it in the sidebar too. */
  titleChanged(): void {
    const open = this.open;
    const title = open?.transcript.title;
    if (open && title) this.sessions.applyTitle(open.id, title);
  }
}
