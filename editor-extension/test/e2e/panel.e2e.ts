/**
 * The gdm panel end to end in a real VS Code (code-server in headless Chromium) against the
 * scripted model: open the "gdm" view, ask from its prompt box, see the conversation render
 * (Markdown as it streams, a collapsed tool call that expands, a patch card with its risk), accept
 * from the card (the editor's "↶ Undo task" lens appears), send a follow-up from the prompt box and
 * see its patch, accept it and click its undo lens, Undo the first task from its card, see both in the
 * "gdm: Tasks" view, back to the list of conversations, reopen it and stream a long follow-up answer. Each step leaves a screenshot (test-artifacts/panel-*.png); the panel's chunk →
 * render latency (performance marks in the extension and the webview) is read from the gdm log.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type FrameLocator, type Page } from "playwright-core";
import { CHROMIUM_ARGS, recorder, ROOT, Proc, e2eEnv, installVsix, scratch, startCodeServer, writeSettings } from "./harness";
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

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dirs = scratch();
  model = Proc.start("scripted model", env.python, ["-m", "gdm.scripted", join(ROOT, "test", "fixtures", "panel-vscode.json")]);
  const modelUrl = (await model.waitFor(/http:\/\/127\.0\.0\.1:\d+\/v1/, 20_000))[0];
  installVsix(env, dirs.userData, dirs.extensions, dirs.xdg);
  writeSettings(dirs.userData, {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.commandCenter.enabled": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "update.mode": "none",
    "editor.minimap.enabled": false,
    "gdm.pythonPath": env.python,
    "gdm.model": "openai/scripted",
    "gdm.apiBase": modelUrl,
    "gdm.prices": { "openai/scripted": { inputPerMTok: 3, outputPerMTok: 15 } },
    "gdm.databaseUrl": `sqlite:///${join(dirs.base, "gdm.db")}`,
  });
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
  assert.ok((await panel().locator(".msg.assistant .meta", { hasText: /\$0\.\d{4}/ }).count()) >= 2, "cost per message");
  await call.locator("summary").click();
  await call.locator("pre.args", { hasText: '"path": "calc.py"' }).waitFor({ timeout: 5_000 });
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
  await screenshot("long-answer-streaming");
  const last = panel().locator(".msg.assistant .md").last();
  await last.locator("p", { hasText: "That is the whole walkthrough of calc.py." }).waitFor({ timeout: 60_000 });
  await panel().locator(".msg.user .meta", { hasText: /done · task \$0\.\d{4}/ }).nth(2).waitFor({ timeout: 30_000 });
  assert.equal(await last.locator("pre").count(), 2, "both code blocks");
  assert.equal(await last.locator("h3, h4, h5, h6").count(), 5, "every heading");
  assert.equal(await panel().locator(".cursor").count(), 0, "no streaming cursor once done");
  await screenshot("long-answer-done");
  await ui.runCommand(page, "gdm: Show task log");
  const log = await ui.waitForPanelText(page, /gdm panel: streamed chunk → render over ([5-9]\d|\d{3,}) renders: median \d+ ms, p95 \d+ ms/, 15_000);
  const line = log.match(/gdm panel: streamed chunk → render[^\n]*/g)!.pop()!;
  console.log(line);
  assert.ok(Number(/over (\d+) renders/.exec(line)![1]) >= 50, `at least 50 rendered chunks: ${line}`);
});
