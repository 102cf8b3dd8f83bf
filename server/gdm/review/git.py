"""git for the review engine: the one module that runs `git` (a subprocess; no git library).

Every call runs with the user's own configuration (author, signing, hooks decide as they would
for the user's `git commit`), in an environment cleaned of GIT_DIR / GIT_INDEX_FILE /
GIT_WORK_TREE inherited from whoever started gdm (a hook running gdm must not redirect it), with
no terminal prompts, stdin closed (or the input given) and a timeout. Blocking: callers run it
off the event loop. A failure is a `GitError` carrying git's own output.

A commit is made from a *temporary index* (`Repo.temp_index`): the tree of HEAD plus exactly the
entries the caller sets, so what the user staged or left unstaged elsewhere never joins it; the
real index is then told of the committed entries (`Repo.set_entries`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 30.0
COMMIT_TIMEOUT_S = 600.0  # hooks may run a test suite; signing may wait for an agent
ZERO = "0" * 40
IN_PROGRESS = (("rebase-merge", "a rebase"), ("rebase-apply", "a rebase or `git am`"), ("MERGE_HEAD", "a merge"),
               ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert"), ("BISECT_LOG", "a bisect"))
_INHERITED = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


def looks_like_repo(folder: Path) -> bool:
    """Whether `folder` or a folder above it has a `.git` (no git run: cheap enough for lenses;
    `Repo.find` decides)."""
    return any((p / ".git").exists() for p in (folder, *folder.parents))


class GitError(Exception):
    """A git command that failed; `output` is what it printed (stderr, then stdout)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Entry:
    """One index or tree entry: file mode (`100644`, `100755`, `120000`…) and object id."""

    mode: str
    sha: str


def _env(index: Path | None = None, literal: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true"})
    if literal:  # paths are file names, never patterns (a file named `*.py` is that file)
        env["GIT_LITERAL_PATHSPECS"] = "1"
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    return env


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def run(cwd: Path, args: list[str], *, index: Path | None = None, data: bytes | None = None,
        timeout: float = TIMEOUT_S, check: bool = True, literal: bool = True) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` in `cwd`; GitError when it fails (with `check`), cannot start or times out.
    `literal`: pathspecs are plain paths (`check-ignore` refuses that magic: False there)."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=_env(index, literal), input=data, capture_output=True,
                              stdin=None if data is not None else subprocess.DEVNULL, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed (no `git` on PATH)") from exc
    except subprocess.TimeoutExpired as exc:
        output = (_text(exc.stderr) + _text(exc.stdout)).strip()
        raise GitError(f"`git {args[0]}` did not finish within {timeout:.0f} s (a hook or the signing program "
                       f"waiting for input?)", output) from exc
    if check and done.returncode != 0:
        output = (_text(done.stderr) + _text(done.stdout)).strip()
        raise GitError(f"`git {' '.join(args[:2])}` failed (exit {done.returncode}): {output[-2000:]}", output)
    return done


class Repo:
    """A git repository seen from a folder inside its working tree."""

    def __init__(self, top: Path, git_dir: Path) -> None:
        self.top = top
        self.git_dir = git_dir

    @classmethod
    def find(cls, folder: Path) -> Repo | None:
        """The repository whose working tree holds `folder`, or None (not in one; a bare one)."""
        try:
            done = run(folder, ["rev-parse", "--show-toplevel", "--absolute-git-dir"], check=False)
        except GitError:
            return None
        lines = _text(done.stdout).splitlines()
        if done.returncode != 0 or len(lines) < 2 or not lines[0]:
            return None
        return cls(Path(os.path.realpath(lines[0])), Path(lines[1]))

    def git(self, *args: str, index: Path | None = None, data: bytes | None = None, check: bool = True,
            timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[bytes]:
        """Run git at the top of the working tree."""
        return run(self.top, list(args), index=index, data=data, check=check, timeout=timeout)

    def out(self, *args: str, index: Path | None = None) -> str:
        """A git command's stdout, stripped."""
        return _text(self.git(*args, index=index).stdout).strip()

    # -- state --------------------------------------------------------------------------

    def branch(self) -> str | None:
        """The branch HEAD is on (`main`), or None when HEAD is detached."""
        done = self.git("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return (_text(done.stdout).strip() or None) if done.returncode == 0 else None

    def head(self) -> str | None:
        """HEAD's commit id, or None on a branch without commits yet."""
        done = self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
        return (_text(done.stdout).strip() or None) if done.returncode == 0 else None

    def in_progress(self) -> str | None:
        """What unfinished operation the repository is in (`a rebase`, `a merge`…), or None."""
        for name, what in IN_PROGRESS:
            if (self.git_dir / name).exists():
                return what
        return None

    def rel(self, path: Path) -> str:
        """The repository path (POSIX, relative to the top) of a file in the working tree."""
        return Path(os.path.realpath(path)).relative_to(self.top).as_posix()

    # -- objects and entries ------------------------------------------------------------

    def tree_entry(self, rev: str | None, path: str) -> Entry | None:
        """The entry of `path` in commit `rev` (None: not there, or no commit)."""
        if rev is None:
            return None
        return _entry(self.out("ls-tree", "-z", "--full-tree", rev, "--", path).rstrip("\0"))

    def index_entry(self, path: str, index: Path | None = None) -> Entry | None:
        """The stage-0 entry of `path` in the index (the real one, or `index`)."""
        listed = self.out("ls-files", "-s", "-z", "--", path, index=index)
        return _entry(listed.split("\0")[0]) if listed else None

    def worktree_bytes(self, rev: str, path: str) -> bytes:
        """`path` of commit `rev` as it would be checked out (smudge filters, line endings)."""
        return self.git("cat-file", "--filters", f"{rev}:{path}").stdout

    def hash_blob(self, data: bytes, path: str) -> str:
        """Store `data` as the blob of `path` (clean filters applied, as `git add` would)."""
        return _text(self.git("hash-object", "-w", "--stdin", "--path", path, data=data).stdout).strip()

    def ignored(self, path: str) -> bool:
        """Whether .gitignore (or info/exclude) ignores `path`."""
        done = run(self.top, ["check-ignore", "-q", "--no-index", "--", path], check=False, literal=False)
        return done.returncode == 0

    def subject(self, rev: str) -> str:
        """The first line of a commit's message."""
        return self.out("log", "-1", "--format=%s", rev)

    def parents(self, rev: str) -> list[str]:
        """A commit's parents."""
        return self.out("rev-list", "--parents", "-n", "1", rev).split()[1:]

    # -- indexes and commits ------------------------------------------------------------

    @contextlib.contextmanager
    def temp_index(self, rev: str | None) -> Iterator[Path]:
        """A temporary index holding the tree of `rev` (empty: None), removed afterwards."""
        fd, name = tempfile.mkstemp(prefix="gdm-index-", dir=self.git_dir)
        os.close(fd)
        index = Path(name)
        index.unlink()  # git writes it new; an empty file is not an index
        try:
            self.git("read-tree", *(["--empty"] if rev is None else [rev]), index=index)
            yield index
        finally:
            for leftover in (index, index.with_name(index.name + ".lock")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def set_entries(self, entries: Mapping[str, Entry | None], index: Path | None = None) -> None:
        """Set these paths' entries in the index (the real one, or `index`); None removes one."""
        lines = [f"0 {ZERO}\t{path}" if e is None else f"{e.mode} {e.sha}\t{path}" for path, e in entries.items()]
        self.git("update-index", "-z", "--index-info", index=index, data="\0".join(lines).encode() + b"\0")

    def write_tree(self, index: Path) -> str:
        """The tree object of an index."""
        return self.out("write-tree", index=index)

    def tree_of(self, rev: str | None) -> str | None:
        """The tree id of a commit (None: no commit)."""
        return None if rev is None else self.out("rev-parse", f"{rev}^{{tree}}")

    def apply_reverse(self, rev: str, index: Path) -> None:
        """Take commit `rev`'s changes out of `index` (what `git revert` does to a clean tree);
        GitError when they no longer apply."""
        diff = self.git("diff-tree", "-p", "--binary", "--full-index", "--root", "--no-color", rev).stdout
        if diff.strip():
            self.git("apply", "--cached", "-R", "--whitespace=nowarn", index=index, data=diff)

    def changed_paths(self, rev: str) -> list[str]:
        """The paths commit `rev` changes (against its first parent)."""
        names = self.out("diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "-z", "--no-renames", rev)
        return [n for n in names.split("\0") if n]

    def commit(self, message: str, index: Path, *, no_verify: bool = False) -> str:
        """`git commit` of `index` with `message` (hooks and signing as the user's config says);
        the new commit id. GitError with git's (and the hooks') output when it fails."""
        args = ["commit", "--quiet", "-F", "-", *(["--no-verify"] if no_verify else [])]
        self.git(*args, index=index, data=message.encode("utf-8"), timeout=COMMIT_TIMEOUT_S)
        return self.out("rev-parse", "HEAD")


def _entry(line: str) -> Entry | None:
    """`mode sha …<TAB>path` (ls-tree: `mode type sha`, ls-files -s: `mode sha stage`) → Entry."""
    if not line or "\t" not in line:
        return None
    fields = line.split("\t", 1)[0].split()
    if len(fields) == 3 and fields[1] in ("blob", "tree", "commit"):
        return Entry(fields[0], fields[2])
    if len(fields) == 3 and fields[2] != "0":
        return None  # a conflicted entry (stage 1-3)
    return Entry(fields[0], fields[1]) if len(fields) >= 2 else None
