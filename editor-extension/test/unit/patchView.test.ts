import { test } from "node:test";
import assert from "node:assert/strict";
import { applyHunks, hunkHover, hunkMarks, insertedPreview, openPatches, riskBadge, riskHover } from "../../src/logic/patchView";
import type { Hunk, Patch } from "../../src/logic/protocol";

const doc = "a\nb\nc\nd\ne\n";

function hunk(index: number, start: number, end: number, oldText: string, newText: string, status = "pending"): Hunk {
  return { index, status, range: { start: { line: start, character: 0 }, end: { line: end, character: 0 } }, oldText, newText };
}

function patch(hunks: Hunk[], extra: Partial<Patch> = {}): Patch {
  return {
    patchId: "p1", taskId: "t1", uri: "file:///w/x.py", path: "x.py", kind: "modify", status: "pending", diff: "",
    risk: { score: 0.12, tier: "LOW", reasons: [{ code: "size", weight: 0.12, message: "2 lines changed" }] },
    hunks, ...extra,
  };
}

test("pending hunks replace their whole lines, later ones first", () => {
  const hs = [hunk(0, 1, 2, "b\n", "B1\nB2\n"), hunk(1, 3, 4, "d\n", "")];
  assert.equal(applyHunks(doc, hs), "a\nB1\nB2\nc\ne\n");
});

test("an empty range is a pure insertion before that line", () => {
  assert.equal(applyHunks(doc, [hunk(0, 0, 0, "", "first\n")]), "first\na\nb\nc\nd\ne\n");
  assert.equal(applyHunks(doc, [hunk(0, 5, 5, "", "last\n")]), doc + "last\n");
});

test("reviewed and misplaced hunks are left out; chosen ones are applied", () => {
  const hs = [hunk(0, 0, 1, "a\n", "A\n", "accepted"), hunk(1, 2, 3, "c\n", "C\n"), { ...hunk(2, 4, 5, "e\n", "E\n"), fits: false }];
  assert.equal(applyHunks(doc, hs), "a\nb\nC\nd\ne\n");
  assert.equal(applyHunks(doc, hs, [0]), "A\nb\nc\nd\ne\n");
});

test("a file without a final newline keeps it that way", () => {
  assert.equal(applyHunks("x\ny", [hunk(0, 1, 2, "y", "Y\n")]), "x\nY");
});

test("a new file's patch applies to empty text", () => {
  assert.equal(applyHunks("", [hunk(0, 0, 0, "", "print('hi')\n")]), "print('hi')\n");
});

test("marks cover the removed lines and carry the inserted ones", () => {
  const [m] = hunkMarks(patch([hunk(0, 1, 3, "b\nc\n", "B\n")]), 6);
  assert.deepEqual(m.removed, { start: 1, end: 3 });
  assert.deepEqual(m.inserted, ["B"]);
  assert.equal(m.previewLine, 2);
  assert.equal(m.badgeLine, 1);
});

test("a pure insertion previews on the line above and is clamped to the document", () => {
  const [m] = hunkMarks(patch([hunk(0, 2, 2, "", "new\n")]), 6);
  assert.deepEqual(m.removed, { start: 2, end: 2 });
  assert.equal(m.previewLine, 1);
  const [far] = hunkMarks(patch([hunk(0, 40, 42, "q\n", "r\n")]), 6);
  assert.ok(far.removed.end <= 6 && far.badgeLine <= 5);
});

test("only pending hunks are marked", () => {
  const marks = hunkMarks(patch([hunk(0, 0, 1, "a\n", "A\n", "rejected"), hunk(1, 2, 3, "c\n", "C\n")]), 6);
  assert.deepEqual(marks.map((m) => m.index), [1]);
});

test("the inserted preview fits on one line", () => {
  assert.equal(insertedPreview(["if b == 0:", "    raise ValueError()"]), "+2: if b == 0: ⏎ raise ValueError()");
  assert.equal(insertedPreview([]), "");
  assert.ok(insertedPreview(["x".repeat(500)]).length <= 130);
});

test("the risk badge names tier and score; its hover lists the reasons", () => {
  const p = patch([]);
  assert.equal(riskBadge(p.risk), "● gdm risk LOW 0.12");
  assert.match(riskBadge({ score: 0.5, tier: "MEDIUM", reasons: [] }), /MEDIUM 0\.50/);
  assert.match(riskHover(p), /2 lines changed \(`size`, \+0\.12\)/);
  assert.match(riskBadge(null), /not scored/);
  const move = patch([], { kind: "rename", newPath: "pkg/calc.py", newUri: "file:///w/pkg/calc.py" });
  assert.match(riskHover(move), /\(move to `pkg\/calc\.py`, patch /);
});

test("the hunk hover shows old and new lines as a diff", () => {
  assert.equal(hunkHover(hunk(3, 0, 1, "a\n", "A\n")), "**gdm: pending change, hunk 3**\n\n```diff\n- a\n+ A\n```");
});

test("open patches are the pending or partial ones with a pending hunk", () => {
  const hs = [hunk(0, 0, 1, "a\n", "A\n")];
  const ps = [
    patch(hs, { patchId: "open" }),
    patch(hs, { patchId: "done", status: "accepted" }),
    patch([hunk(0, 0, 1, "a\n", "A\n", "accepted")], { patchId: "partial-no-pending", status: "partial" }),
  ];
  assert.deepEqual(openPatches(ps).map((p) => p.patchId), ["open"]);
});
