import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError } from "../lib/backend";
import { installDialogPolyfill, pressEscape } from "../test/dialog";
import { deferred } from "../test/fake-backend";
import ConfirmDialog from "./ConfirmDialog.svelte";

beforeAll(installDialogPolyfill);

function renderDelete(onConfirm: () => void | Promise<void> = vi.fn()) {
  const onCancel = vi.fn();
  render(ConfirmDialog, {
    props: {
      title: "Delete session?",
      message: "“Fix CI” and its history will be deleted.",
      confirmLabel: "Delete",
      destructive: true,
      onConfirm,
      onCancel,
    },
  });
  return { onConfirm, onCancel };
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole("button", { name }) as HTMLButtonElement;
}

describe("ConfirmDialog", () => {
  test("is a modal dialog named by its title, described by its message, with focus on Cancel", async () => {
    renderDelete();
    const dialog = screen.getByRole("dialog", { name: "Delete session?" }) as HTMLDialogElement;
    expect(dialog.tagName).toBe("DIALOG");
    expect(dialog.open).toBe(true);
    expect(dialog.getAttribute("aria-describedby")).toBeTruthy();
    expect(document.getElementById(dialog.getAttribute("aria-describedby")!)?.textContent).toContain("“Fix CI”");
    await waitFor(() => expect(document.activeElement).toBe(button("Cancel")));
    expect(button("Delete").classList.contains("destructive")).toBe(true);
  });

  test("confirm and cancel call back", async () => {
    const { onConfirm, onCancel } = renderDelete();
    await fireEvent.click(button("Delete"));
    expect(onConfirm).toHaveBeenCalledTimes(1);
    await fireEvent.click(button("Cancel"));
    expect(onCancel).toHaveBeenCalledTimes(1);
  });

  test("Escape cancels", async () => {
    const { onConfirm, onCancel } = renderDelete();
    await pressEscape(button("Cancel"));
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onConfirm).not.toHaveBeenCalled();
  });

  test("while an async confirm runs the buttons are disabled; a failure shows and the dialog stays", async () => {
    const reply = deferred<void>();
    renderDelete(() => reply.promise);

    await fireEvent.click(button("Delete"));
    expect(button("Delete").disabled).toBe(true);
    expect(button("Cancel").disabled).toBe(true);

    reply.reject(new BackendError({ code: "cli", message: "session is busy" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("session is busy"));
    expect(button("Delete").disabled).toBe(false);
    expect((screen.getByRole("dialog") as HTMLDialogElement).open).toBe(true);
  });

  test("the message and detail are text, never HTML; labels can be changed", () => {
    const url = "https://example.com/<img src=x onerror=alert(1)>";
    render(ConfirmDialog, {
      props: {
        title: "Open link in your browser?",
        message: "<b>This</b> opens in your browser:",
        detail: url,
        confirmLabel: "Open link",
        cancelLabel: "Stay here",
        onConfirm: vi.fn(),
        onCancel: vi.fn(),
      },
    });
    const dialog = screen.getByRole("dialog", { name: "Open link in your browser?" });
    expect(dialog.querySelector("img, b")).toBeNull();
    expect(screen.getByText("<b>This</b> opens in your browser:")).toBeTruthy();
    expect(screen.getByText(url)).toBeTruthy();
    expect(button("Open link").classList.contains("destructive")).toBe(false);
    expect(button("Stay here")).toBeTruthy();
  });

  test("when it goes away, focus returns to where it was", async () => {
    const opener = document.body.appendChild(document.createElement("button"));
    opener.focus();
    const { unmount } = render(ConfirmDialog, {
      props: { title: "Delete session?", message: "x", confirmLabel: "Delete", onConfirm: vi.fn(), onCancel: vi.fn() },
    });
    await waitFor(() => expect(document.activeElement).toBe(button("Cancel")));

    unmount();
    expect(document.activeElement).toBe(opener);
    opener.remove();
  });
});
