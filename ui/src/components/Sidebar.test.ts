import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test, vi } from "vitest";
import { BackendError } from "../lib/backend";
import { PromptQueue } from "../lib/chat/prompts.svelte";
import { REMOTE_NOTICE, SessionSearch } from "../lib/chat/search.svelte";
import { SessionList } from "../lib/chat/sessions.svelte";
import { permission, question, session } from "../test/chat-fixtures";
import { FakeBackend, deferred } from "../test/fake-backend";
import Sidebar from "./Sidebar.svelte";

const fix = session({ id: "s1", title: "Fix CI", workingDirectory: "/home/me/api", modifiedAt: new Date().toISOString() });
const docs = session({ id: "s2", summary: "Write the docs", workingDirectory: "/srv/site" });
const blank = session({ id: "s3" });

async function renderSidebar(
  backend = withSessions(fix, docs, blank),
  props: { homeDirectory?: string; onDelete?: (sessionId: string) => void } = {},
) {
  const sessions = new SessionList(backend);
  const search = new SessionSearch(backend, sessions);
  const prompts = new PromptQueue(backend);
  await Promise.all([sessions.refresh(), prompts.start()]);
  const onSelect = vi.fn();
  const onNew = vi.fn();
  render(Sidebar, { props: { sessions, search, prompts, onSelect, onNew, ...props } });
  return { backend, sessions, search, prompts, onSelect, onNew };
}

function withSessions(...sessions: ReturnType<typeof session>[]): FakeBackend {
  const backend = new FakeBackend();
  // Copies: the fake renames in place, and these samples are shared by every test.
  backend.sessions = sessions.map((s) => ({ ...s }));
  return backend;
}

/** A button's accessible name, as testing-library computes it for getByRole. */
function accessibleName(button: HTMLElement): string {
  let name = "";
  screen.getByRole("button", {
    name: (computed, element) => {
      if (element === button) name = computed;
      return element === button;
    },
  });
  return name;
}

/** The rows' own buttons (what WebDriver's session_rows finds), not their Rename/Delete buttons. */
function sessionButtons(): HTMLElement[] {
  const list = screen.queryByRole("list");
  if (!list) return [];
  return within(list)
    .getAllByRole("button")
    .filter((button) => !["Rename session", "Delete session"].includes(button.getAttribute("aria-label") ?? ""));
}

describe("Sidebar", () => {
  test("lists each session as a button named by its display name, with folder and last activity", async () => {
    await renderSidebar();
    const [first, second, third] = sessionButtons();

    expect(first!.textContent).toContain("Fix CI");
    expect(first!.textContent).toContain("~/api");
    expect(first!.textContent).toContain("just now");
    expect(second!.textContent).toContain("/srv/site");
    expect(screen.getByRole("button", { name: /^Fix CI/ })).toBe(first);
    expect(screen.getByRole("button", { name: /^Write the docs/ })).toBe(second);
    expect(screen.getByRole("button", { name: /^Untitled session/ })).toBe(third);
  });

  test("writes the given home folder as ~", async () => {
    await renderSidebar(withSessions(session({ id: "a", title: "A", workingDirectory: "/srv/me/app" })), {
      homeDirectory: "/srv/me",
    });
    expect(screen.getByRole("button", { name: /^A/ }).textContent).toContain("~/app");
  });

  test("marks the selected session with aria-current, and reports clicks", async () => {
    const { sessions, onSelect } = await renderSidebar();
    sessions.select("s2");
    await waitFor(() => expect(screen.getByRole("button", { name: /^Write the docs/ }).getAttribute("aria-current")).toBe("true"));
    expect(screen.getByRole("button", { name: /^Fix CI/ }).hasAttribute("aria-current")).toBe(false);

    await fireEvent.click(screen.getByRole("button", { name: /^Fix CI/ }));
    expect(onSelect).toHaveBeenCalledWith("s1");
  });

  test("New session calls onNew", async () => {
    const { onNew } = await renderSidebar();
    await fireEvent.click(screen.getByRole("button", { name: "New session" }));
    expect(onNew).toHaveBeenCalledTimes(1);
  });

  test("search filters by title, summary and folder, and says when nothing matches", async () => {
    await renderSidebar();
    const search = screen.getByRole("searchbox", { name: "Search sessions" });

    await fireEvent.input(search, { target: { value: "DOCS" } });
    expect(sessionButtons().map((b) => b.textContent)).toEqual([expect.stringContaining("Write the docs")]);

    await fireEvent.input(search, { target: { value: "/home/me" } });
    expect(sessionButtons()).toHaveLength(1);

    await fireEvent.input(search, { target: { value: "deploy" } });
    expect(sessionButtons()).toHaveLength(0);
    // Until the messages have been searched too.
    expect(screen.getByRole("status").textContent).toBe("Searching messages…");
    expect(await screen.findByText("No matching sessions")).toBeTruthy();
    expect(screen.queryByRole("status")).toBeNull();
    expect(screen.queryByText("No sessions yet")).toBeNull();
  });

  test("a session found by its messages shows a snippet with the hits marked, and keeps its name", async () => {
    const backend = withSessions(fix, docs, blank);
    backend.messages.set("s3", ["Use <b>serde</b> & the toml crate; TOML is fine."]);
    await renderSidebar(backend);
    const nameBefore = accessibleName(screen.getByRole("button", { name: /^Untitled session/ }));
    expect(nameBefore).toMatch(/^Untitled session \S/);

    await fireEvent.input(screen.getByRole("searchbox", { name: "Search sessions" }), { target: { value: "toml" } });
    await waitFor(() => expect(sessionButtons()).toHaveLength(1));
    const [row] = sessionButtons();
    expect(accessibleName(row!)).toBe(nameBefore);

    // The snippet is text, never HTML: the tags in the message show as typed.
    const snippet = document.getElementById(row!.getAttribute("aria-describedby")!)!;
    expect(snippet.textContent).toBe("Use <b>serde</b> & the toml crate; TOML is fine.");
    expect(snippet.querySelector("b")).toBeNull();
    expect([...snippet.querySelectorAll("mark")].map((mark) => mark.textContent)).toEqual(["toml"]);
    // Out of the button's name (above), in its description.
    expect(snippet.getAttribute("aria-hidden")).toBe("true");

    await fireEvent.input(screen.getByRole("searchbox", { name: "Search sessions" }), { target: { value: "" } });
    expect(sessionButtons()).toHaveLength(3);
    expect(row!.hasAttribute("aria-describedby")).toBe(false);
    expect(document.querySelector("mark")).toBeNull();
  });

  test("attached to a remote CLI, says messages are not searched and still filters titles", async () => {
    const backend = withSessions(fix, docs);
    backend.searchSessions.mockRejectedValue(
      new BackendError({ code: "search_unavailable", message: "Message search is not available on this server." }),
    );
    await renderSidebar(backend);
    const search = screen.getByRole("searchbox", { name: "Search sessions" });
    await fireEvent.input(search, { target: { value: "docs" } });

    const notice = await screen.findByText(REMOTE_NOTICE);
    expect(search.getAttribute("aria-describedby")).toBe(notice.id);
    expect(sessionButtons().map((b) => b.textContent)).toEqual([expect.stringContaining("Write the docs")]);
    await fireEvent.input(search, { target: { value: "" } });
    expect(screen.queryByText(REMOTE_NOTICE)).toBeNull();
    expect(search.hasAttribute("aria-describedby")).toBe(false);
  });

  test("says No sessions yet when there are none", async () => {
    await renderSidebar(withSessions());
    expect(screen.getByText("No sessions yet")).toBeTruthy();
    expect(screen.queryByRole("list")).toBeNull();
  });

  test("says it is loading rather than empty until the first answer", async () => {
    const backend = withSessions(fix);
    const answer = deferred<ReturnType<typeof session>[]>();
    backend.listSessions.mockReturnValueOnce(answer.promise);
    const sessions = new SessionList(backend);
    const loading = sessions.refresh();
    const search = new SessionSearch(backend, sessions);
    render(Sidebar, { props: { sessions, search, prompts: new PromptQueue(backend), onSelect: vi.fn(), onNew: vi.fn() } });

    expect(screen.getByRole("status").textContent).toBe("Loading sessions…");
    expect(screen.queryByText("No sessions yet")).toBeNull();
    answer.resolve([fix]);
    await loading;
    await waitFor(() => expect(sessionButtons()).toHaveLength(1));
  });

  test("a failed load shows the Backend's message and Try again loads again", async () => {
    const backend = withSessions(fix);
    backend.listSessions.mockRejectedValueOnce(new BackendError({ code: "cli", message: "CLI not connected" }));
    await renderSidebar(backend);

    expect(screen.getByRole("alert").textContent).toContain("CLI not connected");
    await fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
    expect(sessionButtons()).toHaveLength(1);
  });

  test("badges sessions with requests waiting, and follows the queue", async () => {
    const { backend } = await renderSidebar();
    backend.pushPrompt({ type: "permissionRequested", prompt: permission("p1", "s2") });
    backend.pushPrompt({ type: "questionAsked", question: question("q1", "s2") });

    const docsButton = screen.getByRole("button", { name: /^Write the docs/ });
    await waitFor(() => expect(within(docsButton).getByLabelText("Waiting for your answer").textContent).toBe("2 waiting"));
    expect(docsButton.getAttribute("aria-label")).toBeNull();
    expect(screen.getAllByLabelText("Waiting for your answer")).toHaveLength(1);

    backend.pushPrompt({ type: "resolved", requestId: "p1" });
    await waitFor(() => expect(within(docsButton).getByLabelText("Waiting for your answer").textContent).toBe("1 waiting"));
    backend.pushPrompt({ type: "resolved", requestId: "q1" });
    await waitFor(() => expect(screen.queryByLabelText("Waiting for your answer")).toBeNull());
  });

  test("without onDelete there is no Delete session button", async () => {
    await renderSidebar(withSessions(fix));
    expect(screen.queryByRole("button", { name: "Delete session" })).toBeNull();
  });

  test("Delete session calls onDelete with the row's session, and names it in its description", async () => {
    const onDelete = vi.fn();
    await renderSidebar(withSessions(fix, docs), { onDelete });
    const buttons = screen.getAllByRole("button", { name: "Delete session" });
    expect(buttons).toHaveLength(2);
    expect(buttons[1]!.closest("li")!.contains(screen.getByRole("button", { name: /^Write the docs/ }))).toBe(true);
    expect(document.getElementById(buttons[1]!.getAttribute("aria-describedby")!)?.textContent).toBe("Write the docs");

    await fireEvent.click(buttons[1]!);
    expect(onDelete).toHaveBeenCalledWith("s2");
  });

  test("Rename session edits the name in place; Enter saves it through the Backend", async () => {
    const { backend } = await renderSidebar(withSessions(fix, docs));
    await fireEvent.click(screen.getAllByRole("button", { name: "Rename session" })[1]!);

    const input = screen.getByRole("textbox", { name: "Session name" }) as HTMLInputElement;
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect(input.value).toBe("Write the docs");
    await fireEvent.input(input, { target: { value: "  Docs site " } });
    await fireEvent.submit(input.form!);

    expect(backend.rename).toHaveBeenCalledWith("s2", "Docs site");
    const renamed = await screen.findByRole("button", { name: /^Docs site/ });
    expect(screen.queryByRole("textbox", { name: "Session name" })).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(renamed));
  });

  test("Escape leaves the name as it was", async () => {
    const { backend } = await renderSidebar(withSessions(fix));
    await fireEvent.click(screen.getByRole("button", { name: "Rename session" }));
    const input = screen.getByRole("textbox", { name: "Session name" });
    await fireEvent.input(input, { target: { value: "Something else" } });
    await fireEvent.keyDown(input, { key: "Escape" });

    expect(screen.queryByRole("textbox", { name: "Session name" })).toBeNull();
    expect(screen.getByRole("button", { name: /^Fix CI/ })).toBeTruthy();
    expect(backend.rename).not.toHaveBeenCalled();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("button", { name: "Rename session" })));
  });

  test("a failed rename keeps the field open with the reason", async () => {
    const backend = withSessions(fix);
    backend.rename.mockRejectedValueOnce(new BackendError({ code: "cli", message: "session is busy" }));
    await renderSidebar(backend);
    await fireEvent.click(screen.getByRole("button", { name: "Rename session" }));
    const input = screen.getByRole("textbox", { name: "Session name" }) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "New name" } });
    await fireEvent.submit(input.form!);

    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("session is busy"));
    expect(input.value).toBe("New name");
    expect(input.getAttribute("aria-invalid")).toBe("true");
  });

  test("leaving the field saves a changed name; an empty one changes nothing", async () => {
    const { backend } = await renderSidebar(withSessions(fix, docs));
    await fireEvent.click(screen.getAllByRole("button", { name: "Rename session" })[0]!);
    let input = screen.getByRole("textbox", { name: "Session name" });
    await fireEvent.input(input, { target: { value: "CI fixes" } });
    await fireEvent.blur(input);
    await waitFor(() => expect(screen.getByRole("button", { name: /^CI fixes/ })).toBeTruthy());

    await fireEvent.click(screen.getAllByRole("button", { name: "Rename session" })[1]!);
    input = screen.getByRole("textbox", { name: "Session name" });
    await fireEvent.input(input, { target: { value: "   " } });
    await fireEvent.blur(input);
    expect(backend.rename).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("button", { name: /^Write the docs/ })).toBeTruthy();
  });
});
