import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test, vi } from "vitest";
import { BackendError } from "../../lib/backend";
import { DraftAttachments, imageSource } from "../../lib/chat/attachments.svelte";
import { SessionQueue } from "../../lib/chat/queue.svelte";
import { FakeBackend } from "../../test/fake-backend";
import Composer from "../Composer.svelte";
import QueuedMessages from "./QueuedMessages.svelte";

const PNG_BASE64 = "iVBORw0KGgo=";

function message(): HTMLTextAreaElement {
  return screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
}

describe("queue and steer in the composer", () => {
  test("Send now steers the running turn with what was typed", async () => {
    const onSend = vi.fn(async (_text: string) => {});
    const onSteer = vi.fn(async (_text: string) => {});
    render(Composer, {
      props: { running: true, disabledReason: null, models: [], onSend, onStop: vi.fn(), onSteer },
    });
    await fireEvent.input(message(), { target: { value: "use the release profile" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send now" }));
    expect(onSteer).toHaveBeenCalledWith("use the release profile");
    expect(onSend).not.toHaveBeenCalled();
    await waitFor(() => expect(message().value).toBe(""));
  });

  test("queued messages can be edited, removed and sent now", async () => {
    const backend = new FakeBackend();
    backend.queues.set("s1", {
      queued: [
        { id: "1", messageId: "m1", text: "first", kind: "message" },
        { id: "2", messageId: "m2", text: "second", kind: "message" },
      ],
      steering: [],
    });
    const queue = new SessionQueue(backend, "s1");
    await queue.refresh();
    render(QueuedMessages, { props: { queue, running: true } });
    const list = screen.getByRole("region", { name: "Queued messages" });
    expect(within(list).getByText("first")).toBeTruthy();

    const second = screen.getByRole("listitem", { name: "Queued message 2" });
    await fireEvent.click(within(second).getByRole("button", { name: "Edit" }));
    const editor = screen.getByRole("textbox", { name: "Edit queued message" });
    await fireEvent.input(editor, { target: { value: "second, edited" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(backend.editQueued).toHaveBeenCalledWith("s1", "2", "second, edited");

    const first = screen.getByRole("listitem", { name: "Queued message 1" });
    await fireEvent.click(within(first).getByRole("button", { name: "Send now" }));
    expect(backend.sendQueuedNow).toHaveBeenCalledWith("s1", "1");

    await fireEvent.click(within(screen.getByRole("listitem", { name: "Queued message 1" })).getByRole("button", { name: "Remove" }));
    await waitFor(() => expect(screen.queryByText("first")).toBeNull());
  });

  test("an action on a message that already went says so", async () => {
    const backend = new FakeBackend();
    backend.queues.set("s1", { queued: [{ id: "1", messageId: "m1", text: "gone soon", kind: "message" }], steering: [] });
    backend.removeQueued.mockRejectedValueOnce(
      new BackendError({ code: "invalid_request", message: "That message is no longer queued: it has been sent or removed." }),
    );
    const queue = new SessionQueue(backend, "s1");
    await queue.refresh();
    render(QueuedMessages, { props: { queue, running: false } });
    expect(screen.queryByRole("button", { name: "Send now" })).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Remove" }));
    expect((await screen.findByRole("alert")).textContent).toContain("no longer queued");
  });
});

describe("attachments in the composer", () => {
  test("picked files and pasted images show as removable chips and go with the message", async () => {
    const backend = new FakeBackend();
    backend.picked = { attachments: [{ type: "file", path: "/work/notes.txt" }], problems: [] };
    const draft = new DraftAttachments(backend);
    const onSend = vi.fn(async (_text: string) => {});
    render(Composer, { props: { running: false, disabledReason: null, models: [], onSend, onStop: vi.fn(), attachments: draft } });

    await fireEvent.click(screen.getByRole("button", { name: "Attach files" }));
    expect(backend.pickAttachments).toHaveBeenCalledWith(false);
    await screen.findByText("notes.txt");

    const image = new File([Uint8Array.from(atob(PNG_BASE64), (c) => c.charCodeAt(0))], "image.png", { type: "image/png" });
    const pasted = await fireEvent.paste(message(), { clipboardData: { files: [image] } });
    expect(pasted).toBe(false);
    await waitFor(() => expect(backend.attachImage).toHaveBeenCalledWith("pasted-image-2.png", PNG_BASE64));
    const thumb = (await screen.findByRole("img", { name: "pasted-image-2.png" })) as HTMLImageElement;
    expect(thumb.src).toBe(`data:image/png;base64,${PNG_BASE64}`);

    await fireEvent.click(screen.getByRole("button", { name: "Remove notes.txt" }));
    expect(draft.items.map((a) => a.type)).toEqual(["image"]);
    // Attachments alone can be sent.
    await fireEvent.click(screen.getByRole("button", { name: "Send" }));
    expect(onSend).toHaveBeenCalledWith("");
  });

  test("a refused file is named and what was typed stays", async () => {
    const backend = new FakeBackend();
    backend.picked = { attachments: [], problems: ["/work/gone.txt was not found. It may have been moved or deleted."] };
    const draft = new DraftAttachments(backend);
    render(Composer, {
      props: { running: false, disabledReason: null, models: [], onSend: vi.fn(), onStop: vi.fn(), attachments: draft },
    });
    await fireEvent.input(message(), { target: { value: "keep me" } });
    await fireEvent.click(screen.getByRole("button", { name: "Attach files" }));
    expect((await screen.findByRole("alert")).textContent).toContain("gone.txt was not found");
    expect(message().value).toBe("keep me");
  });

  test("a too-big image is refused in words", async () => {
    const backend = new FakeBackend();
    backend.attachImage.mockRejectedValueOnce(
      new BackendError({ code: "invalid_request", message: "huge.png is 6.0 MB; images can be at most 5 MB." }),
    );
    const draft = new DraftAttachments(backend);
    const image = new File(["x"], "huge.png", { type: "image/png" });
    expect(await draft.paste([image])).toBe(true);
    expect(draft.problem).toContain("at most 5 MB");
    expect(draft.items).toEqual([]);
    // Text pastes are left to the textarea.
    expect(await draft.paste([new File(["x"], "a.txt", { type: "text/plain" })])).toBe(false);
  });

  test("a drop adds what Rust made of it once, and names what it refused", () => {
    const draft = new DraftAttachments(new FakeBackend());
    draft.add({ attachments: [{ type: "directory", path: "/work/src" }], problems: [] });
    draft.add({
      attachments: [{ type: "directory", path: "/work/src" }, { type: "file", path: "/work/a.txt" }],
      problems: ["/work/b.bin is a binary file the model cannot read."],
    });
    expect(draft.items).toEqual([
      { type: "directory", path: "/work/src" },
      { type: "file", path: "/work/a.txt" },
    ]);
    expect(draft.problem).toContain("b.bin is a binary file");
    draft.clear();
    expect(draft.items).toEqual([]);
    expect(draft.problem).toBeNull();
  });

  test("only images get a picture, from their own bytes", () => {
    expect(imageSource({ type: "image", name: "a.png", mimeType: "image/png", data: "QUJD" })).toBe("data:image/png;base64,QUJD");
    expect(imageSource({ type: "file", path: "/a.png" })).toBeNull();
  });
});
