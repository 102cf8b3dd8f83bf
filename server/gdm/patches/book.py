"""The pending patches of a session, in memory, by id.

One owner (the session) holds a PatchBook; tools add to it, review decides hunks in it, and
every change is handed to a listener so it can be written to the store as it happens.

Tasks of one conversation (the first ask, then each follow-up) are *kin*: a task reads, extends
and moves its kin's pending patches as its own, so a conversation keeps one pending patch per file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gdm.patches.model import FilePatch, HunkStatus, PatchKind, PatchStatus

PatchListener = Callable[[FilePatch], None]
Settle = Callable[[], Awaitable[None]]

OPEN_STATUSES = (PatchStatus.PENDING, PatchStatus.PARTIAL)


class PatchBook:
    """Patches by id, in creation order, with a listener called on every change."""

    def __init__(self, on_change: PatchListener | None = None, settle: Settle | None = None) -> None:
        self._patches: dict[str, FilePatch] = {}
        self._on_change = on_change
        self._settle = settle  # awaits what the listener still writes in the background
        self._conversation: dict[str, str] = {}  # task id -> conversation id, for the tasks told of

    def join(self, task_id: str, conversation_id: str) -> None:
        """Record that `task_id` belongs to `conversation_id` (its kin share pending patches)."""
        self._conversation[task_id] = conversation_id

    def kin(self, owner: str, task_id: str | None) -> bool:
        """Whether a patch of task `owner` is `task_id`'s own: the same task, or one conversation."""
        if task_id is None:
            return False
        if owner == task_id:
            return True
        mine = self._conversation.get(task_id)
        return mine is not None and self._conversation.get(owner) == mine

    def set_listener(self, on_change: PatchListener | None) -> None:
        """Where changes go (the store); set once the store is open."""
        self._on_change = on_change

    def put(self, patch: FilePatch, *, notify: bool = True) -> None:
        """Add or replace a patch (same id = an update of the same proposal)."""
        self._patches[patch.id] = patch
        if notify and self._on_change is not None:
            self._on_change(patch)

    async def settled(self) -> None:
        """Wait until the listener has written every change so far (raising its failure): call it
        before telling anyone of a change, or answering for it."""
        if self._settle is not None:
            await self._settle()

    def get(self, patch_id: str) -> FilePatch | None:
        """The patch with this id, or None."""
        return self._patches.get(patch_id)

    def all(self) -> list[FilePatch]:
        """Every patch, oldest first."""
        return list(self._patches.values())

    def open(self) -> list[FilePatch]:
        """Patches with at least one pending hunk."""
        # list() first: a worker thread may read while the loop thread adds.
        return [p for p in list(self._patches.values()) if p.status in OPEN_STATUSES]

    def open_for_path(self, path: str) -> list[FilePatch]:
        """Open patches on one workspace-relative path, oldest first."""
        return [p for p in self.open() if p.path == path]

    def for_task(self, task_id: str) -> list[FilePatch]:
        """Every patch a task proposed."""
        return [p for p in list(self._patches.values()) if p.task_id == task_id]

    def untouched(self, task_id: str, path: str) -> FilePatch | None:
        """The task's (or its kin's) patch on `path` that nobody has reviewed yet, which a new edit may extend."""
        for patch in reversed(list(self._patches.values())):
            if self.kin(patch.task_id, task_id) and patch.path == path and patch.kind is not PatchKind.RENAME:
                if all(h.status is HunkStatus.PENDING for h in patch.hunks):
                    return patch
                return None
        return None

    def renamed_from(self, task_id: str, path: str) -> str | None:
        """The old path of a file this task is moving to `path` (pending rename), else None.

        Until the move is accepted the file lives at its old path, so that is where the task's
        reads and edits of the new path go; accepting the move carries them along.
        """
        for patch in self.open():
            if patch.kind is PatchKind.RENAME and self.kin(patch.task_id, task_id) and patch.new_path == path:
                return patch.path
        return None

    def moving_to(self, task_id: str, path: str) -> str | None:
        """Where this task is moving the file at `path` (pending rename), else None."""
        for patch in self.open():
            if patch.kind is PatchKind.RENAME and self.kin(patch.task_id, task_id) and patch.path == path:
                return patch.new_path
        return None

    def moved(self, old: str, new: str) -> None:
        """The file at `old` is now at `new`: its other open patches follow it."""
        for patch in self.open_for_path(old):
            if patch.kind is not PatchKind.RENAME:
                patch.path = new
                self.put(patch)

    def decide(self, patch: FilePatch, status: HunkStatus) -> None:
        """Accept or reject a whole-file operation (a rename) and announce the change."""
        patch.decision = status
        self.put(patch)

    def set_hunks(self, patch: FilePatch, indices: list[int], status: HunkStatus) -> None:
        """Mark hunks accepted or rejected and announce the change."""
        for hunk in patch.hunks:
            if hunk.index in indices:
                hunk.status = status
        self.put(patch)
