"""Risk score of a patch: a number in [0, 1], a tier, and the named reasons behind it.

Each signal adds a weighted reason; the score is the sum capped at 1. Some signals also force a
minimum tier (a secret added is CRITICAL whatever else the patch does), by raising the score to
that tier's floor. Code signals look only at ADDED lines, test weakening only at REMOVED lines
(plus skip markers added), so a patch that removes an `eval` never scores as adding one.

This module imports the patch model only for type checking: `model.py` imports `Risk` from here
to store it on a FilePatch, and the layering must not loop.
"""

from __future__ import annotations

import difflib
import math
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gdm.patches.model import FilePatch


class Tier(str, Enum):
    """Review tiers; CRITICAL is never auto-applied."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """0 for LOW up to 3 for CRITICAL, for comparisons (the values compare as strings)."""
        return list(Tier).index(self)


TIER_FLOOR = {Tier.LOW: 0.0, Tier.MEDIUM: 0.25, Tier.HIGH: 0.5, Tier.CRITICAL: 0.75}


# Checks after edits (agent/checks.py): each kind of problem the patch adds, its weight and the
# lowest tier it leaves the patch in. An unused import is worth a look; a new type error is
# likely a bug; a security linter's finding needs a person.
CHECK_WEIGHTS: dict[str, tuple[float, Tier]] = {
    "lint_new": (0.1, Tier.LOW),
    "types_new": (0.2, Tier.MEDIUM),
    "security_new": (0.3, Tier.MEDIUM),
}


def tier_for(score: float) -> Tier:
    """LOW < 0.25 <= MEDIUM < 0.5 <= HIGH < 0.75 <= CRITICAL."""
    if score >= 0.75:
        return Tier.CRITICAL
    if score >= 0.5:
        return Tier.HIGH
    if score >= 0.25:
        return Tier.MEDIUM
    return Tier.LOW


@dataclass
class RiskReason:
    """One signal that raised the score, e.g. code "secret_added" with its weight."""

    code: str
    weight: float
    message: str


@dataclass
class Risk:
    """The score, its tier and the reasons, as shown on code lenses and in applyEdit labels."""

    score: float
    tier: Tier
    reasons: list[RiskReason]

    def to_json(self) -> dict[str, Any]:
        """{"score": round(score, 2), "tier": "LOW", "reasons": [{"code", "weight", "message"}]}."""
        return {"score": round(self.score, 2), "tier": self.tier.value,
                "reasons": [{"code": r.code, "weight": r.weight, "message": r.message}
                            for r in self.reasons]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Risk:
        """Inverse of `to_json`."""
        return cls(score=float(d["score"]), tier=Tier(d["tier"]),
                   reasons=[RiskReason(r["code"], float(r["weight"]), r["message"])
                            for r in d.get("reasons", [])])


@dataclass
class RiskContext:
    """What the user pointed at: paths named in the prompt or asked on, and paths open in the editor."""

    mentioned_paths: set[str] = field(default_factory=set)
    open_paths: set[str] = field(default_factory=set)


# --- what counts as sensitive -----------------------------------------------------------------

SENSITIVE_PATH = re.compile(
    r"auth(?!or)|login|logout|passw|crypt|secret|credential|permission|privilege|oauth|"
    r"saml|session|security|sudo|firewall|(?<![a-z])(?:acl|rbac|jwt|ssl|tls|sso|certs?|keys?|iam|tokens?|"
    r"settings|dockerfile|docker-compose|\.env|nginx|htaccess)(?![a-z])|\.(?:pem|key|p12|pfx|crt)$")

SENSITIVE_CODE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("eval/exec", re.compile(r"(?<![\w.])(?:eval|exec)\s*\(|\bnew\s+Function\s*\(")),
    ("subprocess", re.compile(r"\bsubprocess\.\w+|\bPopen\s*\(|\bchild_process\b")),
    ("os.system", re.compile(r"\bos\.(?:system|popen|exec\w*|spawn\w*)\s*\(")),
    ("shell=True", re.compile(r"\bshell\s*=\s*True\b")),
    ("unsafe deserialisation", re.compile(
        r"\b(?:c?pickle|dill|shelve|marshal)\.loads?\s*\(|\byaml\.(?:unsafe_)?load\s*\((?!.*Safe)")),
    ("SQL built from strings", re.compile(
        r"(?i)(?=.*\b(?:select\b.*\bfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|drop\s+table)\b)"
        r"(?:.*\bf[\"']|.*[\"']\s*\+|.*\+\s*[\"']|.*[\"']\s*%\s*[\w(]|.*\.format\s*\(|.*`.*\$\{)")),
    ("crypto primitive", re.compile(
        r"\bhashlib\.(?:md5|sha1)\b|\bcryptography\.hazmat\b|\bCrypto\.(?:Cipher|PublicKey)\b|"
        r"\b(?:AES|DES|3DES|RC4|Blowfish)\b|\bMODE_ECB\b|\bcreateCipheriv\b|\bjwt\.(?:en|de)code\b")),
    ("TLS verification off", re.compile(
        r"\bverify\s*=\s*False\b|_create_unverified_context|\bCERT_NONE\b|"
        r"rejectUnauthorized\s*:\s*false|InsecureSkipVerify\s*:\s*true")),
)

# Code that decides who may do what: a change in or next to it (its function's first lines are
# the hunk's context) is worth a second look even when no dangerous call is added.
AUTH_CODE = re.compile(r"(?i)passw(?:or)?d|passwd|authenticat|authori[sz]|permission|is_admin|is_superuser|"
                       r"csrf|\bacl\b|check_token|verify_token")

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("private key block", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("API key", re.compile(r"\bsk-(?:[A-Za-z0-9_-]{20,})|\bAIza[0-9A-Za-z_-]{35}\b")),
)
SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|private[_-]?key|auth)\w*[\"']?"
    r"\s*[:=]\s*[\"']([^\"'\s]{12,})[\"']")
PLACEHOLDER = re.compile(r"(?i)x{4}|example|changeme|dummy|your[_-]|placeholder|<|\$\{|\{\{|\*{3}")

TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec)/|(?:^|/)test_[^/]*\.py$|_test\.(?:py|go)$|"
                       r"\.(?:test|spec)\.[jt]sx?$|(?:^|/)conftest\.py$")
ASSERTION = re.compile(r"\bassert\w*\b|\bexpect\s*\(|\bself\.assert|\.should\b|\bt\.(?:Error|Fatal)")
TEST_DEF = re.compile(r"^\s*(?:async\s+)?def\s+test\w*\s*\(|^\s*(?:it|test)\s*\(\s*[\"'`]")
SKIP_MARKER = re.compile(r"@pytest\.mark\.(?:skip|xfail)|\bpytest\.(?:skip|xfail)\s*\(|"
                         r"@unittest\.skip|\b(?:it|describe|test)\.skip\b|\bx(?:it|describe)\s*\(|"
                         r"\bt\.Skip\w*\s*\(")

CI_PATH = re.compile(r"(?:^|/)\.github/workflows/|(?:^|/)\.gitlab-ci\.ya?ml$|(?:^|/)\.circleci/|"
                     r"(?:^|/)Jenkinsfile$|azure-pipelines\.ya?ml$|(?:^|/)\.travis\.ya?ml$|"
                     r"bitbucket-pipelines\.ya?ml$|(?:^|/)\.ci/")
CI_STEP = re.compile(r"^\s*-?\s*(?:name|run|uses|script|steps|stage|job)\s*:|^\s*-\s+\S")

MANIFESTS = frozenset({
    "pyproject.toml", "setup.py", "setup.cfg", "pipfile", "pipfile.lock", "poetry.lock", "uv.lock",
    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json",
    "cargo.toml", "cargo.lock", "go.mod", "go.sum", "gemfile", "gemfile.lock", "composer.json",
    "composer.lock", "pom.xml", "build.gradle", "build.gradle.kts", "environment.yml"})
REQUIREMENTS = re.compile(r"(?:^|[-_.])requirements[^/]*\.(?:txt|in)$|^constraints[^/]*\.txt$")


# --- scoring ------------------------------------------------------------------------------------

@dataclass
class _Signals:
    """Reasons collected so far and the tier each forces, if any."""

    reasons: list[RiskReason] = field(default_factory=list)
    floor: Tier = Tier.LOW

    def add(self, code: str, weight: float, message: str, at_least: Tier = Tier.LOW) -> None:
        """Record a reason; `at_least` raises the tier the patch can have."""
        self.reasons.append(RiskReason(code, round(weight, 2), message))
        if TIER_FLOOR[at_least] > TIER_FLOOR[self.floor]:
            self.floor = at_least


def score_patch(patch: FilePatch, ctx: RiskContext) -> Risk:
    """Score a patch against what the user mentioned and has open; the score has 2 decimals."""
    removed, added = changed_lines(patch)
    path = patch.path.lower()
    sig = _Signals()
    _size(sig, len(removed), len(added), patch.kind == "delete")
    _paths(sig, patch, path, ctx)
    _code(sig, added)
    _auth(sig, patch, removed, added)
    _secrets(sig, added)
    _tests(sig, patch, path, removed, added)
    _ci(sig, path, removed)
    total = min(1.0, sum(r.weight for r in sig.reasons))
    score = round(max(total, TIER_FLOOR[sig.floor]), 2)
    return Risk(score=score, tier=tier_for(score), reasons=sig.reasons)


def set_reasons(risk: Risk, code: str, messages: list[str], weight: float, floor: Tier = Tier.LOW) -> None:
    """Replace the reason `code` of a risk (taking its weight back off) with one for `messages`, if
    any, adding `weight` and raising the score to `floor`'s at least; the tier follows the score."""
    old = [r for r in risk.reasons if r.code == code]
    risk.reasons = [r for r in risk.reasons if r.code != code]
    score = max(0.0, risk.score - sum(r.weight for r in old))
    if messages:
        risk.reasons.append(RiskReason(code, weight, "; ".join(messages)))
        score = max(min(1.0, score + weight), TIER_FLOOR[floor])
    risk.score = round(score, 2)
    risk.tier = max(tier_for(risk.score), floor, key=lambda t: t.rank)


def changed_lines(patch: FilePatch) -> tuple[list[str], list[str]]:
    """(removed, added) lines of a patch, leaving out the unchanged lines merged hunks carry."""
    removed: list[str] = []
    added: list[str] = []
    for hunk in patch.hunks:
        matcher = difflib.SequenceMatcher(None, hunk.old_lines, hunk.new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                removed.extend(hunk.old_lines[i1:i2])
                added.extend(hunk.new_lines[j1:j2])
    return removed, added


def _code_lines(lines: list[str]) -> list[str]:
    # Comment-only lines mention `eval` or `subprocess` harmlessly; they don't run.
    return [ln for ln in lines if not ln.lstrip().startswith(("#", "//", "--", "*", "/*"))]


def _size(sig: _Signals, n_removed: int, n_added: int, deleting_file: bool) -> None:
    n = n_removed + n_added
    if n == 0:
        return
    # log-shaped: ~0.04 for one line, ~0.1 for six, 0.3 from 300 lines on
    weight = 0.3 * min(1.0, math.log1p(n) / math.log1p(300))
    sig.add("size", weight, f"{n} line{'s' if n != 1 else ''} changed (+{n_added} -{n_removed})")
    ratio = n_removed / n
    if n_removed >= 5 and ratio >= 0.7 and not deleting_file:  # file_deleted says it already
        sig.add("deletion_ratio", 0.25 * (ratio - 0.5) / 0.5,
                f"mostly deleting: {n_removed} of {n} changed lines are removals")


def _mentioned(path: str, ctx: RiskContext) -> bool:
    def norm(p: str) -> str:
        p = p.replace("\\", "/")
        while p.startswith("./"):
            p = p[2:]
        return p.strip("/")

    target = norm(path)
    for raw in ctx.mentioned_paths | ctx.open_paths:
        ref = norm(raw)
        if ref and (target == ref or target.startswith(ref + "/") or target.endswith("/" + ref)):
            return True
    return False


def _paths(sig: _Signals, patch: FilePatch, path: str, ctx: RiskContext) -> None:
    names = [path]
    if patch.kind == "delete":
        sig.add("file_deleted", 0.3, f"deletes {patch.path}", Tier.MEDIUM)
    if patch.kind == "rename" and patch.new_path:
        _moved(sig, patch, path, patch.new_path.lower())
        names.append(patch.new_path.lower())  # either name may be sensitive or a manifest
    for name in names:
        match = SENSITIVE_PATH.search(name)
        if match:
            sig.add("sensitive_path", 0.3, f"security-sensitive path ({match.group(0)})", Tier.MEDIUM)
            break
    for name in map(posixpath.basename, names):
        if name in MANIFESTS or REQUIREMENTS.search(name):
            sig.add("dependency_manifest", 0.25, f"changes dependency manifest {name}", Tier.MEDIUM)
            break
    if not _mentioned(patch.path, ctx):
        weight = 0.1 if patch.kind == "create" else 0.2
        sig.add("unmentioned_file", weight, f"{patch.path} was neither mentioned nor open")


def _moved(sig: _Signals, patch: FilePatch, path: str, moved_to: str) -> None:
    # imports, references and tooling that name the old path break
    sig.add("file_renamed", 0.2, f"moves {patch.path} to {patch.new_path} (references to the old path break)")
    if TEST_PATH.search(path) and not TEST_PATH.search(moved_to):
        sig.add("test_removed", 0.45, f"moves test file {patch.path} where test runners no longer find it", Tier.HIGH)
    if CI_PATH.search(path) and not CI_PATH.search(moved_to):
        sig.add("ci_changed", 0.5, f"moves CI configuration {patch.path} out of place", Tier.HIGH)


def _code(sig: _Signals, added: list[str]) -> None:
    found: Counter[str] = Counter()
    for line in _code_lines(added):
        for name, pattern in SENSITIVE_CODE:
            if pattern.search(line):
                found[name] += 1
    if found:
        weight = min(0.5, 0.35 + 0.05 * (len(found) - 1))
        sig.add("sensitive_code", weight, "adds security-sensitive code: " + ", ".join(found),
                Tier.MEDIUM)


def _auth(sig: _Signals, patch: FilePatch, removed: list[str], added: list[str]) -> None:
    if any(r.code == "sensitive_path" for r in sig.reasons):
        return  # the path already says it
    around = [line for hunk in patch.hunks for line in hunk.before]
    if any(AUTH_CODE.search(line) for line in _code_lines(removed + added + around)):
        sig.add("auth_code", 0.3, "changes authentication or permission code", Tier.MEDIUM)


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _looks_secret(value: str) -> bool:
    if PLACEHOLDER.search(value) or re.fullmatch(r"[A-Z0-9_]+", value):
        return False  # a placeholder or the NAME of an environment variable, not a value
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    return classes >= 2 and _entropy(value) >= 3.0


def _secrets(sig: _Signals, added: list[str]) -> None:
    kinds: list[str] = []
    for line in added:
        for name, pattern in SECRET_PATTERNS:
            if pattern.search(line) and name not in kinds:
                kinds.append(name)
        for m in SECRET_ASSIGNMENT.finditer(line):
            if _looks_secret(m.group(1)) and "high-entropy literal" not in kinds:
                kinds.append("high-entropy literal")
    if kinds:
        # the message names the kind only: the secret itself must not travel further
        sig.add("secret_added", 0.6, "adds what looks like a secret: " + ", ".join(kinds),
                Tier.CRITICAL)


def _tests(sig: _Signals, patch: FilePatch, path: str, removed: list[str], added: list[str]) -> None:
    if not TEST_PATH.search(path):
        return
    if patch.kind == "delete":
        # file_deleted counts the deletion itself: this says it is tests that go
        sig.add("test_removed", 0.3, f"deletes test file {patch.path}", Tier.HIGH)
        return
    gone = sum(1 for ln in _code_lines(removed) if ASSERTION.search(ln) or TEST_DEF.search(ln))
    had = _assertions(patch.base_text)
    if had and not _assertions(patch.new_text):
        sig.add("test_removed", 0.45, f"removes every assertion ({had}) from test file {patch.path}", Tier.HIGH)
    elif gone:
        sig.add("test_removed", min(0.45, 0.3 + 0.02 * (gone - 1)),
                f"removes {gone} assertion or test line(s) from a test file", Tier.MEDIUM)
    skips = sum(1 for ln in _code_lines(added) if SKIP_MARKER.search(ln))
    if skips:
        sig.add("test_removed", 0.3, f"adds {skips} skip/xfail marker(s) to a test file", Tier.MEDIUM)


def _assertions(text: str) -> int:
    return sum(1 for ln in _code_lines(text.splitlines()) if ASSERTION.search(ln))


def _ci(sig: _Signals, path: str, removed: list[str]) -> None:
    if not CI_PATH.search(path):
        return
    steps = sum(1 for ln in removed if CI_STEP.search(ln) and not ln.lstrip().startswith("#"))
    if steps:
        sig.add("ci_changed", 0.5, f"removes {steps} CI step line(s)", Tier.HIGH)
    else:
        sig.add("ci_changed", 0.3, "changes CI configuration", Tier.MEDIUM)
