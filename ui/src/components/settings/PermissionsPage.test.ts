import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, backendContext } from "../../lib/backend";
import { installDialogPolyfill } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import SettingsDialog from "../account/SettingsDialog.svelte";

beforeAll(installDialogPolyfill);

const settings = () => screen.getByRole("dialog", { name: "Settings" });

async function openPage(backend: FakeBackend) {
  render(SettingsDialog, { props: { open: true, onClose: vi.fn() }, context: backendContext(backend) });
  await waitFor(() => expect(backend.getSettings).toHaveBeenCalled());
  await fireEvent.click(within(settings()).getByRole("tab", { name: "Permissions" }));
  return within(within(settings()).getByRole("tabpanel", { name: "Permissions" }));
}

describe("Permissions settings page", () => {
  test("lists every kind of standing rule with the file it is stored in", async () => {
    const backend = new FakeBackend();
    backend.rules.projectApprovals = [
      { location: "/src/app", label: "shell(npm test)", approval: { kind: "commands", commandIdentifiers: ["npm test"] } },
    ];
    backend.rules.allowedUrls = ["docs.github.com"];
    backend.rules.deniedUrls = ["evil.example"];
    backend.rules.trustedFolders = ["/src"];
    backend.rules.denyRules = [{ kind: "shell", argument: "rm" }];
    const page = await openPage(backend);

    const project = await page.findByRole("list", { name: "Project rules" });
    expect(project.textContent).toContain("shell(npm test) in /src/app");
    expect(page.getByText("/home/me/.copilot/permissions-config.json")).toBeTruthy();
    expect(page.getByRole("list", { name: "Deny rules" }).textContent).toContain("shell(rm)");
    expect(page.getByText("/home/me/.config/copilot-desktop/deny-rules.json")).toBeTruthy();
    const urls = page.getByRole("list", { name: "URL rules" }).textContent ?? "";
    expect(urls).toContain("Allowed: docs.github.com");
    expect(urls).toContain("Denied: evil.example");
    expect(page.getByRole("list", { name: "Trusted folders" }).textContent).toContain("/src");
  });

  test("removes a project rule by handing back exactly what was stored", async () => {
    const backend = new FakeBackend();
    const rule = { location: "/src/app", label: "shell(npm test)", approval: { kind: "commands", commandIdentifiers: ["npm test"] } };
    backend.rules.projectApprovals = [rule];
    const page = await openPage(backend);

    await fireEvent.click(await page.findByRole("button", { name: "Remove shell(npm test) in /src/app" }));
    expect(backend.removeProjectRule).toHaveBeenCalledWith(rule);
    await page.findByText(/No project rules/);
  });

  test("adds allow and deny rules by hand, and shows a refusal without losing the input", async () => {
    const backend = new FakeBackend();
    const page = await openPage(backend);

    await fireEvent.input(await page.findByLabelText("Command to allow"), { target: { value: "npm test" } });
    await fireEvent.input(page.getByLabelText("Project folder"), { target: { value: "/src/app" } });
    await fireEvent.click(page.getByRole("button", { name: "Add project rule" }));
    expect(backend.addProjectRule).toHaveBeenCalledWith({ location: "/src/app", kind: "shell", argument: "npm test" });
    await page.findByRole("list", { name: "Project rules" });

    backend.addDenyRule.mockRejectedValueOnce(new BackendError({ code: "invalid_request", message: "Say which command to deny, for example `rm`." }));
    await fireEvent.click(page.getByRole("button", { name: "Add deny rule" }));
    await within(settings()).findByText("Say which command to deny, for example `rm`.");

    await fireEvent.input(page.getByLabelText("Command or pattern"), { target: { value: "rm" } });
    await fireEvent.click(page.getByRole("button", { name: "Add deny rule" }));
    expect(backend.addDenyRule).toHaveBeenLastCalledWith({ kind: "shell", argument: "rm" });
    expect((await page.findByRole("list", { name: "Deny rules" })).textContent).toContain("shell(rm)");
  });
});
