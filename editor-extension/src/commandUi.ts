/**
 * The UI around the server's commands (`middleware.executeCommand`): the prompt box for
 * `gdm.ask`, picking the patch or task a palette command means, showing conflicts and the
 * cost breakdown, the commit message box of `gdm.task.commit` (commitUi.ts). The command ids
 * themselves belong to the server (python -m gdm.commands).
 */
import * as vscode from "vscode";
import type { AcceptResult, AskPayload, AskResult, CostBreakdown, Patch } from "./logic/protocol";
import { breakdownLines } from "./logic/costView";
import { basePayload, promptWithHistory } from "./ask";
import { pickPatch, showPatchDiff } from "./diffView";
import { CommitUi, type CommitDeps } from "./commitUi";
import { PatchStore } from "./patchStore";
import { TaskUi } from "./tasks";

type Next = (args: unknown[]) => Promise<unknown>;

function firstObject(args: unknown[]): Record<string, unknown> | undefined {
  const a = args[0];
  return typeof a === "object" && a !== null && !(a instanceof vscode.Uri) ? (a as Record<string, unknown>) : undefined;
}

export class CommandUi {
  private readonly commits: CommitUi;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly store: PatchStore,
    private readonly tasks: TaskUi,
    private readonly refreshPatches: () => Promise<void>,
    commitDeps: CommitDeps,
  ) {
    this.commits = new CommitUi(commitDeps);
  }

  /** The `middleware.executeCommand` hook. */
  async execute(command: string, args: unknown[], next: Next): Promise<unknown> {
    switch (command) {
      case "gdm.ask":
        return this.ask(args, next);
      case "gdm.cancel":
        return this.cancel(args, next);
      case "gdm.patch.accept":
      case "gdm.patch.reject":
        return this.review(command, args, next);
      case "gdm.task.accept":
        return this.acceptTask(args, next);
      case "gdm.patch.list":
        return this.list(next);
      case "gdm.patch.showRisk":
        return this.showRisk(args, next);
      case "gdm.cost":
        return this.cost(args, next);
      case "gdm.task.commit":
        return this.commits.execute(args, next);
      default:
        return next(args);
    }
  }

  private async ask(args: unknown[], next: Next): Promise<AskResult | undefined> {
    const payload: AskPayload = basePayload(args);
    if (!payload.prompt || !payload.prompt.trim()) {
      const where = payload.range && (payload.range.start.line !== payload.range.end.line || payload.range.start.character !== payload.range.end.character)
        ? "the selection" : "this file";
      const prompt = await promptWithHistory(this.memento, `What should gdm do with ${where}?`);
      if (!prompt) {
        return undefined;
      }
      payload.prompt = prompt;
    }
    const result = (await next([payload])) as AskResult | undefined;
    if (result?.taskId) {
      this.tasks.started(result.taskId, payload.prompt);
    }
    return result;
  }

  private async cancel(args: unknown[], next: Next): Promise<unknown> {
    const given = firstObject(args)?.taskId;
    const taskId = typeof given === "string" ? given : this.tasks.runningIds().pop();
    if (!taskId) {
      void vscode.window.showInformationMessage("gdm: no task is running.");
      return { cancelled: false };
    }
    return next([{ taskId }]);
  }

  private async review(command: string, args: unknown[], next: Next): Promise<unknown> {
    let payload = firstObject(args);
    if (typeof payload?.patchId !== "string") {
      const patch = await pickPatch(this.store, args[0] instanceof vscode.Uri ? args[0] : undefined);
      if (!patch) {
        return undefined;
      }
      payload = { patchId: patch.patchId };
    }
    const result = (await next([payload])) as AcceptResult | undefined;
    for (const c of result?.conflicts ?? []) {
      void vscode.window.showWarningMessage(`gdm: hunk ${c.hunk} was not applied: ${c.reason}`, "Review all").then((a) => {
        const patch = this.store.get(String(payload?.patchId));
        if (a && patch) {
          void showPatchDiff(patch);
        }
      });
    }
    await this.refreshPatches();
    return result;
  }

  /** `gdm.task.accept {taskId}`; from the palette, the task of the open patches (asked if several). */
  private async acceptTask(args: unknown[], next: Next): Promise<unknown> {
    let taskId = firstObject(args)?.taskId;
    if (typeof taskId !== "string") {
      const tasks = [...new Set(this.store.open().map((p) => p.taskId))];
      if (tasks.length === 0) {
        void vscode.window.showInformationMessage("gdm: no changes are waiting for review.");
        return undefined;
      }
      taskId = tasks.length === 1 ? tasks[0] : await vscode.window.showQuickPick(tasks, { title: "gdm: accept all changes of which task?" });
      if (typeof taskId !== "string") {
        return undefined;
      }
    }
    const result = (await next([{ taskId }])) as { results?: (AcceptResult & { patchId: string })[] } | undefined;
    for (const r of result?.results ?? []) {
      for (const c of r.conflicts ?? []) {
        void vscode.window.showWarningMessage(`gdm: ${this.store.get(r.patchId)?.path ?? r.patchId}: hunk ${c.hunk} was not applied: ${c.reason}`);
      }
    }
    await this.refreshPatches();
    return result;
  }

  private async list(next: Next): Promise<unknown> {
    const result = (await next([{}])) as { patches?: Patch[] } | undefined;
    this.store.replaceAll(result?.patches ?? []);
    const patch = await pickPatch(this.store);
    if (patch) {
      await showPatchDiff(patch);
    }
    return result;
  }

  private async showRisk(args: unknown[], next: Next): Promise<unknown> {
    if (typeof firstObject(args)?.patchId === "string") {
      return next(args);
    }
    const patch = await pickPatch(this.store, args[0] instanceof vscode.Uri ? args[0] : undefined);
    return patch ? next([{ patchId: patch.patchId }]) : undefined;
  }

  private async cost(args: unknown[], next: Next): Promise<unknown> {
    const payload = firstObject(args) ?? {};
    const result = (await next([payload])) as CostBreakdown | undefined;
    if (result) {
      const items: (vscode.QuickPickItem & { usage?: boolean })[] = breakdownLines(result).map((r) => ({ label: r.label, detail: r.detail }));
      items.push({ label: "$(graph) Show usage", detail: "the last 30 days by model and per day, as a chart", usage: true });
      void vscode.window.showQuickPick(items, { title: "gdm: cost breakdown", canPickMany: false })
        .then((picked) => {
          if (picked?.usage) {
            void vscode.commands.executeCommand("gdm.usage");
          }
        });
    }
    return result;
  }
}
