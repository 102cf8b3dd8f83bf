import { test } from "node:test";
import assert from "node:assert/strict";
import { formatUsd, patchNode, taskNode, type TaskRow } from "../../src/logic/tasksTree";
import type { Patch } from "../../src/logic/protocol";

const row: TaskRow = {
  taskId: "t-1", title: "Tidy the calculator", prompt: "Tidy the calculator and note it\nplease", status: "done",
  costUsd: 0.0042, patchIds: ["t-1-p-1", "t-1-p-2"], accepted: 0,
};
const pending: Patch = {
  patchId: "t-1-p-1", taskId: "t-1", uri: "file:///w/calc.py", path: "calc.py", kind: "modify", status: "pending",
  diff: "", hunks: [], risk: { score: 0.12, tier: "LOW", reasons: [] },
} as Patch;

test("a task node: title (else the prompt's first line), status, cost, patch count; actions by state", () => {
  const open = taskNode(row, (id) => (id === pending.patchId ? pending : undefined));
  assert.equal(open.label, "Tidy the calculator");
  assert.equal(open.description, "done · $0.0042 · 2 patches");
  assert.equal(open.contextValue, "gdmTask reviewable");
  assert.deepEqual(open.patchIds, ["t-1-p-1", "t-1-p-2"]);

  const accepted = taskNode({ ...row, title: null, accepted: 3, costUsd: 0.5 }, () => undefined);
  assert.equal(accepted.label, "Tidy the calculator and note it");
  assert.equal(accepted.description, "done · $0.50 · 2 patches · 3 accepted");
  assert.equal(accepted.contextValue, "gdmTask undoable committable", "nothing open: no Review / Accept all; Undo, Commit");

  const committed = taskNode({ ...row, accepted: 2, commit: "0123456789abcdef" }, () => undefined);
  assert.equal(committed.contextValue, "gdmTask undoable", "committed: no second commit, Undo (a revert) stays");
  assert.equal(committed.description, "done · $0.0042 · 2 patches · 2 accepted · committed 0123456");

  const nothing = taskNode({ ...row, patchIds: [], status: "failed" }, () => undefined);
  assert.equal(nothing.contextValue, "gdmTask");
  assert.equal(nothing.description, "failed · $0.0042 · 0 patches");
});

test("patch nodes: path, status and risk while known; reviewed ones by id", () => {
  assert.deepEqual(patchNode("t-1", "t-1-p-1", pending), {
    kind: "patch", taskId: "t-1", patchId: "t-1-p-1", label: "calc.py", description: "pending · risk LOW",
    contextValue: "gdmPatch reviewable",
  });
  assert.equal(patchNode("t-1", "t-1-p-1", { ...pending, kind: "rename", newPath: "pkg/calc.py", status: "accepted" }).label,
    "calc.py → pkg/calc.py");
  assert.equal(patchNode("t-1", "t-1-p-1", { ...pending, status: "accepted" }).contextValue, "gdmPatch");
  assert.deepEqual(patchNode("t-1", "t-1-p-2", undefined).description, "reviewed");
});

test("costs print with enough digits", () => {
  assert.equal(formatUsd(0), "$0.00");
  assert.equal(formatUsd(0.0042), "$0.0042");
  assert.equal(formatUsd(1.234), "$1.23");
  assert.equal(formatUsd(Number.NaN), "$0.00");
});
