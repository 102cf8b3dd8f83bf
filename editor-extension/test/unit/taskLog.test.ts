import { test } from "node:test";
import assert from "node:assert/strict";
import { TaskLogFormatter, describeToolCall } from "../../src/logic/taskLog";
import type { TaskEvent } from "../../src/logic/protocol";

function run(events: TaskEvent[]): string {
  const f = new TaskLogFormatter();
  return events.map((e) => f.format(e)).join("");
}

test("streamed pieces form one line and the final reply does not repeat them", () => {
  const out = run([
    { taskId: "t1", kind: "response", text: "Hello ", delta: true },
    { taskId: "t1", kind: "response", text: "world", delta: true },
    { taskId: "t1", kind: "response", text: "Hello world", delta: false },
  ]);
  assert.equal(out, "[t1] gdm: Hello world\n");
});

test("a reply that was not streamed is printed whole", () => {
  assert.equal(run([{ taskId: "t1", kind: "response", text: "All done.", delta: false }]), "[t1] gdm: All done.\n");
});

test("a tool call after streamed text starts on a new line", () => {
  const out = run([
    { taskId: "t1", kind: "response", text: "Let me look", delta: true },
    { taskId: "t1", kind: "toolCall", callId: "c1", name: "read_file", arguments: { path: "calc.py" } },
    { taskId: "t1", kind: "toolResult", callId: "c1", name: "read_file", ok: true, result: "line one\nline two" },
  ]);
  assert.equal(
    out,
    '[t1] gdm: Let me look\n[t1] ▶ read_file {"path":"calc.py"}\n[t1] ✓ read_file: line one ⏎ line two\n',
  );
});

test("failed tools, errors and the end of a task are listed", () => {
  const out = run([
    { taskId: "t2", kind: "toolResult", callId: "c", name: "edit_file", ok: false, result: "old_text not found" },
    { taskId: "t2", kind: "error", message: "budget reached", errorKind: "budget" },
    { taskId: "t2", kind: "done", status: "budget", patchIds: ["p1"], costUsd: 0.25 },
  ]);
  assert.match(out, /✗ edit_file: old_text not found/);
  assert.match(out, /error \(budget\): budget reached/);
  assert.match(out, /■ budget — 1 patch\(es\) to review, cost \$0\.2500\n$/);
});

test("long tool results are cut to one line", () => {
  const out = run([{ taskId: "t", kind: "toolResult", callId: "c", name: "search", ok: true, result: "x".repeat(5000) }]);
  assert.ok(out.length < 400);
  assert.match(out, /…\n$/);
});

test("tool calls are described by their path or query", () => {
  assert.equal(describeToolCall("read_file", { path: "calc.py" }), "read_file calc.py");
  assert.equal(describeToolCall("search", { query: "divide(" }), "search divide(");
  assert.equal(describeToolCall("list_files", "{bad json"), "list_files");
});
