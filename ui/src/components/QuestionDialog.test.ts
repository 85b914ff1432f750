import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, type UserAnswer, type UserQuestion } from "../lib/backend";
import { question } from "../test/chat-fixtures";
import { installDialogPolyfill, pressEscape } from "../test/dialog";
import { deferred } from "../test/fake-backend";
import QuestionDialog from "./QuestionDialog.svelte";

beforeAll(installDialogPolyfill);

function renderDialog(asked: UserQuestion, queued?: number) {
  const onAnswer = vi.fn(async (_answer: UserAnswer) => {});
  const result = render(QuestionDialog, { props: { question: asked, onAnswer, queued } });
  return { ...result, onAnswer };
}

function answerBox(): HTMLTextAreaElement {
  return screen.getByRole("textbox", { name: "Your answer" }) as HTMLTextAreaElement;
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole("button", { name }) as HTMLButtonElement;
}

describe("QuestionDialog", () => {
  test("is a modal dialog titled Copilot asks, showing the question", () => {
    renderDialog(question("q1", "s1", { question: "Which branch should I use?" }));
    const dialog = screen.getByRole("dialog", { name: "Copilot asks" }) as HTMLDialogElement;
    expect(dialog.tagName).toBe("DIALOG");
    expect(dialog.open).toBe(true);
    expect(screen.getByText("Which branch should I use?")).toBeTruthy();
  });

  test("each choice is a button named by it; a click answers with it", async () => {
    const { onAnswer } = renderDialog(question("q1", "s1", { choices: ["main", "develop"] }));
    await waitFor(() => expect(document.activeElement).toBe(button("main")));

    await fireEvent.click(button("develop"));
    expect(onAnswer).toHaveBeenCalledWith({ answer: "develop", wasFreeform: false });
  });

  test("without freeform there is no textbox", () => {
    renderDialog(question("q1", "s1"));
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(screen.queryByRole("button", { name: "Send answer" })).toBeNull();
  });

  test("with freeform, the typed answer is sent by Send answer", async () => {
    const { onAnswer } = renderDialog(question("q1", "s1", { allowFreeform: true }));
    expect(button("Send answer").disabled).toBe(true);

    await fireEvent.input(answerBox(), { target: { value: " feature/login " } });
    await fireEvent.click(button("Send answer"));
    expect(onAnswer).toHaveBeenCalledWith({ answer: "feature/login", wasFreeform: true });
  });

  test("Enter in the textbox sends; Shift+Enter does not", async () => {
    const { onAnswer } = renderDialog(question("q1", "s1", { allowFreeform: true, choices: [] }));
    await fireEvent.input(answerBox(), { target: { value: "a" } });

    expect(await fireEvent.keyDown(answerBox(), { key: "Enter", shiftKey: true })).toBe(true);
    expect(onAnswer).not.toHaveBeenCalled();
    expect(await fireEvent.keyDown(answerBox(), { key: "Enter" })).toBe(false);
    expect(onAnswer).toHaveBeenCalledWith({ answer: "a", wasFreeform: true });
  });

  test("a question with neither choices nor freeform can still be answered", async () => {
    const { onAnswer } = renderDialog(question("q1", "s1", { allowFreeform: false, choices: [] }));
    await fireEvent.input(answerBox(), { target: { value: "ok" } });
    await fireEvent.click(button("Send answer"));
    expect(onAnswer).toHaveBeenCalledWith({ answer: "ok", wasFreeform: true });
  });

  test("with no choices, focus starts in the textbox", async () => {
    renderDialog(question("q1", "s1", { allowFreeform: true, choices: [] }));
    await waitFor(() => expect(document.activeElement).toBe(answerBox()));
  });

  test("Escape answers nothing and the dialog stays open", async () => {
    const { onAnswer } = renderDialog(question("q1", "s1", { allowFreeform: true }));
    const dialog = screen.getByRole("dialog") as HTMLDialogElement;

    await pressEscape(button("main"));
    await pressEscape(answerBox());
    expect(dialog.dispatchEvent(new Event("cancel", { cancelable: true }))).toBe(false);
    expect(dialog.open).toBe(true);
    expect(onAnswer).not.toHaveBeenCalled();
  });

  test("controls are disabled while the answer is on its way; a failure says why", async () => {
    const { onAnswer } = renderDialog(question("q1", "s1", { allowFreeform: true }));
    const reply = deferred<void>();
    onAnswer.mockReturnValueOnce(reply.promise);

    await fireEvent.click(button("main"));
    expect(button("main").disabled).toBe(true);
    expect(button("develop").disabled).toBe(true);
    expect(answerBox().disabled).toBe(true);

    reply.reject(new BackendError({ code: "cli", message: "CLI not connected" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("CLI not connected"));
    expect(button("main").disabled).toBe(false);
  });

  test("the next question starts clean", async () => {
    const { rerender } = renderDialog(question("q1", "s1", { allowFreeform: true }));
    await fireEvent.input(answerBox(), { target: { value: "draft" } });

    await rerender({ question: question("q2", "s1", { question: "Run the tests?", choices: ["Yes", "No"], allowFreeform: true }) });
    expect(screen.getByText("Run the tests?")).toBeTruthy();
    expect(answerBox().value).toBe("");
    await waitFor(() => expect(document.activeElement).toBe(button("Yes")));
  });

  test("says how many more requests wait", () => {
    renderDialog(question("q1", "s1"), 2);
    expect(screen.getByText("2 more waiting")).toBeTruthy();
  });
});
