/**
 * Inline completions end to end in a real VS Code (code-server in headless Chromium) against the
 * scripted model's `/v1/completions` (fill in the middle, litellm's real HTTP path): typing shows
 * gdm's ghost text, Tab accepts it, "Accept Word" (Ctrl+Right) takes one word of the next, the store
 * counts both (`gdm usage --by completions`), and the status-bar toggle turns completions off.
 * Each step leaves a screenshot (`completions-NN-*.png`).
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  QUIET_SETTINGS, ROOT, Proc, type Workbench, closeWorkbench, e2eEnv, gdmSettings, installVsix, openWorkbench, recorder,
  scratch, writeSettings,
} from "./harness";
import * as ui from "./workbench";
import { poll } from "./workbench";

const env = e2eEnv();
let dirs: ReturnType<typeof scratch>;
let model: Proc;
let workbench: Workbench | undefined;
let page: Page;
const { screenshot, step } = recorder(env.artifacts, "completions", () => page);
const GHOST = ".part.editor .monaco-editor .ghost-text-decoration, .part.editor .monaco-editor .ghost-text";

async function ghostText(): Promise<string> {
  const parts = await page.locator(GHOST).allInnerTexts();
  return parts.join("").replace(/\u00a0/g, " ");
}

/** The editor's visible lines, top to bottom, without the ghost text shown in them. */
async function typedLines(): Promise<string[]> {
  const lines = await page.evaluate(() => {
    const rows = Array.from(document.querySelectorAll(".part.editor .editor-instance .monaco-editor .view-lines .view-line"));
    return rows.map((row) => {
      const copy = row.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('[class*="ghost-text"]').forEach((el) => el.remove());
      return { top: parseFloat((row as HTMLElement).style.top) || 0, text: copy.textContent ?? "" };
    }).sort((a, b) => a.top - b.top).map((r) => r.text);
  });
  return lines.map((l) => l.replace(/\u00a0/g, " "));
}

/** The typed line after the one that starts with `head` (undefined while there is none). */
async function lineAfter(head: string): Promise<string | undefined> {
  const lines = await typedLines();
  const at = lines.findIndex((l) => l.startsWith(head));
  return at >= 0 ? lines[at + 1] : undefined;
}

function usage(): Record<string, number>[] {
  const out = execFileSync(env.python, ["-m", "gdm.cli", "usage", "--by", "completions", "--format", "json",
    "--database-url", `sqlite:///${join(dirs.base, "gdm.db")}`], { encoding: "utf8" });
  return JSON.parse(out) as Record<string, number>[];
}

before(async () => {
  mkdirSync(env.artifacts, { recursive: true });
  dirs = scratch();
  model = Proc.start("scripted model", env.python, ["-m", "gdm.scripted", join(ROOT, "test", "fixtures", "completions-vscode.json")]);
  const modelUrl = (await model.waitFor(/http:\/\/127\.0\.0\.1:\d+\/v1/, 20_000))[0];
  installVsix(env, dirs.userData, dirs.extensions, dirs.xdg);
  writeSettings(dirs.userData, { ...QUIET_SETTINGS, ...gdmSettings(env, dirs, modelUrl), "editor.inlineSuggest.enabled": true });
  workbench = await openWorkbench(env, dirs);
  page = workbench.page;
});

after(async () => {
  await closeWorkbench(workbench, model, dirs);
});

step("the status bar has the completions toggle, on", async () => {
  await ui.waitForStatus(page, /gdm today/, 30_000);
  const toggle = page.locator(".part.statusbar .statusbar-item", { has: page.locator(".codicon-sparkle") });
  await toggle.waitFor({ timeout: 10_000 });
});

step("typing shows gdm's ghost text", async () => {
  await ui.openFile(page, "calc.py");
  await ui.focusEditor(page);
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.keyboard.type("def prod", { delay: 60 });
  // The first completion of a server waits for litellm's import (8-12 s here).
  const ghost = await poll(ghostText, (t) => t.includes("uct(values: list[float]) -> float:"), 60_000);
  assert.match(ghost, /uct\(values: list\[float\]\) -> float:/);
  await screenshot("ghost-text");
});

step("Tab accepts the suggestion, and the store counts it", async () => {
  await page.keyboard.press("Tab");
  const lines = await poll(typedLines, (ls) => ls.includes("def product(values: list[float]) -> float:"), 10_000);
  assert.ok(lines.includes("def product(values: list[float]) -> float:"), JSON.stringify(lines));
  await screenshot("accepted");
  const rows = await poll(async () => usage(), (r) => r.length === 1 && r[0].accepted >= 1, 15_000);
  assert.ok(rows[0].calls >= 1 && rows[0].shown >= 1 && rows[0].acceptedLines >= 1, JSON.stringify(rows));
});

step("Accept Word takes one word of the next suggestion", async () => {
  await page.keyboard.press("Enter"); // VS Code indents the body
  await poll(ghostText, (t) => t.includes('"""Return the product of values."""'), 30_000);
  await screenshot("next-ghost-text");
  await page.keyboard.press("Control+ArrowRight"); // editor.action.inlineSuggest.acceptNextWord
  // VS Code's next word of `"""Return the product…` is `"""`: taken, the rest still a suggestion.
  const full = '    """Return the product of values."""';
  const taken = await poll(() => lineAfter("def product("), (l) => l !== undefined && l.trim().length > 0, 10_000);
  assert.ok(taken !== undefined && full.startsWith(taken) && taken.length < full.length, `took ${JSON.stringify(taken)}`);
  await screenshot("accepted-a-word");
  await poll(async () => usage(), (r) => r.length === 1 && r[0].acceptedPartly >= 1, 20_000);
});

step("the toggle turns completions off", async () => {
  const toggle = page.locator(".part.statusbar .statusbar-item", { has: page.locator(".codicon-sparkle") });
  await toggle.click();
  const file = join(dirs.userData, "User", "settings.json");
  await poll(() => JSON.parse(readFileSync(file, "utf8"))["gdm.completions"], (v) => v === "off", 10_000);
  await page.locator(".part.statusbar .statusbar-item", { has: page.locator(".codicon-circle-slash") }).waitFor({ timeout: 10_000 });
  await screenshot("toggled-off");
});
