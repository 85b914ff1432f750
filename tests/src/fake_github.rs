//! A fake GitHub + Copilot API for the token path.
//!
//! Start the CLI with [`FakeGitHub::env`] (`COPILOT_API_URL` and `COPILOT_DEBUG_GITHUB_API_URL`
//! pointing here) and a token through `--auth-token-env` (the SDK's `github_token` option does
//! exactly that). The CLI then calls `GET /copilot_internal/user` with `Authorization: Bearer
//! <token>`; a valid token gets `{login, copilot_plan, chat_enabled, endpoints.api = this
//! server, ...}`, an unknown or revoked one a `401`. Models come from `GET /models` (Copilot
//! API shape) and chat from `POST /chat/completions`, which is the very same handler and rule
//! engine as [`crate::fake_model`] (the fake derefs to its [`Script`]).
//!
//! Every request is recorded with its headers, tokens included, in memory only: the `Debug`
//! output of [`crate::RecordedRequest`] redacts them and this module never prints one.
//!
//! Seen with CLI 1.0.102: `GET /copilot_internal/user` happens during `Client::start` (before
//! it returns); `GET /models` on `models.list` or the first session; a session also asks for
//! `GET /copilot_internal/team_customizations` and `POST /mcp/readonly` (the built-in GitHub
//! MCP server), which get a 404 here (the CLI shrugs: `session.mcp_server_status_changed`
//! `failed`), and may `POST /telemetry` (answered 200). Chat requests carry the GitHub token
//! itself as the bearer (no token exchange). With a refused token the CLI has no `endpoints.api`
//! and sends chat to `https://api.githubcopilot.com` (fails offline after ~23 s of retries).

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::fake_model::{Script, not_found, serve};
use crate::recording;

/// The login a token maps to unless said otherwise.
pub const DEFAULT_LOGIN: &str = "octo-tester";

#[derive(Clone, Debug)]
struct Account {
    login: String,
    plan: String,
    chat_enabled: bool,
}

struct GitHubInner {
    accounts: Mutex<HashMap<String, Account>>,
    /// When true (default), `/models` and `/chat/completions` also answer 401 to a bearer token
    /// that is not (or no longer) valid.
    check_api_tokens: Mutex<bool>,
    base_url: Mutex<String>,
    /// `is_mcp_enabled` in `/copilot_internal/user`.
    mcp_enabled: Mutex<bool>,
}

#[derive(Clone)]
struct GitHubState {
    inner: Arc<GitHubInner>,
    script: Script,
}

/// A running fake GitHub/Copilot API on `127.0.0.1:<random port>`. Derefs to its [`Script`].
pub struct FakeGitHub {
    state: GitHubState,
    addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl FakeGitHub {
    /// Start with no valid tokens and a fresh rule engine.
    pub async fn start() -> FakeGitHub {
        Self::start_with(Script::new()).await
    }

    /// Start with a (possibly shared) rule engine.
    pub async fn start_with(script: Script) -> FakeGitHub {
        let state = GitHubState {
            inner: Arc::new(GitHubInner {
                accounts: Mutex::new(HashMap::new()),
                check_api_tokens: Mutex::new(true),
                mcp_enabled: Mutex::new(false),
                base_url: Mutex::new(String::new()),
            }),
            script: script.clone(),
        };
        let api = Router::new()
            .route("/models", get(capi_models))
            .with_state(state.clone())
            .merge(script.chat_router())
            .route_layer(axum::middleware::from_fn_with_state(state.clone(), api_auth));
        let router = Router::new()
            .route("/copilot_internal/user", get(copilot_user))
            .route("/user", get(github_user))
            .route("/telemetry", any(accepted))
            .with_state(state.clone())
            .merge(api)
            .fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(script.recorder().clone(), recording::record));
        let (addr, shutdown) = serve(router).await;
        *state.inner.base_url.lock().unwrap() = format!("http://{addr}");
        FakeGitHub { state, addr, _shutdown: shutdown }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): both the GitHub API and the Copilot API.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `COPILOT_API_URL` and `COPILOT_DEBUG_GITHUB_API_URL` pointing at this fake.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        vec![("COPILOT_API_URL".into(), self.url().into()), ("COPILOT_DEBUG_GITHUB_API_URL".into(), self.url().into())]
    }

    /// Accept `token` as a GitHub token of [`DEFAULT_LOGIN`] with a Copilot seat.
    pub fn add_token(&self, token: impl Into<String>) -> &Self {
        self.add_token_for(token, DEFAULT_LOGIN)
    }

    /// Accept `token` as a GitHub token of `login` (plan `individual_pro`, chat enabled).
    pub fn add_token_for(&self, token: impl Into<String>, login: impl Into<String>) -> &Self {
        self.set_account(token, login, "individual_pro", true)
    }

    /// Accept `token` for `login` with this `copilot_plan` and `chat_enabled`.
    pub fn set_account(
        &self,
        token: impl Into<String>,
        login: impl Into<String>,
        plan: impl Into<String>,
        chat_enabled: bool,
    ) -> &Self {
        let account = Account { login: login.into(), plan: plan.into(), chat_enabled };
        self.state.inner.accounts.lock().unwrap().insert(token.into(), account);
        self
    }

    /// Revoke `token`: from now on it gets `401 Bad credentials` everywhere.
    pub fn revoke(&self, token: &str) {
        self.state.inner.accounts.lock().unwrap().remove(token);
    }

    /// Whether `token` is currently valid.
    pub fn is_valid(&self, token: &str) -> bool {
        self.state.inner.accounts.lock().unwrap().contains_key(token)
    }

    /// Whether `/models` and `/chat/completions` check the bearer token too (default `true`).
    pub fn set_check_api_tokens(&self, check: bool) {
        *self.state.inner.check_api_tokens.lock().unwrap() = check;
    }

    /// What `/copilot_internal/user` says of MCP (`is_mcp_enabled`, default `false`): with `false` the CLI
    /// starts no third-party MCP server. The CLI reads it when it starts, so set it before.
    pub fn set_mcp_enabled(&self, enabled: bool) {
        *self.state.inner.mcp_enabled.lock().unwrap() = enabled;
    }

    /// The rule engine and request log.
    pub fn script(&self) -> &Script {
        &self.state.script
    }

    /// Requests to `/copilot_internal/user`, in order.
    pub fn user_requests(&self) -> Vec<recording::RecordedRequest> {
        self.requests().into_iter().filter(|r| r.path == "/copilot_internal/user").collect()
    }
}

impl Deref for FakeGitHub {
    type Target = Script;
    fn deref(&self) -> &Script {
        &self.state.script
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")).then(|| token.trim().to_owned())
}

fn account(state: &GitHubState, headers: &HeaderMap) -> Option<Account> {
    let token = bearer(headers)?;
    state.inner.accounts.lock().unwrap().get(&token).cloned()
}

fn bad_credentials() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        })),
    )
        .into_response()
}

async fn copilot_user(State(state): State<GitHubState>, headers: HeaderMap) -> Response {
    let Some(account) = account(&state, &headers) else {
        return bad_credentials();
    };
    let base = state.inner.base_url.lock().unwrap().clone();
    axum::Json(json!({
        "login": account.login,
        "id": 4242,
        "copilot_plan": account.plan,
        "chat_enabled": account.chat_enabled,
        "is_mcp_enabled": *state.inner.mcp_enabled.lock().unwrap(),
        "access_type_sku": "free_limited_copilot",
        "analytics_tracking_id": "fake-tracking-id",
        "endpoints": {
            "api": base,
            "proxy": base,
            // The CLI posts to `<telemetry>/telemetry`, even with COPILOT_TELEMETRY_DISABLED.
            "telemetry": base,
            "origin-tracker": base,
        },
    }))
    .into_response()
}

async fn github_user(State(state): State<GitHubState>, headers: HeaderMap) -> Response {
    let Some(account) = account(&state, &headers) else {
        return bad_credentials();
    };
    axum::Json(json!({ "login": account.login, "id": 4242, "name": "Octo Tester", "type": "User" })).into_response()
}

async fn accepted() -> StatusCode {
    StatusCode::OK
}

/// A model id whose catalog entry reports reasoning efforts (`capabilities.supports.reasoning_effort`
/// = [`REASONING_EFFORTS`]); list it with `set_models`. Other models report none. The pinned CLI
/// (1.0.102) reports no default effort for catalog models (none found in its `models.list`).
pub const REASONING_MODEL: &str = "fake-reasoner";
/// The efforts [`REASONING_MODEL`] supports.
pub const REASONING_EFFORTS: [&str; 3] = ["low", "medium", "high"];

/// Copilot API model catalog entry.
fn capi_model(id: &str, default: bool) -> Value {
    let mut model = capi_model_plain(id, default);
    if id == REASONING_MODEL {
        model["capabilities"]["supports"]["reasoning_effort"] = json!(REASONING_EFFORTS);
    }
    model
}

fn capi_model_plain(id: &str, default: bool) -> Value {
    json!({
        "id": id,
        "name": id,
        "object": "model",
        "vendor": "Fake",
        "version": id,
        "preview": false,
        "model_picker_enabled": true,
        "is_chat_default": default,
        "is_chat_fallback": default,
        "capabilities": {
            "family": id,
            "type": "chat",
            "object": "model_capabilities",
            "tokenizer": "o200k_base",
            "limits": {
                "max_context_window_tokens": 128000,
                "max_prompt_tokens": 100000,
                "max_output_tokens": 16000,
            },
            "supports": { "streaming": true, "tool_calls": true, "parallel_tool_calls": true, "vision": false },
        },
        "policy": { "state": "enabled", "terms": "" },
        "billing": { "is_premium": false, "multiplier": 0 },
    })
}

async fn capi_models(State(state): State<GitHubState>) -> Response {
    let data: Vec<Value> = state.script.models().iter().enumerate().map(|(i, id)| capi_model(id, i == 0)).collect();
    axum::Json(json!({ "object": "list", "data": data })).into_response()
}

/// For the Copilot API routes: a bearer token that is present but not valid gets a 401.
async fn api_auth(State(state): State<GitHubState>, request: Request, next: Next) -> Response {
    if *state.inner.check_api_tokens.lock().unwrap()
        && let Some(token) = bearer(request.headers())
        && !state.inner.accounts.lock().unwrap().contains_key(&token)
    {
        return bad_credentials();
    }
    next.run(request).await
}
