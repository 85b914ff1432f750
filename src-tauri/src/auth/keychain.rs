//! Where tokens and API keys rest: the OS keychain (macOS Keychain, Windows Credential Manager,
//! the Secret Service on Linux), or, when the user chooses so, this process's memory only.
//!
//! Owns the keychain entries under the app identifier. It never writes a secret anywhere else:
//! no plaintext file, and never keyring's in-memory mock (see [`platform_store`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use keyring::credential::CredentialBuilder;

use crate::engine::logging::register_secret;
use crate::secret::Sensitive;

/// The keychain "service" of every entry: the app identifier from `tauri.conf.json`.
pub const APP_IDENTIFIER: &str = "com.copilot-desktop.client";
/// The identifier of earlier builds (it ended in `.app`, which clashes with macOS bundles);
/// their entries move to [`APP_IDENTIFIER`] at start (`crate::identity_migration`).
pub const LEGACY_APP_IDENTIFIER: &str = "com.copilot-desktop.app";

/// Which secret an entry holds. The keychain account is `github:<host>`, `provider:<name>` or
/// `cli-server:<host>:<port>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretKey {
    /// The GitHub OAuth token for one host (`github.com`, `tenant.ghe.com`).
    GitHub { host: String },
    /// A bring-your-own-key model provider's API key, by the provider's configured name.
    Provider { name: String },
    /// The connection token of the Copilot CLI server at `address` (`host:port`): it is only
    /// ever sent to that address.
    CliServer { address: String },
    /// A value of an MCP server marked secret (`entry` is `<server>:<env|header>:<name>`), or the
    /// list of those names (`entry` is `index`): see `auth::mcp_secrets`.
    Mcp { entry: String },
}

impl SecretKey {
    pub fn github(host: impl Into<String>) -> Self {
        Self::GitHub { host: host.into().to_ascii_lowercase() }
    }

    pub fn provider(name: impl Into<String>) -> Self {
        Self::Provider { name: name.into() }
    }

    pub fn cli_server(host: &str, port: u16) -> Self {
        Self::CliServer { address: crate::engine::server::address_of(&host.to_ascii_lowercase(), port) }
    }

    /// The keychain account name of this entry.
    pub fn account(&self) -> String {
        match self {
            Self::GitHub { host } => format!("github:{host}"),
            Self::Provider { name } => format!("provider:{name}"),
            Self::CliServer { address } => format!("cli-server:{address}"),
            Self::Mcp { entry } => format!("mcp:{entry}"),
        }
    }
}

/// Why the keychain could not do what was asked. A missing entry is not an error.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("{}", unavailable_message(detail))]
    Unavailable { detail: String },
    #[error("The keychain is locked, unlocking it was refused, or it has no default keyring to keep secrets in ({}). Unlock it (or create a default keyring) and try again, or keep the token in memory for this run only.", detail.trim_end_matches('.'))]
    Locked { detail: String },
    #[error("The keychain could not {action} the secret: {}. Try again; if it keeps failing, keep the token in memory for this run only.", detail.trim_end_matches('.'))]
    Other { action: &'static str, detail: String },
}

impl KeychainError {
    /// A stable, machine-readable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "keychain_unavailable",
            Self::Locked { .. } => "keychain_locked",
            Self::Other { .. } => "keychain_error",
        }
    }
}

fn unavailable_message(detail: &str) -> String {
    let detail = detail.trim_end_matches('.');
    if cfg!(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")) {
        format!(
            "No Secret Service (gnome-keyring or KWallet) is running, so the token cannot be kept in a keychain ({detail}). \
             Start or install one and sign in again, or keep the token in memory for this run only."
        )
    } else {
        format!(
            "The system keychain is not available ({detail}). Sign in to your user account's keychain and try again, \
             or keep the token in memory for this run only."
        )
    }
}

/// The platform's credential store, named explicitly: if a keyring platform feature goes
/// missing, this does not compile, instead of keyring quietly handing out its mock.
fn platform_store() -> &'static CredentialBuilder {
    static STORE: OnceLock<Box<CredentialBuilder>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
            let store = keyring::secret_service::default_credential_builder();
            #[cfg(target_os = "macos")]
            let store = keyring::macos::default_credential_builder();
            #[cfg(target_os = "windows")]
            let store = keyring::windows::default_credential_builder();
            store
        })
        .as_ref()
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
)))]
compile_error!(
    "Copilot Desktop keeps secrets only in an OS keychain, and auth/keychain.rs knows none for this platform."
);

/// Sort a keyring error. `action` says what was being done ("store", "read", "delete").
fn classify(action: &'static str, error: keyring::Error) -> KeychainError {
    let detail = error_chain(&error);
    match error {
        keyring::Error::NoStorageAccess(_) => KeychainError::Locked { detail },
        keyring::Error::PlatformFailure(ref inner) if no_store_running(inner.as_ref()) => {
            KeychainError::Unavailable { detail }
        }
        _ => KeychainError::Other { action, detail },
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// True when the platform failure means "there is no keychain to talk to" rather than "the
/// keychain failed": on Linux, no session bus or nobody owning `org.freedesktop.secrets`.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn no_store_running(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    use dbus_secret_service::Error as SsError;
    match inner.downcast_ref::<SsError>() {
        Some(SsError::Unavailable) => true,
        Some(SsError::Dbus(e)) => matches!(
            e.name().unwrap_or_default(),
            "org.freedesktop.DBus.Error.NoServer"
                | "org.freedesktop.DBus.Error.FileNotFound"
                | "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
                | "org.freedesktop.DBus.Error.NotSupported"
                | "org.freedesktop.DBus.Error.Disconnected"
                | "org.freedesktop.DBus.Error.Spawn.ChildExited"
                | "org.freedesktop.DBus.Error.Spawn.ExecFailed"
                | "org.freedesktop.DBus.Error.Spawn.ServiceNotFound"
                | "org.freedesktop.DBus.Error.Spawn.ServiceNotValid"
                | "org.freedesktop.DBus.Error.Spawn.Failed"
        ),
        _ => false,
    }
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
fn no_store_running(_inner: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    false
}

/// The OS keychain, entries under one service name (normally [`APP_IDENTIFIER`]).
#[derive(Clone, Debug)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new()
    }
}

impl Keychain {
    /// Entries under [`APP_IDENTIFIER`].
    pub fn new() -> Self {
        Self::with_service(APP_IDENTIFIER)
    }

    /// Entries under another service name (a differently identified build, tests).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(service: &str, key: &SecretKey, action: &'static str) -> Result<keyring::Entry, KeychainError> {
        let credential = platform_store().build(None, service, &key.account()).map_err(|e| classify(action, e))?;
        Ok(keyring::Entry::new_with_credential(credential))
    }

    /// Keep `secret` under `key`, replacing what was there.
    pub async fn store(&self, key: &SecretKey, secret: Sensitive<String>) -> Result<(), KeychainError> {
        register_secret(&secret);
        let (service, key) = (self.service.clone(), key.clone());
        blocking("store", move || {
            let entry = Self::entry(&service, &key, "store")?;
            entry.set_password(secret.expose()).map_err(|e| classify("store", e))
        })
        .await
    }

    /// The secret under `key`, or `None` when there is none.
    pub async fn load(&self, key: &SecretKey) -> Result<Option<Sensitive<String>>, KeychainError> {
        let (service, key) = (self.service.clone(), key.clone());
        let loaded = blocking("read", move || {
            let entry = Self::entry(&service, &key, "read")?;
            match entry.get_password() {
                Ok(secret) => Ok(Some(Sensitive::new(secret))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(classify("read", e)),
            }
        })
        .await?;
        if let Some(secret) = &loaded {
            register_secret(secret);
        }
        Ok(loaded)
    }

    /// Move the entry under `key` from `legacy` into this keychain, unless this one already has
    /// one (then the legacy entry is left alone). Returns whether an entry moved.
    pub async fn adopt(&self, legacy: &Keychain, key: &SecretKey) -> Result<bool, KeychainError> {
        if self.load(key).await?.is_some() {
            return Ok(false);
        }
        let Some(secret) = legacy.load(key).await? else { return Ok(false) };
        self.store(key, secret).await?;
        legacy.delete(key).await?;
        Ok(true)
    }

    /// Remove the secret under `key`; removing what is not there succeeds.
    pub async fn delete(&self, key: &SecretKey) -> Result<(), KeychainError> {
        let (service, key) = (self.service.clone(), key.clone());
        blocking("delete", move || {
            let entry = Self::entry(&service, &key, "delete")?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(classify("delete", e)),
            }
        })
        .await
    }
}

/// Keychain calls block (D-Bus round trips, an unlock prompt): keep them off the async workers.
async fn blocking<T: Send + 'static>(
    action: &'static str,
    work: impl FnOnce() -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(KeychainError::Other { action, detail: format!("the keychain task failed: {e}") }))
}

/// Secrets kept in this process's memory and gone when it exits: the user's explicit choice
/// "keep me signed in for this run only", e.g. when no keychain is available.
#[derive(Clone, Default)]
pub struct SessionOnlyStore {
    secrets: Arc<Mutex<HashMap<SecretKey, Sensitive<String>>>>,
}

impl std::fmt::Debug for SessionOnlyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.secrets.lock().map(|s| s.len()).unwrap_or_default();
        f.debug_struct("SessionOnlyStore").field("entries", &count).finish()
    }
}

impl SessionOnlyStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn secrets(&self) -> std::sync::MutexGuard<'_, HashMap<SecretKey, Sensitive<String>>> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn store(&self, key: &SecretKey, secret: Sensitive<String>) {
        register_secret(&secret);
        self.secrets().insert(key.clone(), secret);
    }

    pub fn load(&self, key: &SecretKey) -> Option<Sensitive<String>> {
        self.secrets().get(key).cloned()
    }

    pub fn delete(&self, key: &SecretKey) {
        self.secrets().remove(key);
    }
}

/// Where secrets go: the keychain (default) or memory for this run only. Callers hold one of
/// these and never care which.
#[derive(Clone, Debug)]
pub enum TokenStore {
    Keychain(Keychain),
    SessionOnly(SessionOnlyStore),
}

impl Default for TokenStore {
    fn default() -> Self {
        Self::Keychain(Keychain::new())
    }
}

impl TokenStore {
    /// The OS keychain under [`APP_IDENTIFIER`].
    pub fn keychain() -> Self {
        Self::default()
    }

    /// Memory only, for this run.
    pub fn session_only() -> Self {
        Self::SessionOnly(SessionOnlyStore::new())
    }

    /// Whether secrets outlive this process.
    pub fn is_persistent(&self) -> bool {
        matches!(self, Self::Keychain(_))
    }

    pub async fn store(&self, key: &SecretKey, secret: Sensitive<String>) -> Result<(), KeychainError> {
        match self {
            Self::Keychain(keychain) => keychain.store(key, secret).await,
            Self::SessionOnly(memory) => {
                memory.store(key, secret);
                Ok(())
            }
        }
    }

    pub async fn load(&self, key: &SecretKey) -> Result<Option<Sensitive<String>>, KeychainError> {
        match self {
            Self::Keychain(keychain) => keychain.load(key).await,
            Self::SessionOnly(memory) => Ok(memory.load(key)),
        }
    }

    pub async fn delete(&self, key: &SecretKey) -> Result<(), KeychainError> {
        match self {
            Self::Keychain(keychain) => keychain.delete(key).await,
            Self::SessionOnly(memory) => {
                memory.delete(key);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use keyring::credential::CredentialPersistence;

    use super::*;

    #[test]
    fn the_store_is_the_platform_keychain_never_the_mock() {
        let ours = platform_store();
        assert!(ours.as_any().downcast_ref::<keyring::mock::MockCredentialBuilder>().is_none());
        assert!(matches!(ours.persistence(), CredentialPersistence::UntilDelete));
        // keyring's own default too: with a platform feature missing it would be the mock.
        let default = keyring::default::default_credential_builder();
        assert!(default.as_any().downcast_ref::<keyring::mock::MockCredentialBuilder>().is_none());
        assert!(matches!(default.persistence(), CredentialPersistence::UntilDelete));
    }

    #[test]
    fn the_service_is_the_app_identifier() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).expect("tauri.conf.json is JSON");
        assert_eq!(config["identifier"].as_str(), Some(APP_IDENTIFIER));
        assert_eq!(Keychain::new().service(), APP_IDENTIFIER);
    }

    #[test]
    fn accounts_are_namespaced_by_kind() {
        assert_eq!(SecretKey::github("github.com").account(), "github:github.com");
        assert_eq!(SecretKey::github("Tenant.GHE.com").account(), "github:tenant.ghe.com");
        assert_eq!(SecretKey::provider("openai").account(), "provider:openai");
        assert_ne!(SecretKey::github("x").account(), SecretKey::provider("x").account());
        assert_eq!(SecretKey::cli_server("DevBox", 4321).account(), "cli-server:devbox:4321");
        assert_eq!(SecretKey::cli_server("::1", 4321).account(), "cli-server:[::1]:4321");
    }

    #[test]
    fn keyring_errors_are_sorted_for_the_user() {
        let locked = classify("read", keyring::Error::NoStorageAccess("collection is locked".into()));
        assert_eq!(locked.code(), "keychain_locked");
        assert!(locked.to_string().contains("collection is locked"), "{locked}");
        let other = classify("store", keyring::Error::TooLong("username".into(), 255));
        assert_eq!(other.code(), "keychain_error");
        assert!(other.to_string().contains("could not store"), "{other}");
        let generic = classify("read", keyring::Error::PlatformFailure("something odd".into()));
        assert_eq!(generic.code(), "keychain_error");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_secret_service_is_reported_as_no_keychain() {
        let gone = keyring::Error::PlatformFailure(Box::new(dbus_secret_service::Error::Unavailable));
        let error = classify("read", gone);
        assert_eq!(error.code(), "keychain_unavailable");
        assert!(error.to_string().starts_with("No Secret Service (gnome-keyring or KWallet) is running"), "{error}");
        assert!(error.to_string().contains("for this run only"), "{error}");
    }

    #[tokio::test]
    async fn session_only_store_keeps_secrets_in_memory() {
        let store = TokenStore::session_only();
        assert!(!store.is_persistent());
        let key = SecretKey::github("github.com");
        assert!(store.load(&key).await.unwrap().is_none());
        store.store(&key, Sensitive::new("gho_first".into())).await.unwrap();
        store.store(&key, Sensitive::new("gho_second".into())).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap().unwrap().expose(), "gho_second");
        assert!(store.load(&SecretKey::github("tenant.ghe.com")).await.unwrap().is_none());
        assert!(!format!("{store:?}").contains("gho_"), "{store:?}");
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(store.load(&key).await.unwrap().is_none());
    }
}
