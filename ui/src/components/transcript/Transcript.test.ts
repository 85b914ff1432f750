import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { flushSync } from "svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { ChatEvent, ChatEventKind } from "../../lib/backend";
import { SessionTranscript } from "../../lib/chat/transcript.svelte";
import Transcript from "./Transcript.svelte";

let nextId = 0;
function ev(kind: ChatEventKind): ChatEvent {
  return { id: `e${++nextId}`, timestamp: "2026-01-01T00:00:00Z", kind };
}

function renderTranscript(events: ChatEvent[] = [], onLink = vi.fn()) {
  const transcript = new SessionTranscript();
  transcript.apply(events);
  const result = render(Transcript, { transcript, onLink });
  return { transcript, onLink, ...result };
}

/** Applies live events and lets Svelte update the DOM. */
function live(transcript: SessionTranscript, events: ChatEvent[]): void {
  transcript.apply(events);
  flushSync();
}

function log(): HTMLElement {
  return screen.getByRole("log", { name: "Transcript" });
}

// The canary lives in jsdom's own window, where inline handlers and scripts run.
function scriptWindow(): { __pwned?: unknown } {
  return (globalThis as unknown as { jsdom: { window: { __pwned?: unknown } } }).jsdom.window;
}

afterEach(() => {
  delete scriptWindow().__pwned;
});

describe("Transcript", () => {
  test("shows who said what, as articles in a log", () => {
    renderTranscript([
      ev({ type: "userMessage", content: "What is <b>2+2</b>?" }),
      ev({ type: "turnStarted" }),
      ev({ type: "assistantMessage", messageId: "m1", content: "It is **4**." }),
      ev({ type: "idle" }),
    ]);
    const you = within(log()).getByRole("article", { name: "You" });
    expect(you.textContent?.trim()).toBe("What is <b>2+2</b>?");
    expect(you.querySelector("b")).toBeNull();
    const copilot = within(log()).getByRole("article", { name: "Copilot" });
    expect(copilot.querySelector("strong")?.textContent).toBe("4");
    expect(log().getAttribute("tabindex")).toBe("0");
  });

  test("a streamed answer grows in place; finished blocks are not re-rendered", () => {
    const { transcript } = renderTranscript([ev({ type: "userMessage", content: "Explain" }), ev({ type: "turnStarted" })]);
    live(transcript, [ev({ type: "messageDelta", messageId: "m1", delta: "# Plan\n\nStep one" })]);
    const article = screen.getByRole("article", { name: "Copilot" });
    expect(article.getAttribute("aria-busy")).toBe("true");
    const heading = within(article).getByRole("heading", { name: "Plan" });

    live(transcript, [ev({ type: "messageDelta", messageId: "m1", delta: ", step two.\n\n```bash\nnpm" })]);
    expect(within(article).getByRole("heading", { name: "Plan" })).toBe(heading);
    expect(article.querySelector("code.language-bash")?.textContent).toBe("npm");

    live(transcript, [
      ev({ type: "assistantMessage", messageId: "m1", content: "# Plan\n\nStep one, step two.\n\n```bash\nnpm test\n```" }),
      ev({ type: "idle" }),
    ]);
    expect(screen.getByRole("article", { name: "Copilot" })).toBe(article);
    expect(article.getAttribute("aria-busy")).toBe("false");
    expect(within(article).getByRole("heading", { name: "Plan" })).toBe(heading);
    expect(article.querySelector("pre")?.textContent).toBe("npm test");
    expect(within(article).getByRole("button", { name: "Copy code" })).toBeTruthy();
  });

  test("a delta changes only the DOM of the message it belongs to", () => {
    const { transcript } = renderTranscript([
      ev({ type: "userMessage", content: "q" }),
      ev({ type: "turnStarted" }),
      ev({ type: "assistantMessage", messageId: "m1", content: "First answer." }),
      ev({ type: "toolStarted", toolCallId: "t1", toolName: "bash", arguments: { command: "ls" } }),
      ev({ type: "messageDelta", messageId: "m2", delta: "Para one.\n\nSecond" }),
    ]);
    const [, second] = screen.getAllByRole("article", { name: "Copilot" });
    const records: MutationRecord[] = [];
    const observer = new MutationObserver((list) => records.push(...list));
    observer.observe(log(), { subtree: true, childList: true, characterData: true, attributes: true });
    live(transcript, [ev({ type: "messageDelta", messageId: "m2", delta: " grows" })]);
    records.push(...observer.takeRecords());
    observer.disconnect();
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(second!.contains(record.target)).toBe(true);
    // Inside the message only the open (last) block was replaced.
    const changed = records.flatMap((r) => [...r.addedNodes, ...r.removedNodes]) as Element[];
    expect(changed.every((node) => node.classList?.contains("md-block") && node.textContent !== "Para one.")).toBe(true);
  });

  test("a tool card says what ran, streams its output and ends with its status", () => {
    const { transcript } = renderTranscript([
      ev({ type: "userMessage", content: "test it" }),
      ev({ type: "turnStarted" }),
      ev({ type: "toolStarted", toolCallId: "t1", toolName: "bash", arguments: { command: "npm test", description: "Run the tests" } }),
    ]);
    const card = screen.getByRole("article", { name: "Tool: bash" });
    expect(within(card).getByText("npm test").tagName).toBe("CODE");
    expect(within(card).getByText("Running…")).toBeTruthy();

    live(transcript, [ev({ type: "toolOutput", toolCallId: "t1", output: "PASS a.test.ts\n" })]);
    expect(card.querySelector("pre")?.textContent).toBe("PASS a.test.ts\n");
    live(transcript, [ev({ type: "toolOutput", toolCallId: "t1", output: "PASS b.test.ts\n" })]);
    expect(card.querySelector("pre")?.textContent).toBe("PASS a.test.ts\nPASS b.test.ts\n");

    live(transcript, [ev({ type: "toolCompleted", toolCallId: "t1", success: true, output: null, error: null })]);
    expect(within(card).getByText("Succeeded")).toBeTruthy();

    live(transcript, [
      ev({ type: "toolStarted", toolCallId: "t2", toolName: "web_fetch", arguments: { url: "https://docs.example/page" } }),
      ev({ type: "toolCompleted", toolCallId: "t2", success: false, output: null, error: "404 Not Found" }),
    ]);
    const fetch = screen.getByRole("article", { name: "Tool: web_fetch" });
    expect(within(fetch).getByText("https://docs.example/page")).toBeTruthy();
    expect(within(fetch).getByText("Failed: 404 Not Found")).toBeTruthy();
  });

  test("edits show the file and a diff; creates show the new file's lines", () => {
    renderTranscript([
      ev({ type: "userMessage", content: "fix" }),
      ev({
        type: "toolStarted",
        toolCallId: "t1",
        toolName: "edit",
        arguments: { path: "/repo/src/a.ts", old_str: "const a = 1;\nkeep();", new_str: "const a = 2;\nkeep();" },
      }),
      ev({ type: "toolStarted", toolCallId: "t2", toolName: "create", arguments: { path: "/repo/NEW.md", file_text: "# New\nfile" } }),
    ]);
    const edit = screen.getByRole("article", { name: "Tool: edit" });
    expect(within(edit).getByText("/repo/src/a.ts")).toBeTruthy();
    const diff = edit.querySelector("pre.diff")!;
    expect([...diff.querySelectorAll(".removed")].map((l) => l.textContent)).toEqual(["- const a = 1;\n"]);
    expect([...diff.querySelectorAll(".added")].map((l) => l.textContent)).toEqual(["+ const a = 2;\n"]);
    const create = screen.getByRole("article", { name: "Tool: create" });
    expect(within(create).getByText("/repo/NEW.md")).toBeTruthy();
    expect(create.querySelectorAll(".added")).toHaveLength(2);
  });

  test("reasoning is collapsed under a Reasoning summary", async () => {
    renderTranscript([
      ev({ type: "userMessage", content: "q" }),
      ev({ type: "reasoning", reasoningId: "r1", content: "Consider **both** options." }),
    ]);
    const summary = screen.getByText("Reasoning");
    expect(summary.tagName).toBe("SUMMARY");
    const details = summary.closest("details")!;
    expect(details.open).toBe(false);
    details.open = true;
    await fireEvent(details, new Event("toggle"));
    flushSync();
    expect(details.querySelector("strong")?.textContent).toBe("both");
  });

  test("errors are alerts inside the log, with what to do", () => {
    renderTranscript([
      ev({ type: "userMessage", content: "q" }),
      ev({ type: "sessionError", errorType: "authentication", message: "Token expired" }),
    ]);
    const alert = within(log()).getByRole("alert");
    expect(alert.textContent).toContain("Token expired");
    expect(alert.textContent).toContain("Sign in");
  });

  test("a stopped turn says so and keeps the partial answer", () => {
    renderTranscript([
      ev({ type: "userMessage", content: "q" }),
      ev({ type: "turnStarted" }),
      ev({ type: "messageDelta", messageId: "m1", delta: "Half of" }),
      ev({ type: "aborted" }),
    ]);
    expect(screen.getByRole("article", { name: "Copilot" }).textContent).toContain("Half of");
    expect(within(log()).getByText("Stopped by you")).toBeTruthy();
  });

  test("each turn shows its token usage", () => {
    renderTranscript([
      ev({ type: "userMessage", content: "q" }),
      ev({ type: "usage", model: "gpt-test", inputTokens: 1000, outputTokens: 500 }),
      ev({ type: "usage", model: "gpt-test", inputTokens: 234, outputTokens: 67 }),
      ev({ type: "assistantMessage", messageId: "m1", content: "done" }),
      ev({ type: "idle" }),
    ]);
    const usage = within(log()).getByText(/1,234 in · 567 out/);
    expect(usage.textContent?.replace(/\s+/g, " ").trim()).toBe("1,234 in · 567 out · gpt-test");
  });

  test("links call onLink and carry no href the webview could follow", async () => {
    const { onLink, container } = renderTranscript([
      ev({ type: "userMessage", content: "q" }),
      ev({
        type: "assistantMessage",
        messageId: "m1",
        content: "Read [the guide](https://guide.example/start) and [bad](javascript:alert(1)).",
      }),
    ]);
    expect(container.querySelector("[href]")).toBeNull();
    const link = screen.getByRole("link", { name: "the guide" });
    await fireEvent.click(link);
    expect(onLink).toHaveBeenCalledWith("https://guide.example/start");
    expect(screen.queryByRole("link", { name: "bad" })).toBeNull();
  });

  test("hostile output in a message does not run", async () => {
    const { container } = renderTranscript([
      ev({ type: "userMessage", content: "<img src=x onerror=\"window.__pwned=1\">" }),
      ev({
        type: "assistantMessage",
        messageId: "m1",
        content:
          "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"><svg onload=\"window.__pwned=3\"></svg>" +
          "<iframe src=\"javascript:window.__pwned=4\"></iframe><form><button formaction=\"javascript:window.__pwned=5\">x</button></form>",
      }),
    ]);
    for (const element of container.querySelectorAll<HTMLElement>("*")) {
      element.dispatchEvent(new Event("error"));
      element.dispatchEvent(new Event("load"));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(container.querySelector("script, iframe, svg, form, img")).toBeNull();
    expect(scriptWindow().__pwned).toBeUndefined();
  });

  test("says when the transcript is empty, and when Copilot is working before text arrives", () => {
    const { transcript } = renderTranscript();
    expect(within(log()).getByText("No messages yet")).toBeTruthy();
    live(transcript, [ev({ type: "userMessage", content: "go" }), ev({ type: "turnStarted" })]);
    expect(within(log()).getByText("Working…")).toBeTruthy();
    live(transcript, [ev({ type: "messageDelta", messageId: "m1", delta: "On it" })]);
    expect(within(log()).queryByText("Working…")).toBeNull();
  });
});

describe("virtualization", () => {
  function bigHistory(turns: number): ChatEvent[] {
    const events: ChatEvent[] = [];
    for (let i = 0; i < turns; i++) {
      events.push(
        ev({ type: "userMessage", content: `Question ${i}` }),
        ev({ type: "turnStarted" }),
        ev({ type: "toolStarted", toolCallId: `t${i}`, toolName: "bash", arguments: { command: `echo ${i}` } }),
        ev({ type: "toolCompleted", toolCallId: `t${i}`, success: true, output: `${i}\n`, error: null }),
        ev({ type: "assistantMessage", messageId: `m${i}`, content: `Answer number ${i}.` }),
        ev({ type: "idle" }),
      );
    }
    return events;
  }

  /** jsdom has no layout: give the scrolling element the geometry a browser would. */
  function fakeGeometry(element: HTMLElement, scrollHeight: number, clientHeight: number) {
    let top = Math.max(0, scrollHeight - clientHeight);
    Object.defineProperty(element, "scrollHeight", { configurable: true, get: () => scrollHeight });
    Object.defineProperty(element, "clientHeight", { configurable: true, get: () => clientHeight });
    Object.defineProperty(element, "scrollTop", {
      configurable: true,
      get: () => top,
      set: (value: number) => {
        top = Math.min(Math.max(0, value), scrollHeight - clientHeight);
      },
    });
    return {
      scrollTo(value: number) {
        element.scrollTop = value;
        element.dispatchEvent(new Event("scroll"));
      },
    };
  }

  test("10,000 events render only the rows near the bottom", () => {
    const events = bigHistory(1667);
    expect(events.length).toBeGreaterThanOrEqual(10_000);
    const { transcript, container } = renderTranscript(events);
    expect(transcript.items.length).toBe(1667 * 3);
    const articles = container.querySelectorAll("article");
    expect(articles.length).toBeGreaterThan(5);
    expect(articles.length).toBeLessThan(150);
    expect(container.querySelectorAll("*").length).toBeLessThan(1500);
    // Pinned to the bottom: the latest answer is there, the first question is not.
    expect(within(log()).getByText("Answer number 1666.")).toBeTruthy();
    expect(within(log()).queryByText("Question 0")).toBeNull();
  });

  test("scrolling up shows earlier rows and stops following; Jump to latest follows again", async () => {
    const { transcript } = renderTranscript(bigHistory(200));
    const viewport = log();
    const geometry = fakeGeometry(viewport, 200 * 3 * 60, 600);
    geometry.scrollTo(viewport.scrollHeight);
    flushSync();
    expect(screen.queryByRole("button", { name: "Jump to latest" })).toBeNull();

    geometry.scrollTo(0);
    flushSync();
    expect(within(viewport).getByText("Question 0")).toBeTruthy();
    expect(within(viewport).queryByText("Answer number 199.")).toBeNull();

    // New events do not pull the reader away from where they are.
    live(transcript, [ev({ type: "userMessage", content: "Newest question" })]);
    expect(within(viewport).getByText("Question 0")).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "Jump to latest" }));
    flushSync();
    expect(within(viewport).getByText("Newest question")).toBeTruthy();
    expect(within(viewport).queryByText("Question 0")).toBeNull();
  });

  test("a last screen from the journal is busy until the history replaces it; its rows stay in place", async () => {
    const turn = (n: number, answer = `Answer ${n}`): ChatEvent[] => [
      { id: `u${n}`, timestamp: "2026-01-01T00:00:00Z", kind: { type: "userMessage", content: `Question ${n}` } },
      { id: `a${n}`, timestamp: "2026-01-01T00:00:00Z", kind: { type: "assistantMessage", messageId: `m${n}`, content: answer } },
    ];
    // Journal text is trusted no more than model output.
    const hostile = 'Look: <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const tail = new SessionTranscript();
    tail.apply([...turn(2), ...turn(3, hostile)]);
    const { rerender } = render(Transcript, { transcript: tail, busy: true, onLink: vi.fn() });
    expect(log().getAttribute("aria-busy")).toBe("true");
    const answers = () => within(log()).getAllByRole("article", { name: "Copilot" });
    const last = answers().at(-1)!;
    expect(last.querySelector("img, script")).toBeNull();
    expect(scriptWindow().__pwned).toBeUndefined();

    const history = new SessionTranscript();
    history.apply([...turn(1), ...turn(2), ...turn(3, hostile)]);
    await rerender({ transcript: history, busy: false, onLink: vi.fn() });
    expect(log().hasAttribute("aria-busy")).toBe(false);
    expect(answers().map((a) => a.textContent?.trim())).toEqual(["Answer 1", "Answer 2", "Look:"]);
    expect(answers().at(-1)).toBe(last);
  });
});

