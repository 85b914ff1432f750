//! `Extensions`: the custom agents and skills the CLI discovers, per session (`session.agent.*`,
//! `session.skills.*`) and in its folders (`agents.discover`, `skills.discover`), and writing an
//! agent file (`*.agent.md`, front matter then prompt) in the user's or a project's agents
//! folder. Owns the agent file format; knows nothing about windows or openers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{EngineError, EngineResult};
use super::sessions::SessionService;
use super::supervisor::{CliSupervisor, CliTarget};

/// An agent as the CLI lists it.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AgentSummary {
    /// What `session.agent.select` takes.
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// "user", "project", "plugin", "builtin", ...
    pub source: Option<String>,
    /// The agent's file, when it has one.
    pub path: Option<String>,
    /// Tools it may use; `None` inherits the defaults.
    pub tools: Option<Vec<String>>,
}

/// The agents a session can switch to, and the one it uses (`None`: the default agent).
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionAgents {
    pub agents: Vec<AgentSummary>,
    pub current: Option<String>,
}

/// A skill as the CLI lists it.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SkillSummary {
    pub name: String,
    pub description: String,
    /// "project", "personal-copilot", "plugin", "builtin", ...
    pub source: String,
    pub enabled: bool,
    /// Its SKILL.md.
    pub path: Option<String>,
}

/// Where a new agent file goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AgentScope {
    /// `$COPILOT_HOME/agents/`: every project.
    User,
    /// `<project>/.github/agents/`: that project (and whoever clones it).
    Project,
}

/// What the agent form holds.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AgentDraft {
    pub scope: AgentScope,
    /// The session's folder, for `Project`.
    pub project: Option<String>,
    pub name: String,
    pub description: String,
    /// Tool names (`read`, `shell`, ...); empty inherits the defaults.
    pub tools: Vec<String>,
    pub prompt: String,
}

#[derive(Clone)]
pub struct Extensions {
    copilot_home: Option<PathBuf>,
    sessions: SessionService,
    supervisor: CliSupervisor,
}

impl Extensions {
    pub fn new(target: &CliTarget, sessions: SessionService, supervisor: CliSupervisor) -> Self {
        let copilot_home = match target {
            CliTarget::Bundled(cli) => super::search::session_state_dir(cli).parent().map(Path::to_path_buf),
            CliTarget::External(_) => None,
        };
        Self { copilot_home, sessions, supervisor }
    }

    async fn call(&self, session_id: &str, method: &str, mut params: Value) -> EngineResult<Value> {
        let session = self.sessions.session_handle(session_id).await?;
        params["sessionId"] = json!(session_id);
        Ok(session.client().call(method, Some(params)).await?)
    }

    /// The agents a session can use, read again from their folders first (a file just written shows).
    pub async fn session_agents(&self, session_id: &str) -> EngineResult<SessionAgents> {
        self.call(session_id, "session.agent.reload", json!({})).await?;
        let list = self.call(session_id, "session.agent.list", json!({})).await?;
        let current = self.call(session_id, "session.agent.getCurrent", json!({})).await?;
        Ok(SessionAgents {
            agents: agents_from(&list),
            current: current.get("agent").and_then(|a| a.get("name")).and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// Use `name` for the session's next turns; `None` goes back to the default agent.
    pub async fn select_agent(&self, session_id: &str, name: Option<&str>) -> EngineResult<SessionAgents> {
        match name {
            Some(name) => self.call(session_id, "session.agent.select", json!({"name": name})).await?,
            None => self.call(session_id, "session.agent.deselect", json!({})).await?,
        };
        self.session_agents(session_id).await
    }

    /// Every agent the CLI finds for `project` (its user folder, the project's folders, plugins).
    pub async fn discover_agents(&self, project: &str) -> EngineResult<Vec<AgentSummary>> {
        let client = self.sessions.client()?;
        let found = client.call("agents.discover", Some(json!({"projectPaths": [project]}))).await?;
        Ok(agents_from(&found))
    }

    /// Every skill the CLI finds for `project`.
    pub async fn discover_skills(&self, project: &str) -> EngineResult<Vec<SkillSummary>> {
        let client = self.sessions.client()?;
        let found = client.call("skills.discover", Some(json!({"projectPaths": [project]}))).await?;
        Ok(skills_from(&found))
    }

    /// The skills of a session, each with whether it is on.
    pub async fn session_skills(&self, session_id: &str) -> EngineResult<Vec<SkillSummary>> {
        let list = self.call(session_id, "session.skills.list", json!({})).await?;
        Ok(skills_from(&list))
    }

    /// Turn a skill on or off for the session.
    pub async fn set_skill_enabled(&self, session_id: &str, name: &str, on: bool) -> EngineResult<Vec<SkillSummary>> {
        let method = if on { "session.skills.enable" } else { "session.skills.disable" };
        self.call(session_id, method, json!({"name": name})).await?;
        self.session_skills(session_id).await
    }

    /// The folder of a skill the session lists (never a path the caller makes up).
    pub async fn skill_folder(&self, session_id: &str, name: &str) -> EngineResult<PathBuf> {
        let skill = self
            .session_skills(session_id)
            .await?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| EngineError::InvalidRequest(format!("The session has no skill \"{name}\".")))?;
        let path = skill.path.ok_or_else(|| EngineError::InvalidRequest(format!("\"{name}\" has no folder.")))?;
        Ok(Path::new(&path).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(path)))
    }

    /// Where `draft` would be written.
    pub fn agent_path(&self, draft: &AgentDraft) -> EngineResult<PathBuf> {
        let name = check_name(&draft.name)?;
        let folder = match draft.scope {
            AgentScope::User => self
                .copilot_home
                .clone()
                .filter(|_| !super::rules::serves_elsewhere(&self.supervisor.state()))
                .ok_or_else(|| {
                    EngineError::InvalidRequest(
                        "The Copilot CLI runs as a server elsewhere: its user agents live on that machine.".into(),
                    )
                })?
                .join("agents"),
            AgentScope::Project => {
                let project = draft.project.as_deref().map(str::trim).unwrap_or_default();
                if project.is_empty() || !Path::new(project).is_absolute() || !Path::new(project).is_dir() {
                    return Err(EngineError::InvalidRequest(
                        "The project folder must be an existing full path.".into(),
                    ));
                }
                Path::new(project).join(".github").join("agents")
            }
        };
        Ok(folder.join(format!("{name}.agent.md")))
    }

    /// Write the agent file (`replace` to overwrite one being edited); returns its path.
    pub fn write_agent(&self, draft: &AgentDraft, replace: bool) -> EngineResult<PathBuf> {
        let text = render_agent(draft)?;
        let path = self.agent_path(draft)?;
        if path.exists() && !replace {
            return Err(EngineError::InvalidRequest(format!(
                "An agent named \"{}\" already exists at {}; edit it instead.",
                draft.name.trim(),
                path.display()
            )));
        }
        let dir = path.parent().expect("agent files live in a folder");
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let tmp = dir.join(format!(".{}.tmp", draft.name.trim()));
        std::fs::write(&tmp, text).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
        Ok(path)
    }

    /// Read an agent file the CLI listed back into the form.
    pub fn read_agent(&self, path: &str) -> EngineResult<AgentDraft> {
        let path = Path::new(path);
        if !path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".agent.md")) {
            return Err(EngineError::InvalidRequest("Only *.agent.md files can be edited here.".into()));
        }
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
        let mut draft = parse_agent(&text)?;
        let in_user_folder =
            self.copilot_home.as_ref().is_some_and(|home| path.parent() == Some(home.join("agents").as_path()));
        draft.scope = if in_user_folder { AgentScope::User } else { AgentScope::Project };
        if draft.scope == AgentScope::Project {
            // <project>/.github/agents/<file>
            draft.project = path.ancestors().nth(3).map(|p| p.display().to_string());
        }
        if draft.name.is_empty() {
            draft.name = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".agent.md"))
                .unwrap_or_default()
                .to_owned();
        }
        Ok(draft)
    }
}

fn agents_from(value: &Value) -> Vec<AgentSummary> {
    let text = |a: &Value, k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
    value
        .get("agents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("userInvocable").and_then(Value::as_bool) != Some(false))
        .filter_map(|a| {
            let name = text(a, "name")?;
            Some(AgentSummary {
                display_name: text(a, "displayName").unwrap_or_else(|| name.clone()),
                name,
                description: text(a, "description").unwrap_or_default(),
                source: text(a, "source"),
                path: text(a, "path"),
                tools: a
                    .get("tools")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()),
            })
        })
        .collect()
}

fn skills_from(value: &Value) -> Vec<SkillSummary> {
    let text = |a: &Value, k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
    value
        .get("skills")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some(SkillSummary {
                name: text(s, "name")?,
                description: text(s, "description").unwrap_or_default(),
                source: text(s, "source").unwrap_or_default(),
                enabled: s.get("enabled").and_then(Value::as_bool).unwrap_or(true),
                path: text(s, "path"),
            })
        })
        .collect()
}

fn io_error(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::InvalidRequest(format!("Could not read or write {}: {e}", path.display()))
}

fn check_name(name: &str) -> EngineResult<&str> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name)
    } else {
        Err(EngineError::InvalidRequest(
            "An agent's name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.".into(),
        ))
    }
}

/// The file text for `draft`: YAML front matter (values as JSON strings, which YAML reads as
/// they are), then the prompt.
pub fn render_agent(draft: &AgentDraft) -> EngineResult<String> {
    let name = check_name(&draft.name)?;
    let description = draft.description.trim();
    if description.is_empty() || description.contains('\n') {
        return Err(EngineError::InvalidRequest("Describe the agent in one line.".into()));
    }
    let prompt = draft.prompt.trim();
    if prompt.is_empty() {
        return Err(EngineError::InvalidRequest("Write the agent's prompt: what it is and how it works.".into()));
    }
    if prompt.lines().any(|l| l.trim_end() == "---") && prompt.starts_with("---") {
        return Err(EngineError::InvalidRequest("The prompt cannot start with a front matter line (---).".into()));
    }
    let tools: Vec<&str> = draft.tools.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    if let Some(bad) = tools.iter().find(|t| !t.chars().all(|c| c.is_ascii_alphanumeric() || "-_./*:".contains(c))) {
        return Err(EngineError::InvalidRequest(format!("\"{bad}\" is not a tool name.")));
    }
    let mut text = String::from("---\n");
    text.push_str(&format!("name: {}\n", json!(name)));
    text.push_str(&format!("description: {}\n", json!(description)));
    if !tools.is_empty() {
        text.push_str(&format!("tools: {}\n", json!(tools)));
    }
    text.push_str("---\n\n");
    text.push_str(prompt);
    text.push('\n');
    Ok(text)
}

/// Read front matter written as `key: value` lines (JSON or bare values, `[a, b]` lists).
pub fn parse_agent(text: &str) -> EngineResult<AgentDraft> {
    let text = text.replace("\r\n", "\n");
    let rest = text
        .strip_prefix("---\n")
        .ok_or_else(|| EngineError::InvalidRequest("The file has no front matter (it must start with ---).".into()))?;
    let end = rest
        .find("\n---\n")
        .or_else(|| rest.strip_suffix("\n---").map(|r| r.len()))
        .ok_or_else(|| EngineError::InvalidRequest("The front matter never ends (no closing ---).".into()))?;
    let (front, body) = rest.split_at(end);
    let body = body.trim_start_matches("\n---").trim_start_matches('\n');
    let mut draft = AgentDraft {
        scope: AgentScope::User,
        project: None,
        name: String::new(),
        description: String::new(),
        tools: Vec::new(),
        prompt: body.trim().to_owned(),
    };
    for line in front.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        let Some((key, value)) = line.split_once(':') else {
            return Err(EngineError::InvalidRequest(format!("Cannot read the front matter line \"{line}\".")));
        };
        if line.starts_with(char::is_whitespace) {
            return Err(EngineError::InvalidRequest(
                "This agent's front matter uses nested YAML; edit the file by hand.".into(),
            ));
        }
        let value = value.trim();
        match key.trim() {
            "name" => draft.name = scalar(value),
            "description" => draft.description = scalar(value),
            "tools" => draft.tools = list(value),
            _ => {}
        }
    }
    Ok(draft)
}

fn scalar(value: &str) -> String {
    if value.starts_with('"') {
        serde_json::from_str(value).unwrap_or_else(|_| value.trim_matches('"').to_owned())
    } else {
        value.trim_matches('\'').to_owned()
    }
}

fn list(value: &str) -> Vec<String> {
    if let Ok(items) = serde_json::from_str::<Vec<String>>(value) {
        return items;
    }
    value
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|t| t.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AgentDraft {
        AgentDraft {
            scope: AgentScope::User,
            project: None,
            name: "reviewer".into(),
            description: "Reviews: \"carefully\"".into(),
            tools: vec!["read".into(), " shell ".into(), "".into()],
            prompt: "You review code.\n\nBe kind.".into(),
        }
    }

    #[test]
    fn an_agent_file_reads_back_as_it_was_written() {
        let text = render_agent(&draft()).unwrap();
        assert!(text.starts_with("---\nname: \"reviewer\"\ndescription: \"Reviews: \\\"carefully\\\"\"\n"), "{text}");
        assert!(text.contains("tools: [\"read\",\"shell\"]\n---\n\nYou review code.\n\nBe kind.\n"), "{text}");
        let back = parse_agent(&text).unwrap();
        assert_eq!(back.name, "reviewer");
        assert_eq!(back.description, "Reviews: \"carefully\"");
        assert_eq!(back.tools, vec!["read", "shell"]);
        assert_eq!(back.prompt, "You review code.\n\nBe kind.");
    }

    #[test]
    fn bare_yaml_front_matter_is_read_too() {
        let back = parse_agent("---\nname: docs\ndescription: Writes docs\ntools: [read, 'edit']\n---\nHi\n").unwrap();
        assert_eq!((back.name.as_str(), back.description.as_str()), ("docs", "Writes docs"));
        assert_eq!(back.tools, vec!["read", "edit"]);
        assert_eq!(back.prompt, "Hi");
        assert!(parse_agent("no front matter").is_err());
        assert!(parse_agent("---\nname: x\ntools:\n  - read\n---\nHi").is_err());
    }

    #[test]
    fn bad_drafts_are_refused_with_a_reason() {
        for (change, words) in [
            (Box::new(|d: &mut AgentDraft| d.name = "../evil".into()) as Box<dyn Fn(&mut AgentDraft)>, "name"),
            (Box::new(|d: &mut AgentDraft| d.name = "".into()), "name"),
            (Box::new(|d: &mut AgentDraft| d.description = " ".into()), "Describe"),
            (Box::new(|d: &mut AgentDraft| d.description = "two\nlines".into()), "Describe"),
            (Box::new(|d: &mut AgentDraft| d.prompt = "".into()), "prompt"),
            (Box::new(|d: &mut AgentDraft| d.tools = vec!["rm -rf".into()]), "tool name"),
        ] {
            let mut d = draft();
            change(&mut d);
            let error = render_agent(&d).unwrap_err().to_string();
            assert!(error.contains(words), "{error}");
        }
    }
}
