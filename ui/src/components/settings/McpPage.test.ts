import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { backendContext } from "../../lib/backend";
import { installDialogPolyfill } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import SettingsDialog from "../account/SettingsDialog.svelte";
import McpSessionPanel from "../mcp/McpSessionPanel.svelte";

beforeAll(installDialogPolyfill);

const settings = () => screen.getByRole("dialog", { name: "Settings" });

async function openPage(backend: FakeBackend) {
  render(SettingsDialog, { props: { open: true, onClose: vi.fn() }, context: backendContext(backend) });
  await waitFor(() => expect(backend.getSettings).toHaveBeenCalled());
  await fireEvent.click(within(settings()).getByRole("tab", { name: "Tools & MCP" }));
  return within(within(settings()).getByRole("tabpanel", { name: "Tools & MCP" }));
}

describe("Tools & MCP settings page", () => {
  test("lists the user's servers with where each is kept, and every server the CLI knows with its source", async () => {
    const backend = new FakeBackend();
    backend.mcp = {
      user: [
        { name: "files", enabled: true, storedIn: "cli", spec: { kind: "local", command: "fs-server", args: [], workingDirectory: null, env: [], tools: ["*"] } },
        { name: "tracker", enabled: false, storedIn: "app", spec: { kind: "http", url: "https://t.example/mcp", headers: [], tools: ["*"] } },
      ],
      discovered: [
        { name: "files", source: "user", plugin: null, transport: "stdio", enabled: true },
        { name: "docs", source: "workspace", plugin: null, transport: "http", enabled: true },
        { name: "lint", source: "plugin", plugin: "acme", transport: "stdio", enabled: true },
      ],
      discoverError: null,
    };
    const page = await openPage(backend);
    const files = await page.findByRole("listitem", { name: "files" });
    expect(files.textContent).toContain("mcp-config.json");
    expect(page.getByRole("listitem", { name: "tracker" }).textContent).toContain("OS keychain");
    const table = page.getByRole("table", { name: "MCP servers the CLI knows" });
    expect(table.textContent).toContain("This project");
    expect(table.textContent).toContain("Plugin acme");

    await fireEvent.click(page.getByRole("button", { name: "Enable tracker" }));
    expect(backend.setMcpServerEnabled).toHaveBeenCalledWith("tracker", true);
  });

  test("the form keeps what was typed and says what is wrong; a good server is saved with its secret marked", async () => {
    const backend = new FakeBackend();
    const page = await openPage(backend);
    await fireEvent.click(page.getByRole("button", { name: "Add server…" }));
    const form = within(screen.getByRole("dialog", { name: "Add MCP server" }));
    await fireEvent.input(form.getByLabelText("Name"), { target: { value: "srv" } });
    await fireEvent.input(form.getByLabelText("Command"), { target: { value: "run-srv" } });
    await fireEvent.input(form.getByLabelText("Secret environment (JSON)"), { target: { value: "{nope" } });
    await fireEvent.click(form.getByRole("button", { name: "Save server" }));
    expect((await form.findByRole("alert")).textContent).toContain("Secret environment is not valid JSON");
    expect(backend.saveMcpServer).not.toHaveBeenCalled();
    expect((form.getByLabelText("Command") as HTMLInputElement).value).toBe("run-srv");

    await fireEvent.input(form.getByLabelText("Secret environment (JSON)"), { target: { value: '{"TOKEN": "s"}' } });
    await fireEvent.click(form.getByRole("button", { name: "Save server" }));
    await waitFor(() => expect(backend.saveMcpServer).toHaveBeenCalled());
    expect(backend.saveMcpServer.mock.calls[0]![0].spec).toMatchObject({
      kind: "local",
      command: "run-srv",
      env: [{ name: "TOKEN", value: "s", secret: true }],
    });
  });
});

describe("a session's MCP panel", () => {
  test("shows each server's state, a failure's error, the tools, and acts on one server", async () => {
    const backend = new FakeBackend();
    backend.sessionServers = [
      { name: "files", status: "connected", error: null, source: null },
      { name: "broken", status: "failed", error: "spawn failed: No such file", source: null },
    ];
    backend.sessionMcpTools.mockResolvedValue([{ name: "read_file", description: "Reads a file" }]);
    render(McpSessionPanel, { props: { sessionId: "s1" }, context: backendContext(backend) });
    await fireEvent.click(screen.getByRole("button", { name: "MCP servers" }));
    const panel = within(screen.getByRole("dialog", { name: "MCP servers in this session" }));
    await panel.findByLabelText("files: Running");
    panel.getByLabelText("broken: Failed");
    expect(panel.getByLabelText("Error of broken").textContent).toContain("No such file");
    expect((await panel.findByRole("list", { name: "Tools of files" })).textContent).toContain("read_file");
    await fireEvent.click(panel.getByRole("button", { name: "Restart files" }));
    expect(backend.controlMcpServer).toHaveBeenCalledWith("s1", "files", "restart");
  });

  test("says so when the account's policy turns MCP servers off", async () => {
    const backend = new FakeBackend();
    backend.thirdPartyMcp = false;
    render(McpSessionPanel, { props: { sessionId: "s1" }, context: backendContext(backend) });
    await fireEvent.click(screen.getByRole("button", { name: "MCP servers" }));
    await screen.findByText(/policy turns MCP servers off/);
  });
});
