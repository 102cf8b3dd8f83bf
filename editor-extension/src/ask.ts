/** The "Ask gdm" input: a prompt box with the history of earlier prompts, and the payload it builds. */
import * as vscode from "vscode";
import type { AskPayload } from "./logic/protocol";
import { remember } from "./logic/history";

const HISTORY_KEY = "gdm.askHistory";

/** Ask for a prompt; earlier prompts are offered below the typed text. Undefined when dismissed. */
export async function promptWithHistory(memento: vscode.Memento, placeholder: string): Promise<string | undefined> {
  const history = memento.get<string[]>(HISTORY_KEY, []);
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  pick.title = "Ask gdm";
  pick.placeholder = placeholder;
  pick.ignoreFocusOut = true;
  const past = history.map((h) => ({ label: h, description: "earlier prompt" }));
  pick.items = past;
  pick.onDidChangeValue((value) => {
    const typed = value.trim() ? [{ label: value, description: "ask gdm", alwaysShow: true }] : [];
    pick.items = [...typed, ...past.filter((p) => p.label !== value)];
  });
  const chosen = await new Promise<string | undefined>((resolve) => {
    pick.onDidAccept(() => resolve(pick.selectedItems[0]?.label ?? pick.value));
    pick.onDidHide(() => resolve(undefined));
    pick.show();
  });
  pick.dispose();
  const prompt = chosen?.trim();
  if (!prompt) {
    return undefined;
  }
  await memento.update(HISTORY_KEY, remember(history, prompt));
  return prompt;
}

function isPayload(arg: unknown): arg is AskPayload {
  return typeof arg === "object" && arg !== null && !(arg instanceof vscode.Uri) &&
    ("prompt" in arg || "uri" in arg || "range" in arg);
}

/**
 * The `gdm.ask` payload from whatever the command was invoked with: the code action's
 * `{uri, range}`, a context-menu URI, or nothing (palette, keybinding) -> the active selection.
 */
export function basePayload(args: unknown[]): AskPayload {
  const first = args[0];
  if (isPayload(first)) {
    return { ...first };
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor || (first instanceof vscode.Uri && first.toString() !== editor.document.uri.toString())) {
    return first instanceof vscode.Uri ? { uri: first.toString() } : {};
  }
  const s = editor.selection;
  return {
    uri: editor.document.uri.toString(),
    range: { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } },
  };
}
