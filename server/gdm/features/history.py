"""Task history: `gdm.task.undo`, `gdm.task.list`, the "↶ Undo task" lens and its code action.

Undo is planned by the review engine (review/undo.py, review/history.py) and sent by the LSP
applier as one versioned `workspace/applyEdit` labelled `gdm: undo <task>`, so the editor's own
undo takes it back. The lens sits on the first changed line of each file a task changed, while
its undo would still revert something there; editors without lenses get the same command as a
code action anywhere in such a file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gdm.commands import Command
from gdm.features.code_actions import wanted
from gdm.features.errors import RequestFailed
from gdm.features.review import engine
from gdm.patches.plan import Op
from gdm.review.history import CommittedTask, UndoRefused, list_tasks, undo_task
from gdm.review.undo import accepted, plan_undo

if TYPE_CHECKING:
    from gdm.server import GdmServer

UNDO_LENS = "↶ Undo task"
# Rewrite, not quickfix: offered anywhere in a changed file, it must not take the first place (and the
# focus) of every lightbulb menu from "Ask gdm…" and from fixes that concern the line at hand.
UNDO_KIND = lsp.CodeActionKind.RefactorRewrite


@dataclass(frozen=True)
class UndoTarget:
    """A task whose undo would change this file, the first line it would change, and the commit
    gdm made of it (None: not committed)."""

    task_id: str
    label: str
    line: int
    commit: str | None = None


def undo_targets(server: GdmServer, uri: str) -> list[UndoTarget]:
    """The finished tasks of this session whose accepted changes could be undone in this document."""
    session = server.session
    rel = session.view.rel_of_uri(uri) if session is not None else None
    if session is None or rel is None:
        return []
    running = set(server.tasks.running())
    by_task: dict[str, list] = {}
    for patch in session.patches.all():
        by_task.setdefault(patch.task_id, []).append(patch)
    found = []
    for task_id, patches in by_task.items():
        touched = {p.path for p in patches} | {p.new_path for p in patches if p.new_path}
        if task_id in running or rel not in touched or not any(accepted(p) for p in patches):
            continue
        label = session.task_label(task_id)
        for step in plan_undo(session.view, task_id, patches, label).plan.steps:
            if step.path == rel and step.op in (Op.EDIT, Op.MOVE, Op.DELETE):
                line = step.edits[0].start_line if step.edits else 0
                found.append(UndoTarget(task_id, label, line, (session.store.get_task(task_id) or {}).get("commit_id")))
                break
    return found


def undo_lenses(server: GdmServer, uri: str) -> list[lsp.CodeLens]:
    """"↶ Undo task" on the first line each undoable task would change in this document."""
    lenses = []
    for target in undo_targets(server, uri):
        pos = lsp.Position(line=target.line, character=0)
        title = UNDO_LENS if target.commit is None else f"{UNDO_LENS} (revert {target.commit[:7]})"
        lenses.append(lsp.CodeLens(range=lsp.Range(start=pos, end=pos), command=lsp.Command(
            title=title, command=Command.TASK_UNDO.identifier, arguments=[{"taskId": target.task_id}])))
    return lenses


def undo_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """"gdm: Undo task <title>" anywhere in a file an undoable task changed (editors without lenses)."""
    if not wanted(UNDO_KIND.value, params):
        return []
    actions = []
    for target in undo_targets(server, params.text_document.uri):
        title = f"gdm: Undo task “{target.label[:60]}”"
        actions.append(lsp.CodeAction(title=title, kind=UNDO_KIND, command=lsp.Command(
            title=title, command=Command.TASK_UNDO.identifier, arguments=[{"taskId": target.task_id}])))
    return actions


REVERT, FILES_ONLY, CANCEL = "Revert the commit", "Undo in the files only", "Cancel"


async def ask_revert(server: GdmServer, refused: CommittedTask) -> bool | None:
    """Ask how to undo a committed task: True (a revert commit too), False (the files only), None
    (cancelled). A client that cannot ask gets an error naming the payload's `revert`."""
    name = Command.TASK_UNDO.identifier
    if not server.caps.show_message_request:
        raise RequestFailed(f"{name}: {refused}; send {{taskId, revert: true}} for a revert commit, "
                            f"{{taskId, revert: false}} for the files only",
                            data={"reason": "committed", "commit": refused.commit})
    actions = [lsp.MessageActionItem(title=t) for t in (REVERT, FILES_ONLY, CANCEL)]
    params = lsp.ShowMessageRequestParams(type=lsp.MessageType.Warning, message=f"gdm: {refused}. Revert it?",
                                          actions=actions)
    try:
        answer = await server.ls.window_show_message_request_async(params)
    except JsonRpcException as exc:
        server.log(f"gdm: the question about reverting failed ({exc}); not undone", lsp.MessageType.Warning)
        return None
    title = answer.title if answer is not None else CANCEL
    return {REVERT: True, FILES_ONLY: False}.get(title)


def register(server: GdmServer) -> None:
    """Register `gdm.task.undo` and `gdm.task.list`."""
    ls = server.ls

    @ls.command(Command.TASK_UNDO.identifier)
    async def undo(*args: Any) -> dict[str, Any]:
        from gdm.features.params import UndoParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(UndoParams, Command.TASK_UNDO.identifier, args)
        session = await server.get_session()
        review, applier = engine(server, session)

        async def run(revert: bool | None) -> dict[str, Any]:
            try:
                return await undo_task(review, session.store, session.id, params.task_id, applier,
                                       server.tasks.running(), revert_commit=revert,
                                       trailer=session.settings.commit_trailer, model=session.settings.model)
            except CommittedTask:
                raise
            except UndoRefused as exc:
                raise JsonRpcInvalidParams(f"{Command.TASK_UNDO.identifier}: {exc}") from exc
        try:
            return await run(params.revert)
        except CommittedTask as exc:  # the user says how: a revert commit, the files only, or not at all
            revert = await ask_revert(server, exc)
            if revert is None:
                return {"applied": False, "conflicts": [], "undoneHunks": 0, "revertCommit": None}
            return await run(revert)

    @ls.command(Command.TASK_LIST.identifier)
    async def task_list(*args: Any) -> dict[str, Any]:
        from gdm.features.params import TaskListParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(TaskListParams, Command.TASK_LIST.identifier, args, optional=True)
        session = await server.get_session()
        review, _ = engine(server, session)
        titles = dict(session.titles)  # a snapshot: the store is read off the event loop
        return {"tasks": await asyncio.to_thread(list_tasks, session.store, review, titles, params.limit)}
