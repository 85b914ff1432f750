// Following the account from a component: the view now, then every change Rust pushes (the CLI connecting, a
// sign-in or sign-out), until the component stops. One place for the ordering that AccountStatus and Welcome
// both need: subscribe first, then ask, and let a pushed view win over an answer to a question asked before it.

import type { AccountView, Backend } from "./backend";

/** Calls `onView` with the account and each change; `onError` if neither subscribing nor asking worked. Returns the stop. */
export function watchAccount(
  backend: Backend,
  onView: (view: AccountView) => void,
  onError: (error: unknown) => void = () => {},
): () => void {
  let stopped = false;
  let unsubscribe: (() => void) | undefined;
  void (async () => {
    let pushed = false;
    try {
      unsubscribe = await backend.onAccount((next) => {
        pushed = true;
        if (!stopped) onView(next);
      });
      if (stopped) {
        unsubscribe();
        return;
      }
      const current = await backend.getAccount();
      if (!stopped && !pushed) onView(current);
    } catch (error) {
      if (!stopped) onError(error);
    }
  })();
  return () => {
    stopped = true;
    unsubscribe?.();
  };
}
