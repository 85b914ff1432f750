import { describe, expect, test } from "vitest";
import type { ConnectionState } from "./backend";
import { describeConnection } from "./connection-text";

describe("describeConnection", () => {
  const cases: [ConnectionState, string][] = [
    [{ state: "connecting" }, "Connecting…"],
    [{ state: "connected", version: "1.0.102", protocolVersion: 3 }, "Connected · Copilot CLI 1.0.102"],
    [
      { state: "restarting", attempt: 2, reason: "CLI exited with code 1", retryInMs: 2000 },
      "Restarting (attempt 2): CLI exited with code 1",
    ],
    [{ state: "failed", reason: "copilot binary not found" }, "Failed: copilot binary not found"],
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
