"""Headless runs of the engine: print a task's events, patches and cost; apply to disk on request.

Used by `gdm ask` and `gdm demo`; the same Session the language server drives.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from gdm.agent import events as ev
from gdm.agent.session import Session, TaskSpec, new_id
from gdm.config import Settings
from gdm.context.workspace import NoBuffers, PathRefused
from gdm.patches.apply import apply_hunks
from gdm.patches.model import FilePatch, HunkStatus, PatchKind, PatchStatus
from gdm.patches.risk import Tier
from gdm.store import open_store
from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest, Approver

EXIT = {"done": 0, "error": 1, "cancelled": 130, "budget": 3}


@dataclass
class Printer:
    """Prints engine events for a terminal."""

    out: TextIO
    color: bool

    def _c(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def event(self, event: ev.Event, session: Session) -> None:
        match event:
            case ev.Thinking(text=text):
                self.out.write(self._c("2", f"· {text}") + "\n")
            case ev.ToolCall(name=name, arguments=args):
                shown = ", ".join(f"{k}={_short(v)}" for k, v in args.items()) if isinstance(args, dict) else args
                self.out.write(self._c("36", f"→ {name}({shown})") + "\n")
            case ev.ToolResult(ok=ok, result=result):
                first = result.strip().splitlines()[0] if result.strip() else ""
                mark = self._c("32", "✓") if ok else self._c("31", "✗")
                self.out.write(f"  {mark} {_short(first, 100)}\n")
            case ev.Response(text=text, delta=False):
                self.out.write(self._c("1", "gdm: ") + text + "\n")
            case ev.Error(message=message):
                self.out.write(self._c("31", f"error: {message}") + "\n")
            case ev.PatchProposed(patch_id=pid):
                patch = session.patches.get(pid)
                if patch is not None:
                    self.out.write(self._c("2", f"  (pending patch {pid} on {patch.path})") + "\n")
            case ev.CostRecorded(model=model, tokens_in=tin, tokens_out=tout, usd=usd):
                price = f"${usd:.6f}" if usd is not None else "price unknown"
                self.out.write(self._c("2", f"  [{model}: {tin} in / {tout} out, {price}]") + "\n")
        self.out.flush()

    def patch(self, patch: FilePatch) -> None:
        risk = patch.risk
        tier = f"{risk.tier.value} {risk.score:.2f}" if risk else "not scored"
        self.out.write("\n" + self._c("1", f"Patch {patch.id} — {patch.path} — risk {tier}") + "\n")
        for reason in risk.reasons if risk else []:
            self.out.write(f"  · {reason.message} (+{reason.weight:.2f})\n")
        for line in patch.diff().splitlines():
            code = "32" if line.startswith("+") else "31" if line.startswith("-") else "36" if line.startswith("@") else ""
            self.out.write((self._c(code, line) if code else line) + "\n")

    def cost(self, totals: dict) -> None:
        known = "" if totals.get("priceKnown", True) else " (some calls had no known price)"
        self.out.write("\n" + self._c("1", "Cost") + f": task ${totals['taskUsd']:.6f} · session "
                       f"${totals['sessionUsd']:.6f} · today ${totals['dayUsd']:.6f} of ${totals['dayBudgetUsd']:.2f}"
                       f" · {totals['tokensIn']} tokens in, {totals['tokensOut']} out{known}\n")


def _short(value: object, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_range(text: str | None) -> tuple[int | None, int | None]:
    """`L1:L2` (1-based, inclusive) → 0-based (start, end)."""
    if not text:
        return None, None
    first, _, last = text.partition(":")
    try:
        start, end = int(first), int(last or first)
    except ValueError as exc:
        raise SystemExit(f"gdm: --range must be L1:L2 (1-based line numbers), got {text!r}") from exc
    if start < 1 or end < start:
        raise SystemExit(f"gdm: --range {text!r} is not a valid line range")
    return start - 1, end - 1


def apply_to_disk(session: Session, patch: FilePatch, out: TextIO) -> bool:
    """Headless accept: write the patch to disk (atomically); CRITICAL risk is never auto-applied."""
    if patch.risk is not None and patch.risk.tier is Tier.CRITICAL:
        out.write(f"not applying {patch.path}: CRITICAL risk needs a person's review in an editor\n")
        return False
    if patch.status not in (PatchStatus.PENDING, PatchStatus.PARTIAL):
        return False
    if patch.kind in (PatchKind.DELETE, PatchKind.RENAME):
        return _file_operation(session, patch, out)
    current = session.view.current(patch.path)
    result = apply_hunks(patch, current.text if current else "", None)
    for conflict in result.conflicts:
        out.write(f"conflict in {patch.path} hunk {conflict.hunk}: {conflict.reason}\n")
    if not result.applied:
        return False
    target = session.view.abs(patch.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.gdm-tmp")
    tmp.write_bytes(result.text.encode("utf-8"))
    os.replace(tmp, target)
    session.patches.set_hunks(patch, result.applied, HunkStatus.ACCEPTED)
    out.write(f"applied {patch.path} ({len(result.applied)} hunk(s))\n")
    return True


def _file_operation(session: Session, patch: FilePatch, out: TextIO) -> bool:
    """Headless accept of a deletion (only of the text reviewed) or a move (never over a file)."""
    source = session.view.abs(patch.path)
    current = session.view.current(patch.path)
    if current is None:
        out.write(f"not changing {patch.path}: it no longer exists\n")
        return False
    if patch.kind is PatchKind.DELETE:
        if current.text != patch.base_text:
            out.write(f"not deleting {patch.path}: it changed since the deletion was proposed\n")
            return False
        source.unlink()
        session.patches.set_hunks(patch, [h.index for h in patch.pending_hunks()], HunkStatus.ACCEPTED)
        out.write(f"deleted {patch.path}\n")
        return True
    new = patch.new_path or patch.path
    target = session.view.abs(new)
    if target.exists():
        out.write(f"not moving {patch.path}: {new} exists\n")
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, target)
    session.patches.decide(patch, HunkStatus.ACCEPTED)
    session.patches.moved(patch.path, new)
    out.write(f"moved {patch.path} to {new}\n")
    return True


def terminal_approver(stdin: TextIO, out: TextIO) -> Approver:
    """Asks the user on the terminal; denies when stdin is not a terminal (nobody is there to ask)."""

    async def ask(request: ApprovalRequest) -> str:
        if not stdin.isatty():
            knob = "GDM_MCP_POLICY=allow calls MCP tools" if request.kind == "mcp" else "GDM_SHELL=allow runs commands"
            out.write(f"gdm: denied `{request.command}`: stdin is not a terminal to ask on "
                      f"({knob} without asking)\n")
            return DENY
        if request.kind == "mcp":
            out.write(f"\ngdm wants to call the tool {request.server_tool!r} of the MCP server {request.server!r} "
                      f"with the arguments:\n{request.command}\n[o] allow once  [a] always allow this tool  [N] deny: ")
        else:
            out.write(f"\ngdm wants to run:\n  {request.command}\nin {request.cwd}\n"
                      f"[o] allow once  [a] always allow this command  [N] deny: ")
        out.flush()
        answer = (await asyncio.to_thread(stdin.readline)).strip().lower()
        return {"o": ALLOW_ONCE, "y": ALLOW_ONCE, "a": ALWAYS_ALLOW}.get(answer[:1], DENY)

    return ask


async def run_ask(settings: Settings, workspace: Path, prompt: str, file: str | None, line_range: str | None,
                  apply: bool, out: TextIO, stdin: TextIO | None = None, allow_workspace_mcp: bool = False) -> int:
    """Run one task headless and print it; returns the exit code."""
    store = open_store(settings.database_url)
    session = Session(root=workspace, settings=settings, store=store, buffers=NoBuffers())
    # Headless, a workspace-defined MCP server starts only with the explicit flag, never by a prompt.
    session.mcp.allow_workspace = allow_workspace_mcp
    session.mcp.report = lambda message: out.write(message + "\n")
    rel = None
    if file:
        try:
            rel = session.view.rel(os.path.relpath(Path(file).resolve(), session.view.root)
                                   if os.path.isabs(file) else file)
        except PathRefused as exc:
            out.write(f"gdm: {exc}\n")
            return 2
    start, end = parse_range(line_range)
    printer = Printer(out, out.isatty())
    task_id = new_id("t")
    status = "error"
    approver = terminal_approver(stdin or sys.stdin, out)
    async for event in session.run_task(task_id, TaskSpec(prompt, rel, start, end), approver=approver):
        printer.event(event, session)
        if isinstance(event, ev.Done):
            status = event.status
    # Moves last: each file's edits land where it is, then it moves.
    for patch in sorted(session.patches.for_task(task_id), key=lambda p: p.kind is PatchKind.RENAME):
        printer.patch(patch)
        if apply:
            apply_to_disk(session, patch, out)
    printer.cost(session.totals(task_id))
    session.model_loop.close()
    await session.mcp.aclose()
    store.close()
    return EXIT.get(status, 1)



def copy_workspace(source: Path) -> Path:
    """A fresh temporary copy of a fixture workspace."""
    target = Path(tempfile.mkdtemp(prefix="gdm-demo-")) / source.name
    shutil.copytree(source, target)
    return target
