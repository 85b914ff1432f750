//! A small MCP server for the tests, on the official Rust MCP SDK (`rmcp`), speaking MCP over stdio.
//!
//! Two tools: `desktop_marker` answers a fixed marker string (so a test can see that the model's call went
//! through the CLI to this process and back), and `env_present` says whether an environment variable is set
//! and how long its value is, never the value itself (so a test can check that a secret reached the server
//! without the test printing it). `cargo build -p copilot-desktop-tests --bin mcp_test_server`.

use copilot_desktop_tests::mcp::MARKER;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{ServiceExt, schemars, tool, tool_router};
use serde::Deserialize;

#[derive(Debug, Default)]
struct TestServer;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct MarkerArgs {
    /// Any text; it is echoed after the marker.
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EnvArgs {
    /// The name of the environment variable to look for.
    name: String,
}

#[tool_router(server_handler)]
impl TestServer {
    #[tool(name = "desktop_marker", description = "Answers a fixed marker string followed by the note")]
    fn desktop_marker(&self, Parameters(MarkerArgs { note }): Parameters<MarkerArgs>) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(format!("{MARKER} {note}"))])
    }

    #[tool(name = "env_present", description = "Says whether an environment variable is set, and its length")]
    fn env_present(&self, Parameters(EnvArgs { name }): Parameters<EnvArgs>) -> CallToolResult {
        let text = match std::env::var(&name) {
            Ok(value) => format!("{name} is set ({} characters)", value.chars().count()),
            Err(_) => format!("{name} is not set"),
        };
        CallToolResult::success(vec![ContentBlock::text(text)])
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let service = TestServer.serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    Ok(())
}
