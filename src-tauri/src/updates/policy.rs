//! What the updater decides without a window or a network: when an automatic check is due, which
//! feed to ask, and what to tell the user when something goes wrong. Unit-tested here.

use std::time::Duration;

use url::Url;

/// Automatic checks run at most this often (at start, and while the app stays open).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Replaces the release feed (tests, self-hosting). Release builds accept only https.
pub const UPDATE_URL_ENV: &str = "COPILOT_DESKTOP_UPDATE_URL";

/// Whether an automatic check is due: never checked, or the last one is a day old. A clock that went
/// backwards (last check "in the future") counts as due, so a wrong clock cannot silence updates.
pub fn check_due(check_automatically: bool, last_checked: Option<u64>, now: u64) -> bool {
    if !check_automatically {
        return false;
    }
    match last_checked {
        None => true,
        Some(last) if last > now => true,
        Some(last) => now - last >= CHECK_INTERVAL.as_secs(),
    }
}

/// The feed from [`UPDATE_URL_ENV`], if set: `Err` says why it is not used. Plain http only for
/// loopback hosts in debug builds (the tests' local server); anywhere else it must be https.
pub fn feed_override(value: Option<&str>, debug_build: bool) -> Option<Result<Url, String>> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    Some(match Url::parse(value) {
        Err(e) => Err(format!("{UPDATE_URL_ENV}=\"{value}\" is not a URL ({e})")),
        Ok(url) if url.scheme() == "https" => Ok(url),
        Ok(url) if url.scheme() == "http" && debug_build && is_loopback(&url) => Ok(url),
        Ok(_) => Err(format!("{UPDATE_URL_ENV} must be an https URL")),
    })
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// What went wrong, in the user's words. The current app keeps running in every case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The feed or the download did not answer (down, slow, offline).
    Unreachable(String),
    /// The feed answered with something that is not a release description.
    Malformed(String),
    /// The download stopped before the whole package arrived (connection lost, server gone).
    DownloadCut(String),
    /// The download does not carry a valid signature of our key.
    BadSignature(String),
    /// The download ended early or is not a package of the kind this install uses.
    BadPackage(String),
    /// No room to write the package, or no temporary folder.
    Disk(String),
    /// The package manager (or the admin prompt) refused or failed.
    InstallFailed(String),
    /// This build has no update feed, or the platform is not one the feed serves.
    NotAvailable(String),
}

impl Failure {
    /// One sentence that says what happened and what the user can do.
    pub fn message(&self) -> String {
        match self {
            Self::Unreachable(_) => {
                "Could not reach the update server. Copilot Desktop will try again later; you can also check from the menu.".into()
            }
            Self::Malformed(_) => {
                "The update server sent something that is not a valid release description, so nothing was downloaded.".into()
            }
            Self::DownloadCut(_) => "The download did not complete (the connection was lost or the server stopped answering), so nothing was installed. Try again later.".into(),
            Self::BadSignature(_) => "The downloaded update is not signed with Copilot Desktop's key, so it was refused and nothing was installed. This version keeps working.".into(),
            Self::BadPackage(_) => "The downloaded update is incomplete or damaged, so it was refused and nothing was installed. Try again later.".into(),
            Self::Disk(_) => "There is not enough free disk space (or no writable temporary folder) to install the update. Free some space and try again.".into(),
            Self::InstallFailed(_) => "The update could not be installed (the system's installer refused or was cancelled). This version keeps working; try again or install the new version by hand.".into(),
            Self::NotAvailable(reason) => format!("Updates are not available for this installation: {reason}"),
        }
    }

    /// The underlying detail, for the log (never a secret: URLs and library errors only).
    pub fn detail(&self) -> &str {
        match self {
            Self::Unreachable(d)
            | Self::Malformed(d)
            | Self::DownloadCut(d)
            | Self::BadSignature(d)
            | Self::BadPackage(d)
            | Self::Disk(d)
            | Self::InstallFailed(d)
            | Self::NotAvailable(d) => d,
        }
    }
}

impl From<&tauri_plugin_updater::Error> for Failure {
    fn from(error: &tauri_plugin_updater::Error) -> Self {
        use tauri_plugin_updater::Error as E;
        let detail = error.to_string();
        match error {
            E::Reqwest(e) if e.is_decode() => Self::Malformed(detail),
            E::Reqwest(e) if e.is_body() => Self::BadPackage(detail),
            E::Reqwest(_) | E::Network(_) => Self::Unreachable(detail),
            E::ReleaseNotFound | E::Serialization(_) | E::Semver(_) | E::UrlParse(_) => Self::Malformed(detail),
            E::TargetNotFound(_) | E::TargetsNotFound(_) => {
                Self::NotAvailable(format!("the update server has no build for this system ({detail})"))
            }
            E::Minisign(_)
            | E::Base64(_)
            | E::SignatureUtf8(_)
            | E::SignedVersionMismatch { .. }
            | E::MissingSignedVersion => Self::BadSignature(detail),
            E::InvalidUpdaterFormat => Self::BadPackage(detail),
            E::TempDirNotFound | E::TempDirNotOnSameMountPoint => Self::Disk(detail),
            E::Io(e) if is_disk_full(e) => Self::Disk(detail),
            E::PackageInstallFailed | E::DebInstallFailed | E::AuthenticationFailed | E::Io(_) => {
                Self::InstallFailed(detail)
            }
            E::EmptyEndpoints | E::UnsupportedArch | E::UnsupportedOs | E::InsecureTransportProtocol => {
                Self::NotAvailable(detail)
            }
            _ => Self::InstallFailed(detail),
        }
    }
}

impl Failure {
    /// A failure while downloading: the server was reached (the check just answered), so a network
    /// error means the download was cut, not that the server is unreachable.
    pub fn of_download(error: &tauri_plugin_updater::Error) -> Self {
        match Self::from(error) {
            Self::Unreachable(detail) => Self::DownloadCut(detail),
            other => other,
        }
    }
}

fn is_disk_full(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::StorageFull || error.raw_os_error() == Some(28) // ENOSPC
}

/// "12.3 MB" for a byte count.
pub fn human_size(bytes: u64) -> String {
    const MB: f64 = 1_000_000.0;
    if bytes < 1_000_000 { format!("{} kB", bytes.div_ceil(1000)) } else { format!("{:.1} MB", bytes as f64 / MB) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 60 * 60;

    #[test]
    fn a_check_is_due_once_a_day_and_never_when_turned_off() {
        assert!(check_due(true, None, 1_000));
        assert!(!check_due(true, Some(1_000), 1_000 + DAY - 1));
        assert!(check_due(true, Some(1_000), 1_000 + DAY));
        assert!(check_due(true, Some(5_000), 1_000), "a clock that went back must not silence updates");
        assert!(!check_due(false, None, 1_000));
    }

    #[test]
    fn the_feed_override_takes_https_anywhere_and_http_only_on_loopback_in_debug() {
        assert_eq!(feed_override(None, true), None);
        assert_eq!(feed_override(Some("  "), true), None);
        assert!(feed_override(Some("https://updates.example.com/latest.json"), false).unwrap().is_ok());
        assert!(feed_override(Some("http://127.0.0.1:9/latest.json"), true).unwrap().is_ok());
        assert!(feed_override(Some("http://localhost:9/latest.json"), true).unwrap().is_ok());
        assert!(feed_override(Some("http://127.0.0.1:9/latest.json"), false).unwrap().is_err());
        assert!(feed_override(Some("http://updates.example.com/latest.json"), true).unwrap().is_err());
        assert!(feed_override(Some("not a url"), true).unwrap().unwrap_err().contains("is not a URL"));
    }

    #[test]
    fn failures_say_what_happened_and_what_to_do() {
        let refused = Failure::from(&tauri_plugin_updater::Error::SignatureUtf8("x".into()));
        assert!(matches!(refused, Failure::BadSignature(_)));
        assert!(refused.message().contains("refused"));
        let disk = Failure::from(&tauri_plugin_updater::Error::Io(std::io::Error::from_raw_os_error(28)));
        assert!(disk.message().contains("disk space"), "{}", disk.message());
        let malformed = Failure::from(&tauri_plugin_updater::Error::ReleaseNotFound);
        assert!(matches!(malformed, Failure::Malformed(_)));
        assert!(matches!(Failure::from(&tauri_plugin_updater::Error::PackageInstallFailed), Failure::InstallFailed(_)));
        let cut = Failure::of_download(&tauri_plugin_updater::Error::Network("connection reset".into()));
        assert!(cut.message().contains("did not complete"), "{}", cut.message());
        assert!(matches!(Failure::from(&tauri_plugin_updater::Error::Network("x".into())), Failure::Unreachable(_)));
    }

    #[test]
    fn sizes_read_as_a_person_writes_them() {
        assert_eq!(human_size(999), "1 kB");
        assert_eq!(human_size(45_230_000), "45.2 MB");
    }
}
