//! Who the Copilot CLI is signed in as, from `account.getCurrentAuth`. The CLI's answer can
//! carry the credential itself (a token, an API key): this module copies out the identity
//! fields only, so nothing that holds a secret leaves it.

use serde_json::{Value, json};

use github_copilot_sdk::Client;

use super::error::EngineResult;
use super::logging::redact;

/// The CLI's sign-in, without credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CurrentAuth {
    /// How the CLI authenticated: `token` (ours, through `--auth-token-env`), `env`
    /// (`COPILOT_GITHUB_TOKEN`, `GH_TOKEN`, ...), `user` (its own stored login), `gh-cli`,
    /// `api-key`, `hmac`, ... `None` when it is not signed in at all.
    pub kind: Option<String>,
    /// GitHub host without scheme (`github.com`, `tenant.ghe.com`).
    pub host: Option<String>,
    pub login: Option<String>,
    /// Copilot plan as GitHub names it (`individual`, `individual_pro`, `business`, ...).
    pub plan: Option<String>,
    /// For `env`: the variable the token came from.
    pub env_var: Option<String>,
    /// GitHub accepted the credential: the CLI could fetch the Copilot user with it. A token the
    /// CLI was given but GitHub refused (revoked, expired) has a `kind` and no Copilot user.
    pub verified: bool,
    /// Authentication errors from the CLI's last attempt (redacted).
    pub errors: Vec<String>,
}

impl CurrentAuth {
    pub fn is_signed_in(&self) -> bool {
        self.kind.is_some()
    }
}

/// Read an `account.getCurrentAuth` answer.
pub fn parse_current_auth(value: &Value) -> CurrentAuth {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let errors = value
        .get("authErrors")
        .and_then(Value::as_array)
        .map(|all| all.iter().filter_map(Value::as_str).map(|e| redact(e).into_owned()).collect())
        .unwrap_or_default();
    let Some(info) = value.get("authInfo").filter(|v| v.is_object()) else {
        return CurrentAuth { errors, ..CurrentAuth::default() };
    };
    let user = info.get("copilotUser").filter(|v| v.is_object());
    let host = match info.get("host") {
        Some(Value::String(host)) => Some(host.clone()),
        // HMAC auth names its host as an object.
        Some(other) => text(other, "url").or_else(|| text(other, "host")),
        None => None,
    };
    CurrentAuth {
        kind: text(info, "type"),
        host: host.map(|h| bare_host(&h)).filter(|h| !h.is_empty()),
        login: user.and_then(|u| text(u, "login")).or_else(|| text(info, "login")),
        plan: user.and_then(|u| text(u, "copilot_plan")),
        env_var: text(info, "envVar"),
        verified: user.is_some(),
        errors,
    }
}

fn bare_host(host: &str) -> String {
    let host = host.trim();
    let host = host.strip_prefix("https://").or_else(|| host.strip_prefix("http://")).unwrap_or(host);
    host.trim_end_matches('/').to_ascii_lowercase()
}

/// Ask a connected CLI who it is signed in as.
pub async fn current_auth(client: &Client) -> EngineResult<CurrentAuth> {
    let value = client.call("account.getCurrentAuth", Some(json!({}))).await?;
    Ok(parse_current_auth(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shapes seen from CLI 1.0.102 against the fake GitHub (tests/src/fake_github.rs).
    #[test]
    fn a_token_github_accepted() {
        let auth = parse_current_auth(&json!({"authInfo": {
            "type": "token", "host": "https://github.com", "token": "gho_shouldneverbecopied0000",
            "copilotUser": {"login": "octo-tester", "copilot_plan": "individual_pro", "chat_enabled": true}
        }}));
        assert_eq!(auth.kind.as_deref(), Some("token"));
        assert_eq!(auth.host.as_deref(), Some("github.com"));
        assert_eq!(auth.login.as_deref(), Some("octo-tester"));
        assert_eq!(auth.plan.as_deref(), Some("individual_pro"));
        assert!(auth.verified && auth.is_signed_in());
        assert!(!format!("{auth:?}").contains("gho_"), "no credential is copied: {auth:?}");
    }

    #[test]
    fn a_token_github_refused_has_no_copilot_user() {
        let auth = parse_current_auth(&json!({"authInfo": {"type": "token", "host": "https://github.com"}}));
        assert!(auth.is_signed_in());
        assert!(!auth.verified);
        assert_eq!(auth.login, None);
    }

    #[test]
    fn an_environment_token_names_its_variable() {
        let auth = parse_current_auth(&json!({"authInfo": {
            "type": "env", "host": "https://Tenant.GHE.com/", "login": "octo-tester", "envVar": "GH_TOKEN",
            "copilotUser": {"login": "octo-tester", "copilot_plan": "business"}
        }}));
        assert_eq!(auth.env_var.as_deref(), Some("GH_TOKEN"));
        assert_eq!(auth.host.as_deref(), Some("tenant.ghe.com"));
        assert_eq!(auth.plan.as_deref(), Some("business"));
    }

    #[test]
    fn nobody_signed_in() {
        let auth = parse_current_auth(&json!({}));
        assert_eq!(auth, CurrentAuth::default());
        assert!(!auth.is_signed_in());
        let auth = parse_current_auth(&json!({"authErrors": ["Bad credentials for ghp_0123456789abcdefghijklmn"]}));
        assert!(!auth.is_signed_in());
        assert_eq!(auth.errors, vec!["Bad credentials for <redacted>".to_owned()]);
    }
}
