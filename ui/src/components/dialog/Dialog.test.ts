import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import DialogHarness from "../../test/DialogHarness.svelte";
import { installDialogPolyfill, pressEscape } from "../../test/dialog";

beforeAll(installDialogPolyfill);

let opener: HTMLButtonElement | null = null;
afterEach(() => {
  opener?.remove();
  opener = null;
});

/** A button outside the dialog with focus, as the one that opened it would have. */
function focusOpener(): HTMLButtonElement {
  opener = document.body.appendChild(document.createElement("button"));
  opener.textContent = "Rename";
  opener.focus();
  return opener;
}

const dialog = () => screen.getByRole("dialog", { name: "Rename session?" }) as HTMLDialogElement;
const button = (name: string) => within(dialog()).getByRole("button", { name }) as HTMLButtonElement;
const field = () => within(dialog()).getByRole("textbox", { name: "Title" }) as HTMLInputElement;

describe("Dialog", () => {
  test("is a native modal <dialog> named by its <h2> title and described by the element it is told", () => {
    render(DialogHarness, { props: { escape: "cancel" } });
    expect(dialog().tagName).toBe("DIALOG");
    expect(dialog().open).toBe(true);
    const heading = within(dialog()).getByRole("heading", { level: 2, name: "Rename session?" });
    expect(dialog().getAttribute("aria-labelledby")).toBe(heading.id);
    const described = document.getElementById(dialog().getAttribute("aria-describedby")!);
    expect(described?.textContent).toBe("The new title shows in the sidebar.");
    expect(heading.parentElement?.textContent).toContain("2 more waiting");
  });

  test("without a description it has no aria-describedby; the width feeds --dialog-width", () => {
    render(DialogHarness, { props: { escape: "cancel", width: "40rem", described: false } });
    expect(dialog().hasAttribute("aria-describedby")).toBe(false);
    expect(dialog().style.getPropertyValue("--dialog-width")).toBe("40rem");
  });

  test("focus starts on the element it is given", async () => {
    render(DialogHarness, { props: { escape: "cancel", focus: "ref" } });
    await waitFor(() => expect(document.activeElement).toBe(button("Cancel")));
  });

  test("or on the one a selector finds inside it", async () => {
    render(DialogHarness, { props: { escape: "cancel", focus: "selector" } });
    await waitFor(() => expect(document.activeElement).toBe(field()));
  });

  test('Escape "cancel" calls onCancel and leaves closing to the owner', async () => {
    const onCancel = vi.fn();
    render(DialogHarness, { props: { escape: "cancel", onCancel } });
    await pressEscape(field());
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(dialog().open).toBe(true);

    // A close request that does not come from the key (no keydown seen) is refused the same way.
    expect(dialog().dispatchEvent(new Event("cancel", { cancelable: true }))).toBe(false);
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(dialog().open).toBe(true);
  });

  test('Escape "nothing" decides nothing and the dialog stays open', async () => {
    const onCancel = vi.fn();
    render(DialogHarness, { props: { escape: "nothing", onCancel } });
    const escape = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    expect(field().dispatchEvent(escape)).toBe(false);
    await pressEscape(button("Rename"));
    expect(dialog().dispatchEvent(new Event("cancel", { cancelable: true }))).toBe(false);
    expect(onCancel).not.toHaveBeenCalled();
    expect(dialog().open).toBe(true);
  });

  test("an Escape a control inside already handled is left to it", async () => {
    const onCancel = vi.fn();
    render(DialogHarness, { props: { escape: "cancel", onCancel } });
    field().addEventListener("keydown", (event) => event.preventDefault());
    await fireEvent.keyDown(field(), { key: "Escape" });
    expect(onCancel).not.toHaveBeenCalled();
  });

  test("closed by the webview while it should show, it opens again", async () => {
    render(DialogHarness, { props: { escape: "nothing", focus: "ref" } });
    button("Rename").focus();
    dialog().close();
    expect(dialog().open).toBe(true);
    expect(document.activeElement).toBe(button("Cancel"));
  });

  test("unmounted, it gives focus back to where it was", async () => {
    const before = focusOpener();
    const { unmount } = render(DialogHarness, { props: { escape: "cancel", focus: "ref" } });
    await waitFor(() => expect(document.activeElement).toBe(button("Cancel")));
    unmount();
    expect(document.activeElement).toBe(before);
  });

  test("unless focus has moved on to something else that is still there", async () => {
    focusOpener();
    const elsewhere = document.body.appendChild(document.createElement("input"));
    const { unmount } = render(DialogHarness, { props: { escape: "cancel", focus: "ref" } });
    elsewhere.focus();
    unmount();
    expect(document.activeElement).toBe(elsewhere);
    elsewhere.remove();
  });

  test("driven by `open`: shown and hidden by it, with the body only while open, and focus back on close", async () => {
    const before = focusOpener();
    const { rerender } = render(DialogHarness, { props: { escape: "cancel", focus: "selector", open: false } });
    const element = document.querySelector("dialog")!;
    expect(element.open).toBe(false);
    expect(element.querySelector("input")).toBeNull();
    expect(document.activeElement).toBe(before);

    await rerender({ open: true });
    expect(dialog().open).toBe(true);
    await waitFor(() => expect(document.activeElement).toBe(field()));

    await rerender({ open: false });
    expect(element.open).toBe(false);
    expect(element.querySelector("input, button")).toBeNull();
    expect(document.activeElement).toBe(before);

    await rerender({ open: true });
    await waitFor(() => expect(document.activeElement).toBe(field()));
  });

  test("with onsubmit, body and actions are one form: a submit button among the actions submits it", async () => {
    const onsubmit = vi.fn((event: SubmitEvent) => event.preventDefault());
    render(DialogHarness, { props: { escape: "cancel", onsubmit } });
    expect(field().form).toBe(button("Rename").form);
    expect(field().form).not.toBeNull();
    await fireEvent.submit(field().form!);
    expect(onsubmit).toHaveBeenCalledTimes(1);
  });

  test("without onsubmit there is no form", () => {
    render(DialogHarness, { props: { escape: "cancel" } });
    expect(field().form).toBeNull();
  });
});
