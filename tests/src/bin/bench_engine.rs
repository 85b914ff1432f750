//! Benchmark: connect, create-session and first-delta times of the engine next to the raw SDK
//! talking to the same CLI binary, in the same run, against the fake model.
//!
//! `cargo run -p copilot-desktop-tests --bin bench_engine [-- ROUNDS]` (default 5 rounds).
//! Prints the median and min of each figure in milliseconds.

use std::time::{Duration, Instant};

use copilot_desktop::engine::{
    BundledCli, ChatEventKind, CliAuth, CliTarget, Engine, EngineConfig, NewSession, ProviderSettings, RestartPolicy,
    SessionOptions,
};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::fake_model::{API_KEY, DEFAULT_MODEL, FakeModel, Match, Reply};
use github_copilot_sdk::{Client, SessionConfig};

struct Figures {
    connect: Duration,
    create: Duration,
    first_delta: Duration,
}

async fn raw_sdk(home: &TestHome, model: &FakeModel) -> Figures {
    let t = Instant::now();
    let client = Client::start(home.client_options()).await.expect("raw start");
    let connect = t.elapsed();
    let t = Instant::now();
    let session = client
        .create_session(
            SessionConfig::default()
                .with_model(DEFAULT_MODEL)
                .with_provider(model.provider())
                .with_streaming(true)
                .with_working_directory(home.work_dir()),
        )
        .await
        .expect("raw create");
    let create = t.elapsed();
    let mut events = session.subscribe();
    let t = Instant::now();
    session.send("bench please").await.expect("raw send");
    let first_delta = loop {
        let e = events.recv().await.expect("raw event");
        if e.event_type == "assistant.message_delta" {
            break t.elapsed();
        }
    };
    loop {
        if events.recv().await.expect("raw event").event_type == "session.idle" {
            break;
        }
    }
    client.stop().await.ok();
    Figures { connect, create, first_delta }
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
                .map(|(k, v)| (k.to_string_lossy().into(), v.to_string_lossy().into()))
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
    let t = Instant::now();
    engine.sessions.send(&summary.id, "bench please").await.expect("engine send");
    let mut first_delta = None;
    'turn: while let Some(batch) = stream.next_batch().await {
        for event in batch {
            if first_delta.is_none() && matches!(event.kind, ChatEventKind::MessageDelta { .. }) {
                first_delta = Some(t.elapsed());
            }
            if matches!(event.kind, ChatEventKind::Idle) {
                break 'turn;
            }
        }
    }
    engine.shutdown().await;
    Figures { connect, create, first_delta: first_delta.expect("a delta") }
}

fn report(name: &str, mut figures: Vec<Figures>) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut line = format!("{name:<8}");
    for (label, pick) in [
        ("connect", (|f: &Figures| f.connect) as fn(&Figures) -> Duration),
        ("create", |f: &Figures| f.create),
        ("first-delta", |f: &Figures| f.first_delta),
    ] {
        figures.sort_by_key(pick);
        line += &format!(
            "  {label} median {:7.1} ms (min {:7.1})",
            ms(pick(&figures[figures.len() / 2])),
            ms(pick(&figures[0]))
        );
    }
    println!("{line}");
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let model = FakeModel::start().await;
    model.when(Match::user_contains("bench"), Reply::chunks(["first ", "second ", "third"]));
    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        // Alternate so both see the same machine state; each round gets fresh homes.
        raw.push(raw_sdk(&TestHome::new(), &model).await);
        ours.push(engine(&TestHome::new(), &model).await);
    }
    println!("{rounds} rounds, CLI {}, warm CLI cache", cli_path().display());
    report("raw SDK", raw);
    report("engine", ours);
}
