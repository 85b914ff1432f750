// Words for the CLI connection: turns a ConnectionState into the one line the status bar shows. Pure, so
// every state is unit-tested and the WebDriver tests can rely on the exact text.

import type { ConnectionState } from "./backend";

export function describeConnection(connection: ConnectionState): string {
  switch (connection.state) {
    case "connecting":
      return "Connecting…";
    case "connected":
      return `Connected · Copilot CLI ${connection.version}`;
    case "restarting":
      return `Restarting (attempt ${connection.attempt}): ${connection.reason}`;
    case "failed":
      return `Failed: ${connection.reason}`;
    case "stopped":
      return "Stopped";
    default:
      return unknownState(connection);
  }
}

// A new Rust state fails the type check here; at run time an unknown one still reads sensibly.
function unknownState(connection: never): string {
  return `Unknown state: ${(connection as { state: string }).state}`;
}
