"""Project rules: AGENTS.md and its cousins, read into the system prompt, nearest file winning.

Looked for in the focus file's folder and every folder above it up to the workspace root:
`AGENTS.md`, `AGENT.md`, `CLAUDE.md`, `GEMINI.md`, `.rules`, `.cursorrules`, `.cursor/rules/*.mdc`,
`.windsurfrules`, `.clinerules` (a file, or a folder of them), `.github/copilot-instructions.md`.
The root's are the base; nearer ones come after them and win where they disagree. Within the
budget the nearest are kept whole first; what does not fit is cut with a note. Rules files that
lead outside the workspace (symlinks) or cannot be read as text are skipped and logged.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

NAMES = ("AGENTS.md", "AGENT.md", "CLAUDE.md", "GEMINI.md", ".rules", ".cursorrules", ".windsurfrules")
MAX_CHARS = 12_000  # ~3k tokens of the system prompt
MAX_FILE_BYTES = 200_000
# A test command in backticks, or after "test command:" / "run the tests with".
_TEST_COMMAND = re.compile(
    r"`((?:[\w./-]+/)?(?:python3? -m pytest|pytest|uv run pytest|poetry run pytest|tox|nox|npm test|npm run test"
    r"|yarn test|pnpm test|bun test|npx (?:jest|vitest)|jest|vitest|go test|cargo test|make (?:test|check)"
    r"|bundle exec rspec|rspec|rake test|mvn test|gradle test|\./gradlew test|ctest|dotnet test)\b[^`\n]*)`")


@dataclass
class Rules:
    """The rules in force for one focus: their text for the system prompt and the files used."""

    files: list[str] = field(default_factory=list)
    text: str = ""
    cut: list[str] = field(default_factory=list)

    def section(self) -> str:
        """The system prompt's part, or "" when there are none."""
        if not self.files:
            return ""
        return ("\n\nProject rules (from " + ", ".join(self.files) + "; where they disagree, the later, "
                "nearer ones win over the workspace root's):\n\n" + self.text)


def _candidates(root: Path, folder: str) -> list[str]:
    """Rules files of one folder (workspace-relative), in a fixed order."""
    base = root / folder if folder else root
    found = [f"{folder}/{n}".lstrip("/") for n in NAMES if (base / n).is_file()]
    cursor = base / ".cursor" / "rules"
    if cursor.is_dir():
        found += sorted(f"{folder}/.cursor/rules/{p.name}".lstrip("/") for p in cursor.glob("*.mdc") if p.is_file())
    cline = base / ".clinerules"
    if cline.is_file():
        found.append(f"{folder}/.clinerules".lstrip("/"))
    elif cline.is_dir():
        found += sorted(f"{folder}/.clinerules/{p.name}".lstrip("/") for p in cline.iterdir() if p.is_file())
    copilot = base / ".github" / "copilot-instructions.md"
    if copilot.is_file():
        found.append(f"{folder}/.github/copilot-instructions.md".lstrip("/"))
    return found


def _folders(focus: str | None) -> list[str]:
    """The root, then each folder down to the focus file's (root first)."""
    if not focus:
        return [""]
    parts = PurePosixPath(focus).parent.parts
    return [""] + ["/".join(parts[:i]) for i in range(1, len(parts) + 1) if parts[0] != "."]


def _read(root: Path, rel: str) -> str | None:
    path = root / rel
    real = Path(os.path.realpath(path))
    if real != root and root not in real.parents:
        log.info("rules: skipping %s: it leads outside the workspace", rel)
        return None
    try:
        data = path.read_bytes()[:MAX_FILE_BYTES]
    except OSError as exc:
        log.info("rules: cannot read %s: %s", rel, exc)
        return None
    if b"\x00" in data[:4096]:
        log.info("rules: skipping %s: binary", rel)
        return None
    return data.decode("utf-8", errors="replace").strip()


def find_rules(root: Path, focus: str | None = None, max_chars: int = MAX_CHARS) -> Rules:
    """The rules files in force for `focus` (a workspace-relative file), root first, within budget."""
    root = Path(os.path.realpath(root))
    files = [f for folder in _folders(focus) for f in _candidates(root, folder)]
    texts = {f: t for f in files if (t := _read(root, f))}
    kept: dict[str, str] = {}
    cut: list[str] = []
    left = max_chars
    for rel in reversed([f for f in files if f in texts]):  # nearest first: they win the budget
        text = texts[rel]
        if left <= 0:
            cut.append(rel)
            continue
        if len(text) > left:
            text = text[:left] + f"\n[… {rel} cut here: {len(texts[rel]) - left} more characters over the rules budget]"
            cut.append(rel)
        left -= len(text)
        kept[rel] = text
    order = [f for f in files if f in kept]
    body = "\n\n".join(f"--- {rel} ---\n{kept[rel]}" for rel in order)
    dropped = [f for f in cut if f not in kept]
    if dropped:
        body += f"\n\n[not included, over the rules budget: {', '.join(dropped)}]"
    return Rules(order, body, cut)


def rules_test_command(root: Path) -> str | None:
    """A test command the workspace root's rules name (in backticks), or None."""
    for rel in find_rules(root).files:
        text = _read(Path(os.path.realpath(root)), rel) or ""
        found = _TEST_COMMAND.search(text)
        if found:
            return found.group(1).strip()
    return None
