/**
 * The "gdm: MCP servers" quick pick: each configured server (a separator), whether it started or
 * why not, and its tools; with none configured, one item that says how to add one and opens the
 * setting. Pure: the VS Code side is mcpPick.ts.
 */

/** One row of `gdm.mcp.list`. */
export interface McpServerRow {
  name: string;
  source: string;
  transport: string;
  command: string;
  status: string;
  error: string | null;
  tools: { name: string; serverTool: string; description: string }[];
}

export interface McpPickItem {
  label: string;
  description?: string;
  detail?: string;
  /** A separator line (the server's name), not an item. */
  separator?: boolean;
  /** What picking it does. */
  action?: "openSettings";
}

export const EMPTY_LABEL = "$(info) No MCP servers configured";

/** The quick pick's items for `gdm.mcp.list`'s `servers`. */
export function mcpPickItems(servers: McpServerRow[] | undefined): McpPickItem[] {
  const list = Array.isArray(servers) ? servers : [];
  if (list.length === 0) {
    return [{
      label: EMPTY_LABEL,
      detail: "Add one in the gdm.mcpServers setting ({name: {command, args?} | {url}}) or the workspace's .mcp.json. Pick this to open the setting.",
      action: "openSettings",
    }];
  }
  const items: McpPickItem[] = [];
  for (const s of list) {
    items.push({ label: `${s.name} (${s.transport}, ${s.source})`, separator: true });
    items.push({
      label: `${s.status === "running" ? "$(check)" : "$(warning)"} ${s.name}: ${s.status}`,
      description: s.command,
      detail: s.error ?? undefined,
    });
    const tools = Array.isArray(s.tools) ? s.tools : [];
    if (tools.length === 0) {
      items.push({ label: "$(circle-slash) no tools", description: s.status === "running" ? "the server lists none" : "not started" });
    }
    for (const t of tools) {
      items.push({ label: `$(tools) ${t.name}`, description: t.serverTool, detail: t.description || undefined });
    }
  }
  return items;
}
