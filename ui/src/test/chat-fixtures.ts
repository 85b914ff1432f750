// Test helpers for the chat components: sample sessions, prompts and questions, and the part of <dialog>
// jsdom lacks (showModal, close and the Escape key's cancel), so dialog tests run as they would in a webview.

import { fireEvent } from "@testing-library/svelte";
import type { PermissionPrompt, PromptDetails, SessionSummary, UserQuestion } from "../lib/backend";

export function session(overrides: Partial<SessionSummary> & { id: string }): SessionSummary {
  return {
    title: null,
    summary: null,
    workingDirectory: null,
    createdAt: "2025-01-01T10:00:00Z",
    modifiedAt: "2025-01-01T10:00:00Z",
    ...overrides,
  };
}

export function permission(
  requestId: string,
  sessionId: string,
  details: PromptDetails = { kind: "shell", fullCommandText: "ls -la", commands: ["ls"] },
  overrides: Partial<PermissionPrompt> = {},
): PermissionPrompt {
  return {
    requestId,
    sessionId,
    intention: null,
    details,
    canApproveForSession: false,
    canApprovePermanently: false,
    warning: null,
    ...overrides,
  };
}

export function question(requestId: string, sessionId: string, overrides: Partial<UserQuestion> = {}): UserQuestion {
  return {
    requestId,
    sessionId,
    question: "Which branch?",
    choices: ["main", "develop"],
    allowFreeform: false,
    ...overrides,
  };
}

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
