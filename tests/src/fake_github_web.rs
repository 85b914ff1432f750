//! A fake of GitHub's web endpoints for the OAuth device flow: `POST /login/device/code` and
//! `POST /login/oauth/access_token`.
//!
//! ```no_run
//! # async fn demo() {
//! use copilot_desktop_tests::fake_github_web::{FakeGitHubWeb, PollReply};
//! let github = FakeGitHubWeb::start().await;
//! github.script_polls([PollReply::Pending, PollReply::SlowDown, PollReply::token("gho_fake")]);
//! // DeviceFlowConfig::new(CLIENT_ID).with_base_url(github.url()) ...
//! # }
//! ```
//!
//! Like GitHub, the fake answers errors with HTTP 200 and an `error` field, and answers in JSON
//! only to `Accept: application/json` (otherwise form-encoded, as GitHub does). It checks what a
//! poll carries: an unknown `client_id` gets `incorrect_client_credentials`, a wrong
//! `device_code` `incorrect_device_code`, a wrong `grant_type` `unsupported_grant_type`. Bodies
//! may be form-encoded or JSON.
//!
//! Poll answers come from a script, one per poll, in order; once it runs out every poll gets
//! [`FakeGitHubWeb::set_after_script`]'s answer (pending unless changed). Every request is
//! recorded with its arrival time and fields, so tests can check what was sent and how far apart.
//! Device codes and tokens are kept in memory for assertions and never printed (`Debug` redacts).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::fake_model::{not_found, serve};

/// The client id the fake accepts unless told otherwise.
pub const CLIENT_ID: &str = "Iv1.fakeclient0001";
/// The user code it hands out.
pub const USER_CODE: &str = "WDJB-MJHT";

/// One scripted answer of `/login/oauth/access_token` (or, with
/// [`FakeGitHubWeb::set_code_reply`], of `/login/device/code`).
#[derive(Clone)]
pub enum PollReply {
    /// `{"error": "authorization_pending"}`
    Pending,
    /// `{"error": "slow_down"}` with no interval.
    SlowDown,
    /// `{"error": "slow_down", "interval": n}`
    SlowDownTo(u64),
    /// `{"access_token": ..., "token_type": "bearer", "scope": ...}`
    Token(String),
    /// `{"error": "expired_token"}`
    Expired,
    /// `{"error": "access_denied"}`
    Denied,
    /// `{"error": "device_flow_disabled"}`
    Disabled,
    /// Any other `error` (with an optional `error_description`).
    Error { error: String, description: Option<String> },
    /// HTTP 200 whose body is not JSON.
    Malformed,
    /// This HTTP status with a small text body (500, 502, 503, 429 ...).
    Status(u16),
    /// Wait this long, then answer as the next reply says (a hanging server).
    Delayed(Duration, Box<PollReply>),
}

impl PollReply {
    pub fn token(token: impl Into<String>) -> Self {
        Self::Token(token.into())
    }

    pub fn error(error: impl Into<String>, description: Option<&str>) -> Self {
        Self::Error { error: error.into(), description: description.map(str::to_owned) }
    }

    fn name(&self) -> String {
        match self {
            Self::Pending => "pending".into(),
            Self::SlowDown => "slow_down".into(),
            Self::SlowDownTo(n) => format!("slow_down(interval {n})"),
            Self::Token(_) => "token".into(),
            Self::Expired => "expired_token".into(),
            Self::Denied => "access_denied".into(),
            Self::Disabled => "device_flow_disabled".into(),
            Self::Error { error, .. } => error.clone(),
            Self::Malformed => "malformed".into(),
            Self::Status(status) => format!("HTTP {status}"),
            Self::Delayed(delay, then) => format!("{} after {delay:?}", then.name()),
        }
    }
}

impl fmt::Debug for PollReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// What the fake hands out from `/login/device/code`.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub user_code: String,
    /// `None`: `<fake url>/login/device`.
    pub verification_uri: Option<String>,
    pub expires_in: u64,
    /// `None` leaves the field out (clients must then use 5).
    pub interval: Option<u64>,
}

impl Default for CodeGrant {
    fn default() -> Self {
        Self { user_code: USER_CODE.to_owned(), verification_uri: None, expires_in: 900, interval: Some(5) }
    }
}

/// One request the fake received.
#[derive(Clone)]
pub struct WebRequest {
    /// When it arrived.
    pub at: Instant,
    pub path: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// Body fields, from a form-encoded or JSON body.
    pub fields: HashMap<String, String>,
    /// What the fake answered (for a poll: the reply's name, e.g. `pending`, `HTTP 500`).
    pub answered: String,
}

impl WebRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl fmt::Debug for WebRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field names only: device codes and client ids stay out of test output.
        let mut fields: Vec<&str> = self.fields.keys().map(String::as_str).collect();
        fields.sort_unstable();
        f.debug_struct("WebRequest")
            .field("path", &self.path)
            .field("fields", &fields)
            .field("answered", &self.answered)
            .finish()
    }
}

struct Inner {
    base_url: Mutex<String>,
    client_id: Mutex<String>,
    grant: Mutex<CodeGrant>,
    code_reply: Mutex<Option<PollReply>>,
    issued: Mutex<Vec<String>>,
    script: Mutex<VecDeque<PollReply>>,
    after_script: Mutex<PollReply>,
    requests: Mutex<Vec<WebRequest>>,
}

#[derive(Clone)]
struct WebState(Arc<Inner>);

/// A running fake of github.com's device-flow endpoints on `127.0.0.1:<random port>`.
pub struct FakeGitHubWeb {
    state: WebState,
    addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl FakeGitHubWeb {
    /// Start with [`CLIENT_ID`], the default [`CodeGrant`], and every poll pending.
    pub async fn start() -> FakeGitHubWeb {
        let state = WebState(Arc::new(Inner {
            base_url: Mutex::new(String::new()),
            client_id: Mutex::new(CLIENT_ID.to_owned()),
            grant: Mutex::new(CodeGrant::default()),
            code_reply: Mutex::new(None),
            issued: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            after_script: Mutex::new(PollReply::Pending),
            requests: Mutex::new(Vec::new()),
        }));
        let router = Router::new()
            .route("/login/device/code", post(device_code))
            .route("/login/oauth/access_token", post(access_token))
            .fallback(not_found)
            .with_state(state.clone());
        let (addr, shutdown) = serve(router).await;
        *state.0.base_url.lock().unwrap() = format!("http://{addr}");
        FakeGitHubWeb { state, addr, _shutdown: shutdown }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the base of both endpoints.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accept this client id instead of [`CLIENT_ID`].
    pub fn set_client_id(&self, client_id: impl Into<String>) {
        *self.state.0.client_id.lock().unwrap() = client_id.into();
    }

    /// What `/login/device/code` hands out from now on.
    pub fn set_grant(&self, grant: CodeGrant) {
        *self.state.0.grant.lock().unwrap() = grant;
    }

    /// Answer `/login/device/code` with this instead of a code (`None`: hand out codes again).
    pub fn set_code_reply(&self, reply: Option<PollReply>) {
        *self.state.0.code_reply.lock().unwrap() = reply;
    }

    /// Append answers for the next polls, one each, in order.
    pub fn script_polls(&self, replies: impl IntoIterator<Item = PollReply>) {
        self.state.0.script.lock().unwrap().extend(replies);
    }

    /// The answer to every poll once the script has run out (default: pending).
    pub fn set_after_script(&self, reply: PollReply) {
        *self.state.0.after_script.lock().unwrap() = reply;
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<WebRequest> {
        self.state.0.requests.lock().unwrap().clone()
    }

    /// Requests to `/login/device/code`.
    pub fn code_requests(&self) -> Vec<WebRequest> {
        self.requests().into_iter().filter(|r| r.path == "/login/device/code").collect()
    }

    /// Requests to `/login/oauth/access_token` (polls).
    pub fn polls(&self) -> Vec<WebRequest> {
        self.requests().into_iter().filter(|r| r.path == "/login/oauth/access_token").collect()
    }

    /// Time between consecutive polls.
    pub fn poll_gaps(&self) -> Vec<Duration> {
        self.polls().windows(2).map(|w| w[1].at.duration_since(w[0].at)).collect()
    }

    /// Device codes handed out so far (for assertions; never print them).
    pub fn issued_device_codes(&self) -> Vec<String> {
        self.state.0.issued.lock().unwrap().clone()
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect()
}

/// Body fields of a form-encoded or JSON body (GitHub accepts both).
fn body_fields(headers: &HeaderMap, body: &Bytes) -> HashMap<String, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        value
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default().into_iter().collect()
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

/// An answer in GitHub's style: JSON for `Accept: application/json`, form-encoded otherwise.
fn github_answer(json_wanted: bool, body: Value) -> Response {
    if json_wanted {
        return axum::Json(body).into_response();
    }
    let pairs: Vec<(String, String)> = body
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let text = serde_urlencoded::to_string(pairs).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")], text).into_response()
}

fn error_body(error: &str, description: Option<&str>) -> Value {
    let mut body = json!({ "error": error });
    if let Some(description) = description {
        body["error_description"] = json!(description);
    }
    body
}

/// The response for one scripted reply (after any delay).
async fn render(reply: PollReply, json_wanted: bool, scope: &str) -> Response {
    let mut reply = reply;
    while let PollReply::Delayed(delay, then) = reply {
        tokio::time::sleep(delay).await;
        reply = *then;
    }
    let error = |e: &str, d: &str| github_answer(json_wanted, error_body(e, Some(d)));
    match reply {
        PollReply::Pending => error("authorization_pending", "The authorization request is still pending."),
        PollReply::SlowDown => error("slow_down", "Too many requests have been made in the same timeframe."),
        PollReply::SlowDownTo(interval) => {
            let mut body = error_body("slow_down", Some("Too many requests have been made in the same timeframe."));
            body["interval"] = json!(interval);
            github_answer(json_wanted, body)
        }
        PollReply::Token(token) => {
            github_answer(json_wanted, json!({ "access_token": token, "token_type": "bearer", "scope": scope }))
        }
        PollReply::Expired => error("expired_token", "The device_code has expired."),
        PollReply::Denied => error("access_denied", "The authorization request was denied."),
        PollReply::Disabled => error("device_flow_disabled", "Device Flow must be explicitly enabled for this App"),
        PollReply::Error { error, description } => {
            github_answer(json_wanted, error_body(&error, description.as_deref()))
        }
        PollReply::Malformed => {
            ([(header::CONTENT_TYPE, "application/json")], "<html><body>Whoops, not JSON</body></html>").into_response()
        }
        PollReply::Status(status) => {
            (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "fake server trouble")
                .into_response()
        }
        PollReply::Delayed(..) => unreachable!("delays are unwrapped above"),
    }
}

fn record(state: &WebState, path: &str, headers: &HeaderMap, fields: HashMap<String, String>, answered: String) {
    state.0.requests.lock().unwrap().push(WebRequest {
        at: Instant::now(),
        path: path.to_owned(),
        headers: header_pairs(headers),
        fields,
        answered,
    });
}

async fn device_code(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = body_fields(&headers, &body);
    let json_wanted = wants_json(&headers);
    let scope = fields.get("scope").cloned().unwrap_or_default();
    let scripted = state.0.code_reply.lock().unwrap().clone();
    if let Some(reply) = scripted {
        record(&state, "/login/device/code", &headers, fields, reply.name());
        return render(reply, json_wanted, &scope).await;
    }
    if fields.get("client_id") != Some(&*state.0.client_id.lock().unwrap()) {
        record(&state, "/login/device/code", &headers, fields, "incorrect_client_credentials".into());
        let body = error_body("incorrect_client_credentials", Some("The client_id is not valid."));
        return github_answer(json_wanted, body);
    }
    let device_code = {
        let mut issued = state.0.issued.lock().unwrap();
        let code = format!("fake-device-code-{:04}", issued.len() + 1);
        issued.push(code.clone());
        code
    };
    let grant = state.0.grant.lock().unwrap().clone();
    let verification_uri =
        grant.verification_uri.unwrap_or_else(|| format!("{}/login/device", state.0.base_url.lock().unwrap()));
    let mut answer = json!({
        "device_code": device_code,
        "user_code": grant.user_code,
        "verification_uri": verification_uri,
        "expires_in": grant.expires_in,
    });
    if let Some(interval) = grant.interval {
        answer["interval"] = json!(interval);
    }
    record(&state, "/login/device/code", &headers, fields, "code".into());
    github_answer(json_wanted, answer)
}

async fn access_token(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = body_fields(&headers, &body);
    let json_wanted = wants_json(&headers);
    // Checked like GitHub does, before the script is consulted.
    let refusal = if fields.get("client_id") != Some(&*state.0.client_id.lock().unwrap()) {
        Some(("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."))
    } else if fields.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:device_code") {
        Some(("unsupported_grant_type", "The grant type is not supported."))
    } else if !fields.get("device_code").is_some_and(|code| state.0.issued.lock().unwrap().contains(code)) {
        Some(("incorrect_device_code", "The device_code provided is not valid."))
    } else {
        None
    };
    if let Some((error, description)) = refusal {
        record(&state, "/login/oauth/access_token", &headers, fields, error.to_owned());
        return github_answer(json_wanted, error_body(error, Some(description)));
    }
    let reply =
        state.0.script.lock().unwrap().pop_front().unwrap_or_else(|| state.0.after_script.lock().unwrap().clone());
    let scope = "read:user";
    record(&state, "/login/oauth/access_token", &headers, fields, reply.name());
    render(reply, json_wanted, scope).await
}
