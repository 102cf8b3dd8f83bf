/**
 * package.json must agree with the server: the command ids and titles of `python -m gdm.commands`
 * and the settings of gdm.config (names and defaults). Needs a Python with gdm; it is skipped
 * without one unless GDM_REQUIRE_SERVER=1 (CI sets it), where that is a failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EXTENSION_COMMANDS } from "../../src/logic/extensionCommands";

const root = join(__dirname, "..", "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const contributions = require(join(root, "scripts", "contributions.js"));

function python(): string {
  const venv = join(root, "..", ".venv", "bin", "python");
  return process.env.GDM_PYTHON || (existsSync(venv) ? venv : "python3");
}

function runPython(args: string[]): string | undefined {
  try {
    return execFileSync(python(), args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    if (process.env.GDM_REQUIRE_SERVER === "1") {
      throw err;
    }
    return undefined;
  }
}

const SETTINGS_SCRIPT = `
import json
from gdm.config import Settings, WIRE_KEYS
d = Settings()
out = {}
for name, f in Settings.model_fields.items():
    v = getattr(d, name)
    out[f.alias or name] = v if not isinstance(v, dict) else {}
print(json.dumps({"keys": sorted(WIRE_KEYS), "defaults": out}))
`;

test("package.json's commands, menus and keybindings are the server's commands plus the extension's", (t) => {
  const out = runPython(["-m", "gdm.commands"]);
  if (out === undefined) {
    t.skip(`no gdm in ${python()}`);
    return;
  }
  const server = JSON.parse(out) as { command: string; title: string }[];
  const want = contributions.buildContributions(server);
  assert.deepEqual(pkg.contributes.commands, want.commands, "run `npm run sync:commands`");
  assert.deepEqual(pkg.contributes.menus, want.menus);
  assert.deepEqual(pkg.contributes.keybindings, want.keybindings);
  const serverIds = new Set(server.map((c) => c.command));
  const own = pkg.contributes.commands.map((c: { command: string }) => c.command).filter((id: string) => !serverIds.has(id));
  assert.deepEqual(own, [...EXTENSION_COMMANDS], "src/logic/extensionCommands.ts and scripts/contributions.js disagree");
});

test("package.json's settings are exactly the server's, with the same defaults, plus pythonPath and trace", (t) => {
  const out = runPython(["-c", SETTINGS_SCRIPT]);
  if (out === undefined) {
    t.skip(`no gdm in ${python()}`);
    return;
  }
  const { keys, defaults } = JSON.parse(out) as { keys: string[]; defaults: Record<string, unknown> };
  const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;
  const ours = Object.keys(props).map((k) => k.replace(/^gdm\./, ""));
  assert.deepEqual(ours.filter((k) => k !== "pythonPath" && k !== "trace.server").sort(), keys);
  for (const key of keys) {
    // An unset string is "" in package.json (so the Settings UI shows a text box) and None in
    // the server, which treats "" as unset.
    const want = defaults[key] === null ? "" : defaults[key];
    assert.deepEqual(props[`gdm.${key}`].default, want, `default of gdm.${key}`);
  }
  assert.equal(props["gdm.pythonPath"].default, "python3");
});
