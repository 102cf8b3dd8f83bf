/**
 * The views on the server's data, end to end in a real VS Code (code-server in headless Chromium)
 * against the scripted model: "gdm: Show code map" opens a read-only tab with the fixture
 * workspace's symbols, focused on the active file; "gdm: Show usage" draws the last 30 days (first
 * with no data, then after a task, opened from the cost meter's breakdown, with the model's bar,
 * driven by the keyboard); "gdm: MCP servers" shows its empty-state item, then the project's fault
 * MCP server (fixtures/mcp) once it is added in settings.json. The "gdm: Tasks" view's own inline
 * buttons: Review opens a task's patch in the diff editor, Accept all applies it, Undo reverts it,
 * each checked in the editor's text; Commit this task saves the accepted file when asked, takes
 * the subject from its prefilled input box and commits exactly the task's change (git log). A
 * screenshot per step lands in test-artifacts/views/.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FrameLocator, Locator, Page } from "playwright-core";
import {
  QUIET_SETTINGS, ROOT, Proc, type Workbench, closeWorkbench, e2eEnv, gdmSettings, installVsix, openWorkbench, recorder,
  scratch, writeSettings,
} from "./harness";
import * as ui from "./workbench";
import { poll } from "./workbench";

const env = e2eEnv();
const artifacts = join(env.artifacts, "views");
const started = Date.now();
let dirs: ReturnType<typeof scratch>;
let model: Proc;
let workbench: Workbench | undefined;
let page: Page;
const { screenshot, step } = recorder(artifacts, "views", () => page);

/** git in the test's workspace; its stdout. */
function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: dirs.workspace, encoding: "utf8" });
}

/** The usage chart's webview document (VS Code nests it: iframe.webview → #active-frame). */
function chart(): FrameLocator {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}

async function quickPickRow(text: string | RegExp): Promise<void> {
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: text }).first().waitFor({ timeout: 60_000 });
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dirs = scratch();
  model = Proc.start("scripted model", env.python, ["-m", "gdm.scripted", join(ROOT, "test", "fixtures", "views-vscode.json")]);
  const modelUrl = (await model.waitFor(/http:\/\/127\.0\.0\.1:\d+\/v1/, 20_000))[0];
  installVsix(env, dirs.userData, dirs.extensions, dirs.xdg);
  writeSettings(dirs.userData, {
    ...QUIET_SETTINGS,
    // settings.json is edited by typing below: nothing may insert characters of its own.
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.autoSurround": "never",
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "editor.formatOnType": false,
    ...gdmSettings(env, dirs, modelUrl),
  });
  // The workspace is a git repository (its own identity, no signing), for "Commit this task".
  for (const args of [["init", "-q", "-b", "main"], ["config", "user.name", "Views Tester"],
    ["config", "user.email", "views@example.com"], ["config", "commit.gpgsign", "false"], ["add", "-A"],
    ["commit", "-q", "-m", "the fixture"]]) {
    git(...args);
  }
  workbench = await openWorkbench(env, dirs);
  page = workbench.page;
});

after(async () => {
  await closeWorkbench(workbench, model, dirs);
  console.log(`views e2e duration: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

step("gdm: Show code map opens a read-only tab with the workspace's symbols, focused on the active file", async () => {
  await ui.waitForStatus(page, /gdm today/, 60_000);
  await ui.openFile(page, "calc.py");
  await ui.runCommand(page, "gdm: Show code map");
  await page.locator(".part.editor .tab.active", { hasText: "gdm code map (calc.py)" }).waitFor({ timeout: 30_000 });
  const text = await poll(() => ui.editorText(page), (t) => t.includes("def mean("), 30_000);
  for (const want of ["# gdm code map", "focused on `calc.py`", "calc.py:", "def add(a: float, b: float) -> float:",
    "def divide(a: float, b: float) -> float:", "def mean(values: list[float]) -> float:"]) {
    assert.ok(text.includes(want), `the map tab lacks ${want}:\n${text}`);
  }
  assert.match(text, /1 file\(s\) · \d+ symbol\(s\) · built in \d+ ms/);
  assert.ok(!text.includes("return a + b"), "signatures only, never bodies");
  await ui.focusEditor(page);
  await page.keyboard.type("typed");
  assert.ok(!(await ui.editorText(page)).includes("typed"), "the map tab is read-only");
  await screenshot("code-map-tab");
});

step("gdm: Show usage with nothing recorded yet says so and draws an empty 30-day axis", async () => {
  await ui.runCommand(page, "gdm: Show usage");
  await page.locator(".part.editor .tab.active", { hasText: "gdm usage" }).waitFor({ timeout: 15_000 });
  await chart().locator(".empty", { hasText: "No model calls recorded in the last 30 days" }).waitFor({ timeout: 30_000 });
  assert.equal(await chart().locator("g.bar-group[data-day]").count(), 30);
  assert.equal(await chart().locator("g.bar-group[data-model]").count(), 0);
  await screenshot("usage-empty");
});

step("after a task, the cost breakdown offers Show usage: the model's bar and row are in the chart", async () => {
  await ui.openFile(page, "calc.py");
  await ui.runCommand(page, "Ask gdm…");
  await page.locator(".quick-input-widget").waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type("Views: explain mean");
  await page.keyboard.press("Enter");
  // The first model call of a server takes 8-12 s here (litellm's cold import and set-up).
  await ui.waitForStatus(page, /gdm today \$(?!0\.0000)\d+\.\d+/, 90_000);
  await ui.statusItem(page).click();
  await quickPickRow("Show usage");
  await screenshot("cost-breakdown-show-usage");
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Show usage" }).first().click();
  await page.locator(".part.editor .tab.active", { hasText: "gdm usage" }).waitFor({ timeout: 15_000 });
  const bar = chart().locator('g.bar-group[data-model="openai/scripted"]');
  await bar.waitFor({ timeout: 30_000 });
  assert.match((await bar.getAttribute("aria-label")) ?? "", /^openai\/scripted: \$0\.\d{4}, 1 call\(s\), 1000 in \/ 50 out tokens/);
  await chart().locator("table.models th[scope=row]", { hasText: "openai/scripted" }).waitFor({ timeout: 5_000 });
  const today = new Date().toISOString().slice(0, 10);
  assert.match((await chart().locator(`g.bar-group[data-day="${today}"]`).getAttribute("aria-label")) ?? "", /1 call\(s\)/);
  await screenshot("usage-after-task");
});

step("the chart is keyboard-usable: Tab to a metric, Enter redraws it, Tab reaches the model's bar", async () => {
  await chart().locator('button[data-metric="usd"]').focus();
  await page.keyboard.press("Tab");
  assert.equal(await chart().locator(":focus").getAttribute("data-metric"), "calls");
  await page.keyboard.press("Enter");
  await chart().locator('button[data-metric="calls"][aria-pressed="true"]').waitFor({ timeout: 10_000 });
  assert.equal(await chart().locator(":focus").getAttribute("data-metric"), "calls", "focus kept across the redraw");
  await chart().locator('g.bar-group[data-model="openai/scripted"] text.value', { hasText: /^1$/ }).waitFor({ timeout: 5_000 });
  await page.keyboard.press("Tab"); // Tokens
  await page.keyboard.press("Tab"); // Refresh
  await page.keyboard.press("Tab"); // the first bar
  assert.equal(await chart().locator(":focus").getAttribute("data-model"), "openai/scripted");
  await screenshot("usage-keyboard-calls");
});

/** The Tasks view's row of the task whose prompt starts with `prompt`, its pane expanded. */
async function taskRow(prompt: string): Promise<Locator> {
  const header = page.locator(".pane-header", { hasText: /^Tasks/ }).first();
  if (!(await header.isVisible())) {
    await page.locator('.activitybar .action-item a[aria-label^="gdm"]').first().click();
  }
  await header.waitFor({ timeout: 15_000 });
  if ((await header.getAttribute("aria-expanded")) !== "true") {
    await header.click();
  }
  const row = page.locator(".pane-body .monaco-list-row", { hasText: prompt }).first();
  await row.waitFor({ timeout: 30_000 });
  return row;
}

/** Click one of a tree row's own inline action buttons (shown on hover), by its title. */
async function clickInline(row: Locator, title: string): Promise<void> {
  await row.hover();
  const button = row.locator(`.actions a.action-label[aria-label^="${title}"]`);
  await button.waitFor({ state: "visible", timeout: 15_000 });
  await button.click();
}

const TASK_PROMPT = "Views: document add";
const ADD_DOC = "Return a + b, for ints and floats alike.";

step("the Tasks view's own Review button opens the task's patch in the diff editor", async () => {
  await ui.openFile(page, "calc.py");
  await ui.runCommand(page, "Ask gdm…");
  await page.locator(".quick-input-widget").waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type(TASK_PROMPT);
  await page.keyboard.press("Enter");
  const row = await taskRow(TASK_PROMPT);
  await poll(() => row.innerText(), (t) => /done · \$0\.\d+ · 1 patch/.test(t), 60_000);
  assert.ok(!(await ui.editorText(page)).includes(ADD_DOC), "nothing is applied before review");
  await clickInline(row, "Review");
  await page.locator(".part.editor .tab.active", { hasText: "calc.py ↔ gdm" }).waitFor({ timeout: 15_000 });
  const diff = ".part.editor .editor-instance .monaco-diff-editor";
  const modified = () => page.locator(`${diff} .editor.modified .view-lines`).first().innerText();
  await poll(modified, (t) => t.replace(/\u00a0/g, " ").includes(ADD_DOC), 15_000);
  const original = (await page.locator(`${diff} .editor.original .view-lines`).first().innerText()).replace(/\u00a0/g, " ");
  assert.ok(original.includes('"""Return a + b."""') && !original.includes(ADD_DOC), `the left side is the file as it is:\n${original}`);
  await screenshot("tasks-view-review-diff");
  await ui.runCommand(page, "View: Close Editor");
});

step("the Tasks view's own Accept all button applies the task's change to the editor", async () => {
  await ui.openFile(page, "calc.py");
  const row = await taskRow(TASK_PROMPT);
  await clickInline(row, "Accept all");
  await poll(() => ui.editorText(page), (t) => t.includes(ADD_DOC), 30_000);
  assert.ok(!(await ui.editorText(page)).includes('"""Return a + b."""'));
  await poll(() => row.innerText(), (t) => /1 accepted/.test(t), 30_000);
  await ui.lenses(page, "↶ Undo task", 1, 30_000); // the editor offers the undo too
  await screenshot("tasks-view-accept-all");
});

step("the Tasks view's own Undo button reverts the accepted task in the editor", async () => {
  const row = await taskRow(TASK_PROMPT);
  await clickInline(row, "Undo");
  await poll(() => ui.editorText(page), (t) => !t.includes(ADD_DOC), 30_000);
  assert.ok((await ui.editorText(page)).includes('"""Return a + b."""'), "the original docstring is back");
  await ui.lenses(page, "↶ Undo task", 0, 30_000); // nothing left to undo: the lens goes
  await poll(() => row.innerText(), (t) => !/accepted/.test(t), 30_000);
  await row.hover();
  await poll(() => row.locator('.actions a.action-label[aria-label^="Undo"]').count(), (n) => n === 0, 15_000);
  await screenshot("tasks-view-undo");
});

const COMMIT_PROMPT = "Views: commit the add docs";

step("the Tasks view's Commit this task saves the file, asks for the subject, and commits the task", async () => {
  await ui.openFile(page, "calc.py");
  await ui.runCommand(page, "Ask gdm…");
  await page.locator(".quick-input-widget").waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type(COMMIT_PROMPT);
  await page.keyboard.press("Enter");
  const row = await taskRow(COMMIT_PROMPT);
  await poll(() => row.innerText(), (t) => /done · \$0\.\d+ · 1 patch/.test(t), 60_000);
  await clickInline(row, "Accept all");
  await poll(() => ui.editorText(page), (t) => t.includes(ADD_DOC), 30_000);
  await ui.lenses(page, "✓ Commit this task", 1, 30_000); // the editor offers it too
  await clickInline(row, "Commit this task");
  // Accepted edits sit unsaved in the editor: the commit offers to save them first.
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "unsaved changes in calc.py" });
  await toast.waitFor({ timeout: 30_000 });
  await toast.locator(".monaco-button", { hasText: "Save and commit" }).click();
  const generic = page.locator(".notifications-toasts .notification-toast", { hasText: "Request workspace/executeCommand failed" });
  assert.equal(await generic.count(), 0, "the refusal is said once, as gdm says it");
  const box = page.locator(".quick-input-widget input");
  await box.waitFor({ state: "visible", timeout: 30_000 });
  assert.equal(await box.inputValue(), COMMIT_PROMPT, "the subject box is prefilled with the proposed subject");
  await screenshot("tasks-view-commit-subject");
  await box.fill("Say what add() takes");
  await page.keyboard.press("Enter");
  await poll(() => git("log", "-1", "--format=%s"), (s) => s.trim() === "Say what add() takes", 30_000);
  assert.ok(git("show", "HEAD:calc.py").includes(ADD_DOC), "the commit holds the accepted change");
  assert.match(git("log", "-1", "--format=%B"), /\n\nAssisted-by: gdm \(openai\/scripted\)\n/);
  assert.equal(git("status", "--porcelain"), "", "saved and committed: nothing left over");
  await poll(() => row.innerText(), (t) => /committed [0-9a-f]{7}/.test(t), 30_000);
  await ui.lenses(page, "✓ Commit this task", 0, 30_000);
  await screenshot("tasks-view-committed");
});

step("gdm: MCP servers with none configured shows the empty-state item", async () => {
  await ui.runCommand(page, "gdm: MCP servers");
  await quickPickRow("No MCP servers configured");
  assert.match(await page.locator(".quick-input-widget").innerText(), /gdm\.mcpServers/);
  await screenshot("mcp-empty");
  await page.keyboard.press("Escape");
});

step("an MCP server added in settings.json is listed as running with its tools", async () => {
  await ui.runCommand(page, "Preferences: Open User Settings (JSON)");
  await page.locator(".part.editor .tab.active", { hasText: "settings.json" }).waitFor({ timeout: 15_000 });
  await ui.focusEditor(page);
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("End"); // after the opening brace
  const server = { fault: { command: env.python, args: [join(ROOT, "..", "fixtures", "mcp", "fault_server.py")] } };
  await page.keyboard.type(` "gdm.mcpServers": ${JSON.stringify(server)},`);
  await page.keyboard.press("Control+S");
  await page.locator(".part.editor .tab.active:not(.dirty)", { hasText: "settings.json" }).waitFor({ timeout: 10_000 });
  await ui.runCommand(page, "View: Close Editor");
  await poll(async () => {
    await ui.runCommand(page, "gdm: MCP servers");
    const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: /fault: running|No MCP servers/ }).first();
    await row.waitFor({ timeout: 60_000 });
    const found = (await row.innerText()).includes("fault: running");
    if (!found) {
      await page.keyboard.press("Escape"); // the configuration change had not reached the server yet
    }
    return found;
  }, (found) => found, 60_000);
  await quickPickRow("mcp__fault__echo");
  assert.match(await page.locator(".quick-input-widget").innerText(), /fault \(stdio, settings\)/);
  await screenshot("mcp-server-listed");
  await page.keyboard.press("Escape");
});
