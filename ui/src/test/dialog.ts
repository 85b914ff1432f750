// The part of <dialog> jsdom lacks, for every dialog test: showModal() and close(), and the Escape key as a
// webview handles it in a modal dialog (keydown, then the cancel event, then closing).

import { fireEvent } from "@testing-library/svelte";

/** jsdom has <dialog> but not showModal/close: just enough of them to open, close and report it. */
export function installDialogPolyfill(): void {
  const proto = HTMLDialogElement.prototype;
  if (typeof proto.showModal === "function") return;
  proto.showModal = function showModal(this: HTMLDialogElement) {
    this.setAttribute("open", "");
  };
  proto.close = function close(this: HTMLDialogElement, returnValue?: string) {
    if (!this.open) return;
    this.removeAttribute("open");
    if (returnValue !== undefined) this.returnValue = returnValue;
    this.dispatchEvent(new Event("close"));
  };
}

/**
 * Presses Escape in `target` as a webview does in a modal dialog: keydown, then (unless prevented) a
 * cancelable `cancel` on the dialog, then (unless prevented) it closes.
 */
export async function pressEscape(target: Element): Promise<void> {
  const notPrevented = await fireEvent.keyDown(target, { key: "Escape", code: "Escape" });
  if (!notPrevented) return;
  const dialog = target.closest("dialog");
  if (!dialog) return;
  const cancel = new Event("cancel", { cancelable: true });
  if (dialog.dispatchEvent(cancel)) dialog.close();
}
