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
from gdm.agent.conversation import FollowUpRefused
from gdm.agent.factory import open_session
from gdm.agent.session import Session, TaskSpec, new_id
from gdm.config import Settings
from gdm.context.workspace import NoBuffers, PathRefused
from gdm.patches.model import FilePatch, PatchKind, PatchStatus
from gdm.patches.risk import Tier
from gdm.review.appliers import DiskApplier
from gdm.review.commit import CommitRefused, CommitRequest, Committer, short
from gdm.review.history import CommittedTask, UndoRefused, undo_task
from gdm.review.service import Review, accept_order
from gdm.store import open_store
from gdm.tools.asking import answers, question
from gdm.tools.base import ALWAYS_ALLOW, DENY, ApprovalRequest, Approver

EXIT = {"done": 0, "error": 1, "cancelled": 130, "budget": 3}
CONFIG_ERROR = 2  # the command line or environment must change first: no model call was made
NO_MODEL_HEADLESS = "no model is set: pass --model (e.g. --model openai/gpt-4.1) or set GDM_MODEL"
# Editor settings named in the engine's messages, and what sets them headless.
HEADLESS_NAMES = (("gdm.model or GDM_MODEL", "--model or GDM_MODEL"), ("gdm.model", "--model / GDM_MODEL"),
                  ("gdm.apiKeyEnv", "GDM_API_KEY_ENV"), ("gdm.apiBase", "--api-base / GDM_API_BASE"),
                  ("gdm.databaseUrl", "--database-url / GDM_DATABASE_URL"))


def headless_fix(message: str) -> str:
    """An engine message with the editor settings it names replaced by their flags and variables."""
    for setting, flag in HEADLESS_NAMES:
        message = message.replace(setting, flag)
    return message


def _file_problem(session: Session, rel: str, file: str, end: int | None) -> str | None:
    """Why `--file` / `--range` cannot be right for this workspace, or None."""
    current = session.view.current(rel)
    if current is None:
        return f"--file {file} does not exist in the workspace {session.view.root}"
    lines = max(1, len(current.text.splitlines()))
    if end is not None and end >= lines:
        return f"--range goes past the end of {rel}, which has {lines} line(s)"
    return None


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
        sections = 0  # one @@ section per hunk, in order: name each, as the editor's lenses do
        for line in patch.diff().splitlines():
            if line.startswith("@@ ") and patch.kind is not PatchKind.RENAME:
                line, sections = f"{line} hunk {sections}", sections + 1
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


async def apply_to_disk(session: Session, patch: FilePatch, out: TextIO) -> bool:
    """Headless accept: the review engine's plan, carried out by the disk applier (atomic writes);
    CRITICAL risk is never auto-applied."""
    if patch.risk is not None and patch.risk.tier is Tier.CRITICAL:
        out.write(f"not applying {patch.path}: CRITICAL risk needs a person's review in an editor\n")
        return False
    if patch.status not in (PatchStatus.PENDING, PatchStatus.PARTIAL):
        return False
    old_path, kind = patch.path, patch.kind
    review = Review(session.view, session.patches, session.task_label)
    result = await review.accept(patch, None, DiskApplier(session.view))
    if kind in (PatchKind.DELETE, PatchKind.RENAME):
        if not result["applied"]:
            reasons = "; ".join(dict.fromkeys(c["reason"] for c in result["conflicts"]))
            out.write(f"not changing {old_path}: {reasons}\n")
        elif kind is PatchKind.DELETE:
            out.write(f"deleted {old_path}\n")
        else:
            out.write(f"moved {old_path} to {patch.new_path}\n")
        return bool(result["applied"])
    for conflict in result["conflicts"]:
        out.write(f"conflict in {old_path} hunk {conflict['hunk']}: {conflict['reason']}\n")
    if result["applied"]:
        out.write(f"applied {old_path} ({len(result['appliedHunks'])} hunk(s))\n")
    return bool(result["applied"])


def terminal_approver(stdin: TextIO, out: TextIO) -> Approver:
    """Asks the user on the terminal; denies when stdin is not a terminal (nobody is there to ask)."""

    async def ask(request: ApprovalRequest) -> str:
        if not stdin.isatty():
            knob = {"mcp": "GDM_MCP_POLICY=allow calls MCP tools without asking",
                    "network": "GDM_SANDBOX_NETWORK=on gives sandboxed commands the network"}.get(
                request.kind, "GDM_SHELL=allow runs commands without asking")
            out.write(f"gdm: denied `{request.command}`: stdin is not a terminal to ask on ({knob})\n")
            return DENY
        offered = answers(request)
        keys = {title: ("a" if answer == ALWAYS_ALLOW else "o") for title, answer in offered.items() if answer != DENY}
        menu = "  ".join(f"[{key}] {title.lower()}" for title, key in keys.items())
        out.write(f"\n{question(request)}\n{menu}  [N] deny: ")
        out.flush()
        answer = (await asyncio.to_thread(stdin.readline)).strip().lower()[:1]
        chosen = {key: offered[title] for title, key in keys.items()}
        return chosen.get("o" if answer == "y" else answer, DENY)

    return ask


async def run_ask(settings: Settings, workspace: Path, prompt: str, file: str | None, line_range: str | None,
                  apply: bool, out: TextIO, stdin: TextIO | None = None, follow_up: str | None = None,
                  allow_workspace_mcp: bool = False) -> int:
    """Run one task headless and print it (with `follow_up`, a task id: continuing its
    conversation); returns the exit code (2: fix the command line first)."""
    if not settings.model:
        out.write(f"gdm: {NO_MODEL_HEADLESS}\n")
        return CONFIG_ERROR
    start, end = parse_range(line_range)
    if start is not None and not file:
        out.write("gdm: --range needs --file: the lines are lines of that file\n")
        return CONFIG_ERROR
    store = open_store(settings.database_url)
    session = open_session(root=workspace, settings=settings, store=store, buffers=NoBuffers())
    # Headless, a workspace-defined MCP server starts only with the explicit flag, never by a prompt.
    session.mcp.allow_workspace = allow_workspace_mcp
    session.mcp.report = lambda message: out.write(message + "\n")
    session.sandbox.report = lambda message: out.write(f"gdm: {message}\n")
    rel = None
    if file:
        try:
            rel = session.view.rel(os.path.relpath(Path(file).resolve(), session.view.root)
                                   if os.path.isabs(file) else file)
        except PathRefused as exc:
            out.write(f"gdm: {exc}\n")
            return CONFIG_ERROR
        problem = _file_problem(session, rel, file, end)
        if problem:
            out.write(f"gdm: {problem}\n")
            store.close()
            return CONFIG_ERROR
    conversation_id = None
    if follow_up is not None:
        try:
            conversation_id = session.follow_up(follow_up, [])
        except FollowUpRefused as exc:
            out.write(f"gdm: --continue: {exc}\n")
            session.model_loop.close()
            store.close()
            return CONFIG_ERROR
    printer = Printer(out, out.isatty())
    task_id = new_id("t")
    status = "error"
    config_error = False
    approver = terminal_approver(stdin or sys.stdin, out)
    spec = TaskSpec(prompt, rel, start, end, conversation_id=conversation_id)
    async for event in session.run_task(task_id, spec, approver=approver):
        if isinstance(event, ev.Error) and event.error_kind == "config":
            # Said the headless way (flags and variables, not editor settings); no model was called.
            config_error = True
            event = ev.Error(event.task_id, headless_fix(event.message), event.error_kind)
        printer.event(event, session)
        if isinstance(event, ev.Done):
            status = event.status
    if config_error:
        session.model_loop.close()
        store.close()
        return CONFIG_ERROR
    for patch in accept_order(session.patches.for_task(task_id)):
        printer.patch(patch)
        if apply:
            await apply_to_disk(session, patch, out)
    printer.cost(session.totals(task_id))
    out.write(f"Task {task_id} in conversation {session.conversation_of(task_id)} "
              f"(${session.conversation_usd(task_id):.6f} so far); follow up with: "
              f"gdm ask --continue {task_id} \"<prompt>\"\n")
    session.model_loop.close()
    await session.mcp.aclose()
    store.close()
    return EXIT.get(status, 1)



async def run_undo(settings: Settings, workspace: Path, task_id: str, out: TextIO,
                   revert: bool | None = None) -> int:
    """`gdm undo TASK [--revert | --files-only]`: revert a task's accepted changes on disk (a task
    gdm committed: with a revert commit, or in the files only); 0 all undone, 1 conflicts, 2 refused."""
    store = open_store(settings.database_url)
    session = open_session(root=workspace, settings=settings, store=store, buffers=NoBuffers())
    try:
        review = Review(session.view, session.patches, session.task_label)
        try:
            result = await undo_task(review, store, session.id, task_id, DiskApplier(session.view),
                                     revert_commit=revert, trailer=settings.commit_trailer, model=settings.model)
        except CommittedTask as exc:
            out.write(f"gdm: {exc}: pass --revert for a revert commit, or --files-only\n")
            return 2
        except UndoRefused as exc:
            out.write(f"gdm: {exc}\n")
            return 2
        if result.get("revertCommit"):
            out.write(f"reverted commit in {short(result['revertCommit'])} (task(s) {', '.join(result['taskIds'])})\n")
        for note in result.get("notes", []):
            out.write(f"gdm: {note}\n")
        for conflict in result["conflicts"]:
            out.write(f"conflict in {conflict['path']} hunk {conflict['hunk']}: {conflict['reason']}\n")
        if result["applied"]:
            out.write(f"undid {result['undoneHunks']} change(s) of task {task_id}\n")
        return 0 if result["applied"] and not result["conflicts"] else 1
    finally:
        session.model_loop.close()
        store.close()


async def run_commit(settings: Settings, workspace: Path, request: CommitRequest, out: TextIO) -> int:
    """`gdm commit TASK…|--conversation C [--message M] [--dry-run] [--no-verify]`: the tasks' accepted
    hunks as one commit; 0 committed (or previewed), 1 git refused it (a hook, signing), 2 refused."""
    store = open_store(settings.database_url)
    session = open_session(root=workspace, settings=settings, store=store, buffers=NoBuffers())
    try:
        review = Review(session.view, session.patches, session.task_label)
        committer = Committer(review, store, session.id, session.commit_message, settings.commit_trailer,
                              settings.model)
        try:
            result = await committer.commit(request)
        except CommitRefused as exc:
            out.write(f"gdm: {exc}\n")
            return 1 if exc.reason == "gitFailed" else 2
        head = "would commit" if result["commit"] is None else f"committed {short(result['commit'])}"
        out.write(f"{head} on {result['branch']} (task(s) {', '.join(result['taskIds'])}): "
                  f"{', '.join(result['files'])}\n\n")
        out.write("".join(f"    {line}".rstrip() + "\n" for line in result["message"].splitlines()))
        for note in result.get("notes", []):
            out.write(f"gdm: {note}\n")
        return 0
    finally:
        session.model_loop.close()
        store.close()


def copy_workspace(source: Path) -> Path:
    """A fresh temporary copy of a fixture workspace."""
    target = Path(tempfile.mkdtemp(prefix="gdm-demo-")) / source.name
    shutil.copytree(source, target)
    return target
