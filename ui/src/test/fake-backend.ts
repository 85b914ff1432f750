// A Backend for UI tests: answers from memory, records calls, and lets a test push what Rust's channels
// would (connection states, session event batches, prompt events). No Tauri anywhere.

import { vi } from "vitest";
import type {
  AccountView,
  AuthStatus,
  Backend,
  ChatEvent,
  CleanupOutcome,
  CleanupPreview,
  CliSettings,
  ConnectionState,
  MenuAction,
  ModelInfo,
  NewSession,
  PromptEvent,
  ProviderConfig,
  ServerAddress,
  ServerCheck,
  SessionMatch,
  SessionSummary,
  SettingsView,
  SignInStart,
  SignInState,
  AgentMode,
  CompactOutcome,
  ContextBreakdown,
  ModelEfforts,
  PlanDecision,
  PlanReviewEvent,
  SessionPlan,
} from "../lib/backend";

/** Signed out of a connected CLI, sign-in configured: what a fresh install shows. */
export function signedOutAccount(overrides: Partial<AccountView> = {}): AccountView {
  return {
    source: "signedOut",
    host: "github.com",
    login: null,
    plan: null,
    envVar: null,
    provider: null,
    cliConnected: true,
    problem: null,
    keychainProblem: null,
    settingsNotice: null,
    signInAvailable: true,
    ...overrides,
  };
}

export class FakeBackend implements Backend {
  state: ConnectionState;
  readonly listeners = new Set<(state: ConnectionState) => void>();

  sessions: SessionSummary[] = [];
  /** Stored history per session id, returned by openSession. */
  histories = new Map<string, ChatEvent[]>();
  /** The live event listener of each open session. */
  readonly sessionListeners = new Map<string, (batch: ChatEvent[]) => void>();
  readonly promptListeners = new Set<(event: PromptEvent) => void>();
  modelList: ModelInfo[] = [{ id: "fake-model", name: "Fake Model" }];
  accountStatus: AuthStatus = { authenticated: true, login: "octocat", authType: "token", host: "github.com", message: null };
  accountView: AccountView = signedOutAccount();
  readonly accountListeners = new Set<(view: AccountView) => void>();
  settingsView: SettingsView = {
    githubHost: "github.com",
    provider: null,
    providerKeyStored: false,
    notice: null,
    signInAvailable: true,
    cli: { mode: "bundled", server: null, tokenStored: false, envServer: null, warning: null },
  };
  signInStart: SignInStart = { userCode: "WDJB-MJHT", verificationUri: "https://github.com/login/device", expiresIn: 900 };
  /** The progress listener of the running sign-in, as its channel would deliver. */
  signInListener: ((state: SignInState) => void) | undefined;

  constructor(state: ConnectionState = { state: "connecting", target: { kind: "bundled" } }) {
    this.state = state;
  }

  connection = vi.fn(async (): Promise<ConnectionState> => this.state);

  onConnection = vi.fn(async (onState: (state: ConnectionState) => void) => {
    this.listeners.add(onState);
    return () => {
      this.listeners.delete(onState);
    };
  });

  retry = vi.fn(async (): Promise<void> => {});

  readonly menuListeners = new Set<(action: MenuAction) => void>();

  onMenu = vi.fn(async (onAction: (action: MenuAction) => void) => {
    this.menuListeners.add(onAction);
    return () => {
      this.menuListeners.delete(onAction);
    };
  });

  /** What the app menu's channel would deliver. */
  chooseMenu(action: MenuAction): void {
    for (const listener of this.menuListeners) listener(action);
  }

  listSessions = vi.fn(async (): Promise<SessionSummary[]> => [...this.sessions]);

  /** Message text per session id, searched by searchSessions the way Rust does (any case, snippet around the first hit). */
  messages = new Map<string, string[]>();

  searchSessions = vi.fn(async (query: string): Promise<SessionMatch[]> => {
    const needle = query.trim().toLowerCase();
    if (!needle) return [];
    return [...this.messages].flatMap(([sessionId, texts]) => {
      const hits = texts.reduce((count, text) => count + text.toLowerCase().split(needle).length - 1, 0);
      const text = texts.find((candidate) => candidate.toLowerCase().includes(needle));
      if (!text) return [];
      const at = text.toLowerCase().indexOf(needle);
      const snippet = [
        { text: text.slice(0, at), hit: false },
        { text: text.slice(at, at + needle.length), hit: true },
        { text: text.slice(at + needle.length), hit: false },
      ].filter((part) => part.text !== "");
      return [{ sessionId, snippet, hits }];
    });
  });

  createSession = vi.fn(async (request: NewSession): Promise<SessionSummary> => {
    const now = new Date().toISOString();
    const summary: SessionSummary = {
      id: `session-${this.sessions.length + 1}`,
      title: null,
      summary: null,
      workingDirectory: request.workingDirectory,
      createdAt: now,
      modifiedAt: now,
    };
    this.sessions.unshift(summary);
    return summary;
  });

  /** The journal tail per session id, returned by sessionTail (none: null, as for a remote CLI server). */
  tails = new Map<string, ChatEvent[]>();

  sessionTail = vi.fn(async (sessionId: string): Promise<ChatEvent[] | null> => {
    const tail = this.tails.get(sessionId);
    return tail ? [...tail] : null;
  });

  openSession = vi.fn(async (sessionId: string, onEvents: (batch: ChatEvent[]) => void) => {
    this.sessionListeners.set(sessionId, onEvents);
    return {
      history: [...(this.histories.get(sessionId) ?? [])],
      close: async () => {
        this.sessionListeners.delete(sessionId);
      },
    };
  });

  send = vi.fn(async (_sessionId: string, _text: string): Promise<void> => {});
  abort = vi.fn(async (_sessionId: string): Promise<void> => {});

  rename = vi.fn(async (sessionId: string, title: string): Promise<void> => {
    const session = this.sessions.find((s) => s.id === sessionId);
    if (session) session.title = title;
  });

  deleteSession = vi.fn(async (sessionId: string): Promise<void> => {
    this.sessions = this.sessions.filter((s) => s.id !== sessionId);
  });

  models = vi.fn(async (): Promise<ModelInfo[]> => [...this.modelList]);
  account = vi.fn(async (): Promise<AuthStatus> => this.accountStatus);
  /** The model of each session, as session_model answers. */
  sessionModels = new Map<string, string>();
  sessionModel = vi.fn(async (sessionId: string): Promise<string | null> => this.sessionModels.get(sessionId) ?? null);
  setSessionModel = vi.fn(async (sessionId: string, model: string): Promise<void> => {
    this.sessionModels.set(sessionId, model);
  });

  onPrompts = vi.fn(async (onEvent: (event: PromptEvent) => void) => {
    this.promptListeners.add(onEvent);
    return () => {
      this.promptListeners.delete(onEvent);
    };
  });

  decide = vi.fn(async (): Promise<void> => {});
  answer = vi.fn(async (): Promise<void> => {});
  openLink = vi.fn(async (_url: string): Promise<void> => {});
  pickFolder = vi.fn(async (): Promise<string | null> => null);
  defaultWorkingDirectory = vi.fn(async (): Promise<string> => "/home/user");

  getAccount = vi.fn(async (): Promise<AccountView> => this.accountView);

  onAccount = vi.fn(async (onAccount: (view: AccountView) => void) => {
    this.accountListeners.add(onAccount);
    return () => {
      this.accountListeners.delete(onAccount);
    };
  });

  startSignIn = vi.fn(async (_host: string, onProgress: (state: SignInState) => void): Promise<SignInStart> => {
    this.signInListener = onProgress;
    return this.signInStart;
  });

  cancelSignIn = vi.fn(async (): Promise<void> => {
    this.signInListener = undefined;
  });

  openVerificationUri = vi.fn(async (): Promise<void> => {});
  keepTokenInMemory = vi.fn(async (): Promise<void> => {});
  signOut = vi.fn(async (): Promise<void> => {});
  getSettings = vi.fn(async (): Promise<SettingsView> => this.settingsView);

  saveProvider = vi.fn(async (settings: ProviderConfig, apiKey: string | null): Promise<SettingsView> => {
    this.settingsView = {
      ...this.settingsView,
      provider: settings,
      providerKeyStored: this.settingsView.providerKeyStored || !!apiKey,
    };
    return this.settingsView;
  });

  clearProvider = vi.fn(async (): Promise<SettingsView> => {
    this.settingsView = { ...this.settingsView, provider: null, providerKeyStored: false };
    return this.settingsView;
  });

  saveCliSettings = vi.fn(async (settings: CliSettings, token: string | null, forgetToken: boolean) => {
    const tokenStored = token ? true : forgetToken ? false : this.settingsView.cli.tokenStored;
    this.settingsView = {
      ...this.settingsView,
      cli: { ...this.settingsView.cli, mode: settings.mode, server: settings.server ?? null, tokenStored },
    };
    return this.settingsView;
  });

  /** What "Test connection" answers; a test may replace it or make it reject. */
  serverCheck: ServerCheck = { info: { version: "1.0.102", protocolVersion: 3 }, warning: null };
  testCliServer = vi.fn(async (_server: ServerAddress, _token: string | null): Promise<ServerCheck> => this.serverCheck);

  /** What the clean-up preview lists; deleting takes the confirmed ones out of `sessions` too. */
  cleanupPreview: CleanupPreview = { days: 30, sessions: [], keptOpen: 0 };
  previewSessionCleanup = vi.fn(async (days: number): Promise<CleanupPreview> => ({ ...this.cleanupPreview, days }));
  cleanUpSessions = vi.fn(async (_days: number, sessionIds: string[]): Promise<CleanupOutcome> => {
    this.sessions = this.sessions.filter((s) => !sessionIds.includes(s.id));
    return { deleted: [...sessionIds], kept: [], failed: [] };
  });

  /** Agent controls: each session's mode, effort and plan; the models with efforts; what compaction answers. */
  modes = new Map<string, AgentMode>();
  sessionMode = vi.fn(async (sessionId: string): Promise<AgentMode> => this.modes.get(sessionId) ?? "interactive");
  setSessionMode = vi.fn(async (sessionId: string, mode: AgentMode): Promise<void> => {
    this.modes.set(sessionId, mode);
  });
  plans = new Map<string, SessionPlan>();
  sessionPlan = vi.fn(
    async (sessionId: string): Promise<SessionPlan> =>
      this.plans.get(sessionId) ?? { exists: false, content: null, path: null },
  );
  readonly planReviewListeners = new Set<(event: PlanReviewEvent) => void>();
  onPlanReviews = vi.fn(async (onEvent: (event: PlanReviewEvent) => void) => {
    this.planReviewListeners.add(onEvent);
    return () => {
      this.planReviewListeners.delete(onEvent);
    };
  });
  decidePlan = vi.fn(async (_requestId: string, _decision: PlanDecision): Promise<void> => {});
  efforts: ModelEfforts[] = [];
  modelEfforts = vi.fn(async (): Promise<ModelEfforts[]> => [...this.efforts]);
  sessionEfforts = new Map<string, string>();
  sessionEffort = vi.fn(async (sessionId: string): Promise<string | null> => this.sessionEfforts.get(sessionId) ?? null);
  setSessionEffort = vi.fn(async (sessionId: string, effort: string): Promise<void> => {
    this.sessionEfforts.set(sessionId, effort);
  });
  breakdown: ContextBreakdown | null = null;
  contextBreakdown = vi.fn(async (_sessionId: string): Promise<ContextBreakdown | null> => this.breakdown);
  compactOutcome: CompactOutcome = { outcome: "nothingToCompact" };
  compactSession = vi.fn(async (_sessionId: string, _instructions: string | null): Promise<CompactOutcome> => this.compactOutcome);

  /** Send a plan review event, as the plan-review channel would. */
  pushPlanReview(event: PlanReviewEvent): void {
    for (const listener of this.planReviewListeners) listener(event);
  }

  /** What Rust does on every change: remember it and send it down each open channel. */
  push(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  /** Send a batch of live events to an open session, as its channel would. */
  pushEvents(sessionId: string, batch: ChatEvent[]): void {
    const listener = this.sessionListeners.get(sessionId);
    if (!listener) throw new Error(`session ${sessionId} is not open`);
    listener(batch);
  }

  /** What Rust does when the account changes: remember it and send it down each open channel. */
  pushAccount(view: AccountView): void {
    this.accountView = view;
    for (const listener of this.accountListeners) listener(view);
  }

  /** Send a sign-in state down the running sign-in's channel. */
  pushSignIn(state: SignInState): void {
    if (!this.signInListener) throw new Error("no sign-in is running");
    this.signInListener(state);
  }

  /** Send a prompt event, as the prompts channel would. */
  pushPrompt(event: PromptEvent): void {
    for (const listener of this.promptListeners) listener(event);
  }
}

/** A promise with its resolve and reject in hand, for answers a test releases when it chooses. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
