/**
 * "Review all": VS Code's diff editor with the current text on the left and the text with the
 * patch applied on the right (a read-only `gdm-patch:` document), Accept / Reject in its title.
 */
import * as vscode from "vscode";
import type { Patch } from "./logic/protocol";
import { applyHunks, riskBadge } from "./logic/patchView";
import { PatchStore, uriKey } from "./patchStore";

export const SCHEME = "gdm-patch";

/** `gdm-patch:/<path>?patch=<id>&side=new|base` */
export function patchUri(patch: Patch, side: "new" | "base"): vscode.Uri {
  const path = patch.path.startsWith("/") ? patch.path : `/${patch.path}`;
  return vscode.Uri.from({ scheme: SCHEME, path, query: `patch=${encodeURIComponent(patch.patchId)}&side=${side}` });
}

/** The patch id and side named by a `gdm-patch:` URI. */
export function parsePatchUri(uri: vscode.Uri): { patchId: string; side: string } | undefined {
  if (uri.scheme !== SCHEME) {
    return undefined;
  }
  const q = new URLSearchParams(uri.query);
  const patchId = q.get("patch");
  return patchId ? { patchId, side: q.get("side") ?? "new" } : undefined;
}

export class PatchedContent implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: PatchStore) {
    this.subscriptions.push(
      store.onDidChange(() => this.fireAll()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme !== SCHEME) {
          this.fireAll();
        }
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const which = parsePatchUri(uri);
    const patch = which && this.store.get(which.patchId);
    if (!which || !patch) {
      return "";
    }
    const current = await currentText(patch);
    return which.side === "base" ? current : applyHunks(current, patch.hunks);
  }

  private fireAll(): void {
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme === SCHEME) {
        this.changed.fire(doc.uri);
      }
    }
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}

/** The document's text as the user sees it: the open buffer, else the file on disk, else "". */
async function currentText(patch: Patch): Promise<string> {
  const key = uriKey(patch.uri);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
  if (open) {
    return open.getText();
  }
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.parse(patch.uri)));
  } catch (err) {
    if (err instanceof vscode.FileSystemError) {
      return ""; // a file the patch creates
    }
    throw err;
  }
}

/** Open the diff editor for a patch. */
export async function showPatchDiff(patch: Patch): Promise<void> {
  const left = patch.kind === "create" ? patchUri(patch, "base") : vscode.Uri.parse(patch.uri);
  const title = `${patch.path} ↔ gdm (${riskBadge(patch.risk)})`;
  await vscode.commands.executeCommand("vscode.diff", left, patchUri(patch, "new"), title, { preview: false });
}

/** Pick the patch to act on: the one under `uri`, the active editor's, or ask. */
export async function pickPatch(store: PatchStore, uri?: vscode.Uri): Promise<Patch | undefined> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  const named = target && parsePatchUri(target);
  if (named) {
    return store.get(named.patchId);
  }
  const mine = target ? store.open(target) : [];
  if (mine.length === 1) {
    return mine[0];
  }
  const all = mine.length > 1 ? mine : store.open();
  if (all.length === 0) {
    void vscode.window.showInformationMessage("gdm: no changes are waiting for review.");
    return undefined;
  }
  if (all.length === 1) {
    return all[0];
  }
  const picked = await vscode.window.showQuickPick(
    all.map((p) => ({ label: p.path, description: riskBadge(p.risk), detail: `patch ${p.patchId}, task ${p.taskId}`, p })),
    { title: "gdm: pending changes" },
  );
  return picked?.p;
}
