//! Settings on disk through tauri-plugin-store: the Tauri side of `auth::settings`. The file is
//! checked (and set aside if unusable) before the store opens it, because the store silently
//! ignores a file it cannot parse. Only Rust uses the store; the webview has no permission for
//! it, and nothing written here is a secret.

use std::sync::Arc;
use std::time::SystemTime;

use tauri::{AppHandle, Wry};
use tauri_plugin_store::{Store, StoreExt};

use crate::auth::settings::{self, LoadedSettings, SETTINGS_FILE, Settings, SettingsSink, keys};

/// Writes [`Settings`] into the plugin's store and saves it at once.
pub struct PluginSettingsStore {
    store: Arc<Store<Wry>>,
}

impl SettingsSink for PluginSettingsStore {
    fn save(&self, settings: &Settings) -> Result<(), String> {
        let entries = settings::to_entries(settings);
        // Optional settings that are unset leave the file; keys of other features stay.
        for key in [keys::CLIENT_ID, keys::PROVIDER] {
            if !entries.iter().any(|(k, _)| k == key) {
                self.store.delete(key);
            }
        }
        for (key, value) in entries {
            self.store.set(key, value);
        }
        self.store.save().map_err(|e| e.to_string())
    }
}

/// Check the settings file, open the store on it, and write back what migration or recovery
/// changed. Returns the settings and the sink that keeps them.
pub fn open(app: &AppHandle) -> Result<(LoadedSettings, Arc<dyn SettingsSink>), Box<dyn std::error::Error>> {
    let path = tauri_plugin_store::resolve_store_path(app, SETTINGS_FILE)?;
    let loaded = settings::load_file(&path, SystemTime::now());
    let store = app.store_builder(SETTINGS_FILE).disable_auto_save().build()?;
    let sink: Arc<dyn SettingsSink> = Arc::new(PluginSettingsStore { store });
    tracing::info!(path = %path.display(), notice = loaded.notice.is_some(), "settings loaded");
    Ok((loaded, sink))
}
