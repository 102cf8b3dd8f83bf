/**
 * The gdm panel's model: the open conversation as `gdm.conversation.get` gives it, kept current by
 * `gdm/taskEvent` and `gdm/patchProposed` while a task streams; its HTML (escaped by construction,
 * Markdown through ./markdown); and the one list of messages the panel's webview may send — any
 * other message is refused. Pure: no VS Code here, so node's test runner covers it.
 */
import { escapeHtml, renderMarkdown, settledLength } from "./markdown";
import type { Patch, TaskEvent } from "./protocol";

export interface ConversationSummary {
  conversationId: string;
  title: string | null;
  prompt?: string | null;
  taskIds: string[];
  costUsd: number;
  updatedAt: string;
}

export interface ToolCallView { id: string; name: string; arguments: unknown; }

export interface Message {
  taskId: string;
  role: "user" | "assistant" | "tool";
  text?: string | null;
  toolCalls?: ToolCallView[];
  toolCallId?: string;
  patchIds?: string[];
  costUsd?: number | null;
  status?: string;
  title?: string | null;
  name?: string;
  ok?: boolean;
  error?: boolean;
  streaming?: boolean;
}

export interface Conversation { conversationId: string; costUsd?: number; messages: Message[]; }

export type PanelEvent = TaskEvent & { conversationId?: string | null };

/** What the webview may ask for; `parseWebviewMessage` refuses everything else. */
export type PanelRequest =
  | { type: "ready" }
  | { type: "back" }
  | { type: "refresh" }
  | { type: "open"; conversationId: string }
  | { type: "send"; text: string }
  | { type: "cancel"; taskId: string }
  | { type: "undo"; taskId: string }
  | { type: "review" | "accept" | "reject"; patchId: string }
  | { type: "rendered"; t0: number; at: number }
  | { type: "resync" };

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const MAX_PROMPT_CHARS = 20_000;

/** A webview message as a PanelRequest, or a reason it is refused. */
export function parseWebviewMessage(raw: unknown): PanelRequest | { refused: string } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { refused: "not an object" };
  }
  const m = raw as Record<string, unknown>;
  const keys = Object.keys(m).filter((k) => m[k] !== undefined).sort().join(",");
  const id = (key: string) => typeof m[key] === "string" && ID.test(m[key] as string);
  switch (m.type) {
    case "ready":
    case "back":
    case "refresh":
    case "resync":
      return keys === "type" ? { type: m.type } : { refused: `unexpected fields for ${m.type}: ${keys}` };
    case "open":
      return keys === "conversationId,type" && id("conversationId") ? { type: "open", conversationId: m.conversationId as string }
        : { refused: "open needs a conversationId" };
    case "send":
      return keys === "text,type" && typeof m.text === "string" && m.text.trim() !== "" && m.text.length <= MAX_PROMPT_CHARS
        ? { type: "send", text: m.text } : { refused: `send needs a text of 1 to ${MAX_PROMPT_CHARS} characters` };
    case "cancel":
      return keys === "taskId,type" && id("taskId") ? { type: "cancel", taskId: m.taskId as string } : { refused: "cancel needs a taskId" };
    case "undo":
      return keys === "taskId,type" && id("taskId") ? { type: "undo", taskId: m.taskId as string } : { refused: "undo needs a taskId" };
    case "review":
    case "accept":
    case "reject":
      return keys === "patchId,type" && id("patchId") ? { type: m.type, patchId: m.patchId as string }
        : { refused: `${m.type} needs a patchId` };
    case "rendered":
      return keys === "at,t0,type" && Number.isFinite(m.t0) && Number.isFinite(m.at)
        ? { type: "rendered", t0: m.t0 as number, at: m.at as number } : { refused: "rendered needs t0 and at" };
    default:
      return { refused: `unknown message type ${JSON.stringify(m.type)}` };
  }
}

/** The open conversation, live. */
export class ConversationState {
  conversationId: string | null = null;
  costUsd = 0;
  messages: Message[] = [];
  readonly running = new Set<string>();
  /** A task started from the panel before its first event named its conversation. */
  private pending: string | null = null;

  load(c: Conversation): void {
    this.conversationId = c.conversationId;
    this.costUsd = c.costUsd ?? 0;
    this.messages = c.messages.map((m) => ({ ...m }));
    for (const m of this.messages) {
      if (m.role === "user" && m.status === "running") {
        this.running.add(m.taskId);
      }
    }
  }

  clear(): void {
    this.conversationId = null;
    this.messages = [];
    this.costUsd = 0;
    this.running.clear();
    this.pending = null;
  }

  /** A prompt sent from the panel became task `taskId`. */
  started(taskId: string, prompt: string): void {
    if (this.conversationId === null) {
      this.pending = taskId;
    }
    this.running.add(taskId);
    if (!this.messages.some((m) => m.taskId === taskId && m.role === "user")) {
      this.messages.push({ taskId, role: "user", text: prompt, status: "running" });
    }
  }

  /** The task that a follow-up from the panel continues: the latest of this conversation. */
  lastTaskId(): string | undefined {
    return this.messages.length ? this.messages[this.messages.length - 1].taskId : undefined;
  }

  private mine(ev: { taskId: string; conversationId?: string | null }): boolean {
    if (this.pending === ev.taskId && ev.conversationId) {
      this.conversationId = ev.conversationId;
      this.pending = null;
    }
    return this.conversationId !== null && ev.conversationId === this.conversationId;
  }

  /** Apply a task event; true when the conversation changed. */
  applyEvent(ev: PanelEvent): boolean {
    if (!this.mine(ev)) {
      return false;
    }
    if (!this.messages.some((m) => m.taskId === ev.taskId && m.role === "user")) {
      this.messages.push({ taskId: ev.taskId, role: "user", text: "(a follow-up from another window)", status: "running" });
    }
    const last = this.messages[this.messages.length - 1];
    const open = last && last.taskId === ev.taskId && last.role === "assistant" ? last : undefined;
    switch (ev.kind) {
      case "response":
        if (open && open.streaming) {
          open.text = ev.delta ? (open.text ?? "") + ev.text : ev.text;
          open.streaming = ev.delta;
        } else {
          this.messages.push({ taskId: ev.taskId, role: "assistant", text: ev.text, streaming: ev.delta });
        }
        return true;
      case "toolCall": {
        const call = { id: ev.callId, name: ev.name, arguments: ev.arguments };
        if (open && !open.error) {
          open.toolCalls = [...(open.toolCalls ?? []), call];
          open.streaming = false;
        } else {
          this.messages.push({ taskId: ev.taskId, role: "assistant", text: null, toolCalls: [call] });
        }
        return true;
      }
      case "toolResult":
        this.messages.push({ taskId: ev.taskId, role: "tool", toolCallId: ev.callId, name: ev.name, ok: ev.ok, text: ev.result });
        return true;
      case "error":
        this.messages.push({ taskId: ev.taskId, role: "assistant", text: ev.message, error: true });
        return true;
      case "done":
        this.running.delete(ev.taskId);
        for (const m of this.messages) {
          if (m.taskId === ev.taskId && m.role === "user") {
            m.status = ev.status;
            m.costUsd = ev.costUsd;
          }
          m.streaming = m.taskId === ev.taskId ? false : m.streaming;
        }
        return true;
      default:
        return false;
    }
  }

  /** A patch was proposed or changed; true when it belongs here (its card is drawn from `patches`). */
  applyPatch(p: Patch & { conversationId?: string | null }): boolean {
    if (!this.mine({ taskId: p.taskId, conversationId: p.conversationId })) {
      return false;
    }
    if (!this.messages.some((m) => m.patchIds?.includes(p.patchId))) {
      const tool = [...this.messages].reverse().find((m) => m.role === "tool" && m.taskId === p.taskId);
      if (tool) {
        tool.patchIds = [...(tool.patchIds ?? []), p.patchId];
      }
    }
    return true;
  }
}

function usd(value: number | null | undefined): string {
  return value === null || value === undefined ? "price unknown" : `$${value.toFixed(4)}`;
}

function argsBrief(args: unknown): string {
  if (typeof args === "object" && args !== null) {
    const a = args as Record<string, unknown>;
    const brief = a.path ?? a.query ?? a.pattern ?? a.command ?? "";
    return typeof brief === "string" ? brief : JSON.stringify(brief);
  }
  return String(args).slice(0, 60);
}

function firstLine(text: string | null | undefined): string {
  const line = (text ?? "").trim().split("\n")[0] ?? "";
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

/** A patch's card: file, risk tier and reasons, the review buttons while it is open, Undo (its task) once accepted. */
export function renderPatchCard(patchId: string, patch: Patch | undefined): string {
  if (!patch) {
    return `<div class="patch" data-patch-card="${escapeHtml(patchId)}"><span class="file">${escapeHtml(patchId)}</span>` +
      ` <span class="status">reviewed or unknown here</span></div>`;
  }
  const tier = patch.risk?.tier ?? "LOW";
  const risk = patch.risk ? `${patch.risk.tier} ${patch.risk.score.toFixed(2)}` : "not scored";
  const reasons = (patch.risk?.reasons ?? []).map((r) => `<li>${escapeHtml(r.message)}</li>`).join("");
  const open = patch.status === "pending" || patch.status === "partial";
  const id = escapeHtml(patch.patchId);
  const buttons = open
    ? `<div class="buttons"><button data-action="review" data-patch="${id}">Review</button>` +
      `<button data-action="accept" data-patch="${id}">Accept</button>` +
      `<button data-action="reject" data-patch="${id}" class="secondary">Reject</button>` + undoButton(patch) + `</div>`
    : patch.status === "accepted" ? `<div class="buttons">${undoButton(patch)}</div>` : "";
  return `<div class="patch" data-patch-card="${id}"><div class="head"><span class="file">${escapeHtml(patch.newPath ? `${patch.path} → ${patch.newPath}` : patch.path)}</span>` +
    ` <span class="tier tier-${escapeHtml(tier)}">risk ${escapeHtml(risk)}</span> <span class="status">${escapeHtml(patch.status)}</span></div>` +
    (reasons ? `<ul class="reasons">${reasons}</ul>` : "") + buttons + `</div>`;
}

/** Undo of the patch's task: offered once some of its hunks were accepted. */
function undoButton(patch: Patch): string {
  const accepted = patch.status === "accepted" || (patch.status === "partial" && patch.hunks.some((h) => h.status === "accepted"));
  return accepted && patch.taskId
    ? `<button data-action="undo" data-task="${escapeHtml(patch.taskId)}" class="secondary" title="Undo the task's accepted changes">Undo</button>`
    : "";
}

/** The message that is streaming (always the last one), with the key its Markdown is drawn under. */
export interface Streaming { key: string; text: string; }

export function streamingMessage(state: ConversationState): Streaming | undefined {
  const i = state.messages.length - 1;
  const m = state.messages[i];
  return m && m.role === "assistant" && m.streaming && !m.error && m.text ? { key: `${m.taskId}:${i}`, text: m.text } : undefined;
}

/** What a streamed chunk changes in the drawn message: the blocks that became final since `from`
 * (appended once, before the tail) and the still-open rest (the tail, drawn again). Only these are
 * parsed, so a chunk costs its own size plus the open block's, not the whole message's. */
export interface StreamUpdate { from: number; to: number; append: string; tail: string; }

export function streamUpdate(text: string, from: number): StreamUpdate {
  const to = settledLength(text, from);
  return { from, to, append: to > from ? renderMarkdown(text.slice(from, to)) : "", tail: renderMarkdown(text.slice(to)) };
}

/** A streaming message's Markdown: its final blocks, then a `.tail` that stream updates replace. */
function streamingMarkdown(s: Streaming): string {
  const u = streamUpdate(s.text, 0);
  return `<div class="md" data-stream="${escapeHtml(s.key)}" data-settled="${u.to}">${u.append}<div class="tail">${u.tail}</div>` +
    `<span class="cursor">▍</span></div>`;
}

/** The open conversation as HTML. */
export function renderConversation(state: ConversationState, patches: (id: string) => Patch | undefined): string {
  const results = new Map(state.messages.filter((m) => m.role === "tool" && m.toolCallId).map((m) => [m.toolCallId!, m]));
  const parts: string[] = [`<div class="bar"><button data-action="back" class="secondary" title="All conversations">← Conversations</button>` +
    `<span class="cost" data-cost="conversation">conversation ${usd(state.costUsd)}</span></div>`];
  const streaming = streamingMessage(state);
  for (const m of state.messages) {
    if (m.role === "user") {
      const running = state.running.has(m.taskId);
      parts.push(`<div class="msg user" data-task="${escapeHtml(m.taskId)}"><div class="who">You</div>` +
        `<div class="text">${escapeHtml(m.text ?? "")}</div><div class="meta">${escapeHtml(m.status ?? "")}` +
        `${m.costUsd !== undefined && !running ? ` · task ${usd(m.costUsd)}` : ""}` +
        `${running ? ` <button data-action="cancel" data-task="${escapeHtml(m.taskId)}" class="secondary">Cancel</button>` : ""}</div></div>`);
    } else if (m.role === "assistant") {
      const calls = (m.toolCalls ?? []).map((c) => {
        const result = results.get(c.id);
        const mark = result ? (result.ok === false ? "✗" : "✓") : "…";
        const cards = (result?.patchIds ?? []).map((p) => renderPatchCard(p, patches(p))).join("");
        return `<details class="tool" data-call="${escapeHtml(c.id)}"><summary>${mark} <span class="name">${escapeHtml(c.name)}</span> ` +
          `<span class="arg">${escapeHtml(argsBrief(c.arguments))}</span> <span class="result">${escapeHtml(firstLine(result?.text))}</span></summary>` +
          `<pre class="args">${escapeHtml(JSON.stringify(c.arguments, null, 2))}</pre>` +
          (result ? `<pre class="output">${escapeHtml(result.text ?? "")}</pre>` : "") + `</details>${cards}`;
      }).join("");
      const text = streaming && m === state.messages[state.messages.length - 1] ? streamingMarkdown(streaming)
        : m.text ? `<div class="md${m.error ? " error" : ""}">${renderMarkdown(m.text)}${m.streaming ? '<span class="cursor">▍</span>' : ""}</div>` : "";
      const cost = m.costUsd !== undefined ? `<div class="meta">${usd(m.costUsd)}</div>` : "";
      parts.push(`<div class="msg assistant${m.streaming ? " streaming" : ""}">${text}${calls}${cost}</div>`);
    }
  }
  return parts.join("");
}

/** The list of conversations, newest first. */
export function renderList(conversations: ConversationSummary[]): string {
  if (conversations.length === 0) {
    return `<div class="empty">No conversations in this workspace yet. Ask below, or use "Ask gdm…" on a selection.</div>`;
  }
  const items = conversations.map((c) => {
    const label = c.title || c.prompt || c.conversationId;
    const when = c.updatedAt ? c.updatedAt.replace("T", " ").slice(0, 16) : "";
    return `<li><button class="conversation" data-action="open" data-conversation="${escapeHtml(c.conversationId)}">` +
      `<span class="label">${escapeHtml(label)}</span><span class="meta">${c.taskIds.length} task(s) · ${usd(c.costUsd)} · ${escapeHtml(when)} UTC</span></button></li>`;
  });
  return `<ul class="conversations">${items.join("")}</ul>`;
}
