/**
 * Which messages a person can act on, and the action that fixes each: the server failing to
 * start, the model not configured, a budget reached, the provider down.
 */

export type ActionId = "openSettings" | "selectInterpreter" | "showLog" | "showCost" | "reviewAll";

export interface Action { title: string; id: ActionId; }

export type Severity = "error" | "warning" | "info";

export interface Actionable {
  severity: Severity;
  message: string;
  actions: Action[];
  /** The settings filter "Open settings" opens, e.g. "gdm.model". */
  setting?: string;
}

const OPEN: Action = { title: "Open settings", id: "openSettings" };

/** What kind of trouble a message or `errorKind` describes. */
export type Trouble = "model" | "budget" | "provider" | "settings" | "done" | "other";

/** Classify by the task event's errorKind when there is one, else by the text. */
export function troubleOf(message: string, errorKind?: string): Trouble {
  const k = (errorKind ?? "").toLowerCase();
  const m = message.toLowerCase();
  if (k.includes("budget") || /budget/.test(m)) {
    return "budget";
  }
  // The server's kinds (models/llm.py LLMError): config, auth, rate_limit, server, timeout,
  // connection, bad_request, bad_response; plus budget and internal from the loop.
  if (/^(config|auth)|model|key/.test(k)) {
    return "model";
  }
  if (/^(rate_limit|server|timeout|connection|bad_response)$|provider|unavailable/.test(k)) {
    return "provider";
  }
  if (/no model|model (is )?not (configured|set)|gdm\.model|set .*model|api key|apikeyenv/.test(m)) {
    return "model";
  }
  if (/provider|connection|refused|unreachable|timed? ?out|rate limit|429|5\d\d|service unavailable/.test(m)) {
    return "provider";
  }
  if (/setting '|settings? .*invalid|is invalid/.test(m)) {
    return "settings";
  }
  if (/^gdm: done\b/.test(m)) {
    return "done";
  }
  return "other";
}

/** The notification for a server message (`window/showMessage`), with the action that fixes it. */
export function actionableFor(message: string, severity: Severity, errorKind?: string): Actionable {
  switch (troubleOf(message, errorKind)) {
    case "model":
      return { severity: "error", message, actions: [OPEN, { title: "Show log", id: "showLog" }], setting: "gdm.model" };
    case "budget":
      return {
        severity: "warning",
        message,
        actions: [{ title: "Show cost", id: "showCost" }, OPEN],
        setting: "gdm.taskBudgetUsd",
      };
    case "provider":
      return {
        severity: "error",
        message,
        actions: [OPEN, { title: "Show log", id: "showLog" }],
        setting: "gdm.apiBase",
      };
    case "settings":
      return { severity, message, actions: [OPEN], setting: "gdm" };
    case "done":
      return { severity: "info", message, actions: /0 patch/.test(message) ? [] : [{ title: "Review all", id: "reviewAll" }] };
    default:
      return { severity, message, actions: severity === "info" ? [] : [{ title: "Show log", id: "showLog" }] };
  }
}

/** What the pre-start check of the Python interpreter found. */
export interface PreflightResult {
  /** Error code of the spawn itself, e.g. ENOENT when the interpreter does not exist. */
  spawnError?: string;
  exitCode?: number | null;
  stderr?: string;
}

/** Exit code of the preflight script when Python runs but cannot find the gdm package. */
export const NO_GDM_EXIT = 3;

/** Python one-liner that checks gdm is importable without importing it (fast). */
export const PREFLIGHT_SCRIPT =
  `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("gdm") else ${NO_GDM_EXIT})`;

/** The message for a failed preflight, or undefined when the server can start. */
export function preflightProblem(pythonPath: string, r: PreflightResult): Actionable | undefined {
  const fix: Action[] = [
    { title: "Select interpreter", id: "selectInterpreter" },
    { title: "Open settings", id: "openSettings" },
  ];
  if (r.spawnError) {
    const why = r.spawnError === "ENOENT" ? "was not found" : `could not be run (${r.spawnError})`;
    return {
      severity: "error",
      message: `gdm: the language server could not start: Python "${pythonPath}" ${why}. Set gdm.pythonPath to a Python 3.11+ that has gdm installed.`,
      actions: fix,
      setting: "gdm.pythonPath",
    };
  }
  if (r.exitCode === NO_GDM_EXIT) {
    return {
      severity: "error",
      message: `gdm: the language server could not start: "${pythonPath}" has no gdm package (pip install gdm, or set gdm.pythonPath to the Python that has it).`,
      actions: fix,
      setting: "gdm.pythonPath",
    };
  }
  if (r.exitCode !== 0) {
    const tail = (r.stderr ?? "").trim().split("\n").slice(-1)[0] ?? "";
    return {
      severity: "error",
      message: `gdm: the language server could not start: "${pythonPath}" failed (exit ${r.exitCode})${tail ? `: ${tail}` : ""}.`,
      actions: fix,
      setting: "gdm.pythonPath",
    };
  }
  return undefined;
}
