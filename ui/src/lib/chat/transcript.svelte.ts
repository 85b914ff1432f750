// The transcript of one session as the chat view shows it: folds `ChatEvent` batches (stored history, then
// live batches) into an ordered list of items. Items are objects whose changing fields are `$state`, mutated
// in place, so a streamed delta re-renders only the item it belongs to; the list itself is replaced (one
// copy per applied batch) only when items are added or removed. Owns no DOM and no Backend subscription
// beyond the `openSessionTranscript` helper.

import type { Backend, ChatEvent, ChatEventKind, SentAttachment } from "../backend";
import { FrameBatcher, type FrameBatcherOptions } from "./frame-batcher";

export type ToolStatus = "running" | "succeeded" | "failed";

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What a tool card shows as "what ran", derived from the tool's name and arguments. */
export type ToolSubject =
  | { kind: "command"; command: string; description: string | null }
  | { kind: "edit"; path: string; before: string; after: string }
  | { kind: "create"; path: string; content: string }
  | { kind: "path"; path: string }
  | { kind: "url"; url: string }
  | { kind: "other"; summary: string | null };

export class UserItem {
  readonly kind = "user" as const;
  constructor(
    readonly key: string,
    readonly text: string,
    readonly timestamp: string,
    /** Files, folders and images sent with the message. */
    readonly attachments: readonly SentAttachment[] = [],
  ) {}
}

export class AssistantItem {
  readonly kind = "assistant" as const;
  text: string;
  /** Deltas may still come. */
  streaming: boolean;
  /** A partial the user stopped (abort): kept, marked. */
  stopped: boolean;
  /** A partial whose turn ended when the CLI went away: kept, marked as cut short. */
  cutShort: boolean;
  /** The CLI's whole message arrived; without it, a message is a partial. */
  final: boolean;
  constructor(
    readonly key: string,
    readonly messageId: string,
    readonly timestamp: string,
    /** Given for a message that arrives whole (history): created final, with no write after creation. */
    content?: string,
  ) {
    this.text = $state(content ?? "");
    this.streaming = $state(content === undefined);
    this.stopped = $state(false);
    this.cutShort = $state(false);
    this.final = content !== undefined;
  }
}

export class ReasoningItem {
  readonly kind = "reasoning" as const;
  text: string;
  streaming: boolean;
  stopped: boolean;
  final: boolean;
  constructor(
    readonly key: string,
    readonly reasoningId: string,
    readonly timestamp: string,
    content?: string,
  ) {
    this.text = $state(content ?? "");
    this.streaming = $state(content === undefined);
    this.stopped = $state(false);
    this.final = content !== undefined;
  }
}

export class ToolItem {
  readonly kind = "tool" as const;
  /** Live output (appended from `toolOutput`), replaced by the final result when the tool completes. */
  output = $state("");
  status = $state<ToolStatus>("running");
  error = $state<string | null>(null);
  readonly subject: ToolSubject;
  constructor(
    readonly key: string,
    readonly toolCallId: string,
    readonly toolName: string,
    readonly args: unknown,
    readonly timestamp: string,
  ) {
    this.subject = describeTool(toolName, args);
  }
}

export class ErrorItem {
  readonly kind = "error" as const;
  readonly hint: string;
  constructor(
    readonly key: string,
    readonly errorType: string,
    readonly message: string,
    readonly timestamp: string,
  ) {
    this.hint = hintForError(errorType);
  }
}

/** The CLI compacted the conversation here: a quiet divider, saying how much it summarized. */
export class CompactionItem {
  readonly kind = "compaction" as const;
  constructor(
    readonly key: string,
    readonly messagesRemoved: number | null,
    readonly tokensBefore: number | null,
    readonly tokensAfter: number | null,
    readonly error: string | null,
    readonly timestamp: string,
  ) {}
}

/** Autopilot stopped going on by itself before the task was done: a quiet note saying why, in words. */
export class AutopilotStoppedItem {
  readonly kind = "autopilotStopped" as const;
  readonly text: string;
  constructor(
    readonly key: string,
    reason: string,
    readonly timestamp: string,
  ) {
    this.text =
      reason === "cap_reached"
        ? "Autopilot paused: it reached the most turns it takes on its own. Send a message to go on."
        : reason === "background_timeout"
          ? "Autopilot paused: its work in the background took too long. Send a message to go on."
          : "Autopilot stopped before the task was done. Send a message to go on.";
  }
}

/** The local error type that ends a turn the CLI lost when it stopped (chat.svelte.ts). */
export const CLI_RESTARTED = "cli_restarted";

/** How full a session's context window is, as the CLI last reported it. */
export interface ContextUsage {
  currentTokens: number;
  tokenLimit: number;
}

/** "Stopped by you": the user aborted the turn here. */
export class StoppedItem {
  readonly kind = "stopped" as const;
  constructor(
    readonly key: string,
    readonly timestamp: string,
  ) {}
}

/** Token usage of one finished turn (the sum of its `usage` events). */
export class TurnUsageItem {
  readonly kind = "usage" as const;
  inputTokens: number;
  outputTokens: number;
  models: readonly string[];
  constructor(
    readonly key: string,
    usage: TurnUsage,
  ) {
    this.inputTokens = $state(usage.inputTokens);
    this.outputTokens = $state(usage.outputTokens);
    this.models = $state.raw(usage.models);
  }
}

export type TranscriptItem =
  | UserItem
  | AssistantItem
  | ReasoningItem
  | ToolItem
  | ErrorItem
  | StoppedItem
  | TurnUsageItem
  | CompactionItem
  | AutopilotStoppedItem;

export interface TurnUsage extends TokenUsage {
  /** Distinct models in the order they reported usage. */
  models: readonly string[];
}

/** What a transcript view reads. `SessionTranscript` is the implementation. */
export interface TranscriptView {
  readonly items: readonly TranscriptItem[];
  readonly title: string | null;
  /** A turn is in progress: from a user message (or turn start) until idle or aborted. */
  readonly running: boolean;
  /** Usage of the running turn so far; null between turns. */
  readonly turnUsage: TurnUsage | null;
  readonly totals: TokenUsage;
}

// Streaming-only events (deltas, tool output) never come from the stored history, so they can only repeat
// within a short span of the live channel; remembering the last few suffices and keeps memory bounded.
const RECENT_STREAM_IDS = 1024;

interface OpenTurn {
  inputTokens: number;
  outputTokens: number;
  models: string[];
  hasUsage: boolean;
}

export class SessionTranscript implements TranscriptView {
  // Reactive state is written once per applied batch (in #publish), from the working values below: a
  // 10,000-event history costs a handful of signal writes, not tens of thousands.
  #items = $state.raw<readonly TranscriptItem[]>([]);
  #title = $state<string | null>(null);
  #running = $state(false);
  #turnUsage = $state.raw<TurnUsage | null>(null);
  #totals = $state.raw<TokenUsage>({ inputTokens: 0, outputTokens: 0 });
  #mode = $state<string | null>(null);
  #context = $state.raw<ContextUsage | null>(null);
  #planChanges = $state(0);

  #workingTitle: string | null = null;
  #workingQueueChanges = 0;
  #queueChanges = $state(0);
  #workingRunning = false;
  #usageChanged = false;
  #totalInput = 0;
  #totalOutput = 0;

  /** The working list; published to `items` (copied) at the end of an apply that changed its structure. */
  #list: TranscriptItem[] = [];
  #structureChanged = false;
  #seen = new Set<string>();
  #recentStream = new Set<string>();
  #recentStreamOrder: string[] = [];
  #recentStreamNext = 0;
  /** messageId → item; null marks a message finalized empty (nothing to show, later deltas ignored). */
  #messages = new Map<string, AssistantItem | null>();
  #reasoning = new Map<string, ReasoningItem | null>();
  #tools = new Map<string, ToolItem>();
  /** Items that have only received deltas so far. */
  #partials = new Set<AssistantItem | ReasoningItem>();
  #turn: OpenTurn | null = null;
  #lastUsage: TurnUsageItem | null = null;
  #turnsEnded = 0;

  get items(): readonly TranscriptItem[] {
    return this.#items;
  }

  get title(): string | null {
    return this.#title;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Grows whenever the session's queue may have changed (the CLI said so, or a queued message started). */
  get queueChanges(): number {
    return this.#queueChanges;
  }

  get turnUsage(): TurnUsage | null {
    return this.#turnUsage;
  }

  get totals(): TokenUsage {
    return this.#totals;
  }

  /** The mode the session last switched to ("interactive", "plan", "autopilot"); null until it switches. */
  get mode(): string | null {
    return this.#mode;
  }

  /** How full the context window is; null until the CLI reports it. */
  get context(): ContextUsage | null {
    return this.#context;
  }

  /** Counts the agent's changes to the session's plan (a panel showing the plan reloads when it grows). */
  get planChanges(): number {
    return this.#planChanges;
  }

  /** How many turns the applied events ended (idle or aborted). Not reactive: compare it around an apply. */
  get turnsEnded(): number {
    return this.#turnsEnded;
  }

  /**
   * Keeps the replies that were cut short in `previous` (this session before it reloaded from the CLI's history,
   * which never stores a partial reply): each goes back after the item it followed, if this one lacks it.
   */
  keepCutShort(previous: TranscriptView): void {
    const old = previous.items;
    old.forEach((item, index) => {
      if (item.kind !== "assistant" || !item.cutShort || this.#messages.has(item.messageId)) return;
      const before = old[index - 1]?.key;
      const at = before === undefined ? -1 : this.#list.findIndex((other) => other.key === before);
      this.#list.splice(at < 0 ? this.#list.length : at + 1, 0, item);
      this.#messages.set(item.messageId, item);
      this.#seen.add(item.key);
      this.#structureChanged = true;
    });
    this.#publish();
  }

  /** Applies one batch of events (history or live), in order. */
  apply(events: readonly ChatEvent[]): void {
    for (const event of events) this.#applyEvent(event);
    this.#publish();
  }

  /** Applies several batches as one update (what a frame flush hands over). */
  applyBatches(batches: readonly (readonly ChatEvent[])[]): void {
    for (const batch of batches) for (const event of batch) this.#applyEvent(event);
    this.#publish();
  }

  #publish(): void {
    if (this.#structureChanged) {
      this.#structureChanged = false;
      this.#items = this.#list.slice();
    }
    if (this.#title !== this.#workingTitle) this.#title = this.#workingTitle;
    if (this.#running !== this.#workingRunning) this.#running = this.#workingRunning;
    if (this.#queueChanges !== this.#workingQueueChanges) this.#queueChanges = this.#workingQueueChanges;
    if (this.#usageChanged) {
      this.#usageChanged = false;
      this.#totals = { inputTokens: this.#totalInput, outputTokens: this.#totalOutput };
      const turn = this.#turn;
      this.#turnUsage = turn
        ? { inputTokens: turn.inputTokens, outputTokens: turn.outputTokens, models: [...turn.models] }
        : null;
    }
  }

  #push(item: TranscriptItem): void {
    this.#list.push(item);
    this.#structureChanged = true;
  }

  #isDuplicate(event: ChatEvent): boolean {
    const type = event.kind.type;
    if (type === "messageDelta" || type === "reasoningDelta" || type === "toolOutput") {
      if (this.#recentStream.has(event.id)) return true;
      if (this.#recentStreamOrder.length < RECENT_STREAM_IDS) {
        this.#recentStreamOrder.push(event.id);
      } else {
        this.#recentStream.delete(this.#recentStreamOrder[this.#recentStreamNext]!);
        this.#recentStreamOrder[this.#recentStreamNext] = event.id;
        this.#recentStreamNext = (this.#recentStreamNext + 1) % RECENT_STREAM_IDS;
      }
      this.#recentStream.add(event.id);
      return false;
    }
    if (this.#seen.has(event.id)) return true;
    this.#seen.add(event.id);
    return false;
  }

  #applyEvent(event: ChatEvent): void {
    if (this.#isDuplicate(event)) return;
    const kind: ChatEventKind = event.kind;
    switch (kind.type) {
      case "userMessage":
        // A new user message while a turn is open (a history that ends mid-turn, then a resend): close it.
        if (this.#turn) this.#endTurn(event, "discard");
        this.#beginTurn();
        // Autopilot continues on its own with empty user messages: nothing the user wrote, nothing to show.
        if (kind.content !== "" || (kind.attachments ?? []).length > 0) {
          this.#push(new UserItem(event.id, kind.content, event.timestamp, kind.attachments ?? []));
        }
        this.#workingQueueChanges++;
        this.#workingRunning = true;
        break;
      case "turnStarted":
        if (!this.#turn) this.#beginTurn();
        this.#workingRunning = true;
        break;
      case "messageDelta": {
        let message = this.#messages.get(kind.messageId);
        if (message === null || message?.final) break;
        if (message === undefined) {
          message = new AssistantItem(event.id, kind.messageId, event.timestamp);
          this.#messages.set(kind.messageId, message);
          this.#partials.add(message);
          this.#push(message);
        }
        message.text += kind.delta;
        break;
      }
      case "assistantMessage":
        this.#finalize(this.#messages, kind.messageId, kind.content, () => {
          return new AssistantItem(event.id, kind.messageId, event.timestamp, kind.content);
        });
        break;
      case "reasoningDelta": {
        let reasoning = this.#reasoning.get(kind.reasoningId);
        if (reasoning === null || reasoning?.final) break;
        if (reasoning === undefined) {
          reasoning = new ReasoningItem(event.id, kind.reasoningId, event.timestamp);
          this.#reasoning.set(kind.reasoningId, reasoning);
          this.#partials.add(reasoning);
          this.#push(reasoning);
        }
        reasoning.text += kind.delta;
        break;
      }
      case "reasoning":
        this.#finalize(this.#reasoning, kind.reasoningId, kind.content, () => {
          return new ReasoningItem(event.id, kind.reasoningId, event.timestamp, kind.content);
        });
        break;
      case "toolStarted": {
        if (this.#tools.has(kind.toolCallId)) break;
        const tool = new ToolItem(event.id, kind.toolCallId, kind.toolName, kind.arguments, event.timestamp);
        this.#tools.set(kind.toolCallId, tool);
        this.#push(tool);
        break;
      }
      case "toolOutput": {
        const tool = this.#tools.get(kind.toolCallId);
        if (tool && tool.status === "running") tool.output += kind.output;
        break;
      }
      case "toolCompleted": {
        let tool = this.#tools.get(kind.toolCallId);
        if (!tool) {
          // Its start is not in what we were given (a trimmed history): show the result anyway.
          tool = new ToolItem(event.id, kind.toolCallId, "tool", null, event.timestamp);
          this.#tools.set(kind.toolCallId, tool);
          this.#push(tool);
        }
        tool.status = kind.success ? "succeeded" : "failed";
        tool.error = kind.success ? null : (kind.error ?? null);
        if (kind.output) tool.output = kind.output;
        // The agent writes its plan (plan.md in the session folder) with the file tools; the CLI sends
        // `session.plan_changed` only for changes made through its plan methods.
        if (kind.success && writesPlan(tool.subject)) this.#planChanges++;
        break;
      }
      case "usage":
        this.#addUsage(kind.model, kind.inputTokens ?? 0, kind.outputTokens ?? 0);
        break;
      case "titleChanged":
        this.#workingTitle = kind.title;
        break;
      case "sessionError":
        // The CLI went away mid-reply: what had arrived stays, marked as cut short. Other errors end an attempt
        // the CLI retries or reports whole.
        this.#settlePartials(kind.errorType === CLI_RESTARTED ? "cut" : "discard");
        this.#push(new ErrorItem(event.id, kind.errorType, kind.message, event.timestamp));
        break;
      case "idle":
        this.#endTurn(event, "discard");
        this.#workingRunning = false;
        this.#turnsEnded++;
        break;
      case "queueChanged":
        this.#workingQueueChanges++;
        break;
      case "aborted":
        this.#settlePartials("stop");
        for (const tool of this.#tools.values()) {
          if (tool.status === "running") {
            tool.status = "failed";
            tool.error = "stopped by you";
          }
        }
        this.#push(new StoppedItem(event.id, event.timestamp));
        this.#endTurn(event, "stop");
        this.#workingRunning = false;
        this.#turnsEnded++;
        break;
      case "modeChanged":
        this.#mode = kind.mode;
        break;
      case "planChanged":
        this.#planChanges++;
        break;
      case "contextUsage":
        this.#context = { currentTokens: kind.currentTokens, tokenLimit: kind.tokenLimit };
        break;
      case "autopilotStopped":
        this.#push(new AutopilotStoppedItem(event.id, kind.reason, event.timestamp));
        break;
      case "compacted":
        this.#push(
          new CompactionItem(
            event.id,
            kind.messagesRemoved,
            kind.tokensBefore,
            kind.tokensAfter,
            kind.error,
            event.timestamp,
          ),
        );
        break;
    }
  }

  #finalize<I extends AssistantItem | ReasoningItem>(
    map: Map<string, I | null>,
    id: string,
    content: string,
    create: () => I,
  ): void {
    const existing = map.get(id);
    if (existing === null) return;
    if (content.trim() === "") {
      // A message that carried only tool requests: nothing to show.
      map.set(id, null);
      if (existing) this.#remove(existing);
      return;
    }
    if (!existing) {
      const item = create();
      map.set(id, item);
      this.#push(item);
      return;
    }
    if (existing.text !== content) existing.text = content;
    existing.streaming = false;
    existing.final = true;
    this.#partials.delete(existing);
  }

  #remove(item: TranscriptItem): void {
    this.#partials.delete(item as AssistantItem);
    const index = this.#list.lastIndexOf(item);
    if (index < 0) return;
    this.#list.splice(index, 1);
    this.#structureChanged = true;
  }

  /**
   * The model attempt ended. A message that only ever got deltas is a discarded partial (the CLI retries a
   * provider error under a new messageId and never finalizes the old one): remove it; on abort keep it, stopped.
   */
  #settlePartials(how: "discard" | "stop" | "cut"): void {
    if (this.#partials.size === 0) return;
    for (const item of this.#partials) {
      item.streaming = false;
      if (how === "stop" || how === "cut") {
        item.stopped = true;
        if (how === "cut" && item.kind === "assistant") item.cutShort = true;
        item.final = true;
      } else {
        const index = this.#list.lastIndexOf(item);
        if (index >= 0) this.#list.splice(index, 1);
        if (item.kind === "assistant") this.#messages.set(item.messageId, null);
        else this.#reasoning.set(item.reasoningId, null);
        this.#structureChanged = true;
      }
    }
    this.#partials.clear();
  }

  #beginTurn(): void {
    this.#turn = { inputTokens: 0, outputTokens: 0, models: [], hasUsage: false };
    this.#usageChanged = true;
  }

  #endTurn(event: ChatEvent, partials: "discard" | "stop"): void {
    this.#settlePartials(partials);
    const turn = this.#turn;
    this.#turn = null;
    this.#usageChanged = true;
    if (turn?.hasUsage) {
      const item = new TurnUsageItem(`usage:${event.id}`, {
        inputTokens: turn.inputTokens,
        outputTokens: turn.outputTokens,
        models: turn.models,
      });
      this.#lastUsage = item;
      this.#push(item);
    }
  }

  #addUsage(model: string, input: number, output: number): void {
    this.#totalInput += input;
    this.#totalOutput += output;
    this.#usageChanged = true;
    const turn = this.#turn;
    if (turn) {
      turn.inputTokens += input;
      turn.outputTokens += output;
      turn.hasUsage = true;
      if (model && !turn.models.includes(model)) turn.models.push(model);
    } else if (this.#lastUsage) {
      // Usage reported just after the turn ended belongs to that turn.
      const last = this.#lastUsage;
      last.inputTokens += input;
      last.outputTokens += output;
      if (model && !last.models.includes(model)) last.models = [...last.models, model];
    }
  }
}

/** Whether a tool call wrote the session's plan file (plan.md). */
export function writesPlan(subject: ToolSubject): boolean {
  return (subject.kind === "edit" || subject.kind === "create") && /(^|[\\/])plan\.md$/.test(subject.path);
}

/** What to tell the user after a session error, by its type (the CLI's code, never its message text). */
export function hintForError(errorType: string): string {
  const type = errorType.toLowerCase();
  if (/auth|token|unauthori[sz]ed|forbidden|login/.test(type)) {
    return "Sign in to GitHub again, then send your message again.";
  }
  if (/rate|quota|limit_exceeded|too_many/.test(type)) return "Copilot is rate limited. Wait a moment, then try again.";
  if (/context|too_long|length/.test(type)) return "The conversation is too long for the model. Start a new session.";
  if (/network|connect|timeout|offline|socket/.test(type)) {
    return "Check your network connection, then send your message again.";
  }
  if (/model/.test(type)) return "Pick another model, then send your message again.";
  return "Send your message again to retry.";
}

const COMMAND_TOOLS = new Set(["bash", "shell", "powershell", "read_bash", "write_bash", "run_in_terminal"]);
const FETCH_TOOLS = new Set(["web_fetch", "fetch", "fetch_url"]);

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Picks out what a person wants to see of a tool call: the command, the file, the URL. */
export function describeTool(toolName: string, args: unknown): ToolSubject {
  const a = typeof args === "object" && args !== null ? (args as Record<string, unknown>) : {};
  const path = str(a.path) ?? str(a.file_path) ?? str(a.filePath);
  const command = str(a.command);
  if (command !== null && (COMMAND_TOOLS.has(toolName) || !path)) {
    return { kind: "command", command, description: str(a.description) };
  }
  if (path !== null) {
    const before = str(a.old_str);
    const after = str(a.new_str);
    if (before !== null || after !== null) return { kind: "edit", path, before: before ?? "", after: after ?? "" };
    const content = str(a.file_text);
    if (content !== null) return { kind: "create", path, content };
    return { kind: "path", path };
  }
  const url = str(a.url);
  if (url !== null || FETCH_TOOLS.has(toolName)) return { kind: "url", url: url ?? "" };
  return { kind: "other", summary: summarize(args) };
}

function summarize(args: unknown): string | null {
  if (args === null || args === undefined) return null;
  try {
    const text = JSON.stringify(args);
    if (!text || text === "{}") return null;
    return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  } catch {
    return null;
  }
}

export interface DiffLine {
  kind: "context" | "added" | "removed";
  text: string;
}

// Beyond this many cells of the LCS table a diff is shown as "all removed, all added".
const DIFF_CELLS = 250_000;

/** A line diff of `before` → `after` (common prefix and suffix, LCS in between). */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before === "" ? [] : before.split("\n");
  const b = after === "" ? [] : after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ kind: "context", text: a[i]! });
  const n = endA - start;
  const m = endB - start;
  if (n * m > DIFF_CELLS) {
    for (let i = start; i < endA; i++) out.push({ kind: "removed", text: a[i]! });
    for (let j = start; j < endB; j++) out.push({ kind: "added", text: b[j]! });
  } else {
    // lcs[i][j]: length of the LCS of a[start+i..endA) and b[start+j..endB), in one flat array.
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] =
          a[start + i] === b[start + j]
            ? lcs[(i + 1) * width + j + 1]! + 1
            : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        out.push({ kind: "context", text: a[start + i]! });
        i++;
        j++;
      } else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
        out.push({ kind: "added", text: b[start + j]! });
        j++;
      } else {
        out.push({ kind: "removed", text: a[start + i]! });
        i++;
      }
    }
  }
  for (let i = endA; i < a.length; i++) out.push({ kind: "context", text: a[i]! });
  return out;
}

/** An open session's transcript, fed by history then live batches at most once per frame. */
export interface OpenTranscript {
  transcript: SessionTranscript;
  /** Stops the live events (closes the Backend session) and drops what is pending. */
  close(): Promise<void>;
}

export interface OpenTranscriptOptions extends Omit<FrameBatcherOptions, "paused"> {
  /**
   * Called after live events that end a turn (idle or aborted) were applied. A short turn can start and end
   * within one frame's batch, so `running` may never be seen true: this is how to hear that a turn ended.
   */
  onTurnEnded?: () => void;
  /**
   * Called with the session's last screen, read from its journal, when that arrives before the history: a
   * transcript of its own, to show read-only meanwhile. The transcript `openSessionTranscript` resolves to
   * replaces it; nothing of it is carried over (rows of the same event have the same key).
   */
  onProvisional?: (provisional: SessionTranscript) => void;
}

/**
 * Opens `sessionId` through the Backend: asks for the journal's tail (for `onProvisional`) and opens the session at
 * once; live batches are collected (paused) while the history loads, the history is applied first, then the
 * collected and later batches go in once per animation frame. A history handed over in two parts (the journal's
 * while the CLI resumes the session, then what follows it) is applied as each part comes, so little is left to do
 * when the session is open. Exactly once: the transcript is built from the history and the live batches only,
 * each event kept the first time its id comes; the tail is never part of it.
 */
export async function openSessionTranscript(
  backend: Pick<Backend, "openSession" | "sessionTail">,
  sessionId: string,
  options: OpenTranscriptOptions = {},
): Promise<OpenTranscript> {
  const { onTurnEnded, onProvisional, ...batcherOptions } = options;
  let historyIn = false;
  if (onProvisional) {
    backend.sessionTail(sessionId).then(
      (tail) => {
        if (historyIn || !tail || tail.length === 0) return;
        const provisional = new SessionTranscript();
        provisional.apply(tail);
        onProvisional(provisional);
      },
      // No tail: the history shows when it comes, as without one.
      () => {},
    );
  }
  // The journal's history, applied when it comes: it stands if the answer follows it, and is dropped if not.
  let fromJournal: SessionTranscript | undefined;
  const onJournal = (history: ChatEvent[]) => {
    fromJournal = new SessionTranscript();
    fromJournal.apply(history);
    performance.mark?.("copilot:journal-applied");
  };
  let transcript = new SessionTranscript();
  const flush = (batches: ChatEvent[][]) => {
    const ended = transcript.turnsEnded;
    transcript.applyBatches(batches);
    if (transcript.turnsEnded !== ended) onTurnEnded?.();
  };
  const batcher = new FrameBatcher<ChatEvent[]>(flush, { ...batcherOptions, paused: true });
  let opened;
  try {
    opened = await backend.openSession(sessionId, (batch) => batcher.push(batch), onJournal);
  } catch (error) {
    historyIn = true;
    batcher.dispose();
    throw error;
  }
  historyIn = true;
  // Marks for the benchmark (tests/src/bin/bench_ui.rs), which reads them to tell the hand-over from the work here.
  performance.mark?.("copilot:history-received");
  if (opened.afterJournal) {
    if (!fromJournal) {
      // The Backend promises the start before the rest; showing the rest alone would lose messages.
      batcher.dispose();
      await opened.close();
      throw new Error("The session's history came without its start. Open the session again.");
    }
    transcript = fromJournal;
  }
  fromJournal = undefined;
  transcript.apply(opened.history);
  performance.mark?.("copilot:history-applied");
  batcher.resume();
  // Only `close` is kept: the history's events are in the transcript now, and holding the array would keep
  // every one of them alive for as long as the session is open.
  const closeSession = opened.close;
  return {
    transcript,
    async close() {
      batcher.dispose();
      await closeSession();
    },
  };
}
