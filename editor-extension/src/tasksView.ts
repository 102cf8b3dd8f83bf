/**
 * The "gdm: Tasks" tree view: this workspace's tasks from the server's `gdm.task.list` (title,
 * status, cost; patches as children) with Review, Accept all, Undo and Commit this task (the
 * server's `gdm.task.accept` / `gdm.task.undo` / `gdm.task.commit`, the patch diff for Review). Refreshed when a task ends,
 * a patch is proposed or decided, and after its own actions.
 */
import * as vscode from "vscode";
import type { Patch } from "./logic/protocol";
import { patchNode, taskNode, type PatchNode, type TaskNode, type TaskRow } from "./logic/tasksTree";

export const TASKS_VIEW = "gdm.tasks";
const REFRESH_AFTER_MS = 150;

type Node = TaskNode | PatchNode;

export interface TasksDeps {
  /** Run a command (the server's go through the language client and its middleware). */
  execute: (command: string, ...args: unknown[]) => Thenable<unknown>;
  patch: (patchId: string) => Patch | undefined;
  review: (patch: Patch) => Thenable<void>;
  log: (line: string) => void;
}

export class TasksView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private rows: TaskRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly deps: TasksDeps) {
    this.disposables = [
      this.changed,
      vscode.window.registerTreeDataProvider(TASKS_VIEW, this),
      vscode.commands.registerCommand("gdm.tasks.refresh", () => this.refresh()),
      vscode.commands.registerCommand("gdm.tasks.review", (n?: Node) => this.review(n)),
      vscode.commands.registerCommand("gdm.tasks.acceptAll", (n?: Node) => this.run("gdm.task.accept", n)),
      vscode.commands.registerCommand("gdm.tasks.undo", (n?: Node) => this.run("gdm.task.undo", n)),
      // Through the middleware: the commit message box (commitUi.ts) asks for the subject first.
      vscode.commands.registerCommand("gdm.tasks.commit", (n?: Node) => this.run("gdm.task.commit", n)),
    ];
  }

  /** Something changed (a task ended, a patch was proposed or decided): list again, soon. */
  scheduleRefresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), REFRESH_AFTER_MS);
  }

  async refresh(): Promise<void> {
    try {
      const got = (await this.deps.execute("gdm.task.list", { limit: 100 })) as { tasks?: TaskRow[] } | undefined;
      this.rows = got?.tasks ?? [];
    } catch (err) {
      this.deps.log(`gdm tasks: listing: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      return this.rows.map((row) => taskNode(row, this.deps.patch));
    }
    return node.kind === "task" ? node.patchIds.map((id) => patchNode(node.taskId, id, this.deps.patch(id))) : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.kind === "task" && node.patchIds.length
      ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = node.kind === "task" ? node.taskId : `${node.taskId}/${node.patchId}`;
    item.description = node.description;
    item.contextValue = node.contextValue;
    item.tooltip = node.kind === "task" ? node.tooltip : node.patchId;
    item.iconPath = new vscode.ThemeIcon(node.kind === "task" ? "tasklist" : "diff");
    return item;
  }

  private async review(node?: Node): Promise<void> {
    const ids = !node ? [] : node.kind === "task" ? node.patchIds : [node.patchId];
    const patch = ids.map((id) => this.deps.patch(id)).find((p) => p && (p.status === "pending" || p.status === "partial"));
    if (patch) {
      await this.deps.review(patch);
    } else {
      void vscode.window.showInformationMessage("gdm: nothing left to review in this task");
    }
  }

  private async run(command: string, node?: Node): Promise<void> {
    if (!node) {
      return;
    }
    try {
      await this.deps.execute(command, { taskId: node.taskId });
    } catch (err) {
      void vscode.window.showErrorMessage(`gdm: ${err instanceof Error ? err.message : String(err)}`);
    }
    await this.refresh();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
