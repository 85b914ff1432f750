//! `PermissionBroker`: turns the agent's permission requests (`permission.requested`) and
//! questions (`user_input.requested`) into pending prompts a person answers, and turns their
//! answers into the CLI's decisions. With nobody attached to ask, it denies. It owns the pending
//! set; it does not render anything or know about windows.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use github_copilot_sdk::handler::{PermissionHandler, PermissionResult, UserInputHandler, UserInputResponse};
use github_copilot_sdk::session::Session;
use github_copilot_sdk::{PermissionDecision, PermissionRequestData, RequestId, SessionId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot};

use super::error::{EngineError, EngineResult};

/// What the user must see before deciding.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PermissionPrompt {
    pub request_id: String,
    pub session_id: String,
    /// What the agent says it wants to do.
    pub intention: Option<String>,
    pub details: PromptDetails,
    /// "Allow for this session" is offered only when the CLI says it can honour it.
    pub can_approve_for_session: bool,
    /// "Allow in this project": the CLI stores the approval for the project folder
    /// (`approve-for-location`); offered for the kinds whose approval it can store.
    pub can_approve_for_location: bool,
    /// "Allow the domain permanently": URL requests only.
    pub can_approve_permanently: bool,
    /// A warning the CLI attached (for example a sandbox bypass).
    pub warning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PromptDetails {
    Shell {
        full_command_text: String,
        commands: Vec<String>,
    },
    Write {
        file_name: String,
        diff: String,
    },
    Read {
        path: String,
    },
    Url {
        url: String,
        domain: String,
    },
    Mcp {
        server_name: String,
        tool_name: String,
        #[specta(type = Option<specta_typescript::Unknown>)]
        arguments: Option<Value>,
    },
    Memory {
        fact: String,
    },
    CustomTool {
        tool_name: String,
        description: String,
        #[specta(type = Option<specta_typescript::Unknown>)]
        arguments: Option<Value>,
    },
    Other {
        request_kind: String,
        #[specta(type = specta_typescript::Unknown)]
        raw: Value,
    },
}

/// The user's answer.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, specta::Type)]
#[serde(tag = "decision", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PermissionAnswer {
    ApproveOnce,
    ApproveForSession,
    ApproveForLocation,
    ApprovePermanently,
    Reject { feedback: Option<String> },
}

/// A question the agent asks the user.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UserQuestion {
    pub request_id: String,
    pub session_id: String,
    pub question: String,
    pub choices: Vec<String>,
    pub allow_freeform: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UserAnswer {
    pub answer: String,
    pub was_freeform: bool,
}

/// Changes to the pending set, for whoever shows prompts.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PromptEvent {
    PermissionRequested {
        prompt: PermissionPrompt,
    },
    QuestionAsked {
        question: UserQuestion,
    },
    /// Answered here, elsewhere, or withdrawn by the CLI.
    Resolved {
        request_id: String,
    },
}

enum Reply {
    Handler(oneshot::Sender<PermissionResult>),
    /// Restored after a re-attach: answered through `session.permissions.handlePendingPermissionRequest`.
    Rpc(Arc<Session>),
}

struct PendingPermission {
    prompt: PermissionPrompt,
    raw: Value,
    working_directory: String,
    session: Option<Arc<Session>>,
    reply: Reply,
}

#[derive(Clone, Default)]
pub struct PermissionBroker {
    inner: Arc<Inner>,
}

struct Inner {
    permissions: Mutex<BTreeMap<String, PendingPermission>>,
    questions: Mutex<BTreeMap<String, (UserQuestion, oneshot::Sender<UserAnswer>)>>,
    events: broadcast::Sender<PromptEvent>,
    askers: AtomicUsize,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            permissions: Mutex::default(),
            questions: Mutex::default(),
            events: broadcast::channel(256).0,
            askers: AtomicUsize::new(0),
        }
    }
}

/// While one of these lives, someone is there to answer prompts.
pub struct AskerGuard(Arc<Inner>);

impl Drop for AskerGuard {
    fn drop(&mut self) {
        self.0.askers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PermissionBroker {
    /// Declare that a UI (or a test) is present to answer prompts.
    pub fn attach_asker(&self) -> AskerGuard {
        self.inner.askers.fetch_add(1, Ordering::SeqCst);
        AskerGuard(self.inner.clone())
    }

    fn has_asker(&self) -> bool {
        self.inner.askers.load(Ordering::SeqCst) > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<PromptEvent> {
        self.inner.events.subscribe()
    }

    pub fn pending_permissions(&self) -> Vec<PermissionPrompt> {
        self.inner.permissions.lock().unwrap().values().map(|p| p.prompt.clone()).collect()
    }

    pub fn pending_questions(&self) -> Vec<UserQuestion> {
        self.inner.questions.lock().unwrap().values().map(|(q, _)| q.clone()).collect()
    }

    /// Answer a permission prompt.
    pub async fn decide(&self, request_id: &str, answer: PermissionAnswer) -> EngineResult<()> {
        let pending = self
            .inner
            .permissions
            .lock()
            .unwrap()
            .remove(request_id)
            .ok_or_else(|| EngineError::PromptNotPending(request_id.to_owned()))?;
        let decision = self.decision_for(&pending, &answer).await;
        let decision = match decision {
            Ok(d) => d,
            Err(e) => {
                // Put it back so the user can choose differently.
                self.inner.permissions.lock().unwrap().insert(request_id.to_owned(), pending);
                return Err(e);
            }
        };
        tracing::info!(request_id, answer = ?answer, "permission answered");
        match pending.reply {
            Reply::Handler(tx) => {
                let _ = tx.send(PermissionResult::Decision { decision, context: None });
            }
            Reply::Rpc(session) => {
                let request = github_copilot_sdk::rpc::PermissionDecisionRequest {
                    decision_context: None,
                    request_id: RequestId::new(request_id),
                    result: decision,
                };
                session.rpc().permissions().handle_pending_permission_request(request).await?;
            }
        }
        let _ = self.inner.events.send(PromptEvent::Resolved { request_id: request_id.to_owned() });
        Ok(())
    }

    /// Answer a question from the agent.
    pub fn answer(&self, request_id: &str, answer: UserAnswer) -> EngineResult<()> {
        let (_, tx) = self
            .inner
            .questions
            .lock()
            .unwrap()
            .remove(request_id)
            .ok_or_else(|| EngineError::PromptNotPending(request_id.to_owned()))?;
        let _ = tx.send(answer);
        let _ = self.inner.events.send(PromptEvent::Resolved { request_id: request_id.to_owned() });
        Ok(())
    }

    /// The CLI settled a request by itself (`permission.completed`, an abort, a lost session).
    pub fn withdraw(&self, request_id: &str) {
        let removed = self.inner.permissions.lock().unwrap().remove(request_id).is_some()
            || self.inner.questions.lock().unwrap().remove(request_id).is_some();
        if removed {
            let _ = self.inner.events.send(PromptEvent::Resolved { request_id: request_id.to_owned() });
        }
    }

    /// Withdraw every prompt of a session (its CLI went away).
    pub fn withdraw_session(&self, session_id: &str) {
        let ids: Vec<String> = self
            .inner
            .permissions
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, p)| p.prompt.session_id == session_id)
            .map(|(id, _)| id.clone())
            .chain(
                self.inner
                    .questions
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(_, (q, _))| q.session_id == session_id)
                    .map(|(id, _)| id.clone()),
            )
            .collect();
        for id in ids {
            self.withdraw(&id);
        }
    }

    /// After (re)attaching to a session, pick up requests the CLI still holds open.
    pub async fn restore_pending(&self, session: Arc<Session>, working_directory: String) -> EngineResult<usize> {
        let list = session.rpc().permissions().pending_requests().await?;
        let mut restored = 0;
        for item in list.items {
            let request_id = item.request_id.to_string();
            if self.inner.permissions.lock().unwrap().contains_key(&request_id) {
                continue;
            }
            let raw = serde_json::to_value(&item.request).unwrap_or(Value::Null);
            let prompt = prompt_from(&raw, &request_id, session.id().as_ref());
            self.insert(
                request_id,
                PendingPermission {
                    prompt,
                    raw,
                    working_directory: working_directory.clone(),
                    session: Some(session.clone()),
                    reply: Reply::Rpc(session.clone()),
                },
            );
            restored += 1;
        }
        Ok(restored)
    }

    fn insert(&self, request_id: String, pending: PendingPermission) {
        let prompt = pending.prompt.clone();
        self.inner.permissions.lock().unwrap().insert(request_id, pending);
        let _ = self.inner.events.send(PromptEvent::PermissionRequested { prompt });
    }

    async fn decision_for(
        &self,
        pending: &PendingPermission,
        answer: &PermissionAnswer,
    ) -> EngineResult<PermissionDecision> {
        let raw = &pending.raw;
        let kind = raw.get("kind").and_then(Value::as_str).unwrap_or_default();
        let value = match answer {
            PermissionAnswer::ApproveOnce => json!({"kind": "approve-once"}),
            PermissionAnswer::Reject { feedback } => json!({"kind": "reject", "feedback": feedback}),
            PermissionAnswer::ApproveForSession => {
                if !pending.prompt.can_approve_for_session {
                    return Err(EngineError::InvalidRequest(
                        "This request cannot be allowed for the whole session.".into(),
                    ));
                }
                match &pending.prompt.details {
                    PromptDetails::Url { domain, .. } => json!({"kind": "approve-for-session", "domain": domain}),
                    _ => json!({"kind": "approve-for-session", "approval": approval_for(kind, raw)?}),
                }
            }
            PermissionAnswer::ApproveForLocation => {
                let session = pending.session.as_ref().ok_or_else(|| {
                    EngineError::InvalidRequest("This request cannot be allowed for the project location.".into())
                })?;
                let params = github_copilot_sdk::rpc::PermissionLocationResolveParams {
                    working_directory: pending.working_directory.clone(),
                };
                let location = session.rpc().permissions().locations().resolve(params).await?;
                json!({"kind": "approve-for-location", "approval": approval_for(kind, raw)?, "locationKey": location.location_key})
            }
            PermissionAnswer::ApprovePermanently => match &pending.prompt.details {
                PromptDetails::Url { domain, .. } => json!({"kind": "approve-permanently", "domain": domain}),
                _ => return Err(EngineError::InvalidRequest("Only web requests can be allowed permanently.".into())),
            },
        };
        serde_json::from_value(value)
            .map_err(|e| EngineError::InvalidRequest(format!("could not build the decision: {e}")))
    }

    /// The handler the SDK calls for a session; `session` lets "approve for location" resolve
    /// the project location.
    pub fn handler_for(&self, working_directory: String) -> Arc<SessionPrompts> {
        Arc::new(SessionPrompts { broker: self.clone(), working_directory, session: Mutex::new(None) })
    }
}

/// The scope of an "allow for this session/location" answer, by request kind.
fn approval_for(kind: &str, raw: &Value) -> EngineResult<Value> {
    let text = |k: &str| raw.get(k).cloned().unwrap_or(Value::Null);
    Ok(match kind {
        "commands" => json!({"kind": "commands", "commandIdentifiers": text("commandIdentifiers")}),
        "read" => json!({"kind": "read"}),
        "write" => json!({"kind": "write"}),
        "mcp" => json!({"kind": "mcp", "serverName": text("serverName"), "toolName": text("toolName")}),
        "memory" => json!({"kind": "memory"}),
        "custom-tool" => json!({"kind": "custom-tool", "toolName": text("toolName")}),
        other => return Err(EngineError::InvalidRequest(format!("\"{other}\" requests can only be allowed once."))),
    })
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Build what the user sees from the CLI's prompt request (`promptRequest`).
pub fn prompt_from(raw: &Value, request_id: &str, session_id: &str) -> PermissionPrompt {
    let kind = str_of(raw, "kind");
    let details = match kind.as_str() {
        "commands" => PromptDetails::Shell {
            full_command_text: str_of(raw, "fullCommandText"),
            commands: raw
                .get("commandIdentifiers")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
        },
        "write" => PromptDetails::Write { file_name: str_of(raw, "fileName"), diff: str_of(raw, "diff") },
        "read" => PromptDetails::Read { path: str_of(raw, "path") },
        "url" => {
            let url = str_of(raw, "url");
            let domain = url::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
            PromptDetails::Url { url, domain }
        }
        "mcp" => PromptDetails::Mcp {
            server_name: str_of(raw, "serverName"),
            tool_name: str_of(raw, "toolName"),
            arguments: raw.get("args").cloned(),
        },
        "memory" => PromptDetails::Memory { fact: str_of(raw, "fact") },
        "custom-tool" => PromptDetails::CustomTool {
            tool_name: str_of(raw, "toolName"),
            description: str_of(raw, "toolDescription"),
            arguments: raw.get("args").cloned(),
        },
        _ => PromptDetails::Other { request_kind: kind.clone(), raw: raw.clone() },
    };
    let intention = raw.get("intention").and_then(Value::as_str).map(str::to_owned).filter(|s| !s.is_empty());
    PermissionPrompt {
        request_id: request_id.to_owned(),
        session_id: session_id.to_owned(),
        intention,
        can_approve_for_session: raw.get("canOfferSessionApproval").and_then(Value::as_bool).unwrap_or(false)
            && !matches!(details, PromptDetails::Other { .. }),
        can_approve_permanently: matches!(details, PromptDetails::Url { .. }),
        can_approve_for_location: approval_for(&kind, raw).is_ok(),
        warning: raw.get("warning").and_then(Value::as_str).map(str::to_owned),
        details,
    }
}

/// The SDK-facing handler of one session. Removes its prompt if the SDK drops the request.
pub struct SessionPrompts {
    broker: PermissionBroker,
    working_directory: String,
    session: Mutex<Option<Arc<Session>>>,
}

impl SessionPrompts {
    /// Hand over the session once it exists (needed for location approvals).
    pub fn bind(&self, session: Arc<Session>) {
        *self.session.lock().unwrap() = Some(session);
    }
}

struct WithdrawOnDrop(PermissionBroker, String);
impl Drop for WithdrawOnDrop {
    fn drop(&mut self) {
        self.0.withdraw(&self.1);
    }
}

#[async_trait]
impl PermissionHandler for SessionPrompts {
    async fn handle(
        &self,
        session_id: SessionId,
        request_id: RequestId,
        data: PermissionRequestData,
    ) -> PermissionResult {
        let broker = &self.broker;
        if !broker.has_asker() {
            tracing::info!(%request_id, "permission requested with no window to ask: denying");
            return PermissionResult::user_not_available();
        }
        let raw = data.extra.get("promptRequest").cloned().unwrap_or_else(|| legacy_prompt(&data.extra));
        let request_id = request_id.to_string();
        let prompt = prompt_from(&raw, &request_id, session_id.as_ref());
        let (tx, rx) = oneshot::channel();
        broker.insert(
            request_id.clone(),
            PendingPermission {
                prompt,
                raw,
                working_directory: self.working_directory.clone(),
                session: self.session.lock().unwrap().clone(),
                reply: Reply::Handler(tx),
            },
        );
        let _cleanup = WithdrawOnDrop(broker.clone(), request_id);
        rx.await.unwrap_or_else(|_| PermissionResult::user_not_available())
    }
}

#[async_trait]
impl UserInputHandler for SessionPrompts {
    async fn handle(
        &self,
        session_id: SessionId,
        request_id: Option<RequestId>,
        question: String,
        choices: Option<Vec<String>>,
        allow_freeform: Option<bool>,
    ) -> Option<UserInputResponse> {
        let broker = &self.broker;
        if !broker.has_asker() {
            return None;
        }
        let request_id =
            request_id.map(|r| r.to_string()).unwrap_or_else(|| format!("question-{}", uuid::Uuid::new_v4()));
        let question = UserQuestion {
            request_id: request_id.clone(),
            session_id: session_id.to_string(),
            question,
            choices: choices.unwrap_or_default(),
            allow_freeform: allow_freeform.unwrap_or(true),
        };
        let (tx, rx) = oneshot::channel();
        broker.inner.questions.lock().unwrap().insert(request_id.clone(), (question.clone(), tx));
        let _ = broker.inner.events.send(PromptEvent::QuestionAsked { question });
        let _cleanup = WithdrawOnDrop(broker.clone(), request_id);
        let answer = rx.await.ok()?;
        Some(UserInputResponse { answer: answer.answer, was_freeform: answer.was_freeform })
    }
}

/// Older runtimes send only `permissionRequest`; translate the common shapes.
fn legacy_prompt(extra: &Value) -> Value {
    let request = extra.get("permissionRequest").cloned().unwrap_or_else(|| extra.clone());
    match request.get("kind").and_then(Value::as_str) {
        Some("shell") => json!({
            "kind": "commands",
            "fullCommandText": request.get("fullCommandText"),
            "intention": request.get("intention"),
            "canOfferSessionApproval": request.get("canOfferSessionApproval"),
            "commandIdentifiers": request.get("commands").and_then(Value::as_array).map(|cmds| {
                cmds.iter().filter_map(|c| c.get("identifier").cloned()).collect::<Vec<_>>()
            }),
        }),
        _ => request,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_prompt_shows_the_full_command_and_offers_session_approval_only_when_allowed() {
        let raw = json!({"kind": "commands", "fullCommandText": "rm -rf build && make", "commandIdentifiers": ["rm", "make"],
                         "intention": "Rebuild", "canOfferSessionApproval": true});
        let prompt = prompt_from(&raw, "r1", "s1");
        assert_eq!(
            prompt.details,
            PromptDetails::Shell {
                full_command_text: "rm -rf build && make".into(),
                commands: vec!["rm".into(), "make".into()]
            }
        );
        assert!(prompt.can_approve_for_session);
        assert!(!prompt.can_approve_permanently);
        assert_eq!(prompt.intention.as_deref(), Some("Rebuild"));
        let raw = json!({"kind": "commands", "fullCommandText": "x", "commandIdentifiers": [], "canOfferSessionApproval": false});
        assert!(!prompt_from(&raw, "r2", "s1").can_approve_for_session);
    }

    #[test]
    fn url_prompt_names_the_domain_and_may_be_approved_permanently() {
        let raw = json!({"kind": "url", "url": "https://docs.example.com/a?b=1", "intention": "Read docs"});
        let prompt = prompt_from(&raw, "r1", "s1");
        assert_eq!(
            prompt.details,
            PromptDetails::Url { url: "https://docs.example.com/a?b=1".into(), domain: "docs.example.com".into() }
        );
        assert!(prompt.can_approve_permanently);
    }

    #[test]
    fn legacy_shell_requests_are_translated() {
        let extra = json!({"permissionRequest": {"kind": "shell", "fullCommandText": "ls", "commands": [{"identifier": "ls", "readOnly": true}], "canOfferSessionApproval": true}});
        let prompt = prompt_from(&legacy_prompt(&extra), "r", "s");
        assert_eq!(
            prompt.details,
            PromptDetails::Shell { full_command_text: "ls".into(), commands: vec!["ls".into()] }
        );
    }

    #[test]
    fn session_approval_scopes_match_the_request_kind() {
        assert_eq!(
            approval_for("commands", &json!({"commandIdentifiers": ["git"]})).unwrap(),
            json!({"kind": "commands", "commandIdentifiers": ["git"]})
        );
        assert!(approval_for("hook", &json!({})).is_err());
        // Every answer we build must be a decision the SDK accepts.
        for value in [
            json!({"kind": "approve-once"}),
            json!({"kind": "reject", "feedback": "no"}),
            json!({"kind": "approve-for-session", "approval": {"kind": "commands", "commandIdentifiers": ["git"]}}),
            json!({"kind": "approve-permanently", "domain": "example.com"}),
        ] {
            serde_json::from_value::<PermissionDecision>(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"));
        }
    }

    #[tokio::test]
    async fn with_nobody_to_ask_requests_are_denied() {
        let broker = PermissionBroker::default();
        let handler = broker.handler_for("/tmp".into());
        let data: PermissionRequestData =
            serde_json::from_value(json!({"promptRequest": {"kind": "commands", "fullCommandText": "ls"}})).unwrap();
        let result = PermissionHandler::handle(&*handler, SessionId::new("s"), RequestId::new("r"), data).await;
        assert!(matches!(result, PermissionResult::Decision { decision: PermissionDecision::UserNotAvailable(_), .. }));
        assert!(broker.pending_permissions().is_empty());
    }
}
