import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, test, vi } from "vitest";
import { BackendError, backendContext } from "../../lib/backend";
import { FakeBackend, deferred, signedOutAccount } from "../../test/fake-backend";
import AccountStatus from "./AccountStatus.svelte";

function renderStatus(backend: FakeBackend) {
  const onSignIn = vi.fn();
  const onOpenSettings = vi.fn();
  const result = render(AccountStatus, { props: { onSignIn, onOpenSettings }, context: backendContext(backend) });
  return { ...result, onSignIn, onOpenSettings };
}

const status = () => screen.getByRole("status", { name: "Account" });

async function expectStatus(text: string): Promise<void> {
  await waitFor(() => expect(status().textContent).toBe(text));
}

const signInButton = () => screen.queryByRole("button", { name: "Sign in" });

describe("AccountStatus", () => {
  test("signed out: says so and offers Sign in, which asks the parent to open the dialog", async () => {
    const backend = new FakeBackend();
    const { onSignIn } = renderStatus(backend);
    await expectStatus("Not signed in");
    await fireEvent.click(signInButton()!);
    expect(onSignIn).toHaveBeenCalledTimes(1);
  });

  test("follows every account Rust pushes", async () => {
    const backend = new FakeBackend();
    renderStatus(backend);
    await expectStatus("Not signed in");

    backend.pushAccount(signedOutAccount({ source: "keychain", login: "octo-tester", plan: "individual_pro" }));
    await expectStatus("Signed in as octo-tester · Copilot Pro+");
    expect(signInButton()).toBeNull();

    backend.pushAccount(signedOutAccount({ source: "environment", envVar: "GH_TOKEN" }));
    await expectStatus("Signed in with GH_TOKEN");

    const provider = { providerType: "openai", baseUrl: "http://127.0.0.1:1/v1", model: "fake-model" } as const;
    backend.pushAccount(signedOutAccount({ source: "provider", provider }));
    await expectStatus("Provider: openai (fake-model)");
  });

  test("a refused token leads back to sign-in, with the reason at hand", async () => {
    const backend = new FakeBackend();
    const message = "Your GitHub sign-in is no longer valid: GitHub refused the token. Sign in again; your sessions are kept.";
    backend.accountView = signedOutAccount({ source: "keychain", problem: { code: "token_invalid", message } });
    renderStatus(backend);
    await expectStatus("Your GitHub sign-in is no longer valid");
    expect(status().getAttribute("title")).toBe(message);
    expect(signInButton()).not.toBeNull();
  });

  test("subscribes before asking, and a pushed account is not overwritten by the older answer", async () => {
    const backend = new FakeBackend();
    const answer = deferred<ReturnType<typeof signedOutAccount>>();
    backend.getAccount.mockReturnValueOnce(answer.promise);
    renderStatus(backend);
    await waitFor(() => expect(backend.getAccount).toHaveBeenCalled());
    expect(backend.onAccount.mock.invocationCallOrder[0]!).toBeLessThan(backend.getAccount.mock.invocationCallOrder[0]!);

    backend.pushAccount(signedOutAccount({ source: "keychain", login: "octo-tester" }));
    answer.resolve(signedOutAccount());
    await expectStatus("Signed in as octo-tester");
  });

  test("a reset settings file shows a notice that opens the settings; Settings always does", async () => {
    const backend = new FakeBackend();
    backend.accountView = signedOutAccount({ settingsNotice: "Your settings could not be used ..." });
    const { onOpenSettings } = renderStatus(backend);
    await fireEvent.click(await screen.findByRole("button", { name: "Settings were reset" }));
    await fireEvent.click(screen.getByRole("button", { name: "Settings" }));
    expect(onOpenSettings).toHaveBeenCalledTimes(2);
  });

  test("says when the account cannot be read", async () => {
    const backend = new FakeBackend();
    backend.onAccount.mockRejectedValueOnce(new BackendError({ code: "ipc", message: "watch_account not allowed" }));
    renderStatus(backend);
    await expectStatus("Account unknown: watch_account not allowed");
  });

  test("unsubscribes when it goes away", async () => {
    const backend = new FakeBackend();
    const { unmount } = renderStatus(backend);
    await expectStatus("Not signed in");
    expect(backend.accountListeners.size).toBe(1);
    unmount();
    expect(backend.accountListeners.size).toBe(0);
  });
});
