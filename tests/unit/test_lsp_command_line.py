"""`gdm-lsp` / `python -m gdm` as a newcomer runs them: flags answer and exit, a server without an
editor (stdin at /dev/null, closed, a terminal) exits at once with a one-line reason."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.editor import server_env
from tests.e2e.test_bad_input import _frame, _frames
from tests.unit.test_stdio import SESSION


def lsp(*args: str, tmp_path, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([sys.executable, "-m", "gdm", *args], capture_output=True, env=server_env(tmp_path),
                          cwd=tmp_path, timeout=60, **kwargs)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_answers_and_exits(tmp_path, flag):
    done = lsp(flag, tmp_path=tmp_path)
    assert done.returncode == 0 and b"usage: gdm-lsp" in done.stdout and b"--stdio" in done.stdout
    assert not done.stderr


def test_version_answers_and_exits(tmp_path):
    done = lsp("--version", tmp_path=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"gdm-lsp 0.")


def test_unknown_flag_is_refused_with_a_pointer_to_help(tmp_path):
    done = lsp("--tcp", tmp_path=tmp_path)
    assert done.returncode == 2 and b"unknown argument '--tcp'" in done.stderr and b"--help" in done.stderr


def test_stdin_at_dev_null_exits_with_one_line(tmp_path):
    done = lsp(tmp_path=tmp_path)
    assert done.returncode == 0
    assert done.stderr.decode().strip().splitlines() == ["gdm-lsp: stdin closed (the editor is gone); exiting"]
    assert done.stdout == b""


def test_stdio_flag_serves_a_session(tmp_path):
    done = lsp("--stdio", tmp_path=tmp_path, stdin=None, input=b"".join(_frame(m) for m in SESSION))
    answers = {f["id"]: f for f in _frames(done.stdout) if "id" in f and "method" not in f}
    assert answers[1]["result"]["serverInfo"]["name"] == "gdm" and "result" in answers[2]
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr


def test_a_terminal_on_stdin_is_told_what_gdm_lsp_is(tmp_path):
    import pty  # noqa: PLC0415 - POSIX only

    leader, follower = pty.openpty()
    try:
        done = lsp(tmp_path=tmp_path, stdin=follower)
    finally:
        import os  # noqa: PLC0415
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2 and b"stdin is a terminal" in done.stderr
