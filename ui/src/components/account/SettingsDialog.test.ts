import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, backendContext, type ProviderConfig } from "../../lib/backend";
import { FakeBackend, signedOutAccount } from "../../test/fake-backend";
import SettingsDialog from "./SettingsDialog.svelte";
import { SETTINGS_PAGES } from "../settings/pages";
import { installDialogPolyfill, pressEscape } from "../../test/dialog";

beforeAll(installDialogPolyfill);

function renderDialog(backend: FakeBackend) {
  const onClose = vi.fn();
  const onSignIn = vi.fn();
  const result = render(SettingsDialog, { props: { open: true, onClose, onSignIn }, context: backendContext(backend) });
  return { ...result, onClose, onSignIn };
}

const dialog = () => screen.getByRole("dialog", { name: "Settings" });
const button = (name: string) => within(dialog()).getByRole("button", { name });
const field = <T extends HTMLElement = HTMLInputElement>(label: string) => within(dialog()).getByLabelText<T>(label);
const tab = (name: string) => within(dialog()).getByRole("tab", { name });
/** The page list's entries, in order, and which one is chosen. */
const tabs = () =>
  within(dialog())
    .getAllByRole("tab")
    .map((t) => `${t.textContent?.trim()}${t.getAttribute("aria-selected") === "true" ? " (chosen)" : ""}`);

const ollama: ProviderConfig = {
  providerType: "openai",
  baseUrl: "http://127.0.0.1:11434/v1",
  model: "llama3.2",
  wireApi: "completions",
  offline: true,
};

describe("SettingsDialog", () => {
  test("the app's own sign-in can be signed out of", async () => {
    const backend = new FakeBackend();
    backend.accountView = signedOutAccount({ source: "keychain", login: "octo-tester", plan: "individual" });
    backend.signOut.mockImplementation(async () => {
      backend.accountView = signedOutAccount();
    });
    renderDialog(backend);
    await within(dialog()).findByText("Signed in as octo-tester · Copilot Pro");
    await fireEvent.click(button("Sign out"));
    expect(backend.signOut).toHaveBeenCalledTimes(1);
    await within(dialog()).findByText("Not signed in");
    expect(within(dialog()).queryByRole("button", { name: "Sign out" })).toBeNull();
    await fireEvent.click(button("Sign in"));
  });

  test("a token from the environment is explained, not signed out of", async () => {
    const backend = new FakeBackend();
    backend.accountView = signedOutAccount({ source: "environment", envVar: "GH_TOKEN", login: "octo-tester" });
    renderDialog(backend);
    await within(dialog()).findByText(/The Copilot CLI signs in with GH_TOKEN/);
    expect(within(dialog()).queryByRole("button", { name: "Sign out" })).toBeNull();
  });

  test("saves a provider; the key goes to Rust once and the field is emptied", async () => {
    const backend = new FakeBackend();
    renderDialog(backend);
    await waitFor(() => expect(backend.getSettings).toHaveBeenCalled());
    await fireEvent.click(tab("Model provider"));
    await fireEvent.change(field<HTMLSelectElement>("Provider"), { target: { value: "openai" } });
    await fireEvent.input(field("Base URL"), { target: { value: ollama.baseUrl } });
    await fireEvent.input(field("Model"), { target: { value: ollama.model } });
    await fireEvent.change(field<HTMLSelectElement>("Wire API"), { target: { value: "completions" } });
    await fireEvent.input(field("API key"), { target: { value: "sk-typed-by-the-user" } });
    await fireEvent.click(field("Offline mode"));
    await fireEvent.click(button("Save provider"));

    expect(backend.saveProvider).toHaveBeenCalledWith(ollama, "sk-typed-by-the-user");
    await within(dialog()).findByText("A key is stored. Leave this empty to keep it.");
    expect(field("API key").value).toBe("");
    expect(field("API key").type).toBe("password");
    expect(dialog().innerHTML).not.toContain("sk-typed-by-the-user");
  });

  test("a stored provider is shown without its key; saving again keeps the key; Remove provider clears", async () => {
    const backend = new FakeBackend();
    backend.settingsView = { ...backend.settingsView, provider: ollama, providerKeyStored: true };
    renderDialog(backend);
    await fireEvent.click(tab("Model provider"));
    await waitFor(() => expect(field("Model").value).toBe("llama3.2"));
    expect(field("Base URL").value).toBe(ollama.baseUrl);
    expect(field("Offline mode").checked).toBe(true);
    expect(field("API key").value).toBe("");
    expect(within(dialog()).getByText("A key is stored. Leave this empty to keep it.")).toBeTruthy();

    await fireEvent.click(button("Save provider"));
    expect(backend.saveProvider).toHaveBeenCalledWith(ollama, null);

    await fireEvent.click(button("Remove provider"));
    expect(backend.clearProvider).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(within(dialog()).queryByRole("button", { name: "Remove provider" })).toBeNull());
    expect(within(dialog()).queryByText(/A key is stored/)).toBeNull();
  });

  test("a refused save is an alert with Rust's reason", async () => {
    const backend = new FakeBackend();
    const message = "\"localhost\" is not a web address. Enter the provider's base URL, for example http://127.0.0.1:11434/v1.";
    backend.saveProvider.mockRejectedValueOnce(new BackendError({ code: "invalid_request", message }));
    renderDialog(backend);
    await fireEvent.click(tab("Model provider"));
    await fireEvent.click(button("Save provider"));
    expect((await within(dialog()).findByRole("alert")).textContent).toBe(message);
  });

  test("a settings file that was set aside is announced", async () => {
    const backend = new FakeBackend();
    const notice = "Your settings could not be used because it is not valid JSON, so the defaults were restored. The old file was kept as settings.json.corrupt-1.";
    backend.settingsView = { ...backend.settingsView, notice };
    renderDialog(backend);
    expect((await within(dialog()).findByRole("alert")).textContent).toBe(notice);
  });

  test("Close closes", async () => {
    const backend = new FakeBackend();
    const { onClose } = renderDialog(backend);
    await fireEvent.click(button("Close"));
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  test("Escape closes", async () => {
    const backend = new FakeBackend();
    const { onClose } = renderDialog(backend);
    await pressEscape(tab("Account"));
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("SettingsDialog pages", () => {
  test("a list of pages, Account first and chosen, with focus on it; one page shows at a time", async () => {
    const backend = new FakeBackend();
    backend.accountView = signedOutAccount({ source: "keychain", login: "octo-tester" });
    renderDialog(backend);
    expect(within(dialog()).getByRole("tablist", { name: "Settings pages" })).toBeTruthy();
    expect(tabs()).toEqual(["Account (chosen)", "Model provider", "Copilot CLI", "Tools & MCP", "Permissions", "Old sessions", "Updates"]);
    expect(document.activeElement).toBe(tab("Account"));

    const panel = within(dialog()).getByRole("tabpanel", { name: "Account" });
    expect(tab("Account").getAttribute("aria-controls")).toBe(panel.id);
    expect(within(panel).getByRole("heading", { name: "Account" })).toBeTruthy();
    await within(panel).findByText("Signed in as octo-tester");
    expect(within(dialog()).queryByRole("button", { name: "Save provider" })).toBeNull();

    await fireEvent.click(tab("Model provider"));
    expect(tabs()).toEqual(["Account", "Model provider (chosen)", "Copilot CLI", "Tools & MCP", "Permissions", "Old sessions", "Updates"]);
    expect(within(dialog()).getByRole("tabpanel", { name: "Model provider" })).toBeTruthy();
    expect(button("Save provider")).toBeTruthy();
    expect(within(dialog()).queryByRole("button", { name: "Sign out" })).toBeNull();
  });

  test("the arrow keys, Home and End move between pages, and focus goes with them", async () => {
    renderDialog(new FakeBackend());
    const chosen = () => tabs().find((t) => t.endsWith(" (chosen)"))?.replace(" (chosen)", "");
    await fireEvent.keyDown(tab("Account"), { key: "ArrowDown" });
    expect(chosen()).toBe("Model provider");
    expect(document.activeElement).toBe(tab("Model provider"));
    // The last two pages, whichever they are: pages are added at the end.
    const [beforeLast, last] = SETTINGS_PAGES.slice(-2).map((p) => p.label) as [string, string];
    await fireEvent.keyDown(tab("Model provider"), { key: "End" });
    expect(chosen()).toBe(last);
    await fireEvent.keyDown(tab(last), { key: "ArrowDown" });
    expect(chosen()).toBe("Account");
    await fireEvent.keyDown(tab("Account"), { key: "ArrowUp" });
    expect(chosen()).toBe(last);
    await fireEvent.keyDown(tab(last), { key: "ArrowUp" });
    expect(chosen()).toBe(beforeLast);
    await fireEvent.keyDown(tab(beforeLast), { key: "Home" });
    expect(chosen()).toBe("Account");
    expect(document.activeElement).toBe(tab("Account"));
    expect(within(dialog()).getAllByRole("tab").map((t) => t.tabIndex)).toEqual(SETTINGS_PAGES.map((_, i) => (i === 0 ? 0 : -1)));
  });

  test("what was typed stays while moving between pages; reopening starts on Account with the key gone", async () => {
    const backend = new FakeBackend();
    const { rerender } = renderDialog(backend);
    await waitFor(() => expect(backend.getSettings).toHaveBeenCalled());
    await fireEvent.click(tab("Model provider"));
    await fireEvent.input(field("Base URL"), { target: { value: ollama.baseUrl } });
    await fireEvent.input(field("API key"), { target: { value: "sk-typed-by-the-user" } });
    await fireEvent.click(tab("Account"));
    await fireEvent.click(tab("Model provider"));
    expect(field("Base URL").value).toBe(ollama.baseUrl);
    expect(field("API key").value).toBe("sk-typed-by-the-user");

    await rerender({ open: false });
    expect(screen.queryByRole("dialog", { name: "Settings" })).toBeNull();
    expect(document.querySelector('input[type="password"]')).toBeNull();
    await rerender({ open: true });
    expect(tabs()).toEqual(["Account (chosen)", "Model provider", "Copilot CLI", "Tools & MCP", "Permissions", "Old sessions", "Updates"]);
    await fireEvent.click(tab("Model provider"));
    expect(field("API key").value).toBe("");
    expect(backend.saveProvider).not.toHaveBeenCalled();
  });

  test("the status line says what the last action did, whichever page is showing", async () => {
    const backend = new FakeBackend();
    renderDialog(backend);
    await fireEvent.click(tab("Model provider"));
    await fireEvent.click(button("Save provider"));
    await within(dialog()).findByText("Provider saved. New sessions use it.");
    await fireEvent.click(tab("Account"));
    expect(within(dialog()).getByText("Provider saved. New sessions use it.")).toBeTruthy();
  });
});

test("while open, the account section follows what Rust pushes, and stops when closed", async () => {
  const backend = new FakeBackend();
  backend.accountView = signedOutAccount({ cliConnected: false });
  const { rerender } = renderDialog(backend);
  await within(dialog()).findByText("Checking account…");
  backend.pushAccount(signedOutAccount({ source: "keychain", login: "octo-tester" }));
  await within(dialog()).findByText("Signed in as octo-tester");
  expect(backend.accountListeners.size).toBe(1);
  await rerender({ open: false });
  await waitFor(() => expect(backend.accountListeners.size).toBe(0));
});
