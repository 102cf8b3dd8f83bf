import { test } from "node:test";
import assert from "node:assert/strict";
import { EMPTY_LABEL, mcpPickItems, type McpServerRow } from "../../src/logic/mcpView";

const fault: McpServerRow = {
  name: "fault", source: "settings", transport: "stdio", command: "python fault_server.py", status: "running", error: null,
  tools: [{ name: "mcp__fault__echo", serverTool: "echo", description: "Return the text unchanged." },
    { name: "mcp__fault__slow", serverTool: "slow", description: "" }],
};

test("no server configured: one item that says how to add one and opens the setting", () => {
  for (const servers of [[], undefined, null as unknown as McpServerRow[]]) {
    const items = mcpPickItems(servers);
    assert.equal(items.length, 1);
    assert.equal(items[0].label, EMPTY_LABEL);
    assert.equal(items[0].action, "openSettings");
    assert.match(items[0].detail ?? "", /gdm\.mcpServers/);
    assert.match(items[0].detail ?? "", /\.mcp\.json/);
  }
});

test("a running server: a separator, its status and each tool with the server's own name", () => {
  const items = mcpPickItems([fault]);
  assert.deepEqual(items.map((i) => [i.label, !!i.separator]), [
    ["fault (stdio, settings)", true],
    ["$(check) fault: running", false],
    ["$(tools) mcp__fault__echo", false],
    ["$(tools) mcp__fault__slow", false],
  ]);
  assert.equal(items[1].description, "python fault_server.py");
  assert.equal(items[2].description, "echo");
  assert.equal(items[2].detail, "Return the text unchanged.");
  assert.equal(items[3].detail, undefined, "an empty description is no detail line");
  assert.ok(items.every((i) => i.action === undefined));
});

test("a server that failed or waits for the user's yes shows why, and that it has no tools", () => {
  const items = mcpPickItems([
    { ...fault, name: "broken", status: "failed", error: "exited with 1: boom", tools: [] },
    { ...fault, name: "repo", source: "workspace", status: "not started (defined by the workspace: needs your yes)", tools: [] },
  ]);
  assert.equal(items[1].label, "$(warning) broken: failed");
  assert.equal(items[1].detail, "exited with 1: boom");
  assert.deepEqual([items[2].label, items[2].description], ["$(circle-slash) no tools", "not started"]);
  assert.equal(items[3].label, "repo (stdio, workspace)");
  assert.match(items[4].label, /\$\(warning\) repo: not started \(defined by the workspace/);
});
