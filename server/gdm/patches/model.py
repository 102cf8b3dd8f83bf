"""The patch model: a proposed change to one file, split into hunks that are decided one by one.

A FilePatch keeps the whole base and new text, plus one hunk per change: every run of changed lines
separated from the next by at least one unchanged line is its own hunk (difflib's opcodes), decided
alone, and its index never changes for the life of the patch. Each hunk records the base lines it
replaces and up to three unchanged lines on each side, cut where a neighbouring change starts: context
is shown around a hunk, never merged with its neighbour. (`patches.apply` finds a hunk again with its
full three lines of context, taken from the text the document should hold: see there.)

Lines here are split after '\\n' only and keep their ending ('\\n', '\\r\\n' or nothing on the last
line), the convention difflib, unidiff and git share. Diffs are rendered one `@@` section per hunk
(sections of nearby changes share their context lines: GNU patch applies them, `git apply` refuses
overlapping sections) and parsed with unidiff, one hunk per change whatever the sections merged, so
`parse_diff(render_diff(...))` gives back the hunks `make_patch` computed.
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
    """One change: `old_lines` at `old_start` in the base become `new_lines`.

    No unchanged line is inside a hunk: two changes one line apart are two hunks. `before`/`after`
    are the (up to 3) unchanged base lines around it, cut at the neighbouring change's lines.
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
    """One hunk per change (a non-equal difflib opcode: they are always apart by an unchanged line),
    with up to CONTEXT unchanged lines on each side, never reaching into a neighbouring change."""
    a, b = split_lines(base_text), split_lines(new_text)
    changes = [op for op in difflib.SequenceMatcher(None, a, b).get_opcodes() if op[0] != "equal"]
    hunks: list[Hunk] = []
    for k, (_tag, i1, i2, j1, j2) in enumerate(changes):
        prev_end = changes[k - 1][2] if k else 0
        next_start = changes[k + 1][1] if k + 1 < len(changes) else len(a)
        hunks.append(Hunk(index=k, old_start=i1, old_lines=a[i1:i2], new_lines=b[j1:j2],
                          before=a[max(prev_end, i1 - CONTEXT):i1], after=a[i2:min(next_start, i2 + CONTEXT)]))
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


def _range(start: int, length: int) -> str:
    # difflib's _format_range_unified: "N" for one line, "N,0" after line N for none
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


def render_diff(path: str, old_text: str, new_text: str, kind: PatchKind = PatchKind.MODIFY) -> str:
    """Unified diff of one file, one `@@` section per hunk with its context; "" when the texts are equal.

    Lines without a final newline get the "\\ No newline at end of file" marker, as git writes it.
    """
    hunks = compute_hunks(old_text, new_text)
    if not hunks:
        return ""
    kind = PatchKind(kind)
    from_file = DEV_NULL if kind is PatchKind.CREATE else f"a/{path}"
    to_file = DEV_NULL if kind is PatchKind.DELETE else f"b/{path}"
    out = [f"--- {from_file}\n", f"+++ {to_file}\n"]
    shift = 0
    for h in hunks:
        start = h.old_start - len(h.before)
        old_len = len(h.before) + len(h.old_lines) + len(h.after)
        new_len = len(h.before) + len(h.new_lines) + len(h.after)
        out.append(f"@@ -{_range(start, old_len)} +{_range(start + shift, new_len)} @@\n")
        out += [_body_line(" ", line) for line in h.before]
        out += [_body_line("-", line) for line in h.old_lines]
        out += [_body_line("+", line) for line in h.new_lines]
        out += [_body_line(" ", line) for line in h.after]
        shift += len(h.new_lines) - len(h.old_lines)
    return "".join(out)


def _strip_marker_newline(lines: list[tuple[str, str]]) -> None:
    kind, value = lines[-1]
    lines[-1] = (kind, value[:-1] if value.endswith("\n") else value)


def parse_diff(diff_text: str) -> list[Hunk]:
    """Hunks of a one-file unified diff (inverse of `render_diff`), parsed with unidiff: one hunk per
    change, so a section of `diff -u` that holds several changes gives several hunks."""
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
        # an empty source range names the line after which it sits, i.e. the 0-based insertion index
        first_line = uhunk.source_start - 1 if uhunk.source_length > 0 else uhunk.source_start
        hunks += _hunks_from_body(len(hunks), first_line, body)
    return hunks


def _hunks_from_body(index: int, first_line: int, body: list[tuple[str, str]]) -> list[Hunk]:
    """The changes of one section: runs of '-'/'+' lines, each with the context lines next to it."""
    runs: list[tuple[int, int]] = []  # [start, end) in body
    for i, (kind, _) in enumerate(body):
        if kind == " ":
            continue
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    source_at = [first_line]  # base line number of each body line
    for kind, _ in body:
        source_at.append(source_at[-1] + (kind != "+"))
    hunks: list[Hunk] = []
    for k, (first, last) in enumerate(runs):
        lo = runs[k - 1][1] if k else 0
        hi = runs[k + 1][0] if k + 1 < len(runs) else len(body)
        core = body[first:last]
        hunks.append(Hunk(index=index + k, old_start=source_at[first],
                          old_lines=[v for kind, v in core if kind != "+"],
                          new_lines=[v for kind, v in core if kind != "-"],
                          before=[v for _, v in body[max(lo, first - CONTEXT):first]],
                          after=[v for _, v in body[last:min(hi, last + CONTEXT)]]))
    return hunks
