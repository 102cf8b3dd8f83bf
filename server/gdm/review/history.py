"""A workspace's tasks after the fact: the task list, and undoing a task through an applier.

`gdm.task.undo` / `gdm undo`: the task's accepted changes reverted as one edit plan
(review/undo.py), carried out by the front end's applier; what was reverted is marked rejected in
the patch book (so undoing twice has nothing left to revert), and every attempt is an audit row
of kind `undo`. Bad requests (unknown task, another workspace's, still running, nothing accepted)
are an `UndoRefused` with a sentence a person can act on; nothing is changed then.

A task `gdm.task.commit` committed is undone in git by a revert commit (review/revert.py), never
a history rewrite: the caller must say so (`revert=True`; `False`: in the files only), else
`CommittedTask` asks. A revert of a squash commit undoes every task in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from gdm.patches.model import FilePatch, HunkStatus, PatchKind
from gdm.review.appliers import Applier
from gdm.review.git import GitError
from gdm.review.message import trailer_line
from gdm.review.revert import revert, revert_detail, reverted_by, tasks_of_commit
from gdm.review.service import Review
from gdm.review.staging import COMMIT, CommitRefused
from gdm.review.undo import UndoPlan, accepted, plan_undo

if TYPE_CHECKING:
    from gdm.store.repo import Store

UNDO = "undo"  # the audit kind (DESIGN.md: `gdm audit --kind undo`)


class UndoRefused(Exception):
    """An undo that cannot even be planned (unknown task, still running, nothing accepted)."""


class CommittedTask(UndoRefused):
    """The task is committed (`commit`, with `task_ids` in it): say whether to revert that commit."""

    def __init__(self, message: str, commit: str, task_ids: list[str]) -> None:
        super().__init__(message)
        self.commit = commit
        self.task_ids = task_ids


def workspace_sessions(store: Store, root: str) -> list[str]:
    """Ids of this workspace's sessions (one database may serve several workspaces)."""
    return [row["id"] for row in store.sessions() if row.get("workspace") == root]


def task_patches(store: Store, review: Review, task_id: str) -> list[FilePatch]:
    """Every patch of a task: the session's own, and earlier sessions' from the store (which join
    the patch book, so what the undo decides is saved like any review decision)."""
    book = review.book
    for data in store.task_patches([task_id]):
        if book.get(data["id"]) is None:
            book.put(FilePatch.from_dict(data), notify=False)
    return book.for_task(task_id)


def task_facts(store: Store, ids: list[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """The tasks' titles, final answers (the model's last words: its summary) and models, in order."""
    summaries: dict[str, str] = {}
    models: list[str] = []
    for turn in store.turn_replies(ids):
        choices = turn["response"].get("choices") or [{}]
        text = (choices[0].get("message") or {}).get("content")
        if isinstance(text, str) and text.strip():
            summaries[turn["task_id"]] = text.strip()
        if turn["model"] and turn["model"] not in models:
            models.append(turn["model"])
    return store.task_titles(ids), summaries, models


def check_undo(store: Store, review: Review, task_id: str | None, running: Collection[str]) -> list[FilePatch]:
    """The task's patches, or UndoRefused saying why this undo cannot be done."""
    task = store.get_task(task_id) if task_id else None
    if task is None or task["session_id"] not in workspace_sessions(store, str(review.view.root)):
        raise UndoRefused(f"unknown task {task_id!r} in this workspace (gdm.task.list shows its tasks)")
    if task_id in running:
        raise UndoRefused(f"task {task_id} is still running: wait for it to finish or cancel it (gdm.cancel), "
                          f"then undo")
    patches = task_patches(store, review, task_id)
    if not any(accepted(p) for p in patches):
        if store.task_audit([task_id], [UNDO]):
            raise UndoRefused(f"task {task_id} was undone already: none of its changes is accepted now")
        raise UndoRefused(f"task {task_id} has nothing accepted to undo "
                          f"({'no patches' if not patches else 'its changes are pending or rejected'})")
    return patches


async def undo_task(review: Review, store: Store, session_id: str, task_id: str | None, applier: Applier,
                    running: Collection[str] = (), *, revert_commit: bool | None = None,
                    trailer: str = "", model: str | None = None) -> dict[str, Any]:
    """Revert a task's accepted changes: `{applied, conflicts, undoneHunks}` (plus `revertCommit`
    and `taskIds` when a commit of it was reverted; `trailer` is the commitTrailer setting, `model`
    the model it names when the tasks' own is not recorded)."""
    patches = check_undo(store, review, task_id, running)
    assert task_id is not None
    commit = (store.get_task(task_id) or {}).get("commit_id")
    if not commit or reverted_by(store, task_id, commit) is not None or revert_commit is False:
        return await _undo(review, store, session_id, [task_id], patches, applier)
    ids = tasks_of_commit(store, task_id, commit)
    if revert_commit is None:
        others = f" together with task(s) {', '.join(t for t in ids if t != task_id)}" if len(ids) > 1 else ""
        raise CommittedTask(f"task {task_id} is committed as {commit[:12]}{others}: undo it with a revert commit "
                            f"(git revert; history is kept), or in the files only", commit, ids)
    models = (await asyncio.to_thread(task_facts, store, ids))[2]
    line = trailer_line(trailer, ", ".join(models) or model)
    try:
        sha, notes = await asyncio.to_thread(revert, review.view, commit, line)
    except (CommitRefused, GitError) as exc:
        raise UndoRefused(str(exc)) from exc
    for tid in ids:
        store.add_audit(session_id, tid, COMMIT, revert_detail(ids, sha, commit, notes))
    together = [p for tid in ids if tid != task_id for p in task_patches(store, review, tid) if accepted(p)]
    result = await _undo(review, store, session_id, ids, patches + together, applier)
    return {**result, "revertCommit": sha, "taskIds": ids, **({"notes": notes} if notes else {})}


async def _undo(review: Review, store: Store, session_id: str, task_ids: list[str], patches: list[FilePatch],
                applier: Applier) -> dict[str, Any]:
    """Plan the undo of `patches` (the tasks'), apply it, record it; an audit row per task."""
    undo = plan_undo(review.view, task_ids[0], patches, review.task_label(task_ids[0]))
    plan = undo.plan
    conflicts = [c.to_json(full=True) for c in plan.conflicts]
    result: dict[str, Any] = {"applied": False, "conflicts": conflicts, "undoneHunks": 0}
    if plan.steps:
        outcome = await applier.apply(plan)
        if outcome.ok:
            await _record(review, undo)
            result = {"applied": True, "conflicts": conflicts, "undoneHunks": undo.count()}
        else:
            reason = outcome.reason or "the change was not applied"
            result["conflicts"] = conflicts + [
                {"patchId": pid, "path": review.book.get(pid).path if review.book.get(pid) else "", "hunk": i,
                 "reason": reason} for pid, hunks in undo.reverted.items() for i in hunks]
    for task_id in task_ids:
        store.add_audit(session_id, task_id, UNDO, {**result, "reverted": undo.reverted, "label": plan.label})
    return result


async def _record(review: Review, undo: UndoPlan) -> None:
    """What was reverted is no longer accepted: marked rejected (in the store before anyone hears
    of it); a file moved back takes its open patches along."""
    for patch_id, hunks in undo.reverted.items():
        patch = review.book.get(patch_id)
        if patch is None:
            continue
        if patch.kind is PatchKind.RENAME:
            review.book.decide(patch, HunkStatus.REJECTED)
            review.book.moved(patch.new_path or patch.path, patch.path)
        else:
            review.book.set_hunks(patch, hunks, HunkStatus.REJECTED)
        await review.book.settled()
        review.changed(patch)


def list_tasks(store: Store, review: Review, titles: dict[str, str], limit: int = 50) -> list[dict[str, Any]]:
    """`gdm.task.list`: this workspace's tasks, newest first, with title, cost, patches, accepted hunks."""
    rows = store.tasks_of_sessions(workspace_sessions(store, str(review.view.root)), limit)
    ids = [r["id"] for r in rows]
    stored = {t: [] for t in ids}  # type: dict[str, list[FilePatch]]
    for data in store.task_patches(ids) if ids else []:
        live = review.book.get(data["id"])
        stored[data["taskId"]].append(live if live is not None else FilePatch.from_dict(data))
    named = {r["task_id"]: r["detail"].get("title") for r in store.task_audit(ids, ["task.title"])} if ids else {}
    return [{"taskId": r["id"], "title": titles.get(r["id"]) or named.get(r["id"]) or None, "prompt": r["prompt"],
             "status": r["status"], "costUsd": round(r["costUsd"], 6), "patchIds": [p.id for p in stored[r["id"]]],
             "accepted": sum(len(a.hunks) for a in map(accepted, stored[r["id"]]) if a is not None),
             "startedAt": r["created_at"], "commit": r.get("commit_id")}
            for r in rows]
