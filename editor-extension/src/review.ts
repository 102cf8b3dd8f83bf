/**
 * Inline review: pending hunks drawn in the editor itself. The lines a hunk removes get the
 * diff editor's "removed" background, are struck through and show the old/new text on hover; the
 * lines it inserts are shown whole, as lines, in a zone below (./insertions), or — with comment
 * threads hidden in editors — as a one-line preview after the hunk in the "inserted" colour; the
 * risk tier is a badge on the hunk's first line with the reasons on hover. Accept / Reject lenses
 * come from the server.
 */
import * as vscode from "vscode";
import type { Patch, RiskTier } from "./logic/protocol";
import { hunkHover, hunkMarks, insertedPreview, riskBadge, riskHover } from "./logic/patchView";
import { PatchStore } from "./patchStore";
import { InsertionZones, zonesShown } from "./insertions";

const TIER_COLOUR: Record<RiskTier, string> = {
  LOW: "testing.iconPassed",
  MEDIUM: "editorWarning.foreground",
  HIGH: "editorError.foreground",
  CRITICAL: "errorForeground",
};

function badgeType(tier: RiskTier): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor(TIER_COLOUR[tier]),
      border: "1px solid",
      borderColor: new vscode.ThemeColor(TIER_COLOUR[tier]),
      margin: "0 0 0 2em",
      fontWeight: "bold",
    },
  });
}

export class ReviewDecorations implements vscode.Disposable {
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("diffEditor.removedLineBackground"),
    textDecoration: "line-through",
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.deletedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor("gitDecoration.addedResourceForeground"),
      backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
      margin: "0 0 0 1em",
      fontStyle: "italic",
    },
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.addedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly badges = new Map<RiskTier, vscode.TextEditorDecorationType>(
    (["LOW", "MEDIUM", "HIGH", "CRITICAL"] as RiskTier[]).map((t) => [t, badgeType(t)]),
  );
  private readonly zones: InsertionZones;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: PatchStore) {
    this.zones = new InsertionZones(store);
    this.subscriptions.push(
      store.onDidChange(() => this.renderAll()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderAll()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("comments.visible") && this.renderAll()),
    );
  }

  /** Redraw every visible editor. */
  renderAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      this.render(editor);
    }
  }

  private render(editor: vscode.TextEditor): void {
    const removed: vscode.DecorationOptions[] = [];
    const inserted: vscode.DecorationOptions[] = [];
    const badges = new Map<RiskTier, vscode.DecorationOptions[]>();
    const preview = !zonesShown(); // the zones show the inserted lines whole; this is the fallback
    for (const patch of this.store.open(editor.document.uri)) {
      this.collect(editor.document, patch, { removed, inserted: preview ? inserted : undefined, badges });
    }
    editor.setDecorations(this.removed, removed);
    editor.setDecorations(this.inserted, inserted);
    for (const [tier, type] of this.badges) {
      editor.setDecorations(type, badges.get(tier) ?? []);
    }
  }

  private collect(
    doc: vscode.TextDocument,
    patch: Patch,
    { removed, inserted, badges }: {
      removed: vscode.DecorationOptions[];
      /** The one-line previews, when drawn. */
      inserted: vscode.DecorationOptions[] | undefined;
      badges: Map<RiskTier, vscode.DecorationOptions[]>;
    },
  ): void {
    const tier: RiskTier = patch.risk?.tier ?? "LOW";
    const risk = new vscode.MarkdownString(riskHover(patch));
    for (const mark of hunkMarks(patch, doc.lineCount)) {
      const hunk = patch.hunks.find((h) => h.index === mark.index);
      const hover = new vscode.MarkdownString(hunk ? hunkHover(hunk) : "");
      if (mark.removed.end > mark.removed.start) {
        // to the end of its last line: the strike-through covers the text, the background the whole lines
        removed.push({ range: new vscode.Range(mark.removed.start, 0, mark.removed.end - 1, doc.lineAt(mark.removed.end - 1).text.length),
          hoverMessage: hover });
      }
      if (inserted && mark.inserted.length > 0) {
        const end = doc.lineAt(mark.previewLine).range.end;
        inserted.push({
          range: new vscode.Range(end, end),
          // the removed lines already carry this hover; one copy is enough
          hoverMessage: mark.removed.end > mark.removed.start ? undefined : hover,
          renderOptions: { after: { contentText: insertedPreview(mark.inserted) } },
        });
      }
      const badgeAt = doc.lineAt(mark.badgeLine).range.end;
      const list = badges.get(tier) ?? [];
      list.push({
        range: new vscode.Range(badgeAt, badgeAt),
        hoverMessage: risk,
        renderOptions: { after: { contentText: ` ${riskBadge(patch.risk)} ` } },
      });
      badges.set(tier, list);
    }
  }

  dispose(): void {
    for (const d of [...this.subscriptions, this.zones, this.removed, this.inserted, ...this.badges.values()]) {
      d.dispose();
    }
  }
}
