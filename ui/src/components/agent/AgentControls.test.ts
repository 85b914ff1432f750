import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { backendContext, type PlanReview } from "../../lib/backend";
import { PlanReviewQueue } from "../../lib/chat/plan-reviews.svelte";
import { SessionTranscript } from "../../lib/chat/transcript.svelte";
import { installDialogPolyfill, pressEscape } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import AgentControls from "./AgentControls.svelte";
import ContextMeter from "./ContextMeter.svelte";
import PlanReviewDialog from "./PlanReviewDialog.svelte";

beforeAll(installDialogPolyfill);

const connected = { state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 } as const;

const review: PlanReview = {
  requestId: "r1",
  sessionId: "s1",
  summary: "- **Add** `greet`\n\n<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>",
  planContent: "# Plan\n\n1. Add greet",
  actions: ["autopilot", "interactive", "exit_only"],
  recommendedAction: "interactive",
};

describe("PlanReviewDialog", () => {
  test("shows the plan sanitized, starts on Keep planning, and Escape decides nothing", async () => {
    const onDecide = vi.fn(async () => {});
    render(PlanReviewDialog, { props: { review, onDecide, onLink: () => {} } });
    const dialog = screen.getByRole("dialog", { name: "Review the plan" });
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("button", { name: "Keep planning" })));
    expect(within(dialog).getByText("Add").tagName).toBe("STRONG");
    expect(dialog.querySelector("script, img[onerror]")).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    expect(within(screen.getByRole("region", { name: "Plan" })).getByRole("heading", { name: "Plan" })).toBeTruthy();
    const recommended = screen.getByRole("radio", { name: /interactive.*recommended/ }) as HTMLInputElement;
    expect(recommended.checked).toBe(true);

    await pressEscape(dialog);
    expect(onDecide).not.toHaveBeenCalled();
    expect((dialog as HTMLDialogElement).open).toBe(true);
  });

  test("approves with the chosen way to go on, or keeps planning with feedback", async () => {
    const onDecide = vi.fn(async () => {});
    render(PlanReviewDialog, { props: { review, onDecide, onLink: () => {} } });
    await fireEvent.click(screen.getByRole("radio", { name: /autopilot/i }));
    await fireEvent.click(screen.getByRole("button", { name: "Approve plan" }));
    expect(onDecide).toHaveBeenLastCalledWith({ approved: true, selectedAction: "autopilot", feedback: null });

    await fireEvent.input(screen.getByLabelText("Feedback to the agent (optional)"), { target: { value: " Keep the tests " } });
    await fireEvent.click(screen.getByRole("button", { name: "Keep planning" }));
    expect(onDecide).toHaveBeenLastCalledWith({ approved: false, selectedAction: null, feedback: "Keep the tests" });
  });

  test("a failed answer is shown and the dialog stays", async () => {
    const onDecide = vi.fn(async () => {
      throw new Error("The CLI went away");
    });
    render(PlanReviewDialog, { props: { review, onDecide, onLink: () => {} } });
    await fireEvent.click(screen.getByRole("button", { name: "Approve plan" }));
    expect((await screen.findByRole("alert")).textContent).toContain("The CLI went away");
    expect(screen.getByRole("dialog", { name: "Review the plan" })).toBeTruthy();
  });
});

describe("AgentControls", () => {
  function mount(backend: FakeBackend, model: string | null = "plain") {
    const transcript = new SessionTranscript();
    const reviews = new PlanReviewQueue(backend);
    const onOpenSession = vi.fn();
    const result = render(AgentControls, {
      props: { sessionId: "s1", transcript, model, reviews, onLink: () => {}, onOpenSession },
      context: backendContext(backend),
    });
    return { ...result, transcript, reviews, onOpenSession };
  }

  test("shows the session's mode, marks autopilot, and follows the CLI's switches", async () => {
    const backend = new FakeBackend(connected);
    backend.modes.set("s1", "autopilot");
    const { transcript } = mount(backend);
    const select = screen.getByRole("combobox", { name: "Mode" }) as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe("autopilot"));
    expect(screen.getByRole("status").textContent).toBe("Autopilot: acts without asking");
    transcript.apply([{ id: "m", timestamp: "t", kind: { type: "modeChanged", mode: "interactive" } }]);
    await waitFor(() => expect(select.value).toBe("interactive"));
    expect(screen.queryByRole("status")).toBeNull();
  });

  test("Shift+Tab in the message box cycles the mode", async () => {
    const backend = new FakeBackend(connected);
    mount(backend);
    const select = screen.getByRole("combobox", { name: "Mode" }) as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe("interactive"));
    const message = document.createElement("textarea");
    message.setAttribute("aria-label", "Message");
    document.body.append(message);
    await fireEvent.keyDown(message, { key: "Tab", code: "Tab", shiftKey: true });
    await waitFor(() => expect(backend.setSessionMode).toHaveBeenCalledWith("s1", "plan"));
    message.remove();
  });

  test("the effort picker shows for models with efforts only and sets the session's effort", async () => {
    const backend = new FakeBackend(connected);
    backend.efforts = [{ modelId: "thinker", supported: ["low", "medium", "high"], defaultEffort: "medium" }];
    const { rerender } = mount(backend, "plain");
    await waitFor(() => expect(backend.modelEfforts).toHaveBeenCalled());
    expect(screen.queryByRole("combobox", { name: "Reasoning effort" })).toBeNull();
    backend.sessionEfforts.set("s1", "low");
    await rerender({ model: "thinker" });
    const effort = (await screen.findByRole("combobox", { name: "Reasoning effort" })) as HTMLSelectElement;
    // Another model: the session's effort is read again.
    await waitFor(() => expect(effort.value).toBe("low"));
    backend.sessionEfforts.delete("s1");
    await rerender({ model: "plain" });
    await rerender({ model: "thinker" });
    await waitFor(() => expect((screen.getByRole("combobox", { name: "Reasoning effort" }) as HTMLSelectElement).value).toBe("medium"));
    await fireEvent.change(screen.getByRole("combobox", { name: "Reasoning effort" }), { target: { value: "high" } });
    expect(backend.setSessionEffort).toHaveBeenCalledWith("s1", "high");
  });

  test("the open session's plan review shows as a dialog", async () => {
    const backend = new FakeBackend(connected);
    const { reviews, onOpenSession } = mount(backend);
    await reviews.start();
    backend.pushPlanReview({ type: "requested", review: { ...review, requestId: "r0", sessionId: "other" } });
    await Promise.resolve();
    expect(screen.queryByRole("dialog", { name: "Review the plan" })).toBeNull();
    // Another session's plan is not shown here, but offered.
    await fireEvent.click(await screen.findByRole("button", { name: "A plan waits for review in another session" }));
    expect(onOpenSession).toHaveBeenCalledWith("other");
    backend.pushPlanReview({ type: "requested", review });
    expect(await screen.findByRole("dialog", { name: "Review the plan" })).toBeTruthy();
  });

  test("View plan opens the plan panel, which reloads when the plan changes", async () => {
    const backend = new FakeBackend(connected);
    backend.plans.set("s1", { exists: true, content: "# First plan", path: "/s/plan.md" });
    const { transcript } = mount(backend);
    await fireEvent.click(screen.getByRole("button", { name: "View plan" }));
    const panel = screen.getByRole("complementary", { name: "Plan" });
    await waitFor(() => expect(panel.textContent).toContain("First plan"));
    backend.plans.set("s1", { exists: true, content: "# Second plan", path: "/s/plan.md" });
    transcript.apply([{ id: "p", timestamp: "t", kind: { type: "planChanged" } }]);
    await waitFor(() => expect(panel.textContent).toContain("Second plan"));
  });
});

describe("ContextMeter", () => {
  test("shows how full the context is; Compact now says nothing to compact, as an answer", async () => {
    const backend = new FakeBackend(connected);
    render(ContextMeter, {
      props: { sessionId: "s1", usage: { currentTokens: 32000, tokenLimit: 128000 } },
      context: backendContext(backend),
    });
    const meter = screen.getByRole("button", { name: "Context window" });
    expect(meter.textContent).toContain("25%");
    expect(meter.title).toBe("32,000 of 128,000 tokens of context used");
    await fireEvent.click(meter);
    await fireEvent.click(screen.getByRole("button", { name: "Compact now" }));
    await waitFor(() => expect(screen.getByRole("status").textContent?.trim()).toBe("Nothing to compact."));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  test("a compaction says what it removed and sends the instructions", async () => {
    const backend = new FakeBackend(connected);
    backend.breakdown = {
      model: "fake-model",
      totalTokens: 9500,
      limit: 128000,
      systemTokens: 5000,
      conversationTokens: 100,
      toolDefinitionsTokens: 4400,
      compactionThreshold: 102400,
    };
    backend.compactOutcome = { outcome: "compacted", messagesRemoved: 5, tokensRemoved: 1200, summary: "s" };
    render(ContextMeter, { props: { sessionId: "s1", usage: null }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getByRole("button", { name: "Context window" }).textContent).toContain("7%"));
    await fireEvent.click(screen.getByRole("button", { name: "Context window" }));
    const dialog = screen.getByRole("dialog", { name: "Context window" });
    await waitFor(() => expect(dialog.textContent).toContain("System prompt"));
    await fireEvent.input(screen.getByLabelText("What to keep in focus when compacting (optional)"), {
      target: { value: "the numbers" },
    });
    await fireEvent.click(screen.getByRole("button", { name: "Compact now" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain("5 messages"));
    expect(backend.compactSession).toHaveBeenCalledWith("s1", "the numbers");
  });

  test("a failed compaction is an error", async () => {
    const backend = new FakeBackend(connected);
    backend.compactSession.mockRejectedValueOnce(new Error("The CLI is not connected"));
    render(ContextMeter, { props: { sessionId: "s1", usage: null }, context: backendContext(backend) });
    await fireEvent.click(screen.getByRole("button", { name: "Context window" }));
    await fireEvent.click(screen.getByRole("button", { name: "Compact now" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Could not compact: The CLI is not connected");
  });
});
