//! Request recording shared by the fakes.

use std::fmt;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// Headers whose values are secrets: kept in memory for assertions, never printed.
const SECRET_HEADERS: &[&str] = &["authorization", "api-key", "x-api-key", "proxy-authorization"];

/// One HTTP request a fake received, in arrival order.
#[derive(Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path as the client sent it, without the query (`/v1/chat/completions`).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Header names (lower case) and values, secrets included (see `Debug`, which redacts them).
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, when it was JSON.
    pub body: Option<Value>,
    /// The body as text (lossy UTF-8); empty for bodiless requests.
    pub raw_body: String,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                if SECRET_HEADERS.contains(&k.as_str()) { (k.as_str(), "<redacted>") } else { (k.as_str(), v.as_str()) }
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body_bytes", &self.raw_body.len())
            .finish()
    }
}

impl RecordedRequest {
    /// A header's value (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The token of an `Authorization: Bearer <token>` (or `token <token>`) header.
    /// For assertions only: never print it.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")).then_some(token.trim())
    }

    /// `true` for a chat-completions call (`POST .../chat/completions`).
    pub fn is_chat_completion(&self) -> bool {
        self.method == "POST" && self.path.ends_with("/chat/completions")
    }

    /// The `model` field of a JSON body.
    pub fn model(&self) -> Option<&str> {
        self.body.as_ref()?.get("model")?.as_str()
    }

    /// Whether the body asked for a streamed reply (`stream: true`).
    pub fn is_streaming(&self) -> bool {
        self.body.as_ref().and_then(|b| b.get("stream")).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The chat `messages` array (empty when absent).
    pub fn messages(&self) -> &[Value] {
        self.body.as_ref().and_then(|b| b.get("messages")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Names of the functions offered in the `tools` array, in order.
    pub fn tool_names(&self) -> Vec<String> {
        self.body.as_ref().map(tool_names).unwrap_or_default()
    }

    /// The `function` object of an offered tool (`{name, description, parameters}`).
    pub fn tool(&self, name: &str) -> Option<&Value> {
        self.body
            .as_ref()?
            .get("tools")?
            .as_array()?
            .iter()
            .filter_map(|t| t.get("function"))
            .find(|f| f.get("name").and_then(Value::as_str) == Some(name))
    }

    /// Text of the last `role: "user"` message.
    pub fn last_user_text(&self) -> Option<String> {
        self.body.as_ref().and_then(last_user_text)
    }

    /// Whether the last message is a tool result (`role: "tool"`).
    pub fn last_is_tool_result(&self) -> bool {
        self.body.as_ref().is_some_and(last_is_tool_result)
    }

    /// Text of every tool result (`role: "tool"`) message, in order.
    pub fn tool_results(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
            .map(|m| content_text(m.get("content")))
            .collect()
    }

    /// The `image_url.url` of every image part in the messages (data URLs for attached images), in order.
    pub fn images(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_array))
            .flatten()
            .filter_map(|part| part.get("image_url").and_then(|i| i.get("url")).and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }

    /// Tool calls (`{id, type, function{name, arguments}}`) in assistant messages of the history.
    pub fn assistant_tool_calls(&self) -> Vec<Value> {
        self.messages()
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
            .filter_map(|m| m.get("tool_calls").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect()
    }
}

/// Function names in a chat request's `tools` array.
pub(crate) fn tool_names(body: &Value) -> Vec<String> {
    body.get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    t.get("function")
                        .and_then(|f| f.get("name"))
                        .or_else(|| t.get("name"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Text of a message `content`, which is either a string or an array of parts.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.as_str()),
                _ => p.get("text").and_then(Value::as_str),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

pub(crate) fn last_user_text(body: &Value) -> Option<String> {
    body.get("messages")?
        .as_array()?
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
}

pub(crate) fn last_is_tool_result(body: &Value) -> bool {
    body.get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
        == Some("tool")
}

/// A shared, append-only log of requests.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<RecordedRequest>>>);

impl Recorder {
    /// Every request so far, in arrival order.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.0.lock().unwrap().clone()
    }

    /// Forget everything recorded so far.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    fn push(&self, request: RecordedRequest) {
        self.0.lock().unwrap().push(request);
    }
}

/// Axum middleware: buffer the body, record the request, pass it on unchanged.
pub(crate) async fn record(State(recorder): State<Recorder>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 256 * 1024 * 1024).await.unwrap_or_else(|_| Bytes::new());
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    recorder.push(RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body: serde_json::from_slice(&bytes).ok(),
        raw_body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
