import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import { BackendError, backendContext, type Backend } from "../lib/backend";
import { FakeBackend, deferred } from "../test/fake-backend";
import StatusBar from "./StatusBar.svelte";

const bundled = { kind: "bundled" } as const;
const connected = { state: "connected", target: bundled, version: "1.0.102", protocolVersion: 3 } as const;

function renderStatusBar(backend: Backend) {
  return render(StatusBar, { context: backendContext(backend) });
}

function status(): HTMLElement {
  return screen.getByRole("status", { name: "Copilot CLI connection" });
}

async function expectStatus(text: string): Promise<void> {
  await waitFor(() => expect(status().textContent).toBe(text));
}

function retryButton(): HTMLElement | null {
  return screen.queryByRole("button", { name: "Retry" });
}

describe("StatusBar", () => {
  test("reads Connecting… until Rust answers, then names the CLI version", async () => {
    const backend = new FakeBackend();
    const answer = deferred<typeof connected>();
    backend.connection.mockReturnValueOnce(answer.promise);

    renderStatusBar(backend);
    expect(status().textContent).toBe("Connecting…");

    answer.resolve(connected);
    await expectStatus("Connected · Copilot CLI 1.0.102 (bundled)");
    expect(retryButton()).toBeNull();
  });

  test("subscribes before asking for the current state", async () => {
    const backend = new FakeBackend(connected);
    renderStatusBar(backend);
    await expectStatus("Connected · Copilot CLI 1.0.102 (bundled)");

    const subscribed = backend.onConnection.mock.invocationCallOrder[0]!;
    const asked = backend.connection.mock.invocationCallOrder[0]!;
    expect(subscribed).toBeLessThan(asked);
  });

  test("follows every state Rust pushes", async () => {
    const backend = new FakeBackend(connected);
    renderStatusBar(backend);
    await expectStatus("Connected · Copilot CLI 1.0.102 (bundled)");

    backend.push({ state: "restarting", target: bundled, attempt: 2, code: "cli_exited", reason: "CLI exited with code 1", retryInMs: 2000 });
    await expectStatus("Restarting (attempt 2): CLI exited with code 1");
    expect(retryButton()).toBeNull();

    backend.push({ state: "failed", target: bundled, code: "crash_loop", reason: "gave up after 5 attempts" });
    await expectStatus("Failed: gave up after 5 attempts");
    expect(retryButton()).not.toBeNull();

    backend.push({ state: "stopped" });
    await expectStatus("Stopped");
    expect(retryButton()).toBeNull();
  });

  test("a state pushed while the first answer is on its way is not overwritten by it", async () => {
    const backend = new FakeBackend();
    const answer = deferred<typeof connected>();
    backend.connection.mockReturnValueOnce(answer.promise);
    renderStatusBar(backend);
    await waitFor(() => expect(backend.connection).toHaveBeenCalled());

    backend.push({ state: "failed", target: bundled, code: "crash_loop", reason: "crashed" });
    answer.resolve(connected);
    await expectStatus("Failed: crashed");
  });

  test("Retry, a real button, asks Rust to start the CLI again", async () => {
    const backend = new FakeBackend({ state: "failed", target: bundled, code: "crash_loop", reason: "crashed" });
    backend.retry.mockImplementation(async () => backend.push({ state: "connecting", target: bundled }));
    renderStatusBar(backend);
    await expectStatus("Failed: crashed");

    const button = retryButton()!;
    expect(button.tagName).toBe("BUTTON");
    await fireEvent.click(button);

    expect(backend.retry).toHaveBeenCalledTimes(1);
    await expectStatus("Connecting…");
    expect(retryButton()).toBeNull();
  });

  test("a failed retry shows why", async () => {
    const backend = new FakeBackend({ state: "failed", target: bundled, code: "crash_loop", reason: "crashed" });
    backend.retry.mockRejectedValueOnce(new BackendError({ code: "cli_missing", message: "copilot binary not found" }));
    renderStatusBar(backend);
    await expectStatus("Failed: crashed");

    await fireEvent.click(retryButton()!);
    await expectStatus("Failed: copilot binary not found");
  });

  test("when the subscription itself fails, Retry subscribes again", async () => {
    const backend = new FakeBackend(connected);
    backend.onConnection.mockRejectedValueOnce(new BackendError({ code: "ipc", message: "watch_connection not allowed" }));
    renderStatusBar(backend);
    await expectStatus("Failed: watch_connection not allowed");

    await fireEvent.click(retryButton()!);
    await expectStatus("Connected · Copilot CLI 1.0.102 (bundled)");
    expect(backend.onConnection).toHaveBeenCalledTimes(2);
    expect(backend.retry).not.toHaveBeenCalled();
  });

  test("names the server the app talks to, and says it is reconnecting to it", async () => {
    const server = { kind: "server", address: "127.0.0.1:4321" } as const;
    const backend = new FakeBackend({ ...connected, target: server });
    renderStatusBar(backend);
    await expectStatus("Connected · Copilot CLI 1.0.102 at 127.0.0.1:4321");

    backend.push({ state: "restarting", target: server, attempt: 1, code: "server_lost", reason: "The connection was lost.", retryInMs: 250 });
    await expectStatus("Reconnecting to 127.0.0.1:4321… (attempt 1): The connection was lost.");
    expect(retryButton()).toBeNull();
  });

  test("unsubscribes when it goes away", async () => {
    const backend = new FakeBackend(connected);
    const { unmount } = renderStatusBar(backend);
    await expectStatus("Connected · Copilot CLI 1.0.102 (bundled)");
    expect(backend.listeners.size).toBe(1);

    unmount();
    expect(backend.listeners.size).toBe(0);
  });
});
