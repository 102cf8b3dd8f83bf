/**
 * The processes behind the end-to-end test: the scripted model, code-server (a real VS Code)
 * with the built .vsix installed, and a throwaway copy of the fixture workspace. Each process
 * runs in its own process group and is killed as a group (code-server's file watchers outlive it).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

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

export function installVsix(env: E2eEnv, userData: string, extensions: string, xdg: string): void {
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
