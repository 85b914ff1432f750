import { describe, expect, test } from "vitest";
import type { ConnectionState, ConnectionTarget } from "./backend";
import { describeConnection, sameTarget } from "./connection-text";

const bundled: ConnectionTarget = { kind: "bundled" };
const server: ConnectionTarget = { kind: "server", address: "127.0.0.1:4321" };

describe("describeConnection", () => {
  const cases: [ConnectionState, string][] = [
    [{ state: "connecting", target: bundled }, "Connecting…"],
    [{ state: "connecting", target: server }, "Connecting to 127.0.0.1:4321…"],
    [
      { state: "connected", target: bundled, version: "1.0.102", protocolVersion: 3 },
      "Connected · Copilot CLI 1.0.102 (bundled)",
    ],
    [
      { state: "connected", target: server, version: "1.0.102", protocolVersion: 3 },
      "Connected · Copilot CLI 1.0.102 at 127.0.0.1:4321",
    ],
    [
      { state: "restarting", target: bundled, attempt: 2, code: "cli_exited", reason: "CLI exited with code 1", retryInMs: 2000 },
      "Restarting (attempt 2): CLI exited with code 1",
    ],
    [
      { state: "restarting", target: server, attempt: 3, code: "server_refused", reason: "Nothing is listening", retryInMs: 2000 },
      "Reconnecting to 127.0.0.1:4321… (attempt 3): Nothing is listening",
    ],
    [{ state: "failed", target: bundled, code: "cli_missing", reason: "copilot binary not found" }, "Failed: copilot binary not found"],
    [{ state: "stopped" }, "Stopped"],
  ];

  test.each(cases)("%o reads %j", (connection, text) => {
    expect(describeConnection(connection)).toBe(text);
  });

  test("covers every state Rust can send", () => {
    const covered = new Set(cases.map(([connection]) => connection.state));
    expect([...covered].sort()).toEqual(["connected", "connecting", "failed", "restarting", "stopped"]);
  });

  test("a state from a newer Rust still reads sensibly", () => {
    expect(describeConnection({ state: "hibernating" } as unknown as ConnectionState)).toBe("Unknown state: hibernating");
  });
});

describe("sameTarget", () => {
  test("tells CLIs apart by kind and address", () => {
    expect(sameTarget(bundled, { kind: "bundled" })).toBe(true);
    expect(sameTarget(server, { kind: "server", address: "127.0.0.1:4321" })).toBe(true);
    expect(sameTarget(server, { kind: "server", address: "127.0.0.1:4322" })).toBe(false);
    expect(sameTarget(server, bundled)).toBe(false);
  });
});
