//! `StandingRules`: the permission rules that outlive one session, read back from where they
//! live and changed there. The CLI keeps project ("location") approvals in
//! `$COPILOT_HOME/permissions-config.json`, allowed and denied URLs in `settings.json` and trusted
//! folders in `config.json`; deny rules for tools have no user-level store in the CLI (its
//! `permissions.deny` setting is managed-only), so the app keeps them in its own file and hands
//! them to every session through `session.permissions.configure`. Owns those files' formats; knows
//! nothing about windows.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use github_copilot_sdk::session::Session;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{EngineError, EngineResult};
use super::sessions::SessionService;
use super::supervisor::{CliSupervisor, CliTarget, ConnectionState, ConnectionTarget};

/// A rule as the CLI matches it: `shell(npm test)`, `write`, `url(example.com)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ToolRule {
    pub kind: String,
    pub argument: Option<String>,
}

impl ToolRule {
    pub fn label(&self) -> String {
        match &self.argument {
            Some(argument) => format!("{}({argument})", self.kind),
            None => self.kind.clone(),
        }
    }
}

/// The kinds of rule a person can add by hand.
pub const RULE_KINDS: &[&str] = &["shell", "write", "read", "url", "memory"];

/// One approval the CLI stored for a project folder (git root or working directory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProjectApproval {
    /// The location key: the git root or folder the approval holds in.
    pub location: String,
    /// What it allows, as the CLI writes rules: `shell(npm test)`, `write`, `server(tool)`.
    pub label: String,
    /// The stored approval itself, handed back unchanged to remove it.
    #[specta(type = specta_typescript::Unknown)]
    pub approval: Value,
}

/// Every standing rule and where each kind is kept.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RulesOverview {
    pub project_approvals: Vec<ProjectApproval>,
    pub allowed_urls: Vec<String>,
    pub denied_urls: Vec<String>,
    pub trusted_folders: Vec<String>,
    pub deny_rules: Vec<ToolRule>,
    /// `$COPILOT_HOME/permissions-config.json`
    pub project_file: String,
    /// `$COPILOT_HOME/settings.json`
    pub settings_file: String,
    /// `$COPILOT_HOME/config.json`
    pub config_file: String,
    /// The app's own file of deny rules.
    pub deny_file: String,
}

/// What a person adds by hand as a project approval.
#[derive(Clone, Debug, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewProjectApproval {
    pub location: String,
    /// "shell", "read", "write" or "memory".
    pub kind: String,
    /// For "shell": the command as the CLI identifies it (`npm test`, `git status`).
    pub argument: Option<String>,
}

#[derive(Clone)]
pub struct StandingRules {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` when the CLI runs elsewhere (a server): its files are not ours to read.
    copilot_home: Option<PathBuf>,
    deny_file: PathBuf,
    sessions: SessionService,
    /// Which CLI the app talks to now: a server's files are on another machine.
    supervisor: CliSupervisor,
    /// One change at a time: every change is read-modify-write of a file.
    writing: Mutex<()>,
}

impl StandingRules {
    /// Rules of the CLI `target` runs (its `COPILOT_HOME`), deny rules kept in `deny_file`.
    /// Registers itself with `sessions` so every created or resumed session gets the deny rules.
    pub fn new(target: &CliTarget, deny_file: PathBuf, sessions: SessionService, supervisor: CliSupervisor) -> Self {
        let copilot_home = match target {
            CliTarget::Bundled(cli) => super::search::session_state_dir(cli).parent().map(Path::to_path_buf),
            CliTarget::External(_) => None,
        };
        let rules =
            Self { inner: Arc::new(Inner { copilot_home, deny_file, sessions, supervisor, writing: Mutex::new(()) }) };
        let hook = rules.clone();
        rules.inner.sessions.add_session_setup(Arc::new(move |session: Arc<Session>| {
            let hook = hook.clone();
            Box::pin(async move {
                if let Err(e) = hook.apply_deny_rules(&session).await {
                    tracing::warn!(session = %session.id(), error = %e, "could not apply the deny rules");
                }
            })
        }));
        rules
    }

    fn home(&self) -> EngineResult<&Path> {
        let served_elsewhere = serves_elsewhere(&self.inner.supervisor.state());
        self.inner.copilot_home.as_deref().filter(|_| !served_elsewhere).ok_or_else(|| {
            EngineError::InvalidRequest(
                "The Copilot CLI runs as a server elsewhere: its standing rules live on that machine.".into(),
            )
        })
    }

    fn project_file(&self) -> EngineResult<PathBuf> {
        Ok(self.home()?.join("permissions-config.json"))
    }
    fn settings_file(&self) -> EngineResult<PathBuf> {
        Ok(self.home()?.join("settings.json"))
    }
    fn config_file(&self) -> EngineResult<PathBuf> {
        Ok(self.home()?.join("config.json"))
    }

    /// Everything, read from the files now.
    pub fn overview(&self) -> EngineResult<RulesOverview> {
        let project = read_json(&self.project_file()?)?.value;
        let settings = read_json(&self.settings_file()?)?.value;
        let config = read_json(&self.config_file()?)?.value;
        let mut project_approvals = Vec::new();
        if let Some(locations) = project.get("locations").and_then(Value::as_object) {
            for (location, entry) in locations {
                for approval in entry.get("tool_approvals").and_then(Value::as_array).into_iter().flatten() {
                    project_approvals.push(ProjectApproval {
                        location: location.clone(),
                        label: approval_label(approval),
                        approval: approval.clone(),
                    });
                }
            }
        }
        Ok(RulesOverview {
            project_approvals,
            allowed_urls: strings(&settings, "allowedUrls"),
            denied_urls: strings(&settings, "deniedUrls"),
            trusted_folders: strings(&config, "trustedFolders"),
            deny_rules: self.deny_rules()?,
            project_file: self.project_file()?.display().to_string(),
            settings_file: self.settings_file()?.display().to_string(),
            config_file: self.config_file()?.display().to_string(),
            deny_file: self.inner.deny_file.display().to_string(),
        })
    }

    /// Allow something in a project folder from now on (sessions started there after this).
    pub fn add_project_approval(&self, request: NewProjectApproval) -> EngineResult<()> {
        let location = request.location.trim();
        if location.is_empty() || !Path::new(location).is_absolute() {
            return Err(EngineError::InvalidRequest("The project folder must be a full path.".into()));
        }
        let argument = request.argument.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let approval = match (request.kind.as_str(), argument) {
            ("shell", Some(command)) => json!({"kind": "commands", "commandIdentifiers": [command]}),
            ("shell", None) => {
                return Err(EngineError::InvalidRequest("Say which command to allow, for example `npm test`.".into()));
            }
            (kind @ ("read" | "write" | "memory"), _) => json!({"kind": kind}),
            (other, _) => {
                return Err(EngineError::InvalidRequest(format!(
                    "\"{other}\" cannot be allowed for a project; choose shell, read, write or memory."
                )));
            }
        };
        let _one = self.inner.writing.lock().unwrap();
        let path = self.project_file()?;
        let mut file = read_json(&path)?;
        let approvals = file
            .object()?
            .entry("locations")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| malformed(&path))?
            .entry(location.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| malformed(&path))?
            .entry("tool_approvals")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .ok_or_else(|| malformed(&path))?;
        if !approvals.contains(&approval) {
            approvals.push(approval);
        }
        file.write(&path)
    }

    /// Forget one stored project approval. Sessions started there afterwards ask again.
    pub fn remove_project_approval(&self, location: &str, approval: &Value) -> EngineResult<()> {
        let _one = self.inner.writing.lock().unwrap();
        let path = self.project_file()?;
        let mut file = read_json(&path)?;
        let locations = file.object()?.get_mut("locations").and_then(Value::as_object_mut);
        let Some(entry) = locations.and_then(|l| l.get_mut(location)) else {
            return Err(not_there(location));
        };
        let Some(approvals) = entry.get_mut("tool_approvals").and_then(Value::as_array_mut) else {
            return Err(not_there(location));
        };
        let before = approvals.len();
        approvals.retain(|a| a != approval);
        if approvals.len() == before {
            return Err(not_there(location));
        }
        file.write(&path)
    }

    /// Add a URL or domain to `allowedUrls` (allowed) or `deniedUrls` in the CLI's settings.
    pub fn add_url(&self, pattern: &str, allowed: bool) -> EngineResult<()> {
        let pattern = pattern.trim();
        if pattern.is_empty() || pattern.chars().any(char::is_whitespace) {
            return Err(EngineError::InvalidRequest(
                "Enter one URL or domain without spaces, for example `docs.github.com`.".into(),
            ));
        }
        self.edit_list(&self.settings_file()?, if allowed { "allowedUrls" } else { "deniedUrls" }, |list| {
            if !list.iter().any(|v| v == pattern) {
                list.push(json!(pattern));
            }
            true
        })
    }

    pub fn remove_url(&self, pattern: &str, allowed: bool) -> EngineResult<()> {
        self.edit_list(&self.settings_file()?, if allowed { "allowedUrls" } else { "deniedUrls" }, |list| {
            let before = list.len();
            list.retain(|v| v != pattern);
            list.len() != before
        })
    }

    /// Trust a folder, through the CLI (`session.permissions.folderTrust.addTrusted` of an open
    /// session; the CLI writes `trustedFolders` in its config.json).
    pub async fn trust_folder(&self, session_id: &str, folder: &str) -> EngineResult<()> {
        let folder = folder.trim();
        if folder.is_empty() || !Path::new(folder).is_absolute() {
            return Err(EngineError::InvalidRequest("The folder must be a full path.".into()));
        }
        let session = self.inner.sessions.session_handle(session_id).await?;
        let params = json!({"sessionId": session_id, "path": folder});
        session.client().call("session.permissions.folderTrust.addTrusted", Some(params)).await?;
        Ok(())
    }

    /// Whether the CLI trusts `folder` now (`session.permissions.folderTrust.isTrusted`).
    pub async fn is_trusted(&self, session_id: &str, folder: &str) -> EngineResult<bool> {
        let session = self.inner.sessions.session_handle(session_id).await?;
        let params = json!({"sessionId": session_id, "path": folder});
        let answer = session.client().call("session.permissions.folderTrust.isTrusted", Some(params)).await?;
        Ok(answer.get("trusted").and_then(Value::as_bool).unwrap_or(false))
    }

    /// Stop trusting a folder (the CLI asks again before working in it).
    pub fn remove_trusted_folder(&self, folder: &str) -> EngineResult<()> {
        self.edit_list(&self.config_file()?, "trustedFolders", |list| {
            let before = list.len();
            list.retain(|v| v != folder);
            list.len() != before
        })
    }

    fn edit_list(&self, path: &Path, key: &str, change: impl FnOnce(&mut Vec<Value>) -> bool) -> EngineResult<()> {
        let _one = self.inner.writing.lock().unwrap();
        let mut file = read_json(path)?;
        let list = file.object()?.entry(key).or_insert_with(|| json!([]));
        let list = list.as_array_mut().ok_or_else(|| malformed(path))?;
        if !change(list) {
            return Err(EngineError::InvalidRequest(format!("That entry is no longer in {}.", path.display())));
        }
        file.write(path)
    }

    /// The deny rules the app applies to every session.
    pub fn deny_rules(&self) -> EngineResult<Vec<ToolRule>> {
        match std::fs::read_to_string(&self.inner.deny_file) {
            Ok(text) => serde_json::from_str::<DenyFile>(&text).map(|f| f.denied).map_err(|e| {
                EngineError::InvalidRequest(format!("{} is not a deny-rules file: {e}", self.inner.deny_file.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error(&self.inner.deny_file, e)),
        }
    }

    /// Deny `rule` in every session from now on, open ones included.
    pub async fn add_deny_rule(&self, rule: ToolRule) -> EngineResult<()> {
        let rule = validate_rule(rule)?;
        self.change_deny_rules(|rules| {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        })?;
        self.reapply().await;
        Ok(())
    }

    pub async fn remove_deny_rule(&self, rule: ToolRule) -> EngineResult<()> {
        let mut found = false;
        self.change_deny_rules(|rules| {
            let before = rules.len();
            rules.retain(|r| r != &rule);
            found = rules.len() != before;
        })?;
        if !found {
            return Err(EngineError::InvalidRequest(format!("{} is no longer a deny rule.", rule.label())));
        }
        self.reapply().await;
        Ok(())
    }

    fn change_deny_rules(&self, change: impl FnOnce(&mut Vec<ToolRule>)) -> EngineResult<()> {
        let _one = self.inner.writing.lock().unwrap();
        let mut rules = self.deny_rules()?;
        change(&mut rules);
        let text = serde_json::to_string_pretty(&DenyFile { denied: rules }).expect("rules serialize");
        write_atomically(&self.inner.deny_file, &text)
    }

    /// Hand the deny rules to the open sessions (their session-wide approvals start over: the CLI
    /// replaces a session's rule set as a whole).
    async fn reapply(&self) {
        for id in self.inner.sessions.live_ids() {
            match self.inner.sessions.session_handle(&id).await {
                Ok(session) => {
                    if let Err(e) = self.apply_deny_rules(&session).await {
                        tracing::warn!(session = %id, error = %e, "could not apply the deny rules");
                    }
                }
                Err(e) => tracing::debug!(session = %id, error = %e, "session not reachable for deny rules"),
            }
        }
    }

    /// Hand a session the deny rules, and the allowed URLs of the CLI's settings.json: a CLI
    /// running for an app (1.0.102) does not apply that file's `allowedUrls` to its sessions by itself.
    async fn apply_deny_rules(&self, session: &Session) -> EngineResult<()> {
        let denied = self.deny_rules()?;
        let mut params = json!({"sessionId": session.id().to_string(), "rules": {"approved": [], "denied": denied}});
        if let Ok(path) = self.settings_file() {
            let allowed = strings(&read_json(&path)?.value, "allowedUrls");
            if !allowed.is_empty() {
                params["urls"] = json!({"initialAllowed": allowed});
            }
        }
        session.client().call("session.permissions.configure", Some(params)).await?;
        Ok(())
    }
}

/// Whether the app talks to a CLI server now (Settings may switch to one after start).
pub(crate) fn serves_elsewhere(state: &ConnectionState) -> bool {
    match state {
        ConnectionState::Connecting { target }
        | ConnectionState::Connected { target, .. }
        | ConnectionState::Restarting { target, .. }
        | ConnectionState::Failed { target, .. } => matches!(target, ConnectionTarget::Server { .. }),
        ConnectionState::Stopped => false,
    }
}

#[derive(Serialize, Deserialize)]
struct DenyFile {
    denied: Vec<ToolRule>,
}

fn validate_rule(rule: ToolRule) -> EngineResult<ToolRule> {
    let kind = rule.kind.trim().to_owned();
    if !RULE_KINDS.contains(&kind.as_str()) {
        return Err(EngineError::InvalidRequest(format!(
            "\"{kind}\" is not a kind of rule; choose one of {}.",
            RULE_KINDS.join(", ")
        )));
    }
    let argument = rule.argument.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    if argument.as_deref().is_some_and(|a| a.contains(['(', ')'])) {
        return Err(EngineError::InvalidRequest("A rule's argument cannot contain parentheses.".into()));
    }
    if kind == "shell" && argument.is_none() {
        return Err(EngineError::InvalidRequest("Say which command to deny, for example `rm`.".into()));
    }
    Ok(ToolRule { kind, argument })
}

/// What a stored approval allows, in the CLI's rule notation.
pub fn approval_label(approval: &Value) -> String {
    let text = |k: &str| approval.get(k).and_then(Value::as_str).map(str::to_owned);
    match text("kind").as_deref() {
        Some("commands") => {
            let ids: Vec<String> = approval
                .get("commandIdentifiers")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(|s| format!("shell({s})"))).collect())
                .unwrap_or_default();
            if ids.is_empty() { "shell".into() } else { ids.join(", ") }
        }
        Some("mcp") => match (text("serverName"), text("toolName")) {
            (Some(server), Some(tool)) => format!("{server}({tool})"),
            (Some(server), None) => server,
            _ => "mcp".into(),
        },
        Some("custom-tool") => text("toolName").unwrap_or_else(|| "custom-tool".into()),
        Some(kind) => kind.to_owned(),
        None => approval.to_string(),
    }
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn not_there(location: &str) -> EngineError {
    EngineError::InvalidRequest(format!("That approval for {location} is no longer stored."))
}

fn malformed(path: &Path) -> EngineError {
    EngineError::InvalidRequest(format!("{} has an unexpected shape; it was left as it is.", path.display()))
}

fn io_error(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::InvalidRequest(format!("Could not read or write {}: {e}", path.display()))
}

/// A CLI JSON file: the `//` comment lines it starts with (config.json has some), then JSON.
struct JsonFile {
    header: String,
    value: Value,
}

impl JsonFile {
    fn object(&mut self) -> EngineResult<&mut serde_json::Map<String, Value>> {
        if self.value.is_null() {
            self.value = json!({});
        }
        self.value
            .as_object_mut()
            .ok_or_else(|| EngineError::InvalidRequest("The file does not hold an object.".into()))
    }

    fn write(&self, path: &Path) -> EngineResult<()> {
        let body = serde_json::to_string_pretty(&self.value).expect("JSON serializes");
        write_atomically(path, &format!("{}{body}\n", self.header))
    }
}

/// Read a CLI file; a missing one reads as empty. Comments other than the leading lines make it
/// unreadable here (we would lose them on writing).
fn read_json(path: &Path) -> EngineResult<JsonFile> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(path, e)),
    };
    let mut header = String::new();
    let mut rest = text.as_str();
    while rest.trim_start().starts_with("//") {
        let start = rest.len() - rest.trim_start().len();
        let end = rest[start..].find('\n').map(|i| start + i + 1).unwrap_or(rest.len());
        header.push_str(rest[start..end].trim_end());
        header.push('\n');
        rest = &rest[end..];
    }
    let value = if rest.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(rest).map_err(|e| {
            EngineError::InvalidRequest(format!("{} is not plain JSON ({e}); fix or edit it by hand.", path.display()))
        })?
    };
    Ok(JsonFile { header, value })
}

fn write_atomically(path: &Path, text: &str) -> EngineResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("rules"),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_read_as_the_cli_writes_rules() {
        assert_eq!(approval_label(&json!({"kind": "commands", "commandIdentifiers": ["npm test"]})), "shell(npm test)");
        assert_eq!(approval_label(&json!({"kind": "write"})), "write");
        assert_eq!(approval_label(&json!({"kind": "mcp", "serverName": "gh", "toolName": "issues"})), "gh(issues)");
    }

    #[test]
    fn leading_comments_survive_a_rewrite_and_other_comments_refuse_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "// managed\n// more\n{\"trustedFolders\": [\"/a\"], \"x\": 1}\n").unwrap();
        let mut file = read_json(&path).unwrap();
        file.object().unwrap().insert("trustedFolders".into(), json!([]));
        file.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("// managed\n// more\n{"), "{text}");
        assert_eq!(read_json(&path).unwrap().value, json!({"trustedFolders": [], "x": 1}));
        std::fs::write(&path, "{\n// inner\n\"a\": 1}").unwrap();
        assert!(read_json(&path).is_err());
        assert!(read_json(&dir.path().join("missing.json")).unwrap().value.is_null());
    }

    #[test]
    fn a_server_chosen_later_counts_as_elsewhere() {
        let server = ConnectionTarget::Server { address: "box:4321".into() };
        assert!(serves_elsewhere(&ConnectionState::Connecting { target: server }));
        assert!(!serves_elsewhere(&ConnectionState::Connecting { target: ConnectionTarget::Bundled }));
        assert!(!serves_elsewhere(&ConnectionState::Stopped));
    }

    #[test]
    fn rules_by_hand_are_validated() {
        let rule = |k: &str, a: Option<&str>| ToolRule { kind: k.into(), argument: a.map(str::to_owned) };
        assert_eq!(validate_rule(rule(" shell ", Some(" rm "))).unwrap(), rule("shell", Some("rm")));
        assert!(validate_rule(rule("shell", None)).is_err());
        assert!(validate_rule(rule("launch", Some("x"))).is_err());
        assert!(validate_rule(rule("shell", Some("a(b)"))).is_err());
        assert_eq!(validate_rule(rule("write", Some(""))).unwrap(), rule("write", None));
        assert_eq!(rule("shell", Some("rm")).label(), "shell(rm)");
    }
}
