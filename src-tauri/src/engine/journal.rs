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
//!
//! The whole journal is read too ([`read_history`]), while the CLI resumes a session: its chat
//! events can stand in for the history the CLI would otherwise hand over in pages, once the CLI's
//! own first event and newest page confirm them ([`reconcile`], used by `engine::sessions`). A
//! journal that does not match (compacted, rewound, another CLI's) is never used.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

/// A journal longer than this is not read whole: the CLI hands over its history instead.
const HISTORY_MAX_BYTES: u64 = 64 << 20;

/// Reads the journals of the sessions of the CLI the app runs. Cheap to clone; clones follow
/// [`SessionJournal::set_target`] together.
#[derive(Clone, Debug)]
pub struct SessionJournal {
    /// `<COPILOT_HOME>/session-state`; `None` for a server elsewhere, whose files are not ours.
    dir: Arc<Mutex<Option<PathBuf>>>,
    limits: TailLimits,
}

impl SessionJournal {
    /// The journals of the CLI of `target`: a bundled CLI's session-state folder, none for an
    /// external server.
    pub fn for_target(target: &CliTarget) -> Self {
        Self { dir: Arc::new(Mutex::new(Self::dir_of(target))), limits: TailLimits::default() }
    }

    /// The journals under `session_state` (`<COPILOT_HOME>/session-state`).
    pub fn local(session_state: PathBuf, limits: TailLimits) -> Self {
        Self { dir: Arc::new(Mutex::new(Some(session_state))), limits }
    }

    /// Read the journals of `target`'s CLI from now on (the app switched to another CLI).
    pub fn set_target(&self, target: &CliTarget) {
        *self.dir.lock().unwrap_or_else(|e| e.into_inner()) = Self::dir_of(target);
    }

    fn dir_of(target: &CliTarget) -> Option<PathBuf> {
        match target {
            CliTarget::Bundled(cli) => Some(session_state_dir(cli)),
            CliTarget::External(_) => None,
        }
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

    /// Every chat event stored in `session_id`'s journal, oldest first, read in the background: the
    /// task's answer is `None` when there is no such journal here, it is too long, or a chat event in
    /// it does not parse. Unconfirmed: see [`reconcile`].
    pub fn read_history(&self, session_id: &str) -> Option<tokio::task::JoinHandle<Option<Vec<SessionEvent>>>> {
        let path = self.journal_path(session_id)?;
        let session = session_id.to_owned();
        Some(tokio::task::spawn_blocking(move || match read_history(&path, HISTORY_MAX_BYTES) {
            Ok(events) => Some(events),
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::debug!(session, error = %e, "the journal cannot stand in for the history");
                }
                None
            }
        }))
    }

    fn journal_path(&self, session_id: &str) -> Option<PathBuf> {
        let dir = self.dir.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
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
    if !may_be_chat_event(line) {
        return None;
    }
    let event: SessionEvent = serde_json::from_slice(line).ok()?;
    ChatEvent::from_cli(&event)
}

/// Whether a journal line may hold a stored chat event. The CLI writes `{"type":"...",...}`: most
/// lines (system prompts, bookkeeping) are told apart by their first bytes and never parsed. Any
/// other layout may be one, and must be parsed in full to find out.
fn may_be_chat_event(line: &[u8]) -> bool {
    const PREFIX: &[u8] = br#"{"type":""#;
    let Some(rest) = line.strip_prefix(PREFIX) else { return true };
    let Some(end) = rest.iter().position(|&b| b == b'"') else { return true };
    STORED_CHAT_EVENT_TYPES.iter().any(|t| t.as_bytes() == &rest[..end])
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

/// Every stored chat event ([`STORED_CHAT_EVENT_TYPES`]) of the journal at `path`, oldest first, up
/// to its last complete line (a line still being written is left out). Lines of other events are
/// skipped by their first bytes, unparsed. Fails when the file is longer than `max_bytes`, and with
/// `InvalidData` when a line that may be a chat event does not parse: a journal with a hole in it
/// cannot stand in for the history.
pub fn read_history(path: &Path, max_bytes: u64) -> std::io::Result<Vec<SessionEvent>> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > max_bytes {
        return Err(invalid(format!("the journal holds {len} bytes, more than {max_bytes}")));
    }
    // Only what was there when it was opened: the CLI may be appending meanwhile.
    let mut reader = std::io::BufReader::with_capacity(CHUNK, file.take(len));
    let mut events = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            return Ok(events);
        }
        let text = line.trim_ascii_end();
        if text.is_empty() || !may_be_chat_event(text) {
            continue;
        }
        let event: SessionEvent = serde_json::from_slice(text)
            .map_err(|e| invalid(format!("a line of the journal is not an event ({e})")))?;
        if STORED_CHAT_EVENT_TYPES.contains(&event.event_type.as_str()) && event.ephemeral != Some(true) {
            events.push(event);
        }
    }
}

/// A session's whole history of chat events, from its `journal` as read while the CLI resumed it,
/// confirmed by the CLI's own history (filtered to the same events): its `first` event and its
/// `newest` page (oldest first), which has older events before it. The journal's events up to
/// where that page starts, then the page; `None` when the two do not agree (the journal starts
/// elsewhere, misses events the page has, or holds events the CLI no longer has), and the CLI must
/// hand over its history instead. Each event is in the answer exactly once.
pub fn reconcile(
    journal: Vec<SessionEvent>,
    first: Option<&SessionEvent>,
    newest: Vec<SessionEvent>,
) -> Option<Vec<SessionEvent>> {
    let (first, page_start) = (first?, newest.first()?);
    if journal.first()?.id != first.id {
        return None;
    }
    let at = journal.iter().rposition(|e| e.id == page_start.id)?;
    let overlap = &journal[at..];
    if overlap.len() > newest.len() || overlap.iter().zip(&newest).any(|(a, b)| a.id != b.id) {
        return None;
    }
    let mut events = journal;
    events.truncate(at);
    events.extend(newest);
    Some(events)
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

    // The whole journal, confirmed by the CLI's ends of the history.

    fn event_ids(events: &[SessionEvent]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    /// Stored events as the CLI hands them over: the chat events of `turns` turns.
    fn stored(turns: std::ops::RangeInclusive<usize>) -> Vec<SessionEvent> {
        turns
            .flat_map(turn)
            .map(|l| serde_json::from_str::<SessionEvent>(&l).unwrap())
            .filter(|e| STORED_CHAT_EVENT_TYPES.contains(&e.event_type.as_str()))
            .collect()
    }

    #[test]
    fn the_whole_history_is_every_chat_event_in_order_up_to_the_last_complete_line() {
        let journal = Journal::new();
        journal.write(&many_turns(500));
        let next = line("u501", "user.message", json!({"content": "question 501"}));
        journal.append_raw(&next.as_bytes()[..next.len() - 3]);
        let events = read_history(&journal.path(), HISTORY_MAX_BYTES).unwrap();
        assert_eq!(event_ids(&events), event_ids(&stored(1..=500)));
        assert_eq!(events.len(), 1500, "question, turn start and answer of each turn; no system prompt");
    }

    #[test]
    fn a_journal_with_a_broken_chat_event_or_too_long_is_not_a_history() {
        let journal = Journal::new();
        journal.write(&many_turns(3));
        assert_eq!(read_history(&journal.path(), 1000).unwrap_err().kind(), std::io::ErrorKind::InvalidData);
        journal.append_raw(b"{\"type\":\"assistant.message\",\"data\":{\"content\":\"cut\n");
        journal.append_raw(format!("{}\n", line("u4", "user.message", json!({"content": "question 4"}))).as_bytes());
        let error = read_history(&journal.path(), HISTORY_MAX_BYTES).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}");
    }

    #[test]
    fn the_journal_up_to_the_newest_page_then_the_page_each_event_once() {
        let journal = stored(1..=10);
        // The page overlaps the journal's last events and has two the journal had not written yet.
        let newest = stored(9..=11);
        let first = stored(1..=1);
        let history = reconcile(journal, first.first(), newest).expect("they agree");
        assert_eq!(event_ids(&history), event_ids(&stored(1..=11)));
        // The journal ends exactly where the page does.
        let history = reconcile(stored(1..=10), first.first(), stored(8..=10)).unwrap();
        assert_eq!(event_ids(&history), event_ids(&stored(1..=10)));
    }

    #[test]
    fn a_journal_the_cli_does_not_confirm_is_not_used() {
        let first = stored(1..=1);
        let newest = stored(9..=11);
        // It starts elsewhere (the CLI's history was compacted into a new start, or it is another session's).
        assert!(reconcile(stored(2..=10), first.first(), newest.clone()).is_none());
        assert!(reconcile(stored(1..=10), stored(2..=2).first(), newest.clone()).is_none());
        // It ends before the page begins: events between the two would be missing.
        assert!(reconcile(stored(1..=7), first.first(), newest.clone()).is_none());
        // It holds events after the page's start that the CLI no longer has (rewound).
        let mut rewound = stored(1..=9);
        rewound.extend(stored(12..=13));
        assert!(reconcile(rewound, first.first(), newest.clone()).is_none());
        // Longer than the page from where the page starts: the CLI no longer has its end.
        assert!(reconcile(stored(1..=12), first.first(), newest.clone()).is_none());
        // Nothing to compare with.
        assert!(reconcile(Vec::new(), first.first(), newest.clone()).is_none());
        assert!(reconcile(stored(1..=10), None, newest).is_none());
        assert!(reconcile(stored(1..=10), first.first(), Vec::new()).is_none());
    }
}
