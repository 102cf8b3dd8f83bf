/** Small helpers that drive VS Code's workbench in the page the way a person would. */
import type { Locator, Page } from "playwright-core";

const EDITOR = ".part.editor .editor-instance .monaco-editor";

/** Poll `read` until `ok` holds; the last value otherwise throws after `timeoutMs`. */
export async function poll<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
    last = await read();
  }
  return last;
}

export function statusItem(page: Page): Locator {
  return page.locator(".part.statusbar .statusbar-item", { hasText: /gdm (today|task|…)|gdm: server/ }).first();
}

/** Wait until the gdm status-bar item's text matches. */
export async function waitForStatus(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  return poll(async () => ((await statusItem(page).count()) ? (await statusItem(page).innerText()).trim() : ""), (t) => pattern.test(t), timeoutMs);
}

/** Run a command from the palette by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press("Enter");
}

export async function openFile(page: Page, name: string): Promise<void> {
  const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  const active = page.locator(".part.editor .tab.active", { has: page.locator(".label-name", { hasText: exact }) });
  // Quick open fills its list in steps (recent editors first, such as "gdm code map (calc.py).md",
  // then the file search) and recycles its row elements, and a key pressed while a webview had
  // focus can be lost: pick only once the first row is that very file, and try again if the tab
  // did not come up (the product is not at stake here, the picker's timing is).
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press("Control+P");
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 10_000 });
      await input.fill(name);
      // (an earlier quick pick's list can linger, hidden, in the same widget)
      const first = page.locator('.quick-input-widget .monaco-list-row[data-index="0"] .label-name').filter({ visible: true });
      await poll(async () => ((await first.count()) ? (await first.innerText()).trim() : ""), (t) => exact.test(t), 10_000);
      await input.press("Enter");
      await active.waitFor({ timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt === 3) {
        throw err;
      }
      console.log(`openFile ${name}: attempt ${attempt} did not open it (${String(err).split("\n")[0]}); again`);
      await page.keyboard.press("Escape");
    }
  }
  await page.locator(`${EDITOR} .view-lines`).first().waitFor({ timeout: 10_000 });
}

/**
 * Focus the active editor and show its top. Clicks by coordinates inside the editor's frame:
 * clicking `.view-lines` lets playwright scroll the page itself to reach its corner, which
 * shifts the whole workbench.
 */
export async function focusEditor(page: Page): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  const frame = page.locator(`${EDITOR} .overflow-guard`).first();
  await frame.waitFor({ timeout: 10_000 });
  const box = await frame.boundingBox();
  if (!box) {
    throw new Error("the editor has no box");
  }
  await page.mouse.click(box.x + box.width / 2, box.y + box.height - 30); // above the horizontal scrollbar
  await page.keyboard.press("Control+Home");
}

/** Select whole lines `from`..`to` (1-based) with the keyboard. */
export async function selectLines(page: Page, from: number, to: number): Promise<void> {
  await focusEditor(page);
  await page.keyboard.press("Control+G");
  await page.keyboard.type(String(from));
  await page.keyboard.press("Enter");
  await page.keyboard.press("Home");
  await page.keyboard.press("Home"); // the first Home stops at the indentation
  for (let i = from; i <= to; i++) {
    await page.keyboard.press("Shift+ArrowDown");
  }
}

/** The visible text of the active editor. */
export async function editorText(page: Page): Promise<string> {
  return (await page.locator(`${EDITOR} .view-lines`).first().innerText()).replace(/\u00a0/g, " ");
}

/** Code lenses with this text, top to bottom, once there are exactly `count` of them. */
export async function lenses(page: Page, text: string, count: number, timeoutMs: number): Promise<Locator[]> {
  const all = page.locator(`${EDITOR} .codelens-decoration a`, { hasText: text });
  await poll(() => all.count(), (n) => n === count, timeoutMs);
  const items = await all.all();
  const withY = await Promise.all(items.map(async (l) => ({ l, y: (await l.boundingBox())?.y ?? 0 })));
  return withY.sort((a, b) => a.y - b.y).map((x) => x.l);
}

/** Text that decorations inject into the editor (CSS ::before/::after content and injected spans). */
export async function injectedTexts(page: Page): Promise<string[]> {
  return page.evaluate((sel) => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll(`${sel} .view-lines span`))) {
      for (const pseudo of ["::before", "::after"]) {
        const c = getComputedStyle(el, pseudo).content;
        if (c && c !== "none" && c !== "normal" && c !== '""') {
          out.push(c.replace(/^"|"$/g, "").replace(/\\"/g, '"'));
        }
      }
      if (/\bced-/.test(el.className) && el.textContent) {
        out.push(el.textContent.replace(/\u00a0/g, " "));
      }
    }
    return out;
  }, EDITOR);
}

/** A zone gdm opened below a pending hunk, as a person sees it: its heading, the lines it shows
 * (each as drawn: one text line per line box) and whether they all sit inside the editor's view. */
export interface InsertionZone { label: string; lines: string[]; lineHeight: number; blockHeight: number; inView: boolean; }

/** The insertion zones of the active editor (comment-thread zones below pending hunks), top to bottom. */
export async function insertionZones(page: Page): Promise<InsertionZone[]> {
  return page.evaluate((sel) => {
    const editor = document.querySelector(`${sel} .overflow-guard`)?.getBoundingClientRect();
    return Array.from(document.querySelectorAll(`${sel} .review-widget`))
      .map((zone) => {
        const block = zone.querySelector(".comment-body .monaco-tokenized-source") as HTMLElement | null;
        const r = (block ?? zone).getBoundingClientRect();
        const span = block?.closest("span[style]") as HTMLElement | null;
        return {
          top: r.top,
          label: (zone.querySelector(".review-title")?.textContent ?? "").trim(),
          lines: block ? block.innerText.replace(/\u00a0/g, " ").split("\n") : [],
          lineHeight: span ? parseFloat(getComputedStyle(span).lineHeight) : 0,
          blockHeight: r.height,
          inView: !!editor && r.height > 0 && r.top >= editor.top && r.bottom <= editor.bottom,
        };
      })
      .sort((a, b) => a.top - b.top)
      .map(({ top: _top, ...zone }) => zone);
  }, EDITOR);
}

/** Removed lines drawn struck through in the active editor (texts of the struck spans). */
export async function struckTexts(page: Page): Promise<string[]> {
  return page.evaluate((sel) => Array.from(document.querySelectorAll(`${sel} .view-lines span`))
    .filter((el) => el.children.length === 0 && getComputedStyle(el).textDecorationLine.includes("line-through"))
    .map((el) => (el.textContent ?? "").replace(/\u00a0/g, " ")), EDITOR);
}

/** Whole-line decorations (our removed-line highlight) in the active editor. */
export async function removedLineCount(page: Page): Promise<number> {
  return page.locator(`${EDITOR} .view-overlays div[class*="ced-"]`).count();
}

/** Hover the risk badge of the first hunk. */
export async function hoverBadge(page: Page): Promise<void> {
  const box = await page.evaluate((sel) => {
    for (const el of Array.from(document.querySelectorAll(`${sel} .view-lines span`))) {
      const after = getComputedStyle(el, "::after").content;
      if (after.includes("gdm risk") || (el.textContent ?? "").includes("gdm risk")) {
        const r = el.getBoundingClientRect();
        return { x: r.right - 20, y: r.top + r.height / 2 };
      }
    }
    return undefined;
  }, EDITOR);
  if (!box) {
    throw new Error("no risk badge to hover");
  }
  await page.mouse.move(box.x, box.y);
  await page.locator(".monaco-hover", { hasText: "gdm risk" }).first().waitFor({ state: "visible", timeout: 10_000 });
}

/** Wait until the panel (output channel) shows text matching `pattern`; returns the panel text. */
export async function waitForPanelText(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  const view = page.locator(".part.panel .monaco-editor .view-lines").first();
  await view.waitFor({ timeout: timeoutMs });
  return poll(async () => (await view.innerText()).replace(/\u00a0/g, " "), (t) => pattern.test(t), timeoutMs);
}

/** The Settings editor showing only the setting `id`. */
async function findSetting(page: Page, id: string): Promise<void> {
  await runCommand(page, "Preferences: Open Settings (UI)");
  const search = page.locator(".settings-editor .settings-header .suggest-input-container");
  await search.waitFor({ timeout: 10_000 });
  await search.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(`@id:${id}`);
}

/** Change a setting through the Settings editor, as a person would, and close it again. */
export async function setSetting(page: Page, id: string, value: string): Promise<void> {
  await findSetting(page, id);
  const input = page.locator(`.settings-editor input[aria-label="${id}"]`);
  await input.waitFor({ timeout: 10_000 });
  await input.fill(value);
  await page.keyboard.press("Tab");
  await poll(() => input.inputValue(), (v) => v === value, 5_000);
  await page.waitForTimeout(800); // the Settings editor writes text settings after a short debounce
  await runCommand(page, "View: Close Editor");
}

/** Tick or untick a boolean setting in the Settings editor, as a person would, and close it again. */
export async function setCheckbox(page: Page, id: string, on: boolean): Promise<void> {
  await findSetting(page, id);
  const box = page.locator(".settings-editor .setting-item-bool .setting-value-checkbox").first(); // the one setting found
  await box.waitFor({ timeout: 10_000 });
  if (((await box.getAttribute("aria-checked")) === "true") !== on) {
    await box.click();
  }
  await poll(() => box.getAttribute("aria-checked"), (v) => v === String(on), 5_000);
  await page.waitForTimeout(800); // the Settings editor writes settings after a short debounce
  await runCommand(page, "View: Close Editor");
}
