/**
 * The views on the server's data that open in the editor area: the code map tab (`gdm.map`),
 * the usage chart (`gdm.usage`) and the MCP servers quick pick (`gdm.mcp.list`). Each is the UI
 * of a server command, reached through the language client's `middleware.executeCommand`.
 */
import * as vscode from "vscode";
import { CodeMapView, MAP_SCHEME } from "./codeMapView";
import { showMcpServers } from "./mcpPick";
import { UsageView } from "./usageView";

type Next = (args: unknown[]) => Promise<unknown>;

const HANDLED = ["gdm.map", "gdm.usage", "gdm.mcp.list"];

export class GdmViews implements vscode.Disposable {
  readonly codeMap: CodeMapView;
  readonly usage: UsageView;
  private readonly registration: vscode.Disposable;

  constructor(log: (line: string) => void) {
    this.codeMap = new CodeMapView(log);
    this.usage = new UsageView(log);
    this.registration = vscode.workspace.registerTextDocumentContentProvider(MAP_SCHEME, this.codeMap);
  }

  /** Whether `command`'s UI is one of these views. */
  handles(command: string): boolean {
    return HANDLED.includes(command);
  }

  /** The `middleware.executeCommand` hook for the commands `handles`. */
  execute(command: string, args: unknown[], next: Next): Promise<unknown> {
    switch (command) {
      case "gdm.map":
        return this.codeMap.show(args, next);
      case "gdm.usage":
        return this.usage.show(args, next);
      default:
        return showMcpServers(next);
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.codeMap.dispose();
    this.usage.dispose();
  }
}
