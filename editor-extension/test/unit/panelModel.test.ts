/** The gdm panel's model: live conversation state from task events, its HTML, the allowed webview messages. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { escapeHtml, renderMarkdown, settledLength } from "../../src/logic/markdown";
import { ConversationState, parseWebviewMessage } from "../../src/logic/panelModel";
import {
  renderConversation, renderList, renderPatchCard, renderTaskFooter, streamingMessage, streamUpdate,
} from "../../src/logic/panelHtml";
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
  let html = renderConversation(s, { patches: () => patch });
  assert.match(html, /<strong>edit<\/strong>/);
  assert.match(html, /<details class="tool" data-call="k1" data-tool="edit_file"><summary><span class="mark">✓<\/span> <span class="sentence">proposed an edit to calc.py: 0 lines → 0<\/span><\/summary>/);
  assert.match(html, /<div class="label">edit_file arguments<\/div><dl class="args"><dt>path<\/dt><dd><code>calc.py<\/code><\/dd><\/dl>/);
  assert.match(html, /data-action="accept" data-patch="t-1-p-1"/);
  assert.match(html, /data-action="cancel" data-task="t-2"/);
  ev({ kind: "done", status: "done", patchIds: ["t-1-p-1"], costUsd: 0.0042 });
  html = renderConversation(s, { patches: () => patch });
  assert.ok(!html.includes('data-action="cancel"'));
  assert.match(html, /task \$0\.0042/);
  // Another conversation's events do not touch this one.
  assert.equal(s.applyEvent({ taskId: "t-9", conversationId: "c-other", kind: "response", text: "x", delta: true }), false);
});

/** The long answer the panel e2e streams, and texts that end or break blocks in awkward places. */
const longAnswer: string = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "test", "fixtures", "panel-vscode.json"), "utf8"))
  .conversations[0].turns.find((t: { expect?: { messages_contain?: string[] } }) =>
    t.expect?.messages_contain?.[0] === "Walk me through everything that changed").reply.content;
const streamedTexts = [
  longAnswer,
  "Intro **bold**\n\n```py\nx = 1\n\n\ny = 2\n```\n\n- a\n- b\n\n1. one\n2) two\n\n# Head\ntext `code`\n",
  "```\n\nopen fence never closed\n\nstill code",
  "\n\nlead blanks\r\n\r\nCRLF *para*\r\n```js \r\n\r\n```\r\n\r\nend",
  "   \n \t \n``` \nnot a lang closer? ```py\n\n```\n\n* star list\n+ plus\n\nafter",
];

test("a streamed message drawn chunk by chunk is exactly the whole message drawn at once", () => {
  for (const text of streamedTexts) {
    for (const size of [1, 3, 8, 50]) {
      let drawn = "";
      let settled = 0;
      for (let end = 0; end <= text.length; end = end === text.length ? end + 1 : Math.min(text.length, end + size)) {
        const prefix = text.slice(0, end);
        const u = streamUpdate(prefix, settled);
        assert.equal(u.from, settled);
        assert.ok(u.to >= settled && u.to <= prefix.length);
        assert.equal(u.to, settledLength(prefix), "scanning on from the last point finds what a scan from 0 finds");
        drawn += u.append;
        settled = u.to;
        assert.equal(drawn + u.tail, renderMarkdown(prefix), `${JSON.stringify(text.slice(0, 30))}… in ${size}-char chunks at ${end}`);
      }
    }
  }
  // The long answer settles block by block: what a chunk re-parses is the open block, not the message.
  const points = new Set([...Array(longAnswer.length).keys()].map((n) => settledLength(longAnswer.slice(0, n))));
  assert.ok(points.size >= 12, `${points.size} settled points`);
  assert.ok(longAnswer.length - settledLength(longAnswer) < 100, "the last open block is short");
});

test("the streaming message is drawn as final blocks and a tail under its key; done, it is plain Markdown", () => {
  const s = new ConversationState();
  s.load({ conversationId: C, messages: [{ taskId: "t-1", role: "user", text: "explain", status: "running" }] });
  const ev = (e: object) => s.applyEvent({ taskId: "t-1", conversationId: C, ...e } as never);
  assert.equal(streamingMessage(s), undefined);
  ev({ kind: "response", text: "Para **one**.\n\nPara", delta: true });
  const first = streamingMessage(s);
  assert.deepEqual(first, { key: "t-1:1", text: "Para **one**.\n\nPara" });
  const html = renderConversation(s, { patches: () => undefined });
  assert.match(html, /<div class="md" data-stream="t-1:1" data-settled="15"><p>Para <strong>one<\/strong>.<\/p><div class="tail"><p>Para<\/p><\/div><span class="cursor">▍<\/span><\/div>/);
  ev({ kind: "response", text: " two", delta: true });
  assert.equal(streamingMessage(s)?.key, first!.key, "a chunk keeps the key: the webview updates that message");
  assert.deepEqual(streamUpdate(streamingMessage(s)!.text, 15), { from: 15, to: 15, append: "", tail: "<p>Para two</p>" });
  ev({ kind: "toolCall", callId: "k1", name: "read_file", arguments: { path: "calc.py" } });
  assert.equal(streamingMessage(s), undefined, "a tool call ends the streaming");
  ev({ kind: "toolResult", callId: "k1", name: "read_file", ok: true, result: "..." });
  ev({ kind: "response", text: "Next", delta: true });
  assert.equal(streamingMessage(s)?.key, "t-1:3", "a new message, a new key: drawn in full");
  ev({ kind: "done", status: "done", patchIds: [], costUsd: 0.001 });
  assert.equal(streamingMessage(s), undefined);
  assert.ok(!renderConversation(s, { patches: () => undefined }).includes("data-stream"));
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
  assert.deepEqual(parseWebviewMessage({ type: "commit", taskId: "t-1" }), { type: "commit", taskId: "t-1" });
  assert.ok("refused" in parseWebviewMessage({ type: "commit", taskId: "t-1", message: "x" }));
  assert.ok("refused" in parseWebviewMessage({ type: "undo", patchId: "t-1-p-1" }));
  assert.deepEqual(parseWebviewMessage({ type: "ready" }), { type: "ready" });
  assert.deepEqual(parseWebviewMessage({ type: "resync" }), { type: "resync" });
  for (const bad of [null, "open", [1], { type: "runCommand", command: "workbench.action.terminal.new" },
    { type: "open" }, { type: "open", conversationId: "../x" }, { type: "send", text: "  " },
    { type: "accept", patchId: "p", extra: 1 }, { type: "cancel", taskId: 3 }, { type: "commit" }, { type: "commit", taskId: "a b" }, { type: "ready", html: "<b>" }, { type: "resync", stream: "x" },
    { type: "send", text: "x".repeat(20_001) }]) {
    const got = parseWebviewMessage(bad);
    assert.ok("refused" in got, JSON.stringify(bad));
  }
});

test("a task's footer offers Commit once every patch it owns is accepted, then shows the commit", () => {
  const s = new ConversationState();
  s.load({ conversationId: C, messages: [
    { taskId: "t-1", role: "user", text: "fix", status: "done" },
    { taskId: "t-1", role: "assistant", text: null, toolCalls: [{ id: "k1", name: "edit_file", arguments: { path: "calc.py" } }] },
    { taskId: "t-1", role: "tool", toolCallId: "k1", ok: true, text: "Proposed…", patchIds: ["t-1-p-1", "t-1-p-2"] },
    { taskId: "t-2", role: "user", text: "more", status: "done" },
  ] });
  const other: Patch = { ...patch, patchId: "t-1-p-2", path: "other.py" };
  const of = (a: Patch["status"], b: Patch["status"]) => (id: string) =>
    id === patch.patchId ? { ...patch, status: a } : id === other.patchId ? { ...other, status: b } : undefined;
  assert.equal(renderTaskFooter(s, "t-1", { patches: of("accepted", "pending") }), "", "not while a patch waits");
  assert.equal(renderTaskFooter(s, "t-1", { patches: of("accepted", "partial") }), "");
  assert.equal(renderTaskFooter(s, "t-1", { patches: of("rejected", "rejected") }), "", "nothing accepted");
  assert.equal(renderTaskFooter(s, "t-2", { patches: of("accepted", "accepted") }), "", "a task without patches");
  const ready = renderTaskFooter(s, "t-1", { patches: of("accepted", "accepted") });
  assert.match(ready, /<button data-action="commit" data-task="t-1"[^>]*>Commit this task<\/button>/);
  assert.match(renderTaskFooter(s, "t-1", { patches: of("accepted", "rejected") }), /Commit this task/, "one accepted, one rejected");
  // A patch a follow-up took over (it extended it) is the follow-up's to commit.
  assert.equal(renderTaskFooter(s, "t-1", { patches: (id) => ({ ...patch, patchId: id, taskId: "t-2", status: "accepted" }) }), "");
  // Drawn once, after the task's last message; the commit made replaces the button.
  const html = renderConversation(s, { patches: of("accepted", "accepted") });
  assert.equal(html.match(/data-action="commit"/g)?.length, 1);
  assert.ok(html.indexOf('data-action="commit"') < html.indexOf('data-task="t-2"'));
  const done = renderTaskFooter(s, "t-1", { patches: of("accepted", "accepted"),
    committed: (id) => (id === "t-1" ? { commit: "0123456789abcdef", message: "calc: <guard> divide\n\nbody" } : undefined) });
  assert.match(done, /committed 0123456789: calc: &lt;guard&gt; divide<\/span>/);
  assert.ok(!done.includes("data-action"));
  s.running.add("t-1");
  assert.equal(renderTaskFooter(s, "t-1", { patches: of("accepted", "accepted") }), "", "not while it runs");
});
