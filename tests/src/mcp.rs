//! The tests' MCP server (`src/bin/mcp_test_server.rs`, on the official `rmcp` SDK) and what the model is
//! offered of it. Integration tests find the built server at `env!("CARGO_BIN_EXE_mcp_test_server")`.

use crate::RecordedRequest;

/// What the server's `desktop_marker` tool answers (followed by its `note`).
pub const MARKER: &str = "mcp-marker-3f9c1e";

/// The names of the tools offered to the model in a chat request (`tools[].function.name`).
pub fn offered_tools(request: &RecordedRequest) -> Vec<String> {
    request
        .body
        .as_ref()
        .and_then(|b| b.get("tools"))
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer("/function/name").and_then(|n| n.as_str()).map(str::to_owned))
        .collect()
}

/// The name under which the CLI offers `server`'s `tool` to the model, learnt from the requests (the CLI
/// prefixes MCP tools with their server's name); `None` when no request offered it.
pub fn offered_name(requests: &[RecordedRequest], server: &str, tool: &str) -> Option<String> {
    requests
        .iter()
        .flat_map(offered_tools)
        .find(|name| name.starts_with(server) && name.ends_with(tool) && name.len() > server.len() + tool.len())
}
