"""Running one task: its start and end in the store, its conversation, focus, rules, tools and
model, the loop (agent/loop.py), and what the server adds after it (the answered `gdm:` comment
removed).

A collaborator of agent/session.py: the session holds the state every task shares; this is the
job of driving one task over it. The store writes of a task's start and end run in a worker
thread, awaited (so whoever reads after the task sees them), never on the event loop; the patch
writes its tools start on the loop are awaited before each event that reports them goes out
(agent/store_writes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from gdm.agent import conversation, prompts
from gdm.agent.checks import check_commands
from gdm.agent.events import Done, Error, Event, PatchProposed, Thinking
from gdm.agent.loop import LoopDeps, run_loop
from gdm.agent.recording import Budget, Recorder
from gdm.agent.store_writes import off_loop
from gdm.agent.testrun import TestGate, detect_test_command
from gdm.context.secrets import RedactingClient, Redactor
from gdm.context.workspace import PathRefused
from gdm.models.cost import PriceBook
from gdm.models.llm import ModelConfig
from gdm.patches.risk import RiskContext
from gdm.store import store_error_type
from gdm.tools import default_tools
from gdm.tools.base import Approver, ToolContext, counter_ids
from gdm.tools.edit import propose

if TYPE_CHECKING:
    from gdm.agent.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskSpec:
    """What the user asked, and where: a workspace-relative path and 0-based line range."""

    prompt: str
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    uri: str | None = None
    read_only: bool = False  # "gdm: Explain": only reading tools are offered, no patch can come of it
    drop_line: str | None = None  # a `gdm:` comment line answered by this task: its patch removes it
    conversation_id: str | None = None  # the conversation this task continues (new when unknown); None: a new one


@dataclass(frozen=True)
class TaskTitled(Thinking):
    """The cheap model named the task: a `thinking` event ("Title: …") that also carries the title,
    for the editor's progress and the change annotations of the task's patches."""

    title: str = ""


def new_id(prefix: str) -> str:
    """A short unique id such as `t-3f9a1c2b`."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class _Prepared:
    """What a task's loop runs with, gathered before its first model call."""

    messages: list[dict] = field(default_factory=list)
    deps: LoopDeps | None = None
    ctx: ToolContext | None = None
    error: str | None = None  # the task's last error (a focus it could not read, then the loop's), as stored


class TaskRunner:
    """Drives one task of a session to its end, yielding its events."""

    async def run(self, session: Session, task_id: str, spec: TaskSpec,
                  llm_factory: Callable[[ModelConfig, PriceBook], Any] | None = None,
                  approver: Approver | None = None) -> AsyncIterator[Event]:
        """Run one task to its end, yielding its events; `approver` asks the user about gated tools."""
        session.last_task_id = task_id
        try:
            await off_loop(self._start, session, task_id, spec)
        except store_error_type() as exc:
            for event in store_failed(session, task_id, exc):
                yield event
            return
        except asyncio.CancelledError:
            await self._finish(session, task_id, "cancelled", None)
            raise
        status, ready, ended = "error", _Prepared(), False
        session.task_conversation[task_id] = spec.conversation_id or new_id("c")
        try:
            async for event in self._prepare(session, task_id, spec, llm_factory, approver, ready):
                yield event
            assert ready.deps is not None and ready.ctx is not None
            async with contextlib.aclosing(run_loop(task_id, ready.messages, ready.deps)) as loop_events:
                async for event in loop_events:
                    for out in _after_loop(event, ready.ctx, spec):
                        # The patch writes behind the event land first (a failed one stops the task here).
                        await session.patches.settled()
                        if getattr(out, "kind", None) == "done":
                            status = out.status  # type: ignore[attr-defined]
                            # Stored before "done" goes out: the task is over once the front end hears it.
                            ended = await self._end(session, task_id, status, ready.error)
                        elif getattr(out, "kind", None) == "error":
                            ready.error = out.message  # type: ignore[attr-defined]
                        yield out
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        except store_error_type() as exc:  # a read-only or full database, a store gone: stop, and say so
            ready.error = str(exc)
            ended = ended or await self._end(session, task_id, status, ready.error)
            for event in store_failed(session, task_id, exc):
                yield event
        finally:
            if not ended:  # a cancel, or an error out of the loop
                await self._end(session, task_id, status, ready.error)

    @staticmethod
    def _start(session: Session, task_id: str, spec: TaskSpec) -> None:
        """The task's first rows (a worker thread's job)."""
        rng = None if spec.start_line is None else {"start": spec.start_line, "end": spec.end_line}
        session.store.start_task(task_id, session.id, spec.prompt, spec.uri, rng)
        session.ledger.start_task(task_id)
        # The store lists tasks by id only; this names the session's tasks in order, for replay.
        session.store.add_audit(session.id, task_id, "task.start", {"prompt": spec.prompt, "path": spec.path})

    @classmethod
    async def _end(cls, session: Session, task_id: str, status: str, error: str | None) -> bool:
        """The task's patch writes still queued (a cancel, a stop), then its final status."""
        try:
            await session.patches.settled()
        except store_error_type() as exc:
            log.error("task %s: a patch could not be stored: %s", task_id, exc)
        await cls._finish(session, task_id, status, error if status != "done" else None)
        return True

    @staticmethod
    async def _finish(session: Session, task_id: str, status: str, error: str | None) -> None:
        """The task's final status, written off the loop (a cancel meanwhile waits for it)."""
        try:
            await off_loop(session.store.finish_task, task_id, status, error)
        except store_error_type() as exc:
            log.error("task %s: its final status %r could not be stored: %s", task_id, status, exc)

    async def _prepare(self, session: Session, task_id: str, spec: TaskSpec,
                       llm_factory: Callable[[ModelConfig, PriceBook], Any] | None, approver: Approver | None,
                       ready: _Prepared) -> AsyncIterator[Event]:
        """Gather the task's conversation, focus, rules, title, map, tools into `ready`, yielding the
        events that come of it (the rules read, the title)."""
        conversation_id = session.task_conversation[task_id]
        link = await asyncio.to_thread(session.conversations.link, conversation_id, task_id)
        for member in [*link.task_ids, task_id]:
            session.patches.join(member, conversation_id)
        session.conversation_spent[task_id] = link.spent_usd
        try:
            focus = session.focus(spec, task_id)
        except PathRefused as exc:
            focus, ready.error = None, str(exc)
        rules = await session.knowledge.rules(session.view.root, spec.path, session.settings.rules)
        if rules.files:  # the task's first thinking event names them
            yield Thinking(task_id, prompts.rules_note(rules.files, rules.cut))
        ctx = ready.ctx = _tool_context(session, task_id, spec, link.paths, approver)
        redactor = await asyncio.to_thread(Redactor.for_workspace, session.view.root)
        title = await session.task_title(task_id, spec.prompt, redactor)
        if title:
            yield TaskTitled(task_id, f"Title: {title}", title)
        llm = (llm_factory or session.llm_client)(session.model_config(), session.prices)
        # The map is counted in the tokens of the model that reads it (a replay's: the recorded one).
        code_map = None if link.history else await session.knowledge.task_map(  # a follow-up has it already
            session.view, spec.prompt, spec.path, session.settings.map_tokens,
            getattr(getattr(llm, "config", None), "model", None))
        first = conversation.follow_up_message if link.history else prompts.task_message
        ready.messages = [{"role": "system", "content": prompts.SYSTEM + rules.section()}, *link.history,
                          {"role": "user", "content": first(spec.prompt, focus) + prompts.map_section(code_map)}]
        tools = default_tools(read_only=spec.read_only, shell=True)
        if not spec.read_only:  # MCP tools may change things: never offered to an Explain
            tools = await session.mcp.registry(tools, ctx)
        gate = await _test_gate(session, ctx, spec)
        compactor = await session.cheap.compactor(llm, redactor, session.compact_at_tokens, session.compact_keep_recent)
        ready.deps = LoopDeps(RedactingClient(llm, redactor), tools, ctx, Recorder(session), Budget(session, llm),
                              session.settings.max_turns, session.stream, gate=gate, compactor=compactor)


def _tool_context(session: Session, task_id: str, spec: TaskSpec, linked: set[str],
                  approver: Approver | None) -> ToolContext:
    """What the task's tools work with: the view, the patch book, the risk signals, the approver."""
    mentioned = ({spec.path} if spec.path else set()) | linked
    settings = session.settings
    return ToolContext(task_id, session.view, session.patches,
                       RiskContext(mentioned_paths=mentioned | _paths_in(spec.prompt),
                                   open_paths=session.view.buffers.open_paths()),
                       counter_ids(f"{task_id}-p"), approve=approver, shell_policy=settings.shell,
                       always_allowed=session.always_allowed, audit=_auditor(session, task_id),
                       hidden_env=frozenset(filter(None, [settings.api_key_env])),
                       code_map=session.knowledge.code_map, sandbox=session.sandbox)


def _after_loop(event: Event, ctx: ToolContext, spec: TaskSpec) -> list[Event]:
    """The loop's event, and at a task's successful end the answered `gdm:` comment removed
    (server-side: it does not depend on the model)."""
    if isinstance(event, Done) and event.status == "done" and spec.drop_line is not None:
        dropped = _drop_comment(ctx, spec)
        if dropped is not None:
            ids = event.patch_ids + ([dropped] if dropped not in event.patch_ids else [])
            return [PatchProposed(event.task_id, dropped), dataclasses.replace(event, patch_ids=ids)]
    return [event]


async def _test_gate(session: Session, ctx: ToolContext, spec: TaskSpec) -> TestGate | None:
    """Tests after edits: `testCommand`, else a detected pytest / npm test; none for read-only tasks."""
    if spec.read_only:
        return None
    settings, root = session.settings, session.view.root
    command = settings.test_command or await asyncio.to_thread(detect_test_command, root, settings.rules != "off")
    checks, notes = await asyncio.to_thread(check_commands, settings.check_commands, root)
    # `shell: auto` runs the project's own test and check commands without asking, as the gate does
    ctx.known_commands = frozenset(filter(None, [command, *checks]))
    return TestGate(ctx, command, checks=checks, check_notes=notes) if command or checks else None


def _auditor(session: Session, task_id: str) -> Callable[[str, dict[str, Any]], None]:
    """Writes a task's decisions (approvals, denials) to the store's audit log."""
    return lambda kind, detail: session.store.add_audit(session.id, task_id, kind, detail)


def store_failed(session: Session, task_id: str, exc: Exception) -> list[Event]:
    """The events that end a task whose store write failed: nothing more is done unrecorded."""
    message = (f"gdm could not write to its store, so the task stopped before doing anything more that "
               f"could not be recorded: {exc}")
    log.error("task %s: %s", task_id, message)
    return [Error(task_id, message, "store"),
            Done(task_id, "error", [p.id for p in session.patches.for_task(task_id)], session.ledger.task_usd(task_id))]


def _drop_comment(ctx: ToolContext, spec: TaskSpec) -> str | None:
    """Remove the answered `gdm:` comment (the nearest line with its text) within the task's patch."""
    assert spec.path is not None and spec.drop_line is not None
    text = ctx.view.read(spec.path, ctx.task_id)
    lines = text.splitlines(keepends=True) if text is not None else []
    hits = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == spec.drop_line.rstrip("\r\n")]
    if not hits:
        return None  # the model already removed it
    del lines[min(hits, key=lambda i: abs(i - (spec.start_line or 0)))]
    return propose(ctx, spec.path, "".join(lines)).id


def _paths_in(prompt: str) -> set[str]:
    """Words of the prompt that look like file paths (`src/app.py`, `README.md`), for the risk
    model's 'mentioned' signal."""
    words = (w.strip("`'\",:;()[]").rstrip(".") for w in prompt.split())
    return {w for w in words if "/" in w or PurePosixPath(w).suffix[1:2].isalpha()}
