/** Notifications a person can act on: each with the button that fixes the problem. */
import * as vscode from "vscode";
import type { ActionId, Actionable } from "./logic/errors";

export type ActionHandlers = Record<ActionId, (a: Actionable) => unknown>;

/** Show the notification and run the handler of the button pressed. */
export async function showActionable(a: Actionable, handlers: ActionHandlers): Promise<void> {
  const show =
    a.severity === "error" ? vscode.window.showErrorMessage
      : a.severity === "warning" ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  const pressed = await show(a.message, ...a.actions.map((x) => x.title));
  const action = a.actions.find((x) => x.title === pressed);
  if (action) {
    await handlers[action.id](a);
  }
}

/** Open the Settings editor on one gdm setting, or on all of them. */
export async function openSettings(setting = "gdm"): Promise<void> {
  const query = setting === "gdm" ? "@ext:gdm.gdm" : `@id:${setting}`;
  await vscode.commands.executeCommand("workbench.action.openSettings", query);
}

/** Let the user pick a Python executable for gdm.pythonPath. True when one was chosen. */
export async function selectInterpreter(): Promise<boolean> {
  const picked = await vscode.window.showOpenDialog({
    title: "Python interpreter with gdm installed",
    canSelectMany: false,
    openLabel: "Use for gdm",
  });
  if (!picked?.[0]) {
    return false;
  }
  await vscode.workspace.getConfiguration("gdm").update("pythonPath", picked[0].fsPath, vscode.ConfigurationTarget.Global);
  return true;
}
