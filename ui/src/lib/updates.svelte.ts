// The app's update state as the window sees it: follows Rust's view (found update, download progress, failures)
// and forwards the user's choices. Rust decides everything; this only keeps the latest view and the one error a
// command itself may raise.

import { describeError, type Backend, type UpdateView } from "./backend";

export class UpdatesState {
  view = $state<UpdateView | null>(null);
  /** A command that failed outright (the view carries the update's own failures). */
  error = $state<string | null>(null);
  private stop: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly backend: Backend) {}

  async start(): Promise<void> {
    this.stopped = false;
    try {
      const stop = await this.backend.onUpdates((view) => (this.view = view));
      if (this.stopped) stop();
      else this.stop = stop;
    } catch (failure) {
      this.error = describeError(failure);
    }
  }

  stopWatching(): void {
    this.stopped = true;
    this.stop?.();
    this.stop = null;
  }

  /** Whether an update exists that the user has not installed yet: the status bar's quiet indicator. */
  get pending(): boolean {
    const state = this.view?.phase.state;
    return state === "available" || state === "downloading" || state === "ready" || state === "installing";
  }

  check = () => this.run(() => this.backend.checkForUpdates());
  download = () => this.run(() => this.backend.downloadUpdate());
  install = () => this.run(() => this.backend.installUpdate());
  setAutomatic = (on: boolean) => this.run(() => this.backend.setCheckAutomatically(on));

  private async run(call: () => Promise<UpdateView>): Promise<void> {
    this.error = null;
    try {
      this.view = await call();
    } catch (failure) {
      this.error = describeError(failure);
    }
  }
}

/** "12.3 MB of 45.2 MB" while downloading. */
export function progressText(received: number | null, total: number | null): string {
  const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
  if (!received) return "Starting…";
  return total ? `${mb(received)} of ${mb(total)}` : mb(received);
}
