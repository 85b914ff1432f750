// Words for the CLI connection: turns a ConnectionState into the one line the status bar shows, always naming
// which CLI the app talks to (the bundled one, or a server's host:port). Pure, so every state is unit-tested and
// the WebDriver tests can rely on the exact text.

import type { ConnectionState, ConnectionTarget } from "./backend";

export function describeConnection(connection: ConnectionState): string {
  switch (connection.state) {
    case "connecting":
      return connection.target.kind === "server" ? `Connecting to ${connection.target.address}…` : "Connecting…";
    case "connected":
      return `Connected · Copilot CLI ${connection.version} ${where(connection.target)}`;
    case "restarting":
      return connection.target.kind === "server"
        ? `Reconnecting to ${connection.target.address}… (attempt ${connection.attempt}): ${connection.reason}`
        : `Restarting (attempt ${connection.attempt}): ${connection.reason}`;
    case "failed":
      return `Failed: ${connection.reason}`;
    case "stopped":
      return "Stopped";
    default:
      return unknownState(connection);
  }
}

/** Which CLI, as the end of the status line: "(bundled)" or "at host:port". */
export function where(target: ConnectionTarget): string {
  return target.kind === "server" ? `at ${target.address}` : "(bundled)";
}

/** The same CLI? A switch to another one means its sessions are another CLI's too. */
export function sameTarget(a: ConnectionTarget, b: ConnectionTarget): boolean {
  return a.kind === b.kind && (a.kind !== "server" || (b.kind === "server" && a.address === b.address));
}

// A new Rust state fails the type check here; at run time an unknown one still reads sensibly.
function unknownState(connection: never): string {
  return `Unknown state: ${(connection as { state: string }).state}`;
}
