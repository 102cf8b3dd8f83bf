"""The one list of gdm's command ids and titles.

Server capabilities (`executeCommandProvider`), command dispatch and the VS Code
extension's `package.json` all read from here, so the ids cannot drift
(`python -m gdm.commands` prints them as JSON for the extension's build and tests).
"""

from __future__ import annotations

import enum
import json


class Command(enum.Enum):
    """A command the server executes through `workspace/executeCommand`."""

    ASK = ("gdm.ask", "Ask gdm…")
    CANCEL = ("gdm.cancel", "gdm: Cancel task")
    PATCH_ACCEPT = ("gdm.patch.accept", "gdm: Accept change")
    PATCH_REJECT = ("gdm.patch.reject", "gdm: Reject change")
    PATCH_LIST = ("gdm.patch.list", "gdm: List pending changes")
    PATCH_SHOW_RISK = ("gdm.patch.showRisk", "gdm: Show risk of change")
    TASK_ACCEPT = ("gdm.task.accept", "gdm: Accept all changes of a task")
    COST = ("gdm.cost", "gdm: Show cost")
    TASK_UNDO = ("gdm.task.undo", "gdm: Undo a task")
    TASK_LIST = ("gdm.task.list", "gdm: List tasks")
    CONVERSATION_LIST = ("gdm.conversation.list", "gdm: List conversations")
    CONVERSATION_GET = ("gdm.conversation.get", "gdm: Show a conversation")
    MAP = ("gdm.map", "gdm: Show code map")
    MCP_LIST = ("gdm.mcp.list", "gdm: MCP servers")
    USAGE = ("gdm.usage", "gdm: Show usage")
    COMPLETION_ACCEPTED = ("gdm.completion.accepted", "gdm: Count an accepted inline completion")

    @property
    def identifier(self) -> str:
        """The wire id, e.g. `gdm.patch.accept`."""
        return self.value[0]

    @property
    def title(self) -> str:
        """The human title shown in menus and the command palette."""
        return self.value[1]

    @classmethod
    def all_ids(cls) -> list[str]:
        """Every command id, in declaration order."""
        return [c.identifier for c in cls]

    @classmethod
    def from_id(cls, identifier: str) -> "Command":
        """The command with this wire id; KeyError if unknown."""
        for c in cls:
            if c.identifier == identifier:
                return c
        raise KeyError(identifier)


def as_json() -> str:
    """The commands as `[{"command": id, "title": title}]`, for the extension build."""
    return json.dumps([{"command": c.identifier, "title": c.title} for c in Command], indent=2)


if __name__ == "__main__":
    print(as_json())
