import { test } from "node:test";
import assert from "node:assert/strict";
import { remember } from "../../src/logic/history";

test("the newest prompt comes first and is not repeated", () => {
  assert.deepEqual(remember(["a", "b", "c"], "b"), ["b", "a", "c"]);
  assert.deepEqual(remember([], "  fix it  "), ["fix it"]);
});

test("blank prompts are not remembered and the history is bounded", () => {
  assert.deepEqual(remember(["a"], "   "), ["a"]);
  assert.deepEqual(remember(["a", "b", "c"], "d", 3), ["d", "a", "b"]);
});
