import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, test, vi } from "vitest";
import { BackendError, type ModelInfo } from "../lib/backend";
import { deferred } from "../test/fake-backend";
import Composer from "./Composer.svelte";

const models: ModelInfo[] = [
  { id: "gpt-5", name: "GPT-5" },
  { id: "claude-sonnet-4.5", name: "Claude Sonnet 4.5" },
];

function renderComposer(props: Partial<{ running: boolean; disabledReason: string | null; model: string | null }> = {}) {
  const onSend = vi.fn(async (_text: string) => {});
  const onStop = vi.fn(async () => {});
  const result = render(Composer, { props: { running: false, disabledReason: null, models, onSend, onStop, ...props } });
  return { ...result, onSend, onStop };
}

function message(): HTMLTextAreaElement {
  return screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
}

function sendButton(): HTMLButtonElement {
  return screen.getByRole("button", { name: "Send" }) as HTMLButtonElement;
}

async function type(text: string): Promise<void> {
  await fireEvent.input(message(), { target: { value: text } });
}

describe("Composer", () => {
  test("Enter sends the message and clears it once sent", async () => {
    const { onSend } = renderComposer();
    await type("  Fix the build  ");

    const notPrevented = await fireEvent.keyDown(message(), { key: "Enter" });
    expect(notPrevented).toBe(false);
    expect(onSend).toHaveBeenCalledWith("Fix the build");
    await waitFor(() => expect(message().value).toBe(""));
  });

  test("Shift+Enter leaves the newline to the textarea and sends nothing", async () => {
    const { onSend } = renderComposer();
    await type("line one");

    const notPrevented = await fireEvent.keyDown(message(), { key: "Enter", shiftKey: true });
    expect(notPrevented).toBe(true);
    expect(onSend).not.toHaveBeenCalled();
    expect(message().value).toBe("line one");
  });

  test("Enter during IME composition does not send", async () => {
    const { onSend } = renderComposer();
    await type("にほん");

    expect(await fireEvent.keyDown(message(), { key: "Enter", isComposing: true })).toBe(true);
    expect(await fireEvent.keyDown(message(), { key: "Enter", keyCode: 229 })).toBe(true);
    expect(onSend).not.toHaveBeenCalled();
  });

  test("the Send button sends; nothing is sent while the message is blank", async () => {
    const { onSend } = renderComposer();
    expect(sendButton().disabled).toBe(true);
    await fireEvent.keyDown(message(), { key: "Enter" });
    expect(onSend).not.toHaveBeenCalled();

    await type("hello");
    expect(sendButton().disabled).toBe(false);
    await fireEvent.click(sendButton());
    expect(onSend).toHaveBeenCalledWith("hello");
  });

  test("while sending is impossible the reason shows, Send is disabled and the text is kept", async () => {
    const reason = "Waiting for the Copilot CLI to reconnect…";
    const { onSend, rerender } = renderComposer({ disabledReason: reason });
    await type("a message typed during the restart");

    expect(screen.getByText(reason)).toBeTruthy();
    expect(sendButton().disabled).toBe(true);
    expect(message().disabled).toBe(false);
    expect(message().readOnly).toBe(false);
    expect(message().getAttribute("aria-describedby")).toBe(screen.getByText(reason).id);
    await fireEvent.keyDown(message(), { key: "Enter" });
    expect(onSend).not.toHaveBeenCalled();

    await rerender({ disabledReason: null });
    expect(screen.queryByText(reason)).toBeNull();
    expect(message().value).toBe("a message typed during the restart");
    await fireEvent.click(sendButton());
    expect(onSend).toHaveBeenCalledWith("a message typed during the restart");
  });

  test("a failed send keeps the text and shows why", async () => {
    const { onSend } = renderComposer();
    onSend.mockRejectedValueOnce(new BackendError({ code: "cli", message: "CLI not connected" }));
    await type("keep me");

    await fireEvent.click(sendButton());
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("CLI not connected"));
    expect(message().value).toBe("keep me");

    await fireEvent.click(sendButton());
    await waitFor(() => expect(message().value).toBe(""));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  test("the text is cleared only after onSend resolves, keeping what was typed meanwhile", async () => {
    const { onSend } = renderComposer();
    const reply = deferred<void>();
    onSend.mockReturnValueOnce(reply.promise);
    await type("first");

    await fireEvent.keyDown(message(), { key: "Enter" });
    expect(message().value).toBe("first");
    expect(sendButton().disabled).toBe(true);
    await type("first and more");

    reply.resolve();
    await waitFor(() => expect(message().value).toBe("and more"));
    expect(onSend).toHaveBeenCalledTimes(1);
  });

  test("while a turn runs, Stop replaces Send and calls onStop, and Enter queues the message", async () => {
    const { onSend, onStop, rerender } = renderComposer({ running: true });
    expect(screen.queryByRole("button", { name: "Send" })).toBeNull();
    await type("next question");
    await fireEvent.keyDown(message(), { key: "Enter" });
    expect(onSend).toHaveBeenCalledWith("next question");
    await waitFor(() => expect(message().value).toBe(""));

    await fireEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(onStop).toHaveBeenCalledTimes(1);

    await rerender({ running: false });
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
  });

  test("a failed stop shows why", async () => {
    const { onStop } = renderComposer({ running: true });
    onStop.mockRejectedValueOnce(new BackendError({ code: "cli", message: "no turn running" }));
    await fireEvent.click(screen.getByRole("button", { name: "Stop" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("no turn running"));
  });

  test("the model picker lists the models and follows the model prop", async () => {
    const { rerender } = renderComposer({ model: "claude-sonnet-4.5" });
    const picker = screen.getByRole("combobox", { name: "Model" }) as HTMLSelectElement;

    expect([...picker.options].map((option) => option.textContent)).toEqual(["Default model", "GPT-5", "Claude Sonnet 4.5"]);
    expect(picker.selectedOptions[0]?.textContent).toBe("Claude Sonnet 4.5");

    await rerender({ model: null });
    expect(picker.selectedOptions[0]?.textContent).toBe("Default model");
  });

  test("choosing a model writes the bound model", async () => {
    let model: string | null = null;
    render(Composer, {
      props: {
        running: false,
        disabledReason: null,
        models,
        get model() {
          return model;
        },
        set model(value) {
          model = value;
        },
        onSend: async () => {},
        onStop: async () => {},
      },
    });
    const picker = screen.getByRole("combobox", { name: "Model" }) as HTMLSelectElement;
    picker.selectedIndex = 1;
    await fireEvent.change(picker);
    expect(model).toBe("gpt-5");
  });

  test("when Stop, which had focus, gives way to Send, focus goes back to the message", async () => {
    const { rerender } = renderComposer({ running: true });
    screen.getByRole("button", { name: "Stop" }).focus();

    await rerender({ running: false });
    await waitFor(() => expect(document.activeElement).toBe(message()));
  });
});
