#!/usr/bin/env node
// Writes the server's command ids and titles (`python -m gdm.commands`) into package.json,
// keeping the extension's own commands, menus and keybindings. The unit test
// test/unit/manifest.test.ts fails when package.json and the server disagree.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import contributions from "./contributions.js";

const { buildContributions } = contributions;

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const python = process.env.GDM_PYTHON || "python3";
const server = JSON.parse(execFileSync(python, ["-m", "gdm.commands"], { encoding: "utf8" }));
const path = join(root, "package.json");
const pkg = JSON.parse(readFileSync(path, "utf8"));
Object.assign(pkg.contributes, buildContributions(server));
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
console.log(`package.json: ${server.length} server commands synced from ${python} -m gdm.commands`);
