"""Engine events and patches as ACP session updates (pure functions, no I/O).

DESIGN.md's mapping: tool calls carry a `kind` (read / search / edit / delete / move / execute)
and `locations` (absolute paths, 1-based lines); a patch is a whole-file `diff`
`{path, oldText, newText}` (oldText null for a new file) with its risk tier and reasons in the
title and content; `usage_update` carries the context tokens, the window and the session's cost.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from acp import helpers, schema

from gdm.agent import events as ev
from gdm.patches.model import FilePatch, PatchKind

RESULT_CHARS = 2000  # of a tool result shown in the client (the model gets it all)
MAX_LOCATIONS = 20

KINDS: dict[str, str] = {
    "read_file": "read", "file_outline": "read", "code_map": "read",
    "list_files": "search", "search": "search", "find_symbol": "search", "find_references": "search",
    "edit_file": "edit", "write_file": "edit", "delete_file": "delete", "rename_file": "move",
    "run_command": "execute",
}
FILE_TOOLS = ("read_file", "edit_file", "write_file", "delete_file", "rename_file", "file_outline")
_HIT = re.compile(r"^([^\s:][^:\n]*):(\d+):", re.MULTILINE)

COMMANDS = (
    ("explain", "Explain the attached code or what you name (no edits)", "what to explain"),
    ("write-tests", "Write tests for the attached code in a new test file", "what to test"),
    ("fix", "Fix the problems you describe in the attached code", "the problem to fix"),
    ("commit", "Commit the changes you accepted in this session as one git commit (your other edits stay "
               "unstaged)", "a commit message (optional)"),
)


def tool_kind(name: str) -> str:
    """The ACP kind of a gdm tool (MCP tools and others: `other`)."""
    return KINDS.get(name, "other")


def _abs(root: Path, rel: str) -> str:
    return str(root / rel) if rel else str(root)


def _arg(args: Any, key: str) -> Any:
    return args.get(key) if isinstance(args, dict) else None


def title(name: str, args: Any) -> str:
    """A short human title for a tool call."""
    path, command, query = _arg(args, "path"), _arg(args, "command"), _arg(args, "query")
    if name == "run_command" and command:
        return f"Run `{command}`"
    if name == "rename_file" and path:
        return f"Move {path} → {_arg(args, 'new_path')}"
    if query:
        return f"{name} {query!r}" + (f" in {path}" if path else "")
    if path:
        return f"{name} {path}"
    return name


def locations(root: Path, name: str, args: Any) -> list[schema.ToolCallLocation]:
    """Where a tool call looks or writes: absolute paths, 1-based lines (files inside the root only)."""
    out = []
    for key in ("path", "new_path"):
        value = _arg(args, key)
        if isinstance(value, str) and value and not value.startswith(("/", "~")) and ".." not in value:
            line = _arg(args, "start_line") if key == "path" and name == "read_file" else None
            out.append(schema.ToolCallLocation(path=_abs(root, value.strip("/")),
                                               line=line if isinstance(line, int) and line >= 1 else None))
    return out


def start(root: Path, event: ev.ToolCall) -> schema.ToolCallStart:
    """`tool_call` for a call the model made (before it runs)."""
    raw = event.arguments if isinstance(event.arguments, dict) else {"arguments": event.arguments}
    return helpers.start_tool_call(event.call_id, title(event.name, event.arguments), kind=tool_kind(event.name),
                                   status="in_progress", locations=locations(root, event.name, event.arguments),
                                   raw_input=raw)


def finish(root: Path, event: ev.ToolResult) -> schema.ToolCallProgress:
    """`tool_call_update` with the call's outcome; search hits become locations."""
    text = event.result if len(event.result) <= RESULT_CHARS else event.result[:RESULT_CHARS] + "…"
    hits = None
    if event.ok and tool_kind(event.name) == "search":
        found = [schema.ToolCallLocation(path=_abs(root, m.group(1)), line=int(m.group(2)))
                 for m in _HIT.finditer(event.result)][:MAX_LOCATIONS]
        hits = found or None
    return helpers.update_tool_call(event.call_id, status="completed" if event.ok else "failed",
                                    content=[helpers.tool_content(helpers.text_block(text))], locations=hits)


def risk_line(patch: FilePatch) -> str:
    """`risk MEDIUM 0.45: reason; reason` (or "risk not scored")."""
    risk = patch.risk
    if risk is None:
        return "risk not scored"
    reasons = "; ".join(r.message for r in risk.reasons) or "no risk signals"
    return f"risk {risk.tier.value} {risk.score:.2f}: {reasons}"


def patch_title(patch: FilePatch, verb: str = "") -> str:
    """`Edit calc.py — risk LOW 0.12` (a verb such as "Accept?" or "Applied" in front)."""
    what = {PatchKind.CREATE: "Create", PatchKind.DELETE: "Delete", PatchKind.RENAME: "Move"}.get(patch.kind, "Edit")
    target = f"{patch.path} → {patch.new_path}" if patch.kind is PatchKind.RENAME else patch.path
    tier = f"risk {patch.risk.tier.value} {patch.risk.score:.2f}" if patch.risk else "risk not scored"
    return f"{verb + ' ' if verb else ''}{what} {target} — {tier}"


def first_line(patch: FilePatch) -> int | None:
    """1-based line of the patch's first pending hunk (in the text it was made on)."""
    pending = patch.pending_hunks()
    return pending[0].old_start + 1 if pending else None


def patch_content(root: Path, patch: FilePatch, old_text: str | None, new_text: str | None) -> list[Any]:
    """The patch as ACP content: a whole-file diff (none for a move) and its risk line."""
    risk = helpers.tool_content(helpers.text_block(f"{patch.id}: {risk_line(patch)}"))
    if patch.kind is PatchKind.RENAME:
        return [helpers.tool_content(helpers.text_block(f"move {patch.path} → {patch.new_path}")), risk]
    diff = helpers.tool_diff_content(_abs(root, patch.path), new_text or "",
                                     None if patch.kind is PatchKind.CREATE else old_text)
    return [diff, risk]


def patch_locations(root: Path, patch: FilePatch) -> list[schema.ToolCallLocation]:
    """The patch's file (both ends of a move), at its first changed line."""
    out = [schema.ToolCallLocation(path=_abs(root, patch.path), line=first_line(patch))]
    if patch.kind is PatchKind.RENAME and patch.new_path:
        out.append(schema.ToolCallLocation(path=_abs(root, patch.new_path)))
    return out


def patch_update(root: Path, call_id: str, patch: FilePatch, old_text: str | None,
                 new_text: str | None) -> schema.ToolCallProgress:
    """`tool_call_update` of the edit call that made the patch: its diff, risk and place."""
    return helpers.update_tool_call(call_id, title=patch_title(patch), kind=KINDS.get(
        {PatchKind.DELETE: "delete_file", PatchKind.RENAME: "rename_file"}.get(patch.kind, "edit_file")),
        content=patch_content(root, patch, old_text, new_text), locations=patch_locations(root, patch))


def usage(tokens: int, window: int, session_usd: float) -> schema.UsageUpdate:
    """`usage_update`: tokens in the context now, the window, the session's total cost (USD)."""
    return schema.UsageUpdate(session_update="usage_update", used=max(0, tokens), size=max(0, window),
                              cost=schema.Cost(amount=round(session_usd, 6), currency="USD"))


def commands() -> schema.AvailableCommandsUpdate:
    """The ready-made actions as slash commands."""
    return schema.AvailableCommandsUpdate(session_update="available_commands_update", available_commands=[
        schema.AvailableCommand(name=name, description=text,
                                input=schema.AvailableCommandInput(root=schema.UnstructuredCommandInput(hint=hint)))
        for name, text, hint in COMMANDS])


def modes(current: str, available: dict[str, str]) -> schema.SessionModeState:
    """The session's modes (`review`, `auto-low`)."""
    return schema.SessionModeState(current_mode_id=current, available_modes=[
        schema.SessionMode(id=mode, name=mode, description=text) for mode, text in available.items()])


def message(text: str) -> schema.AgentMessageChunk:
    """An `agent_message_chunk` of text."""
    return helpers.update_agent_message_text(text)


def thought(text: str) -> schema.AgentThoughtChunk:
    """An `agent_thought_chunk` of text."""
    return helpers.update_agent_thought_text(text)


def note(text: str) -> schema.AgentThoughtChunk:
    """A whole thought (a turn starting, a check's result) as an `agent_thought_chunk` ending its
    paragraph: clients join consecutive chunks into one block, which ran two notes together
    ("…pending patches: trueTests pass…", seen in Toad)."""
    return thought(text if text.endswith("\n\n") else text.rstrip("\n") + "\n\n")
