//! The agent's modes (interactive, plan, autopilot), the plan it writes in plan mode, and its
//! requests to leave plan mode. `PlanReviews` holds the pending exit-plan-mode requests (the
//! CLI's `exitPlanMode.request`) until a person answers them, as the permission broker does for
//! permissions; with nobody there to ask, a plan is not approved. Nothing here renders anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use github_copilot_sdk::handler::{ExitPlanModeHandler, ExitPlanModeResult};
use github_copilot_sdk::types::ExitPlanModeData;
use github_copilot_sdk::{RequestId, SessionId};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

use super::error::{EngineError, EngineResult};
use super::sessions::SessionService;

/// How the agent works: asks before acting (interactive), plans without changing anything
/// (plan), or works on its own without asking (autopilot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AgentMode {
    Interactive,
    Plan,
    Autopilot,
}

impl AgentMode {
    /// The CLI's word for this mode.
    pub fn wire(self) -> &'static str {
        match self {
            Self::Interactive => "interactive",
            Self::Plan => "plan",
            Self::Autopilot => "autopilot",
        }
    }

    /// The CLI's word for a mode; `None` for one this app does not know.
    pub fn from_wire(mode: &str) -> Option<Self> {
        match mode {
            "interactive" => Some(Self::Interactive),
            "plan" => Some(Self::Plan),
            "autopilot" => Some(Self::Autopilot),
            _ => None,
        }
    }
}

/// The session's plan file (plan.md in the session's folder).
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionPlan {
    pub exists: bool,
    /// Markdown written by the model: render it sanitized.
    pub content: Option<String>,
    pub path: Option<String>,
}

/// The agent finished a plan and asks to leave plan mode.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlanReview {
    pub request_id: String,
    pub session_id: String,
    /// Markdown from the model.
    pub summary: String,
    /// The whole plan (markdown from the model), when the CLI sends it.
    pub plan_content: Option<String>,
    /// The ways to go on the CLI offers ("interactive", "autopilot", "exit_only", ...).
    pub actions: Vec<String>,
    pub recommended_action: String,
}

/// The user's answer to a [`PlanReview`].
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlanDecision {
    pub approved: bool,
    /// One of the review's `actions`.
    pub selected_action: Option<String>,
    /// What to change in the plan (when not approved) or a note to go with it.
    pub feedback: Option<String>,
}

/// Changes to the pending reviews, for whoever shows them.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PlanReviewEvent {
    Requested {
        review: PlanReview,
    },
    /// Answered, or dropped by the CLI.
    Resolved {
        request_id: String,
    },
}

/// The pending exit-plan-mode requests of every session. Cheap to clone.
#[derive(Clone)]
pub struct PlanReviews {
    inner: Arc<ReviewsInner>,
}

struct ReviewsInner {
    pending: Mutex<BTreeMap<String, (PlanReview, oneshot::Sender<PlanDecision>)>>,
    events: broadcast::Sender<PlanReviewEvent>,
    reviewers: AtomicUsize,
}

impl Default for PlanReviews {
    fn default() -> Self {
        Self {
            inner: Arc::new(ReviewsInner {
                pending: Mutex::default(),
                events: broadcast::channel(64).0,
                reviewers: AtomicUsize::new(0),
            }),
        }
    }
}

/// While one of these lives, someone is there to review plans.
pub struct ReviewerGuard(Arc<ReviewsInner>);

impl Drop for ReviewerGuard {
    fn drop(&mut self) {
        self.0.reviewers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PlanReviews {
    /// Declare that a UI (or a test) is present to review plans.
    pub fn attach_reviewer(&self) -> ReviewerGuard {
        self.inner.reviewers.fetch_add(1, Ordering::SeqCst);
        ReviewerGuard(self.inner.clone())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<PlanReviewEvent> {
        self.inner.events.subscribe()
    }

    pub fn pending(&self) -> Vec<PlanReview> {
        self.inner.pending.lock().unwrap().values().map(|(review, _)| review.clone()).collect()
    }

    /// Answer a pending review. A selected action must be one the review offered.
    pub fn decide(&self, request_id: &str, decision: PlanDecision) -> EngineResult<()> {
        let mut pending = self.inner.pending.lock().unwrap();
        let Some((review, _)) = pending.get(request_id) else {
            return Err(EngineError::PromptNotPending(request_id.to_owned()));
        };
        if let Some(action) = &decision.selected_action
            && !review.actions.contains(action)
        {
            return Err(EngineError::InvalidRequest(format!("\"{action}\" is not one of the ways this plan offers.")));
        }
        let (_, reply) = pending.remove(request_id).expect("checked above");
        drop(pending);
        let _ = reply.send(decision);
        let _ = self.inner.events.send(PlanReviewEvent::Resolved { request_id: request_id.to_owned() });
        Ok(())
    }

    fn withdraw(&self, request_id: &str) {
        if self.inner.pending.lock().unwrap().remove(request_id).is_some() {
            let _ = self.inner.events.send(PlanReviewEvent::Resolved { request_id: request_id.to_owned() });
        }
    }

    /// The handler the SDK calls when a session's agent asks to leave plan mode.
    pub fn handler(&self) -> Arc<dyn ExitPlanModeHandler> {
        Arc::new(self.clone())
    }
}

struct WithdrawOnDrop(PlanReviews, String);
impl Drop for WithdrawOnDrop {
    fn drop(&mut self) {
        self.0.withdraw(&self.1);
    }
}

#[async_trait]
impl ExitPlanModeHandler for PlanReviews {
    async fn handle(
        &self,
        session_id: SessionId,
        request_id: Option<RequestId>,
        data: ExitPlanModeData,
    ) -> ExitPlanModeResult {
        if self.inner.reviewers.load(Ordering::SeqCst) == 0 {
            tracing::info!(session = %session_id, "plan ready with no window to review it: staying in plan mode");
            return ExitPlanModeResult {
                approved: false,
                selected_action: None,
                feedback: Some("The user is not available to review the plan right now.".into()),
            };
        }
        let request_id = request_id.map(|r| r.to_string()).unwrap_or_else(|| format!("plan-{}", uuid::Uuid::new_v4()));
        let review = PlanReview {
            request_id: request_id.clone(),
            session_id: session_id.to_string(),
            summary: data.summary,
            plan_content: data.plan_content,
            actions: data.actions,
            recommended_action: data.recommended_action,
        };
        let (tx, rx) = oneshot::channel();
        self.inner.pending.lock().unwrap().insert(request_id.clone(), (review.clone(), tx));
        let _ = self.inner.events.send(PlanReviewEvent::Requested { review });
        let _cleanup = WithdrawOnDrop(self.clone(), request_id);
        match rx.await {
            Ok(decision) => ExitPlanModeResult {
                approved: decision.approved,
                selected_action: decision.selected_action,
                feedback: decision.feedback.filter(|f| !f.trim().is_empty()),
            },
            Err(_) => ExitPlanModeResult { approved: false, selected_action: None, feedback: None },
        }
    }
}

impl SessionService {
    /// The mode a session is in now.
    pub async fn mode(&self, session_id: &str) -> EngineResult<AgentMode> {
        let session = self.session_handle(session_id).await?;
        let mode = session.rpc().mode().get().await?;
        let wire = serde_json::to_value(&mode).unwrap_or_default();
        wire.as_str()
            .and_then(AgentMode::from_wire)
            .ok_or_else(|| EngineError::Cli(format!("the CLI reports a mode this app does not know: {wire}")))
    }

    /// Put a session in `mode` (the CLI announces it with `session.mode_changed`).
    pub async fn set_mode(&self, session_id: &str, mode: AgentMode) -> EngineResult<()> {
        let session = self.session_handle(session_id).await?;
        let request: github_copilot_sdk::rpc::ModeSetRequest =
            serde_json::from_value(serde_json::json!({ "mode": mode.wire() }))
                .expect("a mode request has the SDK's shape");
        let result = session.rpc().mode().set(request).await?;
        if result.mode_applied == Some(false) {
            let why = result.message.or(result.warning).unwrap_or(result.status);
            return Err(EngineError::Cli(format!("the CLI did not switch the mode: {why}")));
        }
        tracing::info!(session = session_id, ?mode, "session mode set");
        Ok(())
    }

    /// The session's plan as it is now.
    pub async fn plan(&self, session_id: &str) -> EngineResult<SessionPlan> {
        let session = self.session_handle(session_id).await?;
        let plan = session.rpc().plan().read().await?;
        Ok(SessionPlan { exists: plan.exists, content: plan.content, path: plan.path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> ExitPlanModeData {
        ExitPlanModeData {
            summary: "Do it".into(),
            plan_content: Some("# Plan".into()),
            actions: vec!["interactive".into(), "autopilot".into()],
            recommended_action: "autopilot".into(),
        }
    }

    #[tokio::test]
    async fn with_nobody_to_review_a_plan_is_not_approved() {
        let reviews = PlanReviews::default();
        let result = reviews.handle(SessionId::new("s"), Some(RequestId::new("r")), data()).await;
        assert!(!result.approved);
        assert!(reviews.pending().is_empty());
    }

    #[tokio::test]
    async fn a_decision_reaches_the_cli_and_only_offered_actions_are_accepted() {
        let reviews = PlanReviews::default();
        let _reviewer = reviews.attach_reviewer();
        let mut events = reviews.subscribe();
        let waiting = tokio::spawn({
            let reviews = reviews.clone();
            async move { reviews.handle(SessionId::new("s"), Some(RequestId::new("r1")), data()).await }
        });
        let PlanReviewEvent::Requested { review } = events.recv().await.unwrap() else { panic!("a review first") };
        assert_eq!(review.actions, vec!["interactive", "autopilot"]);
        let bad = PlanDecision { approved: true, selected_action: Some("autopilot_fleet".into()), feedback: None };
        assert!(matches!(reviews.decide("r1", bad), Err(EngineError::InvalidRequest(_))));
        let good = PlanDecision { approved: true, selected_action: Some("interactive".into()), feedback: None };
        reviews.decide("r1", good).unwrap();
        let result = waiting.await.unwrap();
        assert!(result.approved);
        assert_eq!(result.selected_action.as_deref(), Some("interactive"));
        assert_eq!(events.recv().await.unwrap(), PlanReviewEvent::Resolved { request_id: "r1".into() });
        assert!(matches!(
            reviews.decide("r1", PlanDecision { approved: false, selected_action: None, feedback: None }),
            Err(EngineError::PromptNotPending(_))
        ));
    }
}
