"""The pending patches of a session, in memory, by id.

One owner (the session) holds a PatchBook; tools add to it, review decides hunks in it, and
every change is handed to a listener so it can be written to the store as it happens.
"""

from __future__ import annotations

from collections.abc import Callable

from gdm.patches.model import FilePatch, HunkStatus, PatchStatus

PatchListener = Callable[[FilePatch], None]

OPEN_STATUSES = (PatchStatus.PENDING, PatchStatus.PARTIAL)


class PatchBook:
    """Patches by id, in creation order, with a listener called on every change."""

    def __init__(self, on_change: PatchListener | None = None) -> None:
        self._patches: dict[str, FilePatch] = {}
        self._on_change = on_change

    def set_listener(self, on_change: PatchListener | None) -> None:
        """Where changes go (the store); set once the store is open."""
        self._on_change = on_change

    def put(self, patch: FilePatch, *, notify: bool = True) -> None:
        """Add or replace a patch (same id = an update of the same proposal)."""
        self._patches[patch.id] = patch
        if notify and self._on_change is not None:
            self._on_change(patch)

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
        """The task's patch on `path` that nobody has reviewed yet, which a new edit may extend."""
        for patch in reversed(list(self._patches.values())):
            if patch.task_id == task_id and patch.path == path:
                if all(h.status is HunkStatus.PENDING for h in patch.hunks):
                    return patch
                return None
        return None

    def set_hunks(self, patch: FilePatch, indices: list[int], status: HunkStatus) -> None:
        """Mark hunks accepted or rejected and announce the change."""
        for hunk in patch.hunks:
            if hunk.index in indices:
                hunk.status = status
        self.put(patch)
