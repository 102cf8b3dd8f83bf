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
  { command: "gdm.tasks.refresh", title: "gdm: Refresh tasks", icon: "$(refresh)" },
  { command: "gdm.tasks.review", title: "Review", icon: "$(diff)" },
  { command: "gdm.tasks.acceptAll", title: "Accept all", icon: "$(check-all)" },
  { command: "gdm.tasks.undo", title: "Undo", icon: "$(discard)" },
  { command: "gdm.tasks.commit", title: "Commit this task", icon: "$(git-commit)" },
  { command: "gdm.completions.toggle", title: "gdm: Toggle inline completions" },
];

const IN_DIFF = "resourceScheme == gdm-patch";
const IN_TASKS = "view == gdm.tasks";

/** The Tasks view's actions: inline and in the context menu, by what a node offers. */
function taskItemMenus() {
  const item = (command, flag, group) => ({ command, when: `${IN_TASKS} && viewItem =~ /${flag}/`, group });
  const actions = [["gdm.tasks.review", "reviewable", 1], ["gdm.tasks.acceptAll", "gdmTask reviewable", 2],
    ["gdm.tasks.undo", "undoable", 3], ["gdm.tasks.commit", "committable", 4]];
  return [...actions.map(([c, f, n]) => item(c, f, `inline@${n}`)), ...actions.map(([c, f, n]) => item(c, f, `1_gdm@${n}`))];
}

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
        { command: "gdm.tasks.review", when: "false" },
        { command: "gdm.tasks.acceptAll", when: "false" },
        { command: "gdm.tasks.undo", when: "false" },
        { command: "gdm.tasks.commit", when: "false" },
        { command: "gdm.completion.accepted", when: "false" },
      ],
      "view/title": [{ command: "gdm.tasks.refresh", when: IN_TASKS, group: "navigation" }],
      "view/item/context": taskItemMenus(),
    },
    keybindings: [{ command: "gdm.ask", key: "ctrl+alt+g", mac: "cmd+alt+g", when: "editorTextFocus" }],
  };
}

module.exports = { EXTENSION_COMMANDS, buildContributions };
