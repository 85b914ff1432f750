//! The user's MCP servers and their secrets. A server without secrets lives where the Copilot CLI keeps
//! user-level servers, its `mcp-config.json` (`mcp.config.*`), shared with the terminal CLI. A server with
//! a value the user marked secret never goes there: the pinned CLI lets its config file win over a
//! session's `mcpServers` of the same name, so a secret could not be added on top. Such a server is kept
//! by the app, whole, in the OS keychain (its settings under `mcp:servers`, each secret value under
//! `mcp:<server>:<env|header>:<name>`), and every session the app creates or resumes gets it through the
//! session's `mcpServers` ([`SessionService::set_session_mcp_servers`]). No file the app writes holds a
//! secret. UI-free; commands wrap it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::keychain::{KeychainError, SecretKey, TokenStore};
use crate::engine::mcp::{
    self, DiscoveredServer, McpEntry, McpServerDraft, McpServerSpec, McpService, McpUserServer, SessionMcpServers,
};
use crate::engine::{EngineError, SessionService};
use crate::secret::Sensitive;

/// Why a change to the MCP servers failed.
#[derive(Debug, thiserror::Error)]
pub enum McpSettingsError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("Enter a value for the secret \"{0}\": there is none in the keychain yet.")]
    MissingSecret(String),
}

impl McpSettingsError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Engine(e) => e.code(),
            Self::Keychain(e) => e.code(),
            Self::MissingSecret(_) => "invalid_request",
        }
    }
}

pub type McpSettingsResult<T> = Result<T, McpSettingsError>;

/// What the "Tools & MCP" page shows.
#[derive(Clone, Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpOverview {
    /// The user-level servers the page edits, from the CLI's config file.
    pub user: Vec<McpUserServer>,
    /// Every server the CLI knows for the folder asked about, wherever it comes from.
    pub discovered: Vec<DiscoveredServer>,
    /// Why the CLI could not list them for that folder (the user's servers are still shown).
    pub discover_error: Option<String>,
}

/// A server the app keeps: its settings with the secret values blanked, and whether it is on.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct AppServer {
    spec: McpServerSpec,
    enabled: bool,
}

/// Server name → server, for the servers the app keeps.
type AppServers = BTreeMap<String, AppServer>;

/// Which Copilot home the servers belong with: entries are `mcp:<scope>:servers` and
/// `mcp:<scope>:<server>:<env|header>:<name>`, so two Copilot homes (two test homes, say) never share them.
#[derive(Clone, Debug)]
struct Scope(String);

impl Scope {
    fn index_key(&self) -> SecretKey {
        SecretKey::Mcp { entry: format!("{}:servers", self.0) }
    }

    fn value_key(&self, server: &str, group: &str, name: &str) -> SecretKey {
        SecretKey::Mcp { entry: format!("{}:{server}:{group}:{name}", self.0) }
    }
}

/// The user-level MCP servers, their secrets, and what sessions get of them.
#[derive(Clone)]
pub struct McpSettings {
    mcp: McpService,
    sessions: SessionService,
    store: TokenStore,
    scope: Scope,
}

impl McpSettings {
    /// `scope` names the Copilot home the servers go with (any stable text without secrets).
    pub fn new(sessions: SessionService, store: TokenStore, scope: impl Into<String>) -> Self {
        Self { mcp: McpService::new(sessions.clone()), sessions, store, scope: Scope(scope.into()) }
    }

    pub fn service(&self) -> &McpService {
        &self.mcp
    }

    async fn app_servers(&self) -> McpSettingsResult<AppServers> {
        let stored = self.store.load(&self.scope.index_key()).await?;
        Ok(stored.and_then(|s| serde_json::from_str(s.expose()).ok()).unwrap_or_default())
    }

    async fn save_app_servers(&self, servers: &AppServers) -> McpSettingsResult<()> {
        let text = serde_json::to_string(servers).unwrap_or_else(|_| "{}".into());
        Ok(self.store.store(&self.scope.index_key(), Sensitive::new(text)).await?)
    }

    /// The user's servers (secrets by name only) and every server the CLI knows for `working_directory`.
    pub async fn overview(&self, working_directory: &str) -> McpSettingsResult<McpOverview> {
        let configs = self.mcp.user_configs().await?;
        let (discovered, discover_error) = match self.mcp.discover(working_directory).await {
            Ok(found) => (found, None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        let mut user: Vec<McpUserServer> = configs
            .iter()
            .map(|(name, config)| McpUserServer {
                name: name.clone(),
                enabled: discovered.iter().find(|d| &d.name == name && d.source == "user").is_none_or(|d| d.enabled),
                spec: mcp::spec_from_cli(config, None),
                stored_in: "cli".into(),
            })
            .collect();
        for (name, server) in self.app_servers().await? {
            user.push(McpUserServer { name, enabled: server.enabled, spec: server.spec, stored_in: "app".into() });
        }
        Ok(McpOverview { user, discovered, discover_error })
    }

    /// Add a server, or change one (a new name renames it). A server with a secret is kept by the app (see
    /// the module doc); one without goes to the CLI's config. A secret left empty keeps the value stored before.
    pub async fn save(&self, draft: McpServerDraft) -> McpSettingsResult<()> {
        let configs = self.mcp.user_configs().await?;
        let mut app = self.app_servers().await?;
        let existing: Vec<String> = configs.keys().chain(app.keys()).cloned().collect();
        mcp::validate(&draft, &existing)?;
        let name = draft.name.trim().to_owned();
        let original = draft.original_name.clone().filter(|o| existing.contains(o));
        let was_app = original.as_ref().and_then(|o| app.get(o)).cloned();
        let group = draft.spec.entry_kind();
        let has_secrets = entries(&draft.spec).iter().any(|e| e.secret);
        let mut kept_secrets = Vec::new();
        if has_secrets {
            // Store (or carry over) every secret value before anything else changes.
            for entry in entries(&draft.spec).iter().filter(|e| e.secret) {
                let key = entry.name.trim();
                let target = self.scope.value_key(&name, group, key);
                if !entry.value.is_empty() {
                    self.store.store(&target, Sensitive::new(entry.value.clone())).await?;
                } else {
                    let old = original.as_deref().filter(|_| {
                        was_app.as_ref().is_some_and(|w| entries(&w.spec).iter().any(|e| e.secret && e.name == key))
                    });
                    let value = match old {
                        Some(old) => self.store.load(&self.scope.value_key(old, group, key)).await?,
                        None => None,
                    };
                    let Some(value) = value else { return Err(McpSettingsError::MissingSecret(key.to_owned())) };
                    if old != Some(name.as_str()) {
                        self.store.store(&target, value).await?;
                    }
                }
                kept_secrets.push(key.to_owned());
            }
        }
        // Out of its old place.
        if let Some(old) = original.as_deref() {
            if let Some(old_server) = app.remove(old) {
                for entry in entries(&old_server.spec).iter().filter(|e| e.secret) {
                    let still = old == name && kept_secrets.contains(&entry.name);
                    if !still {
                        self.store
                            .delete(&self.scope.value_key(old, old_server.spec.entry_kind(), &entry.name))
                            .await?;
                    }
                }
            } else if !has_secrets && old == name {
                // Stays in the CLI's config: an update, below.
            } else {
                self.mcp.remove(old).await?;
            }
        }
        if has_secrets {
            let enabled = was_app.map(|w| w.enabled).unwrap_or(true);
            app.insert(name.clone(), AppServer { spec: blank_secrets(&draft.spec), enabled });
        } else if original.as_deref() == Some(name.as_str()) && configs.contains_key(&name) {
            self.mcp.update(&name, &draft.spec).await?;
        } else {
            self.mcp.add(&name, &draft.spec).await?;
        }
        self.save_app_servers(&app).await?;
        tracing::info!(server = %name, kept_by_app = has_secrets, "MCP server saved");
        self.refresh_sessions().await
    }

    /// Remove a user-level server (and its secrets).
    pub async fn remove(&self, name: &str) -> McpSettingsResult<()> {
        let mut app = self.app_servers().await?;
        if let Some(server) = app.remove(name) {
            for entry in entries(&server.spec).iter().filter(|e| e.secret) {
                self.store.delete(&self.scope.value_key(name, server.spec.entry_kind(), &entry.name)).await?;
            }
            self.save_app_servers(&app).await?;
        } else {
            self.mcp.remove(name).await?;
        }
        tracing::info!(server = name, "MCP server removed");
        self.refresh_sessions().await
    }

    pub async fn set_enabled(&self, name: &str, enabled: bool) -> McpSettingsResult<()> {
        let mut app = self.app_servers().await?;
        if let Some(server) = app.get_mut(name) {
            server.enabled = enabled;
            self.save_app_servers(&app).await?;
        } else {
            self.mcp.set_enabled(name, enabled).await?;
        }
        self.refresh_sessions().await
    }

    /// Give new and resumed sessions every enabled server the app keeps, with its secrets.
    pub async fn refresh_sessions(&self) -> McpSettingsResult<()> {
        let mut servers = SessionMcpServers::new();
        for (name, server) in self.app_servers().await?.into_iter().filter(|(_, s)| s.enabled) {
            let group = server.spec.entry_kind();
            let mut values = HashMap::new();
            for entry in entries(&server.spec).iter().filter(|e| e.secret) {
                if let Some(value) = self.store.load(&self.scope.value_key(&name, group, &entry.name)).await? {
                    values.insert((group.to_owned(), entry.name.clone()), value);
                }
            }
            if let Some(full) = mcp::session_config(&mcp::cli_config(&server.spec), &values) {
                servers.insert(name, full);
            }
        }
        self.sessions.set_session_mcp_servers(servers);
        Ok(())
    }
}

/// The spec with every secret's value emptied (what the keychain's server list holds).
fn blank_secrets(spec: &McpServerSpec) -> McpServerSpec {
    let blank = |entries: &[McpEntry]| -> Vec<McpEntry> {
        entries
            .iter()
            .map(|e| McpEntry {
                name: e.name.trim().to_owned(),
                value: if e.secret { String::new() } else { e.value.clone() },
                secret: e.secret,
            })
            .collect()
    };
    // What the CLI would store for it (trimmed, `["*"]` for no filter), with the secrets added back blank.
    match (mcp::spec_from_cli(&mcp::cli_config(spec), None), spec) {
        (McpServerSpec::Local { command, args, working_directory, tools, .. }, McpServerSpec::Local { env, .. }) => {
            McpServerSpec::Local { command, args, working_directory, env: blank(env), tools }
        }
        (McpServerSpec::Http { url, tools, .. }, McpServerSpec::Http { headers, .. }) => {
            McpServerSpec::Http { url, headers: blank(headers), tools }
        }
        _ => spec.clone(),
    }
}

fn entries(spec: &McpServerSpec) -> &[McpEntry] {
    match spec {
        McpServerSpec::Local { env, .. } => env,
        McpServerSpec::Http { headers, .. } => headers,
    }
}
