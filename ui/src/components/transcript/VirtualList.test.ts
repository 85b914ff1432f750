// VirtualList's measuring paths, driven through Transcript with a ResizeObserver the test controls (jsdom has
// neither layout nor ResizeObserver).

import { render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import type { ChatEvent } from "../../lib/backend";
import { SessionTranscript } from "../../lib/chat/transcript.svelte";
import Transcript from "./Transcript.svelte";

class FakeResizeObserver {
  static current: FakeResizeObserver | undefined;
  readonly observed = new Set<Element>();
  constructor(readonly callback: ResizeObserverCallback) {
    FakeResizeObserver.current = this;
  }
  observe(element: Element) {
    this.observed.add(element);
  }
  unobserve(element: Element) {
    this.observed.delete(element);
  }
  disconnect() {
    this.observed.clear();
  }
  /** Reports new border-box heights, as the browser would after layout. */
  resize(sizes: [Element, number][]) {
    const entries = sizes.map(([target, height]) => ({
      target,
      borderBoxSize: [{ blockSize: height, inlineSize: 600 }],
      contentRect: { height },
    })) as unknown as ResizeObserverEntry[];
    this.callback(entries, this as unknown as ResizeObserver);
    flushSync();
  }
}

beforeEach(() => {
  vi.stubGlobal("ResizeObserver", FakeResizeObserver);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

let nextId = 0;
function history(turns: number): ChatEvent[] {
  const events: ChatEvent[] = [];
  const at = "2026-01-01T00:00:00Z";
  for (let i = 0; i < turns; i++) {
    events.push(
      { id: `v${++nextId}`, timestamp: at, kind: { type: "userMessage", content: `Question ${i}` } },
      { id: `v${++nextId}`, timestamp: at, kind: { type: "assistantMessage", messageId: `vm${i}`, content: `Answer ${i}` } },
      { id: `v${++nextId}`, timestamp: at, kind: { type: "idle" } },
    );
  }
  return events;
}

function setup(turns: number) {
  const transcript = new SessionTranscript();
  transcript.apply(history(turns));
  render(Transcript, { transcript, onLink: () => {} });
  const viewport = screen.getByRole("log", { name: "Transcript" });
  const geometry = { scrollHeight: 20_000, clientHeight: 600, top: 0 };
  Object.defineProperty(viewport, "scrollHeight", { configurable: true, get: () => geometry.scrollHeight });
  Object.defineProperty(viewport, "clientHeight", { configurable: true, get: () => geometry.clientHeight });
  Object.defineProperty(viewport, "scrollTop", {
    configurable: true,
    get: () => geometry.top,
    set: (value: number) => {
      geometry.top = Math.min(Math.max(0, value), geometry.scrollHeight - geometry.clientHeight);
    },
  });
  const observer = FakeResizeObserver.current!;
  observer.resize([[viewport, 600]]);
  const rows = () => [...viewport.querySelectorAll<HTMLElement>(".row")];
  const scroll = (top: number) => {
    viewport.scrollTop = top;
    viewport.dispatchEvent(new Event("scroll"));
    flushSync();
  };
  return { transcript, viewport, geometry, observer, rows, scroll };
}

test("rows and the viewport are observed; rows that leave the DOM are no longer observed", () => {
  const { viewport, observer, rows, scroll } = setup(300);
  expect(observer.observed.has(viewport)).toBe(true);
  const before = rows();
  expect(before.every((row) => observer.observed.has(row))).toBe(true);
  scroll(0);
  expect(before.some((row) => observer.observed.has(row))).toBe(false);
  expect(rows().every((row) => observer.observed.has(row))).toBe(true);
});

test("while pinned, a row growing keeps the view at the bottom", () => {
  const { geometry, observer, rows, scroll } = setup(50);
  scroll(geometry.scrollHeight);
  const last = rows().at(-1)!;
  // The content grew (a streamed answer) and the browser left scrollTop where it was.
  geometry.scrollHeight += 400;
  observer.resize([[last, 500]]);
  expect(geometry.top).toBe(geometry.scrollHeight - geometry.clientHeight);
});

test("scrolled up, a row above the viewport changing height does not move what the user reads", () => {
  const { geometry, observer, rows, scroll } = setup(300);
  scroll(8_000);
  const above = rows()[0]!;
  observer.resize([[above, 200]]);
  const settled = geometry.top;
  observer.resize([[above, 300]]);
  expect(geometry.top).toBe(settled + 100);
  observer.resize([[above, 250]]);
  expect(geometry.top).toBe(settled + 50);
});

test("measured heights replace estimates in the spacers", () => {
  const { rows, observer, scroll, viewport } = setup(300);
  scroll(0);
  const spacers = () => [...viewport.querySelectorAll<HTMLElement>(".spacer")].map((s) => parseFloat(s.style.height));
  const [, bottomBefore] = spacers();
  const first = rows()[0]!;
  observer.resize([[first, 1000]]);
  const [top, bottomAfter] = spacers();
  expect(top).toBe(0);
  // A taller first row pushes later rows down, out of the rendered window: the bottom spacer takes them.
  expect(bottomAfter!).toBeGreaterThan(bottomBefore!);
});

test("rows of a shape measured at the bottom give the rows not rendered yet their height", () => {
  const { rows, observer, viewport } = setup(300);
  const spacers = () => [...viewport.querySelectorAll<HTMLElement>(".spacer")].map((s) => parseFloat(s.style.height));
  const rendered = rows();
  expect(rendered.map((row) => row.dataset.shape)).toContain("user 1");
  expect(rendered.map((row) => row.dataset.shape)).toContain("assistant p1");
  // Pinned to the bottom (opening a session): the browser measures what it rendered.
  observer.resize(rendered.map((row): [Element, number] => [row, row.dataset.shape === "user 1" ? 100 : 150]));
  // Still at the bottom, so the rendered window ends with the last of the 600 rows.
  const first = 600 - rows().length;
  // Rows alternate question, answer: everything above the rendered window now counts at the learned heights.
  let expected = 0;
  for (let i = 0; i < first; i++) expected += i % 2 === 0 ? 100 : 150;
  expect(spacers()[0]).toBe(expected);
});

test("scrolled up, rows of a learned shape arrive at their height: no correction", () => {
  const { geometry, observer, rows, scroll } = setup(300);
  observer.resize(rows().map((row): [Element, number] => [row, row.dataset.shape === "user 1" ? 100 : 150]));
  scroll(6_000);
  const top = geometry.top;
  const arrived = rows();
  expect(arrived.length).toBeGreaterThan(0);
  observer.resize(arrived.map((row): [Element, number] => [row, row.dataset.shape === "user 1" ? 100 : 150]));
  expect(geometry.top).toBe(top);
});

test("scrolled up, a shape learned there does not move what the user reads", () => {
  const { geometry, observer, rows, scroll } = setup(300);
  scroll(8_000);
  const top = geometry.top;
  const below = rows().at(-1)!;
  // Learning "user 1" or "assistant p1" here must not re-estimate the thousands of rows above the viewport.
  observer.resize([[below, 400]]);
  expect(geometry.top).toBe(top);
});
