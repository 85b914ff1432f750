import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { backendContext } from "../lib/backend";
import { installDialogPolyfill } from "../test/dialog";
import { FakeBackend } from "../test/fake-backend";
import AgentsDialog from "./AgentsDialog.svelte";

beforeAll(installDialogPolyfill);

function open(backend: FakeBackend) {
  const onClose = vi.fn();
  render(AgentsDialog, { props: { sessionId: "s1", workingDirectory: "/src/app", onClose }, context: backendContext(backend) });
  return { dialog: within(screen.getByRole("dialog", { name: "Agents & skills" })), onClose };
}

describe("AgentsDialog", () => {
  test("chooses an agent for the session and goes back to the default", async () => {
    const backend = new FakeBackend();
    backend.agents = {
      agents: [{ name: "reviewer", displayName: "reviewer", description: "Reviews code", source: "user", path: "/a/reviewer.agent.md", tools: null }],
      current: null,
    };
    const { dialog } = open(backend);
    const select = (await dialog.findByLabelText("Agent for this session")) as HTMLSelectElement;
    expect([...select.options].map((o) => o.text)).toEqual(["Default agent", "reviewer (user)"]);

    await fireEvent.change(select, { target: { value: "reviewer" } });
    expect(backend.selectAgent).toHaveBeenLastCalledWith("s1", "reviewer");
    await dialog.findByText("Reviews code");
    await fireEvent.change(select, { target: { value: "" } });
    expect(backend.selectAgent).toHaveBeenLastCalledWith("s1", null);
  });

  test("a new agent shows the file it becomes, and is saved where chosen", async () => {
    const backend = new FakeBackend();
    const { dialog } = open(backend);
    await fireEvent.click(await dialog.findByRole("button", { name: "New agent…" }));
    await dialog.findByText("An agent's name is 1 to 64 letters.");
    expect((dialog.getByRole("button", { name: "Save agent" }) as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.input(dialog.getByLabelText("Name"), { target: { value: "reviewer" } });
    await fireEvent.input(dialog.getByLabelText("Description"), { target: { value: "Reviews code" } });
    await fireEvent.input(dialog.getByLabelText(/^Tools/), { target: { value: "read, shell" } });
    await fireEvent.input(dialog.getByLabelText("Prompt"), { target: { value: "You review." } });
    await dialog.findByText(/Preview: \/home\/me\/.copilot\/agents\/reviewer.agent.md/);
    await fireEvent.click(dialog.getByRole("button", { name: "Save agent" }));
    expect(backend.saveAgent).toHaveBeenCalledWith(
      { scope: "user", project: "/src/app", name: "reviewer", description: "Reviews code", tools: ["read", "shell"], prompt: "You review." },
      false,
    );
    await dialog.findByText("Saved /home/me/.copilot/agents/reviewer.agent.md.");
    const select = dialog.getByLabelText("Agent for this session") as HTMLSelectElement;
    await waitFor(() => expect([...select.options].map((o) => o.value)).toContain("reviewer"));
  });

  test("turns a skill off for the session and opens its folder", async () => {
    const backend = new FakeBackend();
    backend.skills = [{ name: "greeter", description: "Greets people", source: "personal-copilot", enabled: true, path: "/s/greeter/SKILL.md" }];
    const { dialog } = open(backend);
    const box = (await dialog.findByRole("checkbox", { name: "greeter" })) as HTMLInputElement;
    expect(box.checked).toBe(true);
    await fireEvent.click(box);
    expect(backend.setSkillEnabled).toHaveBeenCalledWith("s1", "greeter", false);
    await dialog.findByText("greeter is off for this session.");
    await fireEvent.click(dialog.getByRole("button", { name: "Open the folder of greeter" }));
    expect(backend.openSkillFolder).toHaveBeenCalledWith("s1", "greeter");
  });

  test("edits the chosen agent's file in place, starting from what is stored", async () => {
    const backend = new FakeBackend();
    const path = "/home/me/.copilot/agents/reviewer.agent.md";
    const stored = { scope: "user" as const, project: null, name: "reviewer", description: "Reviews code", tools: ["read"], prompt: "You review." };
    backend.agentFiles.set(path, stored);
    backend.agents = { agents: [{ name: "reviewer", displayName: "reviewer", description: "Reviews code", source: "user", path, tools: ["read"] }], current: "reviewer" };
    const { dialog } = open(backend);
    await fireEvent.click(await dialog.findByRole("button", { name: "Edit reviewer…" }));
    expect(backend.readAgent).toHaveBeenCalledWith(path);
    const prompt = (await dialog.findByLabelText("Prompt")) as HTMLTextAreaElement;
    expect(prompt.value).toBe("You review.");
    expect((dialog.getByLabelText("Name") as HTMLInputElement).readOnly).toBe(true);
    await fireEvent.input(prompt, { target: { value: "You review twice." } });
    await dialog.findByText(/Preview: /);
    await fireEvent.click(dialog.getByRole("button", { name: "Save agent" }));
    expect(backend.saveAgent).toHaveBeenCalledWith({ ...stored, project: "/src/app", prompt: "You review twice." }, true);
  });
});
