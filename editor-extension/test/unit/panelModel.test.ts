/** The gdm panel's model: live conversation state from task events, its HTML, the allowed webview messages. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, renderMarkdown } from "../../src/logic/markdown";
import { ConversationState, parseWebviewMessage, renderConversation, renderList, renderPatchCard } from "../../src/logic/panelModel";
import type { Patch } from "../../src/logic/protocol";

const C = "c-1";
const patch: Patch = {
  patchId: "t-1-p-1", taskId: "t-1", uri: "file:///w/calc.py", path: "calc.py", kind: "modify", status: "pending",
  diff: "", hunks: [], risk: { score: 0.12, tier: "LOW", reasons: [{ code: "size", weight: 0.1, message: "small <change>" }] },
};

test("markdown is escaped first, then a fixed set of constructs", () => {
  assert.equal(escapeHtml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  const html = renderMarkdown("Now **ValueError** on `b == 0`:\n\n- one\n- two\n\n```py\nif x < 1:\n```\n<script>alert(1)</script>");
  assert.match(html, /<strong>ValueError<\/strong>/);
  assert.match(html, /<code>b == 0<\/code>/);
  assert.match(html, /<ul><li>one<\/li><li>two<\/li><\/ul>/);
  assert.match(html, /<pre data-lang="py"><code>if x &lt; 1:<\/code><\/pre>/);
  assert.ok(!html.includes("<script>") && html.includes("&lt;script&gt;"));
  assert.match(renderMarkdown("[site](https://example.com)"), /site <span class="link">\(https:\/\/example.com\)<\/span>/);
  assert.ok(!renderMarkdown("![x](https://e/x.png)").includes("<img"));
});

test("a streamed task becomes messages: deltas joined, tool calls folded with their results, cost on done", () => {
  const s = new ConversationState();
  s.load({ conversationId: C, costUsd: 0.01, messages: [{ taskId: "t-1", role: "user", text: "first", status: "done" }] });
  s.started("t-2", "follow up");
  const ev = (e: object) => s.applyEvent({ taskId: "t-2", conversationId: C, ...e } as never);
  assert.ok(ev({ kind: "response", text: "I will ", delta: true }));
  ev({ kind: "response", text: "**edit**", delta: true });
  assert.equal(s.messages[2].text, "I will **edit**");
  assert.equal(s.messages[2].streaming, true);
  ev({ kind: "response", text: "I will **edit**.", delta: false });
  ev({ kind: "toolCall", callId: "k1", name: "edit_file", arguments: { path: "calc.py" } });
  ev({ kind: "toolResult", callId: "k1", name: "edit_file", ok: true, result: "Proposed change to calc.py as pending patch t-1-p-1" });
  assert.ok(s.applyPatch({ ...patch, taskId: "t-2", conversationId: C } as never));
  assert.deepEqual(s.messages.map((m) => m.role), ["user", "user", "assistant", "tool"]);
  assert.deepEqual(s.messages[3].patchIds, ["t-1-p-1"]);
  assert.ok(s.running.has("t-2"));
  let html = renderConversation(s, () => patch);
  assert.match(html, /<strong>edit<\/strong>/);
  assert.match(html, /<details class="tool" data-call="k1"><summary>✓ <span class="name">edit_file<\/span> <span class="arg">calc.py<\/span>/);
  assert.match(html, /data-action="accept" data-patch="t-1-p-1"/);
  assert.match(html, /data-action="cancel" data-task="t-2"/);
  ev({ kind: "done", status: "done", patchIds: ["t-1-p-1"], costUsd: 0.0042 });
  html = renderConversation(s, () => patch);
  assert.ok(!html.includes('data-action="cancel"'));
  assert.match(html, /task \$0\.0042/);
  // Another conversation's events do not touch this one.
  assert.equal(s.applyEvent({ taskId: "t-9", conversationId: "c-other", kind: "response", text: "x", delta: true }), false);
});

test("a new conversation from the panel adopts the conversation its first event names", () => {
  const s = new ConversationState();
  s.started("t-5", "new ask");
  assert.ok(s.applyEvent({ taskId: "t-5", conversationId: "c-5", kind: "thinking", text: "Turn 1" } as never) === false);
  assert.equal(s.conversationId, "c-5");
  assert.equal(s.lastTaskId(), "t-5");
});

test("patch cards: file, tier, reasons escaped; buttons only while open", () => {
  const card = renderPatchCard(patch.patchId, patch);
  assert.match(card, /risk LOW 0\.12/);
  assert.match(card, /<li>small &lt;change&gt;<\/li>/);
  assert.match(card, /data-action="review"/);
  const accepted = renderPatchCard(patch.patchId, { ...patch, status: "accepted" });
  assert.ok(!/data-action="(review|accept|reject)"/.test(accepted), "no review buttons once accepted");
  assert.deepEqual([...accepted.matchAll(/data-action="(\w+)" data-task="([^"]+)"/g)].map((m) => [m[1], m[2]]),
    [["undo", patch.taskId]], "only Undo of its task once accepted");
  assert.ok(!renderPatchCard(patch.patchId, { ...patch, status: "rejected" }).includes("data-action"));
  assert.match(renderPatchCard("t-x-p-1", undefined), /reviewed or unknown here/);
});

test("the list: title, else the first prompt; escaped", () => {
  const html = renderList([{ conversationId: "c-1", title: null, prompt: "<fix> it", taskIds: ["t-1", "t-2"], costUsd: 0.5,
    updatedAt: "2026-12-03T08:40:00.123+00:00" }]);
  assert.match(html, /data-action="open" data-conversation="c-1"/);
  assert.match(html, /&lt;fix&gt; it/);
  assert.match(html, /2 task\(s\) · \$0\.5000 · 2026-12-03 08:40 UTC/);
  assert.match(renderList([]), /No conversations/);
});

test("only the panel's own webview messages pass", () => {
  assert.deepEqual(parseWebviewMessage({ type: "open", conversationId: "c-1" }), { type: "open", conversationId: "c-1" });
  assert.deepEqual(parseWebviewMessage({ type: "send", text: "more" }), { type: "send", text: "more" });
  assert.deepEqual(parseWebviewMessage({ type: "accept", patchId: "t-1-p-1" }), { type: "accept", patchId: "t-1-p-1" });
  assert.deepEqual(parseWebviewMessage({ type: "undo", taskId: "t-1" }), { type: "undo", taskId: "t-1" });
  assert.ok("refused" in parseWebviewMessage({ type: "undo", patchId: "t-1-p-1" }));
  assert.deepEqual(parseWebviewMessage({ type: "ready" }), { type: "ready" });
  for (const bad of [null, "open", [1], { type: "runCommand", command: "workbench.action.terminal.new" },
    { type: "open" }, { type: "open", conversationId: "../x" }, { type: "send", text: "  " },
    { type: "accept", patchId: "p", extra: 1 }, { type: "cancel", taskId: 3 }, { type: "ready", html: "<b>" },
    { type: "send", text: "x".repeat(20_001) }]) {
    const got = parseWebviewMessage(bad);
    assert.ok("refused" in got, JSON.stringify(bad));
  }
});
