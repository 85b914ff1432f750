import { describe, expect, test } from "vitest";
import { shortcutFor, shortcutLabel } from "./shortcuts";

const key = (init: KeyboardEventInit) => new KeyboardEvent("keydown", init);

describe("shortcuts", () => {
  test("Ctrl with the key on Linux and Windows, Cmd on macOS", () => {
    expect(shortcutFor(key({ key: "n", ctrlKey: true }), false)).toBe("newSession");
    expect(shortcutFor(key({ key: "K", ctrlKey: true }), false)).toBe("searchSessions");
    expect(shortcutFor(key({ key: ",", ctrlKey: true }), false)).toBe("openSettings");
    expect(shortcutFor(key({ key: "n", metaKey: true }), true)).toBe("newSession");
    expect(shortcutFor(key({ key: "n", metaKey: true }), false)).toBeNull();
    expect(shortcutFor(key({ key: "n", ctrlKey: true }), true)).toBeNull();
  });

  test("other keys and extra modifiers are not shortcuts", () => {
    expect(shortcutFor(key({ key: "n" }), false)).toBeNull();
    expect(shortcutFor(key({ key: "n", ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(shortcutFor(key({ key: "n", ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(shortcutFor(key({ key: "c", ctrlKey: true }), false)).toBeNull();
  });

  test("labels name the platform's modifier", () => {
    expect(shortcutLabel("newSession", false)).toBe("Ctrl+N");
    expect(shortcutLabel("openSettings", false)).toBe("Ctrl+,");
    expect(shortcutLabel("searchSessions", true)).toBe("⌘K");
  });
});
