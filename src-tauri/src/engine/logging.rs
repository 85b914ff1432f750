//! Logging: `tracing` to a daily-rotated file in the platform's log folder (and stderr in
//! development). Every line passes through [`redact`] on its way to disk, so a token that slips
//! into a message (ours or the CLI's stderr) is masked before it is written anywhere.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{LazyLock, RwLock};

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::secret::Sensitive;

/// Shapes of well-known credentials: GitHub tokens, OpenAI/Anthropic-style keys, bearer headers.
static TOKEN_SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(gh[opusr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|sk-[A-Za-z0-9_-]{16,}|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,})",
    )
    .expect("valid regex")
});

/// Exact secrets the app currently holds (whatever their shape), registered when they are loaded.
static KNOWN_SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remember a secret so that any log line containing it is masked.
pub fn register_secret(secret: &Sensitive<String>) {
    let value = secret.expose();
    if value.len() < 6 {
        return; // too short to mask without mangling ordinary text
    }
    let mut known = KNOWN_SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.clone());
    }
}

/// Mask credentials in one line of text.
pub fn redact(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    for secret in KNOWN_SECRETS.read().unwrap_or_else(|e| e.into_inner()).iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), "<redacted>"));
        }
    }
    if TOKEN_SHAPES.is_match(&out) {
        out = Cow::Owned(TOKEN_SHAPES.replace_all(&out, "<redacted>").into_owned());
    }
    out
}

/// A writer that redacts each formatted log record before passing it on.
pub struct RedactingWriter<W: Write>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[derive(Clone)]
pub struct Redacting<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

/// Keeps the background log writer alive; drop it last to flush.
pub struct LogGuard {
    _file: tracing_appender::non_blocking::WorkerGuard,
}

/// Install the global subscriber: a rotating file in `log_dir` (7 days kept), plus stderr when
/// `also_stderr`. `RUST_LOG` overrides the default filter.
pub fn init(log_dir: &Path, also_stderr: bool) -> io::Result<LogGuard> {
    std::fs::create_dir_all(log_dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("copilot-desktop")
        .filename_suffix("log")
        .max_log_files(7)
        .build(log_dir)
        .map_err(io::Error::other)?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,copilot_desktop=debug,copilot_cli=info"));
    let file_layer = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(Redacting(file));
    let stderr_layer = also_stderr.then(|| tracing_subscriber::fmt::layer().with_writer(Redacting(io::stderr)));
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .map_err(io::Error::other)?;
    Ok(LogGuard { _file: guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_token_shapes() {
        let line = "auth with gho_abcdefghijklmnopqrstuvwxyz0123 and Bearer abc.def-ghi_jkl ok";
        let masked = redact(line);
        assert!(!masked.contains("gho_abcdef"), "{masked}");
        assert!(!masked.contains("abc.def-ghi_jkl"), "{masked}");
        assert!(masked.ends_with(" ok"));
    }

    #[test]
    fn masks_registered_secrets_of_any_shape() {
        register_secret(&Sensitive::new("plain-looking-secret-42".to_string()));
        assert_eq!(redact("x=plain-looking-secret-42;"), "x=<redacted>;");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn writer_redacts_what_it_writes() {
        let mut out = Vec::new();
        RedactingWriter(&mut out).write_all(b"token ghp_0123456789abcdefghijklmn\n").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "token <redacted>\n");
    }
}
