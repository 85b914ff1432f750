//! Benchmark: the chat UI in the built app, in the real webview, with the real CLI signed in to
//! the fake GitHub + Copilot API. Measures what a user feels:
//!
//! * latency: the fake model sends a reply's first chunk (wall clock) → the frame that shows that text has
//!   been painted (the webview's wall clock); next to it the floor, measured in the same run and webview: a
//!   Rust-side send down a Channel → painted, in a page that does nothing else (ui/floor.html; the command
//!   behind it exists only in builds with the cargo feature `bench`);
//! * streaming throughput: 3,000 one-word deltas → the deltas per second the transcript shows,
//!   and whether every word arrived exactly once, in order;
//! * a soak: TURNS turns with a shell tool call each (approved through the permission dialog: for
//!   the session where it offers that, else once per turn) in one session, the memory of the app and of WebKit after every 50;
//! * opening a 10,000-event and a 50,000-event session: click in the sidebar → its last message painted,
//!   and → the whole history in (the transcript no longer busy), next to the CLI's own resume time;
//!   then scrolling it up from the bottom (frame times): a first pass of the transcript alone, then passes
//!   interleaved with a static copy of the same rows, which gives the webview's own cost per frame on the
//!   machine at hand;
//! * memory: resident memory of the app and its WebKit processes, idle after connecting, and with the long
//!   session open, as growth over that launch's idle (measured before opening it): just opened; after the
//!   transcript's own first scrolling, before the benchmark adds anything to the page (the figure the memory
//!   goal is about); and at the end, after the passes with the static copy (which includes what the webview
//!   keeps of that copy);
//! * on stderr, where the time goes: for each opening the app's own resume and history times (its log) and
//!   when the UI received and applied the history; with `--frames`, the frames around each latency round's
//!   chunk (with the DOM changes made in each, and when the page's main thread was busy). That recording
//!   works in the page while it measures, so take the latency figures without it.
//!
//! Needs the app built with the bench feature (`cd ui && npm run build`, `cargo build -p copilot-desktop
//! --features bench`) and a display:
//! `xvfb-run -a dbus-run-session -- cargo run -p copilot-desktop-tests --bin bench_ui -- [ROUNDS]
//! [--soak-turns N] [--history EVENTS,...] [--frames]` (defaults: 5 rounds, 200 soak turns, histories of 10,000 and
//! 50,000 events; `--soak-turns 0` or `--history none` skips those parts). Figures are for whichever profile
//! of the app is under test (`COPILOT_DESKTOP_APP` to choose).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use copilot_desktop_tests::app::{AppUnderTest, Target};
use copilot_desktop_tests::chat::{Chat, HANG_GUARD, TOKEN, copilot_messages, launch_options};
use copilot_desktop_tests::cli::TestHome;
use copilot_desktop_tests::fake_github::FakeGitHub;
use copilot_desktop_tests::fake_model::{Match, Reply, many_deltas_text};
use copilot_desktop_tests::webdriver::processes;
use github_copilot_sdk::{Client, ResumeSessionConfig, SessionId};
use serde_json::{Value, json};

const TRANSCRIPT: &str = "//*[@role='log'][@aria-label='Transcript']";
const FLOOD: usize = 3_000;
/// How long the fake model takes to its first token in the latency rounds that wait (real models take longer).
const TIME_TO_FIRST_TOKEN: Duration = Duration::from_millis(300);
/// The pause before the chunk whose latency the "later delta" rounds take.
const BETWEEN_CHUNKS: Duration = Duration::from_millis(250);

const USAGE: &str = "bench_ui [ROUNDS] [--soak-turns N] [--history EVENTS[,EVENTS...] | --history none] [--frames] [--marks] [--soak-diag] [--soak-every N] [--frame-cost]";

/// `--frames`: the latency probe also records what the page did in each frame (see [`ARM_PAINT_PROBE`]). Off
/// by default, so the figures are taken without that recording's own work in the page.
static FRAMES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--soak-every N`: the soak's memory checkpoints every N turns (default 50).
static SOAK_EVERY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(50);

/// What to run, from the command line.
struct Options {
    rounds: usize,
    soak_turns: usize,
    histories: Vec<usize>,
    frames: bool,
    /// `--marks`: print each latency round's wall-clock times (send, chunk, in the DOM, painted) on stderr,
    /// after the round, to line them up with a system profile. No work in the page.
    marks: bool,
    /// `--soak-diag`: at each soak checkpoint, what the page holds (DOM, caches) and WebKit's smaps on stderr.
    soak_diag: bool,
    /// `--frame-cost`: after the latency rounds, what single page changes cost WebKit's threads.
    frame_cost: bool,
}

impl Options {
    fn parse() -> Options {
        let mut options = Options {
            rounds: 5,
            soak_turns: 200,
            histories: vec![10_000, 50_000],
            frames: false,
            marks: false,
            soak_diag: false,
            frame_cost: false,
        };
        let mut args = std::env::args().skip(1);
        let number = |value: Option<String>, what: &str| -> usize {
            value
                .as_deref()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number; usage: {USAGE}"))
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--soak-turns" => options.soak_turns = number(args.next(), "--soak-turns"),
                "--history" => {
                    let value = args.next().unwrap_or_else(|| panic!("--history needs a value; usage: {USAGE}"));
                    options.histories = if value == "none" {
                        Vec::new()
                    } else {
                        value.split(',').map(|v| number(Some(v.to_owned()), "--history")).collect()
                    };
                    options.histories.sort_unstable();
                }
                "--frames" => options.frames = true,
                "--marks" => options.marks = true,
                "--soak-diag" => options.soak_diag = true,
                "--frame-cost" => options.frame_cost = true,
                "--soak-every" => {
                    SOAK_EVERY.store(number(args.next(), "--soak-every").max(1), std::sync::atomic::Ordering::Relaxed)
                }
                "-h" | "--help" => {
                    println!("usage: {USAGE}");
                    std::process::exit(0);
                }
                other => options.rounds = number(Some(other.to_owned()), "ROUNDS").max(1),
            }
        }
        options
    }
}

/// Page script: arm a probe that resolves `window.__benchPainted` once the transcript's last message shows
/// `arguments[0]`: `{painted, inDom, nextFrame}`, wall-clock milliseconds (the webview's clock).
///
/// * `inDom`: when the text was first in the DOM (the mutation observer saw it);
/// * `painted`: when the frame that shows it had been rendered. A change made inside a frame's animation
///   callbacks (where the app's frame batcher applies updates) is rendered at the end of that same frame; a
///   change made in any other task (the floor page) in the next frame. Either way a message posted from within
///   that frame runs right after its rendering, and that is the time taken. A rAF loop started here runs first
///   in every frame and marks it, which tells the two cases apart;
/// * `nextFrame`: the start of the first animation frame after the text appeared, what this probe reported
///   before it knew frames apart (one frame late when the change was made inside a frame);
/// * `frames`, `gaps`: with `arguments[2]` true (`--frames`), the frames before it with the DOM changes made in
///   each, and when the page's main thread was busy for more than 8 ms (a heartbeat of tasks stalled).
const ARM_PAINT_PROBE: &str = r#"
const [needle, xpath, recordFrames] = arguments;
const now = () => performance.timeOrigin + performance.now();
let done;
window.__benchPainted = new Promise((resolve) => { done = resolve; });
let inFrame = false, watching = true, inDom = null, painted = null, nextFrame = null;
const afterFrame = (then) => { const c = new MessageChannel(); c.port1.onmessage = then; c.port2.postMessage(0); };
// Each frame's start and the end of its rendering, for the report on what the webview was busy with.
const frames = [];
const frame = () => {
  if (!watching) return;
  inFrame = true;
  const f = { start: now(), end: null, mutations: 0 };
  frames.push(f);
  afterFrame(() => { inFrame = false; f.end = now(); });
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);
// A heartbeat of tasks: a gap in it is the page's main thread busy (script, style, layout, paint).
const gaps = [];
const counter = new MutationObserver((records) => { const f = frames[frames.length - 1]; if (f) f.mutations += records.length; });
if (recordFrames) {
  let beat = now();
  const heartbeat = new MessageChannel();
  heartbeat.port1.onmessage = () => {
    const t = now();
    if (t - beat > 8) gaps.push([beat, t]);
    beat = t;
    if (watching) setTimeout(() => heartbeat.port2.postMessage(0), 0);
  };
  heartbeat.port2.postMessage(0);
  counter.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
}
const finish = () => {
  if (painted !== null && nextFrame !== null) {
    watching = false;
    counter.disconnect();
    done({ painted, inDom, nextFrame, frames: frames.slice(-12), gaps: gaps.slice(-8) });
  }
};
const root = () => document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
// The last assistant message only: earlier rounds' answers may hold the same text.
const last = () => { const r = root(); const all = r ? r.querySelectorAll('article[aria-label="Copilot"]') : []; return all[all.length - 1]; };
const check = () => {
  const r = last();
  if (!r || !(r.textContent || '').includes(needle)) return false;
  inDom = now();
  const paint = () => afterFrame(() => { painted = now(); finish(); });
  if (inFrame) paint(); else requestAnimationFrame(paint);
  requestAnimationFrame(() => { nextFrame = now(); finish(); });
  return true;
};
if (!check()) {
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
}
"#;

/// The Copilot CLI's own time to resume `session_id` (ms), with a client of its own in the app's
/// home: the floor under opening that session in the app. Also the time it then takes to hand
/// over the session's stored events (`session.getMessages`).
async fn cli_resume_ms(home: &TestHome, github: &FakeGitHub, session_id: &str) -> (f64, f64) {
    let mut env = github.env();
    env.push(("GH_TOKEN".into(), TOKEN.into()));
    let client = Client::start(home.client_options_with_env(env)).await.expect("a CLI of its own starts");
    let started = std::time::Instant::now();
    let config = ResumeSessionConfig::new(SessionId::new(session_id)).with_streaming(true);
    let session = client.resume_session(config).await.expect("the CLI resumes the grown session");
    let resumed = started.elapsed().as_secs_f64() * 1000.0;
    let started = std::time::Instant::now();
    session.get_events().await.expect("its stored events");
    let stored = started.elapsed().as_secs_f64() * 1000.0;
    let _ = session.disconnect().await;
    let _ = client.stop().await;
    (resumed, stored)
}

/// Page script: like [`ARM_PAINT_PROBE`], but resolves `window.__benchSettled` once the transcript
/// also is no longer busy (`aria-busy`: the session's whole history is in and it is ready).
const ARM_SETTLED_PROBE: &str = r#"
const [needle, xpath] = arguments;
let done;
window.__benchSettled = new Promise((resolve) => { done = resolve; });
const check = () => {
  const r = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  const all = r ? r.querySelectorAll('article[aria-label="Copilot"]') : [];
  const last = all[all.length - 1];
  if (r && r.getAttribute('aria-busy') !== 'true' && last && last.innerText.includes(needle)) {
    requestAnimationFrame(() => done(performance.timeOrigin + performance.now()));
    return true;
  }
  return false;
};
if (!check()) {
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-busy'] });
}
"#;

fn wall_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0
}

fn now_ms() -> f64 {
    wall_ms(SystemTime::now())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

fn rounded(v: &[f64]) -> Vec<i64> {
    v.iter().map(|x| x.round() as i64).collect()
}

/// Resident memory (MiB) of the app's process and of its WebKit processes (web, network), the CLI left out.
#[derive(Clone, Copy, Default)]
struct Memory {
    app: f64,
    webkit: f64,
}

impl Memory {
    fn total(&self) -> f64 {
        self.app + self.webkit
    }
}

fn memory(app: &AppUnderTest) -> Memory {
    let rss = |pid: u32| -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
            .unwrap_or(0.0)
            / 1024.0
    };
    let root = app.app_process().pid;
    let mut memory = Memory::default();
    for (pid, is_cli) in app_processes(app) {
        if is_cli {
            continue;
        }
        if pid == root { memory.app += rss(pid) } else { memory.webkit += rss(pid) }
    }
    memory
}

/// CPU seconds used so far by the app's processes: (the UI: the app and WebKit, the CLI).
fn cpu_seconds(app: &AppUnderTest) -> (f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let (mut ui, mut cli) = (0.0, 0.0);
    for (pid, is_cli) in app_processes(app) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let used =
            fields.get(11).zip(fields.get(12)).and_then(|(u, s)| Some(u.parse::<f64>().ok()? + s.parse::<f64>().ok()?));
        let seconds = used.unwrap_or(0.0) / ticks;
        if is_cli { cli += seconds } else { ui += seconds }
    }
    (ui, cli)
}

/// The app's process and every process under it (WebKitGTK's helpers, the CLI), each with whether it is
/// the Copilot CLI or runs under it: the app's child whose executable is named copilot* (the bundled
/// copilot-desktop-cli, or a copilot of the system's), and whatever that started.
fn app_processes(app: &AppUnderTest) -> Vec<(u32, bool)> {
    let root = app.app_process().pid;
    let name = |pid: u32| {
        processes::read(pid).and_then(|p| p.exe).and_then(|e| e.file_name().map(|n| n.to_string_lossy().into_owned()))
    };
    let clis: Vec<u32> = processes::children(root)
        .into_iter()
        .filter(|p| name(p.pid).is_some_and(|n| n.starts_with("copilot")))
        .map(|p| p.pid)
        .collect();
    let under_cli: Vec<u32> = clis.iter().flat_map(|&cli| processes::descendants(cli)).chain(clis.clone()).collect();
    std::iter::once(root).chain(processes::descendants(root)).map(|pid| (pid, under_cli.contains(&pid))).collect()
}

/// An asynchronous page script that reports through its callback, made robust: WebKitWebDriver answers a
/// script that throws (or ends in a rejected promise), or a page that stalls, with `UnknownError: "Could not
/// parse script result"`, so every script here catches its own errors and reports `{error}` instead. A failed
/// call is tried again (`attempts` in all) after a pause; then the run stops with what was seen, never with a
/// bare parse error.
async fn run_async(app: &AppUnderTest, what: &str, script: &str, args: Vec<Value>, attempts: usize) -> Value {
    let mut seen = Vec::new();
    for attempt in 1..=attempts {
        match app.client().execute_async(script, args.clone()).await {
            Ok(value) if value.get("error").is_none_or(Value::is_null) => return value,
            Ok(value) => seen.push(format!("attempt {attempt}: the page reported {}", value["error"])),
            Err(e) => seen.push(format!("attempt {attempt}: WebDriver: {e}")),
        }
        eprintln!("[bench] {what}: {}", seen.last().map(String::as_str).unwrap_or_default());
        if attempt < attempts {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    app.fail(&format!("{what} failed {attempts} times:\n  {}", seen.join("\n  "))).await
}

/// Start watching the page for `needle`; [`painted`] then waits for it.
async fn arm_paint_probe(app: &AppUnderTest, needle: &str) {
    let frames = FRAMES.load(std::sync::atomic::Ordering::Relaxed);
    app.eval(ARM_PAINT_PROBE, vec![json!(needle), json!(TRANSCRIPT), json!(frames)]).await;
}

/// When the armed probe's text was in the DOM, painted, and (the probe's old reading) the next frame began.
#[derive(Clone, Debug)]
struct Paint {
    in_dom: f64,
    painted: f64,
    next_frame: f64,
    /// The last frames before it was painted: start, end of rendering, DOM changes made in it.
    frames: Vec<(f64, f64, u64)>,
    /// The last times the page's main thread was busy for more than 8 ms: from, to.
    gaps: Vec<(f64, f64)>,
}

async fn painted(app: &AppUnderTest) -> Paint {
    const WAIT: &str = "const done = arguments[arguments.length - 1]; \
        try { \
          if (!window.__benchPainted) { done({ error: 'no paint probe armed (the page was reloaded?)' }); } \
          else { window.__benchPainted.then(done, (e) => done({ error: String(e) })); \
                 setTimeout(() => done({ error: 'nothing painted within 20 s' }), 20000); } \
        } catch (e) { done({ error: String(e) }); }";
    let value = app.client().execute_async(WAIT, vec![]).await;
    let value = match value {
        Ok(v) if v.get("error").is_none_or(Value::is_null) => v,
        other => {
            let page = app.eval("const r = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; return r ? r.innerText.slice(-300) : 'no transcript';", vec![json!(TRANSCRIPT)]).await;
            app.fail(&format!("the paint probe gave up ({other:?}); the transcript ends: {page}")).await
        }
    };
    let ms = |key: &str| value[key].as_f64().unwrap_or_else(|| panic!("no {key} in the paint probe's {value}"));
    let frames = value["frames"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|f| {
                    (
                        f["start"].as_f64().unwrap_or(f64::NAN),
                        f["end"].as_f64().unwrap_or(f64::NAN),
                        f["mutations"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let gaps = value["gaps"]
        .as_array()
        .map(|all| all.iter().map(|g| (g[0].as_f64().unwrap_or(f64::NAN), g[1].as_f64().unwrap_or(f64::NAN))).collect())
        .unwrap_or_default();
    Paint { in_dom: ms("inDom"), painted: ms("painted"), next_frame: ms("nextFrame"), frames, gaps }
}

/// Latency figures of one kind, in milliseconds, one per round.
#[derive(Default)]
struct Latency {
    painted: Vec<f64>,
    in_dom: Vec<f64>,
    next_frame: Vec<f64>,
}

impl Latency {
    fn push(&mut self, from: f64, paint: Paint) {
        self.painted.push(paint.painted - from);
        self.in_dom.push(paint.in_dom - from);
        self.next_frame.push(paint.next_frame - from);
    }
}

// ---------------------------------------------------------------------------------------------------------
// The floor: the Channel and the webview alone

/// Rounds of the floor page (ui/floor.html): Rust sends one message, the page paints it. Leaves the window on
/// the app's page again, connected. `None` when the app was built without the `bench` feature.
async fn floor_rounds(chat: &Chat, rounds: usize, first: usize, latency: &mut Latency) -> Option<()> {
    let app = &chat.app;
    let index = app.client().current_url().await.expect("the window's URL");
    let floor = index.join("floor.html").expect("floor.html next to the app's page");
    app.client().goto(floor.as_str()).await.expect("open floor.html");
    let ready = "return typeof window.__benchFloor === 'function';";
    let deadline = Instant::now() + HANG_GUARD;
    while app.eval(ready, vec![]).await != json!(true) {
        assert!(Instant::now() < deadline, "floor.html did not load at {floor}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    const TICK: &str = "const [text, delay, done] = arguments; \
        try { window.__benchFloor(text, delay).then(done, (e) => done({ error: String(e) })); } \
        catch (e) { done({ error: String(e) }); }";
    let mut available = true;
    for round in first..first + rounds {
        let needle = format!("FLOOR-{round}-MARK");
        arm_paint_probe(app, &needle).await;
        // A delay that varies, so the send falls anywhere in a frame, as a model's chunk does.
        let delay = 20 + (round * 7) % 17;
        let sent =
            app.client().execute_async(TICK, vec![json!(format!("{needle} and then the rest")), json!(delay)]).await;
        let sent = match sent {
            Ok(v) if v["sentAtMs"].is_f64() => v["sentAtMs"].as_f64().unwrap_or_default(),
            Ok(v)
                if v["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("bench_channel_floor") || e.contains("not found")) =>
            {
                eprintln!("[bench] no floor: {} (build the app with --features bench)", v["error"]);
                available = false;
                break;
            }
            other => app.fail(&format!("the floor's message did not come: {other:?}")).await,
        };
        let paint = painted(app).await;
        latency.push(sent, paint);
    }
    app.client().goto(index.as_str()).await.expect("back to the app's page");
    chat.wait_connected().await;
    available.then_some(())
}

// ---------------------------------------------------------------------------------------------------------
// The soak: many turns with a tool call each, in one session

/// Page script: the state of the turn in progress: whether the permission dialog is up, whether the last
/// answer shows `arguments[0]`, and whether the composer offers Stop (a turn is running).
const TURN_STATE: &str = r#"
const [needle, dialogXpath, stopXpath] = arguments;
const one = (x) => document.evaluate(x, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
const answers = document.querySelectorAll('article[aria-label="Copilot"]');
const last = answers[answers.length - 1];
return { dialog: !!one(dialogXpath), answered: !!last && (last.textContent || '').includes(needle), running: !!one(stopXpath) };
"#;

/// For `--frame-cost`: CPU time (ms, from schedstat) of the WebKit web process's threads, by thread name.
fn webkit_thread_cpu(app: &AppUnderTest) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let root = app.app_process().pid;
    for (pid, is_cli) in app_processes(app) {
        if is_cli {
            continue;
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            let dir = task.path();
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default().trim().to_owned();
            let ns: f64 = std::fs::read_to_string(dir.join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
                .unwrap_or(0.0);
            let who = if pid == root { "app" } else { "web" };
            let group = if comm.starts_with("llvmpipe") { "llvmpipe".to_owned() } else { comm };
            *out.entry(format!("{who}:{group}")).or_insert(0.0) += ns / 1e6;
        }
    }
    out
}

fn cpu_delta(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> String {
    let mut parts: Vec<(f64, String)> = after
        .iter()
        .map(|(k, v)| (v - before.get(k).copied().unwrap_or(0.0), k.clone()))
        .filter(|(d, _)| *d >= 0.5)
        .collect();
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = parts.iter().map(|p| p.0).sum();
    format!(
        "total {total:.1} ms: {}",
        parts.iter().take(8).map(|(d, k)| format!("{k} {d:.1}")).collect::<Vec<_>>().join(", ")
    )
}

/// `--frame-cost`: what single changes in the page cost WebKit's threads (llvmpipe above all), each after the
/// page has been still, measured over 400 ms (a few frames).
async fn frame_costs(chat: &Chat) {
    let app = &chat.app;
    const SETTLE: Duration = Duration::from_millis(600);
    const WINDOW: Duration = Duration::from_millis(400);
    let viewport = format!(
        "document.evaluate({TRANSCRIPT:?}, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue"
    );
    let actions: Vec<(&str, String)> = vec![
        ("nothing", "return 1;".to_owned()),
        ("caret/focus: focus the message box", "document.querySelector('textarea').focus(); return 1;".to_owned()),
        ("type one character", "const t = document.querySelector('textarea'); t.value += 'x'; t.dispatchEvent(new InputEvent('input', {bubbles: true})); return 1;".to_owned()),
        ("clear the message box", "const t = document.querySelector('textarea'); t.value = ''; t.dispatchEvent(new InputEvent('input', {bubbles: true})); return 1;".to_owned()),
        ("scroll the transcript up 150 px", format!("const v = {viewport}; v.scrollTop -= 150; return 1;")),
        ("scroll it back to the bottom", format!("const v = {viewport}; v.scrollTop = v.scrollHeight; return 1;")),
        ("change one word in the last answer", format!("const v = {viewport}; const a = v.querySelectorAll('article[aria-label=\"Copilot\"]'); const p = a[a.length-1].querySelector('p'); p.append(' x'); return 1;")),
        ("append a 140px block to the transcript's end and scroll", format!("const v = {viewport}; const d = document.createElement('div'); d.id='bench-probe'; d.style.height='140px'; d.textContent='probe block'; v.append(d); v.scrollTop = v.scrollHeight; return 1;")),
        ("remove it", "document.getElementById('bench-probe')?.remove(); return 1;".to_owned()),
        ("change the composer's placeholder", "const t = document.querySelector('textarea'); t.dataset.ph = t.placeholder; t.placeholder = 'Queue a message, or send it now to steer...'; return 1;".to_owned()),
        ("restore it", "const t = document.querySelector('textarea'); t.placeholder = t.dataset.ph; return 1;".to_owned()),
    ];
    for round in 0..4 {
        if round == 2 {
            // The same again with styled (non-native) scrollbars: WebKitGTK's own overlay scrollbars fade in
            // and out with an animation, a frame each 16 ms while it runs.
            let css = std::env::var("BENCH_FRAME_COST_CSS").unwrap_or_else(|_| {
                "::-webkit-scrollbar { width: 8px; height: 8px; } ::-webkit-scrollbar-thumb { background: rgb(128 128 128 / 50%); border-radius: 4px; }".to_owned()
            });
            app.eval("const s = document.createElement('style'); s.textContent = arguments[0]; document.head.append(s); return 1;", vec![json!(css)]).await;
            eprintln!("[frame-cost] from here on with the page style: {css}");
        }
        for (label, script) in &actions {
            tokio::time::sleep(SETTLE).await;
            let before = webkit_thread_cpu(app);
            let at = now_ms();
            app.eval(script, vec![]).await;
            tokio::time::sleep(WINDOW).await;
            let after = webkit_thread_cpu(app);
            eprintln!("[frame-cost] {round} {label} (at {at:.1}): {}", cpu_delta(&before, &after));
            let running = app
                .eval(
                    "return document.getAnimations().map((a) => { const t = a.effect && a.effect.target; \
                     return [a.constructor.name, a.animationName || a.transitionProperty || '', t ? t.tagName + '.' + (t.getAttribute('class') || '') + (t.getAttribute('aria-label') ? '[' + t.getAttribute('aria-label') + ']' : '') : '', a.playState, String(a.effect && a.effect.getTiming ? a.effect.getTiming().iterations : '')]; });",
                    vec![],
                )
                .await;
            eprintln!("[frame-cost]   animations: {running}");
        }
        // The real thing: a message sent (typed, then Enter), the model answering after 2 s.
        chat.github.when_once(
            Match::user_contains(format!("cost {round} please")),
            Reply::text_in_chunks("COST-MARK and then the rest.", 2).with_first_delay(Duration::from_secs(2)),
        );
        tokio::time::sleep(SETTLE).await;
        let before = webkit_thread_cpu(app);
        app.fill(&copilot_desktop_tests::chat::message_box(), &format!("cost {round} please"), HANG_GUARD).await;
        tokio::time::sleep(WINDOW).await;
        let typed = webkit_thread_cpu(app);
        eprintln!("[frame-cost] {round} typing the message (WebDriver fill): {}", cpu_delta(&before, &typed));
        tokio::time::sleep(SETTLE).await;
        let before = webkit_thread_cpu(app);
        app.press_enter(&copilot_desktop_tests::chat::message_box(), HANG_GUARD).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let after = webkit_thread_cpu(app);
        eprintln!("[frame-cost] {round} Enter: the user's message shown, 1 s: {}", cpu_delta(&before, &after));
        chat.wait_idle().await;
    }
}

/// Page script for `--soak-diag`: what the page holds now.
const PAGE_DIAG: &str = r#"
const [xpath] = arguments;
const r = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
const count = (sel) => document.querySelectorAll(sel).length;
let text = 0;
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) text++;
let sheets = 0, rules = 0;
for (const s of document.styleSheets) { sheets++; try { rules += s.cssRules.length; } catch (e) {} }
return {
  elements: document.getElementsByTagName('*').length,
  textNodes: text,
  rows: r ? r.querySelectorAll(':scope > .row').length : -1,
  articles: count('article'),
  toolCards: r ? r.querySelectorAll('.item.tool').length : -1,
  dialogs: count('dialog'),
  openDialogs: count('dialog[open]'),
  buttons: count('button'),
  svgs: count('svg'),
  styleSheets: sheets,
  cssRules: rules,
  perfEntries: performance.getEntries().length,
  resourceEntries: performance.getEntriesByType('resource').length,
  scrollHeight: r ? r.scrollHeight : -1,
};
"#;

/// For `--soak-diag`: a WebKit process's memory by kind of mapping (kB of Rss), from /proc/PID/smaps.
fn smaps_breakdown(pid: u32) -> String {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else { return format!("{pid}: no smaps") };
    let name = processes::read(pid)
        .and_then(|p| p.exe)
        .and_then(|e| e.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut kinds: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default(); // rss, anon, count
    let mut current = String::new();
    let mut big_anon: Vec<(u64, String)> = Vec::new();
    let mut region = String::new();
    for line in text.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            let path = line.split_whitespace().nth(5).unwrap_or("");
            current = if path.is_empty() {
                "anon".to_owned()
            } else if path.starts_with('[') {
                path.to_owned()
            } else if path.starts_with("/memfd:") {
                format!("memfd:{}", path.trim_start_matches("/memfd:").split_whitespace().next().unwrap_or(""))
            } else if path.starts_with("/dev/") {
                path.to_owned()
            } else if path.contains(".so") {
                "lib".to_owned()
            } else {
                "file".to_owned()
            };
            region = first.to_owned();
            kinds.entry(current.clone()).or_default().2 += 1;
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0);
            kinds.entry(current.clone()).or_default().0 += kb;
            if current == "anon" && kb >= 4096 {
                big_anon.push((kb, region.clone()));
            }
        } else if let Some(kb) = line.strip_prefix("Anonymous:") {
            let kb: u64 = kb.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0);
            kinds.entry(current.clone()).or_default().1 += kb;
        }
    }
    let mut parts: Vec<String> = kinds
        .iter()
        .filter(|(_, (rss, _, _))| *rss >= 1024)
        .map(|(k, (rss, anon, n))| format!("{k} {:.1}M/{n} (anon {:.1}M)", *rss as f64 / 1024.0, *anon as f64 / 1024.0))
        .collect();
    parts.sort();
    big_anon.sort_unstable_by_key(|a| std::cmp::Reverse(a.0));
    let big: Vec<String> = big_anon.iter().take(6).map(|(kb, r)| format!("{r}:{:.1}M", *kb as f64 / 1024.0)).collect();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |f: &str| {
        rollup
            .lines()
            .find(|l| l.starts_with(f))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or("?".to_owned(), |kb| format!("{:.1}", kb / 1024.0))
    };
    format!(
        "{name}[{pid}] rss {} pss {} anon {} private_dirty {} shared_clean {} swap {} | {} | biggest anon: {}",
        field("Rss:"),
        field("Pss:"),
        field("Anonymous:"),
        field("Private_Dirty:"),
        field("Shared_Clean:"),
        field("Swap:"),
        parts.join(", "),
        big.join(" ")
    )
}

async fn soak_diag(app: &AppUnderTest, n: usize) {
    let page = app.eval(PAGE_DIAG, vec![json!(TRANSCRIPT)]).await;
    eprintln!("[diag] soak {n}: page {page}");
    // With JSC_useDollarVM=1 in the environment, the page has $vm: a full garbage collection, then the memory again.
    let collected = app.eval("if (typeof $vm === 'undefined') return false; $vm.gc(); return true;", vec![]).await;
    if collected == json!(true) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = memory(app);
        eprintln!("[diag] soak {n}: after $vm.gc(): app {:.1} MiB, WebKit {:.1} MiB", after.app, after.webkit);
    }
    let root = app.app_process().pid;
    for (pid, is_cli) in app_processes(app) {
        if is_cli {
            continue;
        }
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.count()).unwrap_or(0);
        eprintln!(
            "[diag] soak {n}: {}{} threads {threads}",
            if pid == root { "app " } else { "" },
            smaps_breakdown(pid)
        );
    }
}

struct Soak {
    /// (turns done, memory then)
    checkpoints: Vec<(usize, Memory)>,
    turn_ms: Vec<f64>,
    prompts_answered: usize,
    /// After switching to another session, 10 s later.
    left: Option<Memory>,
}

async fn soak(chat: &Chat, turns: usize, diag: bool) -> Soak {
    let app = &chat.app;
    chat.new_session().await;
    // The dialog offers "Allow for this session" where the CLI can remember the approval; for a plain `echo` it
    // offers only "Allow once", so every turn asks.
    let dialog = Target::dialog("Run this command?");
    let for_session = Target::button("Allow for this session").within(&dialog);
    let once = Target::button("Allow once").within(&dialog);
    let stop = Target::button("Stop");
    let settle = Duration::from_secs(3);
    tokio::time::sleep(settle).await;
    let mut soak = Soak { checkpoints: vec![(0, memory(app))], turn_ms: Vec::new(), prompts_answered: 0, left: None };
    if diag {
        soak_diag(app, 0).await;
    }
    for n in 1..=turns {
        let needle = format!("soak-{n}-done");
        chat.github.when_once(Match::user_contains(format!("soak {n} please")), Reply::shell(format!("echo {needle}")));
        let began = Instant::now();
        chat.send(&format!("soak {n} please")).await;
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let state =
                app.eval(TURN_STATE, vec![json!(needle), json!(dialog.as_xpath()), json!(stop.as_xpath())]).await;
            if state["dialog"] == json!(true) {
                let allow = if app.find(&for_session).await.is_some() { &for_session } else { &once };
                app.click(allow, HANG_GUARD).await;
                app.wait_gone(&dialog, HANG_GUARD).await;
                soak.prompts_answered += 1;
            } else if state["answered"] == json!(true) && state["running"] == json!(false) {
                break;
            }
            if Instant::now() > deadline {
                app.fail(&format!("soak turn {n} did not end within {HANG_GUARD:?}: {state}")).await;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        soak.turn_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        if n % SOAK_EVERY.load(std::sync::atomic::Ordering::Relaxed) == 0 || n == turns {
            tokio::time::sleep(settle).await;
            let now = memory(app);
            eprintln!("[bench] soak: {n} turns, app {:.1} MiB, WebKit {:.1} MiB", now.app, now.webkit);
            soak.checkpoints.push((n, now));
            if diag {
                soak_diag(app, n).await;
            }
        }
    }
    // What the session itself holds: switch to another one (the soak's transcript is dropped) and measure again.
    let other = Target::xpath("//nav[@aria-label='Sessions']//li//button[contains(., 'paint 0')]", "another session");
    app.click(&other, HANG_GUARD).await;
    app.wait_for(
        // Its last rows (the list renders only what is in view) are the latency rounds'.
        &Target::xpath(&format!("{TRANSCRIPT}//article[contains(., '-MARK')]"), "its transcript"),
        HANG_GUARD,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    soak.left = Some(memory(app));
    if diag {
        soak_diag(app, usize::MAX).await;
    }
    soak
}

// ---------------------------------------------------------------------------------------------------------
// Long sessions: open and scroll

/// The wall-clock time (ms) of the frame that first showed the armed settled probe's text, not busy.
async fn settled(app: &AppUnderTest) -> f64 {
    let value = app
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.__benchSettled.then(done); setTimeout(() => done(null), 20000);",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("waiting for the settled probe failed: {e}"));
    value.as_f64().expect("the transcript settled with its last answer shown")
}

/// Rewrite a stored session so it holds `target` events: its last turn repeated with fresh ids, each a new
/// question and answer (the CLI's own event format, as it wrote it), numbered on from the turns already there.
fn grow_session(events_file: &Path, target: usize) -> usize {
    let text = std::fs::read_to_string(events_file).expect("read events.jsonl");
    let mut events: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let shutdown: Vec<Value> = events.iter().filter(|e| e["type"] == "session.shutdown").cloned().collect();
    events.retain(|e| e["type"] != "session.shutdown");
    let start = events.iter().rposition(|e| e["type"] == "user.message").expect("a user message");
    let turn: Vec<Value> = events[start..].to_vec();
    let mut n = events.iter().filter(|e| e["type"] == "user.message").count();
    while events.len() < target {
        n += 1;
        for template in &turn {
            let mut e = template.clone();
            let parent = events.last().map(|p| p["id"].clone()).unwrap_or(Value::Null);
            e["id"] = json!(uuid_like(n, events.len()));
            e["parentId"] = parent;
            match e["type"].as_str() {
                Some("user.message") => {
                    e["data"]["content"] = json!(format!("Synthetic question {n}"));
                    e["data"]["transformedContent"] = json!(format!("Synthetic question {n}"));
                    e["data"]["messageId"] = json!(uuid_like(n, 1));
                }
                Some("assistant.message") => {
                    e["data"]["messageId"] = json!(uuid_like(n, 2));
                    e["data"]["content"] = json!(format!(
                        "Synthetic answer {n}: some **markdown**, `code`, and a list:\n\n- one\n- two\n\n```rust\nfn main() {{ println!(\"{n}\"); }}\n```"
                    ));
                }
                _ => {}
            }
            events.push(e);
        }
    }
    let mut out = String::new();
    for e in events.iter().chain(&shutdown) {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    std::fs::write(events_file, out).expect("write events.jsonl");
    n
}

fn uuid_like(a: usize, b: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", a, b)
}

struct History {
    events: usize,
    open_ms: f64,
    /// Click → the whole history in and the transcript no longer busy.
    settled_ms: f64,
    /// The CLI's own resume of the session, and its hand-over of the stored events after it.
    cli_resume_ms: (f64, f64),
    /// Whether the app read the history from the session's journal (confirmed by the CLI), per its log.
    from_journal: bool,
    /// Connected, the session not opened yet (this launch's idle, what the other figures are read against).
    memory_idle: Memory,
    /// After opening, before scrolling.
    memory_opened: Memory,
    /// After the transcript itself was scrolled to the top (a pass with the wheel, one a screen per frame) and
    /// left still, before the benchmark laid its static copy: the app's own memory with the session open.
    memory_scrolled: Memory,
    /// Those first passes' frame times (ms, median and p95: wheel, then a screen per frame): not in the
    /// comparison with the floor, which comes after.
    first_passes: (Passes, Passes),
    in_dom: usize,
    cpu_open: (f64, f64),
    cpu_passes: Vec<String>,
    scrolls: ScrollFigures,
    /// At the end, after the comparison passes: this includes what the webview still holds of the benchmark's
    /// own static copy of the rows (removed by then, but not necessarily given back).
    memory_end: Memory,
}

/// Grow the stored session to `events`, restart the app, open the session, scroll it.
async fn history(chat: Chat, session_dir: &Path, events: usize) -> (Chat, History) {
    let Chat { app, github } = chat;
    let mut turns = 0;
    let app = app
        .relaunch_after(launch_options(&github), |_| turns = grow_session(&session_dir.join("events.jsonl"), events))
        .await;
    eprintln!("[bench] stored session grown to {events} events (its last turn is number {turns})");
    let chat = Chat { app, github };
    chat.wait_connected().await;
    let session_id = session_dir.file_name().expect("a session folder").to_string_lossy().into_owned();
    let cli_resume_ms = cli_resume_ms(chat.app.home(), &chat.github, &session_id).await;
    let app = &chat.app;
    // This launch's own idle: the one measured at the start was another process, and two launches' idle
    // memory differs by tens of MiB (WebKit's, mostly).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory_idle = memory(app);
    let last_answer = format!("Synthetic answer {turns}:");
    arm_paint_probe(app, &last_answer).await;
    app.eval(ARM_SETTLED_PROBE, vec![json!(last_answer), json!(TRANSCRIPT)]).await;
    let cpu_before_open = cpu_seconds(app);
    let started = now_ms();
    let row = Target::xpath("//nav[@aria-label='Sessions']//li//button[contains(., 'paint 0')]", "the grown session");
    app.click(&row, HANG_GUARD).await;
    let open_ms = painted(app).await.painted - started;
    let settled_ms = settled(app).await - started;
    let marks = app
        .eval(
            "return ['copilot:journal-applied', 'copilot:history-received', 'copilot:history-applied'].map((name) => { \
               const all = performance.getEntriesByName(name, 'mark'); \
               return all.length ? performance.timeOrigin + all[all.length - 1].startTime : null; });",
            vec![],
        )
        .await;
    let mark = |i: usize| marks[i].as_f64().map_or("?".to_owned(), |t| format!("{:.1} ms", t - started));
    eprintln!(
        "[bench] after the click: the journal's history applied {}; the answer received {}, applied {}",
        mark(0),
        mark(1),
        mark(2)
    );
    let log = app.log_text();
    let from_journal = log.lines().any(|l| l.contains("history read from the journal"));
    for line in log.lines().filter(|l| l.contains("session attached") && l.contains(&session_id)) {
        eprintln!("[bench] the app's log: {line}");
    }
    let cpu_opened = cpu_seconds(app);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory_opened = memory(app);
    let in_dom = app.count(&Target::xpath(&format!("{TRANSCRIPT}//article"), "rendered items")).await;
    // The app's own scrolling first, before the benchmark adds anything to the page: the memory the goal is about.
    let mut first_passes = (Passes::default(), Passes::default());
    first_passes.0.push(scroll_to_top(app, TRANSCRIPT, 120).await);
    first_passes.1.push(scroll_to_top(app, TRANSCRIPT, 0).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory_scrolled = memory(app);
    // Scrolling, in passes that interleave the transcript with a static copy of the same rows (no virtual
    // list, no script per frame) and that copy hidden (nothing to paint): the copy shows what the webview itself
    // needs per frame on this machine at this moment, to read the list's own cost against.
    run_async(app, "laying the static copy", STATIC_COPY, vec![json!(TRANSCRIPT)], 3).await;
    let mut scrolls = ScrollFigures::default();
    let mut cpu_passes = Vec::new();
    for _ in 0..SCROLL_PASSES {
        let cpu_pass = cpu_seconds(app);
        show_static_copy(app, "none").await;
        scrolls.wheel.push(scroll_to_top(app, TRANSCRIPT, 120).await);
        scrolls.page.push(scroll_to_top(app, TRANSCRIPT, 0).await);
        show_static_copy(app, "shown").await;
        scrolls.static_wheel.push(scroll_to_top(app, STATIC_COPY_XPATH, 120).await);
        scrolls.static_page.push(scroll_to_top(app, STATIC_COPY_XPATH, 0).await);
        show_static_copy(app, "hidden").await;
        scrolls.hidden_wheel.push(scroll_to_top(app, STATIC_COPY_XPATH, 120).await);
        let cpu_done = cpu_seconds(app);
        cpu_passes.push(format!("UI {:.1} s, CLI {:.1} s", cpu_done.0 - cpu_pass.0, cpu_done.1 - cpu_pass.1));
    }
    app.eval("document.getElementById('bench-static-copy')?.remove();", vec![]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let figures = History {
        events,
        open_ms,
        settled_ms,
        cli_resume_ms,
        from_journal,
        memory_idle,
        memory_opened,
        memory_scrolled,
        first_passes,
        in_dom,
        cpu_open: (cpu_opened.0 - cpu_before_open.0, cpu_opened.1 - cpu_before_open.1),
        cpu_passes,
        scrolls,
        memory_end: memory(app),
    };
    (chat, figures)
}

const SCROLL_PASSES: usize = 3;

/// One way of scrolling measured over several passes: each pass's median and p95 frame time.
#[derive(Default)]
struct Passes(Vec<(f64, f64)>);

impl Passes {
    fn push(&mut self, pass: Value) {
        let ms = |key: &str| pass[key].as_f64().unwrap_or(f64::NAN);
        self.0.push((ms("medianMs"), ms("p95Ms")));
    }

    fn median(&self) -> f64 {
        median(self.0.iter().map(|p| p.0).collect())
    }

    /// The median over passes of each pass's median and p95, and every pass's median.
    fn summary(&self) -> String {
        let medians: Vec<f64> = self.0.iter().map(|p| p.0).collect();
        let p95s: Vec<f64> = self.0.iter().map(|p| p.1).collect();
        format!(
            "median {:>5.1}  p95 {:>5.1}   passes' medians {:?}",
            median(medians.clone()),
            median(p95s),
            rounded(&medians)
        )
    }
}

#[derive(Default)]
struct ScrollFigures {
    wheel: Passes,
    page: Passes,
    static_wheel: Passes,
    static_page: Passes,
    hidden_wheel: Passes,
}

async fn scroll_to_top(app: &AppUnderTest, xpath: &str, step_px: u32) -> Value {
    run_async(app, &format!("scrolling {xpath} by {step_px} px"), SCROLL_TO_TOP, vec![json!(xpath), json!(step_px)], 3)
        .await
}

/// Puts the static copy over the transcript ("shown"), out of the way ("none"), or there but invisible ("hidden").
async fn show_static_copy(app: &AppUnderTest, how: &str) {
    app.eval(
        "const c = document.getElementById('bench-static-copy'); \
         if (c) { c.style.display = arguments[0] === 'none' ? 'none' : ''; \
                  c.style.visibility = arguments[0] === 'hidden' ? 'hidden' : ''; } \
         return !!c;",
        vec![json!(how)],
    )
    .await;
}

const STATIC_COPY_XPATH: &str = "//*[@id='bench-static-copy']";

/// Page script (asynchronous, reports `{rows}` or `{error}`): lay a static copy of the transcript's rendered rows
/// (repeated to about 300 rows) over the transcript, in the same scrolling box, so scrolling it costs only layout
/// and paint.
const STATIC_COPY: &str = r#"
const [xpath, done] = arguments;
try {
  document.getElementById('bench-static-copy')?.remove();
  const root = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  const rows = root ? [...root.querySelectorAll('.row')] : [];
  if (rows.length === 0) {
    done({ error: root ? 'the transcript has no rows' : 'no transcript on the page' });
  } else {
    const copy = root.cloneNode(false);
    copy.id = 'bench-static-copy';
    copy.removeAttribute('role');
    copy.removeAttribute('aria-label');
    copy.style.position = 'absolute';
    copy.style.inset = '0';
    copy.style.background = getComputedStyle(document.body).backgroundColor;
    for (let i = 0; copy.childElementCount < 300; i++) copy.append(rows[i % rows.length].cloneNode(true));
    root.parentElement.style.position = 'relative';
    root.parentElement.append(copy);
    done({ rows: copy.childElementCount });
  }
} catch (e) {
  done({ error: String(e) });
}
"#;

/// Page script: scroll the element at `arguments[0]` (or its nearest scrolling ancestor) up from its bottom by
/// `arguments[1]` px per frame (0: one viewport) until the top, 600 frames or 10 s, and report the frame times.
///
/// It reports plain finite numbers or `{error}`, and reports exactly once, also when something throws (no
/// element, nothing to scroll, an exception inside a frame) or when frames stop coming (a 15 s guard): a script
/// that throws makes WebKitWebDriver fail with "Could not parse script result" instead of saying why.
const SCROLL_TO_TOP: &str = r#"
const [xpath, stepPx, done] = arguments;
let reported = false;
const report = (value) => { if (!reported) { reported = true; done(value); } };
const finite = (x) => (Number.isFinite(x) ? +x.toFixed(1) : null);
try {
  const root = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  let scroller = root;
  while (scroller && scroller.scrollHeight <= scroller.clientHeight + 1) scroller = scroller.parentElement;
  if (!root) {
    report({ error: `nothing at ${xpath}` });
  } else if (!scroller) {
    report({ error: `nothing to scroll at ${xpath} (scrollHeight ${root.scrollHeight}, clientHeight ${root.clientHeight})` });
  } else {
    scroller.scrollTop = scroller.scrollHeight;
    const start = scroller.scrollTop;
    const began = performance.now();
    const frames = [];
    let last = began;
    const summary = (timedOut) => {
      const sorted = frames.slice(1).sort((a, b) => a - b);
      const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
      return {
        frames: sorted.length, reachedTop: scroller.scrollTop <= 0, timedOut,
        pixels: finite(start - scroller.scrollTop), scrollHeight: finite(scroller.scrollHeight),
        medianMs: finite(pick(0.5)), p95Ms: finite(pick(0.95)), maxMs: finite(sorted[sorted.length - 1]),
      };
    };
    setTimeout(() => report(summary(true)), 15000);
    const step = () => {
      try {
        const now = performance.now();
        frames.push(now - last);
        last = now;
        if (frames.length > 2 && (scroller.scrollTop <= 0 || frames.length >= 600 || now - began > 10000)) {
          report(summary(false));
          return;
        }
        scroller.scrollTop -= stepPx > 0 ? stepPx : scroller.clientHeight;
        requestAnimationFrame(step);
      } catch (e) {
        report({ error: String(e) });
      }
    };
    requestAnimationFrame(step);
  }
} catch (e) {
  report({ error: String(e) });
}
"#;

// ---------------------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() {
    let options = Options::parse();
    FRAMES.store(options.frames, std::sync::atomic::Ordering::Relaxed);
    let rounds = options.rounds;
    let chat = Chat::start().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = memory(&chat.app);

    // The floor, half before the app's rounds and half after, so both see the machine as it was meanwhile.
    let mut floor = Latency::default();
    let floor_first = rounds.div_ceil(2);
    let floor_available = floor_rounds(&chat, floor_first, 0, &mut floor).await.is_some();

    // Model chunk to paint, in the app, three ways each round: a reply's first delta at once (the fake answers
    // about 20 ms after the CLI asked: while the frame that shows the user's message is still being drawn), its
    // first delta after a model's time to first token, and a delta in the middle of a reply.
    chat.new_session().await;
    let mut first_at_once = Latency::default();
    let mut first_after_ttft = Latency::default();
    let mut later = Latency::default();
    for round in 0..rounds {
        // (the word that asks for it, the marker the reply carries, the reply, where its figures go)
        let (first, ttft, mid) =
            (format!("FIRST-{round}-MARK"), format!("TTFT-{round}-MARK"), format!("LATER-{round}-MARK"));
        let kinds: [(&str, &str, Reply, &mut Latency); 3] = [
            (
                "paint",
                &first,
                Reply::text_in_chunks(&format!("{first} and then the rest of a short answer."), 4),
                &mut first_at_once,
            ),
            (
                "ttft",
                &ttft,
                Reply::text_in_chunks(&format!("{ttft} and then the rest of a short answer."), 4)
                    .with_first_delay(TIME_TO_FIRST_TOKEN),
                &mut first_after_ttft,
            ),
            (
                "later",
                &mid,
                Reply::chunks(["A reply begins. ".to_owned(), format!("{mid} and more.")]).with_delay(BETWEEN_CHUNKS),
                &mut later,
            ),
        ];
        for (kind, marker, reply, latency) in kinds {
            chat.github.when_once(Match::user_contains(format!("{kind} {round} please")), reply);
            let streams_before = chat.github.stream_timings().len();
            arm_paint_probe(&chat.app, marker).await;
            let send_at = now_ms();
            chat.send(&format!("{kind} {round} please")).await;
            let sent_at = now_ms();
            let paint = painted(&chat.app).await;
            chat.wait_idle().await;
            let timing = chat.github.stream_timings()[streams_before..]
                .iter()
                .find(|t| t.first_content.is_some())
                .copied()
                .expect("the reply streamed");
            // The marker is in the first chunk, or (later) in the last.
            let chunk = if kind == "later" { timing.last_content } else { timing.first_content };
            let chunk = wall_ms(chunk.expect("the chunk's time"));
            if options.frames {
                let frames: Vec<String> = paint
                    .frames
                    .iter()
                    .map(|(start, end, mutations)| format!("{:.0}..{:.0} ({mutations})", start - chunk, end - chunk))
                    .collect();
                let gaps: Vec<String> =
                    paint.gaps.iter().map(|(from, to)| format!("{:.0}..{:.0}", from - chunk, to - chunk)).collect();
                eprintln!(
                    "[bench] {kind} {round}: frames around it, ms from the chunk (DOM changes): {}; main thread busy: {}; in the DOM {:.0}, painted {:.0}",
                    frames.join(" "),
                    gaps.join(" "),
                    paint.in_dom - chunk,
                    paint.painted - chunk
                );
            }
            if options.marks {
                eprintln!(
                    "[marks] {kind} {round}: send {send_at:.1} sent {sent_at:.1} chunk {chunk:.1} in_dom {:.1} painted {:.1} latency {:.1}",
                    paint.in_dom,
                    paint.painted,
                    paint.painted - chunk
                );
            }
            latency.push(chunk, paint);
        }
    }

    if options.frame_cost {
        frame_costs(&chat).await;
    }

    // Each part's figures go to stderr as soon as they are in, so a run that fails later still leaves them.
    eprintln!(
        "[bench] latency medians (ms): first delta at once {:.1}, after the time to first token {:.1}, later {:.1}; \
         floor so far {:.1}",
        median(first_at_once.painted.clone()),
        median(first_after_ttft.painted.clone()),
        median(later.painted.clone()),
        median(floor.painted.clone())
    );

    // Throughput: 3,000 deltas.
    let mut rates = Vec::new();
    let mut lossless = true;
    for round in 0..rounds.min(3) {
        // A fresh session each round, so the only answer on screen is this round's.
        chat.new_session().await;
        chat.github.when_once(Match::user_contains(format!("flood {round}")), Reply::many_deltas(FLOOD));
        let streams_before = chat.github.stream_timings().len();
        let last_word = format!("w{} ", FLOOD - 1);
        arm_paint_probe(&chat.app, last_word.trim_end()).await;
        chat.send(&format!("flood {round} please")).await;
        let paint = painted(&chat.app).await;
        chat.wait_idle().await;
        let timing = chat.github.stream_timings()[streams_before..]
            .iter()
            .find(|t| t.first_content.is_some())
            .copied()
            .unwrap_or_else(|| {
                panic!(
                    "flood streamed; timings {:?} (from {streams_before}), streams {:?}",
                    chat.github.stream_timings(),
                    chat.github.stream_counts()
                )
            });
        let seconds = (paint.painted - wall_ms(timing.first_content.unwrap())) / 1000.0;
        rates.push(FLOOD as f64 / seconds);
        let shown = chat.app.text(&copilot_messages().last()).await.unwrap_or_default();
        let expected = many_deltas_text(FLOOD);
        if shown.split_whitespace().collect::<Vec<_>>() != expected.split_whitespace().collect::<Vec<_>>() {
            lossless = false;
            eprintln!("[bench] flood {round}: the shown text differs from what was streamed");
        }
    }

    if floor_available {
        floor_rounds(&chat, rounds - floor_first, floor_first, &mut floor).await;
    }

    let soak =
        if options.soak_turns > 0 { Some(soak(&chat, options.soak_turns, options.soak_diag).await) } else { None };

    // Long sessions: grow the stored session of the paint rounds, restart the app, open it.
    let session_dir = std::fs::read_dir(chat.app.home().session_state_dir())
        .expect("session-state")
        .flatten()
        .find(|e| std::fs::read_to_string(e.path().join("events.jsonl")).is_ok_and(|t| t.contains("paint 0 please")))
        .expect("the stored session of the paint rounds")
        .path();
    let mut chat = chat;
    let mut histories = Vec::new();
    for &events in &options.histories {
        let (next, figures) = history(chat, &session_dir, events).await;
        chat = next;
        eprintln!(
            "[bench] {events} events: opened in {:.0} ms; scrolling, transcript/floor medians: wheel {:.2}×, a screen \
             per frame {:.2}×",
            figures.open_ms,
            figures.scrolls.wheel.median() / figures.scrolls.static_wheel.median(),
            figures.scrolls.page.median() / figures.scrolls.static_page.median()
        );
        histories.push(figures);
    }
    let idle_api = chat.app.eval("return typeof requestIdleCallback === 'function';", vec![]).await;

    // The report.
    let profile = if cfg!(debug_assertions) { "a debug build of the benchmark" } else { "a release build" };
    println!(
        "UI benchmark ({rounds} rounds; the app under test: {}; {profile}; medians over rounds)",
        copilot_desktop_tests::app::app_binary().display()
    );
    let line =
        |label: &str, v: &[f64]| format!("{label:<44} median {:>7.1} ms   all {:?}", median(v.to_vec()), rounded(v));
    println!("  latency: a model chunk → painted");
    for (label, latency) in [
        ("a reply's first delta, the model answering at once", &first_at_once),
        (
            &*format!("a reply's first delta after {} ms to the first token", TIME_TO_FIRST_TOKEN.as_millis()),
            &first_after_ttft,
        ),
        (&*format!("a later delta, {} ms after the one before", BETWEEN_CHUNKS.as_millis()), &later),
    ] {
        println!("    {label}:");
        println!("{}", line("      model chunk → painted", &latency.painted));
        println!("{}", line("        of which: model chunk → in the DOM", &latency.in_dom));
        println!("{}", line("        (read as before: → next frame began)", &latency.next_frame));
    }
    if floor_available {
        println!("  the floor: Rust sends on a Channel → painted, a page that does nothing else");
        println!("{}", line("    Rust send → painted", &floor.painted));
        println!("{}", line("      of which: Rust send → in the DOM", &floor.in_dom));
        let above = |latency: &Latency| median(latency.painted.clone()) - median(floor.painted.clone());
        println!(
            "    the app above the floor (goal: at most +16 ms): first delta at once {:+.1} ms, after the time to \
             first token {:+.1} ms, a later delta {:+.1} ms",
            above(&first_at_once),
            above(&first_after_ttft),
            above(&later)
        );
    } else {
        println!("  the floor: not measured (the app was built without `--features bench`)");
    }
    println!(
        "  streaming throughput       median {:>8.0} deltas/s (3,000 deltas; every word shown once, in order: {lossless})   all {:?}",
        median(rates.clone()),
        rounded(&rates)
    );
    if let Some(soak) = &soak {
        let turns = soak.turn_ms.len();
        println!(
            "  soak: {turns} turns with a shell command each in one session (median turn {:.0} ms; permission dialogs answered: {})",
            median(soak.turn_ms.clone()),
            soak.prompts_answered
        );
        println!("    after turns     app MiB   WebKit MiB   total MiB");
        for (n, m) in &soak.checkpoints {
            println!("    {n:>11} {:>11.1} {:>12.1} {:>11.1}", m.app, m.webkit, m.total());
        }
        if let Some(m) = &soak.left {
            println!("    {:>11} {:>11.1} {:>12.1} {:>11.1}", "left it", m.app, m.webkit, m.total());
        }
        if let (Some((50, base)), Some((n, end))) =
            (soak.checkpoints.iter().find(|(n, _)| *n == 50), soak.checkpoints.last())
            && *n > 50
        {
            let growth = |a: f64, b: f64| (b - a) / a * 100.0;
            println!(
                "    growth from 50 to {n} turns: app {:+.1} %, WebKit {:+.1} %, total {:+.1} % (goal: at most +10 %)",
                growth(base.app, end.app),
                growth(base.webkit, end.webkit),
                growth(base.total(), end.total())
            );
        }
    }
    for h in &histories {
        println!(
            "  open a {}-event session  {:>8.1} ms to its last screen, {:.1} ms to all of it ({} items in the DOM after opening)",
            h.events, h.open_ms, h.settled_ms, h.in_dom
        );
        println!(
            "    the CLI alone resumes it in {:.1} ms, and hands over its stored events in {:.1} ms more; \
             all of it is {:+.1} ms over the resume (goal: at most +100 ms); the app read the history {}",
            h.cli_resume_ms.0,
            h.cli_resume_ms.1,
            h.settled_ms - h.cli_resume_ms.0,
            if h.from_journal { "from the journal, confirmed by the CLI" } else { "from the CLI, in pages" }
        );
        println!(
            "    CPU while opening: UI {:.1} s, CLI {:.1} s; CPU in each scrolling pass: {}",
            h.cpu_open.0,
            h.cpu_open.1,
            h.cpu_passes.join("; ")
        );
        let s = &h.scrolls;
        println!(
            "    scroll up 120 px per frame (a mouse wheel), ms per frame, median and p95 of {SCROLL_PASSES} passes:"
        );
        println!("      the transcript                         {}", s.wheel.summary());
        println!("      a static copy of its rows (the floor)  {}", s.static_wheel.summary());
        println!("      the copy hidden (nothing to paint)     {}", s.hidden_wheel.summary());
        println!("    scroll up a screen per frame:");
        println!("      the transcript                         {}", s.page.summary());
        println!("      a static copy of its rows (the floor)  {}", s.static_page.summary());
        println!(
            "    transcript / floor, medians: wheel {:.2}×, a screen per frame {:.2}× (goal: at most 1.35×)",
            s.wheel.median() / s.static_wheel.median(),
            s.page.median() / s.static_page.median()
        );
        println!(
            "    the transcript's first passes, before the static copy was laid (not in the comparison), ms per frame:"
        );
        println!("      120 px per frame (a mouse wheel)       {}", h.first_passes.0.summary());
        println!("      a screen per frame                     {}", h.first_passes.1.summary());
        let idle = &h.memory_idle;
        println!(
            "    memory with it open, over this launch's idle ({:.1} MiB: app {:.1} MiB, WebKit {:.1} MiB; goal: the app's own scrolling at most +100 MiB):",
            idle.total(),
            idle.app,
            idle.webkit
        );
        println!("      {:<52} {:>9}   {:>9}   {:>9}", "", "total", "app", "WebKit");
        for (label, m) in [
            ("opened, before scrolling", &h.memory_opened),
            ("after the app's own scrolling (the goal's figure)", &h.memory_scrolled),
            ("at the end, with the benchmark's static copy's cost", &h.memory_end),
        ] {
            println!(
                "      {label:<52} {:>+9.1}   {:>+9.1}   {:>+9.1}   MiB ({:.1} MiB in all)",
                m.total() - idle.total(),
                m.app - idle.app,
                m.webkit - idle.webkit,
                m.total()
            );
        }
    }
    println!("  (the webview has requestIdleCallback: {idle_api})");
    println!(
        "  idle memory, connected, the first launch  {:>8.1} MiB (app process {:.1} MiB, WebKit {:.1} MiB)",
        idle.total(),
        idle.app,
        idle.webkit
    );
}
