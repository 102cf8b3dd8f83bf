/** The status-bar cost meter: always visible, updated on every `gdm/costUpdate`. */
import * as vscode from "vscode";
import type { CostUpdate } from "./logic/protocol";
import { costView, serverDownView, type CostView } from "./logic/costView";

const BACKGROUND: Record<string, string | undefined> = {
  normal: undefined,
  warning: "statusBarItem.warningBackground",
  error: "statusBarItem.errorBackground",
};

export class CostStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private last: CostUpdate | undefined;
  private running = 0;

  constructor() {
    this.item = vscode.window.createStatusBarItem("gdm.cost", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "gdm cost";
    this.item.command = "gdm.cost";
    this.render(costView(undefined, false));
    this.item.show();
  }

  /** A `gdm/costUpdate` arrived. */
  update(update: CostUpdate): void {
    this.last = update;
    this.refresh();
  }

  /** The number of running tasks changed. */
  setRunning(count: number): void {
    this.running = count;
    this.refresh();
  }

  /** The server stopped or could not start; clicking shows the log. */
  serverDown(reason: string): void {
    this.render(serverDownView(reason));
    this.item.command = "gdm.showLog";
  }

  private refresh(): void {
    this.item.command = "gdm.cost";
    this.render(costView(this.last, this.running > 0));
  }

  private render(view: CostView): void {
    this.item.text = view.text;
    const tip = new vscode.MarkdownString(view.tooltip);
    tip.supportThemeIcons = true;
    this.item.tooltip = tip;
    const bg = BACKGROUND[view.level];
    this.item.backgroundColor = bg ? new vscode.ThemeColor(bg) : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
