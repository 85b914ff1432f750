import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, type PermissionAnswer, type PermissionPrompt, type PromptDetails } from "../lib/backend";
import { permission } from "../test/chat-fixtures";
import { installDialogPolyfill, pressEscape } from "../test/dialog";
import { deferred } from "../test/fake-backend";
import PermissionDialog from "./PermissionDialog.svelte";

beforeAll(installDialogPolyfill);

function renderDialog(prompt: PermissionPrompt, queued?: number) {
  const onDecide = vi.fn(async (_answer: PermissionAnswer) => {});
  const result = render(PermissionDialog, { props: { prompt, onDecide, queued } });
  return { ...result, onDecide };
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole("button", { name }) as HTMLButtonElement;
}

const shell: PromptDetails = { kind: "shell", fullCommandText: "rm -rf build && npm run build", commands: ["rm", "npm"] };

describe("PermissionDialog", () => {
  test("is a modal dialog named by its heading, with focus on Deny", async () => {
    renderDialog(permission("p1", "s1", shell));
    const dialog = screen.getByRole("dialog", { name: "Run this command?" }) as HTMLDialogElement;

    expect(dialog.tagName).toBe("DIALOG");
    expect(dialog.open).toBe(true);
    expect(screen.getByRole("heading", { name: "Run this command?" })).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(button("Deny")));
  });

  test.each<[PromptDetails, string]>([
    [shell, "Run this command?"],
    [{ kind: "write", fileName: "a.txt", diff: "+a" }, "Write to this file?"],
    [{ kind: "read", path: "/etc/hosts" }, "Read this file?"],
    [{ kind: "url", url: "https://example.com/x", domain: "example.com" }, "Fetch this URL?"],
    [{ kind: "mcp", serverName: "github", toolName: "list_issues", arguments: null }, "Use this MCP tool?"],
    [{ kind: "memory", fact: "Uses pnpm" }, "Remember this?"],
    [{ kind: "customTool", toolName: "deploy", description: "Deploys", arguments: {} }, "Run this tool?"],
    [{ kind: "other", requestKind: "hook", raw: {} }, "Allow this action?"],
  ])("%o is titled %j", (details, title) => {
    renderDialog(permission("p1", "s1", details));
    expect(screen.getByRole("dialog", { name: title })).toBeTruthy();
  });

  test("shell: the full command and, when several, the commands it runs", () => {
    renderDialog(permission("p1", "s1", shell));
    expect(screen.getByLabelText("Command").tagName).toBe("PRE");
    expect(screen.getByLabelText("Command").textContent).toBe("rm -rf build && npm run build");
    const list = screen.getByRole("region", { name: "It runs these commands" });
    expect(within(list).getAllByRole("listitem").map((item) => item.textContent)).toEqual(["rm", "npm"]);
  });

  test("shell: a single command is not listed twice", () => {
    renderDialog(permission("p1", "s1", { kind: "shell", fullCommandText: "ls", commands: ["ls"] }));
    expect(screen.getByLabelText("Command").textContent).toBe("ls");
    expect(screen.queryByRole("list")).toBeNull();
  });

  test("write: the file and its diff, added and removed lines marked, all as text", () => {
    const diff = "--- a/index.html\n+++ b/index.html\n@@ -1,2 +1,2 @@\n <body>\n-<p>old</p>\n+<script>alert(1)</script>\n";
    renderDialog(permission("p1", "s1", { kind: "write", fileName: "index.html", diff }));

    expect(screen.getByText("index.html")).toBeTruthy();
    const pre = screen.getByLabelText("Changes");
    expect(pre.querySelector("script")).toBeNull();
    expect(pre.textContent).toBe(diff);
    const added = pre.querySelectorAll(".added");
    const removed = pre.querySelectorAll(".removed");
    expect([...added].map((line) => line.textContent)).toEqual(["+<script>alert(1)</script>\n"]);
    expect([...removed].map((line) => line.textContent)).toEqual(["-<p>old</p>\n"]);
    expect(pre.querySelectorAll(".header")).toHaveLength(2);
    expect(pre.querySelectorAll(".hunk")).toHaveLength(1);
  });

  test("read: the path", () => {
    renderDialog(permission("p1", "s1", { kind: "read", path: "/home/me/.ssh/config" }));
    expect(screen.getByText("/home/me/.ssh/config")).toBeTruthy();
  });

  test("url: the URL and its domain", () => {
    renderDialog(permission("p1", "s1", { kind: "url", url: "https://docs.example.com/a?b=c", domain: "docs.example.com" }));
    expect(screen.getByText("https://docs.example.com/a?b=c")).toBeTruthy();
    expect(screen.getByText("docs.example.com")).toBeTruthy();
  });

  test("mcp: server, tool and the arguments as pretty JSON", () => {
    renderDialog(
      permission("p1", "s1", { kind: "mcp", serverName: "github", toolName: "create_issue", arguments: { title: "Bug", labels: ["x"] } }),
    );
    expect(screen.getByText("github")).toBeTruthy();
    expect(screen.getByText("create_issue")).toBeTruthy();
    expect(screen.getByLabelText("Arguments").textContent).toBe(JSON.stringify({ title: "Bug", labels: ["x"] }, null, 2));
  });

  test("memory: the fact", () => {
    renderDialog(permission("p1", "s1", { kind: "memory", fact: "The project uses pnpm" }));
    expect(screen.getByLabelText("Fact").textContent).toBe("The project uses pnpm");
  });

  test("customTool: name, description and arguments", () => {
    renderDialog(permission("p1", "s1", { kind: "customTool", toolName: "deploy", description: "Deploys to staging", arguments: null }));
    expect(screen.getByText("deploy")).toBeTruthy();
    expect(screen.getByText("Deploys to staging")).toBeTruthy();
    expect(screen.getByLabelText("Arguments").textContent).toBe("(none)");
  });

  test("other: the kind and the raw request", () => {
    renderDialog(permission("p1", "s1", { kind: "other", requestKind: "hook", raw: { a: 1 } }));
    expect(screen.getByText("hook")).toBeTruthy();
    expect(screen.getByLabelText("Details").textContent).toBe('{\n  "a": 1\n}');
  });

  test("shows the agent's intention and the CLI's warning (as an alert)", () => {
    renderDialog(permission("p1", "s1", shell, { intention: "Clean the build output", warning: "Runs outside the sandbox" }));
    expect(screen.getByText("Clean the build output")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toBe("Runs outside the sandbox");
  });

  test("offers only Allow once and Deny unless more is offered", () => {
    renderDialog(permission("p1", "s1", shell));
    expect(button("Allow once")).toBeTruthy();
    expect(button("Deny")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Allow for this session" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Always allow this domain" })).toBeNull();
  });

  test("offers Allow for this session and Always allow this domain when the CLI can honour them", async () => {
    const url: PromptDetails = { kind: "url", url: "https://example.com", domain: "example.com" };
    const { onDecide } = renderDialog(permission("p1", "s1", url, { canApproveForSession: true, canApprovePermanently: true }));

    await fireEvent.click(button("Allow for this session"));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "approveForSession" });
    await waitFor(() => expect(button("Always allow this domain").disabled).toBe(false));
    await fireEvent.click(button("Always allow this domain"));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "approvePermanently" });
  });

  test("offers Allow in this project when the CLI can store a project approval, and sends it", async () => {
    const { onDecide, rerender } = renderDialog(permission("p1", "s1", shell));
    expect(screen.queryByRole("button", { name: "Allow in this project" })).toBeNull();

    await rerender({ prompt: permission("p2", "s1", shell, { canApproveForLocation: true }) });
    await fireEvent.click(button("Allow in this project"));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "approveForLocation" });
  });

  test("never offers to always allow a domain for a request that is not a URL", () => {
    renderDialog(permission("p1", "s1", shell, { canApprovePermanently: true }));
    expect(screen.queryByRole("button", { name: "Always allow this domain" })).toBeNull();
  });

  test("Allow once approves once", async () => {
    const { onDecide } = renderDialog(permission("p1", "s1", shell));
    await fireEvent.click(button("Allow once"));
    expect(onDecide).toHaveBeenCalledWith({ decision: "approveOnce" });
  });

  test("Deny rejects with the feedback, or null when there is none", async () => {
    const { onDecide, rerender } = renderDialog(permission("p1", "s1", shell));
    await fireEvent.click(button("Deny"));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "reject", feedback: null });

    await rerender({ prompt: permission("p2", "s1", shell) });
    const feedback = screen.getByRole("textbox", { name: "Feedback to the agent (optional)" });
    await fireEvent.input(feedback, { target: { value: "  Use git clean instead  " } });
    await fireEvent.click(button("Deny"));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "reject", feedback: "Use git clean instead" });
  });

  test("Escape decides nothing and the dialog stays open", async () => {
    const { onDecide } = renderDialog(permission("p1", "s1", shell));
    const dialog = screen.getByRole("dialog") as HTMLDialogElement;

    await pressEscape(button("Deny"));
    await pressEscape(screen.getByRole("textbox", { name: "Feedback to the agent (optional)" }));
    expect(dialog.dispatchEvent(new Event("cancel", { cancelable: true }))).toBe(false);

    expect(dialog.open).toBe(true);
    expect(onDecide).not.toHaveBeenCalled();
  });

  test("the buttons are disabled while the decision is on its way", async () => {
    const { onDecide } = renderDialog(permission("p1", "s1", shell, { canApproveForSession: true }));
    const reply = deferred<void>();
    onDecide.mockReturnValueOnce(reply.promise);

    await fireEvent.click(button("Allow once"));
    for (const name of ["Deny", "Allow once", "Allow for this session"]) expect(button(name).disabled).toBe(true);
    await fireEvent.click(button("Deny"));
    expect(onDecide).toHaveBeenCalledTimes(1);

    reply.resolve();
    await waitFor(() => expect(button("Deny").disabled).toBe(false));
  });

  test("a failed decision says why and lets the user choose again", async () => {
    const { onDecide } = renderDialog(permission("p1", "s1", shell));
    onDecide.mockRejectedValueOnce(new BackendError({ code: "cli", message: "CLI not connected" }));

    await fireEvent.click(button("Allow once"));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("CLI not connected"));
    expect(button("Allow once").disabled).toBe(false);
    await waitFor(() => expect(document.activeElement).toBe(button("Deny")));
  });

  test("the next prompt starts clean, with focus on Deny again", async () => {
    const { onDecide, rerender } = renderDialog(permission("p1", "s1", shell));
    onDecide.mockRejectedValueOnce(new BackendError({ code: "cli", message: "failed" }));
    await fireEvent.input(screen.getByRole("textbox", { name: "Feedback to the agent (optional)" }), { target: { value: "no" } });
    await fireEvent.click(button("Allow once"));
    await waitFor(() => expect(screen.getByRole("alert")).toBeTruthy());
    button("Allow once").focus();

    await rerender({ prompt: permission("p2", "s1", { kind: "read", path: "/tmp/x" }) });
    expect(screen.getByRole("dialog", { name: "Read this file?" })).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
    expect((screen.getByRole("textbox", { name: "Feedback to the agent (optional)" }) as HTMLTextAreaElement).value).toBe("");
    await waitFor(() => expect(document.activeElement).toBe(button("Deny")));
  });

  test("says how many more requests wait", async () => {
    const { rerender } = renderDialog(permission("p1", "s1", shell), 1);
    expect(screen.getByText("1 more waiting")).toBeTruthy();
    await rerender({ queued: 0 });
    expect(screen.queryByText(/more waiting/)).toBeNull();
  });

  test("when it goes away, focus returns to where the user was", async () => {
    const composer = document.body.appendChild(document.createElement("textarea"));
    composer.focus();
    const { unmount } = renderDialog(permission("p1", "s1", shell));
    await waitFor(() => expect(document.activeElement).toBe(button("Deny")));

    unmount();
    expect(document.activeElement).toBe(composer);
    composer.remove();
  });

  test("the same request sent again keeps what the user typed", async () => {
    const { rerender } = renderDialog(permission("p1", "s1", shell));
    const feedback = screen.getByRole("textbox", { name: "Feedback to the agent (optional)" }) as HTMLTextAreaElement;
    await fireEvent.input(feedback, { target: { value: "careful" } });

    await rerender({ prompt: permission("p1", "s1", shell, { warning: "now with a warning" }) });
    expect(screen.getByRole("alert").textContent).toBe("now with a warning");
    expect(feedback.value).toBe("careful");
  });
});
