/**
 * The gdm panel's model: the open conversation as `gdm.conversation.get` gives it, kept current by
 * `gdm/taskEvent` and `gdm/patchProposed` while a task streams, and the one list of messages the
 * panel's webview may send — any other message is refused. Its HTML is ./panelHtml. Pure: no VS
 * Code here, so node's test runner covers it.
 */
import type { Patch, TaskEvent, ToolFacts } from "./protocol";

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
  /** A tool result's facts (hit count, exit code…), read by the server from the whole result. */
  facts?: ToolFacts;
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
  | { type: "undo" | "commit"; taskId: string }
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
    case "commit":
      return keys === "taskId,type" && id("taskId") ? { type: m.type, taskId: m.taskId as string } : { refused: `${m.type} needs a taskId` };
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
        this.messages.push({ taskId: ev.taskId, role: "tool", toolCallId: ev.callId, name: ev.name, ok: ev.ok, text: ev.result, facts: ev.facts });
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
