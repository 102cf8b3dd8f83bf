"""Staging a task's accepted hunks alone: the index entries a commit of exactly them needs.

The task's accepted hunks are found in the files as they are on disk now by the undo planner
(review/undo.py: each hunk turned around and located by content, so the user's typing around it
is told apart); a hunk that cannot be found any more means its lines changed since, and nothing
is committed. The file without the task's hunks, the file as the last commit has it (HEAD, as
checked out) and the file now are then merged three ways (patches/merge.py): HEAD plus exactly
the task's hunks, so the user's other uncommitted edits in the same file stay out of the commit
and unstaged; a hunk on lines that only the user's uncommitted edit has is refused, never
guessed. Files the task created go in whole, files it deleted go out, moves move.

Refusals are `CommitRefused` with a sentence a person can act on and a `reason` code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from gdm.context.workspace import NoBuffers, PathRefused, WorkspaceView
from gdm.patches.merge import merge3
from gdm.patches.model import FilePatch, render_diff
from gdm.patches.plan import Op, Step
from gdm.review.git import Entry, GitError, Repo
from gdm.review.undo import plan_undo

TEXT_MODES = ("100644", "100755")
COMMIT = "commit"  # the audit kind of commits and reverts (`gdm audit --kind commit`)


class CommitRefused(Exception):
    """A commit that cannot be made; `reason` is a code (notGit, detachedHead, inProgress,
    nothingAccepted, committed, changedSince, unsaved, notCommitted, entangled, staged, ignored,
    nothingToCommit, headMoved, gitFailed, unknownTask, running; undo: notOnBranch, revertConflict),
    `output` git's words when it failed, `paths` the workspace files it is about (unsaved ones)."""

    def __init__(self, message: str, reason: str, output: str = "", paths: list[str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.output = output
        self.paths = paths or []  # the files it is about (unsaved: those to save)


@dataclass
class Staging:
    """What a commit of the tasks' accepted hunks sets in the index, and the diff it makes."""

    repo: Repo
    branch: str
    head: str | None
    entries: dict[str, Entry | None] = field(default_factory=dict)  # repo path -> new entry (None: removed)
    files: list[str] = field(default_factory=list)  # workspace paths it changes, as the user names them
    hunks: dict[str, list[int]] = field(default_factory=dict)  # patch id -> the hunks that go in
    diffs: list[str] = field(default_factory=list)

    @property
    def diff(self) -> str:
        """The commit's change as a unified diff (for the message)."""
        return "".join(self.diffs)


def open_repo(root_view: WorkspaceView) -> tuple[Repo, str, str | None]:
    """The repository, its branch and HEAD, or CommitRefused (not a repository, detached HEAD, a
    rebase or merge in progress)."""
    repo = Repo.find(root_view.root)
    if repo is None:
        raise CommitRefused(f"{root_view.root} is not in a git repository: `git init` it first", "notGit")
    busy = repo.in_progress()
    if busy is not None:
        raise CommitRefused(f"the repository is in the middle of {busy}: finish or abort it first "
                            f"(git status says how)", "inProgress")
    branch = repo.branch()
    if branch is None:
        raise CommitRefused("HEAD is detached (not on a branch): check out a branch first, e.g. "
                            "`git switch -c <name>`", "detachedHead")
    return repo, branch, repo.head()


def unsaved(view: WorkspaceView, patches: list[FilePatch]) -> list[str]:
    """The task's files whose open buffer differs from the disk (the commit takes the disk)."""
    disk = WorkspaceView(view.root, NoBuffers(), view.patches)
    paths = sorted({p.path for p in patches} | {p.new_path for p in patches if p.new_path})
    out = []
    for path in paths:
        try:
            buffer = view.buffers.buffer(path)
        except PathRefused:  # the editor would not say (ACP): the disk is what is committed
            continue
        if buffer is None:
            continue
        on_disk = disk.current(path)
        if on_disk is None or on_disk.text != buffer.text:
            out.append(path)
    return out


def stage(view: WorkspaceView, patches: list[FilePatch], label: str) -> Staging:
    """The index entries of a commit holding exactly the accepted hunks of `patches` (the tasks'),
    located in the files on disk now; CommitRefused when it cannot be made (git itself failing
    too: a file in a submodule, a locked or broken repository)."""
    try:
        return _stage(view, patches, label)
    except GitError as exc:
        raise CommitRefused(f"git could not prepare the commit: {exc}", "gitFailed", exc.output) from exc


def _stage(view: WorkspaceView, patches: list[FilePatch], label: str) -> Staging:
    repo, branch, head = open_repo(view)
    dirty = unsaved(view, patches)
    if dirty:
        raise CommitRefused(f"unsaved changes in {', '.join(dirty)}: save {'it' if len(dirty) == 1 else 'them'} "
                            f"first (the commit takes the files as they are on disk)", "unsaved", paths=dirty)
    disk = WorkspaceView(view.root, NoBuffers(), view.patches)
    try:
        undo = plan_undo(disk, "commit", patches, label)
    except PathRefused as exc:
        raise CommitRefused(f"cannot read the task's files: {exc}", "changedSince") from exc
    if undo.plan.conflicts:
        which = "; ".join(f"{c.path} hunk {c.hunk}: {_why(c.reason)}" for c in undo.plan.conflicts)
        raise CommitRefused(f"the accepted lines changed since they were accepted, so they cannot be told from "
                            f"other edits: {which}", "changedSince")
    staging = Staging(repo, branch, head, hunks={k: sorted(v) for k, v in undo.reverted.items()})
    came_from = {s.path: s.new_path for s in undo.plan.steps if s.op is Op.MOVE and s.new_path}
    for step in undo.plan.steps:
        _Stager(staging, disk).step(step, came_from.get(step.path))
    before = {p: repo.tree_entry(head, p) for p in staging.entries}
    if all(staging.entries[p] == before[p] for p in staging.entries):
        raise CommitRefused("the last commit (HEAD) already holds the task's accepted changes: nothing to commit",
                            "nothingToCommit")
    staged = [p for p in staging.entries if repo.index_entry(p) not in (before[p], staging.entries[p])]
    if staged:
        raise CommitRefused(f"{', '.join(staged)} {'has' if len(staged) == 1 else 'have'} other changes staged in "
                            f"git's index: commit or unstage them first (`git restore --staged -- "
                            f"{' '.join(staged)}`), so that the commit holds only the task's lines", "staged",
                            paths=staged)
    return staging


def git_commit(repo: Repo, index: Path, message: str, no_verify: bool, what: str = "") -> str:
    """`git commit` of `index` (hooks, signing); CommitRefused with git's and the hooks' output."""
    try:
        return repo.commit(message, index, no_verify=no_verify)
    except GitError as exc:
        raise CommitRefused(f"git commit{what} failed (a hook refused it, or signing failed); nothing was "
                            f"committed:\n{exc.output or exc}", "gitFailed", exc.output) from exc


def update_index(repo: Repo, entries: dict[str, Entry | None], done: str) -> list[str]:
    """The real index told of the committed entries; a note for the user when it cannot be."""
    try:
        repo.set_entries(entries)
    except GitError as exc:
        return [f"{done}, but git's index could not be updated ({exc}); `git reset -q -- "
                f"{' '.join(entries)}` makes `git status` right again"]
    return []


def _why(reason: str) -> str:
    """An undo conflict's reason, said for a commit (no "cannot be undone", no second "hunk N:")."""
    return re.sub(r"^hunk \d+: ", "", reason.removeprefix("cannot be undone, the text changed since: "))


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommitRefused(f"{path} is not UTF-8 text in the last commit", "notCommitted") from exc


class _Stager:
    """Turns the undo plan's steps around into index entries on top of HEAD."""

    def __init__(self, staging: Staging, disk: WorkspaceView) -> None:
        self.s, self.disk, self.repo = staging, disk, staging.repo

    def rel(self, path: str) -> str:
        return self.repo.rel(self.disk.abs(path))

    def base(self, path: str, shown: str) -> tuple[Entry, str]:
        """HEAD's entry and text of repo path `path` (as checked out), or CommitRefused."""
        entry = self.repo.tree_entry(self.s.head, path)
        if entry is None:
            raise CommitRefused(f"{shown} is not in the last commit (it is new in your working tree): commit it "
                                f"first, then the task", "notCommitted")
        if entry.mode not in TEXT_MODES:
            raise CommitRefused(f"{shown} is a symbolic link or submodule in git; gdm commits only files",
                                "notCommitted")
        return entry, _decode(self.repo.worktree_bytes(self.s.head or "HEAD", path), shown)

    def put(self, shown: str, rel: str, entry: Entry | None, old: str | None, new: str | None) -> None:
        self.s.entries[rel] = entry
        self.s.files.append(shown)
        if old != new:
            self.s.diffs.append(render_diff(shown, old or "", new or ""))

    def step(self, step: Step, came_from: str | None) -> None:
        if step.op is Op.EDIT:
            self.edit(step, came_from)
        elif step.op is Op.DELETE:  # the undo would delete a file the task created: it goes in whole
            self.created(step.path, step.before or "")
        elif step.op is Op.CREATE:  # the undo would bring back a file the task deleted: it goes out
            rel = self.rel(step.path)
            entry = self.repo.tree_entry(self.s.head, rel)
            if entry is not None:
                _, text = self.base(rel, step.path)
                self.put(step.path, rel, None, text, None)
        elif step.op is Op.MOVE and step.new_path:  # the undo would move it back: the task's move
            self.moved(step.path, step.new_path)

    def edit(self, step: Step, came_from: str | None) -> None:
        """The task's hunks (the file now against the file without them) merged into HEAD's text."""
        rel = self.rel(step.path)
        source = self.rel(came_from) if came_from else rel
        entry, head_text = self.base(source, came_from or step.path)
        merged = merge3(step.after or "", head_text, step.before or "")
        if merged.conflicts:
            lines = ", ".join(map(str, merged.conflicts))
            raise CommitRefused(f"{step.path} (near line {lines}): the task's change sits on lines you changed and "
                                f"have not committed, so it cannot go on the committed file alone; commit or stash "
                                f"your edits there first", "entangled")
        blob = self.repo.hash_blob(merged.text.encode("utf-8"), rel)
        self.put(step.path, rel, Entry(entry.mode, blob), head_text, merged.text)

    def created(self, path: str, text: str) -> None:
        rel = self.rel(path)
        if self.repo.tree_entry(self.s.head, rel) is None and self.repo.ignored(rel):
            raise CommitRefused(f"{path}, which the task created, is ignored by git (.gitignore): not committing it",
                                "ignored")
        mode = "100755" if os.access(self.disk.abs(path), os.X_OK) else "100644"
        self.put(path, rel, Entry(mode, self.repo.hash_blob(text.encode("utf-8"), rel)), None, text)

    def moved(self, now: str, was: str) -> None:
        rel_now, rel_was = self.rel(now), self.rel(was)
        entry, _ = self.base(rel_was, was)
        self.s.entries[rel_was] = None
        self.s.files.append(was)
        if rel_now not in self.s.entries:  # no edits of the task there: HEAD's content, moved
            self.s.entries[rel_now] = entry
            self.s.files.append(now)
        self.s.diffs.append(f"diff --git a/{was} b/{now}\nrename from {was}\nrename to {now}\n")
