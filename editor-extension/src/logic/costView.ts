/**
 * What the status-bar cost meter shows for a `gdm/costUpdate`: text, tooltip and colour level.
 * Pure: the VS Code side (costStatus.ts) only copies these fields onto a StatusBarItem.
 */
import type { CostBreakdown, CostUpdate } from "./protocol";

export type Level = "normal" | "warning" | "error";

export interface CostView {
  text: string;
  /** Markdown. */
  tooltip: string;
  level: Level;
}

/** Fraction of a budget at which the meter turns to the warning colour. */
export const WARN_AT = 0.8;

/** Dollars with enough digits to see sub-cent costs: $0.0012, $1.25. */
export function usd(value: number | null | undefined): string {
  const v = typeof value === "number" && Number.isFinite(value) ? value : 0;
  return `$${Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4)}`;
}

/** A budget figure: $2.00. */
export function budget(value: number | null | undefined): string {
  const v = typeof value === "number" && Number.isFinite(value) ? value : 0;
  return `$${v.toFixed(2)}`;
}

function ratio(spent: number, limit: number): number {
  if (!(limit > 0)) {
    return 0;
  }
  return spent / limit;
}

/** The colour level: error once a budget is reached, warning from WARN_AT of it. */
export function levelOf(update: CostUpdate, taskRunning: boolean): Level {
  const day = ratio(update.dayUsd, update.dayBudgetUsd);
  const task = taskRunning ? ratio(update.taskUsd, update.budgetUsd) : 0;
  const worst = Math.max(day, task);
  if (worst >= 1) {
    return "error";
  }
  return worst >= WARN_AT ? "warning" : "normal";
}

function percent(spent: number, limit: number): string {
  return limit > 0 ? `${Math.round((100 * spent) / limit)}%` : "no budget";
}

/** The tooltip: task, session and day totals, tokens and model. */
export function tooltipOf(update: CostUpdate, taskRunning: boolean): string {
  const lines = [
    `**gdm cost**${taskRunning ? " — task running" : ""}`,
    "",
    `| | spent | budget |`,
    `|---|---:|---:|`,
    `| task | ${usd(update.taskUsd)} | ${budget(update.budgetUsd)} (${percent(update.taskUsd, update.budgetUsd)}) |`,
    `| session | ${usd(update.sessionUsd)} | |`,
    `| day | ${usd(update.dayUsd)} | ${budget(update.dayBudgetUsd)} (${percent(update.dayUsd, update.dayBudgetUsd)}) |`,
    "",
    `tokens: ${update.tokensIn ?? 0} in / ${update.tokensOut ?? 0} out`,
    "",
    `model: ${update.model ? `\`${update.model}\`` : "not configured"}`,
  ];
  if (update.priceKnown === false) {
    lines.push("", "⚠ price unknown for this model: set `gdm.prices`");
  }
  if (update.sandbox === "off") {
    lines.push("", "⚠ **sandbox off** (`gdm.sandbox`): tests, checks and allowed commands run with your full rights, network and secrets");
  } else if (update.sandbox === "unavailable") {
    lines.push("", "⚠ **sandbox unavailable**: no tests, checks or commands run until bubblewrap can start (see the message), or `gdm.sandbox` is `off`");
  }
  lines.push("", "Click for the breakdown.");
  return lines.join("\n");
}

/** The meter for a cost update; the task's cost while one runs, the day's otherwise. */
export function costView(update: CostUpdate | undefined, taskRunning: boolean): CostView {
  if (!update) {
    return { text: "$(credit-card) gdm …", tooltip: "gdm: waiting for the server's first cost update", level: "normal" };
  }
  const unknown = update.priceKnown === false ? "?" : "";
  const text = taskRunning
    ? `$(sync~spin) gdm task ${usd(update.taskUsd)}${unknown} / ${budget(update.budgetUsd)}`
    : `$(credit-card) gdm today ${usd(update.dayUsd)}${unknown} / ${budget(update.dayBudgetUsd)}`;
  const unsandboxed = update.sandbox === "off" || update.sandbox === "unavailable";
  const level = levelOf(update, taskRunning);
  return {
    text: unsandboxed ? `${text} $(shield) ${update.sandbox === "off" ? "sandbox off" : "no sandbox"}` : text,
    tooltip: tooltipOf(update, taskRunning),
    level: unsandboxed && level === "normal" ? "warning" : level,
  };
}

/** The meter when the server is not running. */
export function serverDownView(reason: string): CostView {
  return { text: "$(error) gdm: server stopped", tooltip: `gdm: ${reason}\n\nClick to see the log.`, level: "error" };
}

/** Lines of the breakdown shown on click (`gdm.cost` result). */
export function breakdownLines(b: CostBreakdown): { label: string; detail: string }[] {
  const rows = [
    { label: `Task ${usd(b.taskUsd)} of ${budget(b.budgetUsd)}`, detail: b.taskId ? `task ${b.taskId}` : "no task yet" },
    { label: `Session ${usd(b.sessionUsd)}`, detail: "since the server started" },
    { label: `Day ${usd(b.dayUsd)} of ${budget(b.dayBudgetUsd)}`, detail: percent(b.dayUsd, b.dayBudgetUsd) + " of the day budget" },
    { label: `Tokens ${b.tokensIn ?? 0} in / ${b.tokensOut ?? 0} out`, detail: b.model ? `model ${b.model}` : "model not configured" },
  ];
  for (const m of b.byModel ?? []) {
    rows.push({ label: `${m.model}: ${usd(m.usd)}`, detail: `${m.calls} call(s), ${m.tokensIn} in / ${m.tokensOut} out` });
  }
  return rows;
}
