// The one door from the webview to Rust. Owns the `Backend` interface the UI is written against, its Tauri
// implementation over the generated bindings in ./bindings.ts, error normalisation, and how components get
// a Backend (a Svelte context, so tests mount components with a fake). Nothing else in src/ imports ./bindings or
// @tauri-apps/* (src/lib/boundary.test.ts enforces it): when the generated bindings change, only this adapts.

import { Channel, isTauri } from "@tauri-apps/api/core";
import { getContext } from "svelte";
import { commands, type AppError, type ConnectionState } from "./bindings";

export type { AppError, ConnectionState };

/** Everything the UI may ask of Rust. */
export interface Backend {
  /** The Copilot CLI connection as it is now. */
  connection(): Promise<ConnectionState>;
  /** Calls `onState` with every later connection change; resolves to a function that stops the calls. */
  onConnection(onState: (state: ConnectionState) => void): Promise<() => void>;
  /** Asks Rust to start the CLI again after it failed. */
  retry(): Promise<void>;
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
  };
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
