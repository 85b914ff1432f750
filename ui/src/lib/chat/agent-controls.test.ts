import { describe, expect, test } from "vitest";
import { BackendError } from "../backend";
import { FakeBackend } from "../../test/fake-backend";
import { isCycleModeShortcut } from "../shortcuts";
import { SessionControls, effortLabel, nextMode } from "./agent-controls.svelte";
import { PlanReviewQueue } from "./plan-reviews.svelte";

const connected = { state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 } as const;

const review = (requestId: string, sessionId: string) => ({
  requestId,
  sessionId,
  summary: "- do it",
  planContent: "# Plan",
  actions: ["interactive", "autopilot"],
  recommendedAction: "interactive",
});

describe("SessionControls", () => {
  test("Shift+Tab's order: interactive, plan, autopilot, and around", () => {
    expect(nextMode("interactive")).toBe("plan");
    expect(nextMode("plan")).toBe("autopilot");
    expect(nextMode("autopilot")).toBe("interactive");
    expect(effortLabel("high")).toBe("High");
  });

  test("loads a session's mode and effort, and follows the modes the CLI announces", async () => {
    const backend = new FakeBackend(connected);
    backend.modes.set("s1", "autopilot");
    backend.sessionEfforts.set("s1", "low");
    const controls = new SessionControls(backend);
    await controls.load("s1");
    expect(controls.mode).toBe("autopilot");
    expect(controls.effort).toBe("low");
    controls.follow("interactive");
    expect(controls.mode).toBe("interactive");
    controls.follow("something-new");
    expect(controls.mode).toBe("interactive");
  });

  test("a switch the CLI refuses puts the old mode back and says why", async () => {
    const backend = new FakeBackend(connected);
    const controls = new SessionControls(backend);
    await controls.load("s1");
    await controls.cycle();
    expect(backend.setSessionMode).toHaveBeenCalledWith("s1", "plan");
    expect(controls.mode).toBe("plan");
    backend.setSessionMode.mockRejectedValueOnce(new BackendError({ code: "cli_error", message: "no" }));
    await controls.setMode("autopilot");
    expect(controls.mode).toBe("plan");
    expect(controls.modeError).toContain("Could not switch to Autopilot: no");
  });

  test("efforts show only for models that report them, and a refused effort is rolled back", async () => {
    const backend = new FakeBackend(connected);
    backend.efforts = [{ modelId: "thinker", supported: ["low", "high"], defaultEffort: "low" }];
    const controls = new SessionControls(backend);
    await Promise.all([controls.load("s1"), controls.loadEfforts()]);
    expect(controls.effortsFor("thinker")?.supported).toEqual(["low", "high"]);
    expect(controls.effortsFor("plain")).toBeNull();
    expect(controls.effortsFor(null)).toBeNull();
    await controls.setEffort("high");
    expect(backend.setSessionEffort).toHaveBeenCalledWith("s1", "high");
    backend.setSessionEffort.mockRejectedValueOnce(new BackendError({ code: "invalid_request", message: "not that" }));
    await controls.setEffort("low");
    expect(controls.effort).toBe("high");
    expect(controls.effortError).toContain("not that");
  });
});

describe("PlanReviewQueue", () => {
  test("shows the open session's oldest review, and drops it once decided", async () => {
    const backend = new FakeBackend(connected);
    const queue = new PlanReviewQueue(backend);
    await queue.start();
    backend.pushPlanReview({ type: "requested", review: review("r1", "s1") });
    backend.pushPlanReview({ type: "requested", review: review("r2", "s2") });
    expect(queue.current("s1")?.requestId).toBe("r1");
    expect(queue.current("s3")).toBeNull();
    expect(queue.current(null)).toBeNull();
    await queue.decide("r1", { approved: true, selectedAction: "interactive", feedback: null });
    expect(backend.decidePlan).toHaveBeenCalledWith("r1", { approved: true, selectedAction: "interactive", feedback: null });
    expect(queue.current("s1")).toBeNull();
    backend.pushPlanReview({ type: "resolved", requestId: "r2" });
    expect(queue.all).toEqual([]);
  });

  test("a review answered elsewhere just goes; another failure keeps it and rejects", async () => {
    const backend = new FakeBackend(connected);
    const queue = new PlanReviewQueue(backend);
    await queue.start();
    backend.pushPlanReview({ type: "requested", review: review("r1", "s1") });
    backend.decidePlan.mockRejectedValueOnce(new BackendError({ code: "cli_error", message: "broken pipe" }));
    await expect(queue.decide("r1", { approved: false, selectedAction: null, feedback: "x" })).rejects.toThrow("broken pipe");
    expect(queue.current("s1")?.requestId).toBe("r1");
    backend.decidePlan.mockRejectedValueOnce(new BackendError({ code: "prompt_not_pending", message: "gone" }));
    await queue.decide("r1", { approved: false, selectedAction: null, feedback: null });
    expect(queue.current("s1")).toBeNull();
  });
});

describe("isCycleModeShortcut", () => {
  function keydown(init: KeyboardEventInit, target: Element): KeyboardEvent {
    const event = new KeyboardEvent("keydown", { bubbles: true, ...init });
    Object.defineProperty(event, "target", { value: target });
    return event;
  }

  test("Shift+Tab in the message box, as browsers and WebKitGTK report it; nowhere else", () => {
    const message = document.createElement("textarea");
    message.setAttribute("aria-label", "Message");
    const other = document.createElement("textarea");
    other.setAttribute("aria-label", "Feedback");
    expect(isCycleModeShortcut(keydown({ key: "Tab", code: "Tab", shiftKey: true }, message))).toBe(true);
    expect(isCycleModeShortcut(keydown({ key: "Unidentified", code: "Tab", shiftKey: true }, message))).toBe(true);
    expect(isCycleModeShortcut(keydown({ key: "Tab", code: "Tab" }, message))).toBe(false);
    expect(isCycleModeShortcut(keydown({ key: "Tab", code: "Tab", shiftKey: true, ctrlKey: true }, message))).toBe(false);
    expect(isCycleModeShortcut(keydown({ key: "Tab", code: "Tab", shiftKey: true }, other))).toBe(false);
  });
});
