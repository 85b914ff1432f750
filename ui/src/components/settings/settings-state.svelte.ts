// What the settings pages share while the dialog is open: the account and the stored settings as Rust last
// reported them, whether an action is running, and the one status line under the pages (what the last action
// did, or its error as an alert). The dialog loads it each time it opens; a page acts through `run`.

import { describeError, type AccountView, type Backend, type SettingsView } from "../../lib/backend";

export class SettingsState {
  account = $state<AccountView | null>(null);
  settings = $state<SettingsView | null>(null);
  /** An action is running: the pages disable their buttons. */
  busy = $state(false);
  error = $state<string | null>(null);
  /** What the last action did ("Provider saved. …"), for the polite live region. */
  saved = $state("");

  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Fetches the account and the settings afresh, and clears the status line. */
  async load(): Promise<void> {
    this.error = null;
    this.saved = "";
    try {
      const [account, settings] = await Promise.all([this.#backend.getAccount(), this.#backend.getSettings()]);
      this.account = account;
      this.settings = settings;
    } catch (failure) {
      this.error = describeError(failure);
    }
  }

  /** Follows every account change Rust pushes (the CLI connecting, a sign-out) until the returned stop. */
  followAccount(): () => void {
    let stopped = false;
    let unsubscribe: (() => void) | undefined;
    this.#backend
      .onAccount((next) => {
        if (!stopped) this.account = next;
      })
      .then((stop) => {
        if (stopped) stop();
        else unsubscribe = stop;
      })
      .catch(() => {});
    return () => {
      stopped = true;
      unsubscribe?.();
    };
  }

  /** Runs one action of a page: busy meanwhile, then the message it returns, or its error, in the status line. */
  async run(work: () => Promise<string>): Promise<void> {
    this.busy = true;
    this.error = null;
    this.saved = "";
    try {
      this.saved = await work();
    } catch (failure) {
      this.error = describeError(failure);
    } finally {
      this.busy = false;
    }
  }
}
