import { describe, expect, test } from "vitest";
import { BackendError } from "../backend";
import { FakeBackend, deferred } from "../../test/fake-backend";
import { permission, question } from "../../test/chat-fixtures";
import { PromptQueue } from "./prompts.svelte";

async function started(): Promise<{ backend: FakeBackend; queue: PromptQueue }> {
  const backend = new FakeBackend();
  const queue = new PromptQueue(backend);
  await queue.start();
  return { backend, queue };
}

describe("PromptQueue", () => {
  test("queues each session's requests first in, first out", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.pushPrompt({ type: "questionAsked", question: question("q1", "b") });
    backend.pushPrompt({ type: "questionAsked", question: question("q2", "a") });

    expect(queue.pendingFor("a").map((item) => item.requestId)).toEqual(["p1", "q2"]);
    expect(queue.pendingFor("b").map((item) => item.requestId)).toEqual(["q1"]);
    expect(queue.current("a")).toMatchObject({ type: "permission", requestId: "p1", sessionId: "a" });
    expect(queue.current("b")).toMatchObject({ type: "question", requestId: "q1" });
  });

  test("counts per session for the sidebar badges", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p2", "a") });
    backend.pushPrompt({ type: "questionAsked", question: question("q1", "b") });

    expect(queue.countFor("a")).toBe(2);
    expect(queue.countFor("b")).toBe(1);
    expect(queue.countFor("c")).toBe(0);
  });

  test("shows only the active session's requests; others wait", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "background") });

    expect(queue.current("active")).toBeNull();
    expect(queue.current(null)).toBeNull();
    expect(queue.countFor("background")).toBe(1);
  });

  test("the same request sent again replaces the old one in its place", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p2", "a") });
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a", undefined, { warning: "updated" }) });

    const pending = queue.pendingFor("a");
    expect(pending.map((item) => item.requestId)).toEqual(["p1", "p2"]);
    expect(pending[0]).toMatchObject({ type: "permission", prompt: { warning: "updated" } });
  });

  test("resolved removes the request, wherever it was answered", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.pushPrompt({ type: "questionAsked", question: question("q1", "a") });

    backend.pushPrompt({ type: "resolved", requestId: "p1" });
    expect(queue.current("a")?.requestId).toBe("q1");
    backend.pushPrompt({ type: "resolved", requestId: "q1" });
    expect(queue.current("a")).toBeNull();
    backend.pushPrompt({ type: "resolved", requestId: "unknown" });
    expect(queue.all).toEqual([]);
  });

  test("decide sends the answer and removes the prompt once Rust took it", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    const reply = deferred<void>();
    backend.decide.mockReturnValueOnce(reply.promise);

    const deciding = queue.decide("p1", { decision: "approveOnce" });
    expect(backend.decide).toHaveBeenCalledWith("p1", { decision: "approveOnce" });
    expect(queue.isSending("p1")).toBe(true);
    expect(queue.countFor("a")).toBe(1);

    reply.resolve();
    await deciding;
    expect(queue.countFor("a")).toBe(0);
    expect(queue.isSending("p1")).toBe(false);
  });

  test("a failed decision keeps the prompt, says why and rejects; a retry clears the error", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.decide.mockRejectedValueOnce(new BackendError({ code: "cli", message: "CLI went away" }));

    await expect(queue.decide("p1", { decision: "reject", feedback: null })).rejects.toThrow("CLI went away");
    expect(queue.current("a")?.requestId).toBe("p1");
    expect(queue.errorFor("p1")).toBe("CLI went away");
    expect(queue.isSending("p1")).toBe(false);

    await queue.decide("p1", { decision: "reject", feedback: null });
    expect(queue.errorFor("p1")).toBeNull();
    expect(queue.current("a")).toBeNull();
  });

  test("a prompt already resolved elsewhere is dropped without an error", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.decide.mockRejectedValueOnce({ code: "prompt_not_pending", message: "no such prompt" });

    await queue.decide("p1", { decision: "approveOnce" });
    expect(queue.current("a")).toBeNull();
    expect(queue.errorFor("p1")).toBeNull();
  });

  test("answer sends the user's answer to a question", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "questionAsked", question: question("q1", "a") });

    await queue.answer("q1", { answer: "main", wasFreeform: false });
    expect(backend.answer).toHaveBeenCalledWith("q1", { answer: "main", wasFreeform: false });
    expect(queue.countFor("a")).toBe(0);
  });

  test("a failed answer keeps the question with the reason", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "questionAsked", question: question("q1", "a") });
    backend.answer.mockRejectedValueOnce(new BackendError({ code: "ipc", message: "denied" }));

    await expect(queue.answer("q1", { answer: "x", wasFreeform: true })).rejects.toThrow("denied");
    expect(queue.countFor("a")).toBe(1);
    expect(queue.errorFor("q1")).toBe("denied");
  });

  test("resolving a prompt elsewhere clears its error", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    backend.decide.mockRejectedValueOnce(new BackendError({ code: "cli", message: "timeout" }));
    await queue.decide("p1", { decision: "approveOnce" }).catch(() => {});

    backend.pushPrompt({ type: "resolved", requestId: "p1" });
    expect(queue.errorFor("p1")).toBeNull();
  });

  test("a failed subscription says why", async () => {
    const backend = new FakeBackend();
    backend.onPrompts.mockRejectedValueOnce(new BackendError({ code: "ipc", message: "watch_prompts not allowed" }));
    const queue = new PromptQueue(backend);
    await queue.start();
    expect(queue.error).toBe("watch_prompts not allowed");

    await queue.start();
    expect(queue.error).toBeNull();
    expect(backend.promptListeners.size).toBe(1);
  });

  test("starting again begins empty (Rust sends every pending request again)", async () => {
    const { backend, queue } = await started();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "a") });
    queue.stop();
    expect(backend.promptListeners.size).toBe(0);

    backend.onPrompts.mockImplementationOnce(async (onEvent) => {
      onEvent({ type: "permissionRequested", prompt: permission("p1", "a") });
      backend.promptListeners.add(onEvent);
      return () => backend.promptListeners.delete(onEvent);
    });
    await queue.start();
    expect(queue.pendingFor("a").map((item) => item.requestId)).toEqual(["p1"]);
  });

  test("stop before the subscription resolves unsubscribes and ignores events", async () => {
    const backend = new FakeBackend();
    const queue = new PromptQueue(backend);
    const starting = queue.start();
    queue.stop();
    await starting;
    expect(backend.promptListeners.size).toBe(0);
  });
});
