// Words for the account: the one-line summary the status bar shows, Copilot plan names, and the countdown of
// a sign-in code. Pure functions over what Rust sends, so every wording is tested without a component.

import type { AccountView } from "../../lib/backend";

// GitHub's `copilot_plan` values as people know them. An unknown value is shown as it is.
const PLAN_NAMES: Record<string, string> = {
  free: "Copilot Free",
  individual: "Copilot Pro",
  individual_pro: "Copilot Pro+",
  business: "Copilot Business",
  enterprise: "Copilot Enterprise",
};

export function planName(plan: string): string {
  return PLAN_NAMES[plan] ?? plan;
}

/** Problems that a new sign-in fixes. */
const SIGN_IN_FIXES = new Set(["token_invalid", "environment_token_invalid", "cli_login_invalid"]);

/** Whether the account calls for the Sign in button: nobody is signed in, or the sign-in was refused. */
export function needsSignIn(view: AccountView): boolean {
  if (view.problem && SIGN_IN_FIXES.has(view.problem.code)) return true;
  return view.source === "signedOut" && view.cliConnected;
}

function withPlan(text: string, view: AccountView): string {
  return view.plan ? `${text} · ${planName(view.plan)}` : text;
}

/** One line for the status bar. */
export function describeAccount(view: AccountView | null): string {
  if (!view) return "Checking account…";
  switch (view.problem?.code) {
    case "token_invalid":
      return "Your GitHub sign-in is no longer valid";
    case "environment_token_invalid":
      return `GitHub refused the token in ${view.envVar ?? "the environment"}`;
    case "cli_login_invalid":
      return "GitHub refused the Copilot CLI's login";
    case "provider_unauthorized":
      return "The model provider refused the request";
  }
  switch (view.source) {
    case "provider": {
      const provider = view.provider;
      if (!provider) return "Provider";
      const text = `Provider: ${provider.providerType} (${provider.model})`;
      return provider.offline ? `${text} · offline` : text;
    }
    case "keychain":
    case "sessionOnly": {
      const suffix = view.source === "sessionOnly" ? " (this session only)" : "";
      if (!view.login) return `Signed in to ${view.host}${suffix} · connecting…`;
      return withPlan(`Signed in as ${view.login}`, view) + suffix;
    }
    case "environment": {
      const variable = view.envVar ?? "an environment token";
      return withPlan(view.login ? `Signed in with ${variable} as ${view.login}` : `Signed in with ${variable}`, view);
    }
    case "cliLogin":
      return withPlan(view.login ? `Signed in as ${view.login} (Copilot CLI login)` : "Signed in with the Copilot CLI's login", view);
    case "signedOut":
      return view.cliConnected ? "Not signed in" : "Checking account…";
  }
}

/** `m:ss` of a number of seconds (never negative). */
export function formatCountdown(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return `${minutes}:${rest.toString().padStart(2, "0")}`;
}
