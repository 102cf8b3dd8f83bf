/**
 * End to end in a real VS Code (code-server in headless Chromium) against the scripted model:
 * ask gdm on a selection, watch progress and the streamed events, see the pending hunks with
 * their risk, review them in the diff editor, accept one hunk and reject the other, check the
 * file, and check the status-bar cost before and after. Each step leaves a screenshot.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  QUIET_SETTINGS, ROOT, Proc, type Workbench, closeWorkbench, e2eEnv, gdmSettings, installVsix, openWorkbench, recorder,
  scratch, writeSettings,
} from "./harness";
import * as ui from "./workbench";
import { poll } from "./workbench";

const env = e2eEnv();
const started = Date.now();
let dirs: ReturnType<typeof scratch>;
let model: Proc;
let modelUrl: string;
let workbench: Workbench | undefined;
let page: Page;
let settings: Record<string, unknown>;
const { screenshot, step } = recorder(env.artifacts, "", () => page);

/**
 * Wait until VS Code wrote the setting to the user settings.json (a value equal to the default,
 * "" for strings, is written by removing the key), then let it reach the server.
 */
async function settingSaved(key: string, value: unknown): Promise<void> {
  const file = join(dirs.userData, "User", "settings.json");
  const saved = (v: unknown) => v === value || (value === "" && v === undefined);
  await poll(() => JSON.parse(readFileSync(file, "utf8"))[key], saved, 10_000);
  await page.waitForTimeout(1000); // onDidChangeConfiguration -> didChangeConfiguration -> workspace/configuration
}

before(async () => {
  rmSync(env.artifacts, { recursive: true, force: true });
  mkdirSync(env.artifacts, { recursive: true });
  dirs = scratch();
  model = Proc.start("scripted model", env.python, ["-m", "gdm.scripted", join(ROOT, "test", "fixtures", "ask-vscode.json")]);
  modelUrl = (await model.waitFor(/http:\/\/127\.0\.0\.1:\d+\/v1/, 20_000))[0];
  installVsix(env, dirs.userData, dirs.extensions, dirs.xdg);
  settings = { ...QUIET_SETTINGS, ...gdmSettings(env, dirs, modelUrl) };
  writeSettings(dirs.userData, settings);
  workbench = await openWorkbench(env, dirs);
  page = workbench.page;
});

after(async () => {
  await closeWorkbench(workbench, model, dirs);
  console.log(`e2e duration: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

step("the extension starts the server and the cost meter shows the day's cost", async () => {
  const text = await ui.waitForStatus(page, /gdm today \$0\.0000 \/ \$20\.00/, 30_000);
  assert.match(text, /today/);
  await screenshot("started-cost-before");
});

step("ask gdm on a selection with the keybinding and the prompt box", async () => {
  await ui.openFile(page, "calc.py");
  await ui.selectLines(page, 19, 21);
  await screenshot("selection");
  await page.keyboard.press("Control+Alt+G");
  const box = page.locator(".quick-input-widget");
  await box.waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type("Harden divide against zero");
  await screenshot("ask-prompt");
  await page.keyboard.press("Enter");
});

step("the task shows a progress notification reporting tool calls", async () => {
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "gdm: Harden divide" });
  await toast.waitFor({ state: "visible", timeout: 15_000 });
  // The first model call of a server takes 8-12 s here (litellm's cold import and set-up).
  await page.locator(".notifications-toasts .notification-toast", { hasText: "read_file" }).waitFor({ timeout: 45_000 });
  const status = await ui.waitForStatus(page, /gdm task \$/, 10_000);
  assert.match(status, /task \$0\.\d{4} \/ \$2\.00/);
  await screenshot("progress-and-task-cost");
});

step("the gdm output channel lists the streamed text, tool calls and results", async () => {
  await ui.waitForStatus(page, /gdm today/, 30_000); // the task ended
  await ui.runCommand(page, "gdm: Show task log");
  await ui.runCommand(page, "View: Toggle Maximized Panel");
  const log = await ui.waitForPanelText(page, /■ done/, 15_000);
  for (const want of ["► Harden divide against zero", "gdm: Let me read divide()", "▶ read_file", "✓ read_file", "▶ edit_file", "✓ edit_file"]) {
    assert.ok(log.includes(want), `log lacks ${want}:\n${log}`);
  }
  await screenshot("task-log");
  await ui.runCommand(page, "View: Toggle Maximized Panel");
  await ui.runCommand(page, "View: Hide Panel");
});

step("pending hunks are decorated with their risk and have Accept/Reject lenses", async () => {
  await ui.focusEditor(page);
  const lenses = await ui.lenses(page, "✓ Accept", 2, 15_000);
  assert.equal(lenses.length, 2);
  const texts = await ui.injectedTexts(page);
  assert.ok(texts.some((t) => /gdm risk (LOW|MEDIUM|HIGH|CRITICAL) \d\.\d\d/.test(t)), `no risk badge in ${JSON.stringify(texts)}`);
  // The inserted lines show whole, as lines, in a zone below the lines they replace; those are struck through.
  const zones = await poll(() => ui.insertionZones(page), (z) => z.length === 2 && z.every((x) => x.lines.length > 0), 15_000);
  assert.deepEqual(zones.map((z) => z.lines.map((l) => l.trim())), [
    ['"""Return the sum of a and b."""'],
    ['"""Return a / b; dividing by zero raises a clear ValueError."""', "if b == 0:", 'raise ValueError("cannot divide by zero")'],
  ]);
  assert.match(zones[1].label, /^gdm: \+3 lines replaces the line above \(pending\) · ● gdm risk LOW \d\.\d\d$/);
  const struck = await ui.struckTexts(page);
  assert.ok(struck.some((t) => t.includes('Return a / b.')) && struck.some((t) => t.includes("Return a + b.")), `struck: ${JSON.stringify(struck)}`);
  assert.ok(!texts.some((t) => t.startsWith("+1:") || t.startsWith("+3:")), `the one-line preview is only the fallback: ${JSON.stringify(texts)}`);
  assert.ok(await ui.removedLineCount(page) >= 2, "removed lines are not highlighted");
  await screenshot("pending-hunks");
  await ui.hoverBadge(page);
  await screenshot("risk-hover");
  await page.mouse.move(5, 450);
});

step("Review all opens the diff editor with Accept/Reject in its title", async () => {
  await ui.runCommand(page, "gdm: Review all changes");
  const diff = page.locator(".part.editor .monaco-diff-editor");
  await diff.waitFor({ state: "visible", timeout: 10_000 });
  await page.waitForTimeout(500); // let the title bar settle for the screenshot
  await screenshot("review-all-diff");
  await page.locator('.part.editor [aria-label*="gdm: Accept this patch"]').waitFor({ timeout: 10_000 });
  await page.locator('.part.editor [aria-label*="gdm: Reject this patch"]').waitFor({ timeout: 10_000 });
  const right = (await diff.locator(".editor.modified .view-lines").innerText()).replace(/\u00a0/g, " ");
  assert.match(right, /cannot divide by zero/);
  await ui.runCommand(page, "View: Close Editor");
  await diff.waitFor({ state: "detached", timeout: 10_000 });
  await ui.openFile(page, "calc.py");
});

step("accepting one hunk and rejecting the other leaves exactly the accepted change", async () => {
  await ui.focusEditor(page);
  const accepts = await ui.lenses(page, "✓ Accept", 2, 10_000);
  await accepts[1].click(); // the lower hunk: divide()
  await ui.lenses(page, "✓ Accept", 1, 15_000);
  const buffer = await ui.editorText(page);
  assert.match(buffer, /raise ValueError\("cannot divide by zero"\)/);
  await screenshot("accepted-divide-hunk");
  const rejects = await ui.lenses(page, "✗ Reject", 1, 10_000);
  await rejects[0].click();
  await ui.lenses(page, "✓ Accept", 0, 15_000);
  await screenshot("rejected-add-hunk");
  await ui.focusEditor(page);
  await page.keyboard.press("Control+S");
  const path = join(dirs.workspace, "calc.py");
  const disk = await ui.poll(() => readFileSync(path, "utf8"), (t) => t.includes("cannot divide by zero"), 10_000);
  assert.match(disk, /    if b == 0:\n        raise ValueError\("cannot divide by zero"\)\n    return a \/ b\n/);
  assert.match(disk, /"""Return a \+ b\."""/);
  assert.doesNotMatch(disk, /sum of a and b/);
});

step("the cost meter shows the day's cost after the task and opens the breakdown", async () => {
  const text = await ui.waitForStatus(page, /gdm today \$0\.\d{4} \/ \$20\.00/, 10_000);
  const spent = Number(/\$(0\.\d{4})/.exec(text)?.[1]);
  assert.ok(spent > 0, `no cost recorded: ${text}`);
  await ui.statusItem(page).click();
  await page.locator(".quick-input-widget", { hasText: "Session" }).waitFor({ state: "visible", timeout: 10_000 });
  await screenshot("cost-after-and-breakdown");
  await page.keyboard.press("Escape");
});

step("a MEDIUM-risk patch asked from the palette goes through VS Code's refactor preview", async () => {
  await ui.runCommand(page, "Notifications: Clear All Notifications");
  await ui.openFile(page, "calc.py");
  await ui.runCommand(page, "Ask gdm…");
  await page.locator(".quick-input-widget").waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type("Add a revision helper");
  await page.keyboard.press("Enter");
  await ui.focusEditor(page);
  const accept = await ui.lenses(page, "✓ Accept", 1, 30_000);
  await poll(() => ui.injectedTexts(page), (t) => t.some((x) => x.includes("gdm risk MEDIUM")), 10_000);
  const [zone] = await poll(() => ui.insertionZones(page), (z) => z.length === 1 && z[0].lines.length > 0, 10_000);
  assert.ok(zone.lines.includes("import subprocess") && zone.inView, JSON.stringify(zone));
  assert.match(zone.label, /gdm risk MEDIUM/);
  await screenshot("medium-risk-pending");
  await accept[0].click();
  const preview = page.locator(".part.panel .bulk-edit-panel, .part.panel [id='refactorPreview']").first();
  await preview.waitFor({ state: "visible", timeout: 15_000 });
  await page.waitForTimeout(500);
  await screenshot("refactor-preview");
  // VS Code leaves edits that need confirmation unticked: tick the file, then Apply
  await page.locator(".part.panel .monaco-list-row", { hasText: "calc.py" }).locator('input[type="checkbox"]').first().check();
  await page.locator(".part.panel a.monaco-button", { hasText: "Apply" }).first().click();
  await poll(() => ui.editorText(page), (t) => t.includes("import subprocess"), 10_000);
  await ui.lenses(page, "✓ Accept", 0, 10_000);
  await screenshot("medium-risk-applied");
});

step("the code action and the editor context menu open the same prompt box", async () => {
  await ui.runCommand(page, "Notifications: Clear All Notifications");
  await ui.selectLines(page, 33, 35);
  await page.keyboard.press("Control+.");
  const action = page.locator(".action-widget .monaco-list-row", { hasText: "Ask gdm…" }).first();
  await action.waitFor({ state: "visible", timeout: 10_000 });
  await screenshot("code-action-ask-gdm");
  await poll(() => action.getAttribute("class"), (c) => /focused/.test(c ?? ""), 5_000);
  await page.keyboard.press("Enter"); // the widget keeps animating, so a click never sees it stable
  const box = page.locator(".quick-input-widget", { hasText: "Ask gdm" });
  await box.waitFor({ state: "visible", timeout: 10_000 });
  // the prompt box offers the earlier prompts
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Harden divide against zero" }).waitFor({ timeout: 5_000 });
  await screenshot("prompt-box-with-history");
  await page.keyboard.press("Escape");
  await box.waitFor({ state: "hidden", timeout: 5_000 });
  const frame = await page.locator(".part.editor .editor-instance .monaco-editor .overflow-guard").first().boundingBox();
  await page.mouse.click(frame!.x + 200, frame!.y + 100, { button: "right" });
  const item = page.locator(".context-view .monaco-menu .action-item", { hasText: "Ask gdm…" }).first();
  await item.waitFor({ state: "visible", timeout: 10_000 });
  await item.hover();
  await page.keyboard.press("Enter"); // like the code action widget, the menu ignores an instant click
  await box.waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.press("Escape");
});

step("asking without a model configured says so, and its button opens the setting", async () => {
  await ui.runCommand(page, "Notifications: Clear All Notifications");
  await ui.setSetting(page, "gdm.model", "");
  await settingSaved("gdm.model", "");
  await ui.openFile(page, "calc.py");
  await page.keyboard.press("Control+Alt+G");
  await page.locator(".quick-input-widget").waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type("Explain mean");
  await page.keyboard.press("Enter");
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "No model is set" });
  await toast.waitFor({ state: "visible", timeout: 20_000 });
  await page.waitForTimeout(700); // the toast slides in
  await screenshot("error-model-not-configured");
  await toast.locator("a.monaco-button", { hasText: "Open settings" }).click();
  await page.locator('.settings-editor input[aria-label="gdm.model"]').waitFor({ timeout: 10_000 });
  await screenshot("open-settings-gdm-model");
  await ui.runCommand(page, "View: Close Editor");
});

step("a Python that does not exist is an error with Select interpreter / Open settings", async () => {
  await ui.runCommand(page, "Notifications: Clear All Notifications");
  await ui.setSetting(page, "gdm.pythonPath", "/nonexistent/python3");
  await settingSaved("gdm.pythonPath", "/nonexistent/python3");
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "/nonexistent/python3" });
  await toast.waitFor({ state: "visible", timeout: 20_000 });
  await toast.locator("a.monaco-button", { hasText: "Select interpreter" }).waitFor();
  await toast.locator("a.monaco-button", { hasText: "Open settings" }).waitFor();
  assert.match(await ui.waitForStatus(page, /gdm: server stopped/, 10_000), /server stopped/);
  await page.waitForTimeout(700); // the toast slides in
  await screenshot("error-server-failed-to-start");
  // the server's commands now explain instead of "command not found"
  await ui.runCommand(page, "Notifications: Clear All Notifications");
  await ui.runCommand(page, "gdm: Show cost");
  await toast.waitFor({ state: "visible", timeout: 10_000 });
});

step("the scripted model saw every expected request", async () => {
  const failures = await (await fetch(modelUrl.replace(/\/v1$/, "/_gdm/failures"))).json();
  assert.deepEqual(failures, []);
});
