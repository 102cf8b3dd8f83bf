/**
 * "gdm: Show code map": runs the server's `gdm.map`, focused on the active file when there is one,
 * and opens what the model would see in a read-only editor tab (a `gdm-map:` virtual Markdown
 * document, refreshed in place when the command runs again).
 */
import * as vscode from "vscode";
import { MAP_SCHEME, codeMapMarkdown, mapPath, type MapResult } from "./logic/codeMap";

type Next = (args: unknown[]) => Promise<unknown>;

export class CodeMapView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** The focus of the last map, kept when the command runs from the map's own tab. */
  private lastFocus: { uri: string; rel: string } | undefined;

  constructor(private readonly log: (line: string) => void) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? "# gdm code map\n\nRun \"gdm: Show code map\" to build it.\n";
  }

  /** The palette command (no payload): build the map and show it. With a payload, only its data. */
  async show(args: unknown[], next: Next): Promise<unknown> {
    if (typeof args[0] === "object" && args[0] !== null && !(args[0] instanceof vscode.Uri)) {
      return next(args);
    }
    const focus = this.focus(args[0] instanceof vscode.Uri ? args[0] : undefined);
    let result: MapResult | undefined;
    try {
      result = (await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: "gdm: building the code map" },
        () => next([focus ? { focus: [focus.uri] } : {}]),
      )) as MapResult | undefined;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log(`gdm: code map: ${message}`);
      void vscode.window.showErrorMessage(`gdm: the code map failed: ${message}`);
      return undefined;
    }
    if (!result) {
      return undefined;
    }
    const uri = vscode.Uri.from({ scheme: MAP_SCHEME, path: mapPath(focus?.rel) });
    this.docs.set(uri.toString(), codeMapMarkdown(result, focus?.rel));
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
    return result;
  }

  /** The active file (or the one given) inside the workspace, as a URI for the server and a relative path for the title. */
  private focus(given: vscode.Uri | undefined): { uri: string; rel: string } | undefined {
    const uri = given ?? vscode.window.activeTextEditor?.document.uri;
    if (uri?.scheme === MAP_SCHEME) {
      return this.lastFocus;
    }
    if (uri?.scheme === "file" && vscode.workspace.getWorkspaceFolder(uri)) {
      this.lastFocus = { uri: uri.toString(), rel: vscode.workspace.asRelativePath(uri, false) };
      return this.lastFocus;
    }
    this.lastFocus = undefined;
    return undefined;
  }

  dispose(): void {
    this.changed.dispose();
    this.docs.clear();
  }
}

export { MAP_SCHEME };
