//! Non-secret settings: the GitHub host to sign in to, an OAuth client id override, a
//! bring-your-own-key model provider, and which Copilot CLI to use (the bundled one or a server's
//! address; its connection token is in the keychain). Owns their shape, the schema version and its migrations,
//! and what happens to a settings file that cannot be read: it is set aside (renamed, never
//! deleted), defaults are restored, and the user gets a notice saying so.
//!
//! Secrets never pass through here (tokens and API keys live in the keychain). No `tauri`
//! either: the app persists these values through tauri-plugin-store (`crate::settings_store`),
//! which reaches this module only through [`SettingsSink`] and the file check in [`load_file`].

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::device_flow::{DEFAULT_HOST, normalize_host};

/// The layout this build writes. Bump it with a step in [`migrate`] whenever a key changes.
pub const SCHEMA_VERSION: u32 = 2;
/// The store file, in the app's data directory.
pub const SETTINGS_FILE: &str = "settings.json";

/// Keys of the store. One key per setting, so the file stays readable and diffable.
pub mod keys {
    pub const SCHEMA_VERSION: &str = "schemaVersion";
    pub const GITHUB_HOST: &str = "githubHost";
    pub const CLIENT_ID: &str = "clientId";
    pub const PROVIDER: &str = "provider";
    /// Since version 2.
    pub const CLI: &str = "cli";
}

/// Everything the app remembers between runs that is not a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The GitHub host to sign in to: `github.com`, or a GitHub Enterprise Cloud host.
    pub github_host: String,
    /// The OAuth app's client id for the device flow, when this build has none of its own.
    pub client_id: Option<String>,
    /// A bring-your-own-key provider used for every new session instead of GitHub's models.
    pub provider: Option<ProviderConfig>,
    /// Which Copilot CLI the app talks to.
    pub cli: CliSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self { github_host: DEFAULT_HOST.to_owned(), client_id: None, provider: None, cli: CliSettings::default() }
    }
}

/// Which Copilot CLI the app talks to. The server's address is kept while the bundled CLI is in
/// use, so switching back and forth needs no retyping (and its token stays in the keychain).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CliSettings {
    pub mode: CliMode,
    /// The server's address; required when `mode` is `server`.
    #[serde(default)]
    pub server: Option<ServerAddress>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum CliMode {
    /// The CLI bundled with the app, on this computer.
    #[default]
    Bundled,
    /// A Copilot CLI server (`copilot --headless --port N`) at `server`.
    Server,
}

/// Where a Copilot CLI server listens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerAddress {
    /// A host name or IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl CliSettings {
    /// Trim what the user typed and refuse what cannot work, saying what to fix.
    pub fn validated(self) -> Result<Self, String> {
        let server = match self.server {
            None => None,
            Some(ServerAddress { host, port }) => {
                let host = host.trim().trim_start_matches('[').trim_end_matches(']').to_owned();
                let valid = !host.is_empty()
                    && host.len() <= 253
                    && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
                if !valid {
                    return Err(format!(
                        "\"{host}\" is not a host name or IP address. Enter the server's host only, for example 127.0.0.1 or devbox.example.com (no scheme, port or path)."
                    ));
                }
                if port == 0 {
                    return Err("Enter the port the server listens on (the N of `copilot --headless --port N`).".into());
                }
                Some(ServerAddress { host, port })
            }
        };
        if self.mode == CliMode::Server && server.is_none() {
            return Err("Enter the server's host and port.".into());
        }
        Ok(Self { mode: self.mode, server })
    }

    /// The server in use, when one is chosen.
    pub fn active_server(&self) -> Option<&ServerAddress> {
        self.server.as_ref().filter(|_| self.mode == CliMode::Server)
    }
}

/// The kinds of provider the Copilot CLI speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    Openai,
    Azure,
    Anthropic,
}

impl ProviderType {
    /// The name the CLI's `provider.type` expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Azure => "azure",
            Self::Anthropic => "anthropic",
        }
    }
}

/// Which OpenAI-style API a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    Completions,
    Responses,
}

impl WireApi {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completions => "completions",
            Self::Responses => "responses",
        }
    }
}

/// A bring-your-own-key provider, without its key (that is in the keychain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    pub provider_type: ProviderType,
    /// The API's base, e.g. `http://127.0.0.1:11434/v1` for a local Ollama.
    pub base_url: String,
    /// The model every new session uses.
    pub model: String,
    /// `None`: the CLI's default for the provider type.
    #[serde(default)]
    pub wire_api: Option<WireApi>,
    /// Run the CLI offline (`COPILOT_OFFLINE`): no GitHub at all, only this provider.
    #[serde(default)]
    pub offline: bool,
}

impl ProviderConfig {
    /// Trim what the user typed and refuse what cannot work, saying what to fix.
    pub fn validated(mut self) -> Result<Self, String> {
        self.base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        self.model = self.model.trim().to_owned();
        let url_ok =
            url::Url::parse(&self.base_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !url_ok {
            return Err(format!(
                "\"{}\" is not a web address. Enter the provider's base URL, for example http://127.0.0.1:11434/v1.",
                self.base_url
            ));
        }
        if self.model.is_empty() {
            return Err("Enter the model to use, for example gpt-4.1 or llama3.2.".into());
        }
        Ok(self)
    }
}

/// Writes settings somewhere lasting (the app: tauri-plugin-store; tests: memory).
pub trait SettingsSink: Send + Sync {
    fn save(&self, settings: &Settings) -> Result<(), String>;
}

/// The store's entries for `settings`, schema version first. `None` values are left out.
pub fn to_entries(settings: &Settings) -> Vec<(String, Value)> {
    let mut entries = vec![
        (keys::SCHEMA_VERSION.to_owned(), Value::from(SCHEMA_VERSION)),
        (keys::GITHUB_HOST.to_owned(), Value::from(settings.github_host.clone())),
    ];
    if let Some(client_id) = &settings.client_id {
        entries.push((keys::CLIENT_ID.to_owned(), Value::from(client_id.clone())));
    }
    if let Some(provider) = &settings.provider {
        let value = serde_json::to_value(provider).expect("a provider config serializes");
        entries.push((keys::PROVIDER.to_owned(), value));
    }
    entries.push((keys::CLI.to_owned(), serde_json::to_value(&settings.cli).expect("CLI settings serialize")));
    entries
}

/// Why stored settings cannot be used as they are.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsProblem {
    #[error("it is not valid JSON ({0})")]
    NotJson(String),
    #[error("it does not hold settings ({0})")]
    Invalid(String),
    #[error(
        "it was written by a newer version of Copilot Desktop (settings version {0}, this one knows up to {SCHEMA_VERSION})"
    )]
    Newer(u64),
}

/// Stored entries (any schema version this build knows) as current [`Settings`]; also says
/// whether a migration changed anything, so the caller can write the result back.
pub fn from_entries(entries: Map<String, Value>) -> Result<(Settings, bool), SettingsProblem> {
    let version = match entries.get(keys::SCHEMA_VERSION) {
        None => 0,
        Some(v) => v.as_u64().ok_or_else(|| SettingsProblem::Invalid("its schema version is not a number".into()))?,
    };
    if version > u64::from(SCHEMA_VERSION) {
        return Err(SettingsProblem::Newer(version));
    }
    let migrated = migrate(entries, version)?;
    let settings = read_current(&migrated)?;
    Ok((settings, version != u64::from(SCHEMA_VERSION)))
}

/// Bring entries of schema `from` up to [`SCHEMA_VERSION`], one step at a time.
pub fn migrate(mut entries: Map<String, Value>, from: u64) -> Result<Map<String, Value>, SettingsProblem> {
    let mut version = from;
    while version < u64::from(SCHEMA_VERSION) {
        entries = match version {
            0 => v0_to_v1(entries),
            1 => v1_to_v2(entries),
            other => {
                return Err(SettingsProblem::Invalid(format!("no migration from settings version {other}")));
            }
        };
        version += 1;
    }
    entries.insert(keys::SCHEMA_VERSION.to_owned(), Value::from(SCHEMA_VERSION));
    Ok(entries)
}

/// Version 0 is a store without `schemaVersion`: an empty file, or one written before the
/// version was recorded. Its keys already had version 1's names; missing ones get defaults.
fn v0_to_v1(mut entries: Map<String, Value>) -> Map<String, Value> {
    entries.entry(keys::GITHUB_HOST).or_insert_with(|| Value::from(DEFAULT_HOST));
    entries
}

/// Version 2 chooses the Copilot CLI (`cli`). Before it, the app always ran its bundled CLI
/// (a server came only from COPILOT_DESKTOP_SERVER, which still wins).
fn v1_to_v2(mut entries: Map<String, Value>) -> Map<String, Value> {
    entries.entry(keys::CLI).or_insert_with(|| serde_json::json!({"mode": "bundled", "server": null}));
    entries
}

fn read_current(entries: &Map<String, Value>) -> Result<Settings, SettingsProblem> {
    let invalid = |key: &str, e: &dyn std::fmt::Display| SettingsProblem::Invalid(format!("\"{key}\": {e}"));
    let github_host = match entries.get(keys::GITHUB_HOST) {
        None | Some(Value::Null) => DEFAULT_HOST.to_owned(),
        Some(Value::String(host)) => normalize_host(host).map_err(|e| invalid(keys::GITHUB_HOST, &e))?,
        Some(_) => return Err(invalid(keys::GITHUB_HOST, &"not a string")),
    };
    let client_id = match entries.get(keys::CLIENT_ID) {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.trim().is_empty() => None,
        Some(Value::String(id)) => Some(id.trim().to_owned()),
        Some(_) => return Err(invalid(keys::CLIENT_ID, &"not a string")),
    };
    let provider = match entries.get(keys::PROVIDER) {
        None | Some(Value::Null) => None,
        Some(value) => {
            let config: ProviderConfig =
                serde_json::from_value(value.clone()).map_err(|e| invalid(keys::PROVIDER, &e))?;
            Some(config.validated().map_err(|e| invalid(keys::PROVIDER, &e))?)
        }
    };
    let cli = match entries.get(keys::CLI) {
        None | Some(Value::Null) => CliSettings::default(),
        Some(value) => {
            let cli: CliSettings = serde_json::from_value(value.clone()).map_err(|e| invalid(keys::CLI, &e))?;
            cli.validated().map_err(|e| invalid(keys::CLI, &e))?
        }
    };
    Ok(Settings { github_host, client_id, provider, cli })
}

/// Settings as found on disk, and what the user should be told about them.
#[derive(Debug)]
pub struct LoadedSettings {
    pub settings: Settings,
    /// Set when the file could not be used: what happened and where the old file is.
    pub notice: Option<String>,
    /// The file needs writing (it was migrated, or set aside and defaults restored).
    pub needs_write: bool,
}

/// Read the settings file at `path` before the store opens it. A file that cannot be used is
/// renamed to `<name>.corrupt-<unix seconds>` (or `.newer-` when a newer build wrote it), so
/// the user's data is kept and the store starts from defaults.
pub fn load_file(path: &Path, now: SystemTime) -> LoadedSettings {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return LoadedSettings { settings: Settings::default(), notice: None, needs_write: false };
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "settings file unreadable; using defaults");
            return LoadedSettings {
                settings: Settings::default(),
                notice: Some(format!(
                    "The settings file {} could not be read ({e}), so default settings are in use for now. Check its permissions.",
                    path.display()
                )),
                needs_write: false,
            };
        }
    };
    let problem = match parse(&bytes) {
        Ok((settings, migrated)) => {
            if migrated {
                tracing::info!(path = %path.display(), to = SCHEMA_VERSION, "settings migrated");
            }
            return LoadedSettings { settings, notice: None, needs_write: migrated };
        }
        Err(problem) => problem,
    };
    let label = if matches!(problem, SettingsProblem::Newer(_)) { "newer" } else { "corrupt" };
    let kept = match set_aside(path, label, now) {
        Ok(kept) => format!("The old file was kept as {}.", kept.display()),
        Err(e) => {
            format!("It could not be set aside ({e}) and will be replaced when settings change.")
        }
    };
    tracing::warn!(path = %path.display(), %problem, "settings file unusable; defaults restored");
    LoadedSettings {
        settings: Settings::default(),
        notice: Some(format!(
            "Your settings could not be used because {problem}, so the defaults were restored. {kept}"
        )),
        needs_write: true,
    }
}

fn parse(bytes: &[u8]) -> Result<(Settings, bool), SettingsProblem> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| SettingsProblem::NotJson(e.to_string()))?;
    match value {
        Value::Object(entries) => from_entries(entries),
        _ => Err(SettingsProblem::Invalid("the file is not a JSON object".into())),
    }
}

/// Rename `path` to `<name>.<label>-<unix seconds>[-n]` next to it; returns the new path.
fn set_aside(path: &Path, label: &str, now: SystemTime) -> std::io::Result<PathBuf> {
    let secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| SETTINGS_FILE.into());
    let mut target = path.with_file_name(format!("{name}.{label}-{secs}"));
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = path.with_file_name(format!("{name}.{label}-{secs}-{n}"));
    }
    std::fs::rename(path, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    fn entries(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    fn ollama() -> ProviderConfig {
        ProviderConfig {
            provider_type: ProviderType::Openai,
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: "llama3.2".into(),
            wire_api: Some(WireApi::Completions),
            offline: true,
        }
    }

    #[test]
    fn settings_round_trip_through_store_entries() {
        let settings = Settings {
            github_host: "tenant.ghe.com".into(),
            client_id: Some("Iv1.abc".into()),
            provider: Some(ollama()),
            cli: CliSettings {
                mode: CliMode::Server,
                server: Some(ServerAddress { host: "devbox.example.com".into(), port: 4321 }),
            },
        };
        let map: Map<String, Value> = to_entries(&settings).into_iter().collect();
        assert_eq!(map[keys::SCHEMA_VERSION], json!(SCHEMA_VERSION));
        assert_eq!(
            map[keys::PROVIDER],
            json!({"providerType": "openai", "baseUrl": "http://127.0.0.1:11434/v1", "model": "llama3.2", "wireApi": "completions", "offline": true})
        );
        assert_eq!(map[keys::CLI], json!({"mode": "server", "server": {"host": "devbox.example.com", "port": 4321}}));
        assert_eq!(from_entries(map).unwrap(), (settings, false));
        let defaults: Map<String, Value> = to_entries(&Settings::default()).into_iter().collect();
        assert_eq!(defaults.len(), 3, "no empty keys for unset values: {defaults:?}");
        assert_eq!(defaults[keys::CLI], json!({"mode": "bundled", "server": null}));
    }

    #[test]
    fn version_0_is_stamped_and_filled_in() {
        let (settings, migrated) = from_entries(Map::new()).unwrap();
        assert!(migrated);
        assert_eq!(settings, Settings::default());

        let (settings, migrated) = from_entries(entries(json!({"githubHost": "Tenant.GHE.com"}))).unwrap();
        assert!(migrated);
        assert_eq!(settings.github_host, "tenant.ghe.com");

        let migrated = migrate(Map::new(), 0).unwrap();
        assert_eq!(migrated[keys::SCHEMA_VERSION], json!(SCHEMA_VERSION));
        assert_eq!(migrated[keys::GITHUB_HOST], json!(DEFAULT_HOST));
        assert_eq!(migrated[keys::CLI], json!({"mode": "bundled", "server": null}));
    }

    #[test]
    fn version_1_keeps_everything_and_runs_the_bundled_cli() {
        let v1 = json!({"schemaVersion": 1, "githubHost": "tenant.ghe.com", "clientId": "Iv1.abc",
            "provider": {"providerType": "openai", "baseUrl": "http://127.0.0.1:11434/v1", "model": "llama3.2",
                "wireApi": "completions", "offline": true}});
        let (settings, migrated) = from_entries(entries(v1.clone())).unwrap();
        assert!(migrated, "a version 1 file is written back as version 2");
        assert_eq!(
            settings,
            Settings {
                github_host: "tenant.ghe.com".into(),
                client_id: Some("Iv1.abc".into()),
                provider: Some(ollama()),
                cli: CliSettings { mode: CliMode::Bundled, server: None },
            }
        );
        let stepped = migrate(entries(v1), 1).unwrap();
        assert_eq!(stepped[keys::SCHEMA_VERSION], json!(2));
        assert_eq!(stepped[keys::CLI], json!({"mode": "bundled", "server": null}));
    }

    #[test]
    fn a_chosen_server_survives_a_restart_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        let settings = Settings {
            cli: CliSettings { mode: CliMode::Server, server: Some(ServerAddress { host: "::1".into(), port: 4321 }) },
            ..Settings::default()
        };
        let map: Map<String, Value> = to_entries(&settings).into_iter().collect();
        std::fs::write(&path, serde_json::to_vec(&map).unwrap()).unwrap();
        let loaded = load_file(&path, SystemTime::now());
        assert_eq!(loaded.settings, settings);
        assert!(!loaded.needs_write && loaded.notice.is_none());
    }

    #[test]
    fn cli_input_is_trimmed_and_checked() {
        let typed =
            CliSettings { mode: CliMode::Server, server: Some(ServerAddress { host: " [::1] ".into(), port: 4321 }) };
        assert_eq!(typed.validated().unwrap().server.unwrap().host, "::1");
        for host in ["", "http://devbox", "devbox/x", "dev box", "user@devbox"] {
            let bad = CliSettings { mode: CliMode::Server, server: Some(ServerAddress { host: host.into(), port: 1 }) };
            assert!(bad.validated().unwrap_err().contains("host"), "{host:?}");
        }
        let no_port =
            CliSettings { mode: CliMode::Server, server: Some(ServerAddress { host: "devbox".into(), port: 0 }) };
        assert!(no_port.validated().unwrap_err().contains("port"));
        let nothing = CliSettings { mode: CliMode::Server, server: None };
        assert!(nothing.validated().is_err());
        let kept =
            CliSettings { mode: CliMode::Bundled, server: Some(ServerAddress { host: "devbox".into(), port: 9 }) };
        assert!(kept.clone().validated().unwrap().active_server().is_none(), "kept, but not in use");
    }

    #[test]
    fn current_files_are_not_rewritten() {
        let current = json!({"schemaVersion": 2, "githubHost": "github.com", "cli": {"mode": "bundled"}});
        let (_, migrated) = from_entries(entries(current)).unwrap();
        assert!(!migrated);
    }

    #[test]
    fn a_newer_schema_is_refused_not_misread() {
        let problem = from_entries(entries(json!({"schemaVersion": 7, "githubHost": "github.com"}))).unwrap_err();
        assert_eq!(problem, SettingsProblem::Newer(7));
        assert!(problem.to_string().contains("newer version"), "{problem}");
    }

    #[test]
    fn wrong_shapes_are_problems_naming_the_key() {
        for (value, key) in [
            (json!({"schemaVersion": "one"}), "schema version"),
            (json!({"schemaVersion": 1, "githubHost": 5}), "githubHost"),
            (json!({"schemaVersion": 1, "githubHost": "github.com/evil"}), "githubHost"),
            (json!({"schemaVersion": 1, "clientId": []}), "clientId"),
            (json!({"schemaVersion": 2, "cli": {"mode": "server"}}), "cli"),
            (json!({"schemaVersion": 2, "cli": {"mode": "ssh"}}), "cli"),
            (json!({"schemaVersion": 2, "cli": {"mode": "server", "server": {"host": "a b", "port": 1}}}), "cli"),
            (json!({"schemaVersion": 1, "provider": {"providerType": "openai"}}), "provider"),
            (
                json!({"schemaVersion": 1, "provider": {"providerType": "gopher", "baseUrl": "http://x", "model": "m"}}),
                "provider",
            ),
            (
                json!({"schemaVersion": 1, "provider": {"providerType": "openai", "baseUrl": "file:///etc", "model": "m"}}),
                "provider",
            ),
        ] {
            let problem = from_entries(entries(value.clone())).unwrap_err();
            assert!(matches!(problem, SettingsProblem::Invalid(_)), "{value}: {problem:?}");
            assert!(problem.to_string().contains(key), "{value}: {problem}");
        }
    }

    #[test]
    fn provider_input_is_trimmed_and_checked() {
        let mut config = ollama();
        config.base_url = "  http://127.0.0.1:11434/v1/ ".into();
        config.model = " llama3.2 ".into();
        let config = config.validated().unwrap();
        assert_eq!(config.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(config.model, "llama3.2");
        let mut empty_model = ollama();
        empty_model.model = "  ".into();
        assert!(empty_model.validated().unwrap_err().contains("model"));
        let mut not_web = ollama();
        not_web.base_url = "localhost:11434".into();
        assert!(not_web.validated().unwrap_err().contains("not a web address"));
    }

    #[test]
    fn a_missing_file_means_defaults_and_no_notice() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_file(&dir.path().join(SETTINGS_FILE), SystemTime::now());
        assert_eq!(loaded.settings, Settings::default());
        assert!(loaded.notice.is_none());
        assert!(!loaded.needs_write);
    }

    #[test]
    fn a_good_file_is_read_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, r#"{"schemaVersion": 2, "githubHost": "tenant.ghe.com"}"#).unwrap();
        let loaded = load_file(&path, SystemTime::now());
        assert_eq!(loaded.settings.github_host, "tenant.ghe.com");
        assert!(loaded.notice.is_none() && !loaded.needs_write);
        assert!(path.exists());
    }

    #[test]
    fn a_corrupt_file_is_kept_renamed_and_defaults_restored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (round, garbage) in ["{\"githubHost\": \"tenant.ghe.com\",", "[1, 2, 3]"].into_iter().enumerate() {
            std::fs::write(&path, garbage).unwrap();
            let loaded = load_file(&path, now);
            assert_eq!(loaded.settings, Settings::default());
            assert!(loaded.needs_write);
            let kept =
                if round == 0 { "settings.json.corrupt-1700000000" } else { "settings.json.corrupt-1700000000-2" };
            let notice = loaded.notice.unwrap();
            assert!(notice.contains("defaults were restored") && notice.contains(kept), "{notice}");
            assert!(!path.exists(), "the corrupt file is moved away");
            assert_eq!(std::fs::read_to_string(dir.path().join(kept)).unwrap(), garbage, "and kept as it was");
        }
    }

    #[test]
    fn a_file_from_a_newer_build_is_set_aside_as_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, r#"{"schemaVersion": 9}"#).unwrap();
        let loaded = load_file(&path, UNIX_EPOCH + Duration::from_secs(42));
        assert!(dir.path().join("settings.json.newer-42").exists());
        assert!(loaded.notice.unwrap().contains("newer version"));
    }
}
