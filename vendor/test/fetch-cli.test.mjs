// Offline tests for vendor/fetch-cli.mjs: `node --test vendor/test/`.
// Every run uses a temp manifest, out dir, cache dir and TMPDIR, with fake tarballs built
// here, so nothing touches the network, src-tauri/binaries or vendor/.cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { loadManifest, resolvePlatform, UserError } from '../fetch-cli.mjs';

const VENDOR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SCRIPT = path.join(VENDOR, 'fetch-cli.mjs');
const posixOnly = { skip: process.platform === 'win32' && 'needs POSIX shell scripts' };
const FAKE_CLI = '#!/bin/sh\necho "fake copilot 1.0.102"\n';

/** A gzip'd ustar archive holding `files` ({ path: content }). */
function tarball(files) {
  const parts = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write('0000755\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136); h.write('        ', 148); h.write('0', 156);
    h.write('ustar\x0000', 257);
    h.write(`${h.reduce((a, b) => a + b, 0).toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return zlib.gzipSync(Buffer.concat([...parts, Buffer.alloc(1024)]));
}

const integrity = (buf) => `sha512-${createHash('sha512').update(buf).digest('base64')}`;

/** A fresh sandbox: manifest pinned to a good fake tarball, empty out/cache/tmp dirs. */
function sandbox(t, { exe = 'copilot', platform = 'linux-x64', triple = 'x86_64-unknown-linux-gnu' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-cli-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = {
    dir, out: path.join(dir, 'out'), cache: path.join(dir, 'cache'), tmp: path.join(dir, 'tmp'),
    manifest: path.join(dir, 'cli.json'), tgz: path.join(dir, 'good.tgz'),
    good: tarball({ 'package/package.json': '{}', [`package/${exe}`]: FAKE_CLI, 'package/README.md': 'hi' }),
  };
  for (const d of [s.out, s.cache, s.tmp]) fs.mkdirSync(d);
  fs.writeFileSync(s.tgz, s.good);
  s.pin = (data, extra = {}) => fs.writeFileSync(s.manifest, JSON.stringify({
    packagePrefix: '@github/copilot-', version: '1.0.102',
    platforms: { [platform]: { triple, exe, integrity: integrity(data) }, ...extra },
  }));
  s.pin(s.good);
  s.bin = path.join(s.out, `copilot-desktop-cli-${triple}${path.extname(exe)}`);
  s.run = (args, env = {}) => spawnSync(process.execPath, [SCRIPT, '--manifest', s.manifest,
    '--out-dir', s.out, '--cache-dir', s.cache, ...args], {
    encoding: 'utf8', env: { ...process.env, TMPDIR: s.tmp, TMP: s.tmp, TEMP: s.tmp, ...env },
  });
  s.write = (name, data) => { const f = path.join(dir, name); fs.writeFileSync(f, data); return f; };
  return s;
}

const ls = (d) => fs.readdirSync(d);
function assertFailed(r, ...patterns) {
  assert.notEqual(r.status, 0, r.stdout);
  for (const p of patterns) assert.match(r.stderr, p);
}

test('a good tarball installs an executable with the Tauri sidecar name', (t) => {
  const s = sandbox(t);
  const r = s.run(['--platform', 'linux-x64', '--tarball', s.tgz]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Installed copilot 1\.0\.102 \(linux-x64/);
  assert.deepEqual(ls(s.out), ['copilot-desktop-cli-x86_64-unknown-linux-gnu']);
  assert.equal(fs.readFileSync(s.bin, 'utf8'), FAKE_CLI);
  assert.deepEqual(ls(s.tmp), []);
  if (process.platform !== 'win32') {
    assert.equal(fs.statSync(s.bin).mode & 0o777, 0o755);
    assert.equal(spawnSync(s.bin, ['--version'], { encoding: 'utf8' }).stdout, 'fake copilot 1.0.102\n');
  }
});

test('win32 packages install copilot.exe as copilot-<triple>.exe', (t) => {
  const s = sandbox(t, { exe: 'copilot.exe', platform: 'win32-x64', triple: 'x86_64-pc-windows-msvc' });
  const r = s.run(['--platform', 'win32-x64', '--tarball', s.tgz]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(ls(s.out), ['copilot-desktop-cli-x86_64-pc-windows-msvc.exe']);
});

test('integrity mismatch: non-zero exit, expected vs actual, nothing written', (t) => {
  const s = sandbox(t);
  const other = s.write('other.tgz', tarball({ 'package/copilot': 'evil' }));
  const r = s.run(['--platform', 'linux-x64', '--tarball', other]);
  assertFailed(r, /integrity check failed/, new RegExp(`expected ${integrity(s.good).replace(/[+/]/g, '\\$&')}`),
    new RegExp(`actual +${integrity(fs.readFileSync(other)).replace(/[+/]/g, '\\$&')}`));
  assert.deepEqual(ls(s.out), []);
  assert.deepEqual(ls(s.cache), []);
  assert.deepEqual(ls(s.tmp), []);
});

test('temp files left by a killed run are swept, live ones are kept', (t) => {
  const s = sandbox(t);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited, so not alive
  const stale = path.join(s.out, `.${path.basename(s.bin)}.${dead}.tmp`);
  const live = path.join(s.out, `.${path.basename(s.bin)}.${process.pid}.tmp`);
  fs.writeFileSync(stale, 'half');
  fs.writeFileSync(live, 'another run in progress');
  assert.equal(s.run(['--platform', 'linux-x64', '--tarball', s.tgz]).status, 0);
  assert.deepEqual(ls(s.out).sort(), [path.basename(live), path.basename(s.bin)].sort());
});

test('a failed fetch leaves an existing binary untouched', (t) => {
  const s = sandbox(t);
  fs.writeFileSync(s.bin, 'previous binary');
  const r = s.run(['--platform', 'linux-x64', '--tarball', s.write('bad.tgz', 'not a tarball')]);
  assertFailed(r, /integrity check failed/);
  assert.deepEqual(ls(s.out), [path.basename(s.bin)]);
  assert.equal(fs.readFileSync(s.bin, 'utf8'), 'previous binary');
});

test('truncated tarball is rejected by the integrity check', (t) => {
  const s = sandbox(t);
  const cut = s.write('cut.tgz', s.good.subarray(0, s.good.length - 40));
  assertFailed(s.run(['--platform', 'linux-x64', '--tarball', cut]), /integrity check failed/);
  assert.deepEqual(ls(s.out), []);
});

test('truncated tarball that matches its pin fails extraction cleanly', (t) => {
  const s = sandbox(t);
  const big = tarball({ 'package/copilot': Buffer.alloc(300_000, 'x') }); // gzip ends mid-entry
  const cut = s.write('cut.tgz', big.subarray(0, big.length - 40));
  s.pin(fs.readFileSync(cut));
  assertFailed(s.run(['--platform', 'linux-x64', '--tarball', cut]), /could not extract package\/copilot/);
  assert.deepEqual(ls(s.out), []); // temp file removed too
  assert.deepEqual(ls(s.cache), []);

  const tarCut = s.write('tarcut.tgz', zlib.gzipSync(zlib.gunzipSync(big).subarray(0, 4096)));
  s.pin(fs.readFileSync(tarCut));
  assertFailed(s.run(['--platform', 'linux-x64', '--tarball', tarCut]), /truncated/);
  assert.deepEqual(ls(s.out), []);
});

test('a package without the executable is a clear error', (t) => {
  const s = sandbox(t);
  const f = s.write('empty.tgz', tarball({ 'package/package.json': '{}' }));
  s.pin(fs.readFileSync(f));
  assertFailed(s.run(['--platform', 'linux-x64', '--tarball', f]), /has no package\/copilot/);
  assert.deepEqual(ls(s.out), []);
});

test('unknown platforms are rejected with the supported list', (t) => {
  const s = sandbox(t);
  assertFailed(s.run(['--platform', 'freebsd-x64']), /unknown platform "freebsd-x64".*linux-x64/);
  const m = loadManifest(path.join(VENDOR, 'cli.json'));
  for (const host of ['freebsd-x64', 'linux-ia32', 'linux-s390x']) {
    assert.throws(() => resolvePlatform(m, undefined, host),
      (e) => e instanceof UserError && e.message.includes(`this host (${host})`) &&
        e.message.includes('linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64'));
  }
  assert.equal(resolvePlatform(m, undefined, 'darwin-arm64'), 'darwin-arm64');
});

test('fast path: a verified install is not fetched again', (t) => {
  const s = sandbox(t);
  assert.equal(s.run(['--platform', 'linux-x64', '--tarball', s.tgz]).status, 0);
  // A bad tarball proves the second run never looks at its source.
  const r = s.run(['--platform', 'linux-x64', '--tarball', s.write('bad.tgz', 'junk')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /is up to date/);
  assert.equal(fs.readFileSync(s.bin, 'utf8'), FAKE_CLI);
});

test('a modified binary or stale stamp is fetched again', (t) => {
  const s = sandbox(t);
  const args = ['--platform', 'linux-x64', '--tarball', s.tgz];
  assert.equal(s.run(args).status, 0);
  fs.appendFileSync(s.bin, '# tampered\n');
  let r = s.run(args);
  assert.match(r.stdout, /Installed/);
  assert.equal(fs.readFileSync(s.bin, 'utf8'), FAKE_CLI);

  const stamp = path.join(s.cache, 'linux-x64.json');
  fs.writeFileSync(stamp, JSON.stringify({ ...JSON.parse(fs.readFileSync(stamp)), version: '1.0.0' }));
  r = s.run(args);
  assert.match(r.stdout, /Installed/);
  assert.match(s.run(args).stdout, /up to date/);
  assert.match(s.run([...args, '--force']).stdout, /Installed/);
});

test('--print-path prints the target path for a platform', (t) => {
  const s = sandbox(t, { exe: 'copilot.exe', platform: 'win32-arm64', triple: 'aarch64-pc-windows-msvc' });
  const r = s.run(['--print-path', '--platform', 'win32-arm64']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), path.join(s.out, 'copilot-desktop-cli-aarch64-pc-windows-msvc.exe'));
  assert.deepEqual(ls(s.out), []);
});

// ---- npm is faked with a script on PATH (it reads FAKE_NPM_* env vars)

function fakeNpm(s) {
  const bin = path.join(s.dir, 'fakebin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'npm'), `#!${process.execPath}
const fs = require('fs'), path = require('path');
const [cmd, spec] = process.argv.slice(2);
if (process.env.FAKE_NPM_HANG) { // record our pid, start a download, never finish
  fs.writeFileSync(process.env.FAKE_NPM_HANG, String(process.pid));
  fs.writeFileSync(path.join(process.argv[5], 'partial.tgz'), 'x'); setInterval(() => {}, 1000);
}
else if (cmd === 'pack' && process.env.FAKE_NPM_TGZ) {
  fs.copyFileSync(process.env.FAKE_NPM_TGZ, path.join(process.argv[5], 'pkg.tgz'));
} else if (cmd === 'view' && JSON.parse(process.env.FAKE_NPM_VIEW || '{}')[spec]) {
  console.log(JSON.stringify({ 'dist.integrity': JSON.parse(process.env.FAKE_NPM_VIEW)[spec], bin: { x: 'copilot' } }));
} else {
  console.log(JSON.stringify({ error: { code: 'E404', summary: 'No match found for ' + spec } }));
  console.error('npm error code E404'); process.exit(1);
}
`, { mode: 0o755 });
  return { PATH: `${bin}${path.delimiter}${process.env.PATH}` };
}

test('fetches through npm pack into a temp dir that is removed afterwards', posixOnly, (t) => {
  const s = sandbox(t);
  const env = fakeNpm(s);
  const r = s.run(['--platform', 'linux-x64'], { ...env, FAKE_NPM_TGZ: s.tgz });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Fetching @github\/copilot-linux-x64@1\.0\.102/);
  assert.equal(fs.readFileSync(s.bin, 'utf8'), FAKE_CLI);
  assert.deepEqual(ls(s.tmp), []);

  const fail = s.run(['--platform', 'linux-x64', '--force'], env);
  assertFailed(fail, /`npm pack @github\/copilot-linux-x64@1\.0\.102` failed \(exit 1\)/, /E404/);
  assert.deepEqual(ls(s.tmp), []);
});

const alive = (pid) => { try { return process.kill(pid, 0); } catch { return false; } };

test('Ctrl-C during the download stops npm and removes temp files', posixOnly, async (t) => {
  const s = sandbox(t);
  const pidFile = path.join(s.dir, 'npm.pid');
  const c = spawn(process.execPath, [SCRIPT, '--manifest', s.manifest, '--out-dir', s.out,
    '--cache-dir', s.cache, '--platform', 'linux-x64'],
  { env: { ...process.env, ...fakeNpm(s), TMPDIR: s.tmp, FAKE_NPM_HANG: pidFile } });
  let stderr = '';
  c.stderr.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 10_000; // wait until npm has started writing
  while (!fs.readdirSync(s.tmp).some((d) => ls(path.join(s.tmp, d)).length) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  c.kill('SIGINT');
  const code = await new Promise((r) => c.on('exit', (status) => r(status)));
  assert.equal(code, 130);
  assert.match(stderr, /interrupted \(SIGINT\)/);
  assert.deepEqual(ls(s.tmp), []);
  assert.deepEqual(ls(s.out), []);
  const npmPid = Number(fs.readFileSync(pidFile, 'utf8'));
  t.after(() => alive(npmPid) && process.kill(npmPid, 'SIGKILL'));
  for (let i = 0; i < 40 && alive(npmPid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(npmPid), false, 'npm child still running');
});

test('bump rewrites the manifest only when every platform exists', posixOnly, (t) => {
  const s = sandbox(t);
  const env = fakeNpm(s);
  const m = loadManifest(path.join(VENDOR, 'cli.json'));
  fs.writeFileSync(s.manifest, JSON.stringify(m));
  const view = Object.fromEntries(Object.keys(m.platforms).map((p) => [`@github/copilot-${p}@9.9.9`, integrity(p)]));

  const { [`@github/copilot-win32-arm64@9.9.9`]: _, ...partial } = view;
  assertFailed(s.run(['bump', '9.9.9'], { ...env, FAKE_NPM_VIEW: JSON.stringify(partial) }),
    /cannot bump to 9\.9\.9.*unchanged/, /copilot-win32-arm64@9\.9\.9: No match found/);
  assert.deepEqual(JSON.parse(fs.readFileSync(s.manifest)), m);

  assertFailed(s.run(['bump', '^9'], env), /exact version/);

  const r = s.run(['bump', '9.9.9'], { ...env, FAKE_NPM_VIEW: JSON.stringify(view) });
  assert.equal(r.status, 0, r.stderr);
  const bumped = JSON.parse(fs.readFileSync(s.manifest));
  assert.equal(bumped.version, '9.9.9');
  assert.equal(bumped.platforms['darwin-arm64'].integrity, integrity('darwin-arm64'));
  assert.equal(bumped.platforms['darwin-arm64'].triple, 'aarch64-apple-darwin');
  assert.deepEqual(ls(s.dir).filter((f) => f.endsWith('.tmp')), []);
});

test('the real vendor/cli.json pins all six platforms', () => {
  const m = loadManifest(path.join(VENDOR, 'cli.json'));
  assert.equal(m.packagePrefix, '@github/copilot-');
  assert.match(m.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(Object.fromEntries(Object.entries(m.platforms).map(([p, e]) => [p, [e.triple, e.exe]])), {
    'linux-x64': ['x86_64-unknown-linux-gnu', 'copilot'],
    'linux-arm64': ['aarch64-unknown-linux-gnu', 'copilot'],
    'darwin-x64': ['x86_64-apple-darwin', 'copilot'],
    'darwin-arm64': ['aarch64-apple-darwin', 'copilot'],
    'win32-x64': ['x86_64-pc-windows-msvc', 'copilot.exe'],
    'win32-arm64': ['aarch64-pc-windows-msvc', 'copilot.exe'],
  });
  for (const [p, e] of Object.entries(m.platforms)) {
    assert.match(e.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/, p);
  }
  assert.equal(new Set(Object.values(m.platforms).map((e) => e.integrity)).size, 6);
  // The installed names must match what Tauri bundles.
  const tauri = JSON.parse(fs.readFileSync(path.join(VENDOR, '..', 'src-tauri', 'tauri.conf.json'), 'utf8'));
  assert.deepEqual(tauri.bundle.externalBin, ['binaries/copilot-desktop-cli']);
});
