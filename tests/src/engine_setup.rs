//! The engine on the real CLI, set up the way every engine test needs it: the pinned CLI confined
//! to a [`TestHome`], and sessions on the fake model as a bring-your-own-key OpenAI provider.
//!
//! ```no_run
//! # async fn demo() {
//! use copilot_desktop::engine::{Engine, EngineConfig, RestartPolicy};
//! use copilot_desktop_tests::cli::TestHome;
//! use copilot_desktop_tests::engine_setup::{bundled, byok};
//! use copilot_desktop_tests::fake_model::FakeModel;
//! let (home, model) = (TestHome::new(), FakeModel::start().await);
//! let engine = Engine::start(EngineConfig { target: bundled(&home), restart: RestartPolicy::default(), sessions: byok(&model) });
//! # }
//! ```

use std::ffi::OsString;
use std::path::PathBuf;

use copilot_desktop::engine::{BundledCli, CliAuth, CliTarget, ProviderSettings, SessionOptions};
use copilot_desktop::secret::Sensitive;

use crate::cli::{TestHome, cli_path};
use crate::fake_model::{API_KEY, FakeModel};

/// The pinned CLI in `home`, with the CLI's own sign-in (none: the tests bring a provider).
pub fn bundled(home: &TestHome) -> CliTarget {
    bundled_with(home, cli_path(), CliAuth::CliDefault, Vec::new())
}

/// `program` in `home`, signed in through `auth`, with `extra` variables on top of the home's.
pub fn bundled_with(home: &TestHome, program: PathBuf, auth: CliAuth, extra: Vec<(OsString, OsString)>) -> CliTarget {
    CliTarget::Bundled(BundledCli {
        program,
        copilot_home: Some(home.copilot_home()),
        working_directory: home.work_dir(),
        auth,
        env: home
            .env()
            .into_iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect(),
    })
}

/// Every session on `model`, as an OpenAI-compatible provider with the fake's key.
pub fn byok(model: &FakeModel) -> SessionOptions {
    SessionOptions {
        provider: Some(ProviderSettings {
            provider_type: "openai".into(),
            base_url: model.base_url(),
            api_key: Some(Sensitive::new(API_KEY.to_string())),
            wire_api: None,
        }),
        event_buffer_capacity: None,
    }
}
