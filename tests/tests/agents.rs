//! Custom agents and skills (src-tauri/src/engine/extensions.rs) against the real Copilot CLI:
//! an agent written through the engine is discovered, selected for a session, and its prompt
//! reaches the model; going back to the default agent drops it; a disabled skill is no longer
//! offered to the model. Timeouts are hang guards only.

use std::time::Duration;

use copilot_desktop::engine::{
    AgentDraft, AgentScope, ChatEventKind, Engine, EngineConfig, Extensions, NewSession, RestartPolicy,
};
use copilot_desktop_tests::cli::TestHome;
use copilot_desktop_tests::engine_setup::{bundled, byok};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, FakeModel};

const HANG_GUARD: Duration = Duration::from_secs(90);
const PROMPT_MARK: &str = "You are REVIEWER-7731, who reviews code.";
const SKILL_MARK: &str = "GREETER-SKILL-5150 greets people warmly";

struct Harness {
    home: TestHome,
    model: FakeModel,
    engine: Engine,
    extensions: Extensions,
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
        let extensions = Extensions::new(&target, engine.sessions.clone(), engine.supervisor.clone());
        Self { home, model, engine, extensions }
    }

    async fn session(&self) -> String {
        let request = NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: self.home.work_dir() };
        self.engine.sessions.create(request).await.expect("create session").id
    }

    /// One turn; the bodies of the model requests it made.
    async fn turn(&self, id: &str, text: &str) -> Vec<String> {
        self.model.clear_requests();
        let mut stream = self.engine.sessions.subscribe(id).await.unwrap();
        self.engine.sessions.send(id, text).await.unwrap();
        let done = async {
            while let Some(batch) = stream.next_batch().await {
                if batch.iter().any(|e| matches!(e.kind, ChatEventKind::Idle)) {
                    return;
                }
            }
        };
        tokio::time::timeout(HANG_GUARD, done).await.expect("turn ends");
        self.model.agent_requests().into_iter().map(|r| r.raw_body).collect()
    }
}

fn reviewer(scope: AgentScope, project: Option<String>) -> AgentDraft {
    AgentDraft {
        scope,
        project,
        name: "reviewer".into(),
        description: "Reviews code carefully".into(),
        tools: vec!["read".into(), "shell".into()],
        prompt: PROMPT_MARK.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_written_here_is_discovered_selected_and_its_prompt_reaches_the_model() {
    let h = Harness::start().await;
    let path = h.extensions.write_agent(&reviewer(AgentScope::User, None), false).expect("write");
    assert_eq!(path, h.home.copilot_home().join("agents/reviewer.agent.md"));
    assert!(h.extensions.write_agent(&reviewer(AgentScope::User, None), false).is_err(), "no silent overwrite");
    let project = h.home.work_dir().display().to_string();
    let mut docs = reviewer(AgentScope::Project, Some(project.clone()));
    docs.name = "docs-writer".into();
    docs.prompt = "You write docs.".into();
    let docs_path = h.extensions.write_agent(&docs, false).unwrap();
    assert_eq!(docs_path, h.home.work_dir().join(".github/agents/docs-writer.agent.md"));

    let found = h.extensions.discover_agents(&project).await.expect("agents.discover");
    let by =
        |name: &str| found.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{name} in {found:?}")).clone();
    assert_eq!(by("reviewer").source.as_deref(), Some("user"));
    assert_eq!(by("reviewer").path.as_deref(), Some(path.display().to_string().as_str()));
    assert_eq!(by("reviewer").tools, Some(vec!["read".to_string(), "shell".to_string()]));
    assert_eq!(by("docs-writer").source.as_deref(), Some("project"));

    let id = h.session().await;
    let agents = h.extensions.session_agents(&id).await.expect("session.agent.list");
    assert_eq!(agents.current, None, "a new session starts with the default agent");
    assert!(agents.agents.iter().any(|a| a.name == "reviewer"), "{agents:?}");
    let requests = h.turn(&id, "hello").await;
    assert!(!requests.is_empty() && requests.iter().all(|b| !b.contains(PROMPT_MARK)), "not selected yet");

    let selected = h.extensions.select_agent(&id, Some("reviewer")).await.expect("select");
    assert_eq!(selected.current.as_deref(), Some("reviewer"));
    let requests = h.turn(&id, "review this").await;
    assert!(requests.iter().any(|b| b.contains(PROMPT_MARK)), "the model receives the agent's prompt");

    let back = h.extensions.select_agent(&id, None).await.expect("deselect");
    assert_eq!(back.current, None);
    let requests = h.turn(&id, "and now").await;
    assert!(requests.iter().all(|b| !b.contains(PROMPT_MARK)), "the default agent again");

    assert!(h.extensions.select_agent(&id, Some("nobody")).await.is_err(), "an unknown agent is refused");

    // Edit: the form reads back what was written.
    let draft = h.extensions.read_agent(&path.display().to_string()).expect("read back");
    assert_eq!(draft, reviewer(AgentScope::User, None));
    let draft = h.extensions.read_agent(&docs_path.display().to_string()).expect("read back");
    assert_eq!((draft.scope, draft.project.as_deref()), (AgentScope::Project, Some(project.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_skill_is_no_longer_offered_to_the_model() {
    let h = Harness::start().await;
    let folder = h.home.copilot_home().join("skills/greeter");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("SKILL.md"),
        format!("---\nname: greeter\ndescription: {SKILL_MARK}\n---\nSay hello.\n"),
    )
    .unwrap();
    let project = h.home.work_dir().display().to_string();
    let found = h.extensions.discover_skills(&project).await.expect("skills.discover");
    let greeter = found.iter().find(|s| s.name == "greeter").unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!((greeter.source.as_str(), greeter.description.as_str()), ("personal-copilot", SKILL_MARK));

    let id = h.session().await;
    let skills = h.extensions.session_skills(&id).await.expect("session.skills.list");
    assert!(skills.iter().any(|s| s.name == "greeter" && s.enabled), "{skills:?}");
    assert!(h.turn(&id, "hello").await.iter().any(|b| b.contains(SKILL_MARK)), "an enabled skill is offered");
    assert_eq!(h.extensions.skill_folder(&id, "greeter").await.unwrap(), folder);
    assert!(h.extensions.skill_folder(&id, "../etc").await.is_err());

    let skills = h.extensions.set_skill_enabled(&id, "greeter", false).await.expect("disable");
    assert!(skills.iter().any(|s| s.name == "greeter" && !s.enabled));
    assert!(h.turn(&id, "hello again").await.iter().all(|b| !b.contains(SKILL_MARK)), "disabled: not offered");

    h.extensions.set_skill_enabled(&id, "greeter", true).await.expect("enable");
    assert!(h.turn(&id, "and again").await.iter().any(|b| b.contains(SKILL_MARK)), "enabled again: offered");
}
