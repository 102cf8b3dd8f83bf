"""The workspace as the user sees it: open buffers over disk, a task's pending patches on top.

Every tool path goes through `WorkspaceView.rel`, the fence: a path must name something inside
the workspace root after normalisation and symlink resolution, or it is refused.
"""

from __future__ import annotations

import os
import posixpath
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, unquote, urlparse

from gdm.patches.apply import pending_view
from gdm.patches.book import PatchBook
from gdm.patches.model import PatchKind

if TYPE_CHECKING:
    import pathspec

# Never listed or searched: VCS internals and bulky dependency/build folders.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache", "dist", "build", ".eggs"})
# Readable only if the user allows it (later: a setting); never sent to a model by default.
# Compared case-insensitively: on a case-insensitive disk `.ENV` is `.env`.
SECRET_NAMES = frozenset({".env", ".netrc", ".pgpass", "id_rsa", "id_ed25519", "id_ecdsa", "id_dsa", ".npmrc",
                          ".pypirc", ".git-credentials", ".htpasswd", ".dockercfg"})
SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".env", ".keystore", ".jks")
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
MAX_READ_BYTES = 2_000_000


class PathRefused(Exception):
    """A path outside the workspace, or one the tools may not touch; the message says why."""


def _refuse_vcs(original: str, rel: str) -> None:
    """Version-control internals (`.git/…` at any depth, any case, trailing dots) are never touched."""
    for part in rel.split("/"):
        if part.lower().rstrip(" .") in VCS_DIRS:
            raise PathRefused(f"path {original!r} is version-control internals, which tools do not touch")


@dataclass(frozen=True)
class Buffer:
    """A document's text and the editor's version of it (None: read from disk)."""

    text: str
    version: int | None


class BufferSource(Protocol):
    """Where open editor buffers come from (the LSP server's documents; nothing headless)."""

    def buffer(self, path: str) -> Buffer | None:
        """The open buffer for a workspace-relative path, or None if not open."""

    def open_paths(self) -> set[str]:
        """Workspace-relative paths of every open buffer."""


class NoBuffers:
    """A BufferSource for headless runs: nothing is open, everything comes from disk."""

    def buffer(self, path: str) -> Buffer | None:
        return None

    def open_paths(self) -> set[str]:
        return set()


def path_to_uri(path: Path) -> str:
    """A `file://` URI for an absolute path."""
    return "file://" + quote(path.as_posix(), safe="/:")


def uri_to_path(uri: str) -> Path | None:
    """The filesystem path of a `file://` URI, or None for other schemes."""
    try:
        parsed = urlparse(uri)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    path = unquote(parsed.path)
    if parsed.scheme != "file" or "\x00" in path:  # no file has a NUL byte in its name
        return None
    return Path(path)


class WorkspaceView:
    """Reads and lists the workspace as the user sees it, fenced to its root."""

    def __init__(self, root: Path, buffers: BufferSource, patches: PatchBook) -> None:
        self.root = Path(os.path.realpath(root))
        self.buffers = buffers
        self.patches = patches

    # -- paths -------------------------------------------------------------------------

    def rel(self, path: str) -> str:
        """Normalise a tool path to a workspace-relative POSIX path, or raise PathRefused."""
        if not isinstance(path, str) or not path.strip():
            raise PathRefused("path must be a non-empty string relative to the workspace root")
        raw = unicodedata.normalize("NFC", path.strip())
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in raw):
            raise PathRefused(f"path {path!r} contains control or invisible characters (NUL, bidi, zero-width)")
        # Look-alikes (fullwidth dots and slashes, ligatures) are judged by what they normalise to.
        folded = unicodedata.normalize("NFKC", raw)
        for form in (raw, folded):
            if form.startswith(("/", "\\", "~")) or (len(form) > 1 and form[1] == ":"):
                raise PathRefused(f"path {path!r} is absolute; give it relative to the workspace root")
            if ".." in PurePosixPath(form.replace("\\", "/")).parts:
                raise PathRefused(f"path {path!r} leaves the workspace ('..' is not allowed)")
        parts = PurePosixPath(raw.replace("\\", "/")).parts
        norm = posixpath.normpath("/".join(parts))
        norm = "" if norm == "." else norm
        _refuse_vcs(path, folded.replace("\\", "/"))
        real = Path(os.path.realpath(self.root / norm))
        if real != self.root and self.root not in real.parents:
            raise PathRefused(f"path {path!r} resolves outside the workspace (symlink?)")
        resolved = "" if real == self.root else real.relative_to(self.root).as_posix()
        if resolved != norm:  # a symlink inside the workspace: judge where it leads, too
            _refuse_vcs(path, resolved)
            if self.is_secret(resolved) and not self.is_secret(norm):
                raise PathRefused(f"path {path!r} is a link to {resolved}, which holds secrets")
        return norm

    def abs(self, rel: str) -> Path:
        """The absolute path of an already-fenced relative path."""
        return self.root / rel if rel else self.root

    def uri(self, rel: str) -> str:
        """The `file://` URI of a workspace-relative path."""
        return path_to_uri(self.abs(rel))

    def rel_of_uri(self, uri: str) -> str | None:
        """The workspace-relative path of a URI, or None if it is outside the workspace."""
        path = uri_to_path(uri)
        if path is None:
            return None
        real = Path(os.path.realpath(path))
        if real == self.root or self.root not in real.parents:
            return None
        return real.relative_to(self.root).as_posix()

    @staticmethod
    def is_secret(rel: str) -> bool:
        """Files that hold secrets (.env, private keys, credential files) by their name, any case."""
        name = unicodedata.normalize("NFKC", PurePosixPath(rel).name).lower().rstrip(" .")
        return name in SECRET_NAMES or name.startswith(".env.") or name.endswith(SECRET_SUFFIXES)

    # -- text --------------------------------------------------------------------------

    def current(self, rel: str) -> Buffer | None:
        """The text the user sees now: the open buffer, else disk; None if the file does not exist."""
        buf = self.buffers.buffer(rel)
        if buf is not None:
            return buf
        path = self.abs(rel)
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_READ_BYTES:
            raise PathRefused(f"{rel} is larger than {MAX_READ_BYTES // 1_000_000} MB")
        data = path.read_bytes()
        if b"\x00" in data[:8192]:
            raise PathRefused(f"{rel} is a binary file")
        return Buffer(data.decode("utf-8", errors="replace"), None)

    def read(self, rel: str, task_id: str | None) -> str | None:
        """The current text with the task's own (and its conversation's) open patches on top (None if it does not exist).

        A file the task is moving (pending rename) is read at its new path, not its old one.
        """
        if task_id is not None:
            if self.patches.moving_to(task_id, rel) is not None:
                return None
            rel = self.patches.renamed_from(task_id, rel) or rel
        buf = self.current(rel)
        text = buf.text if buf is not None else None
        if task_id is None:
            return text
        for patch in self.patches.open_for_path(rel):
            if not self.patches.kin(patch.task_id, task_id) or patch.kind is PatchKind.RENAME:
                continue
            if patch.kind is PatchKind.DELETE:
                return None
            text = pending_view(patch, text or "")
        return text

    def exists_for(self, rel: str, task_id: str | None) -> bool:
        """Whether the file exists for this task (on disk, open, or created by its patches)."""
        return self.read(rel, task_id) is not None

    # -- listing -----------------------------------------------------------------------

    def _ignore_spec(self) -> pathspec.PathSpec:
        lines: list[str] = []
        gitignore = self.root / ".gitignore"
        if gitignore.is_file():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        import pathspec  # noqa: PLC0415 - 40 ms of import, needed at the first listing, not to answer initialize

        return pathspec.PathSpec.from_lines("gitignore", lines)

    def walk(self, rel_dir: str = "") -> Iterator[str]:
        """Workspace-relative files under `rel_dir`, honouring .gitignore, in sorted order."""
        spec = self._ignore_spec()
        start = self.abs(rel_dir)
        if start.is_file():
            yield rel_dir
            return
        for dirpath, dirnames, filenames in os.walk(start):
            base = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if base == "." else base
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not spec.match_file(f"{base}/{d}/".lstrip("/"))
                and not os.path.islink(os.path.join(dirpath, d))
            )
            for name in sorted(filenames):
                rel = f"{base}/{name}".lstrip("/")
                if spec.match_file(rel) or os.path.islink(os.path.join(dirpath, name)):
                    continue
                yield rel

    def list_files(self, rel_dir: str = "", pattern: str | None = None, task_id: str | None = None,
                   limit: int = 2000) -> list[str]:
        """Files under `rel_dir` matching a glob, plus files this task is creating."""
        import pathspec  # noqa: PLC0415

        spec = pathspec.PathSpec.from_lines("gitignore", [pattern]) if pattern else None
        found: list[str] = []
        for rel in self.walk(rel_dir):
            name_match = spec is None or spec.match_file(rel)
            if name_match:
                found.append(rel)
        mine = [p for p in self.patches.open() if self.patches.kin(p.task_id, task_id)]
        created = {p.path for p in mine if p.kind is not PatchKind.RENAME and not self.abs(p.path).exists()}
        created |= {p.new_path for p in mine if p.kind is PatchKind.RENAME and p.new_path}
        moved = {p.path for p in mine if p.kind is PatchKind.RENAME}
        found = [rel for rel in found if rel not in moved]
        for rel in sorted(created):
            under = not rel_dir or rel == rel_dir or rel.startswith(rel_dir.rstrip("/") + "/")
            if under and (spec is None or spec.match_file(rel)) and rel not in found:
                found.append(rel)
        return found[:limit]
