//! The fakes' paths the CLI does not exercise in the other tests (non-streamed replies, the
//! model list, error statuses, the user endpoint), spoken to with a tiny raw HTTP/1.1 client.

use std::net::SocketAddr;

use copilot_desktop_tests::fake_github::FakeGitHub;
use copilot_desktop_tests::fake_model::{self, FakeModel, Match, Reply, SHELL_TOOL};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// (status, body) of one request; `Connection: close` so the body ends at EOF.
async fn http(addr: SocketAddr, method: &str, path: &str, auth: Option<&str>, body: Option<&Value>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = auth.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_owned() };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

fn chat(prompt: &str, stream: bool) -> Value {
    json!({
        "model": "m",
        "stream": stream,
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": prompt}],
        "tools": [{"type": "function", "function": {"name": SHELL_TOOL, "parameters": {}}}],
    })
}

#[tokio::test]
async fn fake_model_non_streamed_and_streamed_shapes() {
    let model = FakeModel::start().await;
    model.when(Match::user_contains("chunks"), Reply::text_in_chunks("abcdefg", 3));
    model.when(Match::user_contains("tool"), Reply::shell("ls"));
    model.when_once(Match::user_contains("once"), Reply::text("first time"));
    assert!(model.base_url().starts_with("http://127.0.0.1:") && model.base_url().ends_with("/v1"));

    let (status, body) = http(model.addr(), "GET", "/v1/models", None, None).await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["data"][0]["id"], fake_model::DEFAULT_MODEL);

    let (status, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("chunks", false))).await;
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], "abcdefg");
    assert_eq!(reply["model"], "m");

    let (_, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("chunks", true))).await;
    let contents: Vec<String> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["choices"][0]["delta"]["content"].as_str().map(str::to_owned)
        })
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(contents, ["abc", "de", "fg"]);
    assert!(body.trim_end().ends_with("data: [DONE]"));

    let (_, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("tool", false))).await;
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["choices"][0]["finish_reason"], "tool_calls");
    let call = &reply["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], SHELL_TOOL);
    let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["command"], "ls");

    // when_once retires after one use; side requests (no tools) get the side reply.
    let (_, first) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("once", false))).await;
    let (_, second) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("once", false))).await;
    assert!(first.contains("first time"));
    assert!(second.contains(fake_model::DEFAULT_REPLY));
    let mut side = chat("chunks", false);
    side.as_object_mut().unwrap().remove("tools");
    let (_, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&side)).await;
    assert!(body.contains(fake_model::SIDE_REPLY));

    // After a tool result: the default rule quotes it.
    let mut after = chat("tool", false);
    after["messages"].as_array_mut().unwrap().push(json!({"role": "tool", "tool_call_id": "c1", "content": "OUT-123"}));
    let (_, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&after)).await;
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], json!(fake_model::quote_tool_output("OUT-123")));

    // Recording.
    let chats = model.chat_requests();
    assert_eq!(chats.len(), 7);
    assert_eq!(chats[6].tool_results(), ["OUT-123"]);
    assert!(chats[6].last_is_tool_result());
    assert_eq!(model.requests()[0].path, "/v1/models");
}

#[tokio::test]
async fn fake_model_errors_and_malformed() {
    let model = FakeModel::start().await;
    model.when(Match::user_contains("teapot"), Reply::http_error(418, r#"{"error":{"message":"short and stout"}}"#));
    model.when(Match::user_contains("broken").regardless_of_tool_result(), Reply::malformed());
    let (status, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("teapot", true))).await;
    assert_eq!(status, 418);
    assert!(body.contains("short and stout"));
    let (status, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("broken", true))).await;
    assert_eq!(status, 200);
    let bad = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]" && serde_json::from_str::<Value>(d).is_err())
        .count();
    assert_eq!(bad, 1, "exactly one unparseable data line: {body}");
    let (status, body) = http(model.addr(), "POST", "/v1/chat/completions", None, Some(&chat("broken", false))).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_err());
    let (status, _) = http(model.addr(), "GET", "/nowhere", None, None).await;
    assert_eq!(status, 404);
    assert_eq!(model.requests().last().unwrap().path, "/nowhere", "unknown paths are recorded too");
}

#[tokio::test]
async fn fake_github_tokens() {
    let github = FakeGitHub::start().await;
    github.add_token_for("gho_good", "mona");
    github.when(Match::user_contains("hi"), Reply::text("hello mona"));

    let (status, body) = http(github.addr(), "GET", "/copilot_internal/user", Some("gho_good"), None).await;
    assert_eq!(status, 200);
    let user: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["login"], "mona");
    assert_eq!(user["chat_enabled"], true);
    assert!(user["copilot_plan"].is_string());
    assert_eq!(user["endpoints"]["api"], json!(github.url()));

    let (status, _) = http(github.addr(), "GET", "/copilot_internal/user", Some("gho_bad"), None).await;
    assert_eq!(status, 401);
    let (status, _) = http(github.addr(), "GET", "/copilot_internal/user", None, None).await;
    assert_eq!(status, 401);

    let (status, body) = http(github.addr(), "GET", "/models", Some("gho_good"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains(fake_model::DEFAULT_MODEL));
    let (status, body) =
        http(github.addr(), "POST", "/chat/completions", Some("gho_good"), Some(&chat("hi", false))).await;
    assert_eq!(status, 200);
    assert!(body.contains("hello mona"));

    github.revoke("gho_good");
    assert!(!github.is_valid("gho_good"));
    for (method, path) in [("GET", "/copilot_internal/user"), ("GET", "/models"), ("POST", "/chat/completions")] {
        let (status, _) = http(github.addr(), method, path, Some("gho_good"), Some(&chat("hi", false))).await;
        assert_eq!(status, 401, "{method} {path} with a revoked token");
    }

    let recorded = github.requests();
    assert!(recorded.iter().all(|r| !format!("{r:?}").contains("gho_")), "Debug never shows tokens");
    assert_eq!(github.user_requests()[0].bearer_token(), Some("gho_good"));
    let env: Vec<_> = github.env().into_iter().map(|(k, _)| k.into_string().unwrap()).collect();
    assert_eq!(env, ["COPILOT_API_URL", "COPILOT_DEBUG_GITHUB_API_URL"]);
}

#[test]
fn cli_path_points_at_an_executable() {
    let path = copilot_desktop_tests::cli::cli_path();
    assert!(path.is_file(), "{}", path.display());
}
