// A Backend for UI tests: answers from memory, records calls, and lets a test push what Rust's channels
// would (connection states, session event batches, prompt events). No Tauri anywhere.

import { vi } from "vitest";
import type {
  AccountView,
  AttachOutcome,
  Attachment,
  AgentDraft,
  AgentPreview,
  SessionAgents,
  SkillSummary,
  AuthStatus,
  Backend,
  ChatEvent,
  CleanupOutcome,
  CleanupPreview,
  CliSettings,
  ConnectionState,
  Delivery,
  ExportFormat,
  McpAction,
  McpOverview,
  McpServerDraft,
  McpTool,
  SessionMcp,
  SessionMcpServer,
  MenuAction,
  ModelInfo,
  NewSession,
  NewProjectApproval,
  ProjectApproval,
  PromptEvent,
  ProviderConfig,
  QueueState,
  RewindMode,
  RewindOutcome,
  RewindPreview,
  RulesOverview,
  ServerAddress,
  ServerCheck,
  SessionMatch,
  SessionSummary,
  SettingsView,
  SignInStart,
  SignInState,
  UpdatePhase,
  UpdateView,
  ToolRule,
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

  /**
   * The journal's history per session id, which openSession hands to `onJournal` first; it stands (the answer is
   * only what follows it) when the session's history starts with it, as when the CLI confirms a journal.
   */
  journals = new Map<string, ChatEvent[]>();

  openSession = vi.fn(
    async (sessionId: string, onEvents: (batch: ChatEvent[]) => void, onJournal: (history: ChatEvent[]) => void) => {
      this.sessionListeners.set(sessionId, onEvents);
      const history = this.histories.get(sessionId) ?? [];
      const journal = this.journals.get(sessionId);
      if (journal) onJournal([...journal]);
      const afterJournal = !!journal && journal.every((event, i) => history[i]?.id === event.id);
      return {
        history: history.slice(afterJournal ? journal.length : 0),
        afterJournal,
        close: async () => {
          this.sessionListeners.delete(sessionId);
        },
      };
    },
  );

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

  /** The update state Rust would report; `pushUpdates` changes it and tells every listener. */
  updateView: UpdateView = { currentVersion: "0.1.0", checkAutomatically: true, lastChecked: null, phase: { state: "idle" } };
  updateListeners: ((view: UpdateView) => void)[] = [];
  onUpdates = vi.fn(async (onView: (view: UpdateView) => void) => {
    this.updateListeners.push(onView);
    onView(this.updateView);
    return () => {
      this.updateListeners = this.updateListeners.filter((l) => l !== onView);
    };
  });
  /** What a check finds; a test sets it before "Check now". */
  updateFound: UpdatePhase = { state: "upToDate" };
  checkForUpdates = vi.fn(async (): Promise<UpdateView> => {
    this.pushUpdates({ ...this.updateView, phase: this.updateFound, lastChecked: 1_800_000_000 });
    return this.updateView;
  });
  downloadUpdate = vi.fn(async (): Promise<UpdateView> => {
    const phase = this.updateView.phase;
    const version = "version" in phase && phase.version ? phase.version : "0.0.0";
    this.pushUpdates({ ...this.updateView, phase: { state: "ready", version } });
    return this.updateView;
  });
  installUpdate = vi.fn(async (): Promise<UpdateView> => this.updateView);
  setCheckAutomatically = vi.fn(async (on: boolean): Promise<UpdateView> => {
    this.pushUpdates({ ...this.updateView, checkAutomatically: on });
    return this.updateView;
  });

  pushUpdates(view: UpdateView): void {
    this.updateView = view;
    for (const listener of this.updateListeners) listener(view);
  }

  /** Each session's queue, as queuedMessages answers. */
  queues = new Map<string, QueueState>();
  deliver = vi.fn(async (_sessionId: string, _text: string, _attachments: Attachment[], _delivery: Delivery) => {});
  queuedMessages = vi.fn(
    async (sessionId: string): Promise<QueueState> => this.queues.get(sessionId) ?? { queued: [], steering: [] },
  );
  editQueued = vi.fn(async (_sessionId: string, _itemId: string, _text: string): Promise<void> => {});
  removeQueued = vi.fn(async (sessionId: string, itemId: string): Promise<void> => {
    const queue = this.queues.get(sessionId);
    if (queue) this.queues.set(sessionId, { ...queue, queued: queue.queued.filter((m) => m.id !== itemId) });
  });
  sendQueuedNow = vi.fn(async (_sessionId: string, _itemId: string): Promise<boolean> => true);
  /** What the picker answers next. */
  picked: AttachOutcome = { attachments: [], problems: [] };
  pickAttachments = vi.fn(async (_folder: boolean): Promise<AttachOutcome> => this.picked);
  attachImage = vi.fn(
    async (name: string, data: string): Promise<Attachment> => ({ type: "image", name, mimeType: "image/png", data }),
  );
  /** The image on the "system clipboard", for pasteClipboardImage. */
  clipboardImage: Attachment | null = null;
  pasteClipboardImage = vi.fn(async (_name: string): Promise<Attachment | null> => this.clipboardImage);
  rewindPreview: RewindPreview = { tracking: true, filesAvailable: true, reason: null, files: [] };
  previewRewind = vi.fn(async (_sessionId: string, _eventId: string): Promise<RewindPreview> => this.rewindPreview);
  rewindOutcome: RewindOutcome = { restored: [], skipped: [], warning: null };
  rewind = vi.fn(
    async (_sessionId: string, _eventId: string, _mode: RewindMode): Promise<RewindOutcome> => this.rewindOutcome,
  );
  forkSession = vi.fn(async (sessionId: string, _eventId: string): Promise<SessionSummary> => {
    const now = new Date().toISOString();
    const fork: SessionSummary = {
      id: `${sessionId}-fork`,
      title: null,
      summary: null,
      workingDirectory: null,
      createdAt: now,
      modifiedAt: now,
    };
    this.sessions.unshift(fork);
    return fork;
  });
  exportSession = vi.fn(
    async (_sessionId: string, format: ExportFormat): Promise<string | null> => `/tmp/session.${format === "html" ? "html" : "md"}`,
  );
  readonly dropListeners = new Set<(outcome: AttachOutcome) => void>();
  onDrop = vi.fn(async (onDrop: (outcome: AttachOutcome) => void) => {
    this.dropListeners.add(onDrop);
    return () => {
      this.dropListeners.delete(onDrop);
    };
  });

  /** MCP: what the settings page and a session's panel show; a test may replace them. */
  mcp: McpOverview = { user: [], discovered: [], discoverError: null };
  mcpOverview = vi.fn(async (_workingDirectory: string): Promise<McpOverview> => this.mcp);
  saveMcpServer = vi.fn(async (_draft: McpServerDraft): Promise<void> => {});
  removeMcpServer = vi.fn(async (_name: string): Promise<void> => {});
  setMcpServerEnabled = vi.fn(async (_name: string, _enabled: boolean): Promise<void> => {});
  sessionServers: SessionMcpServer[] = [];
  thirdPartyMcp: boolean | null = true;
  sessionMcpServers = vi.fn(
    async (_sessionId: string): Promise<SessionMcp> => ({ servers: this.sessionServers, thirdPartyEnabled: this.thirdPartyMcp }),
  );
  sessionMcpTools = vi.fn(async (_sessionId: string, _server: string): Promise<McpTool[]> => []);
  controlMcpServer = vi.fn(async (_sessionId: string, _server: string, _action: McpAction): Promise<void> => {});

  /** The standing rules, changed in memory as Rust would change its files. */
  rules: RulesOverview = {
    projectApprovals: [],
    allowedUrls: [],
    deniedUrls: [],
    trustedFolders: [],
    denyRules: [],
    projectFile: "/home/me/.copilot/permissions-config.json",
    settingsFile: "/home/me/.copilot/settings.json",
    configFile: "/home/me/.copilot/config.json",
    denyFile: "/home/me/.config/copilot-desktop/deny-rules.json",
  };
  #rulesNow = (): RulesOverview => structuredClone(this.rules);
  rulesOverview = vi.fn(async (): Promise<RulesOverview> => this.#rulesNow());
  addProjectRule = vi.fn(async (rule: NewProjectApproval): Promise<RulesOverview> => {
    const approval = { kind: "commands", commandIdentifiers: [rule.argument ?? ""] };
    this.rules.projectApprovals.push({ location: rule.location, label: `shell(${rule.argument})`, approval });
    return this.#rulesNow();
  });
  removeProjectRule = vi.fn(async (rule: ProjectApproval): Promise<RulesOverview> => {
    this.rules.projectApprovals = this.rules.projectApprovals.filter(
      (a) => !(a.location === rule.location && JSON.stringify(a.approval) === JSON.stringify(rule.approval)),
    );
    return this.#rulesNow();
  });
  addUrlRule = vi.fn(async (pattern: string, allowed: boolean): Promise<RulesOverview> => {
    (allowed ? this.rules.allowedUrls : this.rules.deniedUrls).push(pattern);
    return this.#rulesNow();
  });
  removeUrlRule = vi.fn(async (pattern: string, allowed: boolean): Promise<RulesOverview> => {
    if (allowed) this.rules.allowedUrls = this.rules.allowedUrls.filter((u) => u !== pattern);
    else this.rules.deniedUrls = this.rules.deniedUrls.filter((u) => u !== pattern);
    return this.#rulesNow();
  });
  removeTrustedFolder = vi.fn(async (folder: string): Promise<RulesOverview> => {
    this.rules.trustedFolders = this.rules.trustedFolders.filter((f) => f !== folder);
    return this.#rulesNow();
  });
  addDenyRule = vi.fn(async (rule: ToolRule): Promise<RulesOverview> => {
    this.rules.denyRules.push(rule);
    return this.#rulesNow();
  });
  removeDenyRule = vi.fn(async (rule: ToolRule): Promise<RulesOverview> => {
    this.rules.denyRules = this.rules.denyRules.filter((r) => r.kind !== rule.kind || r.argument !== rule.argument);
    return this.#rulesNow();
  });

  /** A session's agents and skills, changed in memory as the CLI would. */
  agents: SessionAgents = { agents: [], current: null };
  skills: SkillSummary[] = [];
  /** Agent files written, by path. */
  agentFiles = new Map<string, AgentDraft>();
  sessionAgents = vi.fn(async (_sessionId: string): Promise<SessionAgents> => structuredClone(this.agents));
  selectAgent = vi.fn(async (_sessionId: string, name: string | null): Promise<SessionAgents> => {
    this.agents = { ...this.agents, current: name };
    return structuredClone(this.agents);
  });
  previewAgent = vi.fn(async (draft: AgentDraft): Promise<AgentPreview> => {
    if (draft.name.trim() === "") throw new Error("An agent's name is 1 to 64 letters.");
    return { path: `/home/me/.copilot/agents/${draft.name}.agent.md`, text: `---\nname: "${draft.name}"\n---\n\n${draft.prompt}\n` };
  });
  saveAgent = vi.fn(async (draft: AgentDraft, _replace: boolean): Promise<string> => {
    const path = `/home/me/.copilot/agents/${draft.name}.agent.md`;
    this.agentFiles.set(path, draft);
    this.agents.agents = this.agents.agents.filter((a) => a.path !== path);
    this.agents.agents.push({ name: draft.name, displayName: draft.name, description: draft.description, source: "user", path, tools: draft.tools });
    return path;
  });
  readAgent = vi.fn(async (path: string): Promise<AgentDraft> => {
    const draft = this.agentFiles.get(path);
    if (!draft) throw new Error(`no agent at ${path}`);
    return structuredClone(draft);
  });
  sessionSkills = vi.fn(async (_sessionId: string): Promise<SkillSummary[]> => structuredClone(this.skills));
  setSkillEnabled = vi.fn(async (_sessionId: string, name: string, enabled: boolean): Promise<SkillSummary[]> => {
    this.skills = this.skills.map((s) => (s.name === name ? { ...s, enabled } : s));
    return structuredClone(this.skills);
  });
  openSkillFolder = vi.fn(async (_sessionId: string, _name: string): Promise<void> => {});

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
