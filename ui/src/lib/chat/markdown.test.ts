import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  StreamingMarkdown,
  clearRenderedTexts,
  renderMarkdown,
  renderedTextCount,
  safeLinkUrl,
  sanitizeHtml,
} from "./markdown";

// Inline handlers and scripts run in jsdom's own window (vitest exposes it as globalThis.jsdom), not in the
// test's global: the canary is read there.
type Canary = { __pwned?: unknown };
function scriptWindow(): Canary {
  return (globalThis as unknown as { jsdom: { window: Canary } }).jsdom.window;
}

const DOCUMENT = `# Title

Some *emphasis*, **strong**, \`code\` and a [link](https://example.com/a?b=1).
A second line of the same paragraph.

Setext heading
--------------

- one
- two
  - nested
- [x] done

1. first
2. second

> quoted
> text

\`\`\`ts
const answer: number = 42; // <b>not bold</b>
function f() { return "<script>"; }
\`\`\`

| a | b |
|:--|--:|
| 1 | 2 |

    indented code

A reference [link][ref] and <kbd>Ctrl</kbd>.

---

[ref]: https://example.org/ref

\`\`\`
unclosed at the end
`;

/** A small deterministic PRNG, so a failing chunking can be reproduced. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function chunks(text: string, seed: number, max = 12): string[] {
  const next = random(seed);
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const size = 1 + Math.floor(next() * max);
    out.push(text.slice(i, i + size));
    i += size;
  }
  return out;
}

function whole(text: string): HTMLElement {
  const element = document.createElement("div");
  new StreamingMarkdown(element, { onLink: () => {} }).update(text, false);
  return element;
}

function streamed(text: string, seed: number, max?: number): HTMLElement {
  const element = document.createElement("div");
  const view = new StreamingMarkdown(element, { onLink: () => {} });
  let soFar = "";
  for (const chunk of chunks(text, seed, max)) {
    soFar += chunk;
    view.update(soFar, true);
  }
  view.update(text, false);
  return element;
}

describe("rendering", () => {
  test("draws common markdown with highlighted code and a Copy button per code block", () => {
    const element = whole(DOCUMENT);
    expect(element.querySelector("h1")?.textContent).toBe("Title");
    expect(element.querySelector("h2")?.textContent).toBe("Setext heading");
    expect(element.querySelectorAll("li").length).toBeGreaterThanOrEqual(6);
    expect(element.querySelector("table td")?.textContent).toBe("1");
    const code = element.querySelector("code.language-ts")!;
    expect(code.classList.contains("hljs")).toBe(true);
    expect(code.querySelector(".hljs-keyword")?.textContent).toBe("const");
    expect(element.querySelectorAll("button.copy-code")).toHaveLength(3);
    expect(element.querySelector(".code-language")?.textContent).toBe("TypeScript");
    // The task list item says what it is in text; no form control.
    expect(element.textContent).toContain("☑ done");
    expect(element.querySelector("input")).toBeNull();
  });

  test("text that looks like HTML inside code is text", () => {
    const element = whole("```html\n<script>window.__pwned = 1</script><img src=x onerror=alert(1)>\n```\n\n`<b>x</b>`");
    expect(element.querySelector("script, img, b")).toBeNull();
    expect(element.querySelector("pre")?.textContent).toBe("<script>window.__pwned = 1</script><img src=x onerror=alert(1)>");
    expect(element.querySelector("p code")?.textContent).toBe("<b>x</b>");
  });

  test("an unclosed code fence is a code block while it streams", () => {
    const element = document.createElement("div");
    const view = new StreamingMarkdown(element, { onLink: () => {} });
    view.update("Here:\n\n```python\ndef f():\n    return 1\n", true);
    expect(element.querySelector("pre code.language-python")?.textContent).toBe("def f():\n    return 1");
    expect(element.querySelector("button.copy-code")).not.toBeNull();
  });
});

describe("streaming", () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])("random chunks (seed %i) end in the same DOM as the whole text", (seed) => {
    expect(streamed(DOCUMENT, seed).innerHTML).toBe(whole(DOCUMENT).innerHTML);
  });

  test("one character at a time ends in the same DOM too", () => {
    const text = DOCUMENT.replace(/\[ref\]: .*\n/, "");
    expect(streamed(text, 1, 1).innerHTML).toBe(whole(text).innerHTML);
  });

  test("finished blocks keep their DOM nodes while later text streams in", () => {
    const element = document.createElement("div");
    const view = new StreamingMarkdown(element, { onLink: () => {} });
    view.update("# Heading\n\nFirst paragraph.\n\nSecond", true);
    const heading = element.querySelector("h1")!;
    const first = element.querySelectorAll("p")[0]!;
    const firstText = first.firstChild!;
    expect(view.blocks).toHaveLength(2);

    let text = "# Heading\n\nFirst paragraph.\n\nSecond";
    for (const more of [" paragraph", " grows.", "\n\n- a list", "\n- more", "\n\n```js\nlet x", " = 1;\n```\n"]) {
      text += more;
      view.update(text, true);
    }
    view.update(text, false);

    expect(element.querySelector("h1")).toBe(heading);
    expect(element.querySelectorAll("p")[0]).toBe(first);
    expect(first.firstChild).toBe(firstText);
    expect(element.querySelector("code.language-js")?.textContent).toBe("let x = 1;");
  });

  test("only the open block is re-rendered per update", () => {
    const element = document.createElement("div");
    const view = new StreamingMarkdown(element, { onLink: () => {} });
    let text = "";
    for (let i = 0; i < 50; i++) {
      text += `Paragraph ${i} has some words.\n\n`;
      view.update(text, true);
    }
    const before = [...element.children];
    view.update(`${text}Tail`, true);
    const after = [...element.children];
    // Every block but the open last one is the very same node.
    expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, before.length - 1));
    expect(after.slice(0, before.length - 1).every((node, i) => node === before[i])).toBe(true);
  });

  test("a final text that differs from the deltas replaces them", () => {
    const element = document.createElement("div");
    const view = new StreamingMarkdown(element, { onLink: () => {} });
    view.update("Draft one.\n\nDraft", true);
    view.update("Final answer.", false);
    expect(element.textContent?.trim()).toBe("Final answer.");
  });
});

describe("hostile output", () => {
  const HOSTILE = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "[click](javascript:window.__pwned='js')",
    "[click](JaVaScRiPt:window.__pwned='js2')",
    "[click](java\tscript:window.__pwned='js3')",
    "<a href=\"javascript:window.__pwned='a'\">a</a>",
    "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+)",
    "<a href=\"data:text/html,<script>window.__pwned=1</script>\">d</a>",
    "<a data-href=\"javascript:window.__pwned='dh'\">forged</a>",
    "<a href=\"vbscript:msgbox\">vb</a>",
    "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__pwned='srcdoc'</script>\"></iframe>",
    "<svg onload=\"window.__pwned='svg'\"><circle r=1 /></svg>",
    "<svg><a xlink:href=\"javascript:window.__pwned='xlink'\"><text>x</text></a></svg>",
    "<svg><script>window.__pwned='svgscript'</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='math'\">",
    "<math href=\"javascript:window.__pwned='mathhref'\">m</math>",
    "<form action=\"https://evil.example\"><input name=q><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<base href=\"https://evil.example/\">",
    "<link rel=\"stylesheet\" href=\"https://evil.example/x.css\">",
    "<style>body { display: none }</style>",
    "<div style=\"position:fixed;inset:0\" onclick=\"window.__pwned='div'\">cover</div>",
    "<object data=\"javascript:window.__pwned='obj'\"></object><embed src=\"javascript:1\">",
    "<textarea>x</textarea><select><option>1</option></select>",
    "<details open ontoggle=\"window.__pwned='toggle'\"><summary>s</summary>d</details>",
    "<p class=\"shell session\" id=\"app\" name=\"location\">clobber</p>",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__pwned='ns'>\"></noscript>",
    "![x](https://evil.example/track.png)",
    "<video src=x onerror=\"window.__pwned='video'\"></video><audio src=x></audio>",
    "<template><script>window.__pwned='tpl'</script></template>",
  ];
  const FORBIDDEN = "script, style, iframe, object, embed, form, input, textarea, select, svg, math, base, meta, link, video, audio, template, noscript";

  beforeEach(() => {
    delete scriptWindow().__pwned;
  });

  function renderAll(): HTMLElement {
    const element = document.createElement("div");
    document.body.append(element);
    const view = new StreamingMarkdown(element, { onLink: () => {} });
    view.update(HOSTILE.join("\n\n"), false);
    return element;
  }

  test("the canary works: a surviving handler would be caught", () => {
    const control = document.createElement("div");
    control.innerHTML = "<div onclick=\"window.__pwned='control'\">x</div>";
    document.body.append(control);
    (control.firstChild as HTMLElement).click();
    expect(scriptWindow().__pwned).toBe("control");
    const script = document.createElement("script");
    script.textContent = "window.__pwned = 'script control'";
    document.body.append(script);
    expect(scriptWindow().__pwned).toBe("script control");
    script.remove();
    control.remove();
  });

  test("nothing executable, navigable or styling survives", async () => {
    const element = renderAll();
    expect(element.querySelectorAll(FORBIDDEN)).toHaveLength(0);
    for (const button of element.querySelectorAll("button")) expect(button.getAttribute("aria-label")).toBe("Copy code");
    for (const node of element.querySelectorAll("*")) {
      for (const attr of node.attributes) {
        expect(attr.name, `${node.tagName} ${attr.name}`).not.toMatch(/^on|^style$|^href$|^xlink:|^src$|^id$|^name$|^action$/);
      }
    }
    for (const link of element.querySelectorAll("[data-href]")) {
      expect(link.tagName).toBe("A");
      expect(link.getAttribute("data-href")).toMatch(/^(https?:|mailto:|#)/);
    }
    for (const image of element.querySelectorAll("img")) expect(image.getAttribute("src")).toMatch(/^data:image\/(png|gif|jpeg|webp)/);
    // Only highlighting classes survive, so model output cannot wear the app's styles.
    for (const node of element.querySelectorAll("[class]")) {
      for (const name of node.classList) expect(name).toMatch(/^(hljs|language-|md-block|code-|copy-code)/);
    }

    // Poke everything: click, load, error, toggle; then let any timers and microtasks run.
    for (const node of element.querySelectorAll<HTMLElement>("*")) {
      if (node.classList.contains("copy-code")) continue;
      node.click();
      for (const type of ["load", "error", "toggle", "mouseover", "focus"]) node.dispatchEvent(new Event(type));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(scriptWindow().__pwned).toBeUndefined();
    expect(document.querySelector("meta[http-equiv], base, link[rel=stylesheet]")).toBeNull();
    element.remove();
  });

  test("safe inline images stay", () => {
    const png = "data:image/png;base64,iVBORw0KGgo=";
    const element = whole(`![dot](${png}) <img src="${png}" onload="window.__pwned=1">`);
    const images = element.querySelectorAll("img");
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(image.getAttribute("src")).toBe(png);
      expect(image.getAttribute("onload")).toBeNull();
    }
  });

  test("sanitizeHtml keeps no attribute DOMPurify let through that could navigate", () => {
    const fragment = sanitizeHtml('<a href="https://ok.example/" target="_blank" rel="opener">ok</a>');
    const link = fragment.querySelector("a")!;
    expect(link.hasAttribute("href")).toBe(false);
    expect(link.hasAttribute("target")).toBe(false);
    expect(link.dataset.href).toBe("https://ok.example/");
  });
});

describe("links", () => {
  afterEach(() => {
    document.body.replaceChildren();
  });

  test("safeLinkUrl allows http, https, mailto and #anchors only", () => {
    expect(safeLinkUrl("https://example.com/x")).toBe("https://example.com/x");
    expect(safeLinkUrl("HTTP://EXAMPLE.com")).toBe("http://example.com/");
    expect(safeLinkUrl("mailto:a@b.c")).toBe("mailto:a@b.c");
    expect(safeLinkUrl("#section")).toBe("#section");
    for (const bad of ["javascript:alert(1)", " javascript:alert(1)", "java\nscript:x", "data:text/html,x", "file:///etc/passwd", "//evil.example", "relative/path.md", "vbscript:x", "tauri://localhost", "ipc://x", ""]) {
      expect(safeLinkUrl(bad), bad).toBeNull();
    }
  });

  test("a click calls onLink with the URL and never navigates", () => {
    const onLink = vi.fn();
    const element = document.createElement("div");
    document.body.append(element);
    new StreamingMarkdown(element, { onLink }).update("See [the docs](https://docs.example/x) or <https://auto.example>.", false);
    const links = element.querySelectorAll("a");
    expect(links).toHaveLength(2);
    for (const link of links) {
      expect(link.hasAttribute("href")).toBe(false);
      expect(link.getAttribute("role")).toBe("link");
      expect(link.tabIndex).toBe(0);
    }
    const event = new MouseEvent("click", { bubbles: true, cancelable: true });
    links[0]!.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(onLink).toHaveBeenCalledWith("https://docs.example/x");

    links[1]!.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(onLink).toHaveBeenLastCalledWith("https://auto.example/");
  });

  test("unsafe and relative links are plain text, not links", () => {
    const onLink = vi.fn();
    const element = document.createElement("div");
    new StreamingMarkdown(element, { onLink }).update("[a](javascript:alert(1)) [b](src/main.ts) [c](file:///x)", false);
    expect(element.querySelectorAll("[data-href], [role=link]")).toHaveLength(0);
    for (const link of element.querySelectorAll("a")) link.click();
    expect(onLink).not.toHaveBeenCalled();
    expect(element.textContent?.trim()).toBe("a b c");
  });

  test("an in-document anchor scrolls within the message instead of calling onLink", () => {
    const onLink = vi.fn();
    const element = document.createElement("div");
    new StreamingMarkdown(element, { onLink }).update("[go](#usage-notes)\n\n## Usage notes\n\ntext", false);
    const heading = element.querySelector("h2")!;
    heading.scrollIntoView = vi.fn();
    element.querySelector<HTMLElement>("[data-href]")!.click();
    expect(onLink).not.toHaveBeenCalled();
    expect(heading.scrollIntoView).toHaveBeenCalled();
  });
});

describe("copy button", () => {
  const original = Object.getOwnPropertyDescriptor(navigator, "clipboard");

  afterEach(() => {
    if (original) Object.defineProperty(navigator, "clipboard", original);
    else delete (navigator as { clipboard?: unknown }).clipboard;
    vi.useRealTimers();
  });

  function codeBlock(): { element: HTMLElement; button: HTMLButtonElement } {
    const element = document.createElement("div");
    document.body.append(element);
    new StreamingMarkdown(element, { onLink: () => {} }).update("```sh\necho '<hi>' && ls\n```", false);
    return { element, button: element.querySelector("button")! };
  }

  test("is a real button named Copy code that copies the code's text", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const { button } = codeBlock();
    expect(button.type).toBe("button");
    expect(button.getAttribute("aria-label")).toBe("Copy code");
    button.click();
    expect(writeText).toHaveBeenCalledWith("echo '<hi>' && ls");
    await vi.waitFor(() => expect(button.textContent).toBe("Copied"));
  });

  test("falls back to a hidden textarea and execCommand without the Clipboard API", async () => {
    Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
    let copied: string | undefined;
    const execCommand = vi.fn((command: string) => {
      copied = (document.activeElement as HTMLTextAreaElement | null)?.value ?? document.querySelector("textarea")?.value;
      return command === "copy";
    });
    Object.defineProperty(document, "execCommand", { value: execCommand, configurable: true });
    const { button } = codeBlock();
    button.click();
    await vi.waitFor(() => expect(button.textContent).toBe("Copied"));
    expect(execCommand).toHaveBeenCalledWith("copy");
    expect(copied).toBe("echo '<hi>' && ls");
    expect(document.querySelector("textarea")).toBeNull();
  });
});

describe("renderMarkdown", () => {
  test("renders a whole text to a sanitized fragment", () => {
    const fragment = renderMarkdown("**hi** <script>x</script>");
    expect(fragment.querySelector("strong")?.textContent).toBe("hi");
    expect(fragment.querySelector("script")).toBeNull();
  });
});

describe("finished texts rendered before", () => {
  const TEXT = "An answer with [a link](https://docs.example/x):\n\n- one\n- two\n\n```rust\nfn main() {}\n```";

  beforeEach(() => {
    clearRenderedTexts();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    document.body.replaceChildren();
  });

  function show(text: string, callbacks: { onLink?: (url: string) => void; copy?: (text: string) => Promise<void> } = {}) {
    const element = document.createElement("div");
    document.body.append(element);
    new StreamingMarkdown(element, { onLink: callbacks.onLink ?? (() => {}), copy: callbacks.copy }).update(text, false);
    return element;
  }

  test("are cloned, not rendered and sanitized again: the same DOM, nodes of its own", () => {
    const first = show(TEXT);
    expect(renderedTextCount()).toBe(1);
    // Every render adopts DOMPurify's output into the document; a clone does not.
    const adopt = vi.spyOn(document, "adoptNode");
    const second = show(TEXT);
    expect(adopt).not.toHaveBeenCalled();
    expect(second.innerHTML).toBe(first.innerHTML);
    expect(second.querySelector("pre")).not.toBe(first.querySelector("pre"));
    expect(renderedTextCount()).toBe(1);
  });

  test("a clone's links and Copy button work, each for its own view", async () => {
    show(TEXT);
    const onLink = vi.fn();
    const copy = vi.fn(async () => {});
    const second = show(TEXT, { onLink, copy });
    second.querySelector<HTMLElement>("[data-href]")!.click();
    expect(onLink).toHaveBeenCalledWith("https://docs.example/x");
    const button = second.querySelector<HTMLButtonElement>("button.copy-code")!;
    button.click();
    expect(copy).toHaveBeenCalledWith("fn main() {}");
    await vi.waitFor(() => expect(button.textContent).toBe("Copied"));
    // What the user did to one view is not what the next one starts with.
    expect(show(TEXT).querySelector("button.copy-code")!.textContent).toBe("Copy");
  });

  test("hostile output is as inert in a clone", () => {
    const hostile = "<img src=x onerror=\"window.__pwned = 1\"> <a href=\"javascript:alert(1)\">x</a> <script>window.__pwned = 2</script>";
    show(hostile);
    const clone = show(hostile);
    expect(clone.querySelector("script, [onerror], [href]")).toBeNull();
  });

  test("texts still streaming are not kept; a streamed text finished in place is not either", () => {
    const element = document.createElement("div");
    const view = new StreamingMarkdown(element, { onLink: () => {} });
    view.update("Para one.\n\nPara", true);
    view.update("Para one.\n\nPara two.", false);
    expect(renderedTextCount()).toBe(0);
  });

  test("are bounded: the least recently used go first", () => {
    for (let i = 0; i < 300; i++) show(`Answer ${i}.`);
    expect(renderedTextCount()).toBe(200);
    const adopt = vi.spyOn(document, "adoptNode");
    show("Answer 299.");
    expect(adopt).not.toHaveBeenCalled();
    show("Answer 0.");
    expect(adopt).toHaveBeenCalled();
  });
});
