//! Scripted agent behaviour for the agent-controls tests (modes, plans, compaction), on top of
//! the fake model's rules: what a model in plan mode does to write a plan and ask to leave plan
//! mode, as the pinned CLI (1.0.102) offers it.
//!
//! Seen with CLI 1.0.102 in plan mode: the tools include `exit_plan_mode` with arguments
//! `{summary (markdown, required), showFleet?: bool, recommendedAction?: "exit_only" |
//! "interactive" | "autopilot" | "autopilot_fleet"}`; the plan itself is plan.md in the session
//! folder (its path comes from `session.plan.read`), written with the `create` tool.

use serde_json::json;

use crate::fake_model::Reply;

/// The plan-mode tool that asks the user to approve the plan and leave plan mode.
pub const EXIT_PLAN_MODE_TOOL: &str = "exit_plan_mode";

/// A call of `exit_plan_mode` with this summary and recommended action.
pub fn exit_plan_mode(summary: &str, recommended_action: &str) -> Reply {
    Reply::tool_call(EXIT_PLAN_MODE_TOOL, json!({ "summary": summary, "recommendedAction": recommended_action }))
}

/// A `create` call writing `content` to `path` (absolute), e.g. the session's plan.md.
pub fn write_file(path: &str, content: &str) -> Reply {
    Reply::tool_call("create", json!({ "path": path, "file_text": content }))
}
