/**
 * The language client: spawns `<gdm.pythonPath> -m gdm` over stdio, syncs the `gdm` settings
 * section, and adds the UI the server's commands need through `middleware.executeCommand`
 * (languageclient registers the server's commands itself; registering them again throws).
 */
import * as vscode from "vscode";
import {
  CloseAction, ErrorAction, LanguageClient, type LanguageClientOptions, type ServerOptions, State,
} from "vscode-languageclient/node";
import { spawn } from "node:child_process";
import { PREFLIGHT_SCRIPT, type PreflightResult } from "./logic/errors";

export function pythonPath(): string {
  return vscode.workspace.getConfiguration("gdm").get<string>("pythonPath") || "python3";
}

/** Check that the interpreter exists and can find gdm, without starting the server. */
export function preflight(python: string, cwd: string | undefined): Promise<PreflightResult> {
  return new Promise((resolve) => {
    let stderr = "";
    let settled = false;
    const done = (r: PreflightResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const child = spawn(python, ["-c", PREFLIGHT_SCRIPT], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err: NodeJS.ErrnoException) => done({ spawnError: err.code ?? err.message }));
    child.on("close", (code) => done({ exitCode: code, stderr }));
  });
}

export type ExecuteHook = (command: string, args: unknown[], next: (args: unknown[]) => Promise<unknown>) => Promise<unknown>;

/** Build (not start) the client. */
export function createClient(python: string, cwd: string | undefined, onExecute: ExecuteHook): LanguageClient {
  const serverOptions: ServerOptions = {
    command: python,
    args: ["-m", "gdm"],
    options: { cwd, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
    synchronize: { configurationSection: "gdm" },
    // No initializationOptions: the server pulls section "gdm" with workspace/configuration at
    // `initialized` and on every change. Sent here too, they would be a lower layer that a
    // cleared setting ("" = unset) falls back to, so clearing gdm.model would not unset it.
    outputChannelName: "gdm server",
    middleware: {
      executeCommand: (command, args, next) => onExecute(command, args, (a) => Promise.resolve(next(command, a))),
    },
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => ({ action: CloseAction.DoNotRestart, message: "gdm: the language server stopped. Run \"gdm: Restart server\"." }),
    },
  };
  return new LanguageClient("gdm", "gdm server", serverOptions, clientOptions);
}

export { State };
