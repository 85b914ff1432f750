//! The keychain (src-tauri/src/auth/keychain.rs) against the real Secret Service.
//!
//! Run inside a private D-Bus session with an unlocked gnome-keyring and a throwaway HOME, as
//! scripts/test.sh does. Without a Secret Service these tests fail, with a message saying how to
//! provide one; they never skip. Entries go under a service name of their own per test run
//! (never the app's), so a run against a developer's own keyring cannot touch real tokens, and
//! every test removes what it wrote.

use std::process::Command;
use std::time::Duration;

use copilot_desktop::auth::keychain::APP_IDENTIFIER;
use copilot_desktop::auth::{Keychain, KeychainError, SecretKey, TokenStore};
use copilot_desktop::secret::Sensitive;

const HANG_GUARD: Duration = Duration::from_secs(60);
/// Set in the child process of [`no_secret_service_on_the_bus_is_reported_as_no_keychain`].
const CHILD_MARKER: &str = "COPILOT_DESKTOP_KEYCHAIN_TEST_CHILD";

/// A keychain under a service name unique to this test and run.
fn test_keychain(test: &str) -> Keychain {
    Keychain::with_service(format!("{APP_IDENTIFIER}.tests.{}.{test}", std::process::id()))
}

fn secret(value: &str) -> Sensitive<String> {
    Sensitive::new(value.to_owned())
}

/// Unwrap a keychain result; without a usable Secret Service, fail with directions.
async fn must<T>(what: &str, work: impl std::future::Future<Output = Result<T, KeychainError>>) -> T {
    let result = tokio::time::timeout(HANG_GUARD, work)
        .await
        .unwrap_or_else(|_| panic!("keychain {what} hung for {HANG_GUARD:?} (an unlock prompt nobody can answer?)"));
    result.unwrap_or_else(|error| {
        panic!(
            "keychain {what}: [{}] {error}\n\n\
             These tests need a real, unlocked Secret Service. Run ./scripts/test.sh (a private D-Bus \
             session with an unlocked gnome-keyring in a throwaway HOME), or the same by hand:\n  \
             dbus-run-session -- sh -c 'printf pw | HOME=<an empty dir> gnome-keyring-daemon --unlock \
             --components=secrets >/dev/null; cargo test -p copilot-desktop-tests --test keychain'\n\
             (DBUS_SESSION_BUS_ADDRESS={:?})",
            error.code(),
            std::env::var("DBUS_SESSION_BUS_ADDRESS").ok()
        )
    })
}

/// What `secret-tool` (libsecret, another Secret Service client) finds for an entry, so the
/// tests see the secret in the real store and not only through our own code.
fn secret_tool_lookup(keychain: &Keychain, key: &SecretKey) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", keychain.service(), "username", &key.account()])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools; scripts/setup.sh --test installs it)");
    // secret-tool exits 1 with no output when nothing matches.
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim_end_matches('\n').to_owned())
}

#[tokio::test]
async fn store_load_overwrite_delete() {
    let keychain = test_keychain("round_trip");
    let key = SecretKey::github("github.com");

    assert!(must("load before store", keychain.load(&key)).await.is_none());
    must("store", keychain.store(&key, secret("gho_RealSecretServiceToken00000001"))).await;
    let loaded = must("load", keychain.load(&key)).await.expect("stored token");
    assert_eq!(loaded.expose(), "gho_RealSecretServiceToken00000001");
    assert_eq!(
        secret_tool_lookup(&keychain, &key).as_deref(),
        Some("gho_RealSecretServiceToken00000001"),
        "the token is in the Secret Service, where other clients can see it"
    );

    must("overwrite", keychain.store(&key, secret("gho_RealSecretServiceToken00000002"))).await;
    let loaded = must("load after overwrite", keychain.load(&key)).await.expect("stored token");
    assert_eq!(loaded.expose(), "gho_RealSecretServiceToken00000002");
    assert_eq!(secret_tool_lookup(&keychain, &key).as_deref(), Some("gho_RealSecretServiceToken00000002"));

    must("delete", keychain.delete(&key)).await;
    assert!(must("load after delete", keychain.load(&key)).await.is_none());
    assert_eq!(secret_tool_lookup(&keychain, &key), None);
    must("delete again", keychain.delete(&key)).await;
}

#[tokio::test]
async fn hosts_and_providers_do_not_collide() {
    let keychain = test_keychain("namespacing");
    let public = SecretKey::github("github.com");
    let enterprise = SecretKey::github("tenant.ghe.com");
    let provider = SecretKey::provider("openai");

    must("store github.com", keychain.store(&public, secret("gho_PublicHostToken000000000001"))).await;
    must("store tenant.ghe.com", keychain.store(&enterprise, secret("gho_EnterpriseToken00000000001"))).await;
    must("store provider", keychain.store(&provider, secret("sk-provider-key-000000000001"))).await;

    let load = |key: SecretKey| {
        let keychain = keychain.clone();
        async move { must("load", keychain.load(&key)).await.map(|s| s.expose().clone()) }
    };
    assert_eq!(load(public.clone()).await.as_deref(), Some("gho_PublicHostToken000000000001"));
    assert_eq!(load(enterprise.clone()).await.as_deref(), Some("gho_EnterpriseToken00000000001"));
    assert_eq!(load(provider.clone()).await.as_deref(), Some("sk-provider-key-000000000001"));

    // Another service (another build of the app) sees none of them.
    let other = test_keychain("namespacing_other");
    assert!(must("load from another service", other.load(&public)).await.is_none());

    must("delete github.com", keychain.delete(&public)).await;
    assert_eq!(load(public.clone()).await, None);
    assert_eq!(load(enterprise.clone()).await.as_deref(), Some("gho_EnterpriseToken00000000001"));
    assert_eq!(load(provider.clone()).await.as_deref(), Some("sk-provider-key-000000000001"));

    must("delete tenant.ghe.com", keychain.delete(&enterprise)).await;
    must("delete provider", keychain.delete(&provider)).await;
}

#[tokio::test]
async fn token_store_keeps_keychain_secrets_beyond_the_store_value() {
    let service_keychain = test_keychain("token_store");
    let key = SecretKey::github("github.com");
    let store = TokenStore::Keychain(service_keychain.clone());
    assert!(store.is_persistent());
    must("store through TokenStore", store.store(&key, secret("gho_TokenStoreToken00000000001"))).await;
    drop(store);
    // A new handle (as after a restart) reads it back from the keychain.
    let again = TokenStore::Keychain(service_keychain);
    let loaded = must("load through a new TokenStore", again.load(&key)).await;
    assert_eq!(loaded.map(|s| s.expose().clone()).as_deref(), Some("gho_TokenStoreToken00000000001"));
    must("delete through TokenStore", again.delete(&key)).await;
}

/// Re-run [`child_without_a_session_bus`] in a child process whose session bus address points
/// at nothing (environment variables are process-wide, so not in this process).
#[test]
fn no_secret_service_on_the_bus_is_reported_as_no_keychain() {
    let nowhere = tempfile::tempdir().expect("temp dir");
    let address = format!("unix:path={}", nowhere.path().join("no-bus-here").display());
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_without_a_session_bus", "--ignored", "--nocapture", "--test-threads=1"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env(CHILD_MARKER, "1")
        .output()
        .expect("re-run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("load: keychain_unavailable: No Secret Service"), "{stdout}");
}

#[tokio::test]
#[ignore = "helper: run in a child process by no_secret_service_on_the_bus_is_reported_as_no_keychain"]
async fn child_without_a_session_bus() {
    assert_eq!(std::env::var(CHILD_MARKER).as_deref(), Ok("1"), "run only by its parent test");
    let keychain = test_keychain("no_bus");
    let key = SecretKey::github("github.com");
    let errors = [
        ("load", keychain.load(&key).await.map(|_| ()).expect_err("load without a bus")),
        (
            "store",
            keychain.store(&key, secret("gho_NeverStored0000000000000001")).await.expect_err("store without a bus"),
        ),
        ("delete", keychain.delete(&key).await.expect_err("delete without a bus")),
    ];
    for (what, error) in errors {
        println!("{what}: {}: {error}", error.code());
        assert_eq!(error.code(), "keychain_unavailable", "{what}: {error:?}");
        let message = error.to_string();
        assert!(message.starts_with("No Secret Service (gnome-keyring or KWallet) is running"), "{message}");
        assert!(message.contains("for this run only"), "{message}");
        assert!(!message.contains("gho_NeverStored"), "{message}");
    }
}

#[tokio::test]
async fn entries_under_the_legacy_identifier_move_once_and_never_over_current_ones() {
    use copilot_desktop::identity_migration::move_keychain_entries;
    let current = test_keychain("adopt-current");
    let legacy = test_keychain("adopt-legacy");
    let (github, provider) = (SecretKey::github("github.com"), SecretKey::provider("default"));
    must("store", legacy.store(&github, secret("gho_legacyentry0000000000000000000001"))).await;
    must("store", legacy.store(&provider, secret("sk-legacy-provider-key"))).await;
    must("store", current.store(&provider, secret("sk-current-provider-key"))).await;

    let report = move_keychain_entries(&current, &legacy, &[github.clone(), provider.clone()]).await;
    assert_eq!(report.len(), 1, "only the GitHub entry moved: {report:?}");
    assert_eq!(must("load", current.load(&github)).await.unwrap().expose(), "gho_legacyentry0000000000000000000001");
    assert!(must("load", legacy.load(&github)).await.is_none(), "the moved entry is gone from the legacy service");
    assert_eq!(
        must("load", current.load(&provider)).await.unwrap().expose(),
        "sk-current-provider-key",
        "never overwritten"
    );
    assert_eq!(
        must("load", legacy.load(&provider)).await.unwrap().expose(),
        "sk-legacy-provider-key",
        "left for the user"
    );
    assert!(
        move_keychain_entries(&current, &legacy, std::slice::from_ref(&github)).await.is_empty(),
        "a second start moves nothing"
    );

    for (keychain, key) in [(&current, &github), (&current, &provider), (&legacy, &provider)] {
        must("delete", keychain.delete(key)).await;
    }
}
