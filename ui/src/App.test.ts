import { render, screen, waitFor } from "@testing-library/svelte";
import { expect, test } from "vitest";
import App from "./App.svelte";
import { backendContext } from "./lib/backend";
import { FakeBackend } from "./test/fake-backend";

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
