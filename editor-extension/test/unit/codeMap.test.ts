import { test } from "node:test";
import assert from "node:assert/strict";
import { codeMapMarkdown, mapPath, type MapResult } from "../../src/logic/codeMap";

const result: MapResult = { text: "calc.py:\n  def add(a: float, b: float) -> float:\n  def mean(xs: list[float]) -> float:\n", files: ["calc.py", "util.py"], symbols: 7, ms: 12.6 };

test("the map tab shows what the model sees, its focus, size and timing", () => {
  const md = codeMapMarkdown(result, "src/calc.py", 2048);
  assert.match(md, /^# gdm code map\n/);
  assert.match(md, /focused on `src\/calc\.py`/);
  assert.match(md, /2 file\(s\) · 7 symbol\(s\) · built in 13 ms · budget 2048 tokens/);
  assert.ok(md.includes("```text\ncalc.py:\n  def add(a: float, b: float) -> float:\n  def mean(xs: list[float]) -> float:\n```\n"));
});

test("without a focus it is the whole workspace's map; the tab is named after the focus", () => {
  assert.match(codeMapMarkdown(result, undefined), /for the whole workspace/);
  assert.equal(mapPath(undefined), "/gdm code map.md");
  assert.equal(mapPath("src/pkg/calc.py"), "/gdm code map (calc.py).md");
});

test("backticks in the map cannot close its fence", () => {
  const md = codeMapMarkdown({ ...result, text: "doc.md:\n  ```python\n  ````\n" }, undefined);
  assert.ok(md.includes("`````text\n"), md);
  assert.ok(md.trimEnd().endsWith("`````"));
});

test("an empty map or a malformed answer says so instead of showing nothing", () => {
  assert.match(codeMapMarkdown({ text: "", files: [], symbols: 0, ms: 1 }, undefined), /The map is empty/);
  const odd = codeMapMarkdown({ text: undefined, files: null, symbols: undefined, ms: NaN } as unknown as MapResult, undefined);
  assert.match(odd, /0 file\(s\) · 0 symbol\(s\) · built in 0 ms/);
  assert.match(odd, /The map is empty/);
});
