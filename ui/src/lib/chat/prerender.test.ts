import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { StreamingMarkdown, clearRenderedTexts, prerenderMarkdown, renderedTextCount } from "./markdown";
import { Prerenderer, ROWS_AHEAD, type PrerenderDeps } from "./prerender";
import { AssistantItem, UserItem, type TranscriptItem } from "./transcript.svelte";

/**
 * Time passes when the test says: `quiet()` ends the wait for a still window, `runSlice(budget)` runs an idle
 * slice in which timeLeft() says there is time `budget` times, then 0.
 */
function manualIdle() {
  const slices: ((timeLeft: () => number) => void)[] = [];
  const waits: (() => void)[] = [];
  const rendered: string[] = [];
  const deps: PrerenderDeps = {
    later: (callback) => {
      waits.push(callback);
      return () => waits.splice(waits.indexOf(callback), 1);
    },
    render: (text) => {
      rendered.push(text);
      return true;
    },
    idle: (work) => {
      slices.push(work);
      return () => slices.splice(slices.indexOf(work), 1);
    },
  };
  const quiet = () => {
    const callback = waits.shift();
    if (!callback) throw new Error("not waiting for a still window");
    callback();
  };
  const runSlice = (budget: number) => {
    const work = slices.shift();
    if (!work) throw new Error("no idle slice scheduled");
    let left = budget;
    work(() => (left-- > 0 ? 10 : 0));
  };
  return { deps, rendered, slices, waits, quiet, runSlice };
}

/** question, answer, question, answer, … with answers "answer 1", "answer 3", … by index. */
function conversation(rows: number): TranscriptItem[] {
  return Array.from({ length: rows }, (_, i) =>
    i % 2 === 0 ? new UserItem(`u${i}`, `question ${i}`, "") : new AssistantItem(`a${i}`, `m${i}`, "", `answer ${i}`),
  );
}

beforeEach(() => clearRenderedTexts());
afterEach(() => vi.restoreAllMocks());

test("warms the answers next to the rendered window, nearest first, and nothing else", () => {
  const { deps, rendered, quiet, runSlice } = manualIdle();
  const items = conversation(200);
  new Prerenderer(deps).around(items, 100, 110);
  quiet();
  runSlice(1_000);
  // Outwards from the window, alternating above and below; even rows are questions and are skipped.
  expect(rendered.slice(0, 4)).toEqual(["answer 99", "answer 111", "answer 97", "answer 113"]);
  const indices = rendered.map((text) => Number(text.split(" ")[1]));
  expect(Math.min(...indices)).toBe(100 - ROWS_AHEAD + 1);
  expect(Math.max(...indices)).toBe(109 + ROWS_AHEAD);
  // The rendered window itself is left to the rows.
  expect(indices.some((i) => i >= 100 && i < 110)).toBe(false);
});

test("streaming answers are not warmed: they are still changing", () => {
  const { deps, rendered, quiet, runSlice } = manualIdle();
  const items = conversation(10);
  const streaming = new AssistantItem("live", "live", "");
  streaming.text = "half an ans";
  items.push(streaming);
  new Prerenderer(deps).around(items, 0, 1);
  quiet();
  runSlice(1_000);
  expect(rendered).not.toContain("half an ans");
  expect(rendered).toHaveLength(5);
});

test("stops at the slice's deadline and goes on in the next slice", () => {
  const { deps, rendered, slices, quiet, runSlice } = manualIdle();
  new Prerenderer(deps).around(conversation(200), 100, 110);
  quiet();
  runSlice(2);
  expect(rendered).toHaveLength(3);
  expect(slices).toHaveLength(1);
  runSlice(0);
  // At least one per slice, however busy the webview is.
  expect(rendered).toHaveLength(4);
});

test("nothing is warmed while the window keeps moving (the user scrolls); a new window replaces the queue", () => {
  const { deps, rendered, slices, waits, quiet, runSlice } = manualIdle();
  const prerenderer = new Prerenderer(deps);
  const items = conversation(400);
  prerenderer.around(items, 100, 110);
  quiet();
  runSlice(0);
  expect(rendered).toEqual(["answer 99"]);
  // The window moves before the next slice: that slice is dropped and the wait starts over.
  prerenderer.around(items, 300, 310);
  expect(slices).toHaveLength(0);
  prerenderer.around(items, 290, 300);
  expect(waits).toHaveLength(1);
  quiet();
  runSlice(0);
  expect(rendered).toEqual(["answer 99", "answer 289"]);
  prerenderer.stop();
  expect(slices).toHaveLength(0);
  expect(waits).toHaveLength(0);
});

test("prerenderMarkdown fills the cache a row then clones from", () => {
  expect(prerenderMarkdown("Some *answer* with `code`.")).toBe(true);
  expect(renderedTextCount()).toBe(1);
  expect(prerenderMarkdown("Some *answer* with `code`.")).toBe(false);
  expect(prerenderMarkdown("")).toBe(false);
  // A row showing it now clones: no sanitizing (DOMPurify adopts its output into the document).
  const adopt = vi.spyOn(document, "adoptNode");
  const element = document.createElement("div");
  new StreamingMarkdown(element, { onLink: () => {} }).update("Some *answer* with `code`.", false);
  expect(element.querySelector("em")?.textContent).toBe("answer");
  expect(adopt).not.toHaveBeenCalled();
});
