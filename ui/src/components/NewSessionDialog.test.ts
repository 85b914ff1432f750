import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, backendContext, type ModelInfo, type NewSession } from "../lib/backend";
import { installDialogPolyfill, pressEscape } from "../test/dialog";
import { FakeBackend, deferred } from "../test/fake-backend";
import NewSessionDialog from "./NewSessionDialog.svelte";

beforeAll(installDialogPolyfill);

const models: ModelInfo[] = [
  { id: "gpt-5", name: "GPT-5" },
  { id: "claude-sonnet-4.5", name: "Claude Sonnet 4.5" },
];

function renderDialog(backend = new FakeBackend(), model: string | null = null) {
  const onCreate = vi.fn(async (_request: NewSession) => {});
  const onCancel = vi.fn();
  render(NewSessionDialog, { props: { models, model, onCreate, onCancel }, context: backendContext(backend) });
  return { backend, onCreate, onCancel };
}

function folder(): HTMLInputElement {
  return screen.getByRole("textbox", { name: "Working directory" }) as HTMLInputElement;
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole("button", { name }) as HTMLButtonElement;
}

describe("NewSessionDialog", () => {
  test("is a modal dialog titled New session, with the default folder filled in", async () => {
    const { backend } = renderDialog();
    const dialog = screen.getByRole("dialog", { name: "New session" }) as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    expect(backend.defaultWorkingDirectory).toHaveBeenCalled();
    await waitFor(() => expect(folder().value).toBe("/home/user"));
    expect(document.activeElement).toBe(folder());
  });

  test("what the user typed is not overwritten by a late default", async () => {
    const backend = new FakeBackend();
    const answer = deferred<string>();
    backend.defaultWorkingDirectory.mockReturnValueOnce(answer.promise);
    renderDialog(backend);

    await fireEvent.input(folder(), { target: { value: "/srv/app" } });
    answer.resolve("/home/user");
    await answer.promise;
    expect(folder().value).toBe("/srv/app");
  });

  test("Create hands the folder and model to onCreate", async () => {
    const { onCreate } = renderDialog(undefined, "gpt-5");
    await waitFor(() => expect(folder().value).toBe("/home/user"));
    const picker = screen.getByRole("combobox", { name: "Model" }) as HTMLSelectElement;
    expect(picker.selectedOptions[0]?.textContent).toBe("GPT-5");

    picker.selectedIndex = 2;
    await fireEvent.change(picker);
    await fireEvent.click(button("Create"));
    expect(onCreate).toHaveBeenCalledWith({ workingDirectory: "/home/user", model: "claude-sonnet-4.5" });
  });

  test("the default model is null", async () => {
    const { onCreate } = renderDialog();
    await waitFor(() => expect(folder().value).toBe("/home/user"));
    await fireEvent.click(button("Create"));
    expect(onCreate).toHaveBeenCalledWith({ workingDirectory: "/home/user", model: null });
  });

  test("Browse… picks a folder; cancelling the picker keeps the one there", async () => {
    const backend = new FakeBackend();
    backend.pickFolder.mockResolvedValueOnce("/srv/picked").mockResolvedValueOnce(null);
    renderDialog(backend);
    await waitFor(() => expect(folder().value).toBe("/home/user"));

    await fireEvent.click(button("Browse…"));
    await waitFor(() => expect(folder().value).toBe("/srv/picked"));
    await fireEvent.click(button("Browse…"));
    await waitFor(() => expect(backend.pickFolder).toHaveBeenCalledTimes(2));
    expect(folder().value).toBe("/srv/picked");
  });

  test("Create needs a folder", async () => {
    const backend = new FakeBackend();
    backend.defaultWorkingDirectory.mockRejectedValueOnce(new BackendError({ code: "io", message: "no home" }));
    const { onCreate } = renderDialog(backend);
    await waitFor(() => expect(backend.defaultWorkingDirectory).toHaveBeenCalled());

    expect(button("Create").disabled).toBe(true);
    await fireEvent.input(folder(), { target: { value: "/srv/app" } });
    expect(button("Create").disabled).toBe(false);
    await fireEvent.submit(folder().form!);
    expect(onCreate).toHaveBeenCalledWith({ workingDirectory: "/srv/app", model: null });
  });

  test("a failed create says why and keeps the dialog", async () => {
    const { onCreate } = renderDialog();
    onCreate.mockRejectedValueOnce(new BackendError({ code: "cli", message: "folder does not exist" }));
    await waitFor(() => expect(folder().value).toBe("/home/user"));

    await fireEvent.click(button("Create"));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("folder does not exist"));
    expect(button("Create").disabled).toBe(false);
    expect(folder().value).toBe("/home/user");
  });

  test("Cancel and Escape call onCancel", async () => {
    const { onCancel, onCreate } = renderDialog();
    await fireEvent.click(button("Cancel"));
    await pressEscape(folder());
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(onCreate).not.toHaveBeenCalled();
  });
});
