//! Thin Tauri commands, one module per domain: parse, call the engine, map the error.
//! Nothing here holds logic of its own.

pub mod account;
#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
pub mod composer;
pub mod connection;
pub mod extensions;
pub mod history;
pub mod mcp;
pub mod menu;
pub mod modes;
pub mod prompts;
pub mod rules;
pub mod sessions;
pub mod system;
pub mod updates;

use serde::Serialize;

use crate::auth::AccountError;
use crate::engine::EngineError;

/// The one error shape that crosses the bridge: the UI branches on `code`, shows `message`.
#[derive(Debug, Serialize, specta::Type)]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl From<EngineError> for AppError {
    fn from(error: EngineError) -> Self {
        Self { code: error.code().to_owned(), message: error.to_string() }
    }
}

impl From<AccountError> for AppError {
    fn from(error: AccountError) -> Self {
        Self { code: error.code().to_owned(), message: error.to_string() }
    }
}

pub type CommandResult<T> = Result<T, AppError>;
