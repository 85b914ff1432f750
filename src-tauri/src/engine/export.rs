//! Export: a session's stored events as a Markdown file or a self-contained HTML page (messages,
//! tool calls with their commands and results, permission decisions). The HTML is built as text
//! here with every piece of session content escaped: no script, no event-handler attribute, no
//! external resource, CSS inline, and a Content-Security-Policy that forbids anything else. Writing
//! the file (and asking where) is the caller's.

use std::collections::HashMap;
use std::fmt::Write as _;

use github_copilot_sdk::SessionEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::EngineResult;
use super::sessions::SessionService;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    Markdown,
    Html,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "md",
            ExportFormat::Html => "html",
        }
    }
}

/// One thing that happened in the session, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    User {
        text: String,
        attachments: Vec<String>,
    },
    Assistant {
        text: String,
    },
    Tool {
        name: String,
        command: Option<String>,
        arguments: Option<String>,
        result: Option<String>,
        success: Option<bool>,
    },
    Permission {
        request: String,
        decision: Option<String>,
    },
    Error {
        message: String,
    },
}

/// A session ready to be written out.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionExport {
    pub title: String,
    pub entries: Vec<Entry>,
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// What a permission request asked, in a line.
fn permission_request(request: &Value) -> String {
    let kind = text(request, "kind").unwrap_or("permission");
    let subject = text(request, "fullCommandText")
        .or_else(|| text(request, "fileName"))
        .or_else(|| text(request, "path"))
        .or_else(|| text(request, "url"))
        .or_else(|| text(request, "toolName"))
        .or_else(|| text(request, "serverName"));
    match subject {
        Some(subject) => format!("{kind}: {subject}"),
        None => kind.to_owned(),
    }
}

/// The user's answer to a permission request, in words.
fn decision(result: &Value) -> String {
    match text(result, "kind").unwrap_or("unknown") {
        "approved" => "approved".into(),
        "approved-for-session" => "approved for the session".into(),
        "approved-for-location" => "approved for this folder".into(),
        kind if kind.starts_with("denied") => {
            let feedback = text(result, "feedback").or_else(|| text(result, "message"));
            feedback.map_or_else(|| "denied".to_owned(), |f| format!("denied: {f}"))
        }
        other => other.to_owned(),
    }
}

impl SessionExport {
    /// Fold a session's stored events into what an export shows.
    pub fn from_events(title: &str, events: &[SessionEvent]) -> Self {
        let mut entries = Vec::new();
        let mut tools: HashMap<String, usize> = HashMap::new();
        let mut permissions: HashMap<String, usize> = HashMap::new();
        for event in events {
            let data = &event.data;
            match event.event_type.as_str() {
                "user.message" => entries.push(Entry::User {
                    text: text(data, "content").unwrap_or_default().to_owned(),
                    attachments: data
                        .get("attachments")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(super::attachments::sent).map(|s| sent_label(&s)).collect())
                        .unwrap_or_default(),
                }),
                "assistant.message" => {
                    let content = text(data, "content").unwrap_or_default();
                    if !content.trim().is_empty() {
                        entries.push(Entry::Assistant { text: content.to_owned() });
                    }
                }
                "tool.execution_start" => {
                    let arguments = data.get("arguments");
                    let command = arguments.and_then(|a| text(a, "command")).map(str::to_owned);
                    let arguments = if command.is_some() {
                        None
                    } else {
                        arguments.filter(|a| !a.is_null()).map(|a| serde_json::to_string_pretty(a).unwrap_or_default())
                    };
                    if let Some(id) = text(data, "toolCallId") {
                        tools.insert(id.to_owned(), entries.len());
                    }
                    entries.push(Entry::Tool {
                        name: text(data, "toolName").unwrap_or("tool").to_owned(),
                        command,
                        arguments,
                        result: None,
                        success: None,
                    });
                }
                "tool.execution_complete" => {
                    let at = text(data, "toolCallId").and_then(|id| tools.get(id)).copied();
                    if let Some(Entry::Tool { result, success, .. }) = at.and_then(|i| entries.get_mut(i)) {
                        *success = data.get("success").and_then(Value::as_bool);
                        *result = data
                            .get("result")
                            .and_then(|r| text(r, "content"))
                            .or_else(|| data.get("error").and_then(|e| text(e, "message")))
                            .map(str::to_owned);
                    }
                }
                "permission.requested" => {
                    if let Some(id) = text(data, "requestId") {
                        permissions.insert(id.to_owned(), entries.len());
                    }
                    let request = data.get("permissionRequest").cloned().unwrap_or_default();
                    entries.push(Entry::Permission { request: permission_request(&request), decision: None });
                }
                "permission.completed" => {
                    let at = text(data, "requestId").and_then(|id| permissions.get(id)).copied();
                    if let Some(Entry::Permission { decision: d, .. }) = at.and_then(|i| entries.get_mut(i)) {
                        *d = Some(decision(data.get("result").unwrap_or(&Value::Null)));
                    }
                }
                "session.error" => entries
                    .push(Entry::Error { message: text(data, "message").unwrap_or("An error occurred.").to_owned() }),
                _ => {}
            }
        }
        SessionExport { title: title.to_owned(), entries }
    }

    pub fn render(&self, format: ExportFormat) -> String {
        match format {
            ExportFormat::Markdown => self.to_markdown(),
            ExportFormat::Html => self.to_html(),
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n\n", one_line(&self.title));
        for entry in &self.entries {
            match entry {
                Entry::User { text, attachments } => {
                    out.push_str("## You\n\n");
                    out.push_str(text.trim_end());
                    out.push_str("\n\n");
                    for name in attachments {
                        let _ = writeln!(out, "- Attached: {}", one_line(name));
                    }
                    if !attachments.is_empty() {
                        out.push('\n');
                    }
                }
                Entry::Assistant { text } => {
                    out.push_str("## Copilot\n\n");
                    out.push_str(text.trim_end());
                    out.push_str("\n\n");
                }
                Entry::Tool { name, command, arguments, result, success } => {
                    let status = match success {
                        Some(true) => "succeeded",
                        Some(false) => "failed",
                        None => "did not finish",
                    };
                    let _ = writeln!(out, "### Tool: {} ({status})\n", one_line(name));
                    if let Some(command) = command {
                        out.push_str(&fenced("sh", command));
                    }
                    if let Some(arguments) = arguments {
                        out.push_str(&fenced("json", arguments));
                    }
                    if let Some(result) = result {
                        out.push_str("Result:\n\n");
                        out.push_str(&fenced("text", result));
                    }
                }
                Entry::Permission { request, decision } => {
                    let _ = writeln!(
                        out,
                        "> Permission — {}: **{}**\n",
                        one_line(request),
                        decision.as_deref().unwrap_or("no answer")
                    );
                }
                Entry::Error { message } => {
                    let _ = writeln!(out, "> Error: {}\n", one_line(message));
                }
            }
        }
        out
    }

    pub fn to_html(&self) -> String {
        let mut body = String::new();
        for entry in &self.entries {
            match entry {
                Entry::User { text, attachments } => {
                    let _ =
                        write!(body, "<section class=\"user\"><h2>You</h2><div class=\"text\">{}</div>", escape(text));
                    if !attachments.is_empty() {
                        body.push_str("<ul class=\"attachments\">");
                        for name in attachments {
                            let _ = write!(body, "<li>Attached: {}</li>", escape(name));
                        }
                        body.push_str("</ul>");
                    }
                    body.push_str("</section>\n");
                }
                Entry::Assistant { text } => {
                    let _ = writeln!(
                        body,
                        "<section class=\"assistant\"><h2>Copilot</h2><div class=\"text\">{}</div></section>",
                        escape(text)
                    );
                }
                Entry::Tool { name, command, arguments, result, success } => {
                    let status = match success {
                        Some(true) => "succeeded",
                        Some(false) => "failed",
                        None => "did not finish",
                    };
                    let _ = write!(body, "<section class=\"tool\"><h3>Tool: {} ({status})</h3>", escape(name));
                    if let Some(command) = command {
                        let _ = write!(body, "<pre class=\"command\">{}</pre>", escape(command));
                    }
                    if let Some(arguments) = arguments {
                        let _ = write!(body, "<pre>{}</pre>", escape(arguments));
                    }
                    if let Some(result) = result {
                        let _ = write!(body, "<p>Result:</p><pre>{}</pre>", escape(result));
                    }
                    body.push_str("</section>\n");
                }
                Entry::Permission { request, decision } => {
                    let _ = writeln!(
                        body,
                        "<p class=\"permission\">Permission — {}: <strong>{}</strong></p>",
                        escape(request),
                        escape(decision.as_deref().unwrap_or("no answer"))
                    );
                }
                Entry::Error { message } => {
                    let _ = writeln!(body, "<p class=\"error\">Error: {}</p>", escape(message));
                }
            }
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n",
            title = escape(&one_line(&self.title)),
        )
    }
}

const STYLE: &str = "body{max-width:48rem;margin:2rem auto;padding:0 1rem;font:15px/1.5 system-ui,sans-serif;color:#1f2328}\
h1{font-size:1.5rem}h2{font-size:1rem;margin:0 0 .25rem}h3{font-size:.9rem;margin:0 0 .25rem}\
section{margin:1rem 0;padding:.75rem 1rem;border:1px solid #d0d7de;border-radius:6px}\
.user{background:#f6f8fa}.text{white-space:pre-wrap;overflow-wrap:anywhere}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:.5rem;border-radius:4px;font-size:.85rem}\
.permission,.error{margin:.5rem 0;padding-left:.75rem;border-left:3px solid #d0d7de}.error{border-color:#cf222e}";

fn sent_label(sent: &super::attachments::SentAttachment) -> String {
    use super::attachments::SentAttachment as S;
    match sent {
        S::File { name, path } | S::Directory { name, path } if !path.is_empty() => format!("{name} ({path})"),
        S::File { name, .. } | S::Directory { name, .. } | S::Image { name, .. } | S::Other { name } => name.clone(),
    }
}

/// HTML-escape text for element content and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `content` in a Markdown code fence longer than any run of backticks inside it.
fn fenced(language: &str, content: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{language}\n{}\n{fence}\n\n", content.trim_end())
}

impl SessionService {
    /// The session `session_id` written out as `format`, and a file name for it.
    pub async fn export(&self, session_id: &str, format: ExportFormat) -> EngineResult<(String, String)> {
        let session = self.handle(session_id).await?;
        let events = session.get_events().await?;
        let title = self
            .list()
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|s| s.id == session_id))
            .and_then(|s| s.title.or(s.summary))
            .unwrap_or_else(|| "Copilot session".to_owned());
        let export = SessionExport::from_events(&title, &events);
        let stem: String =
            one_line(&title).chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '-' }).take(60).collect();
        let stem = stem.trim_matches('-');
        let name = format!("{}.{}", if stem.is_empty() { "copilot-session" } else { stem }, format.extension());
        Ok((export.render(format), name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: Value) -> SessionEvent {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "timestamp": "2026-01-01T00:00:00Z",
            "parentId": null,
            "type": kind,
            "data": data,
        }))
        .unwrap()
    }

    fn hostile_session() -> SessionExport {
        let events = vec![
            event("user.message", serde_json::json!({"content": "run <b>it</b>"})),
            event(
                "assistant.message",
                serde_json::json!({"messageId": "m", "content": "<script>alert(1)</script><img src=x onerror=\"alert(2)\"> ```"}),
            ),
            event(
                "tool.execution_start",
                serde_json::json!({"toolCallId": "t1", "toolName": "bash", "arguments": {"command": "echo '<x onload=y>'"}}),
            ),
            event(
                "permission.requested",
                serde_json::json!({"requestId": "p1", "permissionRequest": {"kind": "shell", "fullCommandText": "echo '<x onload=y>'"}}),
            ),
            event("permission.completed", serde_json::json!({"requestId": "p1", "result": {"kind": "approved"}})),
            event(
                "tool.execution_complete",
                serde_json::json!({"toolCallId": "t1", "success": true, "result": {"content": "</pre><script>x()</script>"}}),
            ),
        ];
        SessionExport::from_events("A <title>", &events)
    }

    #[test]
    fn html_holds_no_script_no_handlers_and_escapes_the_model() {
        let html = hostile_session().to_html();
        let lower = html.to_lowercase();
        assert!(!lower.contains("<script"), "{html}");
        assert!(!lower.contains("<img"), "{html}");
        let handler = regex::Regex::new(r#"(?i)<[^>]*\son[a-z]+\s*="#).unwrap();
        assert!(!handler.is_match(&html), "an event-handler attribute: {html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;"));
        assert!(html.contains("<title>A &lt;title&gt;</title>"));
        assert!(html.contains("Content-Security-Policy"));
        let external = regex::Regex::new(r#"(?i)<[^>]*\s(src|href)\s*="#).unwrap();
        assert!(
            !external.is_match(&html) && !lower.contains("http://") && !lower.contains("https://"),
            "nothing external"
        );
        assert!(
            html.contains("Permission — shell: echo &#39;&lt;x onload=y&gt;&#39;: <strong>approved</strong>"),
            "{html}"
        );
    }

    #[test]
    fn markdown_has_messages_commands_results_and_decisions_in_order() {
        let md = hostile_session().to_markdown();
        let you = md.find("## You").unwrap();
        let copilot = md.find("## Copilot").unwrap();
        let tool = md.find("### Tool: bash (succeeded)").unwrap();
        let permission = md.find("> Permission — shell: echo '<x onload=y>': **approved**").unwrap();
        assert!(you < copilot && copilot < tool && tool < permission, "{md}");
        assert!(md.contains("```sh\necho '<x onload=y>'\n```"), "{md}");
        // Backticks in the content never close the fence early.
        assert_eq!(fenced("text", "a ```` b"), "`````text\na ```` b\n`````\n\n");
    }
}
