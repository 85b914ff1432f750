import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { tick } from "svelte";
import { beforeAll, describe, expect, test } from "vitest";
import App from "./App.svelte";
import { backendContext } from "./lib/backend";
import { installDialogPolyfill } from "./test/dialog";
import { FakeBackend, signedOutAccount } from "./test/fake-backend";

test("the shell has a sessions sidebar, an empty main pane and a status bar", async () => {
  render(App, { context: backendContext(new FakeBackend({ state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 })) });

  const sidebar = screen.getByRole("navigation", { name: "Sessions" });
  expect(sidebar.textContent).toContain("Copilot Desktop");
  expect(screen.getByRole("heading", { level: 1, name: "Copilot Desktop" })).toBeTruthy();
  expect(screen.getByRole("main").textContent).toContain("No session selected");

  const footer = screen.getByRole("contentinfo");
  const status = screen.getByRole("status", { name: "Copilot CLI connection" });
  expect(footer.contains(status)).toBe(true);
  await waitFor(() => expect(status.textContent).toBe("Connected · Copilot CLI 1.0.102 (bundled)"));
});

describe("the app menu and its shortcuts", () => {
  beforeAll(installDialogPolyfill);
  const connected = () => new FakeBackend({ state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 });

  test("New session from the menu and with Ctrl+N; not over a dialog that is open", async () => {
    const backend = connected();
    render(App, { context: backendContext(backend) });
    await waitFor(() => expect(backend.menuListeners.size).toBe(1));

    backend.chooseMenu("newSession");
    await screen.findByRole("dialog", { name: "New session" });
    backend.chooseMenu("openSettings");
    await tick();
    expect(screen.queryByRole("dialog", { name: "Settings" })).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "New session" })).toBeNull());

    await fireEvent.keyDown(window, { key: "n", ctrlKey: true });
    await screen.findByRole("dialog", { name: "New session" });
  });

  test("Ctrl+, opens Settings and Ctrl+K goes to the session search", async () => {
    render(App, { context: backendContext(connected()) });
    await fireEvent.keyDown(window, { key: "k", ctrlKey: true });
    expect(document.activeElement).toBe(screen.getByRole("searchbox", { name: "Search sessions" }));
    await fireEvent.keyDown(window, { key: ",", ctrlKey: true });
    await screen.findByRole("dialog", { name: "Settings" });
  });
});

describe("the welcome on a first run", () => {
  beforeAll(installDialogPolyfill);

  test("signed out with no provider: the ways in, and each opens its dialog", async () => {
    const backend = new FakeBackend({ state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 });
    render(App, { context: backendContext(backend) });
    await screen.findByRole("heading", { name: "Welcome to Copilot Desktop" });
    await fireEvent.click(screen.getByRole("button", { name: "Use your own model provider" }));
    const settings = await screen.findByRole("dialog", { name: "Settings" });
    expect(within(settings).getByRole("tab", { name: "Model provider" }).getAttribute("aria-selected")).toBe("true");
    await fireEvent.click(within(settings).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "Settings" })).toBeNull());

    await fireEvent.click(screen.getByRole("button", { name: "Sign in with GitHub" }));
    await screen.findByRole("dialog", { name: "Sign in to GitHub" });
  });

  test("signed in with no sessions: one click starts a session in the home folder", async () => {
    const backend = new FakeBackend({ state: "connected", target: { kind: "bundled" }, version: "1.0.102", protocolVersion: 3 });
    backend.accountView = signedOutAccount({ source: "keychain", login: "octocat" });
    backend.defaultWorkingDirectory.mockResolvedValue("/home/octocat");
    render(App, { context: backendContext(backend) });
    await screen.findByRole("heading", { name: "Start your first session" });
    expect(screen.getByRole("main").textContent).toContain("/home/octocat");
    await fireEvent.click(screen.getByRole("button", { name: "Start a session in your home folder" }));
    await waitFor(() => expect(backend.createSession).toHaveBeenCalledWith({ workingDirectory: "/home/octocat", model: "fake-model" }));
    await screen.findByRole("textbox", { name: "Message" });
  });
});
