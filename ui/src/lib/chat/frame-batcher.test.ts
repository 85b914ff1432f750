import { afterEach, describe, expect, test, vi } from "vitest";
import { FrameBatcher, browserScheduler, type FrameScheduler } from "./frame-batcher";

/** A clock the test drives: frames and timers run only when told. */
function manualScheduler(hidden = false) {
  let frames: (() => void)[] = [];
  let timers: { callback: () => void; ms: number }[] = [];
  const state = { hidden };
  const scheduler: FrameScheduler = {
    requestFrame(callback) {
      frames.push(callback);
      return () => {
        frames = frames.filter((f) => f !== callback);
      };
    },
    setTimer(callback, ms) {
      const timer = { callback, ms };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    isHidden: () => state.hidden,
  };
  return {
    scheduler,
    state,
    frames: () => frames.length,
    timers: () => timers.map((t) => t.ms),
    runFrame() {
      const due = frames;
      frames = [];
      due.forEach((f) => f());
    },
    runTimers() {
      const due = timers;
      timers = [];
      due.forEach((t) => t.callback());
    },
  };
}

describe("FrameBatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test("hands everything pushed before a frame over once, in order", () => {
    const clock = manualScheduler();
    const flushed: number[][][] = [];
    const batcher = new FrameBatcher<number[]>((items) => flushed.push(items), { scheduler: clock.scheduler });
    batcher.push([1]);
    batcher.push([2, 3]);
    batcher.push([4]);
    expect(clock.frames()).toBe(1);
    expect(flushed).toEqual([]);
    clock.runFrame();
    expect(flushed).toEqual([[[1], [2, 3], [4]]]);
    // Nothing pending: no frame asked for, nothing flushed again.
    expect(clock.frames()).toBe(0);
    expect(clock.timers()).toEqual([]);
    batcher.push([5]);
    clock.runFrame();
    expect(flushed).toEqual([[[1], [2, 3], [4]], [[5]]]);
  });

  test("while the document is hidden a timer takes over", () => {
    const clock = manualScheduler(true);
    const flushed: string[][] = [];
    const batcher = new FrameBatcher<string>((items) => flushed.push(items), { scheduler: clock.scheduler, hiddenDelayMs: 40 });
    batcher.push("a");
    batcher.push("b");
    expect(clock.frames()).toBe(0);
    expect(clock.timers()).toEqual([40]);
    clock.runTimers();
    expect(flushed).toEqual([["a", "b"]]);
  });

  test("a frame that never comes (the window was hidden after scheduling) is covered by a timeout", () => {
    const clock = manualScheduler(false);
    const flushed: string[][] = [];
    const batcher = new FrameBatcher<string>((items) => flushed.push(items), { scheduler: clock.scheduler, frameTimeoutMs: 200 });
    batcher.push("a");
    expect(clock.timers()).toEqual([200]);
    clock.state.hidden = true;
    clock.runTimers();
    expect(flushed).toEqual([["a"]]);
    // The frame was cancelled with the flush: it cannot flush (an empty list) again.
    expect(clock.frames()).toBe(0);
  });

  test("paused collects; resume hands it over with the next frame; flush is immediate", () => {
    const clock = manualScheduler();
    const flushed: string[][] = [];
    const batcher = new FrameBatcher<string>((items) => flushed.push(items), { scheduler: clock.scheduler, paused: true });
    batcher.push("a");
    expect(clock.frames()).toBe(0);
    expect(batcher.pending).toBe(1);
    batcher.resume();
    expect(clock.frames()).toBe(1);
    batcher.push("b");
    batcher.flush();
    expect(flushed).toEqual([["a", "b"]]);
    expect(clock.frames()).toBe(0);
  });

  test("dispose drops what is pending and ignores later pushes", () => {
    const clock = manualScheduler();
    const onFlush = vi.fn();
    const batcher = new FrameBatcher<string>(onFlush, { scheduler: clock.scheduler });
    batcher.push("a");
    batcher.dispose();
    batcher.push("b");
    clock.runFrame();
    clock.runTimers();
    expect(onFlush).not.toHaveBeenCalled();
  });

  test("the browser scheduler uses requestAnimationFrame, and timers when hidden", async () => {
    const onFlush = vi.fn();
    const raf = vi.spyOn(globalThis, "requestAnimationFrame");
    const batcher = new FrameBatcher<string>(onFlush);
    batcher.push("a");
    expect(raf).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(onFlush).toHaveBeenCalledWith(["a"]));

    const visibility = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
    expect(browserScheduler.isHidden()).toBe(true);
    vi.useFakeTimers();
    batcher.push("b");
    expect(raf).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(50);
    expect(onFlush).toHaveBeenLastCalledWith(["b"]);
    visibility.mockRestore();
    raf.mockRestore();
  });
});
