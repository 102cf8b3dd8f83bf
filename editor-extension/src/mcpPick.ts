/** "gdm: MCP servers": `gdm.mcp.list` in a quick pick (items from logic/mcpView.ts). */
import * as vscode from "vscode";
import { mcpPickItems, type McpPickItem, type McpServerRow } from "./logic/mcpView";
import { openSettings } from "./notify";

type Next = (args: unknown[]) => Promise<unknown>;

function quickPickItem(item: McpPickItem): vscode.QuickPickItem & { action?: McpPickItem["action"] } {
  return item.separator
    ? { label: item.label, kind: vscode.QuickPickItemKind.Separator }
    : { label: item.label, description: item.description, detail: item.detail, action: item.action };
}

/** Each configured server, whether it started (or why not), and its tools; an empty state that opens the setting. */
export async function showMcpServers(next: Next): Promise<unknown> {
  const result = (await next([{}])) as { servers?: McpServerRow[] } | undefined;
  const items = mcpPickItems(result?.servers).map(quickPickItem);
  void vscode.window.showQuickPick(items, { title: "gdm: MCP servers", matchOnDescription: true, matchOnDetail: true })
    .then((picked) => {
      if (picked?.action === "openSettings") {
        void openSettings("gdm.mcpServers");
      }
    });
  return result;
}
