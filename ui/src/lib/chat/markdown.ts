// Markdown from the model, made safe and rendered incrementally. Model output is hostile: every piece of
// HTML marked produces goes through DOMPurify with an allowlist before it becomes DOM; links never get an
// href the webview could follow (the URL waits in data-href for `onLink`), images survive only as inline
// raster data: URLs. `StreamingMarkdown` keeps the DOM of finished top-level blocks and re-renders only the
// open last block as text streams in, and clones finished texts it rendered before (a message scrolled back
// into view) from a bounded cache instead of rendering them again. Knows nothing about transcripts or the Backend.

import DOMPurify, { type Config } from "dompurify";
import { Marked, type Token, type TokensList } from "marked";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdownLanguage from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

// Languages (with their aliases) a coding agent's answers mostly use; anything else is shown unhighlighted.
const LANGUAGES = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  go,
  ini, // also "toml"
  java,
  javascript,
  json,
  markdown: markdownLanguage,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml, // also "html", "svg"
  yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(["sh", "zsh"], { languageName: "bash" });
hljs.registerAliases(["jsonc"], { languageName: "json" });

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function highlightCode(code: string, info: string | undefined): string {
  const lang = (info ?? "").trim().split(/\s+/)[0]!.toLowerCase();
  const language = lang ? hljs.getLanguage(lang) : undefined;
  const langClass = lang.replace(/[^\w+#.-]/g, "");
  const classes = langClass ? `hljs language-${langClass}` : "hljs";
  let body: string;
  if (language) {
    try {
      body = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    } catch {
      body = escapeHtml(code);
    }
  } else {
    body = escapeHtml(code);
  }
  return `<pre><code class="${classes}">${body}</code></pre>\n`;
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  silent: true,
  renderer: {
    code({ text, lang }) {
      return highlightCode(text.replace(/\n$/, ""), lang);
    },
    // Task lists: marked draws <input type=checkbox>, and form controls are not allowed; text says the same.
    checkbox({ checked }) {
      return checked ? "☑ " : "☐ ";
    },
  },
});

// ---------------------------------------------------------------------------------------------------------
// Sanitizing

const ALLOWED_TAGS = [
  "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
  "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
  "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
  "th", "thead", "tr", "u", "ul", "var",
];
// Named explicitly as well, so a later change to the allowlist cannot let them in by accident.
const FORBIDDEN_TAGS = [
  "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
  "textarea", "select", "option", "svg", "math", "base", "meta", "link", "template", "noscript", "portal",
  "video", "audio", "source", "track", "canvas",
];
const ALLOWED_ATTR = ["href", "src", "alt", "title", "class", "align", "start", "colspan", "rowspan", "open"];

const SANITIZE_CONFIG: Config & { RETURN_DOM_FRAGMENT: true } = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  FORBID_TAGS: FORBIDDEN_TAGS,
  FORBID_ATTR: ["style", "srcset", "action", "formaction", "xlink:href", "target", "ping", "data"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  ALLOW_SELF_CLOSE_IN_ATTR: false,
  SAFE_FOR_TEMPLATES: false,
  WHOLE_DOCUMENT: false,
  RETURN_DOM_FRAGMENT: true,
};

// Classes from markdown are for highlighting only; anything else could borrow the app's own styles.
const SAFE_CLASS = /^(?:hljs(?:-[\w-]+)?|[a-z][a-z0-9]*_+|language-[\w+#.-]+)$/;

let purifier: ReturnType<typeof DOMPurify> | undefined;

function purify(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  // An instance of our own: its hooks must not leak into anything else that uses DOMPurify.
  const instance = DOMPurify(window);
  instance.addHook("uponSanitizeAttribute", (_node, data) => {
    if (data.attrName === "class") {
      data.attrValue = data.attrValue
        .split(/\s+/)
        .filter((name) => SAFE_CLASS.test(name))
        .join(" ");
      if (!data.attrValue) data.keepAttr = false;
    }
  });
  // Parsed once. With a config set, `sanitize` uses it and does not parse the (same) config it is handed
  // again: parsing it per call was most of the cost of sanitizing a short block.
  instance.setConfig(SANITIZE_CONFIG);
  purifier = instance;
  return instance;
}

const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);
const SAFE_IMAGE = /^data:image\/(?:png|gif|jpeg|webp)[;,]/i;

/**
 * The URL a link may open, or null: http, https and mailto URLs (normalized by the URL parser, so
 * obfuscations like "java\tscript:" or upper case fail) and in-document "#anchors".
 */
export function safeLinkUrl(href: string | null | undefined): string | null {
  if (!href) return null;
  const trimmed = href.trim();
  if (/^#[^\s]*$/.test(trimmed)) return trimmed;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  return LINK_SCHEMES.has(url.protocol) ? url.href : null;
}

/** Whether `src` is an image the CSP allows and that cannot script: an inline PNG, GIF, JPEG or WebP. */
export function isSafeImageSource(src: string | null | undefined): boolean {
  return !!src && SAFE_IMAGE.test(src.trim());
}

/** Sanitizes `html` into a DocumentFragment that is safe to insert: see the module comment for the rules. */
export function sanitizeHtml(html: string): DocumentFragment {
  // DOMPurify hands back nodes of its own inert document; adopt them into ours before touching them (in
  // jsdom, querying a fragment of a foreign document is slow and gets slower with every document made).
  const fragment = document.adoptNode(purify().sanitize(html, SANITIZE_CONFIG));
  for (const link of fragment.querySelectorAll("a")) {
    const url = safeLinkUrl(link.getAttribute("href"));
    link.removeAttribute("href");
    if (url) {
      link.dataset.href = url;
      link.setAttribute("role", "link");
      link.tabIndex = 0;
      if (!link.title && !url.startsWith("#")) link.title = url;
    }
  }
  for (const image of fragment.querySelectorAll("img")) {
    if (!isSafeImageSource(image.getAttribute("src"))) image.remove();
  }
  return fragment;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function decorateCodeBlocks(fragment: DocumentFragment): void {
  for (const pre of fragment.querySelectorAll("pre")) {
    const block = document.createElement("div");
    block.className = "code-block";
    const header = document.createElement("div");
    header.className = "code-header";
    const label = document.createElement("span");
    label.className = "code-language";
    label.textContent = languageLabel(pre.querySelector("code"));
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy-code";
    copy.textContent = "Copy";
    copy.setAttribute("aria-label", "Copy code");
    header.append(label, copy);
    pre.replaceWith(block);
    block.append(header, pre);
  }
}

function languageLabel(code: Element | null): string {
  const lang = /(?:^|\s)language-(\S+)/.exec(code?.className ?? "")?.[1] ?? "";
  return hljs.getLanguage(lang)?.name ?? lang;
}

function renderTokens(tokens: Token[]): DocumentFragment {
  let html: string;
  try {
    html = marked.parser(tokens);
  } catch {
    html = `<p>${escapeHtml(tokens.map((token) => token.raw).join(""))}</p>`;
  }
  const fragment = sanitizeHtml(html);
  decorateCodeBlocks(fragment);
  return fragment;
}

function lex(source: string): TokensList {
  return marked.lexer(source);
}

/** Renders a whole markdown text (not streamed) into a safe fragment. */
export function renderMarkdown(text: string): DocumentFragment {
  return renderTokens(lex(normalizeNewlines(text)));
}

function normalizeNewlines(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

function endsWithBlankLine(text: string): boolean {
  let i = text.length - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  if (i < 0 || text[i] !== "\n") return false;
  i--;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return i >= 0 && text[i] === "\n";
}

interface BlockGroup {
  tokens: Token[];
  raw: string;
}

/**
 * Splits top-level tokens into blocks that later text cannot change: a boundary is a blank line followed
 * by a new (non-space) token. Without a blank line a following line could still turn the previous one into
 * something else (a setext heading, a lazy continuation, a table), so those stay together.
 */
function groupBlocks(tokens: Token[]): BlockGroup[] {
  const groups: BlockGroup[] = [];
  let current: BlockGroup = { tokens: [], raw: "" };
  for (const token of tokens) {
    if (token.type !== "space" && current.tokens.some((t) => t.type !== "space") && endsWithBlankLine(current.raw)) {
      groups.push(current);
      current = { tokens: [], raw: "" };
    }
    current.tokens.push(token);
    current.raw += token.raw;
  }
  if (current.tokens.length > 0) groups.push(current);
  return groups;
}

// ---------------------------------------------------------------------------------------------------------
// Finished texts rendered before

interface RenderedText {
  /** Detached, never shown: each use gets a deep clone. */
  blocks: HTMLElement[];
  hasDefinitions: boolean;
}

/**
 * The rendered blocks of finished texts by their source, least recently used first. A clone of sanitized DOM
 * is as safe as the original and costs a small fraction of lexing, highlighting and sanitizing it again.
 * Bounded by entries and by the characters of source they hold (the DOM is about proportional to it).
 */
class RenderedTexts {
  readonly #entries = new Map<string, RenderedText>();
  #chars = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxChars: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  has(source: string): boolean {
    return this.#entries.has(source);
  }

  /** Fresh clones of the blocks rendered for `source`, or undefined. */
  take(source: string): { blocks: HTMLElement[]; hasDefinitions: boolean } | undefined {
    const entry = this.#entries.get(source);
    if (!entry) return undefined;
    this.#entries.delete(source);
    this.#entries.set(source, entry);
    return { blocks: entry.blocks.map((block) => block.cloneNode(true) as HTMLElement), hasDefinitions: entry.hasDefinitions };
  }

  /** Keeps clones of `blocks` (as rendered: nothing a user did to them since) for `source`. */
  put(source: string, blocks: readonly HTMLElement[], hasDefinitions: boolean): void {
    if (source.length > this.maxChars || this.#entries.has(source)) return;
    this.#entries.set(source, { blocks: blocks.map((block) => block.cloneNode(true) as HTMLElement), hasDefinitions });
    this.#chars += source.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries && this.#chars <= this.maxChars) break;
      this.#entries.delete(oldest);
      this.#chars -= oldest.length;
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#chars = 0;
  }
}

const renderedTexts = new RenderedTexts(200, 200_000);

/** How many finished texts are kept rendered (for tests). */
export function renderedTextCount(): number {
  return renderedTexts.size;
}

/**
 * Renders a finished text ahead of time (off screen, into the cache), so a row that shows it later only clones
 * it. Returns whether there was work to do. For idle time: a message about to scroll into view.
 */
export function prerenderMarkdown(text: string): boolean {
  if (text === "" || renderedTexts.has(normalizeNewlines(text))) return false;
  const view = new StreamingMarkdown(document.createElement("div"), { onLink: () => {} });
  view.update(text, false);
  view.destroy();
  return true;
}

/** Forgets every finished text rendered so far (for tests). */
export function clearRenderedTexts(): void {
  renderedTexts.clear();
}

export interface MarkdownCallbacks {
  /** A link was activated: an http(s) or mailto URL, validated. The app asks the user, then opens it. */
  onLink(url: string): void;
  /** Copies text; defaults to `copyText`. */
  copy?(text: string): Promise<void>;
}

/** Copies `text` to the clipboard: the async Clipboard API, else a hidden textarea and execCommand("copy"). */
export async function copyText(text: string): Promise<void> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return;
    }
  } catch {
    // Denied (no user activation, no permission): the fallback below may still work.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.readOnly = true;
  area.setAttribute("aria-hidden", "true");
  area.style.setProperty("position", "fixed");
  area.style.setProperty("top", "0");
  area.style.setProperty("left", "-9999px");
  area.style.setProperty("opacity", "0");
  document.body.append(area);
  try {
    area.select();
    if (!document.execCommand("copy")) throw new Error("Copy is not available");
  } finally {
    area.remove();
  }
}

function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .replace(/\s+/g, "-");
}

/**
 * Renders markdown into `element` and keeps it in step with a growing text. Finished top-level blocks are
 * rendered once and their DOM kept; each `update` re-lexes only from the first unfinished block and
 * re-renders that one. Clicks on links and Copy buttons are handled here (one listener on `element`).
 */
export class StreamingMarkdown {
  readonly element: HTMLElement;
  readonly #callbacks: MarkdownCallbacks;
  /** The normalized source of the finished blocks. */
  #committed = "";
  #blocks: HTMLElement[] = [];
  #open: HTMLElement | null = null;
  #openSource = "";
  #streaming = false;
  #hasDefinitions = false;
  #copyTimers = new Map<HTMLButtonElement, ReturnType<typeof setTimeout>>();

  constructor(element: HTMLElement, callbacks: MarkdownCallbacks) {
    this.element = element;
    this.#callbacks = callbacks;
    element.addEventListener("click", this.#onClick);
    element.addEventListener("keydown", this.#onKeydown);
  }

  /** The finished blocks' elements (for tests and measurements). */
  get blocks(): readonly HTMLElement[] {
    return this.#blocks;
  }

  /** Shows `text`; `streaming` says more may come (the last block stays open). */
  update(text: string, streaming: boolean): void {
    const source = normalizeNewlines(text);
    if (!source.startsWith(this.#committed)) this.#reset();
    const tail = source.slice(this.#committed.length);
    if (tail === this.#openSource && streaming === this.#streaming && (this.#open || tail === "")) return;
    this.#streaming = streaming;

    // A finished text shown whole, as in history: render it once, clone it every later time.
    const whole = !streaming && this.#committed === "" && !this.#open && source !== "";
    if (whole) {
      const rendered = renderedTexts.take(source);
      if (rendered) {
        this.element.replaceChildren(...rendered.blocks);
        this.#blocks = rendered.blocks;
        this.#committed = source;
        this.#openSource = "";
        this.#hasDefinitions = rendered.hasDefinitions;
        return;
      }
    }

    const tokens = lex(tail);
    if (Object.keys(tokens.links).length > 0) this.#hasDefinitions = true;
    if (!streaming && this.#hasDefinitions && this.#committed !== "") {
      // A link reference definition can resolve links in blocks rendered before it arrived: redo it all once.
      this.#reset();
      this.update(text, false);
      return;
    }

    let groups = groupBlocks(tokens);
    // The lexer's raws must add up to the source, or offsets would drift: then keep it all open.
    if (groups.reduce((length, group) => length + group.raw.length, 0) !== tail.length) {
      groups = [{ tokens, raw: tail }];
    }
    const finished = streaming ? groups.length - 1 : groups.length;
    for (let i = 0; i < finished; i++) {
      const group = groups[i]!;
      let block: HTMLElement;
      if (i === 0 && this.#open && group.raw === this.#openSource) {
        // The open block is done exactly as last rendered: keep its DOM.
        block = this.#open;
        block.classList.remove("open");
        this.#open = null;
      } else {
        block = this.#renderBlock(group.tokens);
        this.element.insertBefore(block, this.#open);
      }
      this.#blocks.push(block);
      this.#committed += group.raw;
    }

    const last = streaming ? groups[groups.length - 1] : undefined;
    if (last && last.tokens.some((token) => token.type !== "space")) {
      if (!this.#open || last.raw !== this.#openSource) {
        const block = this.#renderBlock(last.tokens);
        block.classList.add("open");
        if (this.#open) this.#open.replaceWith(block);
        else this.element.append(block);
        this.#open = block;
      }
      this.#openSource = last.raw;
    } else {
      this.#open?.remove();
      this.#open = null;
      this.#openSource = "";
    }
    if (whole && this.#committed === source) renderedTexts.put(source, this.#blocks, this.#hasDefinitions);
  }

  destroy(): void {
    this.element.removeEventListener("click", this.#onClick);
    this.element.removeEventListener("keydown", this.#onKeydown);
    for (const timer of this.#copyTimers.values()) clearTimeout(timer);
    this.#copyTimers.clear();
  }

  #reset(): void {
    this.element.replaceChildren();
    this.#blocks = [];
    this.#committed = "";
    this.#open = null;
    this.#openSource = "";
    this.#hasDefinitions = false;
  }

  #renderBlock(tokens: Token[]): HTMLElement {
    const block = document.createElement("div");
    block.className = "md-block";
    block.append(renderTokens(tokens));
    return block;
  }

  #onClick = (event: MouseEvent): void => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const copy = target.closest<HTMLButtonElement>("button.copy-code");
    if (copy && this.element.contains(copy)) {
      event.preventDefault();
      this.#copy(copy);
      return;
    }
    const link = target.closest<HTMLElement>("[data-href]");
    if (link && this.element.contains(link)) {
      event.preventDefault();
      this.#follow(link);
    }
  };

  #onKeydown = (event: KeyboardEvent): void => {
    if (event.key !== "Enter" || !(event.target instanceof HTMLElement)) return;
    const link = event.target.closest<HTMLElement>("[data-href]");
    if (link && this.element.contains(link)) {
      event.preventDefault();
      this.#follow(link);
    }
  };

  #follow(link: HTMLElement): void {
    const url = safeLinkUrl(link.dataset.href);
    if (!url) return;
    if (url.startsWith("#")) {
      const wanted = slug(decodeURIComponent(url.slice(1)));
      const heading = [...this.element.querySelectorAll("h1, h2, h3, h4, h5, h6")].find(
        (h) => slug(h.textContent ?? "") === wanted,
      );
      heading?.scrollIntoView?.({ block: "start" });
      return;
    }
    this.#callbacks.onLink(url);
  }

  #copy(button: HTMLButtonElement): void {
    const code = button.closest(".code-block")?.querySelector("pre")?.textContent ?? "";
    const copy = this.#callbacks.copy ?? copyText;
    copy(code).then(
      () => this.#feedback(button, "Copied"),
      () => this.#feedback(button, "Copy failed"),
    );
  }

  #feedback(button: HTMLButtonElement, text: string): void {
    button.textContent = text;
    clearTimeout(this.#copyTimers.get(button));
    this.#copyTimers.set(
      button,
      setTimeout(() => {
        button.textContent = "Copy";
        this.#copyTimers.delete(button);
      }, 1500),
    );
  }
}
