//! `SessionJournal`: the last screen of a stored session, read straight from the CLI's journal
//! (`<COPILOT_HOME>/session-state/<id>/events.jsonl`, the file search reads too) while the CLI is
//! still resuming that session, so opening a long session shows its end at once. What it returns is
//! provisional: the UI shows it read-only and replaces it with the history the CLI hands over once
//! resumed, keyed by event id. Owns no session and never talks to the CLI.
//!
//! The journal is read backwards from its end, a bounded number of bytes ([`TailLimits`]), and only
//! complete lines count: a line still being written (no newline yet), a line cut by where reading
//! stopped, an overlong line and a line that is not the JSON we expect are all skipped. Lines go
//! through the same mapping as the CLI's own history ([`ChatEvent::from_cli`]), and their text is
//! trusted no more than model output (the UI renders it through the same sanitizer). Attached to a
//! remote server there is no journal to read, and opening a session works as before.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use github_copilot_sdk::SessionEvent;

use super::events::{ChatEvent, ChatEventKind, STORED_CHAT_EVENT_TYPES};
use super::search::session_state_dir;
use super::supervisor::CliTarget;

/// How much of a journal a tail reads at most.
#[derive(Clone, Copy, Debug)]
pub struct TailLimits {
    /// Stop once this many rows (messages, tool calls, errors) were found: a screen's worth.
    pub rows: usize,
    /// Stop after reading this many bytes back from the end.
    pub max_bytes: u64,
    /// A longer line (one event, e.g. a tool's huge output) is skipped unread.
    pub max_line_bytes: usize,
}

impl Default for TailLimits {
    fn default() -> Self {
        Self { rows: 30, max_bytes: 2 << 20, max_line_bytes: 1 << 20 }
    }
}

/// Reads the tails of the sessions of the CLI the app runs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SessionJournal {
    /// `<COPILOT_HOME>/session-state`; `None` for a server elsewhere, whose files are not ours.
    dir: Option<PathBuf>,
    limits: TailLimits,
}

impl SessionJournal {
    /// The journals of the CLI of `target`: a bundled CLI's session-state folder, none for an
    /// external server.
    pub fn for_target(target: &CliTarget) -> Self {
        match target {
            CliTarget::Bundled(cli) => Self::local(session_state_dir(cli), TailLimits::default()),
            CliTarget::External(_) => Self { dir: None, limits: TailLimits::default() },
        }
    }

    /// The journals under `session_state` (`<COPILOT_HOME>/session-state`).
    pub fn local(session_state: PathBuf, limits: TailLimits) -> Self {
        Self { dir: Some(session_state), limits }
    }

    /// The last screen of `session_id` as chat events, oldest first; `None` when there is no
    /// journal to read (a remote server, an id that is not a session folder's name, a missing or
    /// unreadable file). Empty when the end of the journal holds nothing a chat view shows.
    pub async fn tail(&self, session_id: &str) -> Option<Vec<ChatEvent>> {
        let path = self.journal_path(session_id)?;
        let limits = self.limits;
        let read = tokio::task::spawn_blocking(move || read_tail(&path, &limits)).await.ok()?;
        match read {
            Ok(events) => Some(events),
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::debug!(session = session_id, error = %e, "could not read a session's journal tail");
                }
                None
            }
        }
    }

    fn journal_path(&self, session_id: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        // The id comes from the webview: a folder name of ours, never a path elsewhere.
        let plain = !session_id.is_empty()
            && session_id.len() <= 128
            && session_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plain.then(|| dir.join(session_id).join("events.jsonl"))
    }
}

const CHUNK: usize = 64 << 10;

/// The chat events of the last complete lines of the journal at `path`, oldest first, within `limits`.
pub fn read_tail(path: &Path, limits: &TailLimits) -> std::io::Result<Vec<ChatEvent>> {
    let mut file = std::fs::File::open(path)?;
    let mut unread = file.metadata()?.len();
    let mut found = Tail::new(limits.rows);
    // The start of a line whose end was read already (bytes from earlier in the file come later).
    let mut partial: Vec<u8> = Vec::new();
    let mut partial_too_long = false;
    // What follows the file's last newline is a line still being written: never shown.
    let mut after_last_newline = true;
    let mut chunk = vec![0u8; CHUNK];
    let mut read = 0u64;
    while unread > 0 && read < limits.max_bytes && !found.full() {
        let start = unread.saturating_sub(CHUNK as u64);
        let n = (unread - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        read += n as u64;
        unread = start;
        let mut end = n;
        while let Some(newline) = chunk[..end].iter().rposition(|&b| b == b'\n') {
            let piece = &chunk[newline + 1..end];
            if after_last_newline {
                after_last_newline = false;
            } else if !partial_too_long && piece.len() + partial.len() <= limits.max_line_bytes {
                if partial.is_empty() {
                    found.line(piece);
                } else {
                    let mut line = piece.to_vec();
                    line.extend_from_slice(&partial);
                    found.line(&line);
                }
            }
            partial.clear();
            partial_too_long = false;
            end = newline;
            if found.full() {
                break;
            }
        }
        if found.full() {
            break;
        }
        // chunk[..end] is the end of a line that starts in an earlier chunk.
        if partial_too_long || end + partial.len() > limits.max_line_bytes {
            partial_too_long = true;
            partial.clear();
        } else {
            let mut longer = chunk[..end].to_vec();
            longer.extend_from_slice(&partial);
            partial = longer;
        }
    }
    // The whole file was read: what is left is its first line.
    if unread == 0 && !after_last_newline && !partial_too_long && !found.full() && !partial.is_empty() {
        found.line(&partial);
    }
    Ok(found.into_events())
}

/// The chat events found so far, newest first, and how many rows they make.
struct Tail {
    newest_first: Vec<ChatEvent>,
    rows: usize,
    wanted: usize,
}

impl Tail {
    fn new(wanted: usize) -> Self {
        Self { newest_first: Vec::new(), rows: 0, wanted }
    }

    fn full(&self) -> bool {
        self.rows >= self.wanted
    }

    fn line(&mut self, line: &[u8]) {
        let Some(event) = chat_event(line) else { return };
        if is_row(&event.kind) {
            self.rows += 1;
        }
        self.newest_first.push(event);
    }

    fn into_events(self) -> Vec<ChatEvent> {
        let mut events = self.newest_first;
        events.reverse();
        // A tool's result whose start was cut off would show as a nameless card: leave it out.
        let started: std::collections::HashSet<String> = events
            .iter()
            .filter_map(|e| match &e.kind {
                ChatEventKind::ToolStarted { tool_call_id, .. } => Some(tool_call_id.clone()),
                _ => None,
            })
            .collect();
        events.retain(
            |e| !matches!(&e.kind, ChatEventKind::ToolCompleted { tool_call_id, .. } if !started.contains(tool_call_id)),
        );
        events
    }
}

/// Whether an event shows as a row of its own (a turn starting does not, nor an answer with no text).
fn is_row(kind: &ChatEventKind) -> bool {
    match kind {
        ChatEventKind::TurnStarted => false,
        ChatEventKind::AssistantMessage { content, .. } | ChatEventKind::Reasoning { content, .. } => {
            !content.trim().is_empty()
        }
        _ => true,
    }
}

/// The chat event of one journal line, or `None` (another kind of event, or not such JSON).
fn chat_event(line: &[u8]) -> Option<ChatEvent> {
    // The CLI writes `{"type":"...",...}`: most lines (system prompts, bookkeeping) are told apart
    // by their first bytes and never parsed. Any other layout is parsed in full to find out.
    const PREFIX: &[u8] = br#"{"type":""#;
    if let Some(rest) = line.strip_prefix(PREFIX) {
        let end = rest.iter().position(|&b| b == b'"')?;
        if !STORED_CHAT_EVENT_TYPES.iter().any(|t| t.as_bytes() == &rest[..end]) {
            return None;
        }
    }
    let event: SessionEvent = serde_json::from_slice(line).ok()?;
    ChatEvent::from_cli(&event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::supervisor::ExternalServer;
    use serde_json::{Value, json};
    use std::io::Write;

    /// One journal line as the CLI 1.0.102 writes it: `type` first.
    fn line(id: &str, kind: &str, data: Value) -> String {
        json!({"type": kind, "data": data, "id": id, "timestamp": "2026-01-01T00:00:00.000Z", "parentId": null})
            .to_string()
    }

    /// A turn: question, system prompt, turn start, answer (what the CLI journals for a short turn).
    fn turn(n: usize) -> Vec<String> {
        vec![
            line(&format!("u{n}"), "user.message", json!({"content": format!("question {n}")})),
            line(&format!("s{n}"), "system.message", json!({"role": "system", "content": "x".repeat(2000)})),
            line(&format!("t{n}"), "assistant.turn_start", json!({"turnId": n.to_string()})),
            line(
                &format!("a{n}"),
                "assistant.message",
                json!({"messageId": format!("m{n}"), "content": format!("answer {n}")}),
            ),
            line(&format!("e{n}"), "assistant.turn_end", json!({"turnId": n.to_string()})),
        ]
    }

    struct Journal {
        dir: tempfile::TempDir,
    }

    impl Journal {
        fn new() -> Self {
            Self { dir: tempfile::tempdir().unwrap() }
        }

        fn path(&self) -> PathBuf {
            self.dir.path().join("s1").join("events.jsonl")
        }

        fn write(&self, lines: &[String]) {
            std::fs::create_dir_all(self.dir.path().join("s1")).unwrap();
            std::fs::write(self.path(), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        }

        fn append_raw(&self, bytes: &[u8]) {
            std::fs::OpenOptions::new().append(true).open(self.path()).unwrap().write_all(bytes).unwrap();
        }

        fn tail(&self, limits: TailLimits) -> Vec<ChatEvent> {
            read_tail(&self.path(), &limits).unwrap()
        }
    }

    fn ids(events: &[ChatEvent]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    fn many_turns(n: usize) -> Vec<String> {
        (1..=n).flat_map(turn).collect()
    }

    #[test]
    fn reads_the_last_rows_in_order_without_reading_the_whole_file() {
        let journal = Journal::new();
        journal.write(&many_turns(1000));
        let size = std::fs::metadata(journal.path()).unwrap().len();
        let limits = TailLimits { rows: 4, ..TailLimits::default() };
        let events = journal.tail(limits);
        // Four rows: answer 999, question 1000 and answer 1000 are three; question 999 is the fourth.
        assert_eq!(ids(&events), vec!["u999", "t999", "a999", "u1000", "t1000", "a1000"]);
        assert_eq!(events[0].kind, ChatEventKind::UserMessage { content: "question 999".into(), attachments: vec![] });
        assert!(size > 2 * CHUNK as u64, "the journal is much longer than what was read ({size} bytes)");
    }

    #[test]
    fn stops_at_the_byte_budget() {
        let journal = Journal::new();
        journal.write(&many_turns(1000));
        let limits = TailLimits { rows: 10_000, max_bytes: CHUNK as u64, max_line_bytes: 1 << 20 };
        let events = journal.tail(limits);
        assert!(!events.is_empty());
        assert!(events.len() < 200, "one chunk holds a few dozen turns, not all: {}", events.len());
        assert_eq!(events.last().unwrap().id, "a1000");
    }

    #[test]
    fn a_line_still_being_written_is_left_out() {
        let journal = Journal::new();
        journal.write(&many_turns(3));
        let next = line("u4", "user.message", json!({"content": "question 4"}));
        journal.append_raw(&next.as_bytes()[..next.len() / 2]);
        let events = journal.tail(TailLimits::default());
        assert_eq!(events.last().unwrap().id, "a3");
        // Once complete, it counts.
        journal.append_raw(&next.as_bytes()[next.len() / 2..]);
        journal.append_raw(b"\n");
        assert_eq!(journal.tail(TailLimits::default()).last().unwrap().id, "u4");
    }

    #[test]
    fn corrupt_foreign_and_overlong_lines_are_skipped() {
        let journal = Journal::new();
        let mut lines = many_turns(2);
        lines.push("not json at all".into());
        lines.push(r#"{"type":"user.message","data":{"content":"no id or timestamp"}}"#.into());
        lines.push(r#"{"type":"assistant.message","data":{"content":42},"id":"x","timestamp":"t"}"#.into());
        lines.push(line("big", "user.message", json!({"content": "y".repeat(5000)})));
        // Keys in another order are still read (parsed in full).
        lines.push(
            r#"{"data":{"content":"reordered"},"id":"r","timestamp":"t","parentId":null,"type":"user.message"}"#.into(),
        );
        lines.push(String::new());
        journal.write(&lines);
        journal.append_raw(
            b"{\"type\":\"user.message\",\"data\":{\"content\":\"bad \xff\"},\"id\":\"b\",\"timestamp\":\"t\"}\n",
        );
        let limits = TailLimits { max_line_bytes: 4000, ..TailLimits::default() };
        let events = journal.tail(limits);
        assert_eq!(ids(&events), vec!["u1", "t1", "a1", "u2", "t2", "a2", "r"]);
    }

    #[test]
    fn an_overlong_line_across_chunks_is_skipped_whole() {
        let journal = Journal::new();
        let mut lines = many_turns(1);
        lines.push(line("huge", "user.message", json!({"content": "z".repeat(3 * CHUNK)})));
        lines.extend(turn(2));
        journal.write(&lines);
        let limits = TailLimits { max_line_bytes: CHUNK, ..TailLimits::default() };
        assert_eq!(ids(&journal.tail(limits)), vec!["u1", "t1", "a1", "u2", "t2", "a2"]);
        // With room for it, it is read whole across several chunks.
        let events = journal.tail(TailLimits::default());
        assert_eq!(ids(&events), vec!["u1", "t1", "a1", "huge", "u2", "t2", "a2"]);
        assert_eq!(events[3].kind, ChatEventKind::UserMessage { content: "z".repeat(3 * CHUNK), attachments: vec![] });
    }

    #[test]
    fn a_tool_call_whose_start_was_read_keeps_its_result() {
        let journal = Journal::new();
        let mut lines = many_turns(1);
        lines.push(line(
            "ts",
            "tool.execution_start",
            json!({"toolCallId": "c1", "toolName": "bash", "arguments": {"command": "ls"}}),
        ));
        lines.push(line(
            "tc",
            "tool.execution_complete",
            json!({"toolCallId": "c1", "success": true, "result": {"content": "a\n"}}),
        ));
        journal.write(&lines);
        assert_eq!(ids(&journal.tail(TailLimits::default())), vec!["u1", "t1", "a1", "ts", "tc"]);
        // Cut between the start and the result: the result alone is left out.
        let limits = TailLimits { rows: 1, ..TailLimits::default() };
        assert_eq!(ids(&journal.tail(limits)), Vec::<&str>::new());
    }

    #[test]
    fn a_short_journal_is_read_from_its_first_line() {
        let journal = Journal::new();
        journal.write(&turn(1));
        assert_eq!(ids(&journal.tail(TailLimits::default())), vec!["u1", "t1", "a1"]);
        // Without a final newline the last line is still being written.
        std::fs::write(journal.path(), line("u1", "user.message", json!({"content": "q"}))).unwrap();
        assert!(journal.tail(TailLimits::default()).is_empty());
        std::fs::write(journal.path(), "").unwrap();
        assert!(journal.tail(TailLimits::default()).is_empty());
    }

    #[tokio::test]
    async fn no_tail_without_a_journal_a_plain_id_or_a_local_cli() {
        let journal = Journal::new();
        journal.write(&turn(1));
        let local = SessionJournal::local(journal.dir.path().to_path_buf(), TailLimits::default());
        assert_eq!(ids(&local.tail("s1").await.unwrap()), vec!["u1", "t1", "a1"]);
        assert!(local.tail("missing").await.is_none(), "no such session");
        for id in ["", "../s1", "s1/../s1", "/etc", ".", ".."] {
            assert!(local.tail(id).await.is_none(), "{id:?} is not a session folder name");
        }
        let remote = SessionJournal::for_target(&CliTarget::External(ExternalServer::new("10.0.0.2", 4321, None)));
        assert!(remote.tail("s1").await.is_none(), "a remote server's journals are not ours to read");
    }
}
