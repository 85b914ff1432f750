// The app's keyboard shortcuts: one table for the webview's own handler, the labels in tooltips, and
// (by the same keys) the accelerators of the app menu in src-tauri/src/commands/menu.rs. Ctrl on Linux and
// Windows, Cmd on macOS. The menu's accelerators catch the keys first where the platform routes them there;
// the webview's handler serves wherever it sees them (and in tests through WebDriver).

import type { MenuAction } from "./backend";

/** The menu actions that have a shortcut ("Check for Updates…" has none). */
export type ShortcutAction = Exclude<MenuAction, "checkForUpdates">;

const KEYS: Record<ShortcutAction, string> = {
  newSession: "n",
  searchSessions: "k",
  openSettings: ",",
};

export function isMac(platform: string = navigator.platform): boolean {
  return /^Mac|iPhone|iPad/.test(platform);
}

/** "Ctrl+N" or "⌘N": what a tooltip shows for `action`. */
export function shortcutLabel(action: ShortcutAction, mac: boolean = isMac()): string {
  const key = KEYS[action].toUpperCase();
  return mac ? `⌘${key}` : `Ctrl+${key}`;
}

/** The action `event` asks for, if it is one of the app's shortcuts. */
export function shortcutFor(event: KeyboardEvent, mac: boolean = isMac()): ShortcutAction | null {
  const primary = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (!primary || event.altKey || event.shiftKey || event.isComposing) return null;
  const key = event.key.toLowerCase();
  return (Object.keys(KEYS) as ShortcutAction[]).find((action) => KEYS[action] === key) ?? null;
}

/** Cycles the agent's mode (interactive → plan → autopilot), as in the terminal CLI. */
export const CYCLE_MODE_LABEL = "Shift+Tab";

/**
 * Whether `event` cycles the agent's mode: Shift+Tab in the message box. Only there, so Shift+Tab keeps moving
 * focus back everywhere else (a keyboard user leaves the message box backwards with Escape, then Shift+Tab).
 */
export function isCycleModeShortcut(event: KeyboardEvent): boolean {
  // WebKitGTK reports Shift+Tab (GTK's ISO_Left_Tab) as key "Unidentified" on the Tab key: check both.
  const tab = event.key === "Tab" || event.code === "Tab";
  if (!tab || !event.shiftKey || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
    return false;
  }
  const target = event.target;
  return target instanceof HTMLTextAreaElement && target.getAttribute("aria-label") === "Message";
}
