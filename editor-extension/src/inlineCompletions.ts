/**
 * Inline completions in VS Code: an InlineCompletionItemProvider that sends LSP 3.18's
 * `textDocument/inlineCompletion` itself (vscode-languageclient 9 has no such feature), with the
 * request cancelled when VS Code cancels it (`$/cancelRequest`: a request typed over never reaches
 * the model), and a status-bar toggle of the `gdm.completions` setting whose tooltip has today's
 * completion calls, cost and accepts (`gdm.cost`'s `completions` line). Tab accepts a suggestion,
 * Ctrl+Right ("Accept Word", VS Code's own) a word of it; each item's command tells the server.
 */
import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient } from "vscode-languageclient/node";
import {
  INLINE_COMPLETION, TOGGLE_COMMAND, completionsOn, itemText, itemsOf, requestParams, toggleView,
  type CompletionLine, type CompletionSettings,
} from "./logic/inlineCompletion";

function settings(): CompletionSettings {
  const c = vscode.workspace.getConfiguration("gdm");
  return { completions: c.get<string>("completions"), completionModel: c.get<string>("completionModel"),
    cheapModel: c.get<string>("cheapModel"), model: c.get<string>("model") };
}

export class InlineCompletions implements vscode.Disposable, vscode.InlineCompletionItemProvider {
  private readonly item = vscode.window.createStatusBarItem("gdm.completions", vscode.StatusBarAlignment.Right, 99);
  private readonly disposables: vscode.Disposable[] = [];
  private line: CompletionLine | undefined;

  constructor(private readonly client: () => LanguageClient | undefined, private readonly log: (line: string) => void) {
    this.item.name = "gdm inline completions";
    this.item.command = TOGGLE_COMMAND;
    this.disposables.push(
      this.item,
      vscode.languages.registerInlineCompletionItemProvider([{ scheme: "file" }, { scheme: "untitled" }], this),
      vscode.commands.registerCommand(TOGGLE_COMMAND, () => this.toggle()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("gdm") && this.render()),
    );
    this.render();
    this.item.show();
  }

  async provideInlineCompletionItems(document: vscode.TextDocument, position: vscode.Position,
                                     context: vscode.InlineCompletionContext,
                                     token: vscode.CancellationToken): Promise<vscode.InlineCompletionItem[] | undefined> {
    const client = this.client();
    if (!client?.isRunning() || !completionsOn(settings())) {
      return undefined;
    }
    const params = requestParams(document.uri.toString(), { line: position.line, character: position.character },
      context.triggerKind);
    let result: unknown;
    try {
      result = await client.sendRequest(INLINE_COMPLETION, params, token);
    } catch (err) {
      if (!token.isCancellationRequested) {
        this.log(`gdm: inline completion: ${err instanceof Error ? err.message : String(err)}`);
      }
      return undefined;
    }
    return itemsOf(result).map((it) => new vscode.InlineCompletionItem(itemText(it),
      it.range ? client.protocol2CodeConverter.asRange(it.range) : undefined,
      it.command ? { title: it.command.title, command: it.command.command, arguments: it.command.arguments } : undefined));
  }

  /** The cost changed: read today's completions line again for the tooltip. */
  async costChanged(): Promise<void> {
    const client = this.client();
    if (!client?.isRunning()) {
      return;
    }
    const cost = (await client.sendRequest(ExecuteCommandRequest.type, { command: "gdm.cost", arguments: [{}] })
      .then(undefined, (err: unknown) => this.log(`gdm: cost: ${String(err)}`))) as { completions?: CompletionLine } | undefined;
    this.line = cost?.completions;
    this.render();
  }

  private async toggle(): Promise<void> {
    const value = completionsOn(settings()) ? "off" : "on";
    const inspect = vscode.workspace.getConfiguration("gdm").inspect<string>("completions");
    const target = inspect?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration("gdm").update("completions", value, target);
  }

  private render(): void {
    const view = toggleView(settings(), this.line);
    this.item.text = view.text;
    const tip = new vscode.MarkdownString(view.tooltip);
    tip.supportThemeIcons = true;
    this.item.tooltip = tip;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
