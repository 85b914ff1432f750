// The MCP server form's text fields ⇄ the server spec Rust stores. UI-free: the form (components/mcp/McpServerDialog)
// shows what `toFields` gives and sends what `toDraft` makes of the user's text, or shows its error and keeps the text.

import type { McpEntry, McpServerDraft, McpUserServer } from "./backend";

export interface McpFields {
  kind: "local" | "http";
  name: string;
  command: string;
  /** One argument per line. */
  args: string;
  workingDirectory: string;
  url: string;
  /** A JSON object of names to values: environment variables (local) or headers (HTTP), kept in the CLI's file. */
  plain: string;
  /** The same for the values the user marks secret (kept in the keychain); an empty value keeps the stored one. */
  secret: string;
  /** Tool names the model may use, comma-separated; empty for all. */
  tools: string;
}

export function emptyFields(): McpFields {
  return { kind: "local", name: "", command: "", args: "", workingDirectory: "", url: "", plain: "", secret: "", tools: "" };
}

function entriesJson(entries: McpEntry[], secret: boolean): string {
  const picked = entries.filter((e) => e.secret === secret);
  if (picked.length === 0) return "";
  return JSON.stringify(Object.fromEntries(picked.map((e) => [e.name, secret ? "" : e.value])), null, 2);
}

/** The fields for editing `server` (secrets by name, with empty values). */
export function toFields(server: McpUserServer): McpFields {
  const spec = server.spec;
  const tools = spec.tools.filter((t) => t !== "*").join(", ");
  if (spec.kind === "local") {
    return {
      ...emptyFields(),
      kind: "local",
      name: server.name,
      command: spec.command,
      args: spec.args.join("\n"),
      workingDirectory: spec.workingDirectory ?? "",
      plain: entriesJson(spec.env, false),
      secret: entriesJson(spec.env, true),
      tools,
    };
  }
  return {
    ...emptyFields(),
    kind: "http",
    name: server.name,
    url: spec.url,
    plain: entriesJson(spec.headers, false),
    secret: entriesJson(spec.headers, true),
    tools,
  };
}

function parseObject(text: string, what: string): Record<string, string> {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object, like {"NAME": "value"}.`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new Error(`${what}: the value of "${key}" must be a string.`);
    out[key] = v;
  }
  return out;
}

/** The draft for Rust, or an Error that says what to fix (Rust checks names, commands and URLs again). */
export function toDraft(fields: McpFields, originalName: string | null): McpServerDraft {
  const name = fields.name.trim();
  if (!name) throw new Error("Give the server a name.");
  const group = fields.kind === "local" ? "Environment" : "Headers";
  const plain = parseObject(fields.plain, group);
  const secret = parseObject(fields.secret, `Secret ${group.toLowerCase()}`);
  for (const key of Object.keys(secret)) {
    if (key in plain) throw new Error(`"${key}" is both in ${group.toLowerCase()} and in the secret ones; keep it in one.`);
  }
  const entries: McpEntry[] = [
    ...Object.entries(plain).map(([n, value]) => ({ name: n, value, secret: false })),
    ...Object.entries(secret).map(([n, value]) => ({ name: n, value, secret: true })),
  ];
  const tools = fields.tools
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (fields.kind === "local") {
    if (!fields.command.trim()) throw new Error("Enter the command that starts the server.");
    const args = fields.args
      .split("\n")
      .map((a) => a.trim())
      .filter(Boolean);
    const workingDirectory = fields.workingDirectory.trim() || null;
    return { originalName, name, spec: { kind: "local", command: fields.command.trim(), args, workingDirectory, env: entries, tools } };
  }
  const url = fields.url.trim();
  if (!/^https?:\/\/\S+$/i.test(url)) throw new Error(`"${url}" is not an http:// or https:// URL.`);
  return { originalName, name, spec: { kind: "http", url, headers: entries, tools } };
}

/** What a session's server state reads as. */
export function describeStatus(status: string): string {
  switch (status) {
    case "connected":
      return "Running";
    case "pending":
      return "Starting";
    case "failed":
      return "Failed";
    case "needs-auth":
      return "Needs sign-in";
    case "stopped":
      return "Stopped";
    case "disabled":
      return "Disabled";
    case "not_configured":
      return "Not configured";
    default:
      return status;
  }
}

/** Where a discovered server comes from, in words. */
export function describeSource(source: string, plugin: string | null): string {
  switch (source) {
    case "user":
      return "Your settings";
    case "workspace":
      return "This project";
    case "plugin":
      return plugin ? `Plugin ${plugin}` : "A plugin";
    case "builtin":
      return "Built into the CLI";
    case "managed":
      return "Managed by your organization";
    case "account":
      return "Your GitHub account";
    default:
      return source;
  }
}
