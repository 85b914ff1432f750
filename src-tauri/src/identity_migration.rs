//! Moves what earlier builds kept under their identifier (`com.copilot-desktop.app`, which
//! clashes with macOS bundle names) to the current one, once, at start: the folders keyed by the
//! identifier (settings, window state, logs, webview data) and the keychain entries, so an
//! existing user keeps their sign-in and settings. It never overwrites: where both exist, the
//! current one wins and the legacy one is left for the user. No Tauri types, so it is tested
//! without a window.

use std::path::{Component, Path, PathBuf};

use crate::auth::keychain::{APP_IDENTIFIER, LEGACY_APP_IDENTIFIER};
use crate::auth::{Keychain, KeychainError, SecretKey};

/// What happened to one folder.
#[derive(Debug, PartialEq, Eq)]
pub enum FolderMove {
    /// No legacy folder: nothing to do (a new user, or moved before).
    NothingThere,
    Moved {
        from: PathBuf,
    },
    /// Both exist; the current one is used and the legacy one stays where it is.
    KeptBoth {
        legacy: PathBuf,
    },
}

/// `current` (a folder keyed by [`APP_IDENTIFIER`]) with that component named
/// [`LEGACY_APP_IDENTIFIER`] instead, or `None` if the path has no such component.
pub fn legacy_folder(current: &Path) -> Option<PathBuf> {
    let mut found = false;
    let legacy: PathBuf = current
        .components()
        .map(|c| match c {
            Component::Normal(name) if name == APP_IDENTIFIER => {
                found = true;
                Component::Normal(LEGACY_APP_IDENTIFIER.as_ref())
            }
            other => other,
        })
        .collect();
    found.then_some(legacy)
}

/// Move the legacy folder of `current` into place when only the legacy one exists.
pub fn move_folder(current: &Path) -> std::io::Result<FolderMove> {
    let Some(legacy) = legacy_folder(current) else { return Ok(FolderMove::NothingThere) };
    if !legacy.is_dir() {
        return Ok(FolderMove::NothingThere);
    }
    if current.exists() {
        return Ok(FolderMove::KeptBoth { legacy });
    }
    if let Some(parent) = current.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(&legacy, current)?;
    Ok(FolderMove::Moved { from: legacy })
}

/// Move each folder, saying what happened; a failure is reported and the app goes on with a
/// fresh folder (the legacy one stays where it was, for the user to recover).
pub fn move_folders(folders: &[PathBuf]) -> Vec<String> {
    let mut report = Vec::new();
    for folder in folders {
        match move_folder(folder) {
            Ok(FolderMove::NothingThere) => {}
            Ok(FolderMove::Moved { from }) => report.push(format!("moved {} to {}", from.display(), folder.display())),
            Ok(FolderMove::KeptBoth { legacy }) => {
                report.push(format!("kept {} and left {} as it was", folder.display(), legacy.display()))
            }
            Err(error) => report.push(format!("could not move the legacy folder of {}: {error}", folder.display())),
        }
    }
    report
}

/// Move the keychain entries the app reads at start from the legacy service to the current one.
pub async fn move_keychain_entries(current: &Keychain, legacy: &Keychain, keys: &[SecretKey]) -> Vec<String> {
    let mut report = Vec::new();
    for key in keys {
        match current.adopt(legacy, key).await {
            Ok(true) => report.push(format!("moved the keychain entry {} from {}", key.account(), legacy.service())),
            Ok(false) => {}
            Err(error @ KeychainError::Unavailable { .. }) => {
                // No keychain at all: nothing could have been stored under the old name either.
                report.push(format!("keychain not checked for legacy entries: {}", error.code()));
                break;
            }
            Err(error) => report.push(format!("could not move the keychain entry {}: {}", key.account(), error.code())),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_folder_swaps_only_the_identifier() {
        let current = Path::new("/home/u/.config").join(APP_IDENTIFIER);
        assert_eq!(legacy_folder(&current), Some(Path::new("/home/u/.config").join(LEGACY_APP_IDENTIFIER)));
        let logs = Path::new("/home/u/.local/share").join(APP_IDENTIFIER).join("logs");
        assert_eq!(
            legacy_folder(&logs),
            Some(Path::new("/home/u/.local/share").join(LEGACY_APP_IDENTIFIER).join("logs"))
        );
        assert_eq!(legacy_folder(Path::new("/tmp/elsewhere")), None);
        assert_ne!(APP_IDENTIFIER, LEGACY_APP_IDENTIFIER);
        assert!(!APP_IDENTIFIER.ends_with(".app"), "macOS reads a trailing .app as a bundle");
    }

    #[test]
    fn a_legacy_folder_moves_once_and_never_over_a_current_one() {
        let root = tempfile::tempdir().unwrap();
        let current = root.path().join(APP_IDENTIFIER);
        let legacy = root.path().join(LEGACY_APP_IDENTIFIER);
        std::fs::create_dir_all(&legacy).unwrap();
        std::fs::write(legacy.join("settings.json"), r#"{"schemaVersion":1}"#).unwrap();

        assert_eq!(move_folder(&current).unwrap(), FolderMove::Moved { from: legacy.clone() });
        assert_eq!(std::fs::read_to_string(current.join("settings.json")).unwrap(), r#"{"schemaVersion":1}"#);
        assert!(!legacy.exists());
        assert_eq!(move_folder(&current).unwrap(), FolderMove::NothingThere, "a second start has nothing to move");

        std::fs::create_dir_all(&legacy).unwrap();
        std::fs::write(legacy.join("settings.json"), "old").unwrap();
        assert_eq!(move_folder(&current).unwrap(), FolderMove::KeptBoth { legacy: legacy.clone() });
        assert_eq!(std::fs::read_to_string(current.join("settings.json")).unwrap(), r#"{"schemaVersion":1}"#);
        assert_eq!(std::fs::read_to_string(legacy.join("settings.json")).unwrap(), "old");
        assert_eq!(move_folders(std::slice::from_ref(&current)).len(), 1, "the kept pair is reported");
    }

    #[test]
    fn a_nested_folder_gets_its_parent_created() {
        let root = tempfile::tempdir().unwrap();
        let legacy_logs = root.path().join(LEGACY_APP_IDENTIFIER).join("logs");
        std::fs::create_dir_all(&legacy_logs).unwrap();
        std::fs::write(legacy_logs.join("copilot-desktop.log"), "line").unwrap();
        let current_logs = root.path().join(APP_IDENTIFIER).join("logs");
        assert!(matches!(move_folder(&current_logs).unwrap(), FolderMove::Moved { .. }));
        assert_eq!(std::fs::read_to_string(current_logs.join("copilot-desktop.log")).unwrap(), "line");
    }
}
