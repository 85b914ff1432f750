//! Standing permission rules (src-tauri/src/engine/rules.rs) against the real Copilot CLI: what
//! "Allow in this project" stores, that the CLI honours it in the next session there and nowhere
//! else, that removing it brings the question back, and that a deny rule stops a command
//! without a question. Timeouts are hang guards only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use copilot_desktop::engine::permissions::AskerGuard;
use copilot_desktop::engine::{
    ChatEvent, ChatEventKind, Engine, EngineConfig, NewProjectApproval, NewSession, PermissionAnswer, PermissionPrompt,
    PromptDetails, PromptEvent, RestartPolicy, StandingRules, ToolRule,
};
use copilot_desktop_tests::cli::TestHome;
use copilot_desktop_tests::engine_setup::{bundled, byok};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, FakeModel, Match, Reply};
use serde_json::json;

const HANG_GUARD: Duration = Duration::from_secs(90);

struct Harness {
    home: TestHome,
    model: FakeModel,
    engine: Engine,
    rules: StandingRules,
    /// Every prompt the CLI raised, answered with `answer`.
    asked: Arc<Mutex<Vec<PermissionPrompt>>>,
    answer: Arc<Mutex<PermissionAnswer>>,
    _asker: AskerGuard,
}

impl Harness {
    async fn start() -> Self {
        let home = TestHome::new();
        let model = FakeModel::start().await;
        let target = bundled(&home);
        let sessions = byok(&model);
        let engine =
            Engine::start(EngineConfig { target: target.clone(), restart: RestartPolicy::default(), sessions });
        engine.supervisor.connected(HANG_GUARD).await.expect("engine connects to the real CLI");
        let rules = StandingRules::new(
            &target,
            home.root().join("app/deny-rules.json"),
            engine.sessions.clone(),
            engine.supervisor.clone(),
        );
        let asker = engine.broker.attach_asker();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(PermissionAnswer::Reject { feedback: Some("not now".into()) }));
        let mut prompts = engine.broker.subscribe();
        let (broker, seen, decision) = (engine.broker.clone(), asked.clone(), answer.clone());
        tokio::spawn(async move {
            while let Ok(event) = prompts.recv().await {
                if let PromptEvent::PermissionRequested { prompt } = event {
                    seen.lock().unwrap().push(prompt.clone());
                    let answer = decision.lock().unwrap().clone();
                    broker.decide(&prompt.request_id, answer).await.expect("decide");
                }
            }
        });
        Self { home, model, engine, rules, asked, answer, _asker: asker }
    }

    fn answer_with(&self, answer: PermissionAnswer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn asked(&self) -> usize {
        self.asked.lock().unwrap().len()
    }

    fn folder(&self, name: &str) -> std::path::PathBuf {
        let dir = self.home.root().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A new session in `folder` whose one turn asks the model for `prompt`; its events.
    async fn turn_in(&self, folder: std::path::PathBuf, prompt: &str) -> Vec<ChatEvent> {
        let summary = self
            .engine
            .sessions
            .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: folder })
            .await
            .expect("create session");
        let mut stream = self.engine.sessions.subscribe(&summary.id).await.expect("subscribe");
        self.engine.sessions.send(&summary.id, prompt).await.expect("send");
        let mut out = Vec::new();
        let collect = async {
            while let Some(batch) = stream.next_batch().await {
                let idle = batch.iter().any(|e| matches!(e.kind, ChatEventKind::Idle));
                out.extend(batch);
                if idle {
                    return;
                }
            }
        };
        tokio::time::timeout(HANG_GUARD, collect).await.expect("the turn finished");
        out
    }
}

fn tool_result(events: &[ChatEvent]) -> (bool, String) {
    events
        .iter()
        .find_map(|e| match &e.kind {
            ChatEventKind::ToolCompleted { success, output, error, .. } => {
                Some((*success, format!("{}{}", output.clone().unwrap_or_default(), error.clone().unwrap_or_default())))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no tool completed in {events:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_in_this_project_holds_for_the_next_session_there_only_until_removed() {
    let h = Harness::start().await;
    let project = h.folder("project");
    h.model.when(Match::user_contains("run the tests"), Reply::shell("echo ran-$((6*7)) >> ran.txt"));

    h.answer_with(PermissionAnswer::ApproveForLocation);
    let first = h.turn_in(project.clone(), "run the tests").await;
    assert_eq!(h.asked(), 1, "the first session asks");
    let prompt = h.asked.lock().unwrap()[0].clone();
    assert!(prompt.can_approve_for_location, "a shell command offers a project approval: {prompt:?}");
    assert!(matches!(prompt.details, PromptDetails::Shell { .. }));
    assert!(tool_result(&first).0, "approved, so it ran");

    // What the page shows is what the CLI wrote.
    let overview = h.rules.overview().expect("overview");
    assert_eq!(overview.project_approvals.len(), 1, "{overview:?}");
    let stored = overview.project_approvals[0].clone();
    assert_eq!(stored.location, project.display().to_string());
    assert_eq!(stored.label, "shell(echo ran-$((6*7)) >> ran.txt)", "as the CLI identified the command: {stored:?}");
    assert!(overview.project_file.ends_with("permissions-config.json"));
    let file = std::fs::read_to_string(h.home.copilot_home().join("permissions-config.json")).unwrap();
    assert!(file.contains("tool_approvals"), "{file}");

    h.answer_with(PermissionAnswer::Reject { feedback: Some("no".into()) });
    let second = h.turn_in(project.clone(), "run the tests").await;
    assert_eq!(h.asked(), 1, "a second session in the same folder does not ask");
    assert!(tool_result(&second).0, "and the command ran");
    assert_eq!(std::fs::read_to_string(project.join("ran.txt")).unwrap(), "ran-42\nran-42\n");

    let elsewhere = h.folder("elsewhere");
    let third = h.turn_in(elsewhere.clone(), "run the tests").await;
    assert_eq!(h.asked(), 2, "a session in another folder still asks");
    assert!(!tool_result(&third).0);
    assert!(!elsewhere.join("ran.txt").exists());

    h.rules.remove_project_approval(&stored.location, &stored.approval).expect("remove");
    assert!(h.rules.overview().unwrap().project_approvals.is_empty());
    assert!(h.rules.remove_project_approval(&stored.location, &stored.approval).is_err(), "gone means gone");
    let fourth = h.turn_in(project.clone(), "run the tests").await;
    assert_eq!(h.asked(), 3, "after removing the rule the same folder asks again");
    assert!(!tool_result(&fourth).0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_added_by_hand_allows_and_a_deny_rule_stops_without_asking() {
    let h = Harness::start().await;
    let project = h.folder("project");
    h.model.when(Match::user_contains("status please"), Reply::shell("git status"));
    h.model.when(Match::user_contains("clean up"), Reply::shell("rm -f keep.txt"));
    std::fs::write(project.join("keep.txt"), "keep").unwrap();

    // By hand: allow `git status` in the project.
    let bad = h.rules.add_project_approval(NewProjectApproval {
        location: "relative/path".into(),
        kind: "shell".into(),
        argument: Some("git status".into()),
    });
    assert!(bad.unwrap_err().to_string().contains("full path"));
    h.rules
        .add_project_approval(NewProjectApproval {
            location: project.display().to_string(),
            kind: "shell".into(),
            argument: Some("git status".into()),
        })
        .expect("add");
    assert_eq!(h.rules.overview().unwrap().project_approvals[0].label, "shell(git status)");
    let status = h.turn_in(project.clone(), "status please").await;
    assert_eq!(h.asked(), 0, "the hand-made approval is the CLI's own: no question");
    assert!(tool_result(&status).1.contains("git"), "git status ran: {:?}", tool_result(&status));

    // Deny `rm` everywhere.
    assert!(h.rules.add_deny_rule(ToolRule { kind: "shell".into(), argument: None }).await.is_err());
    h.rules.add_deny_rule(ToolRule { kind: "shell".into(), argument: Some("rm".into()) }).await.expect("deny");
    let overview = h.rules.overview().unwrap();
    assert_eq!(overview.deny_rules, vec![ToolRule { kind: "shell".into(), argument: Some("rm".into()) }]);
    h.answer_with(PermissionAnswer::ApproveOnce);
    let denied = h.turn_in(project.clone(), "clean up").await;
    assert_eq!(h.asked(), 0, "a deny rule stops the command without a question");
    let (success, text) = tool_result(&denied);
    assert!(!success && text.contains("shell(rm)"), "the CLI names the rule: {text}");
    assert!(project.join("keep.txt").exists(), "the file was not removed");

    h.rules.remove_deny_rule(ToolRule { kind: "shell".into(), argument: Some("rm".into()) }).await.expect("remove");
    let asked_again = h.turn_in(project.clone(), "clean up").await;
    assert_eq!(h.asked(), 1, "without the deny rule the command is asked about again");
    assert!(tool_result(&asked_again).0);
    assert!(!project.join("keep.txt").exists(), "approved once, it ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_and_trusted_folders_are_read_from_and_written_to_the_cli_files() {
    let h = Harness::start().await;
    h.rules.add_url("docs.github.com", true).expect("allow url");
    h.rules.add_url("evil.example", false).expect("deny url");
    assert!(h.rules.add_url("two words", true).is_err());
    let settings = std::fs::read_to_string(h.home.copilot_home().join("settings.json")).unwrap();
    assert!(settings.contains("\"allowedUrls\"") && settings.contains("docs.github.com"), "{settings}");
    let overview = h.rules.overview().unwrap();
    assert_eq!(overview.allowed_urls, vec!["docs.github.com".to_string()]);
    assert_eq!(overview.denied_urls, vec!["evil.example".to_string()]);
    h.rules.remove_url("docs.github.com", true).expect("remove url");
    assert!(h.rules.overview().unwrap().allowed_urls.is_empty());

    // A folder the CLI itself trusted shows, and can be removed.
    let folder = h.folder("trusted");
    let summary = h
        .engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: folder.clone() })
        .await
        .unwrap();
    h.rules.trust_folder(&summary.id, &folder.display().to_string()).await.expect("trust through the CLI");
    let config = std::fs::read_to_string(h.home.copilot_home().join("config.json")).unwrap();
    assert!(config.contains("trustedFolders"), "{config}");
    assert_eq!(h.rules.overview().unwrap().trusted_folders, vec![folder.display().to_string()]);
    assert!(h.rules.is_trusted(&summary.id, &folder.display().to_string()).await.unwrap());
    h.rules.remove_trusted_folder(&folder.display().to_string()).expect("untrust");
    assert!(h.rules.overview().unwrap().trusted_folders.is_empty());
    // The running CLI keeps what it read at start; a restarted one reads the file again.
    h.engine.supervisor.restart(None);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    h.engine.supervisor.connected(HANG_GUARD).await.unwrap();
    let fresh = h
        .engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: h.home.work_dir() })
        .await
        .unwrap();
    assert!(
        !h.rules.is_trusted(&fresh.id, &folder.display().to_string()).await.unwrap(),
        "the restarted CLI no longer trusts it"
    );
    let config = std::fs::read_to_string(h.home.copilot_home().join("config.json")).unwrap();
    assert!(config.starts_with("//"), "the CLI's header comment stays: {config}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_urls_are_the_clis_own_and_hold_in_new_sessions_until_removed() {
    let h = Harness::start().await;
    // "Always allow this domain" in the dialog: the CLI writes it, the page reads it.
    h.model.when(
        Match::user_contains("fetch local"),
        Reply::tool_call("web_fetch", json!({"url": "https://127.0.0.1:9/x"})),
    );
    h.answer_with(PermissionAnswer::ApprovePermanently);
    h.turn_in(h.home.work_dir(), "fetch local").await;
    assert_eq!(h.asked(), 1);
    assert!(matches!(h.asked.lock().unwrap()[0].details, PromptDetails::Url { .. }));
    assert_eq!(h.rules.overview().unwrap().allowed_urls, vec!["https://127.0.0.1".to_string()], "as the CLI stored it");
    h.rules.remove_url("https://127.0.0.1", true).unwrap();

    // One added on the page holds in new sessions (the app hands the list to each), until removed.
    h.answer_with(PermissionAnswer::Reject { feedback: None });
    h.model.when(
        Match::user_contains("fetch docs"),
        Reply::tool_call("web_fetch", json!({"url": "https://example.com/docs"})),
    );
    h.rules.add_url("example.com", true).unwrap();
    h.turn_in(h.home.work_dir(), "fetch docs").await;
    assert_eq!(h.asked(), 1, "an allowed domain is not asked about");
    h.rules.remove_url("example.com", true).unwrap();
    h.turn_in(h.home.work_dir(), "fetch docs").await;
    assert_eq!(h.asked(), 2, "removed on the page: asked again");
}
