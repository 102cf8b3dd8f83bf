/**
 * The "gdm" view in the activity bar: this workspace's conversations, newest first; one opened
 * shows as a conversation (prompts, the model's Markdown as it streams, collapsed tool calls,
 * patch cards with Review / Accept / Reject, and Undo once accepted), a prompt box that sends a follow-up, Cancel while a
 * task runs, cost per message and for the conversation. The webview has a strict CSP (nothing
 * remote, one nonce'd inline script and style), draws with VS Code's theme colours, and every
 * message it sends is checked against the panel's own list (logic/panelModel.ts); anything else is
 * refused and logged.
 */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import {
  ConversationState, parseWebviewMessage, type Conversation, type ConversationSummary, type PanelEvent, type PanelRequest,
} from "./logic/panelModel";
import { renderConversation, renderList, streamingMessage, streamUpdate, type Committed } from "./logic/panelHtml";
import { settledLength } from "./logic/markdown";
import type { AskResult, Patch } from "./logic/protocol";
import { PANEL_SCRIPT, PANEL_STYLE } from "./panelWebview";

export const PANEL_VIEW = "gdm.conversations";
/** The server command behind "Commit this task" (DESIGN.md). */
const COMMIT_COMMAND = "gdm.task.commit";
/** At most one drawing a frame: what arrives sooner after the last one is coalesced into the next. */
const FRAME_MS = 16;

export interface PanelDeps {
  /** Run a command (the server's go through the language client and its middleware). */
  execute: (command: string, ...args: unknown[]) => Thenable<unknown>;
  patch: (patchId: string) => Patch | undefined;
  log: (line: string) => void;
}

export class ConversationPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly state = new ConversationState();
  private readonly patches = new Map<string, Patch>();
  private list: ConversationSummary[] = [];
  /** Tasks committed from this panel (`gdm.task.commit`'s answers), shown in their footers. */
  private readonly committed = new Map<string, Committed>();
  private timer: NodeJS.Timeout | undefined;
  private chunkAt: number | undefined;
  private lastPostAt = 0;
  /** What waits to be drawn: only the streaming message's text, or everything. */
  private dirty: "none" | "stream" | "full" = "none";
  /** The streaming message as the webview shows it: its key and how much of its text is final there. */
  private drawn: { key: string; settled: number } | undefined;
  /** Streamed chunk → rendered in the webview, ms (performance marks, for the e2e figure). */
  readonly renderLatencies: number[] = [];

  constructor(private readonly deps: PanelDeps) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.drawn = undefined;
    view.webview.options = { enableScripts: true, localResourceRoots: [] };
    view.webview.html = shell(view.webview.cspSource);
    view.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw));
    view.onDidChangeVisibility(() => view.visible && this.render());
  }

  /** A `gdm/taskEvent`. */
  onEvent(ev: PanelEvent): void {
    if (this.state.applyEvent(ev)) {
      const chunk = ev.kind === "response" && ev.delta;
      if (chunk) {
        this.chunkAt ??= Date.now();
      }
      this.schedule(chunk ? "stream" : "full");
    }
    if (ev.kind === "done") {
      this.logLatencies();
      void this.refreshAfterDone(ev.conversationId ?? null);
    }
  }

  /** A `gdm/patchProposed`. */
  onPatch(p: Patch & { conversationId?: string | null }): void {
    this.patches.set(p.patchId, p);
    if (this.state.applyPatch(p)) {
      this.schedule("full");
    }
  }

  /** The figure of the e2e: streamed chunk reaching the extension → drawn in the webview. */
  private logLatencies(): void {
    const all = [...this.renderLatencies].sort((a, b) => a - b);
    if (all.length) {
      const at = (q: number) => all[Math.min(all.length - 1, Math.ceil(q * all.length) - 1)];
      this.deps.log(`gdm panel: streamed chunk → render over ${all.length} renders: median ${at(0.5)} ms, p95 ${at(0.95)} ms`);
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const request = parseWebviewMessage(raw);
    if ("refused" in request) {
      this.deps.log(`gdm panel: refused a webview message that is not one of the panel's own (${request.refused}): ` +
        JSON.stringify(raw)?.slice(0, 200));
      return;
    }
    try {
      await this.handle(request);
    } catch (err) {
      this.deps.log(`gdm panel: ${request.type} failed: ${err instanceof Error ? err.message : String(err)}`);
      void vscode.window.showErrorMessage(`gdm: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async handle(r: PanelRequest): Promise<void> {
    switch (r.type) {
      case "ready":
      case "refresh":
        return this.refreshList(r.type === "refresh" || this.state.conversationId === null);
      case "back":
        this.state.clear();
        return this.refreshList(true);
      case "open":
        return this.open(r.conversationId);
      case "send":
        return this.send(r.text);
      case "cancel":
        await this.deps.execute("gdm.cancel", { taskId: r.taskId });
        return;
      case "undo":
        await this.deps.execute("gdm.task.undo", { taskId: r.taskId });
        if (this.state.conversationId !== null) {
          await this.open(this.state.conversationId);
        }
        return;
      case "commit":
        return this.commit(r.taskId);
      case "review": {
        const patch = this.patches.get(r.patchId) ?? this.deps.patch(r.patchId);
        await this.deps.execute("gdm.reviewAll", patch ? vscode.Uri.parse(patch.uri) : undefined);
        return;
      }
      case "accept":
      case "reject":
        await this.deps.execute(`gdm.patch.${r.type}`, { patchId: r.patchId });
        return;
      case "rendered":
        if (r.t0 > 0) {
          this.renderLatencies.push(Math.max(0, r.at - r.t0));
        }
        return;
      case "resync": // the webview lacks the streaming message a stream update was for
        this.render();
        return;
    }
  }

  /** Open a conversation (from the list, or after a restart). */
  async open(conversationId: string): Promise<void> {
    const got = (await this.deps.execute("gdm.conversation.get", { conversationId })) as Conversation | undefined;
    if (got) {
      this.state.clear();
      this.state.load(got);
      this.render();
    }
  }

  private async send(text: string): Promise<void> {
    const followUp = this.state.conversationId !== null ? this.state.lastTaskId() : undefined;
    const payload: Record<string, unknown> = { prompt: text };
    const editor = vscode.window.activeTextEditor;
    if (editor && editor.document.uri.scheme === "file") {
      payload.uri = editor.document.uri.toString();
    }
    if (followUp) {
      payload.followUp = followUp;
    } else {
      this.state.clear();
    }
    const result = (await this.deps.execute("gdm.ask", payload)) as AskResult | undefined;
    if (result?.taskId) {
      this.state.started(result.taskId, text);
      this.render();
    }
  }

  /** "Commit this task": the server's `gdm.task.commit` (which says "gdm: committed …" itself); its
   * refusals (not a git repository, unsaved buffers…) come back as errors that `onMessage` shows. */
  private async commit(taskId: string): Promise<void> {
    try {
      if (!(await vscode.commands.getCommands(true)).includes(COMMIT_COMMAND)) {
        throw new Error(`this gdm server does not offer ${COMMIT_COMMAND}: update gdm to commit a task from the panel`);
      }
      const got = (await this.deps.execute(COMMIT_COMMAND, { taskId })) as Partial<Committed> | undefined;
      if (got === undefined) { // the command's own UI was cancelled, or it showed the refusal itself
        this.deps.log(`gdm panel: ${COMMIT_COMMAND} of ${taskId} made no commit`);
        return;
      }
      if (typeof got.commit !== "string") {
        throw new Error(`${COMMIT_COMMAND} answered without a commit: ${JSON.stringify(got)?.slice(0, 200)}`);
      }
      const done: Committed = { commit: got.commit, message: got.message ?? "", files: got.files };
      this.committed.set(taskId, done);
      this.deps.log(`gdm panel: committed task ${taskId} as ${done.commit} (${done.files?.length ?? 0} file(s))`);
    } finally {
      this.render(); // the footer: the commit made, or the button again after a refusal
    }
  }

  private async refreshList(show: boolean): Promise<void> {
    const got = (await this.deps.execute("gdm.conversation.list", { limit: 100 })) as { conversations?: ConversationSummary[] } | undefined;
    this.list = got?.conversations ?? [];
    if (show || this.state.conversationId === null) {
      this.render();
    }
  }

  private async refreshAfterDone(conversationId: string | null): Promise<void> {
    try {
      if (conversationId !== null && conversationId === this.state.conversationId) {
        await this.open(conversationId); // the stored messages carry each call's cost
      }
      await this.refreshList(false);
    } catch (err) {
      this.deps.log(`gdm panel: refreshing: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Draw now when nothing was drawn this frame (a chunk shows without waiting), else at the frame's
   * end with whatever else arrived by then. */
  private schedule(kind: "stream" | "full"): void {
    this.dirty = kind === "full" || this.dirty === "full" ? "full" : "stream";
    if (this.timer !== undefined) {
      return;
    }
    const wait = this.lastPostAt + FRAME_MS - Date.now();
    if (wait <= 0) {
      this.flush();
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
    }
  }

  /** A chunk that only grew the streaming message the webview shows updates that message alone. */
  private flush(): void {
    if (this.dirty === "none") {
      return; // drawn in full meanwhile
    }
    const streaming = this.inConversation() ? streamingMessage(this.state) : undefined;
    if (this.dirty === "stream" && this.view && streaming && this.drawn?.key === streaming.key && streaming.text.length >= this.drawn.settled) {
      const update = streamUpdate(streaming.text, this.drawn.settled);
      this.drawn.settled = update.to;
      this.post({ type: "stream", stream: streaming.key, ...update });
    } else {
      this.render();
    }
  }

  private inConversation(): boolean {
    return this.state.conversationId !== null || this.state.running.size > 0;
  }

  /** Draw everything: the list, or the open conversation. */
  private render(): void {
    if (!this.view) {
      return;
    }
    const inConversation = this.inConversation();
    const html = inConversation
      ? renderConversation(this.state, { patches: (id) => this.patches.get(id) ?? this.deps.patch(id), committed: (id) => this.committed.get(id) })
      : renderList(this.list);
    const streaming = inConversation ? streamingMessage(this.state) : undefined;
    this.drawn = streaming && { key: streaming.key, settled: settledLength(streaming.text) };
    // which view this is: the webview starts a new one at its end (the list at its top)
    const view = inConversation ? `conversation:${this.state.conversationId ?? "new"}` : "list";
    this.post({ type: "render", html, conversation: inConversation, view, running: [...this.state.running] });
  }

  private post(message: Record<string, unknown>): void {
    const t0 = this.chunkAt ?? 0;
    this.chunkAt = undefined;
    this.dirty = "none";
    this.lastPostAt = Date.now();
    void this.view?.webview.postMessage({ ...message, t0 });
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** The webview's one HTML page: a root that the extension fills, and the prompt box. */
function shell(cspSource: string): string {
  const nonce = randomBytes(16).toString("base64");
  const csp = [`default-src 'none'`, `img-src ${cspSource}`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join("; ");
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">${PANEL_STYLE}</style></head>
<body><div class="list"><main id="root" aria-live="polite" tabindex="0"></main>
<button type="button" id="jump" hidden title="Scroll to the end and follow the answer again">Jump to latest ↓</button></div>
<form id="composer"><label for="prompt" class="hint">Ask gdm (Ctrl+Enter sends; in a conversation, a follow-up)</label>
<textarea id="prompt" rows="3" placeholder="Ask gdm…"></textarea>
<div class="buttons"><button type="submit" id="send">Send</button></div></form>
<script nonce="${nonce}">${PANEL_SCRIPT}</script></body></html>`;
}
