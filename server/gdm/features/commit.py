"""`gdm.task.commit`, and the "Commit this task" lens and code action.

The review engine (review/commit.py) stages exactly the task's accepted hunks as the files on
disk hold them and commits them; this module is the LSP side: the payload, the cheap model as
the message writer, refusals as errors a client can show (`RequestFailed`, -32803, with
`data.reason`; a malformed payload or an unknown task: `InvalidParams`), the result shown with
`window/showMessage`. The lens sits where "↶ Undo task" does, once every hunk of the task is
decided, some accepted, none committed, in a folder under git.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gdm.commands import Command
from gdm.features.code_actions import wanted
from gdm.features.errors import RequestFailed
from gdm.features.history import UndoTarget, undo_targets
from gdm.features.review import engine
from gdm.review.commit import CommitRefused, CommitRequest, Committer, short
from gdm.review.git import looks_like_repo

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.server import GdmServer

COMMIT_LENS = "✓ Commit this task"
INVALID = {"unknownTask"}  # refusals that are the request's fault: InvalidParams
COMMIT_KIND = lsp.CodeActionKind.RefactorRewrite  # as "gdm: Undo task": listed, never first


def committer(server: GdmServer, session: Session) -> Committer:
    """The commit engine over this session, the cheap model writing its messages."""
    review, _ = engine(server, session)
    settings = session.settings
    return Committer(review, session.store, session.id, session.commit_message, settings.commit_trailer,
                     settings.model, server.tasks.running())


def refusal(command: str, exc: CommitRefused) -> JsonRpcException:
    """The JSON-RPC error of a refused commit."""
    message = f"{command}: {exc}"
    if exc.reason in INVALID:
        return JsonRpcInvalidParams(message)
    return RequestFailed(message, data={"reason": exc.reason, "output": exc.output or None, "paths": exc.paths})


def commit_targets(server: GdmServer, uri: str) -> list[UndoTarget]:
    """The tasks that could be committed from this document: every hunk decided, some accepted,
    not committed yet (the undo lens's targets, which are finished tasks with accepted changes)."""
    session = server.session
    if session is None or not looks_like_repo(session.view.root):
        return []
    found = []
    for target in undo_targets(server, uri):
        if target.commit is None and not any(p.pending_hunks() for p in session.patches.for_task(target.task_id)):
            found.append(target)
    return found


def commit_lenses(server: GdmServer, uri: str) -> list[lsp.CodeLens]:
    """"✓ Commit this task" beside "↶ Undo task"."""
    lenses = []
    for target in commit_targets(server, uri):
        pos = lsp.Position(line=target.line, character=0)
        lenses.append(lsp.CodeLens(range=lsp.Range(start=pos, end=pos), command=lsp.Command(
            title=COMMIT_LENS, command=Command.TASK_COMMIT.identifier, arguments=[{"taskId": target.task_id}])))
    return lenses


def commit_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """"gdm: Commit task <title>" anywhere in such a file (editors without lenses)."""
    if not wanted(COMMIT_KIND.value, params):
        return []
    actions = []
    for target in commit_targets(server, params.text_document.uri):
        title = f"gdm: Commit task “{target.label[:60]}”"
        actions.append(lsp.CodeAction(title=title, kind=COMMIT_KIND, command=lsp.Command(
            title=title, command=Command.TASK_COMMIT.identifier, arguments=[{"taskId": target.task_id}])))
    return actions


def register(server: GdmServer) -> None:
    """Register `gdm.task.commit`."""

    @server.ls.command(Command.TASK_COMMIT.identifier)
    async def commit(*args: Any) -> dict[str, Any]:
        from gdm.features.params import CommitParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        name = Command.TASK_COMMIT.identifier
        params = parse(CommitParams, name, args)
        session = await server.get_session()
        request = CommitRequest(params.targets(), params.conversation_id, params.message, params.preview,
                                params.no_verify)
        try:
            result = await committer(server, session).commit(request)
        except CommitRefused as exc:
            server.log(f"gdm: {name}: {exc}", lsp.MessageType.Warning)
            raise refusal(name, exc) from exc
        if result["commit"] is not None:
            subject = result["message"].splitlines()[0]
            server.show(f"gdm: committed {short(result['commit'])} “{subject}” on {result['branch']} "
                        f"({len(result['files'])} file(s))", lsp.MessageType.Info)
            for note in result.get("notes", []):
                server.show(f"gdm: {note}", lsp.MessageType.Warning)
            server.refresh_code_lenses()
        return result
