// Checks the built dist/ against the app's CSP (script-src 'self', style-src 'self', no remote assets): every
// page (index.html, floor.html) loads exactly one module script and no inline script or style; no file carries a
// style attribute, eval, new Function or an http(s) URL to load. Runs at the end of `npm run build`.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const dist = new URL("../dist/", import.meta.url).pathname;
const problems = [];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// Every page: index.html (the app) and floor.html (the UI benchmark's floor).
const pages = readdirSync(dist).filter((name) => name.endsWith(".html"));
if (!pages.includes("index.html")) problems.push("index.html is missing");
for (const page of pages) {
  const html = readFileSync(join(dist, page), "utf8");
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  const moduleScripts = scripts.filter(([, attrs]) => /\btype=["']?module\b/i.test(attrs) && /\bsrc=/i.test(attrs));
  if (moduleScripts.length !== 1) problems.push(`${page}: expected one module script, found ${moduleScripts.length}`);
  for (const [tag, attrs, body] of scripts) {
    if (!/\bsrc=/i.test(attrs) || body.trim()) problems.push(`${page}: inline script ${tag.slice(0, 80)}`);
  }
  if (/<style\b/i.test(html)) problems.push(`${page}: inline <style> element`);
  if (/\son[a-z]+\s*=/i.test(html)) problems.push(`${page}: inline event handler attribute`);
}

let bytes = 0;
for (const path of files(dist)) {
  const name = relative(dist, path);
  const text = readFileSync(path, "utf8");
  bytes += statSync(path).size;
  if (/\sstyle\s*=\s*["']/i.test(text)) problems.push(`${name}: style attribute`);
  if (/\beval\s*\(|\bnew\s+Function\s*\(/.test(text)) problems.push(`${name}: eval or new Function`);
  if (/(?:src|href)\s*=\s*["']https?:|url\(\s*["']?https?:|@import\s+["']?https?:/i.test(text)) {
    problems.push(`${name}: loads a remote resource`);
  }
}

if (problems.length) {
  console.error(`dist/ breaks the CSP:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`dist/ fits the CSP: ${files(dist).length} files, ${(bytes / 1024).toFixed(1)} KiB`);
