// Test helpers for the chat components: sample sessions, prompts and questions (the dialogs' own helpers are
// in dialog.ts).

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
    canApproveForLocation: false,
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
