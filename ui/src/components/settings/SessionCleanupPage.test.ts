import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { backendContext } from "../../lib/backend";
import { session } from "../../test/chat-fixtures";
import { installDialogPolyfill } from "../../test/dialog";
import { FakeBackend } from "../../test/fake-backend";
import SettingsDialog from "../account/SettingsDialog.svelte";

beforeAll(installDialogPolyfill);

const old = [
  session({ id: "old-1", title: "Refactor the parser", modifiedAt: "2024-01-05T10:00:00Z" }),
  session({ id: "old-2", title: null, summary: null, modifiedAt: "2024-01-02T10:00:00Z" }),
];

async function openPage(backend: FakeBackend) {
  const onSessionsChanged = vi.fn();
  render(SettingsDialog, {
    props: { open: true, onClose: vi.fn(), onSessionsChanged },
    context: backendContext(backend),
  });
  await waitFor(() => expect(backend.getSettings).toHaveBeenCalled());
  await fireEvent.click(within(settings()).getByRole("tab", { name: "Old sessions" }));
  return { page: within(within(settings()).getByRole("tabpanel", { name: "Old sessions" })), onSessionsChanged };
}

const settings = () => screen.getByRole("dialog", { name: "Settings" });

describe("Old sessions settings page", () => {
  test("lists which sessions and how many, then deletes exactly those after a confirmation", async () => {
    const backend = new FakeBackend();
    backend.sessions = [...old, session({ id: "fresh" })];
    backend.cleanupPreview = { days: 30, sessions: old, keptOpen: 1 };
    const { page, onSessionsChanged } = await openPage(backend);

    await fireEvent.input(page.getByLabelText("Not used for (days)"), { target: { value: "45" } });
    await fireEvent.click(page.getByRole("button", { name: "Find old sessions" }));
    expect(backend.previewSessionCleanup).toHaveBeenCalledWith(45);
    await page.findByText("2 sessions not used for 45 days:");
    const listed = within(page.getByRole("list", { name: "Sessions to delete" })).getAllByRole("listitem");
    expect(listed.map((li) => li.querySelector(".name")?.textContent)).toEqual(["Refactor the parser", "Untitled session"]);
    page.getByText("1 more is as old but open in the app, and kept.");

    await fireEvent.click(page.getByRole("button", { name: "Delete 2 sessions…" }));
    const confirm = screen.getByRole("dialog", { name: "Delete old sessions?" });
    expect(confirm.textContent).toContain("Delete the 2 sessions not used for 45 days?");
    expect(backend.cleanUpSessions).not.toHaveBeenCalled();
    await fireEvent.click(within(confirm).getByRole("button", { name: "Delete" }));

    expect(backend.cleanUpSessions).toHaveBeenCalledWith(45, ["old-1", "old-2"]);
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "Delete old sessions?" })).toBeNull());
    await within(settings()).findByText("Deleted 2 sessions.");
    expect(onSessionsChanged).toHaveBeenCalledTimes(1);
    expect(page.queryByRole("list", { name: "Sessions to delete" })).toBeNull();
  });

  test("Cancel deletes nothing", async () => {
    const backend = new FakeBackend();
    backend.cleanupPreview = { days: 30, sessions: old, keptOpen: 0 };
    const { page } = await openPage(backend);
    await fireEvent.click(page.getByRole("button", { name: "Find old sessions" }));
    await fireEvent.click(await page.findByRole("button", { name: "Delete 2 sessions…" }));
    await fireEvent.click(within(screen.getByRole("dialog", { name: "Delete old sessions?" })).getByRole("button", { name: "Cancel" }));
    expect(backend.cleanUpSessions).not.toHaveBeenCalled();
    expect(page.getByRole("list", { name: "Sessions to delete" })).toBeTruthy();
  });

  test("nothing old: says so and offers no delete", async () => {
    const backend = new FakeBackend();
    const { page } = await openPage(backend);
    await fireEvent.click(page.getByRole("button", { name: "Find old sessions" }));
    await page.findByText("No session has gone unused for 30 days.");
    expect(page.queryByRole("button", { name: /Delete/ })).toBeNull();
  });

  test("a kept session (opened meanwhile) is reported", async () => {
    const backend = new FakeBackend();
    backend.cleanupPreview = { days: 30, sessions: old, keptOpen: 0 };
    backend.cleanUpSessions.mockResolvedValueOnce({ deleted: ["old-2"], kept: ["old-1"], failed: [] });
    const { page } = await openPage(backend);
    await fireEvent.click(page.getByRole("button", { name: "Find old sessions" }));
    await fireEvent.click(await page.findByRole("button", { name: "Delete 2 sessions…" }));
    await fireEvent.click(within(screen.getByRole("dialog", { name: "Delete old sessions?" })).getByRole("button", { name: "Delete" }));
    await within(settings()).findByText("Deleted 1 session. 1 was kept: used or opened since the list was made.");
  });

  test("a number of days that is not one is refused without asking Rust", async () => {
    const backend = new FakeBackend();
    const { page } = await openPage(backend);
    await fireEvent.input(page.getByLabelText("Not used for (days)"), { target: { value: "soon" } });
    await fireEvent.click(page.getByRole("button", { name: "Find old sessions" }));
    await within(settings()).findByText("Enter a whole number of days, 1 or more.");
    expect(backend.previewSessionCleanup).not.toHaveBeenCalled();
  });
});
