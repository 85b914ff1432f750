//! MCP servers: what the Copilot CLI knows (`mcp.discover`), the user-level servers it keeps in its
//! own config file (`mcp.config.*`), and a session's running servers (`session.mcp.*`).
//!
//! Owns validation of a server form and the split of a server into what the CLI's config file may
//! hold and what it must not (values marked secret). It never stores a secret: the caller keeps
//! those (the keychain, `auth::mcp_secrets`) and hands them back to sessions through
//! [`super::SessionService::set_session_mcp_servers`]. Nothing here logs an environment value or header.

use std::collections::{BTreeMap, HashMap, HashSet};

use github_copilot_sdk::IndexMap;
use github_copilot_sdk::types::{McpHttpServerConfig, McpServerConfig, McpStdioServerConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{EngineError, EngineResult};
use super::sessions::SessionService;
use crate::secret::Sensitive;

/// One environment variable (local server) or header (HTTP server). A secret's value is never read
/// back: `value` is empty and `secret` says where it lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpEntry {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

/// How the CLI reaches a server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum McpServerSpec {
    /// A program the CLI starts and talks to over stdio.
    Local {
        command: String,
        args: Vec<String>,
        working_directory: Option<String>,
        env: Vec<McpEntry>,
        /// Tools the model may use; `["*"]` for all.
        tools: Vec<String>,
    },
    /// A server at an http(s) URL.
    Http { url: String, headers: Vec<McpEntry>, tools: Vec<String> },
}

impl McpServerSpec {
    fn entries(&self) -> &[McpEntry] {
        match self {
            Self::Local { env, .. } => env,
            Self::Http { headers, .. } => headers,
        }
    }

    /// Which group a secret belongs to in the keychain's names: `env` or `header`.
    pub fn entry_kind(&self) -> &'static str {
        match self {
            Self::Local { .. } => "env",
            Self::Http { .. } => "header",
        }
    }
}

/// A user-level server as the Settings page edits it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpUserServer {
    pub name: String,
    pub enabled: bool,
    pub spec: McpServerSpec,
    /// Where it is kept: `cli` (the Copilot CLI's `mcp-config.json`, shared with the terminal CLI) or
    /// `app` (a server with secrets: Copilot Desktop keeps it in the OS keychain and hands it to each
    /// session it starts or resumes).
    pub stored_in: String,
}

/// A server the CLI knows for a folder, wherever it comes from.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredServer {
    pub name: String,
    /// `user`, `workspace`, `plugin`, `builtin`, `managed`, `account`, ...
    pub source: String,
    /// The plugin that brought it, for `plugin`.
    pub plugin: Option<String>,
    /// `stdio`, `http`, `sse`, ...
    pub transport: Option<String>,
    pub enabled: bool,
}

/// A server's state in one session.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionMcpServer {
    pub name: String,
    /// `connected`, `pending`, `failed`, `needs-auth`, `stopped`, `disabled`, `not_configured`.
    pub status: String,
    pub error: Option<String>,
    pub source: Option<String>,
}

/// A session's MCP servers, and whether the CLI may run servers other than GitHub's at all.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionMcp {
    pub servers: Vec<SessionMcpServer>,
    /// `false` when the account's Copilot policy turns third-party MCP servers off (the CLI then starts none
    /// of the user's); `None` when the CLI does not say.
    pub third_party_enabled: Option<bool>,
}

/// One tool of a running server.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpTool {
    pub name: String,
    pub description: Option<String>,
}

/// What the Settings form sends: a new server (`original_name: None`) or an edit of one.
#[derive(Clone, Debug, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpServerDraft {
    pub original_name: Option<String>,
    pub name: String,
    pub spec: McpServerSpec,
}

/// The names of one server's secrets, by group (`env` or `header`); the values are in the keychain.
pub type SecretNames = BTreeMap<String, Vec<String>>;

/// Check a draft before anything is written. `existing` are the user-level servers' names now.
pub fn validate(draft: &McpServerDraft, existing: &[String]) -> EngineResult<()> {
    let invalid = |m: String| Err(EngineError::InvalidRequest(m));
    let name = draft.name.trim();
    if name.is_empty() {
        return invalid("Give the server a name.".into());
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return invalid(format!(
            "The name \"{name}\" can only have letters, digits, '-', '_' and '.' (the model sees it in tool names)."
        ));
    }
    let renamed_from = draft.original_name.as_deref();
    if renamed_from != Some(name) && existing.iter().any(|e| e == name) {
        return invalid(format!("A server named \"{name}\" already exists. Choose another name, or edit that one."));
    }
    match &draft.spec {
        McpServerSpec::Local { command, .. } => {
            if command.trim().is_empty() {
                return invalid("Enter the command that starts the server.".into());
            }
        }
        McpServerSpec::Http { url, .. } => {
            let parsed = url::Url::parse(url.trim());
            if !matches!(parsed.as_ref().map(|u| u.scheme()), Ok("http" | "https")) {
                return invalid(format!("\"{}\" is not an http:// or https:// URL.", url.trim()));
            }
        }
    }
    let mut seen = HashSet::new();
    let what = match draft.spec {
        McpServerSpec::Local { .. } => "environment variable",
        McpServerSpec::Http { .. } => "header",
    };
    for entry in draft.spec.entries() {
        let key = entry.name.trim();
        if key.is_empty() {
            return invalid(format!("Every {what} needs a name."));
        }
        if !seen.insert(key.to_owned()) {
            return invalid(format!("The {what} \"{key}\" is listed twice."));
        }
    }
    Ok(())
}

/// What the CLI's config file gets for `spec`: everything but the secret values (a secret entry is
/// left out entirely, so the file never holds it, not even as a placeholder).
pub fn cli_config(spec: &McpServerSpec) -> Value {
    let public = |entries: &[McpEntry]| -> serde_json::Map<String, Value> {
        entries.iter().filter(|e| !e.secret).map(|e| (e.name.trim().to_owned(), json!(e.value))).collect()
    };
    let tools = |tools: &[String]| -> Vec<String> {
        let tools: Vec<String> = tools.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if tools.is_empty() { vec!["*".into()] } else { tools }
    };
    match spec {
        McpServerSpec::Local { command, args, working_directory, env, tools: filter } => {
            let mut config = json!({
                "type": "local",
                "command": command.trim(),
                "args": args,
                "env": public(env),
                "tools": tools(filter),
            });
            if let Some(cwd) = working_directory.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                config["cwd"] = json!(cwd);
            }
            config
        }
        McpServerSpec::Http { url, headers, tools: filter } => json!({
            "type": "http",
            "url": url.trim(),
            "headers": public(headers),
            "tools": tools(filter),
        }),
    }
}

/// A server as the CLI's config file holds it, with the names of its secrets (kept elsewhere) added
/// back as entries marked secret.
pub fn spec_from_cli(config: &Value, secrets: Option<&SecretNames>) -> McpServerSpec {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let entries = |v: Option<&Value>, group: &str| -> Vec<McpEntry> {
        let mut out: Vec<McpEntry> = v
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| McpEntry {
                        name: k.clone(),
                        value: v.as_str().unwrap_or_default().to_owned(),
                        secret: false,
                    })
                    .collect()
            })
            .unwrap_or_default();
        for name in secrets.and_then(|s| s.get(group)).into_iter().flatten() {
            if !out.iter().any(|e| &e.name == name) {
                out.push(McpEntry { name: name.clone(), value: String::new(), secret: true });
            }
        }
        out
    };
    let kind = config.get("type").and_then(Value::as_str).unwrap_or("local");
    if matches!(kind, "http" | "sse") {
        McpServerSpec::Http {
            url: config.get("url").and_then(Value::as_str).unwrap_or_default().to_owned(),
            headers: entries(config.get("headers"), "header"),
            tools: strings(config.get("tools")),
        }
    } else {
        McpServerSpec::Local {
            command: config.get("command").and_then(Value::as_str).unwrap_or_default().to_owned(),
            args: strings(config.get("args")),
            working_directory: config.get("cwd").and_then(Value::as_str).map(str::to_owned),
            env: entries(config.get("env"), "env"),
            tools: strings(config.get("tools")),
        }
    }
}

/// The full configuration a session gets for a server whose secrets were left out of the CLI's file:
/// the file's part plus the secret values, by group and name.
pub fn session_config(
    config: &Value,
    secrets: &HashMap<(String, String), Sensitive<String>>,
) -> Option<McpServerConfig> {
    let mut full: McpServerConfig = serde_json::from_value(config.clone()).ok()?;
    match &mut full {
        McpServerConfig::Stdio(McpStdioServerConfig { env, .. }) => {
            for ((group, name), value) in secrets {
                if group == "env" {
                    env.insert(name.clone(), value.expose().clone());
                }
            }
        }
        McpServerConfig::Http(McpHttpServerConfig { headers, .. })
        | McpServerConfig::Sse(McpHttpServerConfig { headers, .. }) => {
            for ((group, name), value) in secrets {
                if group == "header" {
                    headers.insert(name.clone(), value.expose().clone());
                }
            }
        }
        _ => return None,
    }
    Some(full)
}

/// The CLI's MCP methods, on whatever CLI the engine is connected to.
#[derive(Clone)]
pub struct McpService {
    sessions: SessionService,
}

impl McpService {
    pub fn new(sessions: SessionService) -> Self {
        Self { sessions }
    }

    async fn call(&self, method: &str, params: Value) -> EngineResult<Value> {
        Ok(self.sessions.client()?.call(method, Some(params)).await?)
    }

    /// Every server the CLI would load for `working_directory`, with where it comes from.
    pub async fn discover(&self, working_directory: &str) -> EngineResult<Vec<DiscoveredServer>> {
        let params =
            if working_directory.is_empty() { json!({}) } else { json!({ "workingDirectory": working_directory }) };
        let value = self.call("mcp.discover", params).await?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(value
            .get("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| DiscoveredServer {
                name: text(s, "name").unwrap_or_default(),
                source: text(s, "source").unwrap_or_else(|| "unknown".into()),
                plugin: text(s, "sourcePlugin"),
                transport: text(s, "type"),
                enabled: s.get("enabled").and_then(Value::as_bool).unwrap_or(true),
            })
            .collect())
    }

    /// The user-level servers as the CLI's config file holds them (name → raw config).
    pub async fn user_configs(&self) -> EngineResult<BTreeMap<String, Value>> {
        let value = self.call("mcp.config.list", json!({})).await?;
        Ok(value
            .get("servers")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    /// Write a new user-level server (only what [`cli_config`] lets through).
    pub async fn add(&self, name: &str, spec: &McpServerSpec) -> EngineResult<()> {
        self.call("mcp.config.add", json!({ "name": name, "config": cli_config(spec) })).await?;
        Ok(())
    }

    pub async fn update(&self, name: &str, spec: &McpServerSpec) -> EngineResult<()> {
        self.call("mcp.config.update", json!({ "name": name, "config": cli_config(spec) })).await?;
        Ok(())
    }

    pub async fn remove(&self, name: &str) -> EngineResult<()> {
        self.call("mcp.config.remove", json!({ "name": name })).await?;
        Ok(())
    }

    pub async fn set_enabled(&self, name: &str, enabled: bool) -> EngineResult<()> {
        let method = if enabled { "mcp.config.enable" } else { "mcp.config.disable" };
        self.call(method, json!({ "names": [name] })).await?;
        Ok(())
    }

    /// The servers of one session and their state (the session is resumed when it is not open).
    pub async fn session_servers(&self, session_id: &str) -> EngineResult<SessionMcp> {
        let value = self.sessions.call_in_session(session_id, "session.mcp.list", json!({})).await?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let third_party_enabled = value.pointer("/host/mcp3pEnabled").and_then(Value::as_bool);
        let servers = value
            .get("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| SessionMcpServer {
                name: text(s, "name").unwrap_or_default(),
                status: text(s, "status").unwrap_or_else(|| "unknown".into()),
                error: text(s, "error"),
                source: text(s, "source"),
            })
            .collect();
        Ok(SessionMcp { servers, third_party_enabled })
    }

    pub async fn session_tools(&self, session_id: &str, server: &str) -> EngineResult<Vec<McpTool>> {
        let value =
            self.sessions.call_in_session(session_id, "session.mcp.listTools", json!({ "serverName": server })).await?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(value
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| McpTool { name: text(t, "name").unwrap_or_default(), description: text(t, "description") })
            .collect())
    }

    /// `start`, `stop` or `restart` one server of a session.
    pub async fn control(&self, session_id: &str, server: &str, action: McpAction) -> EngineResult<()> {
        let method = match action {
            McpAction::Start => "session.mcp.startServer",
            McpAction::Stop => "session.mcp.stopServer",
            McpAction::Restart => "session.mcp.restartServer",
        };
        self.sessions.call_in_session(session_id, method, json!({ "serverName": server })).await?;
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum McpAction {
    Start,
    Stop,
    Restart,
}

/// Servers passed to every new or resumed session, on top of the CLI's own config.
pub type SessionMcpServers = IndexMap<String, McpServerConfig>;

#[cfg(test)]
mod tests {
    use super::*;

    fn local(command: &str, env: Vec<McpEntry>) -> McpServerSpec {
        McpServerSpec::Local { command: command.into(), args: vec![], working_directory: None, env, tools: vec![] }
    }

    fn draft(name: &str, spec: McpServerSpec) -> McpServerDraft {
        McpServerDraft { original_name: None, name: name.into(), spec }
    }

    fn message(r: EngineResult<()>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn validation_says_what_is_wrong() {
        assert!(message(validate(&draft("a", local(" ", vec![])), &[])).contains("command"));
        let http = |url: &str| McpServerSpec::Http { url: url.into(), headers: vec![], tools: vec![] };
        assert!(message(validate(&draft("a", http("ftp://x")), &[])).contains("not an http"));
        assert!(message(validate(&draft("a", http("nonsense")), &[])).contains("not an http"));
        assert!(validate(&draft("a", http("https://example.com/mcp")), &[]).is_ok());
        assert!(message(validate(&draft("a", local("x", vec![])), &["a".into()])).contains("already exists"));
        let edit = McpServerDraft { original_name: Some("a".into()), ..draft("a", local("x", vec![])) };
        assert!(validate(&edit, &["a".into()]).is_ok());
        assert!(message(validate(&draft("a b", local("x", vec![])), &[])).contains("letters"));
        let twice = vec![
            McpEntry { name: "K".into(), value: "1".into(), secret: false },
            McpEntry { name: "K".into(), value: "2".into(), secret: true },
        ];
        assert!(message(validate(&draft("a", local("x", twice)), &[])).contains("twice"));
    }

    #[test]
    fn the_cli_config_leaves_secrets_out() {
        let spec = local(
            "srv",
            vec![
                McpEntry { name: "PLAIN".into(), value: "p".into(), secret: false },
                McpEntry { name: "TOKEN".into(), value: "s3cr3t-value".into(), secret: true },
            ],
        );
        let config = cli_config(&spec);
        assert_eq!(config["env"], json!({"PLAIN": "p"}));
        assert!(!config.to_string().contains("s3cr3t-value"));
        assert_eq!(config["tools"], json!(["*"]));
        let names = SecretNames::from([("env".to_owned(), vec!["TOKEN".to_owned()])]);
        let back = spec_from_cli(&config, Some(&names));
        let McpServerSpec::Local { env, .. } = back else { panic!("local") };
        assert_eq!(env[1], McpEntry { name: "TOKEN".into(), value: String::new(), secret: true });
        let secrets = HashMap::from([(("env".to_owned(), "TOKEN".to_owned()), Sensitive::new("v".to_owned()))]);
        let McpServerConfig::Stdio(full) = session_config(&config, &secrets).unwrap() else { panic!("stdio") };
        assert_eq!(full.env.get("TOKEN").map(String::as_str), Some("v"));
        assert_eq!(full.env.get("PLAIN").map(String::as_str), Some("p"));
    }
}
