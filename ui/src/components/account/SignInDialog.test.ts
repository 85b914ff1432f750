import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { BackendError, backendContext } from "../../lib/backend";
import { FakeBackend, signedOutAccount } from "../../test/fake-backend";
import SignInDialog from "./SignInDialog.svelte";
import { installDialogPolyfill, pressEscape } from "../../test/dialog";

beforeAll(installDialogPolyfill);
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function renderDialog(backend: FakeBackend) {
  const onClose = vi.fn();
  const result = render(SignInDialog, { props: { open: true, onClose }, context: backendContext(backend) });
  return { ...result, onClose };
}

const dialog = () => screen.getByRole("dialog", { name: "Sign in to GitHub" });
const button = (name: string) => within(dialog()).getByRole("button", { name });

async function continueWithCode(backend: FakeBackend, host?: string): Promise<void> {
  const field = await within(dialog()).findByLabelText("GitHub host");
  if (host !== undefined) await fireEvent.input(field, { target: { value: host } });
  await fireEvent.click(button("Continue"));
  await within(dialog()).findByText(backend.signInStart.userCode);
}

describe("SignInDialog", () => {
  test("asks for the host (github.com by default), then shows the code, its page and the time left", async () => {
    const backend = new FakeBackend();
    renderDialog(backend);
    expect(dialog().hasAttribute("open")).toBe(true);
    const field = within(dialog()).getByLabelText<HTMLInputElement>("GitHub host");
    await waitFor(() => expect(field.value).toBe("github.com"));

    await continueWithCode(backend, " tenant.ghe.com ");
    expect(backend.startSignIn).toHaveBeenCalledWith("tenant.ghe.com", expect.any(Function));
    expect(within(dialog()).getByText("The page is https://github.com/login/device")).toBeTruthy();
    expect(within(dialog()).getByRole("timer").textContent).toBe("Expires in 15:00");
    expect(button("Copy code")).toBeTruthy();
    expect(button("Open GitHub")).toBeTruthy();
  });

  test("the countdown runs down and follows what Rust reports", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const backend = new FakeBackend();
    renderDialog(backend);
    await continueWithCode(backend);
    await vi.advanceTimersByTimeAsync(61_000);
    await waitFor(() => expect(within(dialog()).getByRole("timer").textContent).toMatch(/^Expires in 13:5\d$/));

    backend.pushSignIn({ state: "waiting", secondsLeft: 65, nextPollIn: 5, trouble: "connection refused" });
    await waitFor(() => expect(within(dialog()).getByRole("timer").textContent).toBe("Expires in 1:05"));
    expect(within(dialog()).getByText("Still trying to reach GitHub: connection refused")).toBeTruthy();
  });

  test("Copy code puts the code on the clipboard; Open GitHub asks Rust to open the page", async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    const backend = new FakeBackend();
    renderDialog(backend);
    await continueWithCode(backend);

    await fireEvent.click(button("Copy code"));
    expect(writeText).toHaveBeenCalledWith("WDJB-MJHT");
    await within(dialog()).findByText("Code copied.");
    await fireEvent.click(button("Open GitHub"));
    expect(backend.openVerificationUri).toHaveBeenCalledTimes(1);
  });

  test("signed in: the dialog closes by itself", async () => {
    const backend = new FakeBackend();
    const { onClose } = renderDialog(backend);
    await continueWithCode(backend);
    backend.pushSignIn({ state: "signedIn" });
    await waitFor(() => expect(onClose).toHaveBeenCalledTimes(1));
    expect(backend.cancelSignIn).not.toHaveBeenCalled();
  });

  test("Cancel stops the sign-in and closes", async () => {
    const backend = new FakeBackend();
    const { onClose } = renderDialog(backend);
    await continueWithCode(backend);
    await fireEvent.click(button("Cancel"));
    expect(backend.cancelSignIn).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  test("Escape stops the sign-in and closes; reopened, the dialog starts at the host", async () => {
    const backend = new FakeBackend();
    const { onClose, rerender } = renderDialog(backend);
    await continueWithCode(backend);
    await pressEscape(button("Copy code"));
    expect(backend.cancelSignIn).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledTimes(1);

    await rerender({ open: false });
    await rerender({ open: true });
    expect(within(dialog()).getByLabelText("GitHub host")).toBeTruthy();
    expect(within(dialog()).queryByText(backend.signInStart.userCode)).toBeNull();
  });

  test("a failed flow is an alert with GitHub's reason and a way to try again", async () => {
    const backend = new FakeBackend();
    renderDialog(backend);
    await continueWithCode(backend);
    const message = "The sign-in code expired before it was approved. Start sign-in again to get a new code.";
    backend.pushSignIn({ state: "failed", code: "expired", message });
    expect((await within(dialog()).findByRole("alert")).textContent).toContain(message);
    await fireEvent.click(button("Try again"));
    expect(within(dialog()).getByLabelText("GitHub host")).toBeTruthy();
  });

  test("without a client id, Continue says sign-in is not set up and what to do instead", async () => {
    const backend = new FakeBackend();
    const message = "Signing in with GitHub is not set up in this build: it has no OAuth client id. Set COPILOT_DESKTOP_GITHUB_CLIENT_ID ...";
    backend.startSignIn.mockRejectedValueOnce(new BackendError({ code: "not_configured", message }));
    renderDialog(backend);
    await within(dialog()).findByLabelText("GitHub host");
    await fireEvent.click(button("Continue"));
    expect((await within(dialog()).findByRole("alert")).textContent).toContain(message);
  });

  test("no keychain after approval: says what is missing and offers memory for this run only", async () => {
    const backend = new FakeBackend();
    const { onClose } = renderDialog(backend);
    await continueWithCode(backend);
    const message = "No Secret Service (gnome-keyring or KWallet) is running, so the token cannot be kept in a keychain.";
    backend.pushSignIn({ state: "keychainUnavailable", code: "keychain_unavailable", message });
    const alert = await within(dialog()).findByRole("alert");
    expect(alert.textContent).toContain(message);
    await fireEvent.click(button("Keep signed in for this session only"));
    expect(backend.keepTokenInMemory).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(onClose).toHaveBeenCalledTimes(1));
    expect(backend.cancelSignIn).not.toHaveBeenCalled();
  });

  test("a keychain problem known up front is explained before signing in", async () => {
    const backend = new FakeBackend();
    const message = "The keychain is locked, unlocking it was refused ...";
    backend.accountView = signedOutAccount({ keychainProblem: { code: "keychain_locked", message } });
    renderDialog(backend);
    expect((await within(dialog()).findByRole("alert")).textContent).toContain(message);
    await fireEvent.click(button("Keep signed in for this session only"));
    expect(backend.keepTokenInMemory).toHaveBeenCalledTimes(1);
    await within(dialog()).findByText(/kept in memory only/);
    expect(within(dialog()).queryByRole("alert")).toBeNull();
  });

  test("progress from a cancelled attempt is ignored by the next one", async () => {
    const backend = new FakeBackend();
    renderDialog(backend);
    await continueWithCode(backend);
    const stale = backend.signInListener!;
    await fireEvent.click(button("Cancel"));
    stale({ state: "failed", code: "expired", message: "old" });
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
