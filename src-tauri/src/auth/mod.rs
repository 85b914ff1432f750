//! Signing in, UI-free: GitHub's device flow ([`device_flow`]). Nothing here imports `tauri`;
//! commands wrap it. Secrets travel only as [`crate::secret::Sensitive`] and are registered
//! with the log redactor when they appear.

pub mod device_flow;

pub use device_flow::{
    CancellationToken, DeviceCode, DeviceFlowClient, DeviceFlowConfig, DeviceFlowError, DeviceFlowState,
};
