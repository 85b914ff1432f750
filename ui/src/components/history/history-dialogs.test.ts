import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { backendContext, BackendError } from "../../lib/backend";
import { installDialogPolyfill } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import ExportDialog from "./ExportDialog.svelte";
import RewindDialog from "./RewindDialog.svelte";

beforeAll(installDialogPolyfill);

function renderRewind(backend: FakeBackend) {
  const onRewound = vi.fn();
  const onClose = vi.fn();
  render(RewindDialog, {
    props: { sessionId: "s1", eventId: "e1", message: "change the poem", onRewound, onClose },
    context: backendContext(backend),
  });
  return { onRewound, onClose };
}

describe("Rewind to here", () => {
  test("lists the files that would go back, restores them, and names what was skipped", async () => {
    const backend = new FakeBackend();
    backend.rewindPreview = {
      tracking: true,
      filesAvailable: true,
      reason: null,
      files: [{ path: "/w/poem.txt", change: "modified", linesAdded: 1, linesRemoved: 1 }],
    };
    backend.rewindOutcome = { restored: ["/w/poem.txt"], skipped: [{ path: "/w/notes.txt", reason: "user-modified" }], warning: null };
    const { onRewound } = renderRewind(backend);
    await screen.findByText("/w/poem.txt");
    expect(document.activeElement?.textContent).toBe("Cancel");
    const both = screen.getByRole("radio", { name: "Conversation and files" }) as HTMLInputElement;
    expect(both.checked).toBe(true);
    await fireEvent.click(screen.getByRole("button", { name: "Rewind" }));
    expect(backend.rewind).toHaveBeenCalledWith("s1", "e1", "conversationAndFiles");
    await screen.findByRole("list", { name: "Skipped files" });
    expect(screen.getByText(/changed since Copilot last wrote it/)).toBeTruthy();
    expect(onRewound).toHaveBeenCalled();
  });

  test("a session without file tracking says so and offers the conversation only", async () => {
    const backend = new FakeBackend();
    backend.rewindPreview = {
      tracking: false,
      filesAvailable: false,
      reason: "This session does not track file changes (it was started before the app tracked them), so only the conversation can go back.",
      files: [],
    };
    renderRewind(backend);
    await screen.findByText(/does not track file changes/);
    expect((screen.getByRole("radio", { name: "Conversation and files" }) as HTMLInputElement).disabled).toBe(true);
    await fireEvent.click(screen.getByRole("button", { name: "Rewind" }));
    expect(backend.rewind).toHaveBeenCalledWith("s1", "e1", "conversation");
  });

  test("a refused rewind shows why and changes nothing", async () => {
    const backend = new FakeBackend();
    backend.rewind.mockRejectedValueOnce(new BackendError({ code: "invalid_request", message: "The agent is still working." }));
    const { onRewound } = renderRewind(backend);
    await waitFor(() => expect((screen.getByRole("button", { name: "Rewind" }) as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByRole("button", { name: "Rewind" }));
    expect((await screen.findByRole("alert")).textContent).toContain("still working");
    expect(onRewound).not.toHaveBeenCalled();
  });
});

describe("Export session", () => {
  test("exports the chosen format and says where it went", async () => {
    const backend = new FakeBackend();
    render(ExportDialog, { props: { sessionId: "s1", onClose: vi.fn() }, context: backendContext(backend) });
    await fireEvent.click(screen.getByRole("radio", { name: "Web page (.html)" }));
    await fireEvent.click(screen.getByRole("button", { name: "Export…" }));
    expect(backend.exportSession).toHaveBeenCalledWith("s1", "html");
    expect((await screen.findByRole("status")).textContent).toContain("/tmp/session.html");
  });
});
