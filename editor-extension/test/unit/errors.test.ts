import { test } from "node:test";
import assert from "node:assert/strict";
import { NO_GDM_EXIT, actionableFor, preflightProblem, troubleOf } from "../../src/logic/errors";

test("the task's errorKind decides the trouble when there is one", () => {
  assert.equal(troubleOf("anything", "budget"), "budget");
  assert.equal(troubleOf("anything", "model_not_configured"), "model");
  assert.equal(troubleOf("anything", "provider"), "provider");
  assert.equal(troubleOf("anything", "rate_limit"), "provider");
  assert.equal(troubleOf("anything", "config"), "model");
  assert.equal(troubleOf("anything", "auth"), "model");
  for (const kind of ["server", "timeout", "connection", "bad_response"]) {
    assert.equal(troubleOf("anything", kind), "provider", kind);
  }
  assert.equal(troubleOf("internal error: boom", "internal"), "other");
});

test("without an errorKind the text decides", () => {
  assert.equal(troubleOf("gdm: no model is configured: set gdm.model"), "model");
  assert.equal(troubleOf("gdm: task budget reached ($2.00)"), "budget");
  assert.equal(troubleOf("gdm: the provider is down: connection refused"), "provider");
  assert.equal(troubleOf("gdm setting 'maxTurns' from workspace/configuration is invalid"), "settings");
  assert.equal(troubleOf("gdm: done — 1 patch(es) to review; task cost $0.0010"), "done");
  assert.equal(troubleOf("something else"), "other");
});

test("each trouble gets the action that fixes it", () => {
  const model = actionableFor("gdm: no model is configured", "error");
  assert.deepEqual(model.actions.map((a) => a.id), ["openSettings", "showLog"]);
  assert.equal(model.setting, "gdm.model");
  const budget = actionableFor("x", "warning", "budget");
  assert.equal(budget.severity, "warning");
  assert.deepEqual(budget.actions.map((a) => a.id), ["showCost", "openSettings"]);
  assert.equal(actionableFor("x", "error", "provider").setting, "gdm.apiBase");
  assert.deepEqual(actionableFor("gdm: done — 2 patch(es) to review", "info").actions.map((a) => a.id), ["reviewAll"]);
  assert.deepEqual(actionableFor("gdm: done — 0 patch(es) to review", "info").actions, []);
  assert.deepEqual(actionableFor("hello", "info").actions, []);
});

test("a missing interpreter or gdm package stops the start with a fix", () => {
  const missing = preflightProblem("/nope/python", { spawnError: "ENOENT" });
  assert.ok(missing);
  assert.match(missing.message, /"\/nope\/python" was not found/);
  assert.deepEqual(missing.actions.map((a) => a.id), ["selectInterpreter", "openSettings"]);
  assert.equal(missing.setting, "gdm.pythonPath");
  assert.match(preflightProblem("python3", { exitCode: NO_GDM_EXIT })!.message, /has no gdm package/);
  assert.match(preflightProblem("python3", { exitCode: 1, stderr: "Traceback\nSyntaxError: bad" })!.message, /exit 1\): SyntaxError: bad/);
  assert.equal(preflightProblem("python3", { exitCode: 0 }), undefined);
});
