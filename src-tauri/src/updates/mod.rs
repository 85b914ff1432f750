//! Signed in-app updates, on tauri-plugin-updater: check the release feed (at start at most once a
//! day, and from the menu), download with progress, verify the minisign signature against the key
//! in tauri.conf.json, and install only after the user's click, with the CLI stopped first.
//!
//! The webview holds no updater permission: it sees [`UpdateView`]s through `watch_updates` and asks
//! through the app's own commands. What needs no window (when a check is due, which feed, what a
//! failure means to the user) is in [`policy`].

pub mod policy;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_store::{Store, StoreExt};
use tauri_plugin_updater::{Update, UpdaterExt};

use policy::Failure;

/// Where the updater keeps its two settings (the app config folder, beside settings.json).
const STORE_FILE: &str = "updates.json";
const KEY_AUTOMATIC: &str = "checkAutomatically";
const KEY_LAST_CHECKED: &str = "lastChecked";

/// How long a check or the size probe may take before it counts as "server down".
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// What the window shows about updates.
#[derive(Clone, Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UpdateView {
    /// The running app's version.
    pub current_version: String,
    pub check_automatically: bool,
    /// When the last check finished (seconds since the epoch), successful or not.
    pub last_checked: Option<f64>,
    pub phase: UpdatePhase,
}

#[derive(Clone, Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum UpdatePhase {
    /// Nothing known (no check yet, or an automatic check failed quietly).
    Idle,
    Checking,
    UpToDate,
    Available {
        version: String,
        /// Release notes from the feed: markdown, untrusted (the window sanitizes it).
        notes: Option<String>,
        date: Option<String>,
        /// "45.2 MB", when the server says.
        size: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Downloading {
        version: String,
        received: f64,
        total: Option<f64>,
    },
    /// Downloaded and verified: "Restart to update".
    Ready {
        version: String,
    },
    Installing {
        version: String,
    },
    /// A check the user asked for, a download or an install failed. The current app keeps working.
    Failed {
        message: String,
        /// The update it was about, when one was found.
        version: Option<String>,
    },
}

struct Inner {
    phase: UpdatePhase,
    last_checked: Option<u64>,
    check_automatically: bool,
    /// The update the last check found, and its verified bytes once downloaded.
    found: Option<Update>,
    downloaded: Option<Vec<u8>>,
    busy: bool,
}

/// The app's update state; managed by Tauri, used by `commands::updates`.
pub struct Updates {
    app: AppHandle,
    store: Arc<Store<Wry>>,
    inner: Mutex<Inner>,
    listeners: Mutex<Vec<Channel<UpdateView>>>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Updates {
    /// Read the settings and, if a check is due, check in the background (and again every hour
    /// while the app stays open, each time only if a day has passed).
    pub fn start(app: &AppHandle) -> Result<Arc<Self>, Box<dyn std::error::Error>> {
        let store = app.store(STORE_FILE)?;
        let check_automatically = store.get(KEY_AUTOMATIC).and_then(|v| v.as_bool()).unwrap_or(true);
        let last_checked = store.get(KEY_LAST_CHECKED).and_then(|v| v.as_u64());
        let updates = Arc::new(Self {
            app: app.clone(),
            store,
            inner: Mutex::new(Inner {
                phase: UpdatePhase::Idle,
                last_checked,
                check_automatically,
                found: None,
                downloaded: None,
                busy: false,
            }),
            listeners: Mutex::new(Vec::new()),
        });
        let background = updates.clone();
        tauri::async_runtime::spawn(async move {
            // Let the window and the CLI start first; an update check is never urgent.
            tokio::time::sleep(Duration::from_secs(3)).await;
            loop {
                let due = {
                    let inner = background.inner.lock().unwrap();
                    policy::check_due(inner.check_automatically, inner.last_checked, now())
                };
                if due {
                    background.check(false).await;
                }
                tokio::time::sleep(Duration::from_secs(60 * 60)).await;
            }
        });
        Ok(updates)
    }

    pub fn view(&self) -> UpdateView {
        let inner = self.inner.lock().unwrap();
        UpdateView {
            current_version: self.app.package_info().version.to_string(),
            check_automatically: inner.check_automatically,
            last_checked: inner.last_checked.map(|s| s as f64),
            phase: inner.phase.clone(),
        }
    }

    /// Push every change through `channel`, starting with the current view.
    pub fn watch(&self, channel: Channel<UpdateView>) {
        if channel.send(self.view()).is_ok() {
            self.listeners.lock().unwrap().push(channel);
        }
    }

    fn set_phase(&self, phase: UpdatePhase) {
        self.inner.lock().unwrap().phase = phase;
        self.publish();
    }

    fn publish(&self) {
        let view = self.view();
        self.listeners.lock().unwrap().retain(|channel| channel.send(view.clone()).is_ok());
    }

    pub fn set_check_automatically(&self, on: bool) -> Result<UpdateView, String> {
        self.inner.lock().unwrap().check_automatically = on;
        self.store.set(KEY_AUTOMATIC, on);
        self.store.save().map_err(|e| format!("Could not save the setting: {e}"))?;
        tracing::info!(on, "automatic update checks");
        self.publish();
        Ok(self.view())
    }

    /// Ask the feed. `manual`: the user asked, so a failure or "up to date" is shown; an automatic
    /// check that fails is only logged and leaves the window as it was (no nagging).
    pub async fn check(&self, manual: bool) -> UpdateView {
        {
            let mut inner = self.inner.lock().unwrap();
            if inner.busy {
                return drop_and_view(inner, self);
            }
            // Found and downloaded already: nothing new to learn before the user decides.
            if matches!(inner.phase, UpdatePhase::Ready { .. }) {
                return drop_and_view(inner, self);
            }
            inner.busy = true;
        }
        let before = self.view().phase;
        if manual {
            self.set_phase(UpdatePhase::Checking);
        }
        let outcome = self.ask_feed().await;
        let checked_at = now();
        self.store.set(KEY_LAST_CHECKED, checked_at);
        if let Err(error) = self.store.save() {
            tracing::warn!(%error, "could not save the time of the update check");
        }
        let phase = match outcome {
            Ok(None) => {
                tracing::info!(manual, "update check: this is the newest version");
                self.inner.lock().unwrap().found = None;
                UpdatePhase::UpToDate
            }
            Ok(Some((update, size))) => {
                tracing::info!(manual, version = %update.version, "update check: a newer version is available");
                let phase = UpdatePhase::Available {
                    version: update.version.clone(),
                    notes: update.body.clone().filter(|b| !b.trim().is_empty()),
                    date: update.date.map(|d| d.date().to_string()),
                    size: size.map(policy::human_size),
                };
                let mut inner = self.inner.lock().unwrap();
                inner.found = Some(update);
                inner.downloaded = None;
                phase
            }
            Err(failure) => {
                tracing::warn!(manual, detail = failure.detail(), "update check failed: {}", failure.message());
                if manual {
                    UpdatePhase::Failed { message: failure.message(), version: None }
                } else if matches!(before, UpdatePhase::Checking) {
                    UpdatePhase::Idle
                } else {
                    before
                }
            }
        };
        {
            let mut inner = self.inner.lock().unwrap();
            inner.last_checked = Some(checked_at);
            inner.busy = false;
            inner.phase = phase;
        }
        self.publish();
        self.view()
    }

    async fn ask_feed(&self) -> Result<Option<(Update, Option<u64>)>, Failure> {
        let mut builder = self.app.updater_builder().timeout(CHECK_TIMEOUT);
        match policy::feed_override(std::env::var(policy::UPDATE_URL_ENV).ok().as_deref(), cfg!(debug_assertions)) {
            Some(Ok(url)) => {
                builder = builder.endpoints(vec![url]).map_err(|e| Failure::from(&e))?;
            }
            Some(Err(reason)) => return Err(Failure::NotAvailable(reason)),
            None => {}
        }
        let engine = self.app.try_state::<crate::AppState>().map(|s| s.engine.clone());
        // Windows: the installer replaces files while we exit; a running sidecar would block it.
        builder = builder.on_before_exit(move || {
            if let Some(engine) = &engine {
                tauri::async_runtime::block_on(engine.shutdown());
            }
        });
        let updater = builder.build().map_err(|e| Failure::from(&e))?;
        let Some(update) = updater.check().await.map_err(|e| Failure::from(&e))? else { return Ok(None) };
        let size = download_size(&update).await;
        Ok(Some((update, size)))
    }

    /// Download the update found by the last check, with progress, and verify its signature.
    pub async fn download(&self) -> UpdateView {
        let update = {
            let mut inner = self.inner.lock().unwrap();
            let Some(update) = inner.found.clone().filter(|_| !inner.busy) else {
                return drop_and_view(inner, self);
            };
            inner.busy = true;
            update
        };
        let version = update.version.clone();
        self.set_phase(UpdatePhase::Downloading { version: version.clone(), received: 0.0, total: None });
        let mut received: u64 = 0;
        let mut last_push = std::time::Instant::now();
        let started = std::time::Instant::now();
        let result = update
            .download(
                |chunk, total| {
                    received += chunk as u64;
                    // A frame's worth of progress is plenty: at most ~10 pushes a second.
                    if last_push.elapsed() >= Duration::from_millis(100) || total == Some(received) {
                        last_push = std::time::Instant::now();
                        self.set_phase(UpdatePhase::Downloading {
                            version: version.clone(),
                            received: received as f64,
                            total: total.map(|t| t as f64),
                        });
                    }
                },
                || {},
            )
            .await;
        let phase = match result {
            Ok(bytes) => {
                tracing::info!(%version, bytes = bytes.len(), elapsed_ms = started.elapsed().as_millis() as u64, "update downloaded and its signature verified");
                self.inner.lock().unwrap().downloaded = Some(bytes);
                UpdatePhase::Ready { version: version.clone() }
            }
            Err(error) => {
                let failure = Failure::of_download(&error);
                tracing::warn!(%version, detail = failure.detail(), "update download refused: {}", failure.message());
                UpdatePhase::Failed { message: failure.message(), version: Some(version.clone()) }
            }
        };
        {
            let mut inner = self.inner.lock().unwrap();
            inner.busy = false;
            inner.phase = phase;
        }
        self.publish();
        self.view()
    }

    /// Install the downloaded update, stop the CLI cleanly and start the new version. Returns only
    /// when that failed (then the current app and its CLI keep running, and the view says why).
    pub async fn install_and_restart(&self) -> UpdateView {
        let (update, bytes) = {
            let mut inner = self.inner.lock().unwrap();
            let (Some(update), Some(bytes)) = (inner.found.clone(), inner.downloaded.take()) else {
                return drop_and_view(inner, self);
            };
            inner.busy = true;
            (update, bytes)
        };
        let version = update.version.clone();
        self.set_phase(UpdatePhase::Installing { version: version.clone() });
        let started = std::time::Instant::now();
        // The package manager (Linux), the app bundle swap (macOS) or the installer (Windows) block.
        let installed = tauri::async_runtime::spawn_blocking(move || update.install(&bytes)).await;
        match installed {
            Ok(Ok(())) => {
                tracing::info!(%version, elapsed_ms = started.elapsed().as_millis() as u64, "update installed; stopping the CLI and restarting");
                // Sessions live in the CLI's home and are untouched; stop the CLI cleanly so it
                // flushes them, and let the new launch take over at once.
                if let Some(state) = self.app.try_state::<crate::AppState>() {
                    state.engine.shutdown().await;
                }
                tauri_plugin_single_instance::destroy(&self.app);
                self.app.restart();
            }
            Ok(Err(error)) => {
                let failure = Failure::from(&error);
                tracing::warn!(%version, detail = failure.detail(), "update not installed: {}", failure.message());
                self.finish_failed(failure.message(), version);
            }
            Err(join) => {
                tracing::error!(%version, error = %join, "the update install task failed");
                self.finish_failed(Failure::InstallFailed(join.to_string()).message(), version);
            }
        }
        self.view()
    }

    fn finish_failed(&self, message: String, version: String) {
        {
            let mut inner = self.inner.lock().unwrap();
            inner.busy = false;
            inner.phase = UpdatePhase::Failed { message, version: Some(version) };
        }
        self.publish();
    }
}

fn drop_and_view(inner: std::sync::MutexGuard<'_, Inner>, updates: &Updates) -> UpdateView {
    drop(inner);
    updates.view()
}

/// The download's size, from the server, before the user agrees to download it.
async fn download_size(update: &Update) -> Option<u64> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().ok()?;
    let response = client.head(update.download_url.clone()).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.headers().get(reqwest::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Register the plugin (Rust-side only).
pub fn plugin() -> tauri::plugin::TauriPlugin<Wry, tauri_plugin_updater::Config> {
    tauri_plugin_updater::Builder::new().build()
}

/// Manage the service; called from setup after the engine is managed.
pub fn manage(app: &AppHandle) -> Result<(), Box<dyn std::error::Error>> {
    let updates = Updates::start(app)?;
    app.manage(updates);
    Ok(())
}
