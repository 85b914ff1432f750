//! Signing in, UI-free: GitHub's device flow ([`device_flow`]), where secrets rest
//! ([`keychain`]), non-secret settings ([`settings`]), and the account tying them to the CLI
//! ([`account`]). Nothing here imports `tauri`; commands wrap it. Secrets travel only as
//! [`crate::secret::Sensitive`] and are registered with the log redactor when they appear.

pub mod account;
pub mod device_flow;
pub mod keychain;
pub mod mcp_secrets;
pub mod settings;

pub use account::{AccountError, AccountOptions, AccountService, AccountView, SignInState};
pub use device_flow::{
    CancellationToken, DeviceCode, DeviceFlowClient, DeviceFlowConfig, DeviceFlowError, DeviceFlowState,
};
pub use keychain::{Keychain, KeychainError, SecretKey, SessionOnlyStore, TokenStore};
