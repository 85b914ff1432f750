// What the user can do from one of their own messages in the transcript ("Rewind to here", "Fork from here"),
// handed down as a Svelte context by the window, so the transcript's components need no new props. Without the
// context (a transcript shown on its own, in tests) messages offer no actions.

import { getContext, setContext } from "svelte";

export interface MessageActions {
  /** Go back to just before the user message `eventId` (a preview first). */
  rewind(eventId: string): void;
  /** A new session with the history up to the user message `eventId`. */
  fork(eventId: string): void;
}

const KEY = Symbol("message-actions");

export function provideMessageActions(actions: MessageActions): void {
  setContext(KEY, actions);
}

export function useMessageActions(): MessageActions | undefined {
  return getContext<MessageActions | undefined>(KEY);
}
