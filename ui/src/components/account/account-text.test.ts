import { describe, expect, test } from "vitest";
import { signedOutAccount } from "../../test/fake-backend";
import { describeAccount, formatCountdown, needsSignIn, planName } from "./account-text";

describe("describeAccount", () => {
  test("names the login and the plan of the app's own sign-in", () => {
    const view = signedOutAccount({ source: "keychain", login: "octo-tester", plan: "individual_pro" });
    expect(describeAccount(view)).toBe("Signed in as octo-tester · Copilot Pro+");
    expect(describeAccount({ ...view, source: "sessionOnly", plan: "individual" })).toBe(
      "Signed in as octo-tester · Copilot Pro (this session only)",
    );
    expect(describeAccount({ ...view, login: null, plan: null })).toBe("Signed in to github.com · connecting…");
  });

  test("says where a token from outside the app came from", () => {
    const env = signedOutAccount({ source: "environment", envVar: "GH_TOKEN" });
    expect(describeAccount(env)).toBe("Signed in with GH_TOKEN");
    expect(describeAccount({ ...env, login: "octo-tester", plan: "business" })).toBe(
      "Signed in with GH_TOKEN as octo-tester · Copilot Business",
    );
    expect(describeAccount(signedOutAccount({ source: "cliLogin", login: "octo" }))).toBe(
      "Signed in as octo (Copilot CLI login)",
    );
  });

  test("names a provider by type and model", () => {
    const provider = { providerType: "openai", baseUrl: "http://127.0.0.1:11434/v1", model: "fake-model" } as const;
    expect(describeAccount(signedOutAccount({ source: "provider", provider }))).toBe("Provider: openai (fake-model)");
    expect(describeAccount(signedOutAccount({ source: "provider", provider: { ...provider, offline: true } }))).toBe(
      "Provider: openai (fake-model) · offline",
    );
  });

  test("signed out, refused, and not known yet", () => {
    expect(describeAccount(null)).toBe("Checking account…");
    expect(describeAccount(signedOutAccount())).toBe("Not signed in");
    expect(describeAccount(signedOutAccount({ cliConnected: false }))).toBe("Checking account…");
    const refused = signedOutAccount({ source: "keychain", problem: { code: "token_invalid", message: "m" } });
    expect(describeAccount(refused)).toBe("Your GitHub sign-in is no longer valid");
    expect(needsSignIn(refused)).toBe(true);
  });
});

test("needsSignIn: signed out of a connected CLI, or refused credentials", () => {
  expect(needsSignIn(signedOutAccount())).toBe(true);
  expect(needsSignIn(signedOutAccount({ cliConnected: false }))).toBe(false);
  expect(needsSignIn(signedOutAccount({ source: "keychain", login: "octo" }))).toBe(false);
  expect(needsSignIn(signedOutAccount({ source: "provider", problem: { code: "provider_unauthorized", message: "m" } }))).toBe(
    false,
  );
});

test("planName knows GitHub's plans and passes others through", () => {
  expect(planName("free")).toBe("Copilot Free");
  expect(planName("enterprise")).toBe("Copilot Enterprise");
  expect(planName("something_new")).toBe("something_new");
});

test("formatCountdown", () => {
  expect(formatCountdown(900)).toBe("15:00");
  expect(formatCountdown(899.2)).toBe("15:00");
  expect(formatCountdown(61)).toBe("1:01");
  expect(formatCountdown(9)).toBe("0:09");
  expect(formatCountdown(-3)).toBe("0:00");
});
