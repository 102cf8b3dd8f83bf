"""Tasks: `gdm.ask`, `gdm.cancel`, `window/workDoneProgress/cancel`.

A task is an asyncio task driving the session's engine; this module turns its events into
`gdm/taskEvent`, `$/progress` (begin, a report per tool call, end), `gdm/patchProposed`,
`gdm/costUpdate` and, for what every editor must see, `window/showMessage`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gdm.agent import events as ev
from gdm.agent.conversation import FollowUpRefused
from gdm.commands import Command
from gdm.features import approvals, notifications, ready_actions
from gdm.features.review import accept_patch
from gdm.task_registry import TaskRegistry  # noqa: F401  (moved to server state; this name stays for imports)
from gdm.patches.risk import Tier

if TYPE_CHECKING:
    from gdm.agent.session import Session, TaskSpec
    from gdm.features.params import AskParams
    from gdm.server import GdmServer

log = logging.getLogger(__name__)

PROGRESS_CREATE_TIMEOUT_S = 5.0
DELTA_FLUSH_S = 0.05  # streamed text reaches the editor in pieces at most 20 times a second


class DeltaCoalescer:
    """Joins streamed text pieces into one `gdm/taskEvent` per interval.

    A model streams a few characters per chunk; one notification per chunk floods the editor's
    pipe (the server then blocks writing and code actions wait), so pieces are batched.
    """

    def __init__(self, send: Callable[[str], None], interval: float = DELTA_FLUSH_S) -> None:
        self._send = send
        self._interval = interval
        self._pieces: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        """Queue a piece; it goes out with the others at the end of the interval."""
        self._pieces.append(text)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self.flush)

    def flush(self) -> None:
        """Send what is queued now (before any other event, so order is kept)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pieces:
            text, self._pieces = "".join(self._pieces), []
            self._send(text)


def register(server: GdmServer) -> None:
    """Register `gdm.ask`, `gdm.cancel` and progress cancellation."""
    ls = server.ls

    @ls.command(Command.ASK.identifier)
    async def ask(*args: Any) -> dict[str, str]:
        from gdm.agent.session import new_id  # noqa: PLC0415 - the engine after `initialize`
        from gdm.features.params import AskParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(AskParams, Command.ASK.identifier, args)
        if not params.prompt or not params.prompt.strip():
            raise JsonRpcInvalidParams("gdm.ask needs a prompt: {prompt, uri?, range?} (in editors without an input "
                                       "box, write a `gdm: <instruction>` comment and use its code action)")
        session = await server.get_session()
        spec = ready_actions.refine(session, _spec(session, params), args)
        task_id = new_id("t")
        if params.follow_up is not None:
            spec = dataclasses.replace(spec, conversation_id=_follow_up(server, session, params.follow_up))
            session.task_conversation[task_id] = spec.conversation_id  # before it runs: a second follow-up waits
        server.tasks.start(task_id, drive(server, session, task_id, spec), request_id=server.ls.protocol.msg_id)
        return {"taskId": task_id}

    @ls.command(Command.CANCEL.identifier)
    async def cancel(*args: Any) -> dict[str, bool]:
        from gdm.features.params import TaskIdParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(TaskIdParams, Command.CANCEL.identifier, args)
        if not params.task_id:
            raise JsonRpcInvalidParams("gdm.cancel needs {taskId}")
        if params.task_id not in server.tasks.running():
            raise JsonRpcInvalidParams(f"gdm.cancel: no running task {params.task_id!r}")
        return {"cancelled": server.tasks.cancel(params.task_id)}

    @ls.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(params: lsp.WorkDoneProgressCancelParams) -> None:
        # The progress token of a task is its id.
        server.tasks.cancel(str(params.token))


def _follow_up(server: GdmServer, session: Session, task_id: str) -> str:
    """The conversation `followUp: task_id` continues; InvalidParams (logged) when it cannot be."""
    try:
        if not task_id.strip():
            raise FollowUpRefused("followUp must be the id of an earlier task (gdm.ask answered it as taskId)")
        return session.follow_up(task_id, server.tasks.running())
    except FollowUpRefused as exc:
        log.warning("gdm.ask refused: %s", exc)
        server.log(f"gdm: follow-up refused: {exc}", lsp.MessageType.Warning)
        raise JsonRpcInvalidParams(f"gdm.ask: {exc}") from exc


def _spec(session: Session, params: AskParams) -> TaskSpec:
    path = None
    if params.uri:
        path = session.view.rel_of_uri(params.uri)
        if path is None:
            raise JsonRpcInvalidParams(f"gdm.ask: {params.uri} is not a file inside the workspace {session.view.root}")
    start = end = None
    if params.range is not None:
        start, end = params.range.start.line, params.range.end.line
        if params.range.end.character == 0 and end > start:
            end -= 1  # a selection ending at column 0 does not include that line
    from gdm.agent.session import TaskSpec  # noqa: PLC0415 - the engine after `initialize`

    return TaskSpec(params.prompt or "", path, start, end, params.uri)


async def drive(server: GdmServer, session: Session, task_id: str, spec: TaskSpec) -> None:
    """Run a task and tell the editor everything that happens, whatever happens."""
    progress = await _begin_progress(server, task_id, spec.prompt)
    final = "error"
    deltas = DeltaCoalescer(lambda text: notifications.task_event(server, ev.Response(task_id, text, delta=True)))
    try:
        async for event in session.run_task(task_id, spec, approver=approvals.approver(server)):
            if isinstance(event, ev.Response) and event.delta:
                deltas.add(event.text)
                continue
            deltas.flush()
            if spec.read_only and isinstance(event, ev.Response):
                server.show(f"gdm: {event.text}", lsp.MessageType.Info)  # an answer, not a patch: show it
            if isinstance(event, ev.Done):
                final = event.status
                progress = _end_progress(server, task_id, progress, final)  # ended before "done" is told
            _forward(server, session, event, progress)
        if final == "done" and session.settings.autonomy == "auto-low":
            await auto_apply(server, session, task_id)
    except asyncio.CancelledError:
        final = "cancelled"
        progress = _end_progress(server, task_id, progress, final)
        done = ev.Done(task_id, "cancelled", [p.id for p in session.patches.for_task(task_id)],
                       session.totals(task_id)["taskUsd"])
        notifications.task_event(server, done)
        server.show(f"gdm: task cancelled; {_patch_note(session, task_id)}", lsp.MessageType.Info)
    except Exception as exc:  # noqa: BLE001 - the task boundary: shown to the user, logged with its traceback
        # A bug or an environment failure ends this task, never the server, and never silently.
        log.exception("task %s failed", task_id)
        notifications.task_event(server, ev.Error(task_id, f"internal error: {exc}", "internal"))
        notifications.task_event(server, ev.Done(task_id, "error", [p.id for p in session.patches.for_task(task_id)]))
        server.show(f"gdm: task failed with an internal error: {exc}. {_patch_note(session, task_id)}")
    finally:
        deltas.flush()
        _end_progress(server, task_id, progress, final)


async def auto_apply(server: GdmServer, session: Session, task_id: str) -> None:
    """`autonomy: auto-low`: LOW-risk patches of a finished task apply at once, as undoable editor edits.

    Only LOW: MEDIUM and above (CRITICAL above all) always wait for an explicit accept.
    """
    for patch in [p for p in session.patches.open() if p.task_id == task_id]:
        if patch.risk is None or patch.risk.tier is not Tier.LOW:
            continue
        result = await accept_patch(server, session, patch, None)
        if result["applied"]:
            server.show(f"gdm: applied a LOW-risk change to {patch.path} automatically (autonomy: auto-low); "
                        f"undo in the editor reverts it", lsp.MessageType.Info)
        else:
            reasons = "; ".join(c["reason"] for c in result["conflicts"])
            server.show(f"gdm: could not auto-apply {patch.path} ({reasons}); it waits for review",
                        lsp.MessageType.Warning)


def _end_progress(server: GdmServer, task_id: str, progress: bool, status: str) -> bool:
    if progress:
        server.ls.work_done_progress.end(task_id, lsp.WorkDoneProgressEnd(message=status))
    return False


def _patch_note(session: Session, task_id: str) -> str:
    open_ids = [p.id for p in session.patches.for_task(task_id) if p in session.patches.open()]
    return f"{len(open_ids)} patch(es) pending review." if open_ids else "no patches pending."


async def _begin_progress(server: GdmServer, task_id: str, prompt: str) -> bool:
    if not server.caps.work_done_progress:
        return False
    try:
        await asyncio.wait_for(server.ls.work_done_progress.create_async(task_id), PROGRESS_CREATE_TIMEOUT_S)
    except (JsonRpcException, asyncio.TimeoutError) as exc:
        server.log(f"gdm: no progress for {task_id}: {exc}", lsp.MessageType.Warning)
        return False
    title = f"gdm: {prompt[:60]}{'…' if len(prompt) > 60 else ''}"
    server.ls.work_done_progress.begin(task_id, lsp.WorkDoneProgressBegin(title=title, cancellable=True,
                                                                          message="starting"))
    return True


def _forward(server: GdmServer, session: Session, event: ev.Event, progress: bool) -> None:
    """One engine event → what the editor is told."""
    from gdm.agent.session import TaskTitled  # noqa: PLC0415 - the engine after `initialize`

    notifications.task_event(server, event)
    match event:
        case TaskTitled(title=title) if progress:
            # `begin` went out before the cheap model named the task: the title comes as a report,
            # and heads the reports after it.
            server.ls.work_done_progress.report(event.task_id, lsp.WorkDoneProgressReport(message=title))
        case ev.ToolCall(name=name, arguments=args):
            if progress:
                server.ls.work_done_progress.report(event.task_id, lsp.WorkDoneProgressReport(
                    message=_titled(session, event.task_id, _describe(name, args))))
            server.log(f"gdm [{event.task_id}] {_describe(name, args)}")
        case ev.PatchProposed(patch_id=patch_id):
            patch = session.patches.get(patch_id)
            if patch is not None:
                notifications.patch_proposed(server, session, patch)
                server.refresh_code_lenses()
        case ev.CostRecorded():
            totals = session.totals(event.task_id)
            notifications.cost_update(server, totals)
            if progress:
                spent = f"${totals['taskUsd']:.4f} of ${totals['budgetUsd']:.2f}"
                server.ls.work_done_progress.report(event.task_id, lsp.WorkDoneProgressReport(
                    message=_titled(session, event.task_id, spent)))
        case ev.Response(text=text, delta=False):
            server.log(f"gdm [{event.task_id}] {text}")
        case ev.Error(message=message, error_kind=kind):
            server.show(f"gdm: {message}", lsp.MessageType.Warning if kind == "budget" else lsp.MessageType.Error)
        case ev.Done(status="done", patch_ids=ids, cost_usd=usd):
            risk = _risk_summary(session, ids)
            server.show(f"gdm: done — {len(ids)} patch(es) to review{risk}; task cost ${usd:.4f}",
                        lsp.MessageType.Info)


def _titled(session: Session, task_id: str, message: str) -> str:
    title = session.titles.get(task_id)
    return f"{title} — {message}" if title else message


def _risk_summary(session: Session, patch_ids: list[str]) -> str:
    tiers = [p.risk.tier.value for i in patch_ids if (p := session.patches.get(i)) and p.risk]
    return f" (risk {', '.join(tiers)})" if tiers else ""


def _describe(name: str, args: Any) -> str:
    if isinstance(args, dict):
        brief = args.get("path") or args.get("query") or args.get("pattern") or ""
        return f"{name} {brief}".strip()
    return f"{name} ({json.dumps(args)[:40]})"
