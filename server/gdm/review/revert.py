"""Undoing a committed task in git: a revert commit, never a history rewrite.

The commit's changes are taken out of HEAD's tree in a temporary index (what `git revert` does to
a clean tree, so the working tree and the user's uncommitted edits are not touched: the undo of
the files is the review engine's, located by content as always) and committed with `git revert`'s
own message, `Revert "<subject>"` / `This reverts commit <id>.`, plus the `commitTrailer` line;
hooks and signing as for any commit. The real index then holds the reverted entries where it held
HEAD's. Refused (`CommitRefused`) when the commit is not on the current branch or its lines have
changed in later commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gdm.context.workspace import WorkspaceView
from gdm.review.git import GitError
from gdm.review.message import with_trailer
from gdm.review.staging import COMMIT, CommitRefused, git_commit, open_repo, update_index

if TYPE_CHECKING:
    from gdm.store.repo import Store


def reverted_by(store: Store, task_id: str, commit: str) -> str | None:
    """The revert commit gdm made of `commit` for this task, or None."""
    for row in store.task_audit([task_id], [COMMIT]):
        detail = row["detail"]
        if detail.get("action") == "revert" and detail.get("reverts") == commit:
            return str(detail.get("commit"))
    return None


def tasks_of_commit(store: Store, task_id: str, commit: str) -> list[str]:
    """Every task whose accepted changes went into `commit` with this one's (a squash), in order."""
    for row in store.task_audit([task_id], [COMMIT]):
        detail = row["detail"]
        if detail.get("action") == "commit" and detail.get("commit") == commit:
            return [str(t) for t in detail.get("taskIds") or [task_id]]
    return [task_id]


def revert(view: WorkspaceView, commit: str, trailer: str, no_verify: bool = False) -> tuple[str, list[str]]:
    """Make the revert commit of `commit` on the current branch; its id and notes for the user."""
    repo, branch, head = open_repo(view)
    if head is None or repo.git("merge-base", "--is-ancestor", commit, head, check=False).returncode != 0:
        raise CommitRefused(f"commit {commit[:12]} is not on the branch {branch} (HEAD): switch to the branch "
                            f"it was made on to revert it", "notOnBranch")
    paths = repo.changed_paths(commit)
    before = {p: repo.tree_entry(head, p) for p in paths}
    staged = [p for p in paths if repo.index_entry(p) != before[p]]
    if staged:
        raise CommitRefused(f"{', '.join(staged)} {'has' if len(staged) == 1 else 'have'} changes staged in git's "
                            f"index: commit or unstage them first, then undo", "staged")
    message = with_trailer(f'Revert "{repo.subject(commit)}"\n\nThis reverts commit {commit}.', trailer)
    with repo.temp_index(head) as index:
        try:
            repo.apply_reverse(commit, index)
        except GitError as exc:
            raise CommitRefused(f"commit {commit[:12]} cannot be reverted cleanly: later commits changed its "
                                f"lines:\n{exc.output or exc}", "revertConflict", exc.output) from exc
        if repo.write_tree(index) == repo.tree_of(head):
            raise CommitRefused(f"HEAD no longer holds the changes of commit {commit[:12]}: nothing to revert",
                                "nothingToCommit")
        after = {p: repo.index_entry(p, index) for p in paths}
        sha = git_commit(repo, index, message, no_verify, " of the revert")
    return sha, update_index(repo, after, "reverted")


def revert_detail(task_ids: list[str], sha: str, commit: str, notes: list[str]) -> dict[str, Any]:
    """The audit detail of a revert (kind `commit`, action `revert`)."""
    return {"action": "revert", "commit": sha, "reverts": commit, "taskIds": task_ids, "notes": notes}
