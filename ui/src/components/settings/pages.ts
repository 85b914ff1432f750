// The pages of the settings dialog, in the order its page list shows them. Adding a page is one entry here and
// its component in this folder; every page takes the same props, and the dialog gives each its heading (the
// label) and the status line under it.

import type { Component } from "svelte";
import AccountPage from "./AccountPage.svelte";
import CliPage from "./CliPage.svelte";
import McpPage from "./McpPage.svelte";
import PermissionsPage from "./PermissionsPage.svelte";
import ProviderPage from "./ProviderPage.svelte";
import SessionCleanupPage from "./SessionCleanupPage.svelte";
import UpdatesPage from "./UpdatesPage.svelte";
import type { SettingsState } from "./settings-state.svelte";

export interface SettingsPageProps {
  /** The account, the stored settings and the status line, shared by every page. */
  shared: SettingsState;
  /** Opens the sign-in dialog (the parent closes Settings first); absent when sign-in is not offered. */
  onSignIn?: () => void;
  /** Sessions were deleted here: the sidebar's list should be loaded again. */
  onSessionsChanged?: () => void;
  /** "Check now": the parent closes Settings and opens the update dialog with a fresh check. */
  onCheckForUpdates?: () => void;
}

export interface SettingsPage {
  /** Stable, for element ids. */
  id: string;
  /** The page's name in the list and its heading. */
  label: string;
  component: Component<SettingsPageProps>;
}

export const SETTINGS_PAGES: readonly SettingsPage[] = [
  { id: "account", label: "Account", component: AccountPage },
  { id: "provider", label: "Model provider", component: ProviderPage },
  { id: "cli", label: "Copilot CLI", component: CliPage },
  { id: "mcp", label: "Tools & MCP", component: McpPage },
  { id: "permissions", label: "Permissions", component: PermissionsPage },
  { id: "sessions", label: "Old sessions", component: SessionCleanupPage },
  { id: "updates", label: "Updates", component: UpdatesPage },
];
