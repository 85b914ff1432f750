// A Backend for UI tests: answers from memory, records calls, and lets a test push what Rust's channels
// would (connection states, session event batches, prompt events). No Tauri anywhere.

import { vi } from "vitest";
import type {
  AuthStatus,
  Backend,
  ChatEvent,
  ConnectionState,
  ModelInfo,
  NewSession,
  PromptEvent,
  SessionSummary,
} from "../lib/backend";

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

  constructor(state: ConnectionState = { state: "connecting" }) {
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

  listSessions = vi.fn(async (): Promise<SessionSummary[]> => [...this.sessions]);

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
