// One round of bench_engine's Node column: the official Node SDK (@github/copilot-sdk, pinned in package.json)
// drives the CLI binary it is handed (never one of its own: the SDK's runtime packages are not installed, see
// .npmrc) against the fake model, and prints one JSON line of milliseconds: connect, create, firstDelta, turn, and
// firstDeltaAt, the wall clock (ms since the epoch) when the first delta was in hand.
// Also the CLI version the process reports, so the harness can check it ran the pinned CLI.
//
// Started by tests/src/bin/bench_engine.rs with the test home's environment and one JSON argument:
//   {"cli": "/path/to/copilot", "baseUrl": "http://127.0.0.1:PORT/v1", "apiKey": "...", "model": "...",
//    "workDir": "/path", "copilotHome": "/path", "prompt": "..."}
// Modules load before the clock starts, as the Rust columns' code is loaded before theirs. The CLI runs as the
// engine runs it (its own sign-in on; the harness sets the same environment for all three), and the session has
// a permission and a user-input handler, as the engine's sessions have.

import { existsSync } from "node:fs";
import { approveAll, CopilotClient, RuntimeConnection } from "@github/copilot-sdk";

const args = JSON.parse(process.argv[2] ?? "{}");
for (const key of ["cli", "baseUrl", "apiKey", "model", "workDir", "copilotHome", "prompt"]) {
  if (typeof args[key] !== "string" || args[key] === "") throw new Error(`bench.mjs: missing "${key}"`);
}
if (!existsSync(args.cli)) throw new Error(`bench.mjs: no CLI at ${args.cli}`);

const ms = (from) => Number((performance.now() - from).toFixed(3));
const guard = (promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`bench.mjs: ${what} took over 60 s`)), 60_000).unref()),
  ]);

let t = performance.now();
const client = new CopilotClient({
  connection: RuntimeConnection.forStdio({ path: args.cli, env: { ...process.env } }),
  baseDirectory: args.copilotHome,
  workingDirectory: args.workDir,
  useLoggedInUser: true,
});
await guard(client.start(), "connect");
const connect = ms(t);

t = performance.now();
const session = await guard(
  client.createSession({
    model: args.model,
    provider: { type: "openai", baseUrl: args.baseUrl, apiKey: args.apiKey },
    streaming: true,
    workingDirectory: args.workDir,
    onPermissionRequest: approveAll,
    onUserInputRequest: () => ({ answer: "", wasFreeform: true }),
  }),
  "create",
);
const create = ms(t);

let firstDelta = null;
let firstDeltaAt = null;
let turnOver;
const idle = new Promise((resolve) => (turnOver = resolve));
session.on((event) => {
  if (firstDelta === null && event.type === "assistant.message_delta") {
    firstDelta = ms(t);
    firstDeltaAt = performance.timeOrigin + performance.now();
  }
  if (event.type === "session.idle") turnOver(ms(t));
});
t = performance.now();
await session.send({ prompt: args.prompt });
const turn = await guard(idle, "the turn");

const status = await client.getStatus().catch(() => ({}));
await client.stop();
if (firstDelta === null) throw new Error("bench.mjs: the turn streamed no delta");
process.stdout.write(`${JSON.stringify({ connect, create, firstDelta, firstDeltaAt, turn, cliVersion: status.version ?? null })}\n`);
