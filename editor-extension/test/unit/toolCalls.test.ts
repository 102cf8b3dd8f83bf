/** Tool calls as the panel shows them: one sentence per tool, the arguments pretty-printed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { failure, renderArguments, toolSentence } from "../../src/logic/toolCalls";

test("one sentence per model-facing tool (DESIGN.md), counts from the result's facts", () => {
  const ok = (facts: object = {}) => ({ ok: true, text: "…", facts });
  const cases: [string, unknown, ReturnType<typeof ok> | undefined, string][] = [
    ["read_file", { path: "calc.py", start_line: 9, end_line: 11 }, ok(), "read calc.py lines 9–11"],
    ["read_file", { path: "calc.py" }, ok(), "read calc.py"],
    ["read_file", { path: "calc.py", start_line: 9 }, ok(), "read calc.py from line 9"],
    ["read_file", { path: "calc.py", start_line: 4, end_line: 4 }, undefined, "read calc.py line 4"],
    ["search", { query: "divide(" }, ok({ hits: 3 }), 'searched "divide(" — 3 hits'],
    ["search", { query: "divide(", path: "src" }, ok({ hits: 1 }), 'searched "divide(" in src — 1 hit'],
    ["search", { query: "x", regex: true }, ok({ hits: 0 }), 'searched for the pattern "x" — no hits'],
    ["search", { query: "import" }, ok({ hits: 200, more: true }), 'searched "import" — 200+ hits'],
    ["search", { query: "divide(" }, undefined, 'searched "divide("'],
    ["run_command", { command: "pytest -q" }, ok({ exitCode: 0, lastLine: "3 passed in 0.02s" }), "ran pytest -q: 3 passed"],
    ["run_command", { command: "pytest" }, ok({ exitCode: 1, lastLine: "==== 1 failed, 2 passed in 0.31s ====" }),
      "ran pytest: 1 failed, 2 passed (exit 1)"],
    ["run_command", { command: "make" }, ok({ exitCode: 2, lastLine: "Error 2" }), "ran make: exit 2"],
    ["run_command", { command: "ls" }, ok({ exitCode: 0, lastLine: "calc.py" }), "ran ls: exit 0"],
    ["run_command", { command: "sleep 99" }, ok({ timedOut: true }), "ran sleep 99: timed out"],
    ["run_command", { command: "pytest -q" }, undefined, "ran pytest -q"],
    ["run_command", { command: "pytest -q" }, ok({ notRun: true }), "did not run pytest -q: the sandbox is unavailable"],
    ["list_files", { pattern: "*.py" }, ok({ hits: 4 }), "listed files matching *.py — 4 files"],
    ["edit_file", { path: "calc.py", old_text: "a\nb\n", new_text: "a\nx\ny\nb\n" }, ok(), "proposed an edit to calc.py: 2 lines → 4"],
    ["write_file", { path: "new.py", content: "a = 1\n" }, ok(), "proposed writing new.py (1 line)"],
    ["delete_file", { path: "old.py" }, ok(), "proposed deleting old.py"],
    ["rename_file", { path: "a.py", new_path: "b.py" }, ok(), "proposed moving a.py to b.py"],
    ["code_map", { focus: ["calc.py", "divide"] }, ok(), "looked at the code map around calc.py, divide"],
    ["find_symbol", { name: "divide" }, ok({ hits: 2 }), "looked up the definitions of divide — 2 definitions"],
    ["find_references", { name: "divide" }, ok({ hits: 1 }), "looked up references to divide — 1 reference"],
    ["file_outline", { path: "calc.py" }, ok(), "outlined calc.py"],
    ["mcp__git__git_status", { repo_path: "." }, ok(), "called git_status on MCP server git"],
    ["read_file", "{not json", undefined, "read a file"],
  ];
  for (const [name, args, result, want] of cases) {
    assert.equal(toolSentence(name, args, result), want, `${name} ${JSON.stringify(args)}`);
  }
  assert.equal(toolSentence("run_command", { command: "x".repeat(200) }).length <= "ran ".length + 60, true, "long commands are cut");
});

test("a failed call says why, from its result's first line", () => {
  assert.equal(failure({ ok: false, text: "calc.py: line range 90-99 is outside the file's 26 lines\nmore" }),
    "calc.py: line range 90-99 is outside the file's 26 lines");
  assert.equal(failure({ ok: true, text: "fine" }), undefined);
  assert.equal(failure(undefined), undefined);
});

test("arguments: a row per field, multi-line texts as blocks, everything escaped", () => {
  const html = renderArguments({ path: "calc.py", old_text: "if a < b:\n    pass\n", start_line: 3, regex: false, focus: ["a"] });
  assert.match(html, /^<dl class="args"><dt>path<\/dt><dd><code>calc.py<\/code><\/dd>/);
  assert.match(html, /<dt>old_text<\/dt><dd><pre class="value">if a &lt; b:\n    pass\n<\/pre><\/dd>/);
  assert.match(html, /<dt>start_line<\/dt><dd><code>3<\/code><\/dd><dt>regex<\/dt><dd><code>false<\/code><\/dd>/);
  assert.match(html, /<dt>focus<\/dt><dd><pre class="value">\[\n  &quot;a&quot;\n\]<\/pre><\/dd>/);
  assert.equal(renderArguments("{bad <json"), '<pre class="args raw">{bad &lt;json</pre>');
  assert.match(renderArguments({}), /no arguments/);
});
