//! A fake OpenAI-compatible model provider, scripted by rules.
//!
//! ```no_run
//! # async fn demo() {
//! use copilot_desktop_tests::fake_model::{FakeModel, Match, Reply};
//! let model = FakeModel::start().await;
//! model.when(Match::user_contains("hello"), Reply::chunks(["Hel", "lo ", "there"]));
//! model.when(Match::user_contains("list files"), Reply::shell("ls -1"));
//! // session.create: SessionConfig::default().with_model(DEFAULT_MODEL).with_provider(model.provider())
//! # }
//! ```
//!
//! The rule engine ([`Script`]) is shared with [`crate::fake_github`], which mounts the same
//! `/chat/completions` handler for the GitHub token path.
//!
//! Matching: rules are tried in the order they were added; the first that matches wins (a rule
//! installed with [`Script::when_times`] retires after `n` uses). A request no rule matches gets:
//! * after a tool result (the last message has `role: "tool"`): text quoting that tool result,
//!   `"Tool output: <output>"` (see [`quote_tool_output`]), so a test can see it reached the model;
//! * a side request (one that offers no `tools`, e.g. a title or summary request): [`SIDE_REPLY`];
//! * anything else: the default reply, [`DEFAULT_REPLY`] unless changed with
//!   [`Script::set_default_reply`].
//!
//! Seen with CLI 1.0.102 (BYOK, `type: "openai"`): only `POST /v1/chat/completions`, always
//! `stream: true` with `stream_options.include_usage`, `model` = the session's model, the API
//! key as `Authorization: Bearer`, 17 tools (`bash`, `read_bash`, `stop_bash`, `list_bash`,
//! `view`, `create`, `edit`, `web_fetch`, `semantic_code_search`, `skill`, `sql`, `read_agent`,
//! `list_agents`, `write_agent`, `grep`, `glob`, `task`). No `/v1/models` call, no title or
//! summary requests for short turns (the title is the first prompt). The user message arrives
//! as `<current_datetime>...</current_datetime>\n\n<prompt>`. Tool results come back as
//! `{role: "tool", tool_call_id, content: "<output>\n<shellId: N completed with exit code 0>"}`.
//! Failed streams are retried: a 5xx/429 or a malformed chunk 5 times (with backoff: ~5 s for
//! malformed, ~15 s for 500, ~57 s for 429), a 401 twice; a 400/404 is not retried.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::recording::{self, RecordedRequest, Recorder};

/// Model id the fakes list and default to.
pub const DEFAULT_MODEL: &str = "fake-model";
/// Name of the CLI's shell tool in the `tools` array it sends (Linux/macOS; `powershell` on Windows).
pub const SHELL_TOOL: &str = if cfg!(windows) { "powershell" } else { "bash" };
/// The API key [`FakeModel::provider`] configures (the fake accepts any key).
pub const API_KEY: &str = "sk-fake-model-key";
/// Reply to an unmatched main-agent request.
pub const DEFAULT_REPLY: &str = "Hello from the fake model.";
/// Reply to an unmatched side request (no `tools` offered: titles, summaries, ...).
pub const SIDE_REPLY: &str = "Fake title";

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// When a rule applies. All given conditions must hold.
#[derive(Clone, Debug, Default)]
pub struct Match {
    user_contains: Option<String>,
    tool_result: Option<bool>,
    tool_output_contains: Option<String>,
    offers_tools: Option<bool>,
}

impl Match {
    /// Every request (including side requests such as titles).
    pub fn any() -> Self {
        Self::default()
    }

    /// The last user message contains `keyword`, and the last message is NOT a tool result
    /// (so the follow-up request after a tool call does not match again; see
    /// [`Match::after_tool_result`]). Side requests (no `tools` offered) never match.
    pub fn user_contains(keyword: impl Into<String>) -> Self {
        Self {
            user_contains: Some(keyword.into()),
            tool_result: Some(false),
            offers_tools: Some(true),
            ..Self::default()
        }
    }

    /// The last message is a tool result (any user text, any tool).
    pub fn tool_result() -> Self {
        Self { tool_result: Some(true), ..Self::default() }
    }

    /// The last message is a tool result whose text contains `needle`.
    pub fn tool_output_contains(needle: impl Into<String>) -> Self {
        Self { tool_result: Some(true), tool_output_contains: Some(needle.into()), ..Self::default() }
    }

    /// Require the last message to be a tool result (on top of the other conditions).
    pub fn after_tool_result(mut self) -> Self {
        self.tool_result = Some(true);
        self
    }

    /// Do not care whether the last message is a tool result.
    pub fn regardless_of_tool_result(mut self) -> Self {
        self.tool_result = None;
        self
    }

    /// Require (`true`) or forbid (`false`) a non-empty `tools` array; `user_contains` requires it
    /// by default so title/summary side requests fall through to their own default.
    pub fn offers_tools(mut self, offers: bool) -> Self {
        self.offers_tools = Some(offers);
        self
    }

    /// Also match side requests (requests without `tools`).
    pub fn including_side_requests(mut self) -> Self {
        self.offers_tools = None;
        self
    }

    /// Whether this matches a chat-completions request body.
    pub fn matches(&self, body: &Value) -> bool {
        if let Some(keyword) = &self.user_contains {
            match recording::last_user_text(body) {
                Some(text) if text.contains(keyword.as_str()) => {}
                _ => return false,
            }
        }
        let is_tool_result = recording::last_is_tool_result(body);
        if let Some(want) = self.tool_result
            && want != is_tool_result
        {
            return false;
        }
        if let Some(needle) = &self.tool_output_contains
            && (!is_tool_result || !last_tool_output(body).contains(needle.as_str()))
        {
            return false;
        }
        if let Some(want) = self.offers_tools
            && want == recording::tool_names(body).is_empty()
        {
            return false;
        }
        true
    }
}

/// One tool call the fake model makes.
#[derive(Clone, Debug)]
pub struct ToolCall {
    /// Function name, e.g. [`SHELL_TOOL`].
    pub name: String,
    /// Arguments object (sent JSON-encoded, as OpenAI does).
    pub arguments: Value,
}

/// What the fake model answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Text, streamed as one delta per chunk (non-streamed: the chunks joined), with an optional
    /// pause before each chunk after the first, and one before the first (a model's time to first token).
    Text { chunks: Vec<String>, delay: Duration, first_delay: Duration },
    /// Optional text, then one or more tool calls (`finish_reason: "tool_calls"`).
    ToolCalls { text: Option<String>, calls: Vec<ToolCall> },
    /// Valid text chunks, then an SSE `data:` line that is not valid JSON, then the stream ends
    /// (non-streamed: a 200 whose body is not JSON).
    Malformed { before: Vec<String>, garbage: String },
    /// An HTTP error status with this body (JSON content type when the body parses as JSON).
    HttpError { status: u16, body: String },
    /// `count` one-word deltas (`"w0 "`, `"w1 "`, ...; see [`many_deltas_text`]), no delay.
    ManyDeltas { count: usize },
    /// Stream these chunks, then keep the response open forever without finishing (for abort
    /// tests; the fake counts the stream as cancelled when the client hangs up).
    Stall { before: Vec<String> },
    /// Text quoting the last tool result: [`quote_tool_output`].
    QuoteToolResult,
}

impl Reply {
    /// The whole text as a single delta.
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text { chunks: vec![text.into()], delay: Duration::ZERO, first_delay: Duration::ZERO }
    }

    /// One delta per chunk, in order.
    pub fn chunks<I, S>(chunks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Reply::Text {
            chunks: chunks.into_iter().map(Into::into).collect(),
            delay: Duration::ZERO,
            first_delay: Duration::ZERO,
        }
    }

    /// `text` split into `n` deltas of (nearly) equal length, on character boundaries.
    pub fn text_in_chunks(text: &str, n: usize) -> Self {
        Reply::Text { chunks: split_in(text, n), delay: Duration::ZERO, first_delay: Duration::ZERO }
    }

    /// Pause this long before every chunk but the first ([`Reply::Text`] only; other kinds are
    /// returned unchanged).
    pub fn with_delay(self, delay: Duration) -> Self {
        match self {
            Reply::Text { chunks, first_delay, .. } => Reply::Text { chunks, delay, first_delay },
            other => other,
        }
    }

    /// Pause this long before the first chunk, as a real model takes a while to its first token (the
    /// response's headers and its role chunk go out at once; [`Reply::Text`] only).
    pub fn with_first_delay(self, first_delay: Duration) -> Self {
        match self {
            Reply::Text { chunks, delay, .. } => Reply::Text { chunks, delay, first_delay },
            other => other,
        }
    }

    /// A call of the CLI's shell tool ([`SHELL_TOOL`]) running `command`.
    pub fn shell(command: impl Into<String>) -> Self {
        Reply::ToolCalls { text: None, calls: vec![shell_call(command)] }
    }

    /// A call of any tool with these arguments.
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Self {
        Reply::ToolCalls { text: None, calls: vec![ToolCall { name: name.into(), arguments }] }
    }

    /// Valid text `"Partial "`, then a broken JSON line.
    pub fn malformed() -> Self {
        Reply::Malformed {
            before: vec!["Partial ".into()],
            garbage: r#"{"id":"chatcmpl-broken","choices":[{"index":0,"delta":{"content":"oops"#.into(),
        }
    }

    /// An HTTP error with a body, e.g. `(500, r#"{"error":{"message":"boom"}}"#)`.
    pub fn http_error(status: u16, body: impl Into<String>) -> Self {
        Reply::HttpError { status, body: body.into() }
    }

    /// `count` one-word deltas for throughput tests.
    pub fn many_deltas(count: usize) -> Self {
        Reply::ManyDeltas { count }
    }

    /// Stream `before`, then never finish.
    pub fn stall<I, S>(before: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Reply::Stall { before: before.into_iter().map(Into::into).collect() }
    }
}

/// A [`ToolCall`] of the shell tool: `{"command": command, "description": "Run a command"}`.
pub fn shell_call(command: impl Into<String>) -> ToolCall {
    ToolCall {
        name: SHELL_TOOL.into(),
        arguments: json!({ "command": command.into(), "description": "Run a command" }),
    }
}

/// The concatenation of the deltas of [`Reply::many_deltas`]`(count)`.
pub fn many_deltas_text(count: usize) -> String {
    (0..count).map(|i| format!("w{i} ")).collect()
}

/// The text [`Reply::QuoteToolResult`] (and the default after a tool result) sends.
pub fn quote_tool_output(output: &str) -> String {
    format!("Tool output: {output}")
}

fn split_in(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = n.clamp(1, chars.len().max(1));
    let (base, extra) = (chars.len() / n, chars.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        out.push(chars[at..at + len].iter().collect());
        at += len;
    }
    out
}

fn last_tool_output(body: &Value) -> String {
    body.get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("tool")))
        .map(|m| recording::content_text(m.get("content")))
        .unwrap_or_default()
}

struct Rule {
    when: Match,
    reply: Reply,
    remaining: Option<usize>,
}

// ---------------------------------------------------------------------------------------------
// The shared engine
// ---------------------------------------------------------------------------------------------

struct ScriptInner {
    rules: Mutex<Vec<Rule>>,
    default_reply: Mutex<Reply>,
    models: Mutex<Vec<String>>,
    recorder: Recorder,
    streams_started: AtomicUsize,
    streams_completed: AtomicUsize,
    streams_cancelled: AtomicUsize,
    next_id: AtomicUsize,
    timings: Mutex<Vec<StreamTiming>>,
}

/// When a streamed text reply sent its first and last content chunk (wall clock, so a benchmark
/// can compare it with times taken inside the app's webview on the same machine).
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamTiming {
    pub first_content: Option<std::time::SystemTime>,
    pub last_content: Option<std::time::SystemTime>,
}

/// The scripted rule engine and request log. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Script(Arc<ScriptInner>);

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}

impl Script {
    /// An engine with no rules, listing [`DEFAULT_MODEL`].
    pub fn new() -> Self {
        Script(Arc::new(ScriptInner {
            rules: Mutex::new(Vec::new()),
            default_reply: Mutex::new(Reply::text(DEFAULT_REPLY)),
            models: Mutex::new(vec![DEFAULT_MODEL.to_owned()]),
            recorder: Recorder::default(),
            streams_started: AtomicUsize::new(0),
            streams_completed: AtomicUsize::new(0),
            streams_cancelled: AtomicUsize::new(0),
            timings: Mutex::default(),
            next_id: AtomicUsize::new(1),
        }))
    }

    /// Add a rule that applies every time it matches.
    pub fn when(&self, when: Match, reply: Reply) -> &Self {
        self.push_rule(when, reply, None)
    }

    /// Add a rule that applies to the next matching request only.
    pub fn when_once(&self, when: Match, reply: Reply) -> &Self {
        self.push_rule(when, reply, Some(1))
    }

    /// Add a rule that applies to the next `times` matching requests.
    pub fn when_times(&self, when: Match, reply: Reply, times: usize) -> &Self {
        self.push_rule(when, reply, Some(times))
    }

    fn push_rule(&self, when: Match, reply: Reply, remaining: Option<usize>) -> &Self {
        self.0.rules.lock().unwrap().push(Rule { when, reply, remaining });
        self
    }

    /// Remove every rule.
    pub fn clear_rules(&self) {
        self.0.rules.lock().unwrap().clear();
    }

    /// What an unmatched main-agent request (not a tool result, not a side request) gets.
    pub fn set_default_reply(&self, reply: Reply) {
        *self.0.default_reply.lock().unwrap() = reply;
    }

    /// The model ids `/models` lists (first = default).
    pub fn set_models<I, S>(&self, models: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        *self.0.models.lock().unwrap() = models.into_iter().map(Into::into).collect();
    }

    /// The model ids `/models` lists.
    pub fn models(&self) -> Vec<String> {
        self.0.models.lock().unwrap().clone()
    }

    /// Which reply a chat request body gets (consumes one use of a limited rule).
    pub fn pick(&self, body: &Value) -> Reply {
        {
            let mut rules = self.0.rules.lock().unwrap();
            if let Some(i) = rules.iter().position(|r| r.when.matches(body)) {
                let reply = rules[i].reply.clone();
                if let Some(n) = rules[i].remaining.as_mut() {
                    *n -= 1;
                    if *n == 0 {
                        rules.remove(i);
                    }
                }
                return reply;
            }
        }
        if recording::last_is_tool_result(body) {
            Reply::QuoteToolResult
        } else if recording::tool_names(body).is_empty() {
            Reply::text(SIDE_REPLY)
        } else {
            self.0.default_reply.lock().unwrap().clone()
        }
    }

    /// The request log.
    pub fn recorder(&self) -> &Recorder {
        &self.0.recorder
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.0.recorder.all()
    }

    /// Every chat-completions request received, in order.
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(RecordedRequest::is_chat_completion).collect()
    }

    /// Chat requests that offered tools (the agent's own turns, not side requests).
    pub fn agent_requests(&self) -> Vec<RecordedRequest> {
        self.chat_requests().into_iter().filter(|r| !r.tool_names().is_empty()).collect()
    }

    /// Every tool result any chat request carried, in order (duplicates across requests kept).
    pub fn tool_results_seen(&self) -> Vec<String> {
        self.chat_requests().iter().flat_map(RecordedRequest::tool_results).collect()
    }

    /// Forget the request log (rules stay).
    pub fn clear_requests(&self) {
        self.0.recorder.clear();
    }

    /// Wait until at least `n` chat requests arrived (polling; `None` on timeout).
    pub async fn wait_for_chat_requests(&self, n: usize, timeout: Duration) -> Option<Vec<RecordedRequest>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let requests = self.chat_requests();
            if requests.len() >= n {
                return Some(requests);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Streamed responses begun / finished to the end / dropped early by the client.
    /// First/last content chunk times of every text stream so far, in the order they started.
    pub fn stream_timings(&self) -> Vec<StreamTiming> {
        self.0.timings.lock().unwrap().clone()
    }

    fn mark_stream(&self, index: usize, first: bool) {
        let mut timings = self.0.timings.lock().unwrap();
        let now = std::time::SystemTime::now();
        if let Some(t) = timings.get_mut(index) {
            if first {
                t.first_content.get_or_insert(now);
            } else {
                t.last_content = Some(now);
            }
        }
    }

    pub fn stream_counts(&self) -> (usize, usize, usize) {
        (
            self.0.streams_started.load(Ordering::SeqCst),
            self.0.streams_completed.load(Ordering::SeqCst),
            self.0.streams_cancelled.load(Ordering::SeqCst),
        )
    }

    /// Routes `POST /chat/completions` and `GET /models` (OpenAI list shape); no recording layer
    /// (the server adds it, see `recording::record`).
    /// Mount under `/v1` for an OpenAI-style base URL.
    pub fn openai_router(&self) -> Router {
        Router::new()
            .route("/chat/completions", post(chat_completions))
            .route("/models", get(openai_models))
            .with_state(self.clone())
    }

    /// Only `POST /chat/completions` (no recording layer: the caller records).
    pub fn chat_router(&self) -> Router {
        Router::new().route("/chat/completions", post(chat_completions)).with_state(self.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

async fn openai_models(State(script): State<Script>) -> Response {
    let data: Vec<Value> = script
        .models()
        .into_iter()
        .map(|id| json!({ "id": id, "object": "model", "created": 0, "owned_by": "fake" }))
        .collect();
    axum::Json(json!({ "object": "list", "data": data })).into_response()
}

/// The `/chat/completions` handler shared by both fakes.
pub(crate) async fn chat_completions(State(script): State<Script>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": {"message": "body is not JSON"}})))
            .into_response();
    };
    let reply = script.pick(&body);
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = body.get("model").and_then(Value::as_str).unwrap_or(DEFAULT_MODEL).to_owned();
    let id = format!("chatcmpl-fake-{}", script.0.next_id.fetch_add(1, Ordering::SeqCst));
    let reply = match reply {
        Reply::QuoteToolResult => Reply::text(quote_tool_output(&last_tool_output(&body))),
        other => other,
    };
    if let Reply::HttpError { status, body } = reply {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let content_type = if serde_json::from_str::<Value>(&body).is_ok() { "application/json" } else { "text/plain" };
        return (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    if stream { streamed(script, reply, id, model) } else { whole(reply, id, model) }
}

const USAGE: fn() -> Value = || json!({"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20});

fn tool_calls_json(calls: &[ToolCall], id: &str) -> Vec<Value> {
    calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "id": format!("call_{id}_{i}"),
                "type": "function",
                "function": { "name": c.name, "arguments": c.arguments.to_string() },
            })
        })
        .collect()
}

fn whole(reply: Reply, id: String, model: String) -> Response {
    let (content, tool_calls, finish) = match reply {
        Reply::Text { chunks, .. } => (chunks.concat(), None, "stop"),
        Reply::ManyDeltas { count } => (many_deltas_text(count), None, "stop"),
        Reply::ToolCalls { text, calls } => {
            (text.unwrap_or_default(), Some(tool_calls_json(&calls, &id)), "tool_calls")
        }
        Reply::Malformed { garbage, .. } => {
            return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], garbage).into_response();
        }
        Reply::Stall { .. } => {
            // Status and headers, then a body that never ends.
            let body = Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
            return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        }
        Reply::HttpError { .. } | Reply::QuoteToolResult => unreachable!("handled by the caller"),
    };
    let mut message = json!({ "role": "assistant", "content": content });
    if let Some(calls) = tool_calls {
        message["tool_calls"] = Value::Array(calls);
    }
    axum::Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": USAGE(),
    }))
    .into_response()
}

fn sse(id: &str, model: &str, delta: Value, finish: Option<&str>) -> Bytes {
    let mut chunk = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    if finish.is_some() {
        chunk["usage"] = USAGE();
    }
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// Counts a stream as completed when it reaches its end, as cancelled when dropped before.
struct StreamGuard {
    script: Script,
    finished: bool,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let counter = if self.finished { &self.script.0.streams_completed } else { &self.script.0.streams_cancelled };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

fn streamed(script: Script, reply: Reply, id: String, model: String) -> Response {
    script.0.streams_started.fetch_add(1, Ordering::SeqCst);
    let timing = {
        let mut timings = script.0.timings.lock().unwrap();
        timings.push(StreamTiming::default());
        timings.len() - 1
    };
    let mut guard = StreamGuard { script, finished: false };
    let stream = async_stream::stream! {
        let role = json!({ "role": "assistant", "content": "" });
        yield Ok::<Bytes, std::io::Error>(sse(&id, &model, role, None));
        match reply {
            Reply::Text { chunks, delay, first_delay } => {
                for (i, chunk) in chunks.into_iter().enumerate() {
                    let pause = if i == 0 { first_delay } else { delay };
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                    guard.script.mark_stream(timing, i == 0);
                    yield Ok(sse(&id, &model, json!({ "content": chunk }), None));
                }
                guard.script.mark_stream(timing, false);
                yield Ok(sse(&id, &model, json!({}), Some("stop")));
            }
            Reply::ManyDeltas { count } => {
                for i in 0..count {
                    guard.script.mark_stream(timing, i == 0);
                    yield Ok(sse(&id, &model, json!({ "content": format!("w{i} ") }), None));
                }
                guard.script.mark_stream(timing, false);
                yield Ok(sse(&id, &model, json!({}), Some("stop")));
            }
            Reply::ToolCalls { text, calls } => {
                if let Some(text) = text {
                    yield Ok(sse(&id, &model, json!({ "content": text }), None));
                }
                for (i, call) in tool_calls_json(&calls, &id).into_iter().enumerate() {
                    let args = call["function"]["arguments"].as_str().unwrap_or("{}").to_owned();
                    let head = json!({ "tool_calls": [{
                        "index": i, "id": call["id"], "type": "function",
                        "function": { "name": call["function"]["name"], "arguments": "" },
                    }]});
                    yield Ok(sse(&id, &model, head, None));
                    // The arguments in two pieces, as real providers split them.
                    let mid = args.char_indices().nth(args.chars().count() / 2).map_or(0, |(b, _)| b);
                    for piece in [&args[..mid], &args[mid..]] {
                        let delta = json!({ "tool_calls": [{ "index": i, "function": { "arguments": piece } }] });
                        yield Ok(sse(&id, &model, delta, None));
                    }
                }
                yield Ok(sse(&id, &model, json!({}), Some("tool_calls")));
            }
            Reply::Malformed { before, garbage } => {
                for chunk in before {
                    yield Ok(sse(&id, &model, json!({ "content": chunk }), None));
                }
                yield Ok(Bytes::from(format!("data: {garbage}\n\n")));
            }
            Reply::Stall { before } => {
                for chunk in before {
                    yield Ok(sse(&id, &model, json!({ "content": chunk }), None));
                }
                futures::future::pending::<()>().await;
            }
            Reply::HttpError { .. } | Reply::QuoteToolResult => unreachable!("handled by the caller"),
        }
        yield Ok(Bytes::from_static(b"data: [DONE]\n\n"));
        guard.finished = true;
        drop(guard);
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("valid response")
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// A running fake provider on `127.0.0.1:<random port>`. Derefs to its [`Script`].
/// Stops accepting connections when dropped.
pub struct FakeModel {
    script: Script,
    addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl FakeModel {
    /// Start a fake with no rules.
    pub async fn start() -> FakeModel {
        Self::start_with(Script::new()).await
    }

    /// Start a fake serving this (possibly shared) script.
    pub async fn start_with(script: Script) -> FakeModel {
        let router = Router::new()
            .nest("/v1", script.openai_router())
            .fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(script.recorder().clone(), recording::record));
        let (addr, shutdown) = serve(router).await;
        FakeModel { script, addr, _shutdown: shutdown }
    }

    /// `http://127.0.0.1:PORT/v1` — the provider `baseUrl`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The BYOK provider for `session.create`: `{type: "openai", baseUrl, apiKey: API_KEY}`.
    /// Pair it with `SessionConfig::with_model(DEFAULT_MODEL)` (or any id: the fake echoes it).
    pub fn provider(&self) -> github_copilot_sdk::types::ProviderConfig {
        github_copilot_sdk::types::ProviderConfig::new(self.base_url())
            .with_provider_type("openai")
            .with_api_key(API_KEY)
    }

    /// The rule engine and request log.
    pub fn script(&self) -> &Script {
        &self.script
    }
}

impl Deref for FakeModel {
    type Target = Script;
    fn deref(&self) -> &Script {
        &self.script
    }
}

pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({ "message": "Not Found (fake)" }))).into_response()
}

/// Bind 127.0.0.1:0 and serve `router` on the current runtime until the sender is dropped.
pub(crate) async fn serve(router: Router) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    (addr, tx)
}
