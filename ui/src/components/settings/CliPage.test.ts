import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, backendContext } from "../../lib/backend";
import { installDialogPolyfill } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import SettingsDialog from "../account/SettingsDialog.svelte";

beforeAll(installDialogPolyfill);

async function openPage(backend: FakeBackend) {
  render(SettingsDialog, { props: { open: true, onClose: vi.fn() }, context: backendContext(backend) });
  await waitFor(() => expect(backend.getSettings).toHaveBeenCalled());
  await fireEvent.click(within(dialog()).getByRole("tab", { name: "Copilot CLI" }));
  return within(within(dialog()).getByRole("tabpanel", { name: "Copilot CLI" }));
}

const dialog = () => screen.getByRole("dialog", { name: "Settings" });
const field = (label: string) => within(dialog()).getByLabelText<HTMLInputElement>(label);
const button = (name: string) => within(dialog()).getByRole("button", { name });

async function chooseServer(host: string, port: string, token?: string): Promise<void> {
  await fireEvent.click(field("A Copilot CLI server"));
  await fireEvent.input(field("Host"), { target: { value: host } });
  await fireEvent.input(field("Port"), { target: { value: port } });
  if (token !== undefined) await fireEvent.input(field("Connection token"), { target: { value: token } });
}

describe("Copilot CLI settings page", () => {
  test("the bundled CLI is the default, and the server's fields show only when a server is chosen", async () => {
    const page = await openPage(new FakeBackend());
    expect(field("Bundled (this computer)").checked).toBe(true);
    expect(page.queryByLabelText("Host")).toBeNull();
    expect(page.queryByRole("button", { name: "Test connection" })).toBeNull();
    await fireEvent.click(field("A Copilot CLI server"));
    expect(field("Host")).toBeTruthy();
    expect(field("Connection token").type).toBe("password");
    expect(button("Test connection")).toBeTruthy();
  });

  test("saving a server sends the token once, empties the field and says a token is stored", async () => {
    const backend = new FakeBackend();
    const page = await openPage(backend);
    await chooseServer(" devbox.example.com ", "4321", "conn-typed-by-the-user");
    await fireEvent.click(button("Save"));

    expect(backend.saveCliSettings).toHaveBeenCalledWith(
      { mode: "server", server: { host: "devbox.example.com", port: 4321 } },
      "conn-typed-by-the-user",
      false,
    );
    await page.findByText("A token is stored. Leave this empty to keep it.");
    expect(field("Connection token").value).toBe("");
    expect(dialog().innerHTML).not.toContain("conn-typed-by-the-user");
    await within(dialog()).findByText("Saved. The app now talks to the Copilot CLI server at devbox.example.com:4321.");
  });

  test("a stored token is kept when the field stays empty, and can be forgotten", async () => {
    const backend = new FakeBackend();
    backend.settingsView = {
      ...backend.settingsView,
      cli: { mode: "server", server: { host: "127.0.0.1", port: 4321 }, tokenStored: true, envServer: null, warning: null },
    };
    const page = await openPage(backend);
    await page.findByText("A token is stored. Leave this empty to keep it.");
    expect(field("Host").value).toBe("127.0.0.1");
    expect(field("Port").value).toBe("4321");
    await fireEvent.click(button("Save"));
    expect(backend.saveCliSettings).toHaveBeenLastCalledWith(
      { mode: "server", server: { host: "127.0.0.1", port: 4321 } },
      null,
      false,
    );
    await fireEvent.click(field("Forget the stored token"));
    await fireEvent.click(button("Save"));
    expect(backend.saveCliSettings).toHaveBeenLastCalledWith(
      { mode: "server", server: { host: "127.0.0.1", port: 4321 } },
      null,
      true,
    );
    await waitFor(() => expect(page.queryByText("A token is stored. Leave this empty to keep it.")).toBeNull());
  });

  test("going back to the bundled CLI keeps the server's address for next time", async () => {
    const backend = new FakeBackend();
    backend.settingsView = {
      ...backend.settingsView,
      cli: { mode: "server", server: { host: "127.0.0.1", port: 4321 }, tokenStored: true, envServer: null, warning: null },
    };
    await openPage(backend);
    await fireEvent.click(field("Bundled (this computer)"));
    await fireEvent.click(button("Save"));
    expect(backend.saveCliSettings).toHaveBeenCalledWith(
      { mode: "bundled", server: { host: "127.0.0.1", port: 4321 } },
      null,
      false,
    );
    await within(dialog()).findByText("Saved. The app now runs its bundled Copilot CLI.");
  });

  test("Test connection shows the server's versions, or the reason it cannot be used", async () => {
    const backend = new FakeBackend();
    const page = await openPage(backend);
    await chooseServer("127.0.0.1", "4321", "conn-typed");
    await fireEvent.click(button("Test connection"));
    expect(backend.testCliServer).toHaveBeenCalledWith({ host: "127.0.0.1", port: 4321 }, "conn-typed");
    const result = page.getByRole("status", { name: "Connection test" });
    await waitFor(() => expect(result.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "Copilot CLI 1.0.102 (protocol 3) answered at 127.0.0.1:4321.",
    ));
    expect(backend.saveCliSettings).not.toHaveBeenCalled();

    backend.testCliServer.mockRejectedValueOnce(
      new BackendError({ code: "server_token_rejected", message: "The Copilot CLI server at 127.0.0.1:4321 refused the connection token." }),
    );
    await fireEvent.click(button("Test connection"));
    expect((await page.findByRole("alert")).textContent).toContain("refused the connection token");
    expect(result.textContent?.trim()).toBe("");
  });

  test("an incomplete address is refused before anything is asked of Rust", async () => {
    const backend = new FakeBackend();
    const page = await openPage(backend);
    await chooseServer("devbox", "");
    await fireEvent.click(button("Test connection"));
    expect((await page.findByRole("alert")).textContent).toContain("port");
    expect(backend.testCliServer).not.toHaveBeenCalled();
    await fireEvent.click(button("Save"));
    await within(dialog()).findByText(/Enter the port/, { selector: "[role=alert]" });
    expect(backend.saveCliSettings).not.toHaveBeenCalled();
  });

  test("a warning from Rust about an unprotected server on another machine is shown", async () => {
    const backend = new FakeBackend();
    backend.serverCheck = { info: { version: "1.0.102", protocolVersion: 3 }, warning: "devbox:4321 is on another machine and no connection token protects it." };
    const page = await openPage(backend);
    await chooseServer("devbox", "4321");
    await fireEvent.click(button("Test connection"));
    expect((await page.findByRole("note")).textContent).toContain("no connection token protects it");
  });

  test("COPILOT_DESKTOP_SERVER in the environment is explained", async () => {
    const backend = new FakeBackend();
    backend.settingsView = {
      ...backend.settingsView,
      cli: { mode: "bundled", server: null, tokenStored: false, envServer: "10.0.0.5:4321", warning: null },
    };
    const page = await openPage(backend);
    expect((await page.findByRole("note")).textContent).toContain("the server at 10.0.0.5:4321");
  });
});
