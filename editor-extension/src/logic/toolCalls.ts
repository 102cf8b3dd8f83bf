/**
 * A tool call as the panel shows it: one sentence per tool ("read calc.py lines 9–11", "searched
 * "divide(" — 3 hits", "ran pytest -q: 3 passed"), from the call's arguments (DESIGN.md's
 * model-facing tools) and the result's `facts` (the server reads them from the whole result, which
 * the `result` text is cut from); and the arguments pretty-printed, one field a row, long texts as
 * blocks. Pure and escaped by construction: no VS Code here.
 */
import { escapeHtml } from "./markdown";
import type { ToolFacts } from "./protocol";

export interface CallOutcome {
  ok?: boolean;
  text?: string | null;
  facts?: ToolFacts;
}

type Args = Record<string, unknown>;

const BRIEF_CHARS = 60;

function clip(text: string, max = BRIEF_CHARS): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function str(args: Args, key: string): string | undefined {
  const v = args[key];
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
}

function lineCount(text: unknown): number {
  if (typeof text !== "string" || text === "") {
    return 0;
  }
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** " — 3 hits", " — 200+ hits", " — no hits" (nothing when the facts lack a count). */
function count(facts: ToolFacts | undefined, one: string, many?: string): string {
  if (facts?.hits === undefined) {
    return "";
  }
  if (facts.hits === 0) {
    return ` — no ${many ?? `${one}s`}`;
  }
  return ` — ${facts.more ? `${facts.hits}+ ${many ?? `${one}s`}` : plural(facts.hits, one, many)}`;
}

function lines(args: Args): string {
  const start = str(args, "start_line");
  const end = str(args, "end_line");
  if (start && end) {
    return start === end ? ` line ${start}` : ` lines ${start}–${end}`;
  }
  return start ? ` from line ${start}` : end ? ` lines 1–${end}` : "";
}

/** A test runner's summary in a command's last line ("3 passed in 0.02s", "=== 1 failed, 2 passed in 0.1s ==="). */
function testSummary(lastLine: string | undefined): string | undefined {
  if (!lastLine || !/\b\d+ (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b/.test(lastLine)) {
    return undefined;
  }
  return lastLine.replace(/^[=\s-]+|[=\s-]+$/g, "").replace(/\s+in [\d.]+m?s(\s*\([^)]*\))?$/, "");
}

function command(args: Args, result: CallOutcome | undefined): string {
  const cmd = clip(str(args, "command") ?? "a command");
  const f = result?.facts;
  if (!result || result.ok === false || !f) {
    return `ran ${cmd}`;
  }
  if (f.timedOut) {
    return `ran ${cmd}: timed out`;
  }
  if (f.notRun) {
    return `did not run ${cmd}: the sandbox is unavailable`;
  }
  if (f.exitCode === undefined) {
    return `ran ${cmd}`;
  }
  const tests = testSummary(f.lastLine);
  const exit = `exit ${f.exitCode ?? "unknown"}`;
  return `ran ${cmd}: ${tests ? `${tests}${f.exitCode === 0 ? "" : ` (${exit})`}` : exit}`;
}

function mcp(name: string): string {
  const [, server, tool] = /^mcp__(.+?)__(.+)$/.exec(name) ?? [];
  return server ? `called ${tool} on MCP server ${server}` : `called ${name}`;
}

/** The call as a sentence in the past tense (the mark beside it says whether it is still running). */
export function toolSentence(name: string, rawArgs: unknown, result?: CallOutcome): string {
  const args: Args = typeof rawArgs === "object" && rawArgs !== null && !Array.isArray(rawArgs) ? (rawArgs as Args) : {};
  const path = str(args, "path");
  const where = path ? ` in ${path}` : "";
  switch (name) {
    case "read_file":
      return `read ${path ?? "a file"}${lines(args)}`;
    case "list_files":
      return `listed files${where}${str(args, "pattern") ? ` matching ${str(args, "pattern")}` : ""}${count(result?.facts, "file")}`;
    case "search":
      return `searched ${args.regex ? "for the pattern " : ""}"${clip(str(args, "query") ?? "")}"${where}${count(result?.facts, "hit")}`;
    case "edit_file":
      return `proposed an edit to ${path ?? "a file"}: ${plural(lineCount(args.old_text), "line")} → ${lineCount(args.new_text)}`;
    case "write_file":
      return `proposed writing ${path ?? "a file"} (${plural(lineCount(args.content), "line")})`;
    case "delete_file":
      return `proposed deleting ${path ?? "a file"}`;
    case "rename_file":
      return `proposed moving ${path ?? "a file"} to ${str(args, "new_path") ?? "?"}`;
    case "run_command":
      return command(args, result);
    case "code_map": {
      const focus = Array.isArray(args.focus) ? args.focus.filter((f) => typeof f === "string").join(", ") : "";
      return `looked at the code map${focus ? ` around ${clip(focus)}` : ""}`;
    }
    case "find_symbol":
      return `looked up the definitions of ${str(args, "name") ?? "?"}${count(result?.facts, "definition")}`;
    case "find_references":
      return `looked up references to ${str(args, "name") ?? "?"}${where}${count(result?.facts, "reference")}`;
    case "file_outline":
      return `outlined ${path ?? "a file"}`;
    default:
      return name.startsWith("mcp__") ? mcp(name) : `${name} ${clip(path ?? str(args, "query") ?? str(args, "command") ?? "")}`.trim();
  }
}

/** A failed call's reason, from the first line of its result. */
export function failure(result: CallOutcome | undefined): string | undefined {
  if (result?.ok !== false) {
    return undefined;
  }
  return clip((result.text ?? "").trim().split("\n")[0] ?? "", 120) || "failed";
}

function value(v: unknown): string {
  if (typeof v === "string") {
    return v.includes("\n") || v.length > 80 ? `<pre class="value">${escapeHtml(v)}</pre>` : `<code>${escapeHtml(v)}</code>`;
  }
  if (typeof v === "number" || typeof v === "boolean" || v === null) {
    return `<code>${escapeHtml(String(v))}</code>`;
  }
  return `<pre class="value">${escapeHtml(JSON.stringify(v, null, 2))}</pre>`;
}

/** The arguments pretty-printed: one row per field (name, then its value; multi-line texts as blocks). */
export function renderArguments(rawArgs: unknown): string {
  if (typeof rawArgs !== "object" || rawArgs === null || Array.isArray(rawArgs)) {
    // invalid JSON from the model comes as its raw text
    return `<pre class="args raw">${escapeHtml(typeof rawArgs === "string" ? rawArgs : JSON.stringify(rawArgs, null, 2))}</pre>`;
  }
  const rows = Object.entries(rawArgs as Args).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${value(v)}</dd>`);
  return rows.length ? `<dl class="args">${rows.join("")}</dl>` : `<div class="args empty-args">no arguments</div>`;
}
