//! GitHub's OAuth device flow: ask `<host>/login/device/code` for a user code, then poll
//! `<host>/login/oauth/access_token` until the user approves it in a browser.
//!
//! This module owns the HTTP conversation and its timing rules (interval, `slow_down`, back-off,
//! expiry). It does not open the browser (the UI does) and does not keep the token (see
//! [`super::keychain`]); the token leaves here only as a [`Sensitive<String>`].

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::engine::logging::register_secret;
use crate::secret::Sensitive;

/// Cancels a running [`DeviceFlowClient::poll`]; re-exported so callers need no extra crate.
pub use tokio_util::sync::CancellationToken;

/// github.com; GitHub Enterprise Cloud hosts such as `tenant.ghe.com` work the same way.
pub const DEFAULT_HOST: &str = "github.com";
/// Copilot access comes from the user's seat, so reading the profile is all the app asks for.
pub const DEFAULT_SCOPE: &str = "read:user";
/// The `grant_type` of a device-code token request (RFC 8628, section 3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Seconds added to the interval for every `slow_down` (RFC 8628, section 3.5).
const SLOW_DOWN_STEP_SECS: u64 = 5;
/// The interval when GitHub names none (RFC 8628's default).
const DEFAULT_INTERVAL_SECS: u64 = 5;
/// How long a code lives when GitHub does not say (GitHub's own value).
const DEFAULT_EXPIRES_IN_SECS: u64 = 900;

/// Where and as whom to sign in.
#[derive(Clone, Debug)]
pub struct DeviceFlowConfig {
    /// GitHub host name, without scheme: `github.com` or `tenant.ghe.com`.
    pub host: String,
    /// Replaces `https://<host>` as the base of both endpoints (tests: `http://127.0.0.1:PORT`).
    pub base_url: Option<String>,
    /// The OAuth app's client id (not a secret).
    pub client_id: String,
    /// Space-separated OAuth scopes.
    pub scope: String,
    /// How long one of GitHub's seconds lasts here. Always one second in the app; tests shrink
    /// it so that an interval of 5 and a code that lives 900 "seconds" do not take real minutes.
    pub second: Duration,
    /// Ceiling, in GitHub seconds, of the back-off after server or network errors (never below
    /// the current interval).
    pub max_backoff_secs: u64,
    /// Limit on one HTTP request, in real time.
    pub request_timeout: Duration,
}

impl DeviceFlowConfig {
    /// github.com, [`DEFAULT_SCOPE`], real seconds.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            base_url: None,
            client_id: client_id.into(),
            scope: DEFAULT_SCOPE.to_owned(),
            second: Duration::from_secs(1),
            max_backoff_secs: 30,
            request_timeout: Duration::from_secs(30),
        }
    }

    /// Sign in to another GitHub host (GitHub Enterprise Cloud: `tenant.ghe.com`).
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Send both requests to `base_url` instead of `https://<host>` (a local fake in tests).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The base both endpoints hang off, without a trailing slash.
    pub fn base_url(&self) -> Result<String, DeviceFlowError> {
        match &self.base_url {
            Some(url) => Ok(url.trim_end_matches('/').to_owned()),
            None => Ok(format!("https://{}", normalize_host(&self.host)?)),
        }
    }

    fn duration(&self, github_secs: u64) -> Duration {
        self.second.saturating_mul(u32::try_from(github_secs).unwrap_or(u32::MAX))
    }
}

/// Accept `github.com`, `https://tenant.ghe.com/` and the like; refuse anything with a path.
pub fn normalize_host(host: &str) -> Result<String, DeviceFlowError> {
    let trimmed = host.trim();
    let bare = trimmed.strip_prefix("https://").unwrap_or(trimmed).trim_end_matches('/');
    let valid = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if valid { Ok(bare.to_ascii_lowercase()) } else { Err(DeviceFlowError::InvalidHost { host: host.to_owned() }) }
}

/// What `/login/device/code` handed out: show `user_code`, open `verification_uri`.
#[derive(Clone, Debug)]
pub struct DeviceCode {
    /// The code the app polls with; whoever holds it during the next minutes can collect the token.
    pub device_code: Sensitive<String>,
    /// The short code the user types on GitHub (`WDJB-MJHT`).
    pub user_code: String,
    /// Where the user types it (`https://github.com/login/device`); always http(s).
    pub verification_uri: String,
    /// Lifetime GitHub announced, in GitHub seconds.
    pub expires_in: u64,
    /// Minimum time between polls GitHub asked for, in GitHub seconds (at least 1).
    pub interval: u64,
    /// When the code stops working, on this machine's clock.
    pub expires_at: Instant,
}

/// Progress of [`DeviceFlowClient::poll`], reported after every change so a UI can show the code,
/// a countdown, and "still trying to reach GitHub" when the network is down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceFlowState {
    /// Waiting for the user to enter `user_code` at `verification_uri`.
    Waiting {
        user_code: String,
        verification_uri: String,
        expires_at: Instant,
        /// Current poll interval in GitHub seconds; grows with every `slow_down`.
        interval: u64,
        /// GitHub seconds until the next poll: the interval, or longer while backing off.
        next_poll_in: u64,
        /// Polls answered so far (any answer).
        polls: u32,
        /// Set while GitHub cannot be reached or answers with server errors: what went wrong.
        trouble: Option<String>,
    },
    /// GitHub handed out a token.
    SignedIn,
    /// The flow ended without a token; `code` is [`DeviceFlowError::code`].
    Failed { code: &'static str, reason: String },
}

/// Why sign-in did not produce a token. Messages say what happened and what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum DeviceFlowError {
    #[error(
        "\"{host}\" is not a GitHub host name. Enter just the host, for example github.com or your-company.ghe.com."
    )]
    InvalidHost { host: String },
    #[error("Could not reach {host}: {}. Check your internet connection (and proxy), then try again.", detail.trim_end_matches('.'))]
    Network { host: String, detail: String },
    #[error("{host} is having trouble right now (HTTP {status}). Try again in a minute.")]
    Server { host: String, status: u16 },
    #[error("The sign-in code expired before it was approved.{} Start sign-in again to get a new code.", last_trouble.as_deref().map(|t| format!(" The last attempt to reach GitHub failed: {}.", t.trim_end_matches('.'))).unwrap_or_default())]
    Expired { last_trouble: Option<String> },
    #[error("Sign-in was cancelled on GitHub (access denied). Start sign-in again if that was a mistake.")]
    Denied,
    #[error(
        "Device sign-in is turned off for this app on {host}. On GitHub Enterprise, ask an administrator to allow it; otherwise report this to the app's developers."
    )]
    Disabled { host: String },
    #[error("{host} refused the sign-in: {error}{}. Try again; if it keeps happening, report it.", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected { host: String, error: String, description: Option<String> },
    #[error("The answer from {host} could not be understood ({}). Check that {host} is a GitHub host, then try again.", detail.trim_end_matches('.'))]
    Malformed { host: String, detail: String },
    #[error("Sign-in was cancelled.")]
    Cancelled,
}

impl DeviceFlowError {
    /// A stable, machine-readable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidHost { .. } => "invalid_host",
            Self::Network { .. } => "network",
            Self::Server { .. } => "server",
            Self::Expired { .. } => "expired",
            Self::Denied => "denied",
            Self::Disabled { .. } => "disabled",
            Self::Rejected { .. } => "rejected",
            Self::Malformed { .. } => "malformed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The interval after a `slow_down`: five seconds more, or GitHub's new interval if that is larger.
pub(crate) fn interval_after_slow_down(current: u64, returned: Option<u64>) -> u64 {
    current.saturating_add(SLOW_DOWN_STEP_SECS).max(returned.unwrap_or(0))
}

/// Wait after `failures` (>= 1) transient errors in a row: the interval doubled per failure,
/// capped at `max_backoff` (or at the interval itself, should that be larger).
pub(crate) fn backoff_secs(interval: u64, failures: u32, max_backoff: u64) -> u64 {
    let ceiling = max_backoff.max(interval);
    interval.saturating_mul(1u64 << failures.min(20)).min(ceiling)
}

/// One answer of the token endpoint, sorted by what the poll loop does with it.
#[derive(Debug)]
pub(crate) enum PollAnswer {
    Token(Sensitive<String>),
    Pending,
    SlowDown {
        interval: Option<u64>,
    },
    /// Worth another try after a back-off (server error, network trouble).
    Transient(String),
    Fatal(DeviceFlowError),
}

fn json_object(status: u16, body: &str, host: &str) -> Result<serde_json::Map<String, Value>, DeviceFlowError> {
    let malformed = |detail: String| DeviceFlowError::Malformed { host: host.to_owned(), detail };
    // Only serde's position is quoted, never the body: it may hold a token.
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed(format!("HTTP {status}, JSON that is not an object"))),
        Err(e) if (300..400).contains(&status) => Err(malformed(format!("HTTP {status}, a redirect: {e}"))),
        Err(e) => Err(malformed(format!("HTTP {status}, not JSON: {e}"))),
    }
}

fn error_field(map: &serde_json::Map<String, Value>) -> Option<(String, Option<String>)> {
    let error = map.get("error")?.as_str()?.to_owned();
    let description = map.get("error_description").and_then(Value::as_str).map(str::to_owned);
    Some((error, description))
}

/// An `error` that ends the flow (or the code request).
fn fatal_error(host: &str, error: String, description: Option<String>) -> DeviceFlowError {
    match error.as_str() {
        "expired_token" => DeviceFlowError::Expired { last_trouble: None },
        "access_denied" => DeviceFlowError::Denied,
        "device_flow_disabled" => DeviceFlowError::Disabled { host: host.to_owned() },
        _ => DeviceFlowError::Rejected { host: host.to_owned(), error, description },
    }
}

fn is_transient_status(status: u16) -> bool {
    status >= 500 || status == 429
}

/// Read one answer of `/login/oauth/access_token`. GitHub reports errors with HTTP 200 and an
/// `error` field, so the body decides, not the status (except for 5xx and 429, which mean "later").
pub(crate) fn classify_token_answer(status: u16, body: &str, host: &str) -> PollAnswer {
    if is_transient_status(status) {
        return PollAnswer::Transient(format!("{host} answered HTTP {status}"));
    }
    let map = match json_object(status, body, host) {
        Ok(map) => map,
        Err(e) => return PollAnswer::Fatal(e),
    };
    if let Some((error, description)) = error_field(&map) {
        return match error.as_str() {
            "authorization_pending" => PollAnswer::Pending,
            "slow_down" => PollAnswer::SlowDown { interval: map.get("interval").and_then(Value::as_u64) },
            _ => PollAnswer::Fatal(fatal_error(host, error, description)),
        };
    }
    match map.get("access_token").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => PollAnswer::Token(Sensitive::new(token.to_owned())),
        _ => PollAnswer::Fatal(DeviceFlowError::Malformed {
            host: host.to_owned(),
            detail: format!("HTTP {status}, neither an access token nor an error"),
        }),
    }
}

/// The fields of a `/login/device/code` answer (before the clock is attached).
#[derive(Deserialize)]
pub(crate) struct DeviceCodeAnswer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: Option<u64>,
    interval: Option<u64>,
}

impl std::fmt::Debug for DeviceCodeAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodeAnswer")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Read one answer of `/login/device/code`.
pub(crate) fn parse_device_code_answer(
    status: u16,
    body: &str,
    host: &str,
) -> Result<DeviceCodeAnswer, DeviceFlowError> {
    if is_transient_status(status) {
        return Err(DeviceFlowError::Server { host: host.to_owned(), status });
    }
    let map = json_object(status, body, host)?;
    if let Some((error, description)) = error_field(&map) {
        return Err(fatal_error(host, error, description));
    }
    let malformed = |detail: String| DeviceFlowError::Malformed { host: host.to_owned(), detail };
    let answer: DeviceCodeAnswer = serde_json::from_value(Value::Object(map))
        .map_err(|e| malformed(format!("HTTP {status}, device code answer: {e}")))?;
    // The UI opens this address in the browser: only ever a web page.
    let uri_ok = url::Url::parse(&answer.verification_uri).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if !uri_ok {
        return Err(malformed("the verification address is not a web address".to_owned()));
    }
    if answer.device_code.is_empty() || answer.user_code.is_empty() {
        return Err(malformed("an empty device or user code".to_owned()));
    }
    Ok(answer)
}

/// Every error in a chain, joined: reqwest's top-level message alone hides the cause.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
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

/// Speaks the device flow to one GitHub host.
#[derive(Clone, Debug)]
pub struct DeviceFlowClient {
    config: DeviceFlowConfig,
    base_url: String,
    host: String,
    http: reqwest::Client,
}

impl DeviceFlowClient {
    pub fn new(config: DeviceFlowConfig) -> Result<Self, DeviceFlowError> {
        // Messages name the configured host, even when a test sends the requests elsewhere.
        let host = normalize_host(&config.host)?;
        let base_url = config.base_url()?;
        // reqwest is built without a default crypto provider; ring is ours. Err means one is
        // already installed for the process, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("copilot-desktop/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the device code elsewhere; treat it as a wrong host instead.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.request_timeout.min(Duration::from_secs(15)))
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| DeviceFlowError::Network { host: host.clone(), detail: describe(&e) })?;
        Ok(Self { config, base_url, host, http })
    }

    pub fn config(&self) -> &DeviceFlowConfig {
        &self.config
    }

    /// Ask GitHub for a device code and a user code. Nothing is retried here: a failure is shown
    /// and the user starts again.
    pub async fn request_code(&self) -> Result<DeviceCode, DeviceFlowError> {
        let url = format!("{}/login/device/code", self.base_url);
        let network = |e: reqwest::Error| DeviceFlowError::Network { host: self.host.clone(), detail: describe(&e) };
        let response = self
            .http
            .post(url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .form(&[("client_id", self.config.client_id.as_str()), ("scope", self.config.scope.as_str())])
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(network)?;
        let answer = parse_device_code_answer(status, &body, &self.host)?;
        let device_code = Sensitive::new(answer.device_code);
        register_secret(&device_code);
        let expires_in = answer.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS);
        let interval = answer.interval.unwrap_or(DEFAULT_INTERVAL_SECS).max(1);
        tracing::info!(host = %self.host, expires_in, interval, "device flow: code issued");
        Ok(DeviceCode {
            device_code,
            user_code: answer.user_code,
            verification_uri: answer.verification_uri,
            expires_in,
            interval,
            expires_at: Instant::now() + self.config.duration(expires_in),
        })
    }

    /// Poll until the user approves (the token), refuses, the code expires, or `cancel` fires.
    /// `progress` sees every state change, ending with `SignedIn` or `Failed`.
    pub async fn poll(
        &self,
        code: &DeviceCode,
        cancel: &CancellationToken,
        mut progress: impl FnMut(&DeviceFlowState),
    ) -> Result<Sensitive<String>, DeviceFlowError> {
        let result = self.poll_until_done(code, cancel, &mut progress).await;
        match &result {
            Ok(_) => {
                tracing::info!(host = %self.host, "device flow: signed in");
                progress(&DeviceFlowState::SignedIn);
            }
            Err(error) => {
                tracing::info!(host = %self.host, code = error.code(), "device flow: ended without a token");
                progress(&DeviceFlowState::Failed { code: error.code(), reason: error.to_string() });
            }
        }
        result
    }

    async fn poll_until_done(
        &self,
        code: &DeviceCode,
        cancel: &CancellationToken,
        progress: &mut impl FnMut(&DeviceFlowState),
    ) -> Result<Sensitive<String>, DeviceFlowError> {
        let mut interval = code.interval.max(1);
        let mut failures: u32 = 0;
        let mut polls: u32 = 0;
        let mut trouble: Option<String> = None;
        let expired = |trouble: &Option<String>| DeviceFlowError::Expired { last_trouble: trouble.clone() };
        loop {
            let wait = match failures {
                0 => interval,
                n => backoff_secs(interval, n, self.config.max_backoff_secs),
            };
            progress(&DeviceFlowState::Waiting {
                user_code: code.user_code.clone(),
                verification_uri: code.verification_uri.clone(),
                expires_at: code.expires_at,
                interval,
                next_poll_in: wait,
                polls,
                trouble: trouble.clone(),
            });
            let wake = Instant::now() + self.config.duration(wait);
            if wake >= code.expires_at {
                // The next poll would come too late: wait out the code so a countdown ends at zero.
                tokio::select! {
                    _ = cancel.cancelled() => return Err(DeviceFlowError::Cancelled),
                    _ = tokio::time::sleep_until(code.expires_at) => return Err(expired(&trouble)),
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(DeviceFlowError::Cancelled),
                _ = tokio::time::sleep_until(wake) => {}
            }
            let answer = tokio::select! {
                _ = cancel.cancelled() => return Err(DeviceFlowError::Cancelled),
                _ = tokio::time::sleep_until(code.expires_at) => return Err(expired(&trouble)),
                answer = self.poll_once(code) => answer,
            };
            polls = polls.saturating_add(1);
            match answer {
                PollAnswer::Token(token) => {
                    register_secret(&token);
                    return Ok(token);
                }
                PollAnswer::Pending => {
                    failures = 0;
                    trouble = None;
                }
                PollAnswer::SlowDown { interval: returned } => {
                    interval = interval_after_slow_down(interval, returned);
                    failures = 0;
                    trouble = None;
                    tracing::info!(host = %self.host, interval, "device flow: GitHub asked to slow down");
                }
                PollAnswer::Transient(why) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(host = %self.host, failures, problem = %why, "device flow: poll failed, backing off");
                    trouble = Some(why);
                }
                PollAnswer::Fatal(error) => return Err(error),
            }
        }
    }

    async fn poll_once(&self, code: &DeviceCode) -> PollAnswer {
        let url = format!("{}/login/oauth/access_token", self.base_url);
        let sent = self
            .http
            .post(url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .form(&[
                ("client_id", self.config.client_id.as_str()),
                ("device_code", code.device_code.expose().as_str()),
                ("grant_type", DEVICE_CODE_GRANT),
            ])
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return PollAnswer::Transient(describe(&e)),
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(body) => classify_token_answer(status, &body, &self.host),
            Err(e) => PollAnswer::Transient(describe(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "github.com";

    #[test]
    fn slow_down_adds_five_seconds_or_takes_a_larger_returned_interval() {
        assert_eq!(interval_after_slow_down(5, None), 10);
        assert_eq!(interval_after_slow_down(10, None), 15);
        assert_eq!(interval_after_slow_down(5, Some(7)), 10, "a smaller returned interval loses to +5");
        assert_eq!(interval_after_slow_down(5, Some(10)), 10);
        assert_eq!(interval_after_slow_down(5, Some(42)), 42);
        assert_eq!(interval_after_slow_down(u64::MAX, None), u64::MAX);
    }

    #[test]
    fn backoff_doubles_and_stops_at_the_ceiling() {
        assert_eq!(backoff_secs(5, 1, 30), 10);
        assert_eq!(backoff_secs(5, 2, 30), 20);
        assert_eq!(backoff_secs(5, 3, 30), 30);
        assert_eq!(backoff_secs(5, 50, 30), 30);
        // After slow_down pushed the interval past the ceiling, the interval itself is the floor.
        assert_eq!(backoff_secs(45, 1, 30), 45);
        assert_eq!(backoff_secs(1, 1, 30), 2);
    }

    #[test]
    fn token_answers_are_sorted_by_their_error_field() {
        let pending =
            classify_token_answer(200, r#"{"error":"authorization_pending","error_description":"wait"}"#, HOST);
        assert!(matches!(pending, PollAnswer::Pending), "{pending:?}");
        let slow = classify_token_answer(200, r#"{"error":"slow_down"}"#, HOST);
        assert!(matches!(slow, PollAnswer::SlowDown { interval: None }), "{slow:?}");
        let slow = classify_token_answer(200, r#"{"error":"slow_down","interval":15}"#, HOST);
        assert!(matches!(slow, PollAnswer::SlowDown { interval: Some(15) }), "{slow:?}");

        let fatal = |body: &str| match classify_token_answer(200, body, HOST) {
            PollAnswer::Fatal(e) => e,
            other => panic!("expected a fatal answer for {body}, got {other:?}"),
        };
        assert_eq!(fatal(r#"{"error":"expired_token"}"#).code(), "expired");
        assert_eq!(fatal(r#"{"error":"access_denied"}"#).code(), "denied");
        assert_eq!(fatal(r#"{"error":"device_flow_disabled"}"#).code(), "disabled");
        let unknown =
            fatal(r#"{"error":"incorrect_client_credentials","error_description":"The client_id is wrong."}"#);
        assert_eq!(unknown.code(), "rejected");
        assert!(unknown.to_string().contains("incorrect_client_credentials"), "{unknown}");
        assert!(unknown.to_string().contains("The client_id is wrong."), "{unknown}");
    }

    #[test]
    fn a_token_is_taken_from_the_body_and_never_shown() {
        match classify_token_answer(
            200,
            r#"{"access_token":"gho_abc123","token_type":"bearer","scope":"read:user"}"#,
            HOST,
        ) {
            PollAnswer::Token(token) => {
                assert_eq!(token.expose(), "gho_abc123");
                assert_eq!(format!("{token:?}"), "<redacted>");
            }
            other => panic!("expected a token, got {other:?}"),
        }
    }

    #[test]
    fn malformed_answers_stop_without_quoting_the_body() {
        for (status, body) in [
            (200, "<html>not json gho_secretish</html>"),
            (200, "[1,2]"),
            (200, r#"{"token_type":"bearer"}"#),
            (200, r#"{"access_token":""}"#),
            (404, "Not Found gho_secretish"),
            (301, ""),
        ] {
            match classify_token_answer(status, body, HOST) {
                PollAnswer::Fatal(e) => {
                    assert_eq!(e.code(), "malformed", "{status} {body}");
                    assert!(!e.to_string().contains("secretish"), "{e}");
                    assert!(e.to_string().contains(&format!("HTTP {status}")), "{e}");
                }
                other => panic!("expected malformed for {status} {body}, got {other:?}"),
            }
        }
    }

    #[test]
    fn server_errors_and_rate_limits_are_worth_another_try() {
        for status in [500, 502, 503, 429] {
            let answer = classify_token_answer(status, "oops", HOST);
            assert!(
                matches!(answer, PollAnswer::Transient(ref why) if why.contains(&status.to_string())),
                "{answer:?}"
            );
        }
        // A 4xx with GitHub's error body is read like a 200.
        assert!(matches!(
            classify_token_answer(400, r#"{"error":"authorization_pending"}"#, HOST),
            PollAnswer::Pending
        ));
    }

    #[test]
    fn device_code_answers() {
        let ok = parse_device_code_answer(
            200,
            r#"{"device_code":"dc","user_code":"ABCD-1234","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}"#,
            HOST,
        )
        .unwrap();
        assert_eq!((ok.user_code.as_str(), ok.expires_in, ok.interval), ("ABCD-1234", Some(900), Some(5)));
        assert!(!format!("{ok:?}").contains("\"dc\""), "device code must not be in Debug: {ok:?}");

        let err = |status: u16, body: &str| parse_device_code_answer(status, body, HOST).unwrap_err();
        assert_eq!(err(200, r#"{"error":"device_flow_disabled"}"#).code(), "disabled");
        assert_eq!(err(200, r#"{"error":"unauthorized_client"}"#).code(), "rejected");
        assert_eq!(err(503, "").code(), "server");
        assert_eq!(err(200, "nope").code(), "malformed");
        assert_eq!(err(200, r#"{"device_code":"dc","user_code":"U"}"#).code(), "malformed");
        let not_web = r#"{"device_code":"dc","user_code":"U","verification_uri":"file:///etc/passwd"}"#;
        assert_eq!(err(200, not_web).code(), "malformed");
    }

    #[test]
    fn hosts_are_normalized_and_checked() {
        assert_eq!(normalize_host("github.com").unwrap(), "github.com");
        assert_eq!(normalize_host(" https://Tenant.GHE.com/ ").unwrap(), "tenant.ghe.com");
        assert_eq!(normalize_host("github.com/login").unwrap_err().code(), "invalid_host");
        assert_eq!(normalize_host("").unwrap_err().code(), "invalid_host");
        let config = DeviceFlowConfig::new("client").with_host("tenant.ghe.com");
        assert_eq!(config.base_url().unwrap(), "https://tenant.ghe.com");
        let config = config.with_base_url("http://127.0.0.1:9/");
        assert_eq!(config.base_url().unwrap(), "http://127.0.0.1:9");
    }

    #[test]
    fn github_seconds_scale_with_the_configured_second() {
        let mut config = DeviceFlowConfig::new("client");
        assert_eq!(config.duration(5), Duration::from_secs(5));
        config.second = Duration::from_millis(10);
        assert_eq!(config.duration(5), Duration::from_millis(50));
        assert_eq!(config.duration(900), Duration::from_secs(9));
    }

    #[test]
    fn every_error_has_a_distinct_code_and_a_next_step() {
        let errors = [
            DeviceFlowError::InvalidHost { host: "x/y".into() },
            DeviceFlowError::Network { host: HOST.into(), detail: "refused".into() },
            DeviceFlowError::Server { host: HOST.into(), status: 502 },
            DeviceFlowError::Expired { last_trouble: Some("connection refused".into()) },
            DeviceFlowError::Denied,
            DeviceFlowError::Disabled { host: HOST.into() },
            DeviceFlowError::Rejected { host: HOST.into(), error: "e".into(), description: None },
            DeviceFlowError::Malformed { host: HOST.into(), detail: "d".into() },
            DeviceFlowError::Cancelled,
        ];
        let mut codes: Vec<_> = errors.iter().map(DeviceFlowError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        for error in &errors {
            let text = error.to_string();
            assert!(text.ends_with('.'), "{text}");
            assert!(!text.contains(".."), "{text}");
        }
        assert!(errors[3].to_string().contains("connection refused"));
    }
}
