/**
 * "gdm: Show code map": the `gdm.map` answer as the Markdown document the editor tab shows, and
 * the read-only `gdm-map:` URI it lives at. Pure: the VS Code side is codeMapView.ts.
 */

/** `gdm.map` → `{text, files, symbols, ms}` (DESIGN.md). */
export interface MapResult {
  text: string;
  files: string[];
  symbols: number;
  ms: number;
}

export const MAP_SCHEME = "gdm-map";

/** The last path segment, for the tab title. */
function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** The path (inside the `gdm-map:` scheme) of the map focused on `focus` (workspace-relative), or the whole workspace's. */
export function mapPath(focus: string | undefined): string {
  return focus ? `/gdm code map (${baseName(focus)}).md` : "/gdm code map.md";
}

/** A fence longer than any run of backticks in `text`, so the map cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return "`".repeat(longest + 1);
}

/** The tab's Markdown: what the model would see, with where it is focused, its size and timing. */
export function codeMapMarkdown(result: MapResult, focus: string | undefined, maxTokens?: number): string {
  const files = Array.isArray(result.files) ? result.files.length : 0;
  const ms = typeof result.ms === "number" && Number.isFinite(result.ms) ? Math.round(result.ms) : 0;
  const text = typeof result.text === "string" ? result.text : "";
  const lines = [
    "# gdm code map",
    "",
    `What the model would see in a task's first message${focus ? `, focused on \`${focus}\`` : ", for the whole workspace"}.`,
    "",
    `${files} file(s) · ${result.symbols ?? 0} symbol(s) · built in ${ms} ms${maxTokens ? ` · budget ${maxTokens} tokens` : ""}`,
    "",
  ];
  if (!text.trim()) {
    lines.push("_The map is empty: no source files that gdm can parse were found in this workspace._", "");
    return lines.join("\n");
  }
  const fence = fenceFor(text);
  lines.push(`${fence}text`, text.replace(/\n+$/, ""), fence, "");
  return lines.join("\n");
}
