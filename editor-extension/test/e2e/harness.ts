/**
 * The processes behind the end-to-end test: the scripted model, code-server (a real VS Code)
 * with the built .vsix installed, and a throwaway copy of the fixture workspace. Each process
 * runs in its own process group and is killed as a group (code-server's file watchers outlive it).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

export const ROOT = join(__dirname, "..", "..", "..");

export interface E2eEnv {
  python: string;
  codeServer: string;
  chromium: string;
  vsix: string;
  artifacts: string;
}

/** Where everything is; each can be overridden by an environment variable. */
export function e2eEnv(): E2eEnv {
  const venv = join(ROOT, "..", ".venv", "bin", "python");
  const tools = process.env.GDM_E2E_TOOLS || join(homedir(), ".cache", "gdm-vscode-e2e");
  return {
    // A relative path (with a slash) made absolute: it is written into VS Code's settings, where
    // it would be resolved against some other directory. A bare name stays a PATH lookup.
    python: absoluteIfPath(process.env.GDM_PYTHON) || (existsSync(venv) ? venv : "python3"),
    codeServer: process.env.CODE_SERVER || join(tools, "code-server-4.100.3", "node_modules", ".bin", "code-server"),
    chromium: process.env.CHROMIUM || "/usr/bin/chromium",
    vsix: process.env.GDM_VSIX || join(ROOT, "gdm.vsix"),
    artifacts: process.env.GDM_E2E_ARTIFACTS || join(ROOT, "test-artifacts"),
  };
}

function absoluteIfPath(p: string | undefined): string | undefined {
  return p && p.includes("/") ? resolve(p) : p;
}

/** A child process started in its own group. */
export class Proc {
  output = "";
  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
  }

  static start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
    return new Proc(name, spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env }));
  }

  /** Resolve with the first stdout line that matches. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${pattern} in ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const check = () => {
        const m = this.output.match(pattern);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      this.child.stdout?.on("data", check);
      this.child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}):\n${this.output}`));
      });
      check();
    });
  }

  /** Kill the whole process group. */
  stop(): void {
    if (this.child.pid && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, "SIGTERM");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") {
          throw err;
        }
      }
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** A temp dir for this run: the workspace copy, code-server's dirs and the gdm database. */
export function scratch(): { base: string; workspace: string; userData: string; extensions: string; xdg: string } {
  const base = mkdtempSync(join(tmpdir(), "gdm-vscode-e2e-"));
  const workspace = join(base, "workspace");
  cpSync(join(ROOT, "test", "fixtures", "workspace"), workspace, { recursive: true });
  const dirs = { base, workspace, userData: join(base, "user-data"), extensions: join(base, "extensions"), xdg: join(base, "xdg") };
  for (const d of [dirs.userData, dirs.extensions, dirs.xdg]) {
    mkdirSync(d, { recursive: true });
  }
  return dirs;
}

/** code-server's environment: its config, data and cache under the scratch dir. */
export function codeServerEnv(xdg: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    XDG_CONFIG_HOME: join(xdg, "config"),
    XDG_DATA_HOME: join(xdg, "data"),
    XDG_CACHE_HOME: join(xdg, "cache"),
  };
}

/** The newest modification time of the files a .vsix is packaged from (package.json, media/, out/src/). */
function newestPackagedInput(): number {
  let newest = statSync(join(ROOT, "package.json")).mtimeMs;
  for (const dir of ["media", join("out", "src")]) {
    const full = join(ROOT, dir);
    if (!existsSync(full)) continue;
    for (const entry of readdirSync(full, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? (entry as { path?: string }).path ?? full, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** The default gdm.vsix, packaged again when it is missing or older than what it is built from: a
 * stale one silently tests an older extension (seen: the views e2e failed on commands the old
 * package lacked). A vsix given by GDM_VSIX is used as it is. */
function freshVsix(env: E2eEnv): void {
  if (process.env.GDM_VSIX) return;
  if (existsSync(env.vsix) && statSync(env.vsix).mtimeMs >= newestPackagedInput()) return;
  console.log(`packaging ${env.vsix} (missing or older than out/src, media or package.json)`);
  execFileSync("npx", ["--no-install", "vsce", "package", "--allow-missing-repository", "--skip-license", "-o", env.vsix], {
    cwd: ROOT,
    stdio: "pipe",
  });
}

export function installVsix(env: E2eEnv, userData: string, extensions: string, xdg: string): void {
  freshVsix(env);
  execFileSync(env.codeServer, ["--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", env.vsix], {
    env: codeServerEnv(xdg),
    stdio: "pipe",
  });
}

export function writeSettings(userData: string, settings: Record<string, unknown>): void {
  mkdirSync(join(userData, "User"), { recursive: true });
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

export async function startCodeServer(env: E2eEnv, dirs: ReturnType<typeof scratch>): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = Proc.start("code-server", env.codeServer, [
    "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check",
    "--disable-workspace-trust", "--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions, dirs.workspace,
  ], codeServerEnv(dirs.xdg));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) {
        return { proc, url: `${url}/?folder=${encodeURIComponent(dirs.workspace)}` };
      }
    } catch {
      // not listening yet: poll again
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  proc.stop();
  throw new Error(`code-server did not answer /healthz in 30 s:\n${proc.output}`);
}

/** Flags that let Debian's chromium run headless here (shared/NOTES.md). */
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

/**
 * Numbered screenshots (`<prefix>-NN-<name>.png` in `dir`) and test steps that leave a
 * `FAILED-<prefix>-<step>.png` when they fail; `page` is read when a shot is taken.
 */
export function recorder(dir: string, prefix: string, page: () => Page | undefined) {
  let shot = 0;
  async function screenshot(name: string): Promise<void> {
    shot += 1;
    const file = join(dir, `${prefix ? `${prefix}-` : ""}${String(shot).padStart(2, "0")}-${name}.png`);
    await page()?.screenshot({ path: file });
    console.log(`screenshot: ${file}`);
  }
  function step(name: string, fn: () => Promise<void>): void {
    test(name, async () => {
      try {
        await fn();
      } catch (err) {
        await page()?.screenshot({ path: join(dir, `FAILED-${prefix ? `${prefix}-` : ""}${name.replace(/\W+/g, "-").slice(0, 60)}.png`) });
        throw err;
      }
    });
  }
  return { screenshot, step };
}

/** The user settings every e2e workbench starts with: no tips, trust prompts, updates or telemetry. */
export const QUIET_SETTINGS: Record<string, unknown> = {
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
  // VS Code opens its Comments panel the first time a file with comment threads is active (gdm's
  // insertion zones are threads); kept shut so that the editor keeps its height between runs
  "comments.openView": "never",
};

/** gdm's settings against the scripted model at `modelUrl`, with a store under the scratch dir. */
export function gdmSettings(env: E2eEnv, dirs: ReturnType<typeof scratch>, modelUrl: string): Record<string, unknown> {
  return {
    "gdm.pythonPath": env.python,
    "gdm.model": "openai/scripted",
    "gdm.apiBase": modelUrl,
    "gdm.prices": { "openai/scripted": { inputPerMTok: 3, outputPerMTok: 15 } },
    "gdm.databaseUrl": `sqlite:///${join(dirs.base, "gdm.db")}`,
  };
}

export interface Workbench {
  codeServer: Proc;
  browser: Browser;
  page: Page;
}

/** code-server started on the scratch dirs, and headless Chromium showing its workbench. */
export async function openWorkbench(env: E2eEnv, dirs: ReturnType<typeof scratch>): Promise<Workbench> {
  const cs = await startCodeServer(env, dirs);
  const browser = await chromium.launch({ executablePath: env.chromium, headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(cs.url);
  await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: 30_000 });
  return { codeServer: cs.proc, browser, page };
}

/** Stop what a test started (any part may be missing when `before` failed); keep the scratch dir
 * when GDM_E2E_KEEP=1. */
export async function closeWorkbench(wb: Partial<Workbench> | undefined, model: Proc | undefined,
                                     dirs: ReturnType<typeof scratch> | undefined): Promise<void> {
  await wb?.browser?.close();
  wb?.codeServer?.stop();
  model?.stop();
  if (process.env.GDM_E2E_KEEP !== "1" && dirs) {
    rmSync(dirs.base, { recursive: true, force: true });
  }
}
