"""`gdm.task.commit` / `gdm commit`: a task's accepted hunks (or a conversation's) become one commit.

The review engine's side, for every front end: pick the tasks (one, a list, or a conversation's
whose accepted changes are not committed yet: a squash), stage exactly their accepted hunks as
the files on disk hold them now (review/staging.py), write the message (the given one, else
`cheapModel`'s through the front end's `MessageWriter`, else one made from the prompts and the
model's final answers), add the `commitTrailer` line, and `git commit` from a temporary index,
so the user's git config decides author and signing and the hooks run. The real index is then
told of the committed entries, so the user's other edits show as unstaged as before. The store
records the commit id on each task and an audit row of kind `commit`.

Git runs in worker threads; the message writer (a model call) on the caller's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gdm.patches.model import FilePatch
from gdm.review.history import task_facts, task_patches, workspace_sessions
from gdm.review.message import body_of, fallback, from_model, trailer_line, with_trailer
from gdm.review.service import Review
from gdm.review.staging import COMMIT, CommitRefused, Staging, git_commit, stage, update_index
from gdm.review.undo import accepted

if TYPE_CHECKING:
    from gdm.store.repo import Store

MessageWriter = Callable[[str, list[str], list[str], str], Awaitable[str | None]]
"""(task id charged, the tasks' prompts, their final answers, the diff) -> the cheap model's text or None."""

__all__ = ["COMMIT", "CommitRefused", "CommitRequest", "Committer", "MessageWriter", "short"]


def short(sha: str | None) -> str:
    """A commit id as people quote it."""
    return (sha or "")[:12]


@dataclass(frozen=True)
class CommitRequest:
    """What to commit: `task_ids` (one or more) or a `conversation_id` (its tasks with accepted,
    uncommitted changes); `message` as given (None: written); `preview`: everything but the commit."""

    task_ids: tuple[str, ...] = ()
    conversation_id: str | None = None
    message: str | None = None
    preview: bool = False
    no_verify: bool = False


@dataclass
class Committer:
    """Commits tasks of one workspace (`review`'s view and patch book, `store`)."""

    review: Review
    store: Store
    session_id: str
    write_message: MessageWriter
    trailer: str  # the commitTrailer setting ("" = none; `<model>` = the tasks' model)
    model: str | None = None  # the settings' model, when the tasks' own is not recorded
    running: Collection[str] = ()

    async def commit(self, request: CommitRequest) -> dict[str, Any]:
        """`{commit, message, files, taskIds, branch}` (`commit` None for a preview), or CommitRefused."""
        rows, patches = await asyncio.to_thread(self.select, request)
        ids = [r["id"] for r in rows]
        staging = await asyncio.to_thread(stage, self.review.view, patches, self.review.task_label(ids[0]))
        message = await self.message(rows, staging, request.message)
        answer: dict[str, Any] = {"commit": None, "message": message, "files": sorted(set(staging.files)),
                                  "taskIds": ids, "branch": staging.branch}
        if request.preview:
            return answer
        sha, notes = await asyncio.to_thread(self.make, staging, message, request.no_verify)
        await asyncio.to_thread(self.record, rows, staging, sha, message, notes)
        return {**answer, "commit": sha, **({"notes": notes} if notes else {})}

    # -- which tasks ------------------------------------------------------------------------

    def select(self, request: CommitRequest) -> tuple[list[dict[str, Any]], list[FilePatch]]:
        """The task rows to commit and their accepted patches; CommitRefused when there are none."""
        root = str(self.review.view.root)
        if request.conversation_id is not None:
            rows = self.store.conversation_tasks(request.conversation_id)
            if not rows or rows[0]["workspace"] != root:
                raise CommitRefused(f"unknown conversation {request.conversation_id!r} in this workspace "
                                    f"(gdm.conversation.list shows them)", "unknownTask")
        else:
            sessions = set(workspace_sessions(self.store, root))
            rows = []
            for task_id in dict.fromkeys(request.task_ids):
                row = self.store.get_task(task_id)
                if row is None or row["session_id"] not in sessions:
                    raise CommitRefused(f"unknown task {task_id!r} in this workspace (gdm.task.list shows its tasks)",
                                        "unknownTask")
                rows.append(row)
        busy = [r["id"] for r in rows if r["id"] in self.running]
        if busy:
            raise CommitRefused(f"task {busy[0]} is still running: wait for it to finish or cancel it (gdm.cancel), "
                                f"then commit", "running")
        return self._with_changes(rows, explicit=request.conversation_id is None, what=request.conversation_id)

    def _with_changes(self, rows: list[dict[str, Any]], *, explicit: bool,
                      what: str | None) -> tuple[list[dict[str, Any]], list[FilePatch]]:
        chosen, patches = [], []
        for row in rows:
            mine = [p for p in task_patches(self.store, self.review, row["id"]) if accepted(p) is not None]
            if row.get("commit_id"):
                if explicit:
                    raise CommitRefused(f"task {row['id']} was committed already as {short(row['commit_id'])} "
                                        f"(gdm.task.undo reverts that commit; changes accepted since are yours "
                                        f"to commit with git)", "committed")
                continue
            if not mine:
                if explicit:
                    raise CommitRefused(f"task {row['id']} has nothing accepted to commit (its changes are pending, "
                                        f"rejected or undone)", "nothingAccepted")
                continue
            chosen.append(row)
            patches += mine
        if not chosen:
            raise CommitRefused(f"no task of conversation {what} has accepted changes that are not committed yet",
                                "nothingAccepted")
        return chosen, patches

    # -- the message -------------------------------------------------------------------------

    async def message(self, rows: list[dict[str, Any]], staging: Staging, given: str | None) -> str:
        """The commit message: `given`, else the cheap model's, else the tasks' own; plus the trailer."""
        ids = [r["id"] for r in rows]
        titles, summaries, models = await asyncio.to_thread(task_facts, self.store, ids)
        trailer = trailer_line(self.trailer, ", ".join(models) or self.model)
        if given is not None:
            return with_trailer(given, trailer)
        prompts = [str(r["prompt"]) for r in rows]
        said = [summaries[i] for i in ids if summaries.get(i)]
        raw = await self.write_message(ids[0], prompts, said, staging.diff)
        text = from_model(raw, body_of(prompts + said)) or fallback(titles.get(ids[0]) or prompts[0], prompts + said)
        return with_trailer(text, trailer)

    # -- the commit --------------------------------------------------------------------------

    def make(self, staging: Staging, message: str, no_verify: bool) -> tuple[str, list[str]]:
        """`git commit` of the staged entries from a temporary index; the real index then holds the
        committed entries. The commit id and notes for the user."""
        repo = staging.repo
        if repo.head() != staging.head:
            raise CommitRefused("HEAD moved while gdm prepared the commit (another commit?): try again", "headMoved")
        with repo.temp_index(staging.head) as index:
            repo.set_entries(staging.entries, index)
            sha = git_commit(repo, index, message, no_verify)
        return sha, update_index(repo, staging.entries, "committed")

    def record(self, rows: list[dict[str, Any]], staging: Staging, sha: str, message: str, notes: list[str]) -> None:
        """The commit id on each task, and an audit row (kind `commit`) per task."""
        ids = [r["id"] for r in rows]
        self.store.set_task_commit(ids, sha)
        for task_id in ids:
            hunks = {pid: h for pid, h in staging.hunks.items()
                     if (patch := self.review.book.get(pid)) is not None and patch.task_id == task_id}
            self.store.add_audit(self.session_id, task_id, COMMIT, {
                "action": "commit", "commit": sha, "parent": staging.head, "branch": staging.branch,
                "message": message, "files": sorted(set(staging.files)), "taskIds": ids, "hunks": hunks,
                "notes": notes})
