//! `SessionSearch`: finds the stored sessions whose messages contain some text, for the sidebar's
//! search box. It reads what the CLI journals on disk, `<COPILOT_HOME>/session-state/<id>/events.jsonl`,
//! one JSON event per line, and looks only at what people wrote and read: the `content` of
//! `user.message` and `assistant.message` events. Tool output, tool arguments, system prompts and
//! the CLI's bookkeeping are never searched.
//!
//! Why the files and not the CLI: reading a session through the SDK means resuming it on the CLI,
//! far too heavy for every keystroke; the CLI's own SQLite index (`session-store.db`) is an
//! undocumented internal that lags behind the journal. The journal is written as events happen.
//!
//! A server's files are on another machine, so there the journal is read through the CLI:
//! `sessions.readPersistedEvents` pages through a session's persisted events without resuming or
//! activating it (experimental in CLI 1.0.102; a CLI without it makes search answer
//! `SearchUnavailable`, and the UI keeps to titles). Each session is read once and read again only
//! when the CLI's `modifiedTime` for it changes, so typing a query costs one `session.list`.
//!
//! Files are read on a blocking thread, line by line, with limits: a line longer than
//! [`Limits::max_line_bytes`] is skipped, a journal is read up to [`Limits::max_session_bytes`],
//! and a line that is not the JSON we expect is skipped. The message texts read are kept in
//! memory (up to [`Limits::max_cached_bytes`]) and read again only when a journal's size or time
//! changes, so the searches of someone typing scan text, not disks. A newer search stops an older
//! one that is still running. Nothing here logs what was searched for or found.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use github_copilot_sdk::Client;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{EngineError, EngineResult};
use super::supervisor::{BundledCli, CliSupervisor, CliTarget};

/// A stored session whose messages contain the query.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionMatch {
    pub session_id: String,
    /// Plain text around the first hit (at most 160 characters, whitespace collapsed, "…" where it
    /// was cut), in pieces; the pieces with `hit` are the query as found.
    pub snippet: Vec<SnippetPart>,
    /// How many times the query occurs in the session's messages (as far as they were read).
    pub hits: u32,
}

/// A piece of a snippet: text to show as it is, marked when `hit`.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// The longest snippet, in characters, ellipses included (the docs of [`SessionMatch`] say so too).
pub const SNIPPET_CHARS: usize = 160;
/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// What a search reads at most.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A longer line (one event) is skipped unread.
    pub max_line_bytes: usize,
    /// A journal is read up to here; later messages are not searched.
    pub max_session_bytes: u64,
    /// Message text kept between searches, over all sessions.
    pub max_cached_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_line_bytes: 4 << 20, max_session_bytes: 64 << 20, max_cached_bytes: 64 << 20 }
    }
}

/// Content search over the sessions of the CLI the app runs. Cheap to clone.
#[derive(Clone)]
pub struct SessionSearch {
    inner: Arc<Inner>,
}

struct Inner {
    /// Changes when the app switches to another CLI.
    source: Mutex<Source>,
    limits: Limits,
    /// Bumped by every search; a running search that sees another number gives up.
    latest: AtomicU64,
    cache: Mutex<Cache>,
    /// The connection to a server, to read its sessions through.
    supervisor: Mutex<Option<CliSupervisor>>,
    /// One search of a server reads at a time (the local one holds `cache` instead).
    remote_reading: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
enum Source {
    /// `<COPILOT_HOME>/session-state`.
    Local(PathBuf),
    /// A server elsewhere, at this address: its files are not ours to read; the CLI reads them.
    Remote(String),
}

#[derive(Default)]
struct Cache {
    sessions: HashMap<String, CachedSession>,
    bytes: usize,
}

struct CachedSession {
    len: u64,
    modified: Option<SystemTime>,
    messages: Arc<Vec<String>>,
    bytes: usize,
}

impl SessionSearch {
    /// Search the sessions the CLI of `target` keeps: a bundled CLI's session-state folder, or an
    /// external server's sessions through the CLI (once [`Self::read_through`] gave it a way).
    pub fn for_target(target: &CliTarget) -> Self {
        match target {
            CliTarget::Bundled(cli) => Self::local(session_state_dir(cli), Limits::default()),
            CliTarget::External(server) => Self::new(Source::Remote(server.address()), Limits::default()),
        }
    }

    /// Search the sessions under `session_state` (`<COPILOT_HOME>/session-state`).
    pub fn local(session_state: PathBuf, limits: Limits) -> Self {
        Self::new(Source::Local(session_state), limits)
    }

    fn new(source: Source, limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                source: Mutex::new(source),
                limits,
                latest: AtomicU64::new(0),
                cache: Mutex::default(),
                supervisor: Mutex::new(None),
                remote_reading: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Read a server's sessions through the connection `supervisor` holds.
    pub fn read_through(&self, supervisor: CliSupervisor) {
        *self.inner.supervisor.lock().unwrap_or_else(|e| e.into_inner()) = Some(supervisor);
    }

    /// Search the sessions of `target` from now on (the app switched to another CLI).
    pub fn set_target(&self, target: &CliTarget) {
        let source = match target {
            CliTarget::Bundled(cli) => Source::Local(session_state_dir(cli)),
            CliTarget::External(server) => Source::Remote(server.address()),
        };
        *self.inner.source.lock().unwrap_or_else(|e| e.into_inner()) = source;
        // Another CLI's sessions: nothing read so far is theirs.
        self.inner.latest.fetch_add(1, Ordering::SeqCst);
        *self.inner.cache.lock().unwrap_or_else(|e| e.into_inner()) = Cache::default();
    }

    fn source(&self) -> Source {
        self.inner.source.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The folder searched, or `None` when the sessions live on another machine.
    pub fn session_state_dir(&self) -> Option<PathBuf> {
        match self.source() {
            Source::Local(dir) => Some(dir),
            Source::Remote(_) => None,
        }
    }

    /// The sessions whose user or assistant messages contain `query` (any case, whitespace runs
    /// equal to one space), in no particular order. A blank query finds nothing. Fails with
    /// `SearchUnavailable` for a server whose CLI cannot read persisted events, and with
    /// `SearchSuperseded` when a newer search started before this one finished.
    pub async fn search(&self, query: &str) -> EngineResult<Vec<SessionMatch>> {
        let query = normalize_whitespace(query);
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(EngineError::InvalidRequest(format!("Search for at most {MAX_QUERY_CHARS} characters.")));
        }
        let generation = self.inner.latest.fetch_add(1, Ordering::SeqCst) + 1;
        let root = match self.source() {
            Source::Remote(address) => return self.inner.search_remote(address, &query, generation).await,
            Source::Local(root) => root,
        };
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.search_blocking(&root, &query, generation))
            .await
            .map_err(|e| EngineError::SearchFailed(format!("the search stopped unexpectedly ({e})")))?
    }
}

impl Inner {
    fn superseded(&self, generation: u64) -> bool {
        self.latest.load(Ordering::SeqCst) != generation
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Search a server's sessions, each read through the CLI unless its `modifiedTime` is the
    /// one already read.
    async fn search_remote(&self, address: String, query: &str, generation: u64) -> EngineResult<Vec<SessionMatch>> {
        let supervisor = self.supervisor.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(supervisor) = supervisor else {
            return Err(EngineError::SearchUnavailable { address });
        };
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let _one_at_a_time = self.remote_reading.lock().await;
        if self.superseded(generation) {
            return Err(EngineError::SearchSuperseded);
        }
        let client = supervisor
            .connection()
            .map(|c| c.client)
            .map_err(|_| EngineError::SearchFailed(format!("the Copilot CLI server at {address} is not connected")))?;
        let listed = client
            .call("session.list", Some(json!({})))
            .await
            .map_err(|e| EngineError::SearchFailed(format!("the server did not list its sessions ({e})")))?;
        let sessions: Vec<(String, Option<SystemTime>)> = listed
            .get("sessions")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter_map(|s| {
                        let id = s.get("sessionId")?.as_str()?.to_owned();
                        let modified = s
                            .get("modifiedTime")
                            .and_then(Value::as_str)
                            .and_then(|t| humantime::parse_rfc3339_weak(t).ok());
                        Some((id, modified))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let needle = fold(query);
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for (id, modified) in sessions {
            if self.superseded(generation) {
                return Err(EngineError::SearchSuperseded);
            }
            seen.insert(id.clone());
            let cached = self
                .cache()
                .sessions
                .get(&id)
                .filter(|c| modified.is_some() && c.modified == modified)
                .map(|c| c.messages.clone());
            let messages = match cached {
                Some(messages) => messages,
                None => match read_remote_messages(&client, &id, &self.limits, || self.superseded(generation)).await {
                    Ok(Some(messages)) => {
                        let messages = Arc::new(messages);
                        self.cache().store(&id, 0, modified, messages.clone(), self.limits.max_cached_bytes);
                        messages
                    }
                    Ok(None) => return Err(EngineError::SearchSuperseded),
                    Err(e) if e.rpc_code() == Some(METHOD_NOT_FOUND) => {
                        return Err(EngineError::SearchUnavailable { address });
                    }
                    Err(e) => {
                        tracing::debug!(session = %id, error = %e, "could not read a server session's events for search");
                        continue;
                    }
                },
            };
            if let Some(found_here) = match_session(&id, &messages, &needle) {
                found.push(found_here);
            }
        }
        self.cache().retain(&seen);
        tracing::debug!(sessions = seen.len(), matches = found.len(), "searched a server's session messages");
        Ok(found)
    }

    fn search_blocking(&self, root: &Path, query: &str, generation: u64) -> EngineResult<Vec<SessionMatch>> {
        // One search reads at a time; an older one still reading notices it is superseded and
        // lets go soon.
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if self.superseded(generation) {
            return Err(EngineError::SearchSuperseded);
        }
        let entries = match std::fs::read_dir(root) {
            Ok(entries) => entries,
            // No session was ever stored.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(EngineError::SearchFailed(format!(
                    "could not read the stored sessions in {}: {e}",
                    root.display()
                )));
            }
        };
        let needle = fold(query);
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for entry in entries.flatten() {
            if self.superseded(generation) {
                return Err(EngineError::SearchSuperseded);
            }
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // `.session-operation-locks` and the like are the CLI's, not sessions.
            if name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let journal = entry.path().join("events.jsonl");
            let Ok(meta) = std::fs::metadata(&journal) else {
                continue;
            };
            seen.insert(name.clone());
            let messages = match cache.sessions.get(&name) {
                Some(cached) if cached.len == meta.len() && cached.modified == meta.modified().ok() => {
                    cached.messages.clone()
                }
                _ => {
                    let messages = match read_messages(&journal, &self.limits, || self.superseded(generation)) {
                        Ok(Some(messages)) => Arc::new(messages),
                        Ok(None) => return Err(EngineError::SearchSuperseded),
                        Err(e) => {
                            tracing::debug!(session = %name, error = %e, "could not read a session's journal for search");
                            continue;
                        }
                    };
                    cache.store(
                        &name,
                        meta.len(),
                        meta.modified().ok(),
                        messages.clone(),
                        self.limits.max_cached_bytes,
                    );
                    messages
                }
            };
            if let Some(found_here) = match_session(&name, &messages, &needle) {
                found.push(found_here);
            }
        }
        cache.retain(&seen);
        tracing::debug!(sessions = seen.len(), matches = found.len(), "searched session messages");
        Ok(found)
    }
}

impl Cache {
    fn store(&mut self, id: &str, len: u64, modified: Option<SystemTime>, messages: Arc<Vec<String>>, max: usize) {
        if let Some(old) = self.sessions.remove(id) {
            self.bytes -= old.bytes;
        }
        let bytes: usize = messages.iter().map(|m| m.len()).sum();
        // Past the budget, sessions are read from disk every time instead.
        if self.bytes + bytes <= max {
            self.bytes += bytes;
            self.sessions.insert(id.to_owned(), CachedSession { len, modified, messages, bytes });
        }
    }

    /// Forget sessions that are gone (deleted).
    fn retain(&mut self, ids: &HashSet<String>) {
        let mut freed = 0;
        self.sessions.retain(|id, cached| {
            let keep = ids.contains(id);
            if !keep {
                freed += cached.bytes;
            }
            keep
        });
        self.bytes -= freed;
    }
}

/// Where a bundled CLI keeps its sessions: `$COPILOT_HOME/session-state`, with `COPILOT_HOME` as
/// the CLI will see it (our setting, then its extra environment, then ours), else `~/.copilot`
/// (what the CLI 1.0.x defaults to; it moves an old `$XDG_CONFIG_HOME/.copilot` there itself).
pub fn session_state_dir(cli: &BundledCli) -> PathBuf {
    let from_env = |name: &str| {
        cli.env
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| std::ffi::OsString::from(value))
            .or_else(|| std::env::var_os(name))
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let home = cli.copilot_home.clone().or_else(|| from_env("COPILOT_HOME")).unwrap_or_else(|| {
        let user_home = if cfg!(windows) { from_env("USERPROFILE") } else { from_env("HOME") };
        user_home.or_else(dirs::home_dir).unwrap_or_default().join(".copilot")
    });
    // A relative COPILOT_HOME is relative to the CLI's working directory.
    cli.working_directory.join(home).join("session-state")
}

/// The user and assistant message texts of one journal, whitespace collapsed, in order; `None`
/// when `cancelled` said so on the way.
fn read_messages(path: &Path, limits: &Limits, cancelled: impl Fn() -> bool) -> std::io::Result<Option<Vec<String>>> {
    let file = std::fs::File::open(path)?;
    let mut reader = BufReader::with_capacity(64 << 10, file.take(limits.max_session_bytes));
    let mut line = Vec::new();
    let mut messages = Vec::new();
    let mut count = 0u32;
    loop {
        count = count.wrapping_add(1);
        if count.is_multiple_of(1024) && cancelled() {
            return Ok(None);
        }
        match read_line_capped(&mut reader, &mut line, limits.max_line_bytes)? {
            Line::End => break,
            Line::TooLong => continue,
            Line::Complete => {
                if let Some(text) = message_text(&line) {
                    let text = normalize_whitespace(&text);
                    if !text.is_empty() {
                        messages.push(text);
                    }
                }
            }
        }
    }
    Ok(Some(messages))
}

/// JSON-RPC's "method not found": a CLI older than `sessions.readPersistedEvents`.
const METHOD_NOT_FOUND: i32 = -32601;
/// The CLI's page budget for `sessions.readPersistedEvents` (a soft 1 MiB of events).
const PAGE_BYTES: u64 = 1 << 20;

/// The user and assistant message texts of one session on a server, read page by page through
/// the CLI (without resuming the session), up to about [`Limits::max_session_bytes`] of events;
/// `None` when `cancelled` said so on the way.
async fn read_remote_messages(
    client: &Client,
    session_id: &str,
    limits: &Limits,
    cancelled: impl Fn() -> bool,
) -> Result<Option<Vec<String>>, github_copilot_sdk::Error> {
    let mut messages = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0u64;
    loop {
        if cancelled() {
            return Ok(None);
        }
        let mut params = json!({ "sessionId": session_id, "max": 1000 });
        if let Some(cursor) = &cursor {
            params["cursor"] = json!(cursor);
        }
        let page = client.call("sessions.readPersistedEvents", Some(params)).await?;
        pages += 1;
        for event in page.get("events").and_then(Value::as_array).into_iter().flatten() {
            let kind = event.get("type").and_then(Value::as_str);
            if kind != Some(USER_MESSAGE) && kind != Some(ASSISTANT_MESSAGE) {
                continue;
            }
            if let Some(content) = event.pointer("/data/content").and_then(Value::as_str) {
                let text = normalize_whitespace(content);
                if !text.is_empty() {
                    messages.push(text);
                }
            }
        }
        let more = page.get("hasMore").and_then(Value::as_bool).unwrap_or(false)
            && page.get("cursorStatus").and_then(Value::as_str) == Some("ok");
        cursor = page.get("cursor").and_then(Value::as_str).map(str::to_owned);
        if !more || cursor.is_none() || pages * PAGE_BYTES >= limits.max_session_bytes {
            return Ok(Some(messages));
        }
    }
}

enum Line {
    Complete,
    TooLong,
    End,
}

/// Read one line into `buf` (without its newline), or skip it when it is longer than `max`.
fn read_line_capped(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], Some(at + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Complete });
        }
    }
}

const USER_MESSAGE: &str = "user.message";
const ASSISTANT_MESSAGE: &str = "assistant.message";

/// The text of a `user.message` or `assistant.message` event line, else `None` (other events,
/// and lines that are not such JSON, are skipped).
fn message_text(line: &[u8]) -> Option<String> {
    // The CLI writes `{"type":"...",...}`: tell the type from the first bytes and parse only the
    // messages (system prompts and tool output make up most of a journal). Any other layout is
    // parsed in full to find out.
    const PREFIX: &[u8] = br#"{"type":""#;
    if let Some(rest) = line.strip_prefix(PREFIX) {
        let end = rest.iter().position(|&b| b == b'"')?;
        let kind = &rest[..end];
        if kind != USER_MESSAGE.as_bytes() && kind != ASSISTANT_MESSAGE.as_bytes() {
            return None;
        }
    }
    #[derive(Deserialize)]
    struct Event {
        #[serde(rename = "type")]
        kind: String,
        data: Option<Data>,
    }
    #[derive(Deserialize)]
    struct Data {
        content: Option<String>,
    }
    let event: Event = serde_json::from_slice(line).ok()?;
    if event.kind != USER_MESSAGE && event.kind != ASSISTANT_MESSAGE {
        return None;
    }
    event.data?.content
}

/// `text` with every run of whitespace turned into one space, trimmed.
fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Lower case, one character at a time (so every folded byte traces back to one character).
fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// [`fold`], with the byte offset in `text` of the character behind each folded byte.
fn fold_with_origin(text: &str) -> (String, Vec<usize>) {
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        for lower in c.to_lowercase() {
            let before = folded.len();
            folded.push(lower);
            origin.extend(std::iter::repeat_n(at, folded.len() - before));
        }
    }
    (folded, origin)
}

/// The byte ranges of `text` where the folded `needle` occurs (not overlapping, in order).
fn hits_in(text: &str, needle: &str) -> Vec<(usize, usize)> {
    let (folded, origin) = fold_with_origin(text);
    folded
        .match_indices(needle)
        .map(|(at, found)| {
            let start = origin[at];
            let last = origin[at + found.len() - 1];
            let end = last + text[last..].chars().next().map_or(0, char::len_utf8);
            (start, end)
        })
        .collect()
}

fn match_session(id: &str, messages: &[String], needle: &str) -> Option<SessionMatch> {
    let mut hits = 0u32;
    let mut snippet = None;
    for message in messages {
        let count = fold(message).matches(needle).count();
        if count == 0 {
            continue;
        }
        hits = hits.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
        if snippet.is_none() {
            snippet = Some(make_snippet(message, &hits_in(message, needle), SNIPPET_CHARS));
        }
    }
    Some(SessionMatch { session_id: id.to_owned(), snippet: snippet?, hits })
}

const ELLIPSIS: &str = "…";

/// At most `max` characters of `text` around its first hit, cut at word boundaries where that
/// costs little, with "…" where text was left out; every hit inside is its own part.
fn make_snippet(text: &str, hits: &[(usize, usize)], max: usize) -> Vec<SnippetPart> {
    let Some(&(first_start, first_end)) = hits.first() else {
        return vec![SnippetPart { text: text.chars().take(max).collect(), hit: false }];
    };
    let chars_between = |a: usize, b: usize| text[a..b].chars().count();
    // Two characters are kept for the ellipses.
    let room = max.saturating_sub(2);
    let hit_chars = chars_between(first_start, first_end);
    let (mut start, mut end);
    if hit_chars >= room {
        start = first_start;
        end = advance(text, first_start, room);
    } else {
        let spare = room - hit_chars;
        let before_available = chars_between(0, first_start);
        let after_available = chars_between(first_end, text.len());
        let mut before = before_available.min(spare / 3);
        let after = after_available.min(spare - before);
        before = before_available.min(spare - after);
        start = retreat(text, first_start, before);
        end = advance(text, first_end, after);
        // Start and end on word boundaries when the word cut in two is short.
        if start > 0
            && !text[..start].ends_with(' ')
            && let Some(space) = text[start..first_start].find(' ')
            && chars_between(start, start + space) <= 15
        {
            start += space;
        }
        if text[start..first_start].starts_with(' ') {
            start += 1;
        }
        if end < text.len()
            && !text[end..].starts_with(' ')
            && let Some(space) = text[first_end..end].rfind(' ')
            && chars_between(first_end + space, end) <= 15
        {
            end = first_end + space;
        }
        if text[first_end..end].ends_with(' ') {
            end -= 1;
        }
    }
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |piece: &str, hit: bool| {
        if piece.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit && !hit => last.text.push_str(piece),
            _ => parts.push(SnippetPart { text: piece.to_owned(), hit }),
        }
    };
    if start > 0 {
        push(ELLIPSIS, false);
    }
    let mut at = start;
    for &(hit_start, hit_end) in hits {
        if hit_end <= start || hit_start >= end {
            continue;
        }
        let (hit_start, hit_end) = (hit_start.max(start), hit_end.min(end));
        push(&text[at..hit_start], false);
        push(&text[hit_start..hit_end], true);
        at = hit_end;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push(ELLIPSIS, false);
    }
    parts
}

/// The byte offset `n` characters after `from` (or the end).
fn advance(text: &str, from: usize, n: usize) -> usize {
    text[from..].char_indices().nth(n).map_or(text.len(), |(at, _)| from + at)
}

/// The byte offset `n` characters before `from` (or the start).
fn retreat(text: &str, from: usize, n: usize) -> usize {
    if n == 0 {
        return from;
    }
    text[..from].char_indices().rev().nth(n - 1).map_or(0, |(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::supervisor::{CliAuth, ExternalServer};
    use serde_json::json;

    /// A session-state folder written the way the CLI writes it.
    struct Store {
        dir: tempfile::TempDir,
    }

    impl Store {
        fn new() -> Self {
            Self { dir: tempfile::tempdir().unwrap() }
        }

        fn root(&self) -> PathBuf {
            self.dir.path().join("session-state")
        }

        fn journal(&self, id: &str) -> PathBuf {
            self.root().join(id).join("events.jsonl")
        }

        /// Write `lines` as the session's whole journal.
        fn write(&self, id: &str, lines: &[String]) {
            std::fs::create_dir_all(self.root().join(id)).unwrap();
            std::fs::write(self.journal(id), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        }

        fn append(&self, id: &str, line: &str) {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().append(true).open(self.journal(id)).unwrap();
            writeln!(file, "{line}").unwrap();
        }

        fn search(&self) -> SessionSearch {
            SessionSearch::local(self.root(), Limits::default())
        }
    }

    /// One journal line, as the CLI 1.0.102 writes it: `type` first, then `data`.
    fn event(kind: &str, data: serde_json::Value) -> String {
        json!({"type": kind, "data": data, "id": "e", "timestamp": "2026-01-01T00:00:00.000Z", "parentId": null})
            .to_string()
    }

    fn user(text: &str) -> String {
        event(
            "user.message",
            json!({"content": text, "transformedContent": format!("<current_datetime>now</current_datetime>\n\n{text}")}),
        )
    }

    fn assistant(text: &str) -> String {
        event("assistant.message", json!({"messageId": "m", "content": text, "toolRequests": []}))
    }

    fn a_session(store: &Store, id: &str) {
        store.write(
            id,
            &[
                event("session.start", json!({"sessionId": id})),
                user("How do I parse TOML in Rust?"),
                event(
                    "system.message",
                    json!({"role": "system", "content": "You are GitHub Copilot. Secret system words: zebra."}),
                ),
                assistant("Use the toml crate:\n\n```rust\nlet value: toml::Value = text.parse()?;\n```"),
                event("tool.execution_start", json!({"toolName": "bash", "arguments": {"command": "echo giraffe"}})),
                event("tool.execution_complete", json!({"success": true, "result": {"content": "giraffe\n"}})),
                assistant(""),
            ],
        );
    }

    fn snippet_text(found: &SessionMatch) -> String {
        found.snippet.iter().map(|p| p.text.as_str()).collect()
    }

    fn marked(found: &SessionMatch) -> Vec<&str> {
        found.snippet.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect()
    }

    async fn find(search: &SessionSearch, query: &str) -> Vec<SessionMatch> {
        let mut found = search.search(query).await.expect("search");
        found.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        found
    }

    #[tokio::test]
    async fn finds_words_in_user_and_assistant_messages_in_any_case() {
        let store = Store::new();
        a_session(&store, "s1");
        store.write("s2", &[user("Something else entirely")]);
        let search = store.search();

        let found = find(&search, "toml").await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].session_id, "s1");
        assert_eq!(found[0].hits, 3, "once in the question, twice in the answer");
        assert_eq!(snippet_text(&found[0]), "How do I parse TOML in Rust?");
        assert_eq!(marked(&found[0]), vec!["TOML"]);

        let found = find(&search, "LET VALUE").await;
        assert_eq!(found.len(), 1);
        assert_eq!(marked(&found[0]), vec!["let value"], "whitespace runs match one space: {found:?}");

        assert!(find(&search, "nothing like this").await.is_empty());
        assert!(find(&search, "   ").await.is_empty(), "a blank query finds nothing");
    }

    #[tokio::test]
    async fn tool_output_arguments_system_prompts_and_wrappers_are_not_searched() {
        let store = Store::new();
        a_session(&store, "s1");
        let search = store.search();
        for query in ["giraffe", "zebra", "current_datetime", "session.start", "toolRequests"] {
            assert!(find(&search, query).await.is_empty(), "{query} is not in a message");
        }
    }

    #[tokio::test]
    async fn bad_lines_are_skipped_and_the_rest_is_still_searched() {
        let store = Store::new();
        store.write(
            "s1",
            &[
                "not json at all".into(),
                r#"{"type":"user.message","data":{"content":"cut off in the mid"#.into(),
                r#"{"type":"user.message","data":{"content":42}}"#.into(),
                r#"{"type":"assistant.message"}"#.into(),
                String::new(),
                r#"{"data":{"content":"keys in another order still count"},"type":"assistant.message"}"#.into(),
                user("after the damage: lighthouse"),
            ],
        );
        // Bytes that are not UTF-8 in the middle of a line.
        let mut bytes = std::fs::read(store.journal("s1")).unwrap();
        bytes.extend_from_slice(b"{\"type\":\"user.message\",\"data\":{\"content\":\"bad \xff\xfe lighthouse\"}}\n");
        std::fs::write(store.journal("s1"), bytes).unwrap();
        store.append("s1", &assistant("the lighthouse again"));
        let search = store.search();

        let found = find(&search, "lighthouse").await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hits, 2, "the line with broken UTF-8 is skipped: {found:?}");
        assert_eq!(find(&search, "another order").await.len(), 1);
        assert!(find(&search, "mid").await.is_empty(), "a cut-off line is skipped");
    }

    #[tokio::test]
    async fn a_missing_folder_or_journal_is_no_match() {
        let store = Store::new();
        assert!(find(&store.search(), "anything").await.is_empty(), "no session-state folder yet");

        std::fs::create_dir_all(store.root().join("no-journal")).unwrap();
        std::fs::create_dir_all(store.root().join(".session-operation-locks")).unwrap();
        std::fs::write(store.root().join(".session-operation-locks").join("events.jsonl"), user("anything") + "\n")
            .unwrap();
        std::fs::write(store.root().join("stray-file"), "anything").unwrap();
        assert!(find(&store.search(), "anything").await.is_empty());
    }

    #[tokio::test]
    async fn long_lines_are_skipped_and_a_journal_is_read_up_to_its_limit() {
        let store = Store::new();
        let huge = "word ".repeat(150);
        store.write("s1", &[user(&format!("{huge} needle-in-a-long-line")), user("short needle-after")]);
        store.write(
            "s2",
            &[user("early marker"), event("system.message", json!({"content": "x".repeat(4000)})), user("late marker")],
        );
        let limits = Limits { max_line_bytes: 1000, max_session_bytes: 3000, max_cached_bytes: 1 << 20 };
        let search = SessionSearch::local(store.root(), limits);

        assert!(find(&search, "needle-in-a-long-line").await.is_empty(), "the long line is skipped");
        assert_eq!(find(&search, "needle-after").await.len(), 1, "the next line is read");
        assert_eq!(find(&search, "early marker").await.len(), 1);
        assert!(find(&search, "late marker").await.is_empty(), "past the byte limit nothing is read");
    }

    #[tokio::test]
    async fn changed_and_deleted_journals_are_read_again() {
        let store = Store::new();
        a_session(&store, "s1");
        let search = store.search();
        assert!(find(&search, "serde").await.is_empty());

        store.append("s1", &user("and with serde?"));
        let found = find(&search, "serde").await;
        assert_eq!(found.len(), 1, "an appended message is found by the next search");

        std::fs::remove_dir_all(store.root().join("s1")).unwrap();
        assert!(find(&search, "serde").await.is_empty(), "a deleted session is not");
        assert_eq!(search.inner.cache.lock().unwrap().sessions.len(), 0, "and is forgotten");
    }

    #[tokio::test]
    async fn past_the_cache_budget_sessions_are_read_from_disk() {
        let store = Store::new();
        store.write("s1", &[user(&"alpha ".repeat(100))]);
        store.write("s2", &[user(&"beta ".repeat(100))]);
        let limits = Limits { max_cached_bytes: 700, ..Limits::default() };
        let search = SessionSearch::local(store.root(), limits);
        assert_eq!(find(&search, "alpha").await.len(), 1);
        assert_eq!(find(&search, "beta").await.len(), 1);
        let cache = search.inner.cache.lock().unwrap();
        assert_eq!(cache.sessions.len(), 1, "only one session fits the budget");
        assert!(cache.bytes <= 700);
    }

    #[tokio::test]
    async fn a_newer_search_supersedes_an_older_one() {
        let store = Store::new();
        a_session(&store, "s1");
        let search = store.search();
        // The older search's number is no longer the latest when it starts reading.
        search.inner.latest.store(7, Ordering::SeqCst);
        let outcome = search.inner.search_blocking(&store.root(), "toml", 6);
        assert!(matches!(outcome, Err(EngineError::SearchSuperseded)), "{outcome:?}");
        assert_eq!(search.inner.search_blocking(&store.root(), "toml", 7).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_server_without_a_way_to_read_it_has_no_content_search() {
        let search = SessionSearch::for_target(&CliTarget::External(ExternalServer::new("10.0.0.2", 4321, None)));
        let error = search.search("anything").await.unwrap_err();
        assert_eq!(error.code(), "search_unavailable");
        assert!(error.to_string().contains("not available on this server"), "{error}");
        assert!(search.session_state_dir().is_none());
    }

    #[tokio::test]
    async fn search_follows_a_switch_to_another_cli() {
        let store = Store::new();
        a_session(&store, "s1");
        let search = store.search();
        assert_eq!(search.search("toml").await.unwrap().len(), 1);
        search.set_target(&CliTarget::External(ExternalServer::new("10.0.0.2", 4321, None)));
        assert!(search.session_state_dir().is_none());
        assert_eq!(search.search("toml").await.unwrap_err().code(), "search_unavailable");
        assert!(search.inner.cache().sessions.is_empty(), "nothing read from the other CLI is kept");
        let cli = BundledCli {
            program: PathBuf::from("copilot"),
            copilot_home: Some(store.root().parent().unwrap().to_path_buf()),
            working_directory: PathBuf::from("/"),
            auth: Default::default(),
            env: Vec::new(),
        };
        search.set_target(&CliTarget::Bundled(cli));
        assert_eq!(search.session_state_dir(), Some(store.root()));
        assert_eq!(search.search("toml").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_overlong_query_is_refused() {
        let store = Store::new();
        let error = store.search().search(&"q".repeat(MAX_QUERY_CHARS + 1)).await.unwrap_err();
        assert_eq!(error.code(), "invalid_request");
    }

    #[test]
    fn snippets_are_bounded_cut_at_words_and_mark_every_hit_inside() {
        let long = format!(
            "{} the needle sits here and another needle follows {}",
            "lorem ipsum dolor sit amet ".repeat(10),
            "consectetur adipiscing elit ".repeat(10)
        );
        let snippet = make_snippet(&long, &hits_in(&long, "needle"), SNIPPET_CHARS);
        let text: String = snippet.iter().map(|p| p.text.as_str()).collect();
        assert!(text.chars().count() <= SNIPPET_CHARS, "{} chars: {text}", text.chars().count());
        assert!(text.starts_with("… ") || text.starts_with('…'), "{text}");
        assert!(text.ends_with('…'), "{text}");
        let words: Vec<&str> = text.trim_matches('…').split(' ').filter(|w| !w.is_empty()).collect();
        for word in words {
            assert!(long.split(' ').any(|w| w == word), "cut mid-word: {word:?} in {text}");
        }
        let hits: Vec<&str> = snippet.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
        assert_eq!(hits, vec!["needle", "needle"]);

        let short = make_snippet("just a needle", &hits_in("just a needle", "needle"), SNIPPET_CHARS);
        assert_eq!(
            short,
            vec![SnippetPart { text: "just a ".into(), hit: false }, SnippetPart { text: "needle".into(), hit: true }]
        );
    }

    #[test]
    fn a_hit_longer_than_the_snippet_is_cut() {
        let text = format!("before {} after", "x".repeat(300));
        let snippet = make_snippet(&text, &hits_in(&text, &"x".repeat(200)), SNIPPET_CHARS);
        let all: String = snippet.iter().map(|p| p.text.as_str()).collect();
        assert!(all.chars().count() <= SNIPPET_CHARS, "{all}");
        assert!(snippet.iter().any(|p| p.hit));
    }

    #[test]
    fn case_folding_maps_back_to_the_original_characters() {
        assert_eq!(hits_in("Über straße", &fold("ÜBER")), vec![(0, "Über".len())]);
        // "İ" folds to two characters: a hit on either covers the whole original character.
        let text = "İstanbul and istanbul";
        let hits = hits_in(text, &fold("i"));
        assert_eq!(&text[hits[0].0..hits[0].1], "İ");
        assert_eq!(hits.len(), 2);
        let found = match_session("s", &[text.to_owned()], &fold("STANBUL")).unwrap();
        assert_eq!(found.hits, 2);
        assert_eq!(marked(&found), vec!["stanbul", "stanbul"]);
    }

    #[test]
    fn the_session_folder_follows_the_cli_home() {
        let mut cli = BundledCli {
            program: "copilot".into(),
            copilot_home: Some("/data/copilot".into()),
            working_directory: "/work".into(),
            auth: CliAuth::CliDefault,
            env: vec![
                ("COPILOT_HOME".into(), "/elsewhere".into()),
                ("HOME".into(), "/home/someone".into()),
                ("USERPROFILE".into(), "/home/someone".into()),
            ],
        };
        assert_eq!(session_state_dir(&cli), PathBuf::from("/data/copilot/session-state"));
        cli.copilot_home = None;
        assert_eq!(session_state_dir(&cli), PathBuf::from("/elsewhere/session-state"), "the CLI's environment");
        cli.env.retain(|(k, _)| k != "COPILOT_HOME");
        // Without one there, the CLI inherits ours; without that, it uses its home's .copilot.
        let expected = std::env::var_os("COPILOT_HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/home/someone/.copilot"));
        assert_eq!(session_state_dir(&cli), expected.join("session-state"));
        cli.env = vec![("COPILOT_HOME".into(), "relative".into())];
        assert_eq!(session_state_dir(&cli), PathBuf::from("/work/relative/session-state"));
    }
}
