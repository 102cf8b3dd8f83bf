"use strict";
// The command-related parts of package.json's `contributes`, from the server's command list.
// Shared by sync-commands.mjs (writes them) and the manifest unit test (checks them).

/** Commands the extension registers itself (see src/extension.ts EXTENSION_COMMANDS). */
const EXTENSION_COMMANDS = [
  { command: "gdm.reviewAll", title: "gdm: Review all changes", icon: "$(diff)" },
  { command: "gdm.review.accept", title: "gdm: Accept this patch", icon: "$(check)" },
  { command: "gdm.review.reject", title: "gdm: Reject this patch", icon: "$(close)" },
  { command: "gdm.showLog", title: "gdm: Show task log" },
  { command: "gdm.restartServer", title: "gdm: Restart server" },
];

const IN_DIFF = "resourceScheme == gdm-patch";

/** `{commands, menus, keybindings}` for package.json, given `python -m gdm.commands` output. */
function buildContributions(serverCommands) {
  return {
    commands: [...serverCommands.map(({ command, title }) => ({ command, title })), ...EXTENSION_COMMANDS],
    menus: {
      "editor/context": [{ command: "gdm.ask", group: "1_gdm@1", when: "editorTextFocus" }],
      "editor/title": [
        { command: "gdm.review.accept", group: "navigation@1", when: IN_DIFF },
        { command: "gdm.review.reject", group: "navigation@2", when: IN_DIFF },
      ],
      commandPalette: [
        { command: "gdm.review.accept", when: IN_DIFF },
        { command: "gdm.review.reject", when: IN_DIFF },
      ],
    },
    keybindings: [{ command: "gdm.ask", key: "ctrl+alt+g", mac: "cmd+alt+g", when: "editorTextFocus" }],
  };
}

module.exports = { EXTENSION_COMMANDS, buildContributions };
