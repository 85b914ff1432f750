//! Benchmark: the chat UI in the built app, in the real webview, with the real CLI signed in to
//! the fake GitHub + Copilot API. Measures what a user feels:
//!
//! * first delta to paint: the fake model sends a reply's first chunk (wall clock) → the first
//!   animation frame after that text is in the transcript (the webview's wall clock);
//! * streaming throughput: 3,000 one-word deltas → the deltas per second the transcript shows,
//!   and whether every word arrived exactly once, in order;
//! * opening a 10,000-event session: click in the sidebar → its last message on screen (first
//!   paint), and → the whole history in and the session ready (the transcript no longer busy),
//!   next to the CLI's own time to resume that session; then scrolling it up from the bottom
//!   (frame times), in passes interleaved with a static copy of the same rows, which gives the
//!   webview's own cost per frame on the machine at hand;
//! * idle memory: resident memory of the app and its WebKit processes, idle after connecting
//!   and again with the 10,000-event session open, before and after scrolling through it.
//!
//! Needs the app built (`cd ui && npm run build`, `cargo build -p copilot-desktop`) and a display:
//! `xvfb-run -a dbus-run-session -- cargo run -p copilot-desktop-tests --bin bench_ui [-- ROUNDS]`.
//! Figures are for whichever profile of the app is under test (`COPILOT_DESKTOP_APP` to choose).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
const HISTORY_EVENTS: usize = 10_000;

/// Page script: arm a probe that resolves `window.__benchPainted` with the wall-clock time (ms)
/// of the first animation frame after the transcript's text contains `arguments[0]`.
const ARM_PAINT_PROBE: &str = r#"
const [needle, xpath] = arguments;
let done;
window.__benchPainted = new Promise((resolve) => { done = resolve; });
const root = () => document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
// The last assistant message only: earlier rounds' answers may hold the same text.
const last = () => { const r = root(); const all = r ? r.querySelectorAll('article[aria-label="Copilot"]') : []; return all[all.length - 1]; };
const check = () => {
  const r = last();
  if (r && r.innerText.includes(needle)) {
    requestAnimationFrame(() => done(performance.timeOrigin + performance.now()));
    return true;
  }
  return false;
};
if (!check()) {
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
}
"#;

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

fn wall_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

/// Resident memory (MiB) of the app and every process under it (WebKit's web and network
/// processes), summed; plus the app's own.
fn memory(app: &AppUnderTest) -> (f64, f64) {
    let rss = |pid: u32| -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
            .unwrap_or(0.0)
            / 1024.0
    };
    // The CLI is not part of the UI's cost.
    let ui: f64 = app_processes(app).into_iter().filter(|(_, cli)| !cli).map(|(pid, _)| rss(pid)).sum();
    (ui, rss(app.app_process().pid))
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
/// the Copilot CLI (an executable named copilot*, not copilot-desktop).
fn app_processes(app: &AppUnderTest) -> Vec<(u32, bool)> {
    let root = app.app_process().pid;
    std::iter::once(root)
        .chain(processes::descendants(root))
        .map(|pid| {
            let name = processes::read(pid)
                .and_then(|p| p.exe)
                .and_then(|e| e.file_name().map(|n| n.to_string_lossy().into_owned()));
            (pid, name.is_some_and(|n| n.starts_with("copilot") && !n.starts_with("copilot-desktop")))
        })
        .collect()
}

/// Start watching the page for `needle`; [`painted`] then waits for it.
async fn arm_paint_probe(app: &AppUnderTest, needle: &str) {
    app.eval(ARM_PAINT_PROBE, vec![json!(needle), json!(TRANSCRIPT)]).await;
}

/// The wall-clock time (ms) of the frame that first showed the armed probe's text.
async fn painted(app: &AppUnderTest) -> f64 {
    let value = app
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.__benchPainted.then(done); setTimeout(() => done(null), 20000);",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("waiting for the paint probe failed: {e}"));
    if value.is_null() {
        let text = app.eval("const r = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; return [window.__benchDebug, r ? r.innerText.slice(-300) : 'no transcript'];", vec![json!(TRANSCRIPT)]).await;
        panic!("the paint probe gave up; page: {text}");
    }
    value.as_f64().expect("a time")
}

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

/// Rewrite a stored session so it holds `target` events: its last turn repeated with fresh ids,
/// each a new question and answer (the CLI's own event format, as it wrote it).
fn grow_session(events_file: &Path, target: usize) -> usize {
    let text = std::fs::read_to_string(events_file).expect("read events.jsonl");
    let mut events: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let shutdown: Vec<Value> = events.iter().filter(|e| e["type"] == "session.shutdown").cloned().collect();
    events.retain(|e| e["type"] != "session.shutdown");
    let start = events.iter().rposition(|e| e["type"] == "user.message").expect("a user message");
    let turn: Vec<Value> = events[start..].to_vec();
    let mut n = 0;
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

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let chat = Chat::start().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle_total, idle_app) = memory(&chat.app);

    // First delta to paint.
    chat.new_session().await;
    let mut first_paint = Vec::new();
    for round in 0..rounds {
        let marker = format!("FIRST-{round}-MARK");
        let reply = format!("{marker} and then the rest of a short answer.");
        chat.github.when_once(Match::user_contains(format!("paint {round}")), Reply::text_in_chunks(&reply, 4));
        let streams_before = chat.github.stream_timings().len();
        arm_paint_probe(&chat.app, &marker).await;
        chat.send(&format!("paint {round} please")).await;
        let painted = painted(&chat.app).await;
        chat.wait_idle().await;
        let timing = chat.github.stream_timings()[streams_before..]
            .iter()
            .find_map(|t| t.first_content)
            .expect("the reply streamed");
        first_paint.push(painted - wall_ms(timing));
    }

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
        let painted = painted(&chat.app).await;
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
        let seconds = (painted - wall_ms(timing.first_content.unwrap())) / 1000.0;
        rates.push(FLOOD as f64 / seconds);
        let shown = chat.app.text(&copilot_messages().last()).await.unwrap_or_default();
        let expected = many_deltas_text(FLOOD);
        if shown.split_whitespace().collect::<Vec<_>>() != expected.split_whitespace().collect::<Vec<_>>() {
            lossless = false;
            eprintln!("[bench] flood {round}: the shown text differs from what was streamed");
        }
    }

    // A 10,000-event session: grow the stored session, restart the app, open it.
    let session_dir = std::fs::read_dir(chat.app.home().session_state_dir())
        .expect("session-state")
        .flatten()
        .find(|e| std::fs::read_to_string(e.path().join("events.jsonl")).is_ok_and(|t| t.contains("paint 0 please")))
        .expect("the stored session of the paint rounds")
        .path();
    let Chat { app, github } = chat;
    let mut turns = 0;
    let app = app
        .relaunch_after(launch_options(&github), |_| {
            turns = grow_session(&session_dir.join("events.jsonl"), HISTORY_EVENTS)
        })
        .await;
    eprintln!("[bench] stored session grown to {HISTORY_EVENTS} events ({turns} synthetic turns)");
    let chat = Chat { app, github };
    chat.wait_connected().await;
    let session_id = session_dir.file_name().expect("a session folder").to_string_lossy().into_owned();
    let (cli_resume, cli_stored) = cli_resume_ms(chat.app.home(), &chat.github, &session_id).await;
    let last_answer = format!("Synthetic answer {turns}:");
    arm_paint_probe(&chat.app, &last_answer).await;
    chat.app.eval(ARM_SETTLED_PROBE, vec![json!(last_answer), json!(TRANSCRIPT)]).await;
    let cpu_before_open = cpu_seconds(&chat.app);
    let started = now_ms();
    let row = Target::xpath("//nav[@aria-label='Sessions']//li//button[contains(., 'paint 0')]", "the grown session");
    chat.app.click(&row, HANG_GUARD).await;
    let open_ms = painted(&chat.app).await - started;
    let settled_ms = settled(&chat.app).await - started;
    let cpu_opened = cpu_seconds(&chat.app);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (opened_total, opened_app) = memory(&chat.app);
    // Scrolling, in passes that interleave the transcript with a static copy of the same rows (no virtual
    // list, no script per frame) and that copy hidden (nothing to paint): the copy shows what the webview itself
    // needs per frame on this machine at this moment, to read the list's own cost against.
    chat.app.eval(STATIC_COPY, vec![json!(TRANSCRIPT)]).await;
    let mut scrolls = ScrollFigures::default();
    let mut cpu_passes = Vec::new();
    for _ in 0..SCROLL_PASSES {
        let cpu_pass = cpu_seconds(&chat.app);
        show_static_copy(&chat.app, "none").await;
        scrolls.wheel.push(scroll_to_top(&chat.app, TRANSCRIPT, 120).await);
        scrolls.page.push(scroll_to_top(&chat.app, TRANSCRIPT, 0).await);
        show_static_copy(&chat.app, "shown").await;
        scrolls.static_wheel.push(scroll_to_top(&chat.app, STATIC_COPY_XPATH, 120).await);
        scrolls.static_page.push(scroll_to_top(&chat.app, STATIC_COPY_XPATH, 0).await);
        show_static_copy(&chat.app, "hidden").await;
        scrolls.hidden_wheel.push(scroll_to_top(&chat.app, STATIC_COPY_XPATH, 120).await);
        let cpu_done = cpu_seconds(&chat.app);
        cpu_passes.push(format!("UI {:.1} s, CLI {:.1} s", cpu_done.0 - cpu_pass.0, cpu_done.1 - cpu_pass.1));
    }
    chat.app.eval("document.getElementById('bench-static-copy').remove();", vec![]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (open_total, open_app) = memory(&chat.app);
    let idle_api = chat.app.eval("return typeof requestIdleCallback === 'function';", vec![]).await;
    let in_dom = chat.app.count(&Target::xpath(&format!("{TRANSCRIPT}//article"), "rendered items")).await;

    println!(
        "UI benchmark ({rounds} rounds; the app under test: {})",
        copilot_desktop_tests::app::app_binary().display()
    );
    println!(
        "  first delta to paint       median {:>8.1} ms   all {:?}",
        median(first_paint.clone()),
        rounded(&first_paint)
    );
    println!(
        "  streaming throughput       median {:>8.0} deltas/s (3,000 deltas; every word shown once, in order: {lossless})   all {:?}",
        median(rates.clone()),
        rounded(&rates)
    );
    println!(
        "  open 10,000-event session  {:>8.1} ms to its last screen, {settled_ms:.1} ms to all of it ({in_dom} items in the DOM after opening)",
        open_ms
    );
    println!(
        "    the CLI alone resumes it in {cli_resume:.1} ms, and hands over its stored events in {cli_stored:.1} ms more"
    );
    println!(
        "    CPU while opening: UI {:.1} s, CLI {:.1} s; CPU in each scrolling pass: {}",
        cpu_opened.0 - cpu_before_open.0,
        cpu_opened.1 - cpu_before_open.1,
        cpu_passes.join("; ")
    );
    println!("  scroll up 120 px per frame (a mouse wheel), ms per frame, median and p95 of {SCROLL_PASSES} passes:");
    println!("    the transcript                         {}", scrolls.wheel.summary());
    println!("    a static copy of its rows (the floor)  {}", scrolls.static_wheel.summary());
    println!("    the copy hidden (nothing to paint)     {}", scrolls.hidden_wheel.summary());
    println!("  scroll up a screen per frame:");
    println!("    the transcript                         {}", scrolls.page.summary());
    println!("    a static copy of its rows (the floor)  {}", scrolls.static_page.summary());
    println!("  (the webview has requestIdleCallback: {idle_api})");
    println!("  idle memory, connected     {idle_total:>8.1} MiB (app process {idle_app:.1} MiB, the rest WebKit)");
    println!("  idle memory, 10k open      {opened_total:>8.1} MiB (app process {opened_app:.1} MiB)");
    println!("    after scrolling it       {open_total:>8.1} MiB (app process {open_app:.1} MiB)");
}

fn now_ms() -> f64 {
    wall_ms(SystemTime::now())
}

fn rounded(v: &[f64]) -> Vec<i64> {
    v.iter().map(|x| x.round() as i64).collect()
}

const SCROLL_PASSES: usize = 3;

/// One way of scrolling measured over several passes: each pass's median and p95 frame time.
#[derive(Default)]
struct Passes(Vec<(f64, f64)>);

impl Passes {
    fn push(&mut self, pass: Value) {
        let ms = |key: &str| pass[key].as_f64().unwrap_or_else(|| panic!("{key} in {pass}"));
        self.0.push((ms("medianMs"), ms("p95Ms")));
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
    app.client().execute_async(SCROLL_TO_TOP, vec![json!(xpath), json!(step_px)]).await.expect("scroll script")
}

/// Puts the static copy over the transcript ("shown"), out of the way ("none"), or there but invisible ("hidden").
async fn show_static_copy(app: &AppUnderTest, how: &str) {
    app.eval(
        "const c = document.getElementById('bench-static-copy'); \
         c.style.display = arguments[0] === 'none' ? 'none' : ''; \
         c.style.visibility = arguments[0] === 'hidden' ? 'hidden' : '';",
        vec![json!(how)],
    )
    .await;
}

const STATIC_COPY_XPATH: &str = "//*[@id='bench-static-copy']";

/// Page script: lay a static copy of the transcript's rendered rows (repeated to about 300 rows)
/// over the transcript, in the same scrolling box, so scrolling it costs only layout and paint.
const STATIC_COPY: &str = r#"
const root = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
const rows = [...root.querySelectorAll('.row')];
const copy = root.cloneNode(false);
copy.id = 'bench-static-copy';
copy.removeAttribute('role');
copy.removeAttribute('aria-label');
copy.style.position = 'absolute';
copy.style.inset = '0';
copy.style.background = getComputedStyle(document.body).backgroundColor;
for (let i = 0; copy.childElementCount < 300 && rows.length > 0; i++) copy.append(rows[i % rows.length].cloneNode(true));
root.parentElement.style.position = 'relative';
root.parentElement.append(copy);
"#;

/// Page script: scroll the transcript up from its bottom by `arguments[1]` px per frame (0: one
/// viewport) until the top, 600 frames or 10 s, and report the frame times.
const SCROLL_TO_TOP: &str = r#"
const [xpath, stepPx, done] = arguments;
const root = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
const scroller = (() => { let e = root; while (e && e.scrollHeight <= e.clientHeight + 1) e = e.parentElement; return e || root; })();
scroller.scrollTop = scroller.scrollHeight;
const start = scroller.scrollTop;
const began = performance.now();
const frames = [];
let last = performance.now();
const step = () => {
  const now = performance.now();
  frames.push(now - last);
  last = now;
  if (scroller.scrollTop <= 0 || frames.length >= 600 || now - began > 10000) {
    frames.shift();
    frames.sort((a, b) => a - b);
    const pick = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))];
    done({ frames: frames.length, reachedTop: scroller.scrollTop <= 0, pixels: start - scroller.scrollTop, medianMs: +pick(0.5).toFixed(1), p95Ms: +pick(0.95).toFixed(1), maxMs: +frames[frames.length - 1].toFixed(1), scrollHeight: scroller.scrollHeight });
    return;
  }
  scroller.scrollTop -= stepPx > 0 ? stepPx : scroller.clientHeight;
  requestAnimationFrame(step);
};
requestAnimationFrame(step);
"#;
