/**
 * Inline completions between VS Code and the server, as pure functions: the LSP 3.18
 * `textDocument/inlineCompletion` request (vscode-languageclient 9 has none, so the extension sends
 * it itself), its answer read back, and what the status-bar toggle shows. The VS Code side is
 * src/inlineCompletions.ts.
 */
import { usd } from "./costView";

export const INLINE_COMPLETION = "textDocument/inlineCompletion";
export const ACCEPTED_COMMAND = "gdm.completion.accepted";
export const TOGGLE_COMMAND = "gdm.completions.toggle";

export interface LspPosition { line: number; character: number }
export interface LspRange { start: LspPosition; end: LspPosition }
export interface LspCommand { title: string; command: string; arguments?: unknown[] }
export interface LspInlineItem {
  insertText: string | { kind: string; value: string };
  filterText?: string;
  range?: LspRange;
  command?: LspCommand;
}

/** LSP's trigger kind (Invoked = 1, Automatic = 2) for VS Code's (Invoke = 0, Automatic = 1). */
export function lspTriggerKind(vscodeKind: number): 1 | 2 {
  return vscodeKind === 0 ? 1 : 2;
}

/** The request's params. */
export function requestParams(uri: string, position: LspPosition, vscodeTriggerKind: number) {
  return { textDocument: { uri }, position, context: { triggerKind: lspTriggerKind(vscodeTriggerKind) } };
}

/** The items of an answer (`InlineCompletionList`, a bare list, or null). */
export function itemsOf(result: unknown): LspInlineItem[] {
  if (Array.isArray(result)) {
    return result as LspInlineItem[];
  }
  if (result && typeof result === "object" && Array.isArray((result as { items?: unknown }).items)) {
    return (result as { items: LspInlineItem[] }).items;
  }
  return [];
}

/** An item's text (a snippet's value as it is: the server sends plain text). */
export function itemText(item: LspInlineItem): string {
  return typeof item.insertText === "string" ? item.insertText : item.insertText.value;
}

export interface CompletionSettings { completions?: string; completionModel?: string; cheapModel?: string; model?: string }

/** Whether completions are on, as the server decides it: `completions`, else on when a model is set. */
export function completionsOn(s: CompletionSettings): boolean {
  if (s.completions === "on" || s.completions === "off") {
    return s.completions === "on";
  }
  return Boolean(s.completionModel || s.cheapModel || s.model);
}

/** The model completions use: completionModel, else cheapModel, else model. */
export function completionModelOf(s: CompletionSettings): string | undefined {
  return s.completionModel || s.cheapModel || s.model || undefined;
}

/** The `completions` line of `gdm.cost`. */
export interface CompletionLine {
  calls: number; usd: number; shown: number; accepted: number; acceptedPartly: number; acceptedLines: number;
}

/** What the status-bar toggle shows: text and a Markdown tooltip. */
export function toggleView(s: CompletionSettings, line?: CompletionLine): { text: string; tooltip: string } {
  const on = completionsOn(s);
  const model = completionModelOf(s);
  const text = on ? "$(sparkle) gdm" : "$(circle-slash) gdm";
  const lines = [`**gdm inline completions: ${on ? "on" : "off"}**${model ? ` (${model})` : ""}`, ""];
  if (on && !model) {
    lines.push("No model is set: set gdm.completionModel or gdm.model.", "");
  }
  if (line) {
    const perLine = line.acceptedLines > 0 ? `, ${usd(line.usd / line.acceptedLines)} per accepted line` : "";
    lines.push(`Today: ${line.calls} call(s), ${usd(line.usd)}; ${line.shown} shown, ${line.accepted} accepted, ` +
      `${line.acceptedPartly} in part${perLine}.`, "");
  }
  lines.push(`Click to turn them ${on ? "off" : "on"}.`);
  return { text, tooltip: lines.join("\n") };
}
