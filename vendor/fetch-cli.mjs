#!/usr/bin/env node
// vendor/fetch-cli.mjs: owns the pinned GitHub Copilot CLI that the app bundles.
//
// vendor/cli.json pins the version and the registry's sha512 integrity of each platform
// package. This script fetches one package with `npm pack`, checks the tarball against the
// pin BEFORE extracting, and installs the executable atomically (temp file + rename) as
// src-tauri/binaries/copilot-desktop-cli-<rust-triple>[.exe], the name Tauri's
// bundle.externalBin ("binaries/copilot-desktop-cli") expects. The name is ours, not `copilot`:
// bundles install sidecars as /usr/bin/<name>, where `copilot` would take a user's own CLI's place. A stamp in vendor/.cache/ lets re-runs
// return quickly after only a sha256 check. Uses Node built-ins only.
//
//   node vendor/fetch-cli.mjs [--platform <p>] [--tarball <file.tgz>] [--force]
//   node vendor/fetch-cli.mjs --print-path [--platform <p>]
//   node vendor/fetch-cli.mjs bump <version>        # re-pin cli.json from `npm view`
// For tests and tooling: --manifest <cli.json> --out-dir <dir> --cache-dir <dir>

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

const VENDOR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(VENDOR);
const SELF = 'node vendor/fetch-cli.mjs';
/** The sidecar's name in tauri.conf.json `bundle.externalBin` (and so in every bundle). */
export const SIDECAR = 'copilot-desktop-cli';
const USAGE = `usage: ${SELF} [--platform <p>] [--tarball <file.tgz>] [--force]
       ${SELF} --print-path [--platform <p>]
       ${SELF} bump <version>
options for tests/tooling: --manifest <file> --out-dir <dir> --cache-dir <dir>`;

/** An expected failure: printed as a message, without a stack trace. */
export class UserError extends Error {}
const fail = (msg) => { throw new UserError(msg); };

// Temp files/dirs and npm processes we own; removed/killed on failure and on Ctrl-C.
const temps = new Set();
const children = new Set();
function cleanup() {
  for (const c of children) c.kill();
  for (const p of temps) {
    try { fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 }); } catch { /* best effort */ }
  }
  temps.clear();
}

// ---------------------------------------------------------------- manifest

export function loadManifest(file) {
  let m;
  try { m = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) {
    fail(`cannot read manifest ${file}: ${e.message}`);
  }
  if (typeof m?.packagePrefix !== 'string' || typeof m.version !== 'string' || !m.platforms) {
    fail(`manifest ${file} needs "packagePrefix", "version" and "platforms"`);
  }
  return m;
}

/** The manifest platform to use: `requested`, or the host's `<os>-<arch>`. */
export function resolvePlatform(m, requested, host = `${process.platform}-${process.arch}`) {
  const p = requested ?? host;
  if (Object.hasOwn(m.platforms, p)) return p;
  const supported = Object.keys(m.platforms).join(', ');
  fail(requested
    ? `unknown platform "${p}". Supported platforms: ${supported}.`
    : `this host (${host}) has no Copilot CLI build. Supported platforms: ${supported}. ` +
      `Build on one of those, or pass --platform <p> to fetch a specific one.`);
}

function target(m, platform, o) {
  const { triple, exe, integrity } = m.platforms[platform];
  if (!triple || !exe || !/^sha512-[A-Za-z0-9+/]+=*$/.test(integrity ?? '')) {
    fail(`manifest entry for ${platform} needs "triple", "exe" and a sha512-… "integrity"`);
  }
  return {
    platform, triple, exe, integrity, version: m.version, manifest: shown(o.manifest),
    spec: `${m.packagePrefix}${platform}@${m.version}`,
    bin: path.join(o.outDir, `${SIDECAR}-${triple}${path.extname(exe)}`),
    stamp: path.join(o.cacheDir, `${platform}.json`),
  };
}

// ---------------------------------------------------------------- helpers

/** `file` relative to the cwd when it is inside it, else absolute. */
function shown(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

async function hashFile(file, algo, encoding) {
  const h = createHash(algo);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk);
  return h.digest(encoding);
}

function writeJsonAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  temps.add(tmp);
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  fs.renameSync(tmp, file);
  temps.delete(tmp);
}

/** Runs npm (the user's configured registry, proxy and auth apply); resolves to stdout. */
function npm(args) {
  const win = process.platform === 'win32'; // npm is npm.cmd there, which needs a shell
  const quoted = args.map((a) => (win && /\s/.test(a) ? `"${a}"` : a));
  return new Promise((resolve, reject) => {
    const c = spawn(win ? ['npm', ...quoted].join(' ') : 'npm', win ? [] : args,
      { cwd: ROOT, shell: win, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(c);
    let out = '', err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    c.on('error', (e) => reject(new UserError(`could not run npm (${e.message}); is npm on PATH?`)));
    c.on('close', (code, signal) => {
      children.delete(c);
      if (code === 0) return resolve(out);
      const e = new UserError(`\`npm ${args.slice(0, 2).join(' ')}\` failed (${signal ?? `exit ${code}`}):\n` +
        (err.trim() || '(no output)'));
      reject(Object.assign(e, { stdout: out }));
    });
  });
}

/** Async-generator transform: from a ustar byte stream, yields only the body of `wanted`. */
async function* tarEntry(source, wanted, found) {
  const str = (h, at, len) => h.toString('utf8', at, at + len).replace(/\0.*$/s, '');
  let buf = Buffer.alloc(0), body = 0, pad = 0, take = false;
  for await (const chunk of source) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length) {
      if (body || pad) {
        const n = Math.min(body || pad, buf.length);
        if (body && take) { found.hash.update(buf.subarray(0, n)); yield buf.subarray(0, n); }
        if (body) body -= n; else pad -= n;
        buf = buf.subarray(n);
        if (take && !body) { take = false; found.done = true; }
        continue;
      }
      if (buf.length < 512) break;
      const h = buf.subarray(0, 512);
      buf = buf.subarray(512);
      if (h.every((b) => b === 0)) continue; // end-of-archive padding
      const sum = h.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
      if (sum !== parseInt(str(h, 148, 8).trim(), 8)) fail('not a valid tar archive (bad header checksum)');
      const size = parseInt(str(h, 124, 12).trim() || '0', 8);
      if (!Number.isSafeInteger(size)) fail('not a valid tar archive (bad entry size)');
      const prefix = h.toString('latin1', 257, 263) === 'ustar\0' ? str(h, 345, 155) : '';
      const name = prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100);
      const regular = h[156] === 0 || h[156] === 0x30; // '0' or NUL
      take = regular && name === wanted && !found.done;
      if (take) { found.size = size; if (size === 0) { take = false; found.done = true; } }
      body = size;
      pad = (512 - (size % 512)) % 512;
    }
  }
  if (body || take) fail('archive ends in the middle of an entry (truncated)');
}

// ---------------------------------------------------------------- fetch

/** True when the stamp matches the pin and the binary on disk still has the stamped sha256. */
async function upToDate(t) {
  try {
    const s = JSON.parse(fs.readFileSync(t.stamp, 'utf8'));
    if (s.version !== t.version || s.integrity !== t.integrity || s.file !== path.basename(t.bin)) return false;
    const st = fs.statSync(t.bin);
    if (!st.isFile() || st.size !== s.size) return false;
    if (process.platform !== 'win32' && (st.mode & 0o111) === 0) return false;
    return (await hashFile(t.bin, 'sha256', 'hex')) === s.sha256;
  } catch {
    return false; // no stamp, no binary, unreadable: fetch again
  }
}

async function verifyIntegrity(tgz, t, label) {
  const actual = `sha512-${await hashFile(tgz, 'sha512', 'base64')}`;
  if (actual !== t.integrity) {
    fail(`integrity check failed for ${label}:\n` +
      `  expected ${t.integrity}  (${t.spec} in ${t.manifest})\n` +
      `  actual   ${actual}\n` +
      'The tarball is corrupt, truncated or not the pinned release, so nothing was extracted or installed. ' +
      'Retry the fetch; if it keeps failing, check your npm registry/proxy. To change versions on purpose, ' +
      `use \`${SELF} bump <version>\`.`);
  }
}

async function install(tgz, t, label) {
  await verifyIntegrity(tgz, t, label);
  const dir = path.dirname(t.bin), base = path.basename(t.bin);
  fs.mkdirSync(dir, { recursive: true });
  // Leftovers of runs that were killed outright (SIGKILL, power loss) and can't clean up.
  for (const f of fs.readdirSync(dir)) {
    const pid = f.startsWith(`.${base}.`) && Number(f.slice(base.length + 2, -'.tmp'.length));
    if (pid && f.endsWith('.tmp') && !alive(pid)) fs.rmSync(path.join(dir, f), { force: true });
  }
  // Same directory as the target, so the final rename is atomic.
  const tmp = path.join(dir, `.${base}.${process.pid}.tmp`);
  temps.add(tmp);
  const wanted = `package/${t.exe}`;
  const found = { hash: createHash('sha256'), size: 0, done: false };
  try {
    await pipeline(fs.createReadStream(tgz), zlib.createGunzip(),
      (src) => tarEntry(src, wanted, found), fs.createWriteStream(tmp, { mode: 0o755 }));
  } catch (e) {
    fail(`could not extract ${wanted} from ${label}: ${e.message}. ` +
      'The tarball is truncated or corrupt; nothing was installed. Retry the fetch.');
  }
  if (!found.done) fail(`${label} has no ${wanted}; the package layout changed. Check vendor/cli.json "exe".`);
  fs.chmodSync(tmp, 0o755);
  try { fs.renameSync(tmp, t.bin); } catch (e) {
    fail(`could not replace ${t.bin}: ${e.message} (is that copilot still running?)`);
  }
  temps.delete(tmp);
  writeJsonAtomic(t.stamp, { version: t.version, integrity: t.integrity, file: path.basename(t.bin),
    size: found.size, sha256: found.hash.digest('hex') });
}

async function fetchCli(t, o) {
  const t0 = performance.now();
  const rel = shown(t.bin);
  if (!o.force && await upToDate(t)) {
    console.log(`copilot ${t.version} (${t.platform}) is up to date: ${rel} ` +
      `(sha256 verified, ${Math.round(performance.now() - t0)} ms)`);
    return;
  }
  let tgz = o.tarball, label;
  if (tgz) {
    label = `tarball ${tgz}`;
    if (!fs.statSync(tgz, { throwIfNoEntry: false })?.isFile()) fail(`--tarball ${tgz}: no such file`);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'copilot-cli-'));
    temps.add(dir);
    label = `the npm package ${t.spec}`;
    console.log(`Fetching ${t.spec} with npm pack ...`);
    // --loglevel=error (not --silent) so npm's own error text reaches the user on failure.
    await npm(['pack', t.spec, '--pack-destination', dir, '--loglevel=error']);
    const [file, ...extra] = fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    if (!file || extra.length) fail(`npm pack did not leave exactly one tarball in ${dir}`);
    tgz = path.join(dir, file);
  }
  await install(tgz, t, label);
  console.log(`Installed copilot ${t.version} (${t.platform}, integrity verified) at ${rel} ` +
    `in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------- bump

async function bump(m, file, version) {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? '')) {
    fail(`bump needs an exact version, e.g. \`${SELF} bump 1.0.103\``);
  }
  const results = await Promise.all(Object.entries(m.platforms).map(async ([p, entry]) => {
    const spec = `${m.packagePrefix}${p}@${version}`;
    try {
      const out = await npm(['view', spec, 'dist.integrity', 'bin', '--json', '--loglevel=error']);
      const v = out.trim() ? JSON.parse(out) : null;
      const integrity = v?.['dist.integrity'];
      if (!/^sha512-/.test(integrity ?? '')) return { p, spec, why: 'no sha512 dist.integrity' };
      const exe = Object.values(v.bin ?? {})[0] ?? entry.exe;
      return { p, entry: { ...entry, exe, integrity } };
    } catch (e) {
      let why = e.message.split('\n')[1] ?? e.message;
      try { why = JSON.parse(e.stdout).error.summary; } catch { /* keep npm's stderr line */ }
      return { p, spec, why };
    }
  }));
  const missing = results.filter((r) => !r.entry);
  if (missing.length) {
    fail(`cannot bump to ${version}; ${file} left unchanged. Missing:\n` +
      missing.map((r) => `  ${r.spec}: ${r.why}`).join('\n'));
  }
  writeJsonAtomic(file, { ...m, version, platforms: Object.fromEntries(results.map((r) => [r.p, r.entry])) });
  console.log(`Pinned ${m.packagePrefix}<platform>@${version} (was ${m.version}) for ` +
    `${results.length} platforms in ${shown(file)}.\n` +
    `Next: \`${SELF}\` to install it, then commit ${path.basename(file)}.`);
}

// ---------------------------------------------------------------- main

export async function main(argv) {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: {
      platform: { type: 'string' }, tarball: { type: 'string' }, force: { type: 'boolean' },
      'print-path': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      manifest: { type: 'string' }, 'out-dir': { type: 'string' }, 'cache-dir': { type: 'string' },
    } });
  } catch (e) { fail(`${e.message}\n${USAGE}`); }
  const { values: v, positionals: [cmd, ...rest] } = args;
  if (v.help) return console.log(USAGE);
  const o = {
    manifest: path.resolve(v.manifest ?? path.join(VENDOR, 'cli.json')),
    outDir: path.resolve(v['out-dir'] ?? path.join(ROOT, 'src-tauri', 'binaries')),
    cacheDir: path.resolve(v['cache-dir'] ?? path.join(VENDOR, '.cache')),
    tarball: v.tarball && path.resolve(v.tarball), force: v.force,
  };
  const m = loadManifest(o.manifest);
  const extra = cmd === 'bump' ? rest[1] : cmd;
  if (extra !== undefined) fail(`unexpected argument "${extra}"\n${USAGE}`);
  try {
    if (cmd === 'bump') return await bump(m, o.manifest, rest[0]);
    const t = target(m, resolvePlatform(m, v.platform), o);
    if (v['print-path']) return console.log(t.bin);
    return await fetchCli(t, o);
  } finally {
    cleanup();
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      cleanup();
      console.error(`\nfetch-cli: interrupted (${sig}); temporary files removed, no partial binary was left.`);
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
  main(process.argv.slice(2)).catch((e) => {
    cleanup();
    console.error(`fetch-cli: error: ${e instanceof UserError ? e.message : e.stack}`);
    process.exitCode = 1;
  });
}
