/**
 * Pending insertions shown whole: each pending hunk's new lines, as lines, in a zone right below
 * the lines it replaces (or the line it inserts after). Extensions cannot add lines to an editor
 * with decorations (their text is one line, inside an existing line); the public API that opens a
 * zone between lines is the Comments API, the one the GitHub pull-request extension draws review
 * threads with: one read-only thread per hunk ("gdm: +10 lines …" and the lines as a code block in
 * the document's language), no reply box, no commenting ranges of our own. The Accept / Reject
 * lenses stay the server's; the removed lines are struck through by ReviewDecorations.
 *
 * With `comments.visible` off (the user hid comment threads in editors) there are no zones and
 * ReviewDecorations draws the one-line preview instead.
 */
import * as vscode from "vscode";
import type { Patch } from "./logic/protocol";
import { hunkMarks, insertedBlock, zoneLabel, type HunkMarks } from "./logic/patchView";
import { PatchStore, uriKey } from "./patchStore";

/** Whether pending insertions are drawn as zones (else as the one-line preview). */
export function zonesShown(): boolean {
  return vscode.workspace.getConfiguration("comments").get<boolean>("visible", true) !== false;
}

interface Zone {
  thread: vscode.CommentThread;
  /** What the zone shows; redrawn only when this changes (a redraw resets the user's collapse). */
  shows: string;
}

export class InsertionZones implements vscode.Disposable {
  private readonly controller = vscode.comments.createCommentController("gdm.pendingChanges", "gdm pending changes");
  private readonly zones = new Map<string, Zone>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: PatchStore) {
    this.subscriptions.push(
      store.onDidChange(() => this.render()),
      // The code block takes the document's language once it is open.
      vscode.workspace.onDidOpenTextDocument(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("comments.visible") && this.render()),
    );
    this.render();
  }

  /** One zone per pending hunk that inserts lines, in every document with open patches. */
  render(): void {
    const wanted = new Map<string, { patch: Patch; mark: HunkMarks }>();
    if (zonesShown()) {
      for (const patch of this.store.open()) {
        const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uriKey(patch.uri));
        // Without the document its line count is unknown: place by the server's ranges as they are.
        for (const mark of hunkMarks(patch, doc?.lineCount ?? Number.MAX_SAFE_INTEGER)) {
          if (mark.inserted.length > 0) {
            wanted.set(`${patch.patchId}:${mark.index}`, { patch, mark });
          }
        }
      }
    }
    for (const [key, zone] of this.zones) {
      if (!wanted.has(key)) {
        zone.thread.dispose();
        this.zones.delete(key);
      }
    }
    for (const [key, { patch, mark }] of wanted) {
      this.place(key, patch, mark);
    }
  }

  private place(key: string, patch: Patch, mark: HunkMarks): void {
    const uri = vscode.Uri.parse(patch.uri);
    const language = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.languageId ?? "";
    const body = insertedBlock(mark.inserted, language);
    const label = zoneLabel(patch, mark);
    // The zone opens below the range's last line: the replaced lines, else the line it follows.
    const range = mark.removed.end > mark.removed.start
      ? new vscode.Range(mark.removed.start, 0, mark.removed.end - 1, 0)
      : new vscode.Range(mark.previewLine, 0, mark.previewLine, 0);
    const shows = JSON.stringify([uri.toString(), range.start.line, range.end.line, body, label]);
    const zone = this.zones.get(key);
    if (zone?.shows === shows) {
      return;
    }
    const comment: vscode.Comment = {
      body: new vscode.MarkdownString(body),
      mode: vscode.CommentMode.Preview,
      author: { name: "gdm" },
      label: "pending change",
    };
    if (zone && zone.thread.uri.toString() === uri.toString()) {
      zone.thread.range = range;
      zone.thread.comments = [comment];
      zone.thread.label = label;
      zone.shows = shows;
      return;
    }
    zone?.thread.dispose();
    const thread = this.controller.createCommentThread(uri, range, [comment]);
    thread.canReply = false;
    thread.label = label;
    thread.contextValue = "gdmPendingHunk";
    thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
    this.zones.set(key, { thread, shows });
  }

  dispose(): void {
    this.zones.forEach((z) => z.thread.dispose());
    this.zones.clear();
    this.subscriptions.forEach((d) => d.dispose());
    this.controller.dispose();
  }
}
