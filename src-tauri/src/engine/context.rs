//! How hard the model thinks and how full its context is: the reasoning efforts models report
//! and a session's chosen one (`session.model.setReasoningEffort`), the context window's
//! breakdown (`session.metadata.contextInfo`) and compaction on request
//! (`session.history.compact`). Background compaction itself is the CLI's (infinite sessions).

use serde::Serialize;

use super::error::{EngineError, EngineResult};
use super::sessions::SessionService;

/// A model's reasoning efforts; models that report none are left out.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ModelEfforts {
    pub model_id: String,
    pub supported: Vec<String>,
    pub default_effort: Option<String>,
}

/// What fills a session's context window, in tokens.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ContextBreakdown {
    pub model: String,
    pub total_tokens: u32,
    /// The denominator for "how full".
    pub limit: u32,
    pub system_tokens: u32,
    pub conversation_tokens: u32,
    pub tool_definitions_tokens: u32,
    /// Background compaction starts here.
    pub compaction_threshold: u32,
}

/// What "Compact now" did.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "outcome", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CompactOutcome {
    /// The conversation is too short to compact: a normal answer, not a failure.
    NothingToCompact,
    Compacted {
        messages_removed: u32,
        tokens_removed: u32,
        /// The summary that replaced them (markdown from the model).
        summary: Option<String>,
    },
}

/// The CLI's words when there is nothing to compact (seen with CLI 1.0.102).
const NOTHING_TO_COMPACT: &str = "nothing to compact";

fn tokens(n: i64) -> u32 {
    n.clamp(0, u32::MAX as i64) as u32
}

impl SessionService {
    /// Models that report reasoning efforts, with their default. Empty with a provider of one's
    /// own (the CLI does not list its models).
    pub async fn model_efforts(&self) -> EngineResult<Vec<ModelEfforts>> {
        let models = self.client()?.list_models().await?;
        Ok(models
            .into_iter()
            .filter_map(|m| {
                let supported = m.supported_reasoning_efforts.filter(|e| !e.is_empty())?;
                Some(ModelEfforts { model_id: m.id, supported, default_effort: m.default_reasoning_effort })
            })
            .collect())
    }

    /// The reasoning effort a session runs with, when one is set.
    pub async fn reasoning_effort(&self, session_id: &str) -> EngineResult<Option<String>> {
        let session = self.session_handle(session_id).await?;
        Ok(session.rpc().model().get_current().await?.reasoning_effort)
    }

    /// Set a session's reasoning effort; it must be one its model reports.
    pub async fn set_reasoning_effort(&self, session_id: &str, effort: &str) -> EngineResult<()> {
        let session = self.session_handle(session_id).await?;
        let model = session.rpc().model().get_current().await?.model_id;
        let efforts = self.model_efforts().await?;
        let supported = model.as_deref().and_then(|id| efforts.iter().find(|m| m.model_id == id));
        match supported {
            Some(m) if m.supported.iter().any(|e| e == effort) => {}
            Some(m) => {
                return Err(EngineError::InvalidRequest(format!(
                    "{} supports the reasoning efforts {}, not \"{effort}\".",
                    m.model_id,
                    m.supported.join(", ")
                )));
            }
            None => {
                return Err(EngineError::InvalidRequest(
                    "This session's model does not let you choose a reasoning effort.".into(),
                ));
            }
        }
        let request = github_copilot_sdk::rpc::ModelSetReasoningEffortRequest { reasoning_effort: effort.to_owned() };
        session.rpc().model().set_reasoning_effort(request).await?;
        tracing::info!(session = session_id, effort, "reasoning effort set");
        Ok(())
    }

    /// What fills the session's context window now; `None` before its first turn.
    pub async fn context_breakdown(&self, session_id: &str) -> EngineResult<Option<ContextBreakdown>> {
        let session = self.session_handle(session_id).await?;
        let request = github_copilot_sdk::rpc::MetadataContextInfoRequest {
            output_token_limit: 0,
            prompt_token_limit: 0,
            ..Default::default()
        };
        let info = session.rpc().metadata().context_info(request).await?.context_info;
        Ok(info.map(|c| ContextBreakdown {
            model: c.display_model_name.unwrap_or(c.model_name),
            total_tokens: tokens(c.total_tokens),
            limit: tokens(c.limit),
            system_tokens: tokens(c.system_tokens),
            conversation_tokens: tokens(c.conversation_tokens),
            tool_definitions_tokens: tokens(c.tool_definitions_tokens),
            compaction_threshold: tokens(c.compaction_threshold),
        }))
    }

    /// Compact the session's history now, focused by `instructions` if given.
    pub async fn compact(&self, session_id: &str, instructions: Option<String>) -> EngineResult<CompactOutcome> {
        let session = self.session_handle(session_id).await?;
        let request = github_copilot_sdk::rpc::HistoryCompactRequest {
            custom_instructions: instructions.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty()),
            ..Default::default()
        };
        match session.rpc().history().compact_with_params(request).await {
            Ok(result) if result.success => Ok(CompactOutcome::Compacted {
                messages_removed: tokens(result.messages_removed),
                tokens_removed: tokens(result.tokens_removed),
                summary: result.summary_content,
            }),
            Ok(_) => Err(EngineError::Cli("The conversation could not be compacted.".into())),
            Err(e) if e.to_string().to_ascii_lowercase().contains(NOTHING_TO_COMPACT) => {
                Ok(CompactOutcome::NothingToCompact)
            }
            Err(e) => Err(e.into()),
        }
    }
}
