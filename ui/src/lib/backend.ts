// The one door from the webview to Rust. Owns the `Backend` interface the UI is written against, its Tauri
// implementation over the generated bindings in ./bindings.ts, error normalisation, and how components get
// a Backend (a Svelte context, so tests mount components with a fake). Nothing else in src/ imports ./bindings or
// @tauri-apps/* (src/lib/boundary.test.ts enforces it): when the generated bindings change, only this adapts.

import { Channel, invoke, isTauri } from "@tauri-apps/api/core";
import { getContext } from "svelte";
import {
  commands,
  type AccountSource,
  type AgentDraft,
  type AgentPreview,
  type AgentScope,
  type AgentSummary,
  type AccountView,
  type AppError,
  type AttachOutcome,
  type Attachment,
  type AuthStatus,
  type ChatEvent,
  type ChatEventKind,
  type CleanupOutcome,
  type CleanupPreview,
  type CliMode,
  type CliSettings,
  type CliView,
  type ConnectionState,
  type ConnectionTarget,
  type Delivery,
  type ExportFormat,
  type McpAction,
  type McpEntry,
  type McpOverview,
  type McpServerDraft,
  type McpServerSpec,
  type McpTool,
  type McpUserServer,
  type DiscoveredServer,
  type SessionMcp,
  type SessionMcpServer,
  type MenuAction,
  type ModelInfo,
  type NewProjectApproval,
  type NewSession,
  type PermissionAnswer,
  type PermissionPrompt,
  type PromptDetails,
  type Problem,
  type PromptEvent,
  type ProviderConfig,
  type QueueState,
  type QueuedMessage,
  type RewindMode,
  type RewindOutcome,
  type RewindPreview,
  type ProviderType,
  type ProjectApproval,
  type RulesOverview,
  type ServerAddress,
  type ServerCheck,
  type SentAttachment,
  type ServerInfo,
  type SessionAgents,
  type SessionMatch,
  type SessionSummary,
  type SettingsView,
  type SignInStart,
  type SkillSummary,
  type SignInState,
  type SnippetPart,
  type UpdatePhase,
  type UpdateView,
  type ToolRule,
  type UserAnswer,
  type UserQuestion,
  type WireApi,
  type AgentMode,
  type CompactOutcome,
  type ContextBreakdown,
  type ModelEfforts,
  type PlanDecision,
  type PlanReview,
  type PlanReviewEvent,
  type SessionPlan,
} from "./bindings";

export type {
  McpAction,
  McpEntry,
  McpOverview,
  McpServerDraft,
  McpServerSpec,
  McpTool,
  McpUserServer,
  DiscoveredServer,
  SessionMcp,
  SessionMcpServer,
  AccountSource,
  AgentDraft,
  AgentPreview,
  AgentScope,
  AgentSummary,
  AccountView,
  AppError,
  AttachOutcome,
  Attachment,
  Delivery,
  ExportFormat,
  QueueState,
  QueuedMessage,
  RewindMode,
  RewindOutcome,
  RewindPreview,
  SentAttachment,
  AuthStatus,
  ChatEvent,
  ChatEventKind,
  CleanupOutcome,
  CleanupPreview,
  CliMode,
  CliSettings,
  CliView,
  ConnectionState,
  ConnectionTarget,
  MenuAction,
  ModelInfo,
  NewProjectApproval,
  NewSession,
  PermissionAnswer,
  PermissionPrompt,
  PromptDetails,
  Problem,
  PromptEvent,
  ProviderConfig,
  ProviderType,
  ProjectApproval,
  RulesOverview,
  ServerAddress,
  ServerCheck,
  ServerInfo,
  SessionAgents,
  SessionMatch,
  SessionSummary,
  SettingsView,
  SkillSummary,
  SnippetPart,
  SignInStart,
  SignInState,
  UpdatePhase,
  UpdateView,
  ToolRule,
  UserAnswer,
  UserQuestion,
  WireApi,
  AgentMode,
  CompactOutcome,
  ContextBreakdown,
  ModelEfforts,
  PlanDecision,
  PlanReview,
  PlanReviewEvent,
  SessionPlan,
};

/** An open session: its stored history, and `close` to stop its live events. */
export interface OpenedSession {
  /** All of the stored history, or, when `afterJournal`, what follows the history that went to `onJournal`. */
  history: ChatEvent[];
  /** Whether `history` continues what `onJournal` was given, which stands (it was, before this resolved). */
  afterJournal: boolean;
  close(): Promise<void>;
}

/** Everything the UI may ask of Rust. */
export interface Backend {
  /** The Copilot CLI connection as it is now. */
  connection(): Promise<ConnectionState>;
  /** Calls `onState` with every later connection change; resolves to a function that stops the calls. */
  onConnection(onState: (state: ConnectionState) => void): Promise<() => void>;
  /** Asks Rust to start the CLI again after it failed. */
  retry(): Promise<void>;
  /** Calls `onAction` with every app menu action chosen (or its accelerator pressed); resolves to a function that stops the calls. */
  onMenu(onAction: (action: MenuAction) => void): Promise<() => void>;

  /** Stored sessions, newest first. */
  listSessions(): Promise<SessionSummary[]>;
  /**
   * Stored sessions whose messages contain `query` (any case), each with a snippet around its first hit, in no
   * particular order. Rejects with code "search_unavailable" when the CLI is a server on another machine, and
   * "search_superseded" when a newer search started before this one finished.
   */
  searchSessions(query: string): Promise<SessionMatch[]>;
  createSession(request: NewSession): Promise<SessionSummary>;
  /**
   * The last screen of a stored session, read from its journal on disk while `openSession` resumes it (oldest
   * first): provisional, to show read-only until the history arrives, which replaces it. Null when there is no
   * journal to read here (the CLI is a server on another machine, or the session is unknown).
   */
  sessionTail(sessionId: string): Promise<ChatEvent[] | null>;
  /**
   * Opens a session: resolves to its stored history and calls `onEvents` with each later batch of events.
   * A batch may repeat events already in the history (same `id`); keep the first.
   *
   * A session resumed now whose journal is on this machine may hand its history over in two parts: `onJournal`
   * gets the journal's history while the CLI resumes the session (at most once, and only before this resolves),
   * and, when the CLI confirms it, this resolves with `afterJournal` and only what follows it. Otherwise it
   * resolves with all of the history, which replaces whatever went to `onJournal`.
   */
  openSession(
    sessionId: string,
    onEvents: (batch: ChatEvent[]) => void,
    onJournal: (history: ChatEvent[]) => void,
  ): Promise<OpenedSession>;
  send(sessionId: string, text: string): Promise<void>;
  /** Stops the running turn. */
  abort(sessionId: string): Promise<void>;
  rename(sessionId: string, title: string): Promise<void>;
  deleteSession(sessionId: string): Promise<void>;
  models(): Promise<ModelInfo[]>;
  /** The model a session runs on (null when the CLI does not say). */
  sessionModel(sessionId: string): Promise<string | null>;
  /** Switches a session to another model from its next turn on. */
  setSessionModel(sessionId: string, model: string): Promise<void>;
  account(): Promise<AuthStatus>;

  /** Calls `onEvent` with every pending prompt, then every change; resolves to a function that stops the calls. */
  onPrompts(onEvent: (event: PromptEvent) => void): Promise<() => void>;
  decide(requestId: string, answer: PermissionAnswer): Promise<void>;
  answer(requestId: string, answer: UserAnswer): Promise<void>;

  /** Opens an http(s) or mailto link in the system browser (ask the user first). */
  openLink(url: string): Promise<void>;
  /** The native folder picker; `null` when cancelled. */
  pickFolder(): Promise<string | null>;
  defaultWorkingDirectory(): Promise<string>;

  /** Who is signed in and how (never a token). */
  getAccount(): Promise<AccountView>;
  /** Calls `onAccount` with the account now and after every change; resolves to a function that stops the calls. */
  onAccount(onAccount: (view: AccountView) => void): Promise<() => void>;
  /**
   * Starts GitHub's device flow for `host`: resolves to the code to show, and calls `onProgress` with each
   * later state until the flow ends (signed in, failed, or waiting for the no-keychain choice).
   */
  startSignIn(host: string, onProgress: (state: SignInState) => void): Promise<SignInStart>;
  /** Stops the running sign-in (and drops a token that waited for the no-keychain choice). */
  cancelSignIn(): Promise<void>;
  /** Opens the running sign-in's verification page in the system browser. */
  openVerificationUri(): Promise<void>;
  /** The user's explicit choice without a keychain: keep the token in memory for this run only. */
  keepTokenInMemory(): Promise<void>;
  /** Forgets the app's token (the keychain entry too); the CLI restarts signed out. */
  signOut(): Promise<void>;
  getSettings(): Promise<SettingsView>;
  /** Saves the provider; `apiKey` goes straight to the keychain (`null` keeps the stored key). */
  saveProvider(settings: ProviderConfig, apiKey: string | null): Promise<SettingsView>;
  /** Removes the provider and its stored key. */
  clearProvider(): Promise<SettingsView>;
  /**
   * Chooses the Copilot CLI (the bundled one or a server) and switches the running app to it. `token`, when given,
   * goes straight to the keychain as the server's connection token (null keeps the stored one); `forgetToken`
   * removes it.
   */
  saveCliSettings(settings: CliSettings, token: string | null, forgetToken: boolean): Promise<SettingsView>;
  /**
   * Connects to `server` (with `token`, or the one stored for it) without switching to it: its CLI and protocol
   * version, or a rejection whose code says why (server_refused, server_token_rejected, server_not_copilot, ...).
   */
  testCliServer(server: ServerAddress, token: string | null): Promise<ServerCheck>;
  /** The sessions not used for `days` days, as the CLI dates them (never one open in the app). */
  previewSessionCleanup(days: number): Promise<CleanupPreview>;
  /** Deletes the confirmed sessions that are still not used for `days` days. */
  cleanUpSessions(days: number, sessionIds: string[]): Promise<CleanupOutcome>;

  /** Calls `onView` with the app's update state now and after every change; resolves to a function that stops the calls. */
  onUpdates(onView: (view: UpdateView) => void): Promise<() => void>;
  /** Checks the release feed now (the user asked). */
  checkForUpdates(): Promise<UpdateView>;
  /** Downloads the update the last check found and verifies its signature (progress arrives through onUpdates). */
  downloadUpdate(): Promise<UpdateView>;
  /** Installs the downloaded update and restarts into it; resolves only when that failed (the view says why). */
  installUpdate(): Promise<UpdateView>;
  /** Turns the daily automatic check on or off. */
  setCheckAutomatically(on: boolean): Promise<UpdateView>;

  // The composer: queue and steer, attachments (src-tauri/src/commands/composer.rs).
  /** Sends `text` with `attachments`: queued behind a running turn (at once when idle), or steering it. */
  deliver(sessionId: string, text: string, attachments: Attachment[], delivery: Delivery): Promise<void>;
  /** The messages waiting in a session's queue, and steering messages not read yet. */
  queuedMessages(sessionId: string): Promise<QueueState>;
  editQueued(sessionId: string, itemId: string, text: string): Promise<void>;
  removeQueued(sessionId: string, itemId: string): Promise<void>;
  /** Steers the running turn with a queued message; false when no turn ran (it stays queued). */
  sendQueuedNow(sessionId: string, itemId: string): Promise<boolean>;
  /** The native picker: files, or one folder; an empty outcome when cancelled. */
  pickAttachments(folder: boolean): Promise<AttachOutcome>;
  /** Image bytes (base64) from the clipboard, checked and made an attachment. */
  attachImage(name: string, data: string): Promise<Attachment>;
  /** The image on the system clipboard (Linux, where paste events carry none), named `name`; null when there is none. */
  pasteClipboardImage(name: string): Promise<Attachment | null>;
  /** Calls `onDrop` with what came of every drop of files on the window; resolves to a function that stops the calls. */
  onDrop(onDrop: (outcome: AttachOutcome) => void): Promise<() => void>;

  // A session's history: rewind, fork, export (src-tauri/src/commands/history.rs).
  /** What rewinding to just before the user message `eventId` would restore (or why files cannot be). */
  previewRewind(sessionId: string, eventId: string): Promise<RewindPreview>;
  /** Takes the session back to just before `eventId`; with "conversationAndFiles" its files too. */
  rewind(sessionId: string, eventId: string, mode: RewindMode): Promise<RewindOutcome>;
  /** A new session with the history before `eventId`. */
  forkSession(sessionId: string, eventId: string): Promise<SessionSummary>;
  /** Asks where with the native save dialog and writes the export there; the path, or null when cancelled. */
  exportSession(sessionId: string, format: ExportFormat): Promise<string | null>;
  /** The user's MCP servers and every server the CLI knows for `workingDirectory` ("" for its default). */
  mcpOverview(workingDirectory: string): Promise<McpOverview>;
  /** Adds or changes a server; values marked secret go to the keychain. */
  saveMcpServer(draft: McpServerDraft): Promise<void>;
  removeMcpServer(name: string): Promise<void>;
  setMcpServerEnabled(name: string, enabled: boolean): Promise<void>;
  /** The MCP servers of a session and their state, and whether the account's policy allows third-party servers. */
  sessionMcpServers(sessionId: string): Promise<SessionMcp>;
  sessionMcpTools(sessionId: string, server: string): Promise<McpTool[]>;
  controlMcpServer(sessionId: string, server: string, action: McpAction): Promise<void>;

  // Standing permission rules (Settings → Permissions). Each change resolves to every rule as stored afterwards.
  /** Every standing rule, read from where it is stored (the CLI's files, the app's deny rules). */
  rulesOverview(): Promise<RulesOverview>;
  /** Allows a command (or reads, writes, memory) in a project folder; stored by the CLI's rules file. */
  addProjectRule(rule: NewProjectApproval): Promise<RulesOverview>;
  removeProjectRule(rule: ProjectApproval): Promise<RulesOverview>;
  /** Allows (`allowed`) or denies a URL or domain without asking; the CLI's settings.json. */
  addUrlRule(pattern: string, allowed: boolean): Promise<RulesOverview>;
  removeUrlRule(pattern: string, allowed: boolean): Promise<RulesOverview>;
  removeTrustedFolder(folder: string): Promise<RulesOverview>;
  /** Denies a tool (and argument) in every session, open ones included. */
  addDenyRule(rule: ToolRule): Promise<RulesOverview>;
  removeDenyRule(rule: ToolRule): Promise<RulesOverview>;

  // Custom agents and skills (the "Agents & skills" dialog of a session).
  /** The agents a session can use (read again from their folders) and the one it uses; null current: the default. */
  sessionAgents(sessionId: string): Promise<SessionAgents>;
  /** Uses the agent `name` for the session's next turns; null goes back to the default agent. */
  selectAgent(sessionId: string, name: string | null): Promise<SessionAgents>;
  /** The agent file `draft` would become, and its path; rejects with what is wrong with the draft. */
  previewAgent(draft: AgentDraft): Promise<AgentPreview>;
  /** Writes the agent file (`replace` when editing one); resolves to its path. */
  saveAgent(draft: AgentDraft, replace: boolean): Promise<string>;
  /** An agent file the CLI listed, read into the form. */
  readAgent(path: string): Promise<AgentDraft>;
  sessionSkills(sessionId: string): Promise<SkillSummary[]>;
  setSkillEnabled(sessionId: string, name: string, enabled: boolean): Promise<SkillSummary[]>;
  /** Opens the folder of a skill the session lists in the system's file manager. */
  openSkillFolder(sessionId: string, name: string): Promise<void>;

  /** The mode a session is in (interactive, plan, autopilot). */
  sessionMode(sessionId: string): Promise<AgentMode>;
  setSessionMode(sessionId: string, mode: AgentMode): Promise<void>;
  /** The session's plan (plan.md), as it is now. */
  sessionPlan(sessionId: string): Promise<SessionPlan>;
  /** Calls `onEvent` with every pending plan review, then every change; resolves to a function that stops the calls. */
  onPlanReviews(onEvent: (event: PlanReviewEvent) => void): Promise<() => void>;
  decidePlan(requestId: string, decision: PlanDecision): Promise<void>;
  /** The models that let the user choose a reasoning effort. */
  modelEfforts(): Promise<ModelEfforts[]>;
  /** A session's reasoning effort, when one is set. */
  sessionEffort(sessionId: string): Promise<string | null>;
  setSessionEffort(sessionId: string, effort: string): Promise<void>;
  /** What fills a session's context window; null before its first turn. */
  contextBreakdown(sessionId: string): Promise<ContextBreakdown | null>;
  /** Compacts a session's history now ("nothingToCompact" is an answer, not a failure). */
  compactSession(sessionId: string, instructions: string | null): Promise<CompactOutcome>;
}

/** A command failed; `code` is what the UI branches on, `message` is for people. */
export class BackendError extends Error {
  readonly code: string;

  constructor(error: AppError) {
    super(error.message);
    this.name = "BackendError";
    this.code = error.code;
  }
}

/**
 * Commands reject with an `AppError`, but Tauri itself rejects with a plain string (unknown command,
 * denied by a capability, bad arguments). Both become an `AppError`; the latter with code "ipc".
 */
export function toAppError(error: unknown): AppError {
  if (typeof error === "object" && error !== null) {
    const { code, message } = error as Partial<AppError>;
    if (typeof code === "string" && typeof message === "string") return { code, message };
  }
  return { code: "ipc", message: typeof error === "string" ? error : String(error) };
}

/** A short, human-readable reason for any failure a Backend call can produce. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return toAppError(error).message;
}

// The shape every generated command resolves to (tauri-specta's default error mode).
type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: unknown };

async function unwrap<T>(call: Promise<CommandResult<T>>): Promise<T> {
  const result = await call;
  if (result.status === "ok") return result.data;
  throw new BackendError(toAppError(result.error));
}

// Opened in a plain browser (vite dev outside the app), say so instead of failing deep inside invoke.
function requireTauri(): void {
  if (!isTauri()) throw new BackendError({ code: "no_tauri", message: "Not running inside Copilot Desktop" });
}

/** The real Backend: Tauri commands and channels. */
export function createTauriBackend(): Backend {
  return {
    async connection() {
      requireTauri();
      return unwrap(commands.getConnection());
    },

    async onConnection(onState) {
      requireTauri();
      const channel = new Channel<ConnectionState>(onState);
      await unwrap(commands.watchConnection(channel));
      // Rust keeps the sender; dropping our handler is enough to stop the calls.
      return () => {
        channel.onmessage = () => {};
      };
    },

    async retry() {
      requireTauri();
      await unwrap(commands.retryConnection());
    },

    async onMenu(onAction) {
      requireTauri();
      const channel = new Channel<MenuAction>(onAction);
      await unwrap(commands.watchMenu(channel));
      return () => {
        channel.onmessage = () => {};
      };
    },

    async listSessions() {
      requireTauri();
      return unwrap(commands.listSessions());
    },

    async searchSessions(query) {
      requireTauri();
      return unwrap(commands.searchSessions(query));
    },

    async createSession(request) {
      requireTauri();
      return unwrap(commands.createSession(request));
    },

    async sessionTail(sessionId) {
      requireTauri();
      return unwrap(commands.sessionTail(sessionId));
    },

    async openSession(sessionId, onEvents, onJournal) {
      requireTauri();
      const channel = new Channel<ChatEvent[]>(onEvents);
      // The journal's message and the command's answer cross by different ways, in either order: an answer that
      // follows the journal waits for it, so `onJournal` has always run when this resolves.
      let journalIn = false;
      let journalArrived = () => {};
      const journalReceived = new Promise<void>((resolve) => (journalArrived = resolve));
      const journal = new Channel<ChatEvent[]>((history) => {
        if (journalIn) return;
        journalIn = true;
        onJournal(history);
        journalArrived();
      });
      const { afterJournal, events } = await unwrap(commands.openSession(sessionId, channel, journal));
      if (afterJournal) await journalReceived;
      journal.onmessage = () => {};
      return {
        history: events,
        afterJournal,
        async close() {
          channel.onmessage = () => {};
          await unwrap(commands.closeSession(sessionId));
        },
      };
    },

    async send(sessionId, text) {
      requireTauri();
      await unwrap(commands.sendMessage(sessionId, text));
    },

    async abort(sessionId) {
      requireTauri();
      await unwrap(commands.abortTurn(sessionId));
    },

    async rename(sessionId, title) {
      requireTauri();
      await unwrap(commands.renameSession(sessionId, title));
    },

    async deleteSession(sessionId) {
      requireTauri();
      await unwrap(commands.deleteSession(sessionId));
    },

    async models() {
      requireTauri();
      return unwrap(commands.listModels());
    },

    async sessionModel(sessionId) {
      requireTauri();
      return unwrap(commands.sessionModel(sessionId));
    },

    async setSessionModel(sessionId, model) {
      requireTauri();
      await unwrap(commands.setSessionModel(sessionId, model));
    },

    async account() {
      requireTauri();
      return unwrap(commands.authStatus());
    },

    async onPrompts(onEvent) {
      requireTauri();
      const channel = new Channel<PromptEvent>(onEvent);
      await unwrap(commands.watchPrompts(channel));
      return () => {
        channel.onmessage = () => {};
      };
    },

    async decide(requestId, answer) {
      requireTauri();
      await unwrap(commands.decidePermission(requestId, answer));
    },

    async answer(requestId, answer) {
      requireTauri();
      await unwrap(commands.answerQuestion(requestId, answer));
    },

    async openLink(url) {
      requireTauri();
      await unwrap(commands.openLink(url));
    },

    async pickFolder() {
      requireTauri();
      return unwrap(commands.pickFolder());
    },

    async defaultWorkingDirectory() {
      requireTauri();
      return unwrap(commands.defaultWorkingDirectory());
    },

    async getAccount() {
      requireTauri();
      return unwrap(commands.getAccount());
    },

    async onAccount(onAccount) {
      requireTauri();
      const channel = new Channel<AccountView>(onAccount);
      await unwrap(commands.watchAccount(channel));
      return () => {
        channel.onmessage = () => {};
      };
    },

    async startSignIn(host, onProgress) {
      requireTauri();
      const channel = new Channel<SignInState>(onProgress);
      return unwrap(commands.startSignIn(host, channel));
    },

    async cancelSignIn() {
      requireTauri();
      await unwrap(commands.cancelSignIn());
    },

    async openVerificationUri() {
      requireTauri();
      await unwrap(commands.openVerificationUri());
    },

    async keepTokenInMemory() {
      requireTauri();
      await unwrap(commands.keepTokenInMemory());
    },

    async signOut() {
      requireTauri();
      await unwrap(commands.signOut());
    },

    async getSettings() {
      requireTauri();
      return unwrap(commands.getSettings());
    },

    async saveProvider(settings, apiKey) {
      requireTauri();
      return unwrap(commands.saveProviderSettings(settings, apiKey));
    },

    async clearProvider() {
      requireTauri();
      return unwrap(commands.clearProvider());
    },

    async saveCliSettings(settings, token, forgetToken) {
      requireTauri();
      return unwrap(commands.saveCliSettings(settings, token, forgetToken));
    },

    async testCliServer(server, token) {
      requireTauri();
      return unwrap(commands.testCliServer(server, token));
    },

    async previewSessionCleanup(days) {
      requireTauri();
      return unwrap(commands.previewSessionCleanup(days));
    },

    async cleanUpSessions(days, sessionIds) {
      requireTauri();
      return unwrap(commands.cleanUpSessions(days, sessionIds));
    },

    async onUpdates(onView) {
      requireTauri();
      const channel = new Channel<UpdateView>(onView);
      await unwrap(commands.watchUpdates(channel));
      return () => {
        channel.onmessage = () => {};
      };
    },

    async checkForUpdates() {
      requireTauri();
      return unwrap(commands.checkForUpdates());
    },

    async downloadUpdate() {
      requireTauri();
      return unwrap(commands.downloadUpdate());
    },

    async installUpdate() {
      requireTauri();
      return unwrap(commands.installUpdate());
    },

    async setCheckAutomatically(on) {
      requireTauri();
      return unwrap(commands.setCheckAutomatically(on));
    },

    async deliver(sessionId, text, attachments, delivery) {
      requireTauri();
      await unwrap(commands.deliverMessage(sessionId, text, attachments, delivery));
    },

    async queuedMessages(sessionId) {
      requireTauri();
      return unwrap(commands.queuedMessages(sessionId));
    },

    async editQueued(sessionId, itemId, text) {
      requireTauri();
      await unwrap(commands.editQueuedMessage(sessionId, itemId, text));
    },

    async removeQueued(sessionId, itemId) {
      requireTauri();
      await unwrap(commands.removeQueuedMessage(sessionId, itemId));
    },

    async sendQueuedNow(sessionId, itemId) {
      requireTauri();
      return unwrap(commands.sendQueuedNow(sessionId, itemId));
    },

    async pickAttachments(folder) {
      requireTauri();
      return unwrap(commands.pickAttachments(folder));
    },

    async attachImage(name, data) {
      requireTauri();
      return unwrap(commands.attachImage(name, data));
    },

    async pasteClipboardImage(name) {
      requireTauri();
      return unwrap(commands.pasteClipboardImage(name));
    },

    async previewRewind(sessionId, eventId) {
      requireTauri();
      return unwrap(commands.previewRewind(sessionId, eventId));
    },

    async rewind(sessionId, eventId, mode) {
      requireTauri();
      return unwrap(commands.rewindSession(sessionId, eventId, mode));
    },

    async forkSession(sessionId, eventId) {
      requireTauri();
      return unwrap(commands.forkSession(sessionId, eventId));
    },

    async exportSession(sessionId, format) {
      requireTauri();
      return unwrap(commands.exportSession(sessionId, format));
    },

    async onDrop(onDrop) {
      requireTauri();
      const channel = new Channel<AttachOutcome>(onDrop);
      await unwrap(commands.watchDrops(channel));
      return () => {
        channel.onmessage = () => {};
      };
    },

    async mcpOverview(workingDirectory) {
      requireTauri();
      return unwrap(commands.mcpOverview(workingDirectory));
    },

    async saveMcpServer(draft) {
      requireTauri();
      await unwrap(commands.saveMcpServer(draft));
    },

    async removeMcpServer(name) {
      requireTauri();
      await unwrap(commands.removeMcpServer(name));
    },

    async setMcpServerEnabled(name, enabled) {
      requireTauri();
      await unwrap(commands.setMcpServerEnabled(name, enabled));
    },

    async sessionMcpServers(sessionId) {
      requireTauri();
      return unwrap(commands.sessionMcpServers(sessionId));
    },

    async sessionMcpTools(sessionId, server) {
      requireTauri();
      return unwrap(commands.sessionMcpTools(sessionId, server));
    },

    async controlMcpServer(sessionId, server, action) {
      requireTauri();
      await unwrap(commands.controlMcpServer(sessionId, server, action));
    },

    async rulesOverview() {
      requireTauri();
      return unwrap(commands.rulesOverview());
    },

    async addProjectRule(rule) {
      requireTauri();
      return unwrap(commands.addProjectRule(rule));
    },

    async removeProjectRule(rule) {
      requireTauri();
      return unwrap(commands.removeProjectRule(rule));
    },

    async addUrlRule(pattern, allowed) {
      requireTauri();
      return unwrap(commands.addUrlRule(pattern, allowed));
    },

    async removeUrlRule(pattern, allowed) {
      requireTauri();
      return unwrap(commands.removeUrlRule(pattern, allowed));
    },

    async removeTrustedFolder(folder) {
      requireTauri();
      return unwrap(commands.removeTrustedFolder(folder));
    },

    async addDenyRule(rule) {
      requireTauri();
      return unwrap(commands.addDenyRule(rule));
    },

    async removeDenyRule(rule) {
      requireTauri();
      return unwrap(commands.removeDenyRule(rule));
    },

    async sessionAgents(sessionId) {
      requireTauri();
      return unwrap(commands.sessionAgents(sessionId));
    },

    async selectAgent(sessionId, name) {
      requireTauri();
      return unwrap(commands.selectAgent(sessionId, name));
    },

    async previewAgent(draft) {
      requireTauri();
      return unwrap(commands.previewAgent(draft));
    },

    async saveAgent(draft, replace) {
      requireTauri();
      return unwrap(commands.saveAgent(draft, replace));
    },

    async readAgent(path) {
      requireTauri();
      return unwrap(commands.readAgent(path));
    },

    async sessionSkills(sessionId) {
      requireTauri();
      return unwrap(commands.sessionSkills(sessionId));
    },

    async setSkillEnabled(sessionId, name, enabled) {
      requireTauri();
      return unwrap(commands.setSkillEnabled(sessionId, name, enabled));
    },

    async openSkillFolder(sessionId, name) {
      requireTauri();
      await unwrap(commands.openSkillFolder(sessionId, name));
    },

    async sessionMode(sessionId) {
      requireTauri();
      return unwrap(commands.sessionMode(sessionId));
    },

    async setSessionMode(sessionId, mode) {
      requireTauri();
      await unwrap(commands.setSessionMode(sessionId, mode));
    },

    async sessionPlan(sessionId) {
      requireTauri();
      return unwrap(commands.sessionPlan(sessionId));
    },

    async onPlanReviews(onEvent) {
      requireTauri();
      const channel = new Channel<PlanReviewEvent>(onEvent);
      await unwrap(commands.watchPlanReviews(channel));
      return () => {
        channel.onmessage = () => {};
      };
    },

    async decidePlan(requestId, decision) {
      requireTauri();
      await unwrap(commands.decidePlan(requestId, decision));
    },

    async modelEfforts() {
      requireTauri();
      return unwrap(commands.modelEfforts());
    },

    async sessionEffort(sessionId) {
      requireTauri();
      return unwrap(commands.sessionEffort(sessionId));
    },

    async setSessionEffort(sessionId, effort) {
      requireTauri();
      await unwrap(commands.setSessionEffort(sessionId, effort));
    },

    async contextBreakdown(sessionId) {
      requireTauri();
      return unwrap(commands.contextBreakdown(sessionId));
    },

    async compactSession(sessionId, instructions) {
      requireTauri();
      return unwrap(commands.compactSession(sessionId, instructions));
    },
  };
}

/** One message of the UI benchmark's floor: a batch like a session's, and when Rust sent it (ms since the epoch). */
export interface FloorTick {
  sentAtMs: number;
  events: ChatEvent[];
}

/**
 * For the UI benchmark's floor page (floor.html) only: Rust sends `text` as one message delta down a Channel after
 * `delayMs`. The command exists only in builds with the cargo feature `bench` (never a release bundle), so it is
 * not in the generated bindings; anywhere else this rejects.
 */
export async function benchChannelFloor(text: string, delayMs: number, onTick: (tick: FloorTick) => void): Promise<void> {
  requireTauri();
  const channel = new Channel<FloorTick>(onTick);
  try {
    await invoke("bench_channel_floor", { text, delayMs, onTick: channel });
  } catch (error) {
    throw new BackendError(toAppError(error));
  }
}

const BACKEND_KEY = Symbol("backend");

/** The context that hands `backend` to a component tree: main.ts mounts App with the Tauri one, tests with a fake. */
export function backendContext(backend: Backend): Map<symbol, Backend> {
  return new Map([[BACKEND_KEY, backend]]);
}

/** The Backend this component tree was mounted with. */
export function useBackend(): Backend {
  const backend = getContext<Backend | undefined>(BACKEND_KEY);
  if (!backend) throw new Error("No Backend in context: mount with { context: backendContext(backend) }.");
  return backend;
}
