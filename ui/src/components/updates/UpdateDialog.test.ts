import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { progressText, UpdatesState } from "../../lib/updates.svelte";
import { installDialogPolyfill } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import UpdateDialog from "./UpdateDialog.svelte";

beforeAll(installDialogPolyfill);

async function open(backend: FakeBackend, replyRunning = false) {
  const updates = new UpdatesState(backend);
  await updates.start();
  const onClose = vi.fn();
  const onLink = vi.fn();
  render(UpdateDialog, { props: { updates, replyRunning, onClose, onLink } });
  return { updates, onClose, onLink };
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole("button", { name }) as HTMLButtonElement;
}

const available = {
  state: "available" as const,
  version: "0.2.0",
  notes: "## New\n- Faster <img src=x onerror=alert(1)> start, [details](https://example.com/notes)",
  date: "2026-12-01",
  size: "45.2 MB",
};

describe("UpdateDialog", () => {
  test("a found update shows its version, size and sanitized notes; focus starts on Later, not Download", async () => {
    const backend = new FakeBackend();
    backend.updateView = { ...backend.updateView, phase: available };
    await open(backend);
    const dialog = screen.getByRole("dialog", { name: "Update available" });
    expect(dialog.textContent).toContain("0.2.0");
    expect(dialog.textContent).toContain("you have 0.1.0");
    expect(dialog.textContent).toContain("45.2 MB");
    const notes = within(dialog).getByRole("region", { name: "Release notes" });
    expect(notes.querySelector("h2")?.textContent).toBe("New");
    expect(notes.innerHTML).not.toContain("onerror");
    await waitFor(() => expect(document.activeElement).toBe(button("Later")));
  });

  test("a link in the notes goes to the app's confirmation, never straight to the webview", async () => {
    const backend = new FakeBackend();
    backend.updateView = { ...backend.updateView, phase: available };
    const { onLink } = await open(backend);
    const link = await screen.findByRole("link", { name: "details" });
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(onLink).toHaveBeenCalledWith("https://example.com/notes");
  });

  test("Download shows progress, then Restart to update installs", async () => {
    const backend = new FakeBackend();
    backend.updateView = { ...backend.updateView, phase: available };
    await open(backend);
    backend.downloadUpdate.mockImplementationOnce(async () => {
      backend.pushUpdates({ ...backend.updateView, phase: { state: "downloading", version: "0.2.0", received: 5_000_000, total: 10_000_000 } });
      return backend.updateView;
    });
    await fireEvent.click(button("Download"));
    await waitFor(() => expect(screen.getByText(/Downloading 5\.0 MB of 10\.0 MB/)).toBeTruthy());
    const bar = screen.getByRole("progressbar") as HTMLProgressElement;
    expect(bar.value).toBe(5_000_000);
    backend.pushUpdates({ ...backend.updateView, phase: { state: "ready", version: "0.2.0" } });
    await fireEvent.click(await screen.findByRole("button", { name: "Restart to update" }));
    expect(backend.installUpdate).toHaveBeenCalledTimes(1);
  });

  test("with a reply running, restart asks first and installs only on the second click", async () => {
    const backend = new FakeBackend();
    backend.updateView = { ...backend.updateView, phase: { state: "ready", version: "0.2.0" } };
    await open(backend, true);
    await fireEvent.click(button("Restart to update"));
    expect(backend.installUpdate).not.toHaveBeenCalled();
    expect(screen.getByRole("alert").textContent).toContain("still answering");
    await fireEvent.click(button("Restart anyway"));
    expect(backend.installUpdate).toHaveBeenCalledTimes(1);
  });

  test("a refused download says why and offers to check again; Close closes", async () => {
    const backend = new FakeBackend();
    backend.updateView = {
      ...backend.updateView,
      phase: { state: "failed", message: "The downloaded update is not signed with Copilot Desktop's key.", version: "0.2.0" },
    };
    const { onClose } = await open(backend);
    expect(screen.getByRole("dialog", { name: "Update problem" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain("not signed");
    await fireEvent.click(button("Check again"));
    expect(backend.checkForUpdates).toHaveBeenCalledTimes(1);
    await fireEvent.click(button("Close"));
    expect(onClose).toHaveBeenCalled();
  });

  test("progress reads as sizes", () => {
    expect(progressText(null, null)).toBe("Starting…");
    expect(progressText(1_500_000, null)).toBe("1.5 MB");
    expect(progressText(1_500_000, 3_000_000)).toBe("1.5 MB of 3.0 MB");
  });
});
