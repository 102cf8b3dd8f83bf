import { test } from "node:test";
import assert from "node:assert/strict";
import {
  completionModelOf, completionsOn, itemText, itemsOf, lspTriggerKind, requestParams, toggleView,
} from "../../src/logic/inlineCompletion";

test("the request carries LSP's trigger kind, not VS Code's", () => {
  assert.equal(lspTriggerKind(0), 1); // Invoke -> Invoked
  assert.equal(lspTriggerKind(1), 2); // Automatic -> Automatic
  assert.deepEqual(requestParams("file:///w/calc.py", { line: 3, character: 4 }, 1),
    { textDocument: { uri: "file:///w/calc.py" }, position: { line: 3, character: 4 }, context: { triggerKind: 2 } });
});

test("an answer's items: a list, a bare array, or nothing", () => {
  const item = { insertText: "a + b", range: { start: { line: 0, character: 1 }, end: { line: 0, character: 1 } } };
  assert.deepEqual(itemsOf({ items: [item] }), [item]);
  assert.deepEqual(itemsOf([item]), [item]);
  assert.deepEqual(itemsOf(null), []);
  assert.deepEqual(itemsOf({ nope: 1 }), []);
  assert.equal(itemText({ insertText: { kind: "snippet", value: "x" } }), "x");
});

test("on and off as the server decides: the setting, else on when a model is set", () => {
  assert.equal(completionsOn({}), false);
  assert.equal(completionsOn({ model: "openai/gpt-4.1" }), true);
  assert.equal(completionsOn({ model: "openai/gpt-4.1", completions: "off" }), false);
  assert.equal(completionsOn({ completions: "on" }), true);
  assert.equal(completionsOn({ completions: "", cheapModel: "c" }), true);
  assert.equal(completionModelOf({ model: "m", cheapModel: "c" }), "c");
  assert.equal(completionModelOf({ model: "m", cheapModel: "c", completionModel: "f" }), "f");
});

test("the toggle shows on/off, the model, and today's calls, cost and accepts", () => {
  const on = toggleView({ model: "openai/scripted" },
    { calls: 4, usd: 0.002, shown: 3, accepted: 1, acceptedPartly: 1, acceptedLines: 2 });
  assert.equal(on.text, "$(sparkle) gdm");
  assert.match(on.tooltip, /on\*\* \(openai\/scripted\)/);
  assert.match(on.tooltip, /4 call\(s\), \$0\.0020; 3 shown, 1 accepted, 1 in part, \$0\.0010 per accepted line/);
  assert.match(on.tooltip, /turn them off/);
  const off = toggleView({ model: "m", completions: "off" });
  assert.equal(off.text, "$(circle-slash) gdm");
  assert.match(off.tooltip, /turn them on/);
  assert.match(toggleView({ completions: "on" }).tooltip, /No model is set/);
});
