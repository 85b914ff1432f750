//! A Copilot CLI running elsewhere as `copilot --headless --port N`: connecting to it with its
//! connection token, and telling the user exactly why a connection failed (nothing listening, no
//! route, no answer, a missing or refused token, a peer that is not a Copilot CLI, a protocol this
//! build does not speak). Owns the handshake and the diagnosis; the supervisor decides what to do
//! with the outcome.
//!
//! What the pinned CLI (1.0.102) answers to the `connect` handshake, seen by experiment:
//! * started with `COPILOT_CONNECTION_TOKEN` and asked without a token, or with a wrong one:
//!   JSON-RPC error `-32002 AUTHENTICATION_FAILED` (the same for both: the app tells them apart
//!   by whether it sent a token); any other method before a good `connect` answers
//!   `-32001 AUTHENTICATION_REQUIRED`;
//! * started without a token and sent one: `-32003 AUTHENTICATION_NOT_CONFIGURED`;
//! * otherwise `{ok: true, protocolVersion: 3, version: "1.0.102"}`.
//!
//! The token travels only in the handshake's `token` parameter: never in argv, a log line or an
//! error message.

use std::io::ErrorKind as IoKind;
use std::path::PathBuf;
use std::time::Duration;

use github_copilot_sdk::{CliProgram, Client, ClientOptions, ErrorKind, ProtocolErrorKind, Transport};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::{EngineError, EngineResult};
use super::logging;
use crate::secret::Sensitive;

/// The CLI's answer to `connect` when the token is missing or wrong.
pub const AUTHENTICATION_FAILED: i32 = -32002;
/// The CLI's answer to any other request before a successful `connect` on a protected server.
pub const AUTHENTICATION_REQUIRED: i32 = -32001;
/// The CLI's answer to a token sent to a server that was started without one.
pub const AUTHENTICATION_NOT_CONFIGURED: i32 = -32003;

/// A headless CLI server and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct ExternalServer {
    pub host: String,
    pub port: u16,
    /// The server's `COPILOT_CONNECTION_TOKEN`, sent in the `connect` handshake only.
    pub token: Option<Sensitive<String>>,
}

impl ExternalServer {
    pub fn new(host: impl Into<String>, port: u16, token: Option<Sensitive<String>>) -> Self {
        Self { host: host.into(), port, token }
    }

    /// `host:port` (IPv6 literals in brackets), as the user typed it and the UI shows it.
    pub fn address(&self) -> String {
        address_of(&self.host, self.port)
    }

    /// True when the host is this machine (`localhost`, `127.0.0.0/8`, `::1`): the only place the
    /// pinned CLI listens, and what an SSH tunnel looks like from here.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

/// `host:port`, with an IPv6 literal in brackets.
pub fn address_of(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Split `host:port` (or `[v6]:port`) as typed in `COPILOT_DESKTOP_SERVER`.
pub fn parse_address(address: &str) -> Option<(String, u16)> {
    let (host, port) = address.trim().rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// What a server answered to "Test connection", or while connecting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The CLI's version, e.g. `1.0.102`.
    pub version: String,
    /// The protocol version it speaks (this build speaks the SDK's range).
    pub protocol_version: u32,
}

/// Why the app could not use a server. [`ServerProblem::code`] crosses the bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerProblem {
    /// Nothing listens at the address (connection refused).
    Refused,
    /// No route to the host, or its name does not resolve.
    Unreachable(String),
    /// No answer within the time limit (dropped packets, a machine that is down, a silent peer).
    TimedOut(Duration),
    /// The server accepted the connection and closed it without a word (an SSH tunnel whose far
    /// end has no server does this).
    Closed,
    /// The server was started with a connection token and the app has none for it.
    TokenRequired,
    /// The app's token is not the server's.
    TokenRejected,
    /// The app has a token but the server was started without one (it accepts anyone).
    TokenNotConfigured,
    /// Something answered, but not the Copilot CLI's JSON-RPC (what it said, abridged).
    NotCopilot(String),
    /// A Copilot CLI whose protocol version this build does not speak.
    ProtocolMismatch { server: u32, min: u32, max: u32 },
    /// The connection was lost after it was made.
    Lost(String),
}

impl ServerProblem {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused => "server_refused",
            Self::Unreachable(_) => "server_unreachable",
            Self::TimedOut(_) => "server_timeout",
            Self::Closed => "server_closed",
            Self::TokenRequired => "server_token_required",
            Self::TokenRejected => "server_token_rejected",
            Self::TokenNotConfigured => "server_token_not_configured",
            Self::NotCopilot(_) => "server_not_copilot",
            Self::ProtocolMismatch { .. } => "server_protocol_mismatch",
            Self::Lost(_) => "server_lost",
        }
    }

    /// Trying again will not help until the user changes something (the token, the address, the
    /// server's CLI). The others may heal on their own: the server restarts, the network returns.
    pub fn needs_user(&self) -> bool {
        matches!(
            self,
            Self::TokenRequired
                | Self::TokenRejected
                | Self::TokenNotConfigured
                | Self::NotCopilot(_)
                | Self::ProtocolMismatch { .. }
        )
    }

    /// What to tell the user about `address`, ending with what they can do.
    pub fn message(&self, address: &str) -> String {
        match self {
            Self::Refused => format!(
                "Nothing is listening at {address} (connection refused). Check that the server runs (`copilot --headless --port N`) and that the host and port are right."
            ),
            Self::Unreachable(detail) => {
                format!("{address} cannot be reached ({detail}). Check the host name and the network.")
            }
            Self::TimedOut(limit) => format!(
                "{address} did not answer within {} s. The machine may be down, or a firewall may be dropping the connection.",
                limit.as_secs().max(1)
            ),
            Self::Closed => format!(
                "{address} accepted the connection and closed it without answering. Through an SSH tunnel this means nothing listens at the far end: check that the server runs there."
            ),
            Self::TokenRequired => format!(
                "The Copilot CLI server at {address} requires a connection token (it was started with COPILOT_CONNECTION_TOKEN). Enter that token in Settings → Copilot CLI."
            ),
            Self::TokenRejected => format!(
                "The Copilot CLI server at {address} refused the connection token. Enter the token the server was started with (its COPILOT_CONNECTION_TOKEN) in Settings → Copilot CLI."
            ),
            Self::TokenNotConfigured => format!(
                "The Copilot CLI server at {address} was started without a connection token, so it accepts any client, and it refuses the token the app has for it. Start the server with COPILOT_CONNECTION_TOKEN set, or remove the token in Settings → Copilot CLI."
            ),
            Self::NotCopilot(said) => format!(
                "{address} answered, but it is not a Copilot CLI server ({said}). Check the port: it is the one given to `copilot --headless --port`."
            ),
            Self::ProtocolMismatch { server, min, max } => {
                let ours = if min == max { format!("version {max}") } else { format!("versions {min} to {max}") };
                format!(
                    "The Copilot CLI server at {address} speaks protocol version {server}, and this app speaks {ours}. Run a Copilot CLI on the server that matches this app (the one it bundles), or update the app."
                )
            }
            Self::Lost(detail) => format!("The connection to the Copilot CLI server at {address} was lost ({detail})."),
        }
    }
}

/// Connect to `server` and complete the handshake (sending its token) within `limit`. On failure
/// the problem says why, after a second look at the peer when the SDK's error does not tell.
pub async fn connect(server: &ExternalServer, limit: Duration) -> Result<Client, ServerProblem> {
    if let Some(token) = &server.token {
        logging::register_secret(token);
    }
    let options = ClientOptions::new()
        .with_transport(Transport::External {
            host: server.host.clone(),
            port: server.port,
            connection_token: server.token.as_ref().map(|t| t.expose().clone()),
        })
        // Never started for an external server; set so the SDK does not go looking for a CLI.
        .with_program(CliProgram::Path(PathBuf::from("copilot")))
        .with_cwd(std::env::current_dir().unwrap_or_default());
    match tokio::time::timeout(limit, Client::start(options)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(error)) => Err(match classify(&error, server.token.is_some()) {
            Some(problem) => problem,
            None => diagnose(server, limit, &error.to_string()).await,
        }),
        Err(_) => Err(diagnose_silence(server, limit).await),
    }
}

/// Test a server without keeping the connection: its CLI version and protocol, or why not.
pub async fn probe(server: &ExternalServer, limit: Duration) -> EngineResult<ServerInfo> {
    let address = server.address();
    let client = connect(server, limit).await.map_err(|problem| EngineError::Server { address, problem })?;
    let protocol_version = client.protocol_version().unwrap_or_default();
    let version = match tokio::time::timeout(limit, client.get_status()).await {
        Ok(Ok(status)) => status.version,
        _ => "unknown".into(),
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), client.stop()).await;
    client.force_stop();
    Ok(ServerInfo { version, protocol_version })
}

/// The problem an SDK error names outright; `None` when only a look at the peer can tell.
fn classify(error: &github_copilot_sdk::Error, sent_token: bool) -> Option<ServerProblem> {
    match error.kind() {
        ErrorKind::Rpc { code } if *code == AUTHENTICATION_FAILED || *code == AUTHENTICATION_REQUIRED => {
            Some(if sent_token { ServerProblem::TokenRejected } else { ServerProblem::TokenRequired })
        }
        ErrorKind::Rpc { code } if *code == AUTHENTICATION_NOT_CONFIGURED => Some(ServerProblem::TokenNotConfigured),
        ErrorKind::Protocol(ProtocolErrorKind::VersionMismatch { server, min, max }) => {
            Some(ServerProblem::ProtocolMismatch { server: *server, min: *min, max: *max })
        }
        ErrorKind::Io => connect_failure(error),
        _ => None,
    }
}

/// An I/O error from opening the TCP connection (as opposed to one on a connection that was
/// made, which needs [`diagnose`]).
fn connect_failure(error: &github_copilot_sdk::Error) -> Option<ServerProblem> {
    let io = std::error::Error::source(error)?.downcast_ref::<std::io::Error>()?;
    match io.kind() {
        IoKind::ConnectionRefused => Some(ServerProblem::Refused),
        IoKind::HostUnreachable | IoKind::NetworkUnreachable | IoKind::AddrNotAvailable => {
            Some(ServerProblem::Unreachable("no route to the host".into()))
        }
        IoKind::TimedOut => Some(ServerProblem::TimedOut(Duration::ZERO)),
        // Name resolution fails with an uncategorized error naming the lookup.
        _ if io.to_string().contains("lookup address") || io.to_string().contains("Name or service not known") => {
            Some(ServerProblem::Unreachable("the host name was not found".into()))
        }
        _ => None,
    }
}

/// Look at what the peer says to a harmless `ping` on a connection of our own (no token is
/// sent): a Copilot CLI answers with a JSON-RPC frame, anything else shows what it is.
async fn diagnose(server: &ExternalServer, limit: Duration, sdk_said: &str) -> ServerProblem {
    match first_words(server, limit.min(Duration::from_secs(5))).await {
        Peer::Unreachable(problem) => problem,
        Peer::Silent => ServerProblem::TimedOut(limit),
        Peer::Closed => ServerProblem::Closed,
        Peer::Said(text) if text.starts_with("Content-Length:") => {
            // A JSON-RPC peer after all; the handshake itself failed.
            ServerProblem::Lost(logging::redact(sdk_said).into_owned())
        }
        Peer::Said(text) => ServerProblem::NotCopilot(describe_peer(&text)),
    }
}

/// The handshake ran out of time: a peer that answers something else is not a Copilot CLI.
async fn diagnose_silence(server: &ExternalServer, limit: Duration) -> ServerProblem {
    match first_words(server, Duration::from_secs(2)).await {
        Peer::Said(text) if !text.starts_with("Content-Length:") => ServerProblem::NotCopilot(describe_peer(&text)),
        Peer::Unreachable(problem) => problem,
        _ => ServerProblem::TimedOut(limit),
    }
}

enum Peer {
    Unreachable(ServerProblem),
    Silent,
    Closed,
    Said(String),
}

async fn first_words(server: &ExternalServer, limit: Duration) -> Peer {
    let connect = tokio::net::TcpStream::connect((server.host.as_str(), server.port));
    let mut stream = match tokio::time::timeout(limit, connect).await {
        Err(_) => return Peer::Unreachable(ServerProblem::TimedOut(limit)),
        Ok(Err(e)) => {
            let error = github_copilot_sdk::Error::from(e);
            return Peer::Unreachable(
                connect_failure(&error).unwrap_or_else(|| ServerProblem::Unreachable(error.to_string())),
            );
        }
        Ok(Ok(stream)) => stream,
    };
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}"#;
    let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
    if stream.write_all(frame.as_bytes()).await.is_err() {
        return Peer::Closed;
    }
    let mut buf = vec![0u8; 512];
    let mut read = 0;
    let deadline = tokio::time::Instant::now() + limit;
    while read < 64 {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf[read..])).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => read += n,
            Err(_) => break,
        }
    }
    if read == 0 {
        return if tokio::time::Instant::now() >= deadline { Peer::Silent } else { Peer::Closed };
    }
    Peer::Said(String::from_utf8_lossy(&buf[..read]).into_owned())
}

/// A few words about what answered: the first line, printable characters only.
fn describe_peer(text: &str) -> String {
    let first: String = text.lines().next().unwrap_or_default().chars().filter(|c| !c.is_control()).take(60).collect();
    let first = logging::redact(first.trim()).into_owned();
    if first.starts_with("HTTP/") {
        format!("it is a web server; it answered \"{first}\"")
    } else if first.starts_with("SSH-") {
        format!("it is an SSH server; it answered \"{first}\"")
    } else if first.is_empty() {
        "it answered with data that is not JSON-RPC".into()
    } else {
        format!("it answered \"{first}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_split_and_joined() {
        assert_eq!(parse_address("devbox:4321"), Some(("devbox".into(), 4321)));
        assert_eq!(parse_address("[::1]:4321"), Some(("::1".into(), 4321)));
        assert_eq!(parse_address("devbox"), None);
        assert_eq!(parse_address("devbox:0"), None);
        assert_eq!(parse_address(":4321"), None);
        assert_eq!(address_of("::1", 4321), "[::1]:4321");
        assert_eq!(address_of("127.0.0.1", 4321), "127.0.0.1:4321");
    }

    #[test]
    fn loopback_hosts_are_known() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "box.localhost"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["devbox", "10.0.0.5", "192.168.1.2", "example.com", "::2"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn token_problems_need_the_user_and_network_ones_heal() {
        for problem in [ServerProblem::TokenRequired, ServerProblem::TokenRejected, ServerProblem::TokenNotConfigured] {
            assert!(problem.needs_user(), "{problem:?}");
            assert!(problem.message("h:1").contains("Settings"), "{problem:?}");
        }
        for problem in [ServerProblem::Refused, ServerProblem::Closed, ServerProblem::TimedOut(Duration::from_secs(10))]
        {
            assert!(!problem.needs_user(), "{problem:?}");
        }
    }

    #[test]
    fn rpc_answers_are_sorted_by_whether_a_token_was_sent() {
        let failed = github_copilot_sdk::Error::from(ErrorKind::Rpc { code: AUTHENTICATION_FAILED });
        assert_eq!(classify(&failed, false), Some(ServerProblem::TokenRequired));
        assert_eq!(classify(&failed, true), Some(ServerProblem::TokenRejected));
        let unset = github_copilot_sdk::Error::from(ErrorKind::Rpc { code: AUTHENTICATION_NOT_CONFIGURED });
        assert_eq!(classify(&unset, true), Some(ServerProblem::TokenNotConfigured));
        let refused = github_copilot_sdk::Error::from(std::io::Error::from(IoKind::ConnectionRefused));
        assert_eq!(classify(&refused, false), Some(ServerProblem::Refused));
        let broken = github_copilot_sdk::Error::from(std::io::Error::from(IoKind::BrokenPipe));
        assert_eq!(classify(&broken, false), None, "a closed connection needs a look at the peer");
    }

    #[test]
    fn peers_are_described_briefly() {
        assert_eq!(
            describe_peer("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"),
            "it is a web server; it answered \"HTTP/1.1 400 Bad Request\""
        );
        assert!(describe_peer("SSH-2.0-OpenSSH_9.6\r\n").starts_with("it is an SSH server"));
    }
}
