import { test } from "node:test";
import assert from "node:assert/strict";
import { breakdownLines, costView, levelOf, usd } from "../../src/logic/costView";
import type { CostUpdate } from "../../src/logic/protocol";

const base: CostUpdate = {
  taskId: "t1", taskUsd: 0.0123, sessionUsd: 0.05, dayUsd: 1.5, budgetUsd: 2, dayBudgetUsd: 20,
  tokensIn: 1200, tokensOut: 80, model: "openai/scripted", priceKnown: true,
};

test("usd shows sub-cent costs and rounds dollars", () => {
  assert.equal(usd(0.0012), "$0.0012");
  assert.equal(usd(0), "$0.0000");
  assert.equal(usd(3.456), "$3.46");
  assert.equal(usd(undefined), "$0.0000");
});

test("the meter shows the task's cost while a task runs and the day's otherwise", () => {
  const running = costView(base, true);
  assert.match(running.text, /task \$0\.0123 \/ \$2\.00/);
  const idle = costView(base, false);
  assert.match(idle.text, /today \$1\.50 \/ \$20\.00/);
  assert.doesNotMatch(idle.text, /task/);
});

test("the colour turns to warning near a budget and error at it", () => {
  assert.equal(levelOf(base, true), "normal");
  assert.equal(levelOf({ ...base, taskUsd: 1.7 }, true), "warning");
  assert.equal(levelOf({ ...base, taskUsd: 2.0 }, true), "error");
  // the task budget only matters while a task runs; the day budget always
  assert.equal(levelOf({ ...base, taskUsd: 2.0 }, false), "normal");
  assert.equal(levelOf({ ...base, dayUsd: 16.5 }, false), "warning");
  assert.equal(levelOf({ ...base, dayUsd: 25 }, false), "error");
  assert.equal(levelOf({ ...base, dayBudgetUsd: 0, dayUsd: 5 }, false), "normal");
});

test("the tooltip gives task, session and day totals, tokens and model", () => {
  const tip = costView(base, false).tooltip;
  for (const want of ["task", "$0.0123", "session", "$0.0500", "day", "$1.50", "1200 in / 80 out", "openai/scripted"]) {
    assert.ok(tip.includes(want), `tooltip lacks ${want}: ${tip}`);
  }
});

test("an unknown price is flagged", () => {
  const view = costView({ ...base, priceKnown: false }, false);
  assert.match(view.text, /\?/);
  assert.match(view.tooltip, /price unknown/);
});

test("before the first update the meter says it is waiting", () => {
  assert.match(costView(undefined, false).text, /gdm/);
  assert.equal(costView(undefined, false).level, "normal");
});

test("the breakdown lists totals and one line per model", () => {
  const lines = breakdownLines({ ...base, byModel: [{ model: "openai/scripted", usd: 0.05, tokensIn: 1200, tokensOut: 80, calls: 4 }] });
  assert.equal(lines.length, 5);
  assert.match(lines[4].label, /openai\/scripted: \$0\.0500/);
  assert.match(lines[4].detail, /4 call/);
});

test("the meter says when commands run unsandboxed or cannot run, in the warning colour", () => {
  const on = costView({ ...base, sandbox: "on" }, false);
  assert.doesNotMatch(on.text, /sandbox/);
  assert.equal(on.level, "normal");
  const off = costView({ ...base, sandbox: "off" }, false);
  assert.match(off.text, /\$\(shield\) sandbox off/);
  assert.match(off.tooltip, /full rights, network and secrets/);
  assert.equal(off.level, "warning");
  const down = costView({ ...base, sandbox: "unavailable" }, true);
  assert.match(down.text, /no sandbox/);
  assert.match(down.tooltip, /no tests, checks or commands run/);
  assert.equal(costView({ ...base, sandbox: "off", dayUsd: 25 }, false).level, "error"); // a reached budget still wins
});
