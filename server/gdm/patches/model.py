"""The patch model: a proposed change to one file, split into hunks that are decided one by one.

A FilePatch keeps the whole base and new text, plus hunks computed the way `diff -u` groups changes
(difflib, 3 lines of context). Each hunk records the base lines it replaces and up to three context
lines on each side, which is what `patches.apply` needs to find it again after the user has typed.

Lines here are split after '\\n' only and keep their ending ('\\n', '\\r\\n' or nothing on the last
line), the convention difflib, unidiff and git share. Diffs are rendered with difflib and parsed with
unidiff, so `parse_diff(render_diff(...))` gives back the hunks `make_patch` computed.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from unidiff import PatchSet

from gdm.patches.risk import Risk

CONTEXT = 3
DEV_NULL = "/dev/null"
NO_NEWLINE_MARKER = "\\ No newline at end of file\n"


class HunkStatus(str, Enum):
    """The review decision on one hunk."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class PatchStatus(str, Enum):
    """The review state of a whole patch, derived from its hunks."""

    PENDING = "pending"
    PARTIAL = "partial"  # some hunks decided, some still pending
    ACCEPTED = "accepted"  # all decided, at least one accepted
    REJECTED = "rejected"  # all rejected


class PatchKind(str, Enum):
    """What the patch does to the file as a whole."""

    MODIFY = "modify"
    CREATE = "create"
    DELETE = "delete"
    RENAME = "rename"  # moves the file to `new_path`; no hunks: one decision for the whole move


def utc_now_iso() -> str:
    """The current time as an ISO 8601 UTC string."""
    return datetime.now(timezone.utc).isoformat()


def sha256_text(text: str) -> str:
    """Hex sha256 of the UTF-8 encoding of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_lines(text: str) -> list[str]:
    """Lines of `text`, each keeping its '\\n' / '\\r\\n' ending; the last may have none."""
    # Not str.splitlines: it also breaks on '\r', '\x0c', '\u2028'…; diff tools and unidiff don't.
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


@dataclass
class Hunk:
    """One contiguous change: `old_lines` at `old_start` in the base become `new_lines`.

    A hunk that merges nearby changes keeps the unchanged lines between them inside both
    `old_lines` and `new_lines`. `before`/`after` are the (up to 3) base lines around it.
    """

    index: int
    old_start: int
    old_lines: list[str]
    new_lines: list[str]
    before: list[str]
    after: list[str]
    status: HunkStatus = HunkStatus.PENDING

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {"index": self.index, "oldStart": self.old_start, "oldLines": list(self.old_lines),
                "newLines": list(self.new_lines), "before": list(self.before),
                "after": list(self.after), "status": self.status.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hunk:
        """Inverse of `to_dict`."""
        return cls(index=d["index"], old_start=d["oldStart"], old_lines=list(d["oldLines"]),
                   new_lines=list(d["newLines"]), before=list(d["before"]), after=list(d["after"]),
                   status=HunkStatus(d.get("status", "pending")))


@dataclass
class FilePatch:
    """A proposed change to one workspace file, reviewed hunk by hunk."""

    id: str
    task_id: str
    path: str
    kind: PatchKind
    base_text: str
    new_text: str
    base_version: int | None
    base_hash: str
    hunks: list[Hunk]
    risk: Risk | None = None
    created_at: str = field(default_factory=utc_now_iso)
    new_path: str | None = None  # RENAME: where the file goes
    decision: HunkStatus = HunkStatus.PENDING  # RENAME: the decision on the move (it has no hunks)

    @property
    def status(self) -> PatchStatus:
        """PENDING until a hunk is decided, PARTIAL while some are, then ACCEPTED or REJECTED."""
        if self.kind is PatchKind.RENAME:
            return {HunkStatus.PENDING: PatchStatus.PENDING, HunkStatus.ACCEPTED: PatchStatus.ACCEPTED,
                    HunkStatus.REJECTED: PatchStatus.REJECTED}[self.decision]
        states = {h.status for h in self.hunks}
        if not states or states == {HunkStatus.PENDING}:
            return PatchStatus.PENDING
        if HunkStatus.PENDING in states:
            return PatchStatus.PARTIAL
        return PatchStatus.ACCEPTED if HunkStatus.ACCEPTED in states else PatchStatus.REJECTED

    def pending_hunks(self) -> list[Hunk]:
        """Hunks still waiting for a decision, in document order."""
        return [h for h in self.hunks if h.status is HunkStatus.PENDING]

    def diff(self, only_pending: bool = False) -> str:
        """Unified diff (a/<path>, b/<path>, /dev/null for create/delete, 3 lines of context).

        With `only_pending`, the diff goes from the base with the accepted hunks applied (what the
        document holds after review so far) to that text with the pending hunks applied as well.
        """
        if self.kind is PatchKind.RENAME:
            return render_rename(self.path, self.new_path or self.path)
        if not only_pending:
            return render_diff(self.path, self.base_text, self.new_text, self.kind)
        done = [h for h in self.hunks if h.status is HunkStatus.ACCEPTED]
        pending = self.pending_hunks()
        old = apply_to_base(self.base_text, done)
        new = apply_to_base(self.base_text, done + pending)
        return render_diff(self.path, old, new, self.kind)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that `from_dict` turns back into an equal FilePatch."""
        return {"id": self.id, "taskId": self.task_id, "path": self.path, "kind": self.kind.value,
                "baseText": self.base_text, "newText": self.new_text,
                "baseVersion": self.base_version, "baseHash": self.base_hash,
                "hunks": [h.to_dict() for h in self.hunks],
                "risk": self.risk.to_json() if self.risk is not None else None,
                "status": self.status.value, "createdAt": self.created_at,
                **({"newPath": self.new_path, "decision": self.decision.value} if self.new_path else {})}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FilePatch:
        """Inverse of `to_dict` (the derived `status` key is ignored)."""
        risk = Risk.from_json(d["risk"]) if d.get("risk") is not None else None
        return cls(id=d["id"], task_id=d["taskId"], path=d["path"], kind=PatchKind(d["kind"]),
                   base_text=d["baseText"], new_text=d["newText"], base_version=d.get("baseVersion"),
                   base_hash=d["baseHash"], hunks=[Hunk.from_dict(h) for h in d["hunks"]],
                   risk=risk, created_at=d["createdAt"], new_path=d.get("newPath"),
                   decision=HunkStatus(d.get("decision", "pending")))


def apply_to_base(base_text: str, hunks: list[Hunk]) -> str:
    """The base text with `hunks` applied at their recorded positions (no drift handling)."""
    lines = split_lines(base_text)
    out: list[str] = []
    pos = 0
    for hunk in sorted(hunks, key=lambda h: h.old_start):
        out.extend(lines[pos:hunk.old_start])
        out.extend(hunk.new_lines)
        pos = hunk.old_start + len(hunk.old_lines)
    out.extend(lines[pos:])
    return "".join(out)


def compute_hunks(base_text: str, new_text: str) -> list[Hunk]:
    """Hunks between two texts, grouped exactly as `difflib.unified_diff` groups them."""
    a, b = split_lines(base_text), split_lines(new_text)
    hunks: list[Hunk] = []
    for group in difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(CONTEXT):
        changes = [op for op in group if op[0] != "equal"]
        i1, j1 = changes[0][1], changes[0][3]
        i2, j2 = changes[-1][2], changes[-1][4]
        first, last = group[0], group[-1]
        before = a[first[1]:first[2]] if first[0] == "equal" else []
        after = a[last[1]:last[2]] if last[0] == "equal" else []
        hunks.append(Hunk(index=len(hunks), old_start=i1, old_lines=a[i1:i2], new_lines=b[j1:j2],
                          before=before, after=after))
    return hunks


def make_patch(*, patch_id: str, task_id: str, path: str, base_text: str, new_text: str,
               base_version: int | None = None, kind: PatchKind | None = None) -> FilePatch:
    """A pending FilePatch from `base_text` to `new_text` (kind defaults to MODIFY)."""
    kind = PatchKind(kind) if kind is not None else PatchKind.MODIFY
    if kind is PatchKind.CREATE and base_text:
        raise ValueError("a CREATE patch needs an empty base text")
    if kind is PatchKind.DELETE and new_text:
        raise ValueError("a DELETE patch needs an empty new text")
    return FilePatch(id=patch_id, task_id=task_id, path=path, kind=kind, base_text=base_text,
                     new_text=new_text, base_version=base_version, base_hash=sha256_text(base_text),
                     hunks=compute_hunks(base_text, new_text))


def make_rename(*, patch_id: str, task_id: str, path: str, new_path: str, text: str,
                base_version: int | None = None) -> FilePatch:
    """A pending move of `path` (whose content is `text` now) to `new_path`, content unchanged."""
    if path == new_path:
        raise ValueError("a RENAME patch needs a new path")
    return FilePatch(id=patch_id, task_id=task_id, path=path, kind=PatchKind.RENAME, base_text=text,
                     new_text=text, base_version=base_version, base_hash=sha256_text(text), hunks=[],
                     new_path=new_path)


def render_rename(path: str, new_path: str) -> str:
    """The git-style header of a pure rename (what `git diff -M` prints for a 100% similar move)."""
    return f"diff --git a/{path} b/{new_path}\nsimilarity index 100%\nrename from {path}\nrename to {new_path}\n"


def _body_line(prefix: str, line: str) -> str:
    if line.endswith("\n"):
        return prefix + line
    return prefix + line + "\n" + NO_NEWLINE_MARKER


def render_diff(path: str, old_text: str, new_text: str, kind: PatchKind = PatchKind.MODIFY) -> str:
    """Unified diff of one file with 3 lines of context; "" when the texts are equal.

    Lines without a final newline get the "\\ No newline at end of file" marker, as git writes it.
    """
    kind = PatchKind(kind)
    from_file = DEV_NULL if kind is PatchKind.CREATE else f"a/{path}"
    to_file = DEV_NULL if kind is PatchKind.DELETE else f"b/{path}"
    out: list[str] = []
    diff = difflib.unified_diff(split_lines(old_text), split_lines(new_text),
                                fromfile=from_file, tofile=to_file, n=CONTEXT)
    for n, line in enumerate(diff):
        if n < 2 or line.startswith("@@"):
            out.append(line)  # headers and hunk ranges already end with "\n"
        else:
            out.append(_body_line(line[0], line[1:]))
    return "".join(out)


def _strip_marker_newline(lines: list[tuple[str, str]]) -> None:
    kind, value = lines[-1]
    lines[-1] = (kind, value[:-1] if value.endswith("\n") else value)


def parse_diff(diff_text: str) -> list[Hunk]:
    """Hunks of a one-file unified diff (inverse of `render_diff`), parsed with unidiff."""
    files = PatchSet(diff_text)
    if not files:
        return []
    if len(files) > 1:
        raise ValueError(f"expected a diff of one file, got {len(files)}")
    hunks: list[Hunk] = []
    for uhunk in files[0]:
        body: list[tuple[str, str]] = []
        for line in uhunk:
            if line.line_type == "\\":
                _strip_marker_newline(body)
            else:
                body.append((line.line_type, line.value))
        hunks.append(_hunk_from_body(len(hunks), uhunk.source_start, uhunk.source_length, body))
    return hunks


def _hunk_from_body(index: int, source_start: int, source_length: int,
                    body: list[tuple[str, str]]) -> Hunk:
    changed = [i for i, (kind, _) in enumerate(body) if kind != " "]
    first, last = changed[0], changed[-1]
    core = body[first:last + 1]
    before = [v for _, v in body[:first]]
    # an empty source range names the line after which it sits, i.e. the 0-based insertion index
    first_line = source_start - 1 if source_length > 0 else source_start
    return Hunk(index=index, old_start=first_line + len(before),
                old_lines=[v for k, v in core if k != "+"], new_lines=[v for k, v in core if k != "-"],
                before=before, after=[v for _, v in body[last + 1:]])

