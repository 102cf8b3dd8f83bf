/**
 * The gdm panel end to end in a real VS Code (code-server in headless Chromium) against the
 * scripted model: open the "gdm" view, ask from its prompt box, see the conversation render
 * (Markdown as it streams, a collapsed tool call that expands, a patch card with its risk), accept
 * from the card (the editor's "↶ Undo task" lens appears), send a follow-up from the prompt box and
 * see its patch, accept it and click its undo lens, Undo the first task from its card, see both in the
 * "gdm: Tasks" view, back to the list of conversations, reopen it and stream a long follow-up answer
 * whose last paragraph ends inside the visible list, scroll up during another one (the list stays
 * put, "Jump to latest" brings the end back), see a follow-up's tool calls as sentences and its
 * 10-line insertion as 10 lines in the editor, accept it and "Commit this task". Each step leaves a
 * screenshot (test-artifacts/panel-*.png; new steps' shots come after the older ones, so the
 * names of those stay comparable); the panel's chunk → render latency (performance marks in the
 * extension and the webview) is read from the gdm log.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from "playwright-core";
import {
  CHROMIUM_ARGS, QUIET_SETTINGS, recorder, ROOT, Proc, e2eEnv, gdmSettings, installVsix, scratch, startCodeServer, writeSettings,
} from "./harness";
import * as ui from "./workbench";
import { poll } from "./workbench";

const env = e2eEnv();
const artifacts = join(env.artifacts, "panel");
const started = Date.now();
let dirs: ReturnType<typeof scratch>;
let model: Proc;
let codeServer: Proc | undefined;
let browser: Browser | undefined;
let page: Page;
const { screenshot, step } = recorder(artifacts, "panel", () => page);

/** The panel's webview document (VS Code nests it: iframe.webview → #active-frame). */
function panel(): FrameLocator {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}

/** Where an element of the panel is against what a person sees of it: the message list's box
 * inside the webview (below the header, above the prompt box) and the webview's box in the page. */
async function visibility(el: Locator): Promise<{ inList: boolean; inPage: boolean; box: unknown }> {
  const inList = await el.evaluate((node) => {
    const r = node.getBoundingClientRect();
    const list = document.getElementById("root")!.getBoundingClientRect();
    return r.height > 0 && r.top >= list.top - 1 && r.bottom <= list.bottom + 1;
  });
  const box = await el.boundingBox();
  const frame = await page.locator("iframe.webview.ready").first().boundingBox();
  const inPage = !!box && !!frame && box.y >= frame.y - 1 && box.y + box.height <= frame.y + frame.height + 1;
  return { inList, inPage, box };
}

/** `el` is inside the visible part of the message list (or, `inList: false`, of the panel). */
async function assertVisible(el: Locator, what: string, { inList = true } = {}): Promise<void> {
  const seen = await visibility(el);
  assert.ok((seen.inList || !inList) && seen.inPage, `${what} is not in the visible part of the panel: ${JSON.stringify(seen)}`);
}

/** The message list's scroll position. */
function listScroll(): Promise<{ top: number; height: number; client: number }> {
  return panel().locator("#root").evaluate((r) => ({ top: r.scrollTop, height: r.scrollHeight, client: r.clientHeight }));
}

/** Type a prompt into the panel's box and send it. */
async function sendFromPanel(text: string): Promise<void> {
  await panel().locator("#prompt").click();
  await page.keyboard.type(text);
  await page.keyboard.press("Control+Enter");
  await panel().locator(".msg.user .text", { hasText: text }).waitFor({ timeout: 15_000 });
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dirs = scratch();
  // A git repository, so that "Commit this task" has something to commit into.
  const git = (...args: string[]) => execFileSync("git", ["-C", dirs.workspace, ...args], { stdio: "pipe" });
  git("init", "-q");
  git("config", "user.name", "gdm e2e");
  git("config", "user.email", "gdm-e2e@example.invalid");
  git("add", "-A");
  git("commit", "-q", "-m", "the fixture workspace");
  model = Proc.start("scripted model", env.python, ["-m", "gdm.scripted", join(ROOT, "test", "fixtures", "panel-vscode.json")]);
  const modelUrl = (await model.waitFor(/http:\/\/127\.0\.0\.1:\d+\/v1/, 20_000))[0];
  installVsix(env, dirs.userData, dirs.extensions, dirs.xdg);
  writeSettings(dirs.userData, { ...QUIET_SETTINGS, ...gdmSettings(env, dirs, modelUrl) });
  const cs = await startCodeServer(env, dirs);
  codeServer = cs.proc;
  browser = await chromium.launch({ executablePath: env.chromium, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(cs.url);
  await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  codeServer?.stop();
  model?.stop();
  if (process.env.GDM_E2E_KEEP !== "1" && dirs) {
    rmSync(dirs.base, { recursive: true, force: true });
  }
  console.log(`panel e2e duration: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

step("the gdm view in the activity bar lists no conversations yet", async () => {
  await ui.waitForStatus(page, /gdm today/, 60_000);
  await ui.openFile(page, "calc.py");
  await page.locator('.activitybar .action-item a[aria-label^="gdm"]').first().click();
  await panel().locator(".empty", { hasText: "No conversations" }).waitFor({ timeout: 30_000 });
  await screenshot("empty-list");
});

step("ask from the prompt box: Markdown streams, a tool call is one collapsed line, the patch is a card", async () => {
  const box = panel().locator("#prompt");
  await box.click();
  await page.keyboard.type("Panel: guard divide against zero");
  await page.keyboard.press("Control+Enter");
  await panel().locator(".msg.user .text", { hasText: "Panel: guard divide" }).waitFor({ timeout: 15_000 });
  await panel().locator(".msg.assistant .md strong", { hasText: "guard" }).waitFor({ timeout: 60_000 });
  await screenshot("streaming-markdown");
  const call = panel().locator("details.tool", { hasText: "edit_file" }).first();
  await call.waitFor({ timeout: 30_000 });
  assert.equal(await call.getAttribute("open"), null, "tool calls start collapsed");
  const card = panel().locator(".patch", { hasText: "calc.py" }).first();
  await card.locator(".tier", { hasText: /risk (LOW|MEDIUM)/ }).waitFor({ timeout: 30_000 });
  await panel().locator(".msg.assistant .md", { hasText: "now raises" }).waitFor({ timeout: 30_000 });
  await panel().locator(".msg.user .meta", { hasText: /done · task \$0\.\d{4}/ }).waitFor({ timeout: 30_000 });
  assert.match(await panel().locator(".bar .cost").innerText(), /conversation \$0\.\d{4}/);
  // each call's cost comes with the stored conversation, drawn again just after the task's end
  await poll(() => panel().locator(".msg.assistant .meta", { hasText: /\$0\.\d{4}/ }).count(), (n) => n >= 2, 15_000); // cost per message
  // One sentence, the arguments one click away and pretty-printed (a row per field, texts as blocks).
  assert.equal((await call.locator("summary").innerText()).trim(), "✓ proposed an edit to calc.py: 2 lines → 4");
  await call.locator("summary").click();
  const args = call.locator("dl.args");
  await args.waitFor({ timeout: 5_000 });
  assert.deepEqual(await args.locator("dt").allInnerTexts(), ["path", "old_text", "new_text"]);
  assert.equal(await args.locator("dd").first().innerText(), "calc.py");
  assert.match(await args.locator("dd pre").last().innerText(), /^ {4}"""Return a \/ b\."""\n {4}if b == 0:\n {8}raise ValueError/);
  await assertVisible(args.locator("dd pre").last(), "the expanded arguments");
  await screenshot("conversation-tool-call-expanded-patch-card");
});

step("accept from the card: the change lands in the editor", async () => {
  const card = panel().locator(".patch", { hasText: "calc.py" }).first();
  await card.locator('button[data-action="accept"]').click();
  await poll(() => ui.editorText(page), (t) => t.includes("cannot divide by zero"), 30_000);
  await card.locator(".status", { hasText: "accepted" }).waitFor({ timeout: 30_000 });
  await card.locator('button[data-action="undo"]').waitFor({ timeout: 15_000 });
  await screenshot("accepted-from-card");
  // Every hunk decided: the editor keeps one "↶ Undo task" lens on the task's first changed line.
  await ui.lenses(page, "↶ Undo task", 1, 30_000);
  await screenshot("undo-lens-after-accept");
});

step("a follow-up from the prompt box continues the conversation and proposes its patch", async () => {
  await panel().locator("#prompt").click();
  await page.keyboard.type("now also reject an empty list in mean()");
  await panel().locator("#send").click();
  await panel().locator(".msg.user .text", { hasText: "now also reject an empty list" }).waitFor({ timeout: 15_000 });
  await panel().locator(".msg.assistant .md em", { hasText: "empty" }).waitFor({ timeout: 60_000 });
  const pending = panel().locator(".patch", { hasText: "pending" }).last();
  await pending.locator('button[data-action="accept"]').waitFor({ timeout: 30_000 });
  assert.equal(await panel().locator(".msg.user").count(), 2);
  await screenshot("follow-up-patch");
});

step("accept the follow-up, then click its undo lens: the follow-up's change goes back", async () => {
  const pending = panel().locator(".patch", { hasText: "pending" }).last();
  await pending.locator('button[data-action="accept"]').click();
  await poll(() => ui.editorText(page), (t) => t.includes("mean of an empty list"), 30_000);
  const undos = await ui.lenses(page, "↶ Undo task", 2, 30_000); // divide() first, mean() below
  await screenshot("two-undo-lenses");
  await undos[1].click();
  await poll(() => ui.editorText(page), (t) => !t.includes("mean of an empty list"), 30_000);
  assert.ok((await ui.editorText(page)).includes("cannot divide by zero"), "the first task's change stays");
  await ui.lenses(page, "↶ Undo task", 1, 30_000);
  await screenshot("undo-lens-clicked-follow-up-reverted");
});

step("Undo on the first task's card reverts its change too", async () => {
  const card = panel().locator(".patch", { hasText: "accepted" }).first();
  await card.locator('button[data-action="undo"]').first().click();
  await poll(() => ui.editorText(page), (t) => !t.includes("cannot divide by zero"), 30_000);
  await ui.lenses(page, "↶ Undo task", 0, 30_000);
  await screenshot("undo-from-card");
});

step("the Tasks view lists both tasks with status and cost, and their patches", async () => {
  const header = page.locator(".pane-header", { hasText: /^Tasks/ }).first();
  await header.waitFor({ timeout: 15_000 });
  if ((await header.getAttribute("aria-expanded")) !== "true") {
    await header.click();
  }
  const row = page.locator(".monaco-list-row", { hasText: "Panel: guard divide" }).first();
  await row.waitFor({ timeout: 30_000 });
  assert.match(await row.innerText(), /done · \$0\.\d+ · 1 patch/);
  await page.locator(".monaco-list-row", { hasText: "now also reject an empty list" }).first().waitFor({ timeout: 30_000 });
  await row.click();
  await page.keyboard.press("ArrowRight"); // expand: its patch
  await page.locator(".monaco-list-row", { hasText: "calc.py" }).first().waitFor({ timeout: 15_000 });
  await screenshot("tasks-view");
});

step("back to the list: one conversation of two tasks", async () => {
  await panel().locator('button[data-action="back"]').click();
  const item = panel().locator("button.conversation", { hasText: "Panel: guard divide" });
  await item.locator(".meta", { hasText: "2 task(s)" }).waitFor({ timeout: 15_000 });
  await screenshot("conversation-list");
});

// The render-latency figure needs many samples for a p95 that means something: this answer streams
// ~2,200 characters (Markdown with headings, lists and code) in ~110 chunks, each drawn as it comes.
step("reopened from the list, a follow-up's long answer streams and renders chunk by chunk; the render latency is logged", async () => {
  await panel().locator("button.conversation", { hasText: "Panel: guard divide" }).click();
  await panel().locator(".msg.user").nth(1).waitFor({ timeout: 15_000 });
  await panel().locator("#prompt").click();
  await page.keyboard.type("Walk me through everything that changed, at length");
  await page.keyboard.press("Control+Enter");
  await panel().locator(".msg.user .text", { hasText: "Walk me through" }).waitFor({ timeout: 15_000 });
  const streaming = panel().locator(".msg.assistant.streaming .md");
  await streaming.locator("h5", { hasText: "Why" }).waitFor({ timeout: 60_000 });
  // A chunk redraws only the streaming message: the keyboard focus stays where the user put it.
  const back = panel().locator('button[data-action="back"]');
  await back.focus();
  await streaming.locator("h5", { hasText: "What I would test next" }).waitFor({ timeout: 60_000 });
  assert.deepEqual(await back.evaluate((b) => ({ focused: b === document.activeElement,
    streaming: document.querySelector(".msg.assistant.streaming") !== null })), { focused: true, streaming: true },
  "focus kept while the answer streams");
  // The list follows the answer: what streamed last is in view, not the conversation's top.
  await assertVisible(streaming.locator("h5", { hasText: "What I would test next" }), "the newest heading while streaming");
  await screenshot("long-answer-streaming");
  const last = panel().locator(".msg.assistant .md").last();
  const end = last.locator("p", { hasText: "That is the whole walkthrough of calc.py." });
  await end.waitFor({ timeout: 60_000 });
  await panel().locator(".msg.user .meta", { hasText: /done · task \$0\.\d{4}/ }).nth(2).waitFor({ timeout: 30_000 });
  await assertVisible(end, "the long answer's last paragraph");
  await assertVisible(panel().locator("#prompt"), "the prompt box", { inList: false });
  assert.ok(!(await panel().locator("#jump").isVisible()), "no Jump to latest at the end");
  const pre = last.locator("pre").last();
  assert.ok(await pre.evaluate((p) => getComputedStyle(p).overflowX === "auto" && getComputedStyle(p).maxHeight !== "none"),
    "code blocks scroll inside themselves");
  assert.equal(await last.locator("pre").count(), 2, "both code blocks");
  assert.equal(await last.locator("h3, h4, h5, h6").count(), 5, "every heading");
  assert.equal(await panel().locator(".cursor").count(), 0, "no streaming cursor once done");
  await screenshot("long-answer-done");
  await ui.runCommand(page, "gdm: Show task log");
  const log = await ui.waitForPanelText(page, /gdm panel: streamed chunk → render over ([5-9]\d|\d{3,}) renders: median \d+ ms, p95 \d+ ms/, 15_000);
  const line = log.match(/gdm panel: streamed chunk → render[^\n]*/g)!.pop()!;
  console.log(line);
  assert.ok(Number(/over (\d+) renders/.exec(line)![1]) >= 50, `at least 50 rendered chunks: ${line}`);
  await ui.runCommand(page, "View: Hide Panel"); // the editor's height back for the steps below
});

step("scrolled up while an answer streams, the list stays where the user put it; Jump to latest brings the end back", async () => {
  await sendFromPanel("Once more, the walkthrough");
  const streaming = panel().locator(".msg.assistant.streaming .md");
  await streaming.locator("h5", { hasText: "Why" }).waitFor({ timeout: 60_000 });
  assert.ok(!(await panel().locator("#jump").isVisible()), "following: no Jump to latest");
  const list = await panel().locator("#root").boundingBox();
  await page.mouse.move(list!.x + list!.width / 2, list!.y + list!.height / 2);
  await page.mouse.wheel(0, -800);
  const jump = panel().locator("#jump");
  await jump.waitFor({ state: "visible", timeout: 5_000 });
  const at = (await listScroll()).top;
  // More of the answer streams in below; the list does not move.
  await streaming.locator("h5", { hasText: "What I would test next" }).waitFor({ state: "attached", timeout: 60_000 });
  const now = await listScroll();
  assert.ok(Math.abs(now.top - at) <= 2, `the list moved while scrolled up: ${at} → ${now.top}`);
  assert.ok(now.height - now.top - now.client > 50, "the end is out of view");
  await assertVisible(jump, "Jump to latest");
  await screenshot("scrolled-up-jump-to-latest");
  await jump.click();
  await jump.waitFor({ state: "hidden", timeout: 5_000 });
  const end = panel().locator(".msg.assistant .md").last().locator("p", { hasText: "That is the whole walkthrough of calc.py." });
  await end.waitFor({ timeout: 60_000 });
  await panel().locator(".msg.user .meta", { hasText: /done · task \$0\.\d{4}/ }).nth(3).waitFor({ timeout: 30_000 });
  await assertVisible(end, "the answer's last paragraph after Jump to latest");
  await screenshot("jumped-to-latest");
});

const NOTE_LINES = [
  "# calc: four operations and a mean, on floats.", "#", "# add(a, b)       a + b", "# subtract(a, b)  a - b", "# multiply(a, b)  a * b",
  "# divide(a, b)    a / b; b == 0 raises ZeroDivisionError", "# mean(values)    the arithmetic mean, through divide()", "#",
  "# Every function takes and returns floats; none of them", "# keeps state, so each can be tested on its own.",
];

step("a follow-up's tool calls read as sentences, and its 10-line insertion shows as 10 lines in the editor", async () => {
  await sendFromPanel("Add a ten-line note above add()");
  await panel().locator(".msg.assistant .md", { hasText: "waits for your review" }).waitFor({ timeout: 60_000 });
  const sentences = (await panel().locator("details.tool summary .sentence").allInnerTexts()).slice(-3);
  assert.deepEqual(sentences, ["read calc.py lines 4–6", 'searched "divide(" — 2 hits', "proposed an edit to calc.py: 1 line → 11"]);
  await screenshot("tool-call-sentences");
  await ui.openFile(page, "calc.py");
  const [zone] = await poll(() => ui.insertionZones(page), (z) => z.length === 1 && z[0].lines.length > 0, 30_000);
  assert.deepEqual(zone.lines, NOTE_LINES, "the ten inserted lines, each a line");
  assert.ok(zone.inView, "the zone is in the editor's view");
  assert.ok(zone.blockHeight >= 10 * zone.lineHeight - 1 && zone.lineHeight > 0, `ten line boxes tall: ${JSON.stringify(zone)}`);
  assert.match(zone.label, /^gdm: \+10 lines inserted below \(pending\) · ● gdm risk LOW \d\.\d\d$/);
  await ui.lenses(page, "✓ Accept", 1, 15_000); // the lenses stay
  await screenshot("ten-line-insertion");
  // With comment threads hidden in editors, the one-line preview is the fallback.
  await ui.setCheckbox(page, "comments.visible", false);
  await ui.openFile(page, "calc.py"); // (closing the Settings editor can take the file's preview tab with it)
  await poll(() => ui.injectedTexts(page), (t) => t.some((x) => x.startsWith("+10: # calc: four operations")), 15_000);
  assert.equal((await ui.insertionZones(page)).length, 0);
  await screenshot("insertion-preview-fallback");
  await ui.setCheckbox(page, "comments.visible", true);
  await ui.openFile(page, "calc.py");
  await poll(() => ui.insertionZones(page), (z) => z.length === 1, 15_000);
});

step("accepted, the task offers Commit this task, which sends gdm.task.commit", async () => {
  const card = panel().locator(".patch", { hasText: "pending" }).last();
  await card.locator('button[data-action="accept"]').click();
  await poll(() => ui.editorText(page), (t) => t.includes("# calc: four operations"), 30_000);
  const commit = panel().locator('.task-foot button[data-action="commit"]');
  await commit.waitFor({ timeout: 30_000 });
  assert.equal(await commit.count(), 1, "only the task whose patches are all decided offers it");
  await ui.focusEditor(page);
  await page.keyboard.press("Control+S"); // a commit takes the file as it is on disk
  await ui.runCommand(page, "Notifications: Clear All Notifications");
  await commit.click();
  // This server's answer: its "gdm: committed <id> …" (when it has gdm.task.commit, whose box for the
  // message comes first: its proposal is taken as it is), or the panel saying it lacks the command.
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: /gdm: committed [0-9a-f]{7,}|does not offer gdm\.task\.commit/ });
  const messageBox = page.locator(".quick-input-widget", { hasText: "gdm: commit" });
  await toast.or(messageBox).first().waitFor({ state: "visible", timeout: 30_000 });
  if (await messageBox.isVisible()) {
    await page.keyboard.press("Enter");
  }
  await toast.first().waitFor({ state: "visible", timeout: 30_000 });
  const said = await toast.first().innerText();
  console.log(`commit from the panel: ${said.split("\n")[0]}`);
  if (/committed/.test(said)) {
    await panel().locator(".task-foot .committed", { hasText: /committed [0-9a-f]{7,}/ }).waitFor({ timeout: 10_000 });
    const log = execFileSync("git", ["-C", dirs.workspace, "log", "--format=%s", "-1", "--", "calc.py"]).toString();
    assert.notEqual(log.trim(), "the fixture workspace", "the task's change is committed");
  }
  await screenshot("commit-this-task");
});
