/**
 * The gdm panel's HTML, escaped by construction (Markdown through ./markdown, tool calls through
 * ./toolCalls): the open conversation — prompts, the model's text (the streaming message drawn so
 * that stream updates can touch it alone), each tool call as a sentence with its arguments and
 * result one click away, patch cards, and a footer per task with "Commit this task" once its
 * patches are accepted — and the list of conversations. Pure: no VS Code here.
 */
import { escapeHtml, renderMarkdown, settledLength } from "./markdown";
import type { Patch } from "./protocol";
import type { ConversationState, ConversationSummary, Message, ToolCallView } from "./panelModel";
import { failure, renderArguments, toolSentence } from "./toolCalls";

function usd(value: number | null | undefined): string {
  return value === null || value === undefined ? "price unknown" : `$${value.toFixed(4)}`;
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

/** A commit made from the panel: the server's `gdm.task.commit` answer. */
export interface Committed { commit: string; message: string; files?: string[]; }

/** What the conversation's HTML is drawn from besides the state. */
export interface RenderContext {
  patches: (id: string) => Patch | undefined;
  /** The commit made of a task from this panel, if any. */
  committed?: (taskId: string) => Committed | undefined;
}

/** One tool call: its sentence (a mark: ✓ done, ✗ failed, … running), then, one click away, its
 * arguments pretty-printed and its whole result; the patch cards of what it proposed below it. */
function renderToolCall(call: ToolCallView, result: Message | undefined, ctx: RenderContext): string {
  const mark = result ? (result.ok === false ? "✗" : "✓") : "…";
  const why = failure(result);
  const cards = (result?.patchIds ?? []).map((p) => renderPatchCard(p, ctx.patches(p))).join("");
  return `<details class="tool${why ? " failed" : ""}" data-call="${escapeHtml(call.id)}" data-tool="${escapeHtml(call.name)}">` +
    `<summary><span class="mark">${mark}</span> <span class="sentence">${escapeHtml(toolSentence(call.name, call.arguments, result))}</span>` +
    (why ? ` <span class="why">— ${escapeHtml(why)}</span>` : "") + `</summary>` +
    `<div class="call"><div class="label">${escapeHtml(call.name)} arguments</div>${renderArguments(call.arguments)}` +
    (result ? `<div class="label">result</div><pre class="output">${escapeHtml(result.text ?? "")}</pre>` : "") +
    `</div></details>${cards}`;
}

/** The patches a task owns now (a follow-up that extends a patch takes it over). */
function taskPatches(state: ConversationState, taskId: string, ctx: RenderContext): Patch[] {
  const ids = new Set(state.messages.filter((m) => m.taskId === taskId).flatMap((m) => m.patchIds ?? []));
  return [...ids].map((id) => ctx.patches(id)).filter((p): p is Patch => p !== undefined && p.taskId === taskId);
}

/** Below a task's last message: "Commit this task" once every patch it owns is decided and some
 * accepted (a patch is `accepted` when all its hunks are decided and one was), or the commit made
 * from here. */
export function renderTaskFooter(state: ConversationState, taskId: string, ctx: RenderContext): string {
  const done = ctx.committed?.(taskId);
  const id = escapeHtml(taskId);
  if (done) {
    const what = `committed ${done.commit.slice(0, 10)}: ${done.message.split("\n")[0]}`;
    return `<div class="task-foot" data-task-foot="${id}"><span class="committed">${escapeHtml(what)}</span></div>`;
  }
  const own = taskPatches(state, taskId, ctx);
  const decided = own.every((p) => p.status === "accepted" || p.status === "rejected");
  if (state.running.has(taskId) || !decided || !own.some((p) => p.status === "accepted")) {
    return "";
  }
  return `<div class="task-foot" data-task-foot="${id}"><button data-action="commit" data-task="${id}" ` +
    `title="Commit the task's accepted changes (gdm.task.commit)">Commit this task</button></div>`;
}

function renderUser(state: ConversationState, m: Message): string {
  const running = state.running.has(m.taskId);
  return `<div class="msg user" data-task="${escapeHtml(m.taskId)}"><div class="who">You</div>` +
    `<div class="text">${escapeHtml(m.text ?? "")}</div><div class="meta">${escapeHtml(m.status ?? "")}` +
    `${m.costUsd !== undefined && !running ? ` · task ${usd(m.costUsd)}` : ""}` +
    `${running ? ` <button data-action="cancel" data-task="${escapeHtml(m.taskId)}" class="secondary">Cancel</button>` : ""}</div></div>`;
}

/** The open conversation as HTML. */
export function renderConversation(state: ConversationState, ctx: RenderContext): string {
  const results = new Map(state.messages.filter((m) => m.role === "tool" && m.toolCallId).map((m) => [m.toolCallId!, m]));
  const parts: string[] = [`<div class="bar"><button data-action="back" class="secondary" title="All conversations">← Conversations</button>` +
    `<span class="cost" data-cost="conversation">conversation ${usd(state.costUsd)}</span></div>`];
  const streaming = streamingMessage(state);
  const last = state.messages.length - 1;
  state.messages.forEach((m, i) => {
    if (m.role === "user") {
      parts.push(renderUser(state, m));
    } else if (m.role === "assistant") {
      const calls = (m.toolCalls ?? []).map((c) => renderToolCall(c, results.get(c.id), ctx)).join("");
      const text = streaming && i === last ? streamingMarkdown(streaming)
        : m.text ? `<div class="md${m.error ? " error" : ""}">${renderMarkdown(m.text)}${m.streaming ? '<span class="cursor">▍</span>' : ""}</div>` : "";
      const cost = m.costUsd !== undefined ? `<div class="meta">${usd(m.costUsd)}</div>` : "";
      parts.push(`<div class="msg assistant${m.streaming ? " streaming" : ""}">${text}${calls}${cost}</div>`);
    }
    if (i === last || state.messages[i + 1].taskId !== m.taskId) {
      parts.push(renderTaskFooter(state, m.taskId, ctx));
    }
  });
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
