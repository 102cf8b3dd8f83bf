"""Secrets kept from the model and from shell commands.

Two jobs: `scrub_env` drops API keys and other secrets from the environment a shell command
gets, and `Redactor` replaces secrets in text bound for the model — well-known key shapes
(provider keys, private key blocks, tokens, `password = …` assignments) and the literal values
found in the workspace's `.env` files and in secret-named environment variables, so a value
copied from `.env` into a source file is caught too. `RedactingClient` applies it to every
message of a model call, in place, so the stored transcript holds the redacted text as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

REDACTED = "[redacted secret]"
MIN_SECRET_LEN = 8  # shorter values (PORT=8080, DEBUG=true) are configuration, and too common to replace

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSW|PWD|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT)", re.IGNORECASE)
_SECRET_PREFIXES = ("OPENAI_", "ANTHROPIC_", "AWS_", "AZURE_", "GEMINI_", "GOOGLE_", "VERTEX", "HF_",
                    "HUGGINGFACE", "COHERE_", "MISTRAL_", "GROQ_", "DEEPSEEK_", "OPENROUTER_", "TOGETHER",
                    "REPLICATE_", "LITELLM_", "PERPLEXITY", "XAI_", "FIREWORKS", "VOYAGE", "GITHUB_",
                    "GH_", "GITLAB_", "NPM_", "PYPI_", "TWINE_", "DOCKER_", "SENTRY_", "STRIPE_", "SLACK_",
                    "DATABASE_URL", "PGPASSWORD", "MYSQL_PWD", "GDM_DATABASE_URL")

# Each shape with the literals one of which any match contains: a pattern that starts with `\\b`
# gets no literal-prefix search from `re` and tried every position (~0.13 ms per 8 KB each, most
# of an inline completion's redaction); a text without any of the literals cannot match it.
_PATTERNS = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL), ()),
    (re.compile(r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_\-]{20,}"), ("k-",)),  # OpenAI, Anthropic, …
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), ("AKIA",)),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}\b"),
     ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), ("xox",)),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}\b"), ("AIza",)),
    (re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}\b"), ("k_live_", "k_test_")),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"), ("eyJ",)),  # JWT
    (re.compile(r"://[^/\s:@]+:([^@\s/]{4,})@"), ()),  # a password in a URL
)
# `api_key = "…"`, `"secret_token": '…'` (a quoted literal) and `.env`-style `API_TOKEN=…` lines: the
# value goes, the name stays. Unquoted values in code (`token = get_token()`) are code, not secrets.
_NAME = r"[A-Za-z0-9_.\-]*(?:api[_\-]?key|secret|token|passw(?:or)?d|pwd|access[_\-]?key|private[_\-]?key)[A-Za-z0-9_\-]*"
_QUOTED = re.compile(rf"""(?i)(\b{_NAME}["']?\s*[:=]\s*(["']))(?!\[redacted)([^"'\s]{{8,}})(?=\2)""")
_ENV_NAME = r"[A-Z0-9_]*(?:API_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|ACCESS_?KEY|PRIVATE_?KEY)[A-Z0-9_]*"
_DOTENV_LINE = re.compile(rf"""(?m)^(\s*(?:export\s+)?{_ENV_NAME}\s*=\s*)(?!\[redacted)([^\s"'#]{{8,}})\s*$""")
# Every match of _QUOTED holds one of these keywords (any case) followed by _QUOTED_TAIL; every match
# of _DOTENV_LINE one of _DOTENV_WORDS (upper case) on a line where it matches too. Looking for those
# first spares the texts without a candidate the two patterns' `[…]*` starts, tried at every word
# (_QUOTED cost ~0.7 ms per 8 KB of code, which names `key` and `token` often but rarely assigns them
# a quoted literal).
_QUOTED_WORDS = ("key", "secret", "token", "passw", "pwd")
_QUOTED_TAIL = re.compile(r"""[a-z0-9_\-]*["']?\s*[:=]\s*["'][^"'\s]{8}""")
_DOTENV_WORDS = ("KEY", "SECRET", "TOKEN", "PASSW", "PWD")


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    upper = name.upper()
    return bool(_SECRET_NAME.search(upper)) or upper.startswith(_SECRET_PREFIXES)


def scrub_env(environ: Mapping[str, str], extra_names: Iterable[str] = ()) -> dict[str, str]:
    """A copy of `environ` without secrets: secret-named variables and `extra_names` removed."""
    extra = set(extra_names)
    return {k: v for k, v in environ.items() if k not in extra and not is_secret_name(k)}


def dotenv_values(text: str) -> list[str]:
    """The values of a `.env` file (`KEY=value`, `export KEY="value"`), quotes removed."""
    values = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        value = line.split("=", 1)[1].strip()
        if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].strip()
        values.append(value)
    return values


class Redactor:
    """Replaces secrets in text: known values first (longest first), then known shapes."""

    def __init__(self, known_values: Iterable[str] = ()) -> None:
        values = {v for v in known_values if len(v) >= MIN_SECRET_LEN and v.strip() == v}
        self._known = sorted(values, key=len, reverse=True)

    @classmethod
    def for_workspace(cls, root: Path, environ: Mapping[str, str] | None = None,
                      max_files: int = 50) -> Redactor:
        """Values of the workspace's `.env*` files and of secret-named environment variables."""
        environ = os.environ if environ is None else environ
        values = [v for k, v in environ.items() if is_secret_name(k)]
        for path in _dotenv_files(root, max_files):
            try:
                values += dotenv_values(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue  # unreadable: then it cannot leak through our tools either
        return cls(values)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by REDACTED."""
        if not text:
            return text
        for value in self._known:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, literals in _PATTERNS:
            if not literals or any(literal in text for literal in literals):
                text = pattern.sub(_replace_secret, text)
        if _may_quote_a_secret(text):
            text = _QUOTED.sub(lambda m: m.group(1) + REDACTED, text)
        if _may_set_a_secret(text):
            text = _DOTENV_LINE.sub(lambda m: m.group(1) + REDACTED, text)
        return text


def _may_quote_a_secret(text: str) -> bool:
    """False only when _QUOTED cannot match `text`. Lower-casing keeps an ASCII text's positions and
    is what `(?i)` does to it; beyond ASCII case rules differ (the Kelvin sign is a `k`): not judged."""
    if not text.isascii():
        return True
    low = text.lower()
    for word in _QUOTED_WORDS:
        at = low.find(word)
        while at >= 0:
            if _QUOTED_TAIL.match(low, at + len(word)):
                return True
            at = low.find(word, at + 1)
    return False


def _may_set_a_secret(text: str) -> bool:
    """False only when _DOTENV_LINE cannot match `text`: a match's name holds one of the words, and
    the match that starts on an earlier blank line starts at that word's line too."""
    for word in _DOTENV_WORDS:
        at = text.find(word)
        while at >= 0:
            if _DOTENV_LINE.match(text, text.rfind("\n", 0, at) + 1):
                return True
            at = text.find(word, at + 1)
    return False


def _replace_secret(match: re.Match[str]) -> str:
    if match.lastindex:  # only the captured part (a URL's password) is the secret
        start, end = match.span(1)
        whole = match.group(0)
        offset = match.start(0)
        return whole[: start - offset] + REDACTED + whole[end - offset:]
    return REDACTED


def _dotenv_files(root: Path, max_files: int) -> list[Path]:
    found: list[Path] = []
    skip = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
                found.append(Path(dirpath) / name)
                if len(found) >= max_files:
                    return found
    return found


class RedactingClient:
    """A model client whose every request has secrets redacted from its messages, in place."""

    def __init__(self, inner: Any, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor
        # The loop only appends to its conversation, and redaction is in place: messages already
        # redacted in an earlier turn need no second pass (it was ~2 ms a turn at 20 turns).
        self._conversation: list[dict] | None = None
        self._redacted = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # config, count_tokens… of the wrapped client

    async def complete(self, messages: list[dict], tools: list[dict] | None = None, on_text: Any = None) -> Any:
        """Redact the messages not redacted yet, then call the wrapped client."""
        start = self._redacted if messages is self._conversation and len(messages) >= self._redacted else 0
        self._conversation, self._redacted = messages, len(messages)
        for message in messages[start:]:
            content = message.get("content")
            if isinstance(content, str):
                message["content"] = self.redactor.redact(content)
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        part["text"] = self.redactor.redact(part["text"])
        return await self.inner.complete(messages, tools, on_text=on_text)
