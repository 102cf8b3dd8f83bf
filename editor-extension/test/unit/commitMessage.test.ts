import { test } from "node:test";
import assert from "node:assert/strict";
import { joinMessage, shortCommit, splitMessage, subjectProblem } from "../../src/logic/commitMessage";

const proposed = "Guard divide() against a zero divisor\n\nDivision by zero raises now.\n\nAssisted-by: gdm (openai/x)\n";

test("a proposed message splits into the subject to edit and the rest, kept as proposed", () => {
  const { subject, body } = splitMessage(proposed);
  assert.equal(subject, "Guard divide() against a zero divisor");
  assert.equal(body, "Division by zero raises now.\n\nAssisted-by: gdm (openai/x)");
  assert.equal(joinMessage(subject, body), proposed);
  assert.equal(joinMessage("Guard divide", body), proposed.replace("Guard divide() against a zero divisor", "Guard divide"));
  assert.deepEqual(splitMessage("Only a subject\n"), { subject: "Only a subject", body: "" });
  assert.equal(joinMessage(" Only a subject ", ""), "Only a subject\n");
  assert.deepEqual(splitMessage("a\r\n\r\nb\r\n"), { subject: "a", body: "b" });
});

test("the subject box says what is wrong with a subject", () => {
  assert.equal(subjectProblem("Guard divide"), undefined);
  assert.match(subjectProblem("  ") ?? "", /needs a subject/);
  assert.match(subjectProblem("x".repeat(73)) ?? "", /73 characters/);
  assert.equal(shortCommit("0123456789abcdef"), "0123456");
  assert.equal(shortCommit(null), "");
});
