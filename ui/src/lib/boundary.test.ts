// @vitest-environment node
// Guards the design's one-door rule: only backend.ts reaches Rust. Scans every source file under src/ and
// fails if anything else imports @tauri-apps/* or the generated bindings.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const SRC = fileURLToPath(new URL("..", import.meta.url));
const SELF = "lib/boundary.test.ts";

// Who may name what: the door, the generated file it wraps, and the door's own test (IPC mocks).
const ALLOWED_TAURI = new Set(["lib/backend.ts", "lib/bindings.ts", "lib/backend.test.ts"]);
const ALLOWED_BINDINGS = new Set(["lib/backend.ts"]);

const TAURI_IMPORT = /["'`]@tauri-apps\//;
const BINDINGS_IMPORT = /["'`][^"'`\n]*\bbindings(?:\.[jt]s)?["'`]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|svelte)$/.test(entry.name) ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({
  name: relative(SRC, path).split("\\").join("/"),
  text: readFileSync(path, "utf8"),
}));

test("the scan sees the source tree and recognises the door's own imports", () => {
  const door = files.find((file) => file.name === "lib/backend.ts");
  expect(files.length).toBeGreaterThan(5);
  expect(door && TAURI_IMPORT.test(door.text) && BINDINGS_IMPORT.test(door.text)).toBe(true);
});

test("only backend.ts (and the generated bindings it wraps) import @tauri-apps/*", () => {
  const offenders = files.filter((f) => f.name !== SELF && !ALLOWED_TAURI.has(f.name) && TAURI_IMPORT.test(f.text));
  expect(offenders.map((f) => f.name)).toEqual([]);
});

test("only backend.ts imports the generated bindings", () => {
  const offenders = files.filter((f) => f.name !== SELF && !ALLOWED_BINDINGS.has(f.name) && BINDINGS_IMPORT.test(f.text));
  expect(offenders.map((f) => f.name)).toEqual([]);
});
