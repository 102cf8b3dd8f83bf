/**
 * The "gdm: Tasks" tree's model, free of VS Code: `gdm.task.list` rows as labelled nodes (a task
 * with its title, status and cost; its patches as children) and the context value that decides
 * which actions (Review, Accept all, Undo, Commit) each node offers.
 */
import { shortCommit } from "./commitMessage";
import type { Patch } from "./protocol";

/** One row of `gdm.task.list` (DESIGN.md). */
export interface TaskRow {
  taskId: string;
  title: string | null;
  prompt: string;
  status: string;
  costUsd: number;
  patchIds: string[];
  accepted: number;
  startedAt?: string;
  /** The git commit `gdm.task.commit` made of it (null: not committed). */
  commit?: string | null;
}

export interface TaskNode {
  kind: "task";
  taskId: string;
  label: string;
  description: string;
  tooltip: string;
  /** Space-separated flags matched by package.json's `viewItem =~ /…/` menus. */
  contextValue: string;
  patchIds: string[];
}

export interface PatchNode {
  kind: "patch";
  taskId: string;
  patchId: string;
  label: string;
  description: string;
  contextValue: string;
}

/** `$0.0123` with enough digits for a cheap task. */
export function formatUsd(usd: number): string {
  return `$${(Number.isFinite(usd) ? usd : 0).toFixed(usd > 0 && usd < 0.01 ? 4 : 2)}`;
}

function oneLine(text: string, max = 80): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A task row as a tree node; `patches` knows the open patches (pending or partial). */
export function taskNode(row: TaskRow, patches: (patchId: string) => Patch | undefined): TaskNode {
  const open = row.patchIds.some((id) => {
    const p = patches(id);
    return p !== undefined && (p.status === "pending" || p.status === "partial");
  });
  const committable = row.accepted > 0 && !row.commit;
  const flags = ["gdmTask", open ? "reviewable" : "", row.accepted > 0 ? "undoable" : "",
    committable ? "committable" : ""].filter(Boolean);
  const n = row.patchIds.length;
  return {
    kind: "task",
    taskId: row.taskId,
    label: oneLine(row.title || row.prompt || row.taskId),
    description: `${row.status} · ${formatUsd(row.costUsd)} · ${n} patch${n === 1 ? "" : "es"}` +
      (row.accepted > 0 ? ` · ${row.accepted} accepted` : "") + (row.commit ? ` · committed ${shortCommit(row.commit)}` : ""),
    tooltip: `${row.taskId}: ${row.prompt}`,
    contextValue: flags.join(" "),
    patchIds: row.patchIds,
  };
}

/** A task's patch as a child node (a reviewed patch is no longer in the client's store). */
export function patchNode(taskId: string, patchId: string, patch: Patch | undefined): PatchNode {
  if (!patch) {
    return { kind: "patch", taskId, patchId, label: patchId, description: "reviewed", contextValue: "gdmPatch" };
  }
  const open = patch.status === "pending" || patch.status === "partial";
  const risk = patch.risk ? ` · risk ${patch.risk.tier}` : "";
  return {
    kind: "patch",
    taskId,
    patchId,
    label: patch.newPath ? `${patch.path} → ${patch.newPath}` : patch.path,
    description: `${patch.status}${risk}`,
    contextValue: open ? "gdmPatch reviewable" : "gdmPatch",
  };
}
