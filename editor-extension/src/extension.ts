/**
 * gdm for VS Code: starts the gdm language server and adds what an editor with a UI can show
 * on top of standard LSP — the Ask gdm prompt, task progress and log, inline review of pending
 * patches, the "Review all" diff and the status-bar cost meter.
 */
import * as vscode from "vscode";
import { ExecuteCommandRequest, ShowMessageNotification, MessageType } from "vscode-languageclient/node";
import type { LanguageClient } from "vscode-languageclient/node";
import { COST_UPDATE, PATCH_PROPOSED, TASK_EVENT, type CostUpdate, type Patch, type TaskEvent } from "./logic/protocol";
import { actionableFor, preflightProblem, type Actionable, type Severity } from "./logic/errors";
import { EXTENSION_COMMANDS } from "./logic/extensionCommands";
import { createClient, preflight, pythonPath, State } from "./client";
import { CommandUi } from "./commandUi";
import { CostStatus } from "./costStatus";
import { PatchedContent, SCHEME, parsePatchUri, pickPatch, showPatchDiff } from "./diffView";
import { showActionable, openSettings, selectInterpreter, type ActionHandlers } from "./notify";
import { PatchStore } from "./patchStore";
import { ReviewDecorations } from "./review";
import { ConversationPanel, PANEL_VIEW } from "./panel";
import { TaskUi } from "./tasks";
import { GdmViews } from "./views";
import { InlineCompletions } from "./inlineCompletions";
import { TasksView } from "./tasksView";


const SEVERITY: Record<number, Severity> = { [MessageType.Error]: "error", [MessageType.Warning]: "warning" };

class Gdm implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private fallbacks: vscode.Disposable[] = [];
  private readonly store = new PatchStore();
  private readonly tasks = new TaskUi((id) => this.cancel(id));
  private readonly cost = new CostStatus();
  private readonly ui: CommandUi;
  private readonly views = new GdmViews((line) => this.tasks.channel.appendLine(line));
  readonly panel: ConversationPanel;
  private readonly tasksView: TasksView;
  private readonly completions = new InlineCompletions(() => this.client, (line) => this.tasks.channel.appendLine(line));
  private readonly actions: ActionHandlers;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.ui = new CommandUi(context.globalState, this.store, this.tasks, () => this.refreshPatches(), {
      send: (payload) => this.request("gdm.task.commit", payload),
      committed: () => this.tasksView.scheduleRefresh(),
    });
    this.actions = {
      openSettings: (a: Actionable) => openSettings(a.setting),
      selectInterpreter: async () => (await selectInterpreter()) && this.restart(),
      showLog: () => this.showLog(),
      showCost: () => vscode.commands.executeCommand("gdm.cost"),
      reviewAll: () => vscode.commands.executeCommand("gdm.reviewAll"),
    };
    const content = new PatchedContent(this.store);
    this.panel = new ConversationPanel({
      execute: (command, ...args) => vscode.commands.executeCommand(command, ...args),
      patch: (id) => this.store.get(id),
      log: (line) => this.tasks.channel.appendLine(line),
    });
    this.tasksView = new TasksView({
      execute: (command, ...args) => vscode.commands.executeCommand(command, ...args),
      patch: (id) => this.store.get(id),
      review: (patch) => showPatchDiff(patch),
      log: (line) => this.tasks.channel.appendLine(line),
    });
    context.subscriptions.push(
      this,
      this.tasksView,
      this.completions,
      this.store.onDidChange(() => this.tasksView.scheduleRefresh()),
      this.store,
      this.tasks,
      this.cost,
      content,
      new ReviewDecorations(this.store),
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, content),
      this.panel,
      this.views,
      vscode.window.registerWebviewViewProvider(PANEL_VIEW, this.panel, { webviewOptions: { retainContextWhenHidden: true } }),
      this.tasks.onDidChangeRunning((n) => this.cost.setRunning(n)),
      vscode.workspace.onDidChangeTextDocument((e) => this.documentChanged(e.document)),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("gdm.pythonPath") && void this.restart()),
      vscode.commands.registerCommand("gdm.reviewAll", async (uri?: vscode.Uri) => {
        const patch = await pickPatch(this.store, uri);
        return patch && showPatchDiff(patch);
      }),
      vscode.commands.registerCommand("gdm.review.accept", (uri?: vscode.Uri) => this.reviewFromDiff("gdm.patch.accept", uri)),
      vscode.commands.registerCommand("gdm.review.reject", (uri?: vscode.Uri) => this.reviewFromDiff("gdm.patch.reject", uri)),
      vscode.commands.registerCommand("gdm.showLog", () => this.showLog()),
      vscode.commands.registerCommand("gdm.restartServer", () => this.restart()),
    );
  }

  /** Check the interpreter, then start the language client. */
  async start(): Promise<void> {
    const python = pythonPath();
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const problem = preflightProblem(python, await preflight(python, cwd));
    if (problem) {
      this.serverUnavailable(problem);
      return;
    }
    this.disposeFallbacks();
    const client = createClient(python, cwd, (cmd, args, next) =>
      this.views.handles(cmd) ? this.views.execute(cmd, args, next) : this.ui.execute(cmd, args, next));
    this.client = client;
    client.onNotification(TASK_EVENT, (ev: TaskEvent) => {
      this.tasks.onEvent(ev);
      this.panel.onEvent(ev);
      if (ev.kind === "done") {
        this.tasksView.scheduleRefresh();
      }
    });
    client.onNotification(PATCH_PROPOSED, (p: Patch) => {
      this.store.upsert(p);
      this.panel.onPatch(p);
    });
    client.onNotification(COST_UPDATE, (c: CostUpdate) => {
      this.cost.update(c);
      this.views.usage.costChanged();
      void this.completions.costChanged();
    });
    // Replaces languageclient's own handler: the same messages, with the button that fixes them.
    client.onNotification(ShowMessageNotification.type, (m) => this.serverMessage(m.message, m.type));
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        this.tasks.endAll();
        this.store.clear();
        this.cost.serverDown("the language server stopped");
      }
    });
    try {
      await client.start();
    } catch (err) {
      this.client = undefined;
      this.serverUnavailable({
        severity: "error",
        message: `gdm: the language server (${python} -m gdm) failed to start: ${err instanceof Error ? err.message : String(err)}`,
        actions: [{ title: "Show log", id: "showLog" }, { title: "Open settings", id: "openSettings" }],
        setting: "gdm.pythonPath",
      });
      return;
    }
    await this.refreshPatches();
    this.tasksView.scheduleRefresh();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.stop(2000).catch((err: unknown) => this.tasks.channel.appendLine(`gdm: stopping the server: ${String(err)}`));
      await client.dispose().catch((err: unknown) => this.tasks.channel.appendLine(`gdm: disposing the client: ${String(err)}`));
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Ask the server for its open patches (also recomputes hunk ranges after edits). */
  async refreshPatches(): Promise<void> {
    if (!this.client?.isRunning()) {
      return;
    }
    const result = (await this.client.sendRequest(ExecuteCommandRequest.type, { command: "gdm.patch.list", arguments: [{}] })) as
      | { patches?: Patch[] }
      | undefined;
    this.store.replaceAll(result?.patches ?? []);
  }

  /** A server command as a plain request: its error comes back as the server said it. */
  private async request(command: string, payload: Record<string, unknown>): Promise<unknown> {
    if (!this.client?.isRunning()) {
      throw new Error("the gdm server is not running (gdm: Restart server)");
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [payload] });
  }

  private async cancel(taskId: string): Promise<void> {
    if (this.client?.isRunning()) {
      await this.client.sendRequest(ExecuteCommandRequest.type, { command: "gdm.cancel", arguments: [{ taskId }] })
        .catch((err: unknown) => this.tasks.channel.appendLine(`[${taskId}] cancel: ${String(err)}`));
    }
  }

  private serverMessage(message: string, type: MessageType): void {
    const key = message.replace(/^gdm: /, "");
    const kind = this.tasks.recentErrors.get(key);
    this.tasks.recentErrors.delete(key); // each task error is shown once
    const a = actionableFor(message, SEVERITY[type] ?? "info", kind);
    void showActionable(a, this.actions);
  }

  private serverUnavailable(problem: Actionable): void {
    this.cost.serverDown(problem.message);
    this.tasks.channel.appendLine(problem.message);
    void showActionable(problem, this.actions);
    this.registerFallbacks(problem);
  }

  /** While the server is down, its commands explain why instead of "command not found". */
  private registerFallbacks(problem: Actionable): void {
    this.disposeFallbacks();
    const contributed = (this.context.extension.packageJSON?.contributes?.commands ?? []) as { command: string }[];
    for (const { command } of contributed) {
      if (!EXTENSION_COMMANDS.includes(command)) {
        this.fallbacks.push(vscode.commands.registerCommand(command, () => showActionable(problem, this.actions)));
      }
    }
  }

  private disposeFallbacks(): void {
    this.fallbacks.forEach((d) => d.dispose());
    this.fallbacks = [];
  }

  private async reviewFromDiff(command: string, uri?: vscode.Uri): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    const named = target && parsePatchUri(target);
    const patch = named ? this.store.get(named.patchId) : await pickPatch(this.store, target);
    if (!patch) {
      return;
    }
    await vscode.commands.executeCommand(command, { patchId: patch.patchId });
    if (named) {
      await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
    }
  }

  private documentChanged(doc: vscode.TextDocument): void {
    if (doc.uri.scheme === SCHEME || this.store.open(doc.uri).length === 0) {
      return;
    }
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refreshPatches().catch((err: unknown) =>
      this.tasks.channel.appendLine(`gdm: refreshing patches: ${String(err)}`)), 300);
  }

  private showLog(): void {
    this.tasks.channel.show(true);
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    this.disposeFallbacks();
    void this.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<{ panelRenderLatencies: () => number[] }> {
  const gdm = new Gdm(context);
  await gdm.start();
  // For the e2e figure (chunk → render in the panel): the latencies the panel measured.
  return { panelRenderLatencies: () => [...gdm.panel.renderLatencies] };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; VS Code disposes it.
}
