"""Redaction of secrets bound for the model, and the environment shell commands get."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gdm.context import secrets
from gdm.context.secrets import REDACTED, Redactor, RedactingClient, dotenv_values, scrub_env

SHAPED = [
    "sk-proj-abcdefghijklmnopqrstuvwx12", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "AKIAABCDEFGHIJKLMNOP",
    "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "github_pat_11ABCDEFG0123456789_abcdefghijk",
    "xoxb-123456789012-abcdefghij", "AIzaSyA1234567890abcdefghijklmnopqrstu",
    "sk_live_0123456789abcdefABCD", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n",
]


@pytest.mark.parametrize("secret", SHAPED)
def test_known_shapes_are_redacted_wherever_they_stand(secret):
    text = f"config = {{'k': {secret!r}}}  # and again: {secret}\n"
    out = Redactor().redact(text)
    assert secret not in out and out.count(REDACTED) == 2


def test_private_key_blocks_and_url_passwords():
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    out = Redactor().redact(f"key:\n{block}\nurl = 'postgres://bob:pw-1234@db:5432/x'")
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in out and "pw-1234" not in out and "bob:" in out


def test_assignments_lose_their_value_but_code_stays_code():
    text = ('password = "Tr0ub4dor&3x"\nAPI_TOKEN=abcdefgh1234\n"client_secret": "s3cr3t-value"\n'
            "token = get_token_from(request)\napi_key: Optional[str] = None\nPORT=8080\n")
    out = Redactor().redact(text)
    for secret in ("Tr0ub4dor&3x", "abcdefgh1234", "s3cr3t-value"):
        assert secret not in out
    for code in ("token = get_token_from(request)", "api_key: Optional[str] = None", "PORT=8080"):
        assert code in out


def test_values_of_dotenv_files_are_redacted_anywhere(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".env").write_text('# comment\nexport GATEWAY="Zq8-plain-looking-value-42"\nDEBUG=true\n')
    (tmp_path / "sub" / ".env.production").write_text("OTHER='another-plain-value'\n")
    redactor = Redactor.for_workspace(tmp_path, environ={"MY_SERVICE_TOKEN": "env-held-value-77", "HOME": "/root"})
    out = redactor.redact("a = 'Zq8-plain-looking-value-42'; b = 'another-plain-value'; c = 'env-held-value-77'; "
                          "debug = true; home = /root")
    assert "Zq8" not in out and "another-plain-value" not in out and "env-held-value-77" not in out
    assert "debug = true" in out and "/root" in out  # short values and harmless variables stay


def test_dotenv_parsing():
    assert dotenv_values("A=1\n# x\nexport B='two words'\nC=\"q\"\nD=val # note\nnoequals\n") == [
        "1", "two words", "q", "val"]


def test_scrub_env_drops_keys_and_named_secrets():
    env = {"PATH": "/bin", "HOME": "/root", "LANG": "C", "OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "GITHUB_TOKEN": "x", "DB_PASSWORD": "x", "MY_CUSTOM": "x",
           "SSH_AUTH_SOCK": "x", "PGPASSWORD": "x"}
    assert scrub_env(env, ["MY_CUSTOM"]) == {"PATH": "/bin", "HOME": "/root", "LANG": "C"}


async def test_redacting_client_cleans_every_message_in_place():
    seen = []

    class Inner:
        config = "cfg"

        async def complete(self, messages, tools=None, on_text=None):
            seen.append([dict(m) for m in messages])
            return "reply"

    messages = [{"role": "user", "content": "key sk-proj-abcdefghijklmnopqrstuvwx12"},
                {"role": "tool", "content": [{"type": "text", "text": "AKIAABCDEFGHIJKLMNOP"}]},
                {"role": "assistant", "content": None}]
    client = RedactingClient(Inner(), Redactor())
    assert await client.complete(messages) == "reply" and client.config == "cfg"
    assert "sk-proj" not in str(seen) and "AKIA" not in str(seen)
    assert "sk-proj" not in str(messages)  # the transcript the store records is clean too


def redact_without_guards(text: str) -> str:
    """Redactor.redact as it was before its guards: every pattern tried on the whole text."""
    for pattern, _literals in secrets._PATTERNS:
        text = pattern.sub(secrets._replace_secret, text)
    text = secrets._QUOTED.sub(lambda m: m.group(1) + REDACTED, text)
    return secrets._DOTENV_LINE.sub(lambda m: m.group(1) + REDACTED, text)


def test_the_guards_before_each_pattern_never_change_what_is_redacted():
    """The guards skip a pattern only where it cannot match: on code full of near misses (names
    with `key` and `token`, assignments split over lines, upper-case `.env` lines, odd case and
    non-ASCII look-alikes) the guarded redaction equals the one that tries every pattern."""
    pieces = [*SHAPED, "api_key = 'abcdefgh1234'", 'SECRET_TOKEN: "abcdefghijkl"', "token = get_token()",
              "cache_key = key_func(k)", "password=\n  'hunter2hunter2'", "Api_Key\t:\t'0123456789'",
              "export DB_PASSWORD=s3cr3tvalue", "\n\n  MY_API_KEY = abcdefgh12345\n", "PRIMARY KEY (id)",
              "ACCESS_KEY=short", "\u212aey = 'abcdefghijk'", "ſecret = 'abcdefghij'", "passwd:'abcdefghij'",
              "pk-", "sk-abc", "k_live_", "rk_test_0123456789abcdefABCD", "eyJ", "AKIA", "ghp_", "xoxb-1", "://user:pass@host", "'\"", "=", "\n", " "]
    rnd = random.Random(7)
    redactor = Redactor()
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) + rnd.choice(["", " ", "\n", "x", "_", "'"]) for _ in range(rnd.randrange(1, 9)))
        assert redactor.redact(text) == redact_without_guards(text), text
