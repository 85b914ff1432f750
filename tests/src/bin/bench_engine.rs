//! Benchmark: the engine next to the two official SDKs, each driving the same CLI binary (the pinned one in
//! src-tauri/binaries/) against the same fake model, in the same run: connect, create a session, first delta
//! (send → the first streamed delta in hand), turn (send → idle), and chunk→delta: the fake model's first chunk
//! → that delta in the client's hand, by the wall clock (what a UI waits for before it can draw anything).
//!
//! * raw SDK: GitHub's Rust SDK (`github-copilot-sdk`, the crate the engine wraps), used directly;
//! * Node SDK: GitHub's Node SDK (`@github/copilot-sdk`, pinned in tests/node-sdk/, installed by
//!   `./scripts/setup.sh --test`), one `node tests/node-sdk/bench.mjs` per round, timed inside Node;
//! * engine: `copilot_desktop::engine`, what the app runs.
//!
//! The CLI runs the same way under all three, so only the client layer differs: the way the engine runs it
//! (the CLI's own sign-in on, client telemetry on, the runtime's file log on, which the Rust SDK always sets),
//! and every session with a permission and a user-input handler, as the engine's have (the CLI then offers
//! its ask-user tool).
//!
//! `cargo run -p copilot-desktop-tests --bin bench_engine [-- ROUNDS]` (default 7 rounds, after one warm-up
//! round that is not counted; the columns take turns going first). Prints the median and min of each figure in
//! milliseconds, and the ratios engine/Node SDK and engine/raw SDK of the medians (below 1.00: the engine is
//! quicker). `--release` builds the benchmark and the engine optimized. `RUST_LOG=copilot_desktop=debug`
//! prints the engine's own timestamps (stderr).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use copilot_desktop::engine::{
    BundledCli, ChatEventKind, CliAuth, CliTarget, Engine, EngineConfig, NewSession, ProviderSettings, RestartPolicy,
    SessionOptions,
};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::cli::{SCRUBBED_ENV, TestHome, cli_path, workspace_root};
use copilot_desktop_tests::fake_model::{API_KEY, DEFAULT_MODEL, FakeModel, Match, Reply};
use github_copilot_sdk::handler::{UserInputHandler, UserInputResponse};
use github_copilot_sdk::types::{RequestId, SessionId};
use github_copilot_sdk::{Client, SessionConfig};
use serde_json::{Value, json};

const PROMPT: &str = "bench please";

/// What the engine sets for its CLI and the Rust SDK sets for its own, given to the other columns' CLIs too.
const CLI_ENV: [(&str, &str); 1] = [("COPILOT_RUNTIME_PROCESS_FILE_LOGGING", "1")];

/// A user-input handler that never answers: the session is configured as the engine's are (none is asked).
struct NoAnswer;

#[async_trait::async_trait]
impl UserInputHandler for NoAnswer {
    async fn handle(
        &self,
        _session: SessionId,
        _request: Option<RequestId>,
        _question: String,
        _choices: Option<Vec<String>>,
        _freeform: Option<bool>,
    ) -> Option<UserInputResponse> {
        None
    }
}

#[derive(Clone, Copy)]
struct Figures {
    connect: Duration,
    create: Duration,
    first_delta: Duration,
    turn: Duration,
    /// The fake model sent the first chunk → the client had the delta in hand (wall clocks): the CLI and the
    /// client layer, what a UI waits for before it can draw anything.
    chunk_to_delta: Duration,
}

/// Picks one figure out of a round.
type Pick = fn(&Figures) -> Duration;

const FIGURES: [(&str, Pick); 5] = [
    ("connect", |f| f.connect),
    ("create", |f| f.create),
    ("first delta", |f| f.first_delta),
    ("turn", |f| f.turn),
    ("chunk→delta", |f| f.chunk_to_delta),
];

/// How long after the fake model's first chunk of the latest stream `received` (wall clock) was.
fn since_first_chunk(model: &FakeModel, streams_before: usize, received: SystemTime) -> Duration {
    let chunk =
        model.stream_timings()[streams_before..].iter().find_map(|t| t.first_content).expect("the reply streamed");
    received.duration_since(chunk).unwrap_or_default()
}

async fn raw_sdk(home: &TestHome, model: &FakeModel) -> Figures {
    let t = Instant::now();
    // As the engine runs its CLI: the CLI's own sign-in and client telemetry left on.
    let options = home.client_options().with_use_logged_in_user(true).with_disable_client_telemetry(false);
    let client = Client::start(options).await.expect("raw start");
    let connect = t.elapsed();
    let t = Instant::now();
    let session = client
        .create_session(
            SessionConfig::default()
                .with_model(DEFAULT_MODEL)
                .with_provider(model.provider())
                .with_streaming(true)
                .with_working_directory(home.work_dir())
                .with_permission_handler(github_copilot_sdk::permission::approve_all())
                .with_user_input_handler(std::sync::Arc::new(NoAnswer)),
        )
        .await
        .expect("raw create");
    let create = t.elapsed();
    let mut events = session.subscribe();
    let streams_before = model.stream_timings().len();
    let t = Instant::now();
    session.send(PROMPT).await.expect("raw send");
    let (first_delta, received) = loop {
        let e = events.recv().await.expect("raw event");
        if e.event_type == "assistant.message_delta" {
            break (t.elapsed(), SystemTime::now());
        }
    };
    let turn = loop {
        if events.recv().await.expect("raw event").event_type == "session.idle" {
            break t.elapsed();
        }
    };
    client.stop().await.ok();
    Figures { connect, create, first_delta, turn, chunk_to_delta: since_first_chunk(model, streams_before, received) }
}

async fn engine(home: &TestHome, model: &FakeModel) -> Figures {
    let t = Instant::now();
    let engine = Engine::start(EngineConfig {
        target: CliTarget::Bundled(BundledCli {
            program: cli_path(),
            copilot_home: Some(home.copilot_home()),
            working_directory: home.work_dir(),
            auth: CliAuth::CliDefault,
            env: home
                .env()
                .into_iter()
                .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
                .chain(CLI_ENV.map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect(),
        }),
        restart: RestartPolicy::default(),
        sessions: SessionOptions {
            provider: Some(ProviderSettings {
                provider_type: "openai".into(),
                base_url: model.base_url(),
                api_key: Some(Sensitive::new(API_KEY.into())),
                wire_api: None,
            }),
            event_buffer_capacity: None,
        },
    });
    engine.supervisor.connected(Duration::from_secs(60)).await.expect("engine connect");
    let connect = t.elapsed();
    let t = Instant::now();
    let summary = engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: home.work_dir() })
        .await
        .expect("engine create");
    let create = t.elapsed();
    let mut stream = engine.sessions.subscribe(&summary.id).await.expect("subscribe");
    let streams_before = model.stream_timings().len();
    let t = Instant::now();
    engine.sessions.send(&summary.id, PROMPT).await.expect("engine send");
    let mut first_delta = None;
    let turn = 'turn: loop {
        let batch = stream.next_batch().await.expect("the stream ended before the turn did");
        for event in batch {
            if first_delta.is_none() && matches!(event.kind, ChatEventKind::MessageDelta { .. }) {
                first_delta = Some((t.elapsed(), SystemTime::now()));
            }
            if matches!(event.kind, ChatEventKind::Idle) {
                break 'turn t.elapsed();
            }
        }
    };
    engine.shutdown().await;
    let (first_delta, received) = first_delta.expect("a delta");
    Figures { connect, create, first_delta, turn, chunk_to_delta: since_first_chunk(model, streams_before, received) }
}

fn node_dir() -> PathBuf {
    workspace_root().join("tests").join("node-sdk")
}

/// One round of the Node SDK in a Node process of its own (timed inside it, after its modules loaded).
async fn node_sdk(home: &TestHome, model: &FakeModel) -> Figures {
    let dir = node_dir();
    let args = json!({
        "cli": cli_path(),
        "baseUrl": model.base_url(),
        "apiKey": API_KEY,
        "model": DEFAULT_MODEL,
        "workDir": home.work_dir(),
        "copilotHome": home.copilot_home(),
        "prompt": PROMPT,
    });
    let streams_before = model.stream_timings().len();
    let mut command = tokio::process::Command::new("node");
    command.arg(dir.join("bench.mjs")).arg(args.to_string()).current_dir(&dir).envs(home.env()).envs(CLI_ENV);
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
    // The SDK reads COPILOT_CLI_PATH only when no path is given; remove it anyway, so nothing but the argument
    // can choose the CLI.
    command.env_remove("COPILOT_CLI_PATH").env_remove("COPILOT_SDK_DEFAULT_CONNECTION");
    let output = command
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run node ({e}): Node.js 20.19 or newer is needed"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    let Some(result) = line.and_then(|l| serde_json::from_str::<Value>(l).ok()).filter(|_| output.status.success())
    else {
        panic!(
            "the Node SDK round failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ms = |key: &str| {
        let value = result[key].as_f64().unwrap_or_else(|| panic!("no {key} in {result}"));
        Duration::from_secs_f64(value / 1000.0)
    };
    let version = result["cliVersion"].as_str().unwrap_or("?");
    let pinned = copilot_desktop_tests::app::pinned_cli_version();
    assert_eq!(version, pinned, "the Node SDK ran CLI {version}, not the pinned {pinned}");
    let received = UNIX_EPOCH + ms("firstDeltaAt");
    Figures {
        connect: ms("connect"),
        create: ms("create"),
        first_delta: ms("firstDelta"),
        turn: ms("turn"),
        chunk_to_delta: since_first_chunk(model, streams_before, received),
    }
}

/// The Node SDK must be installed from tests/node-sdk/package-lock.json, without its own runtime packages.
fn require_node_sdk() {
    let sdk = node_dir().join("node_modules").join("@github").join("copilot-sdk").join("package.json");
    if !sdk.is_file() {
        panic!(
            "the Node SDK is not installed ({} is missing): run ./scripts/setup.sh --test \
             (or `cd tests/node-sdk && npm ci`)",
            sdk.display()
        );
    }
    let own_runtime = node_dir().join("node_modules").join("@github").join(format!(
        "copilot-sdk-{}-{}",
        std::env::consts::OS,
        if cfg!(target_arch = "x86_64") { "x64" } else { "arm64" }
    ));
    assert!(
        !own_runtime.exists(),
        "{} is installed: the Node SDK could run a CLI of its own. Reinstall with tests/node-sdk/.npmrc \
         (omit=optional): rm -rf tests/node-sdk/node_modules && ./scripts/setup.sh --test",
        own_runtime.display()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(figures: &[Figures], pick: Pick) -> Duration {
    let mut values: Vec<Duration> = figures.iter().map(pick).collect();
    values.sort();
    values[values.len() / 2]
}

fn min(figures: &[Figures], pick: Pick) -> Duration {
    figures.iter().map(pick).min().unwrap_or_default()
}

fn report(columns: &[(&str, Vec<Figures>)]) {
    print!("{:<12}", "");
    for (name, _) in columns {
        print!("{name:>26}");
    }
    println!("{:>14}{:>14}", "engine/Node", "engine/raw");
    let engine = &columns.iter().find(|(name, _)| *name == "engine").expect("an engine column").1;
    let column = |name: &str| &columns.iter().find(|(n, _)| *n == name).expect("a column").1;
    for (label, pick) in FIGURES {
        print!("{label:<12}");
        for (_, figures) in columns {
            print!("{:>14.1} (min {:>6.1})", ms(median(figures, pick)), ms(min(figures, pick)));
        }
        let ratio = |other: &[Figures]| ms(median(engine, pick)) / ms(median(other, pick));
        println!("{:>14.2}{:>14.2}", ratio(column("Node SDK")), ratio(column("raw SDK")));
    }
}

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    }
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(7).max(1);
    require_node_sdk();
    let model = FakeModel::start().await;
    model.when(Match::user_contains("bench"), Reply::chunks(["first ", "second ", "third"]));
    let (mut raw, mut node, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    // Round 0 warms the page cache and the fake for all three and is not counted.
    for round in 0..=rounds {
        let mut figures = [None; 3];
        // Each column goes first, second and third in turn, so all see the same machine state on average; each
        // round gets fresh homes.
        for k in 0..3 {
            let column = (round + k) % 3;
            let home = TestHome::new();
            figures[column] = Some(match column {
                0 => raw_sdk(&home, &model).await,
                1 => node_sdk(&home, &model).await,
                _ => engine(&home, &model).await,
            });
        }
        if round > 0 {
            let [r, n, e] = figures.map(|f| f.expect("measured"));
            raw.push(r);
            node.push(n);
            ours.push(e);
        }
    }
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "{rounds} rounds (+1 warm-up), {profile} build, CLI {} ({}), Node {}, medians in ms",
        cli_path().display(),
        copilot_desktop_tests::app::pinned_cli_version(),
        node_version()
    );
    report(&[("raw SDK", raw), ("Node SDK", node), ("engine", ours)]);
}

fn node_version() -> String {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}
