/**
 * The UI of `gdm.task.commit` (reached through `middleware.executeCommand`, so the code lens
 * "Commit this task", the Tasks view's action, the panel's button and the palette all get it):
 * the server proposes the message (`preview: true`), the user edits its subject in an input box
 * (the body and trailer stay as proposed), then the server commits with that message. Files of
 * the task with unsaved changes are saved first when the user says so ("Save and commit").
 * A payload that already carries a `message` (or `preview`) goes straight to the server. The
 * requests of this dialogue go through `send` (the language client's request, not its command
 * path), so a refusal is shown once, as gdm says it, not also as "Request … failed".
 */
import * as vscode from "vscode";
import { joinMessage, splitMessage, subjectProblem } from "./logic/commitMessage";

type Next = (args: unknown[]) => Promise<unknown>;

interface CommitResult {
  commit: string | null;
  message: string;
  files: string[];
  taskIds: string[];
  branch: string;
}

interface TaskRow {
  taskId: string;
  title: string | null;
  prompt: string;
  accepted: number;
  commit?: string | null;
}

/** The error's `data` of a refused commit (RequestFailed, -32803). */
function refusal(err: unknown): { reason?: string; paths?: string[] } {
  const data = (err as { data?: unknown } | undefined)?.data;
  return typeof data === "object" && data !== null ? (data as { reason?: string; paths?: string[] }) : {};
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface CommitDeps {
  /** `gdm.task.commit` with this payload, straight to the server; rejects with its error. */
  send: (payload: Record<string, unknown>) => Promise<unknown>;
  /** A commit was made (the Tasks view lists again). */
  committed: () => void;
}

export class CommitUi {
  constructor(private readonly deps: CommitDeps) {}

  /** `gdm.task.commit` from any entry point. */
  async execute(args: unknown[], next: Next): Promise<unknown> {
    const given = typeof args[0] === "object" && args[0] !== null ? (args[0] as Record<string, unknown>) : {};
    if (typeof given.message === "string" || given.preview === true) {
      return next(args);
    }
    const payload = "taskId" in given || "taskIds" in given || "conversationId" in given ? given : await this.pickTask();
    if (!payload) {
      return undefined;
    }
    const preview = await this.preview(payload);
    if (!preview) {
      return undefined;
    }
    const { subject, body } = splitMessage(preview.message);
    const edited = await vscode.window.showInputBox({
      title: `gdm: commit ${preview.files.join(", ")} on ${preview.branch}`,
      prompt: body ? `Subject of the commit; the body follows: ${body.split("\n")[0]}…` : "Subject of the commit",
      value: subject,
      validateInput: subjectProblem,
      ignoreFocusOut: true,
    });
    if (edited === undefined) {
      return undefined; // cancelled: nothing committed
    }
    try {
      const result = await this.deps.send({ ...payload, message: joinMessage(edited, body) });
      this.deps.committed();
      return result;
    } catch (err) {
      void vscode.window.showErrorMessage(`gdm: ${messageOf(err)}`);
      return undefined;
    }
  }

  /** The server's proposal; unsaved files saved first when the user agrees. */
  private async preview(payload: Record<string, unknown>): Promise<CommitResult | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return (await this.deps.send({ ...payload, preview: true })) as CommitResult;
      } catch (err) {
        const { reason, paths } = refusal(err);
        if (reason !== "unsaved" || attempt > 0) {
          void vscode.window.showErrorMessage(`gdm: ${messageOf(err)}`);
          return undefined;
        }
        const save = await vscode.window.showWarningMessage(`gdm: ${messageOf(err)}`, "Save and commit");
        if (save !== "Save and commit" || !(await this.save(paths ?? []))) {
          return undefined;
        }
      }
    }
    return undefined;
  }

  private async save(paths: string[]): Promise<boolean> {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!root) {
      return false;
    }
    const wanted = new Set(paths.map((p) => vscode.Uri.joinPath(root, p).toString()));
    const docs = vscode.workspace.textDocuments.filter((d) => d.isDirty && wanted.has(d.uri.toString()));
    const saved = await Promise.all(docs.map((d) => d.save()));
    return saved.every(Boolean);
  }

  /** From the palette: the task to commit (those with accepted changes not committed yet). */
  private async pickTask(): Promise<Record<string, unknown> | undefined> {
    const listed = (await vscode.commands.executeCommand("gdm.task.list", { limit: 100 })) as { tasks?: TaskRow[] } | undefined;
    const open = (listed?.tasks ?? []).filter((t) => t.accepted > 0 && !t.commit);
    if (open.length === 0) {
      void vscode.window.showInformationMessage("gdm: no task has accepted changes that are not committed yet.");
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(open.map((t) => ({ label: t.title || t.prompt.split("\n")[0], description: t.taskId, taskId: t.taskId })),
      { title: "gdm: commit which task?" });
    return picked ? { taskId: picked.taskId } : undefined;
  }
}
