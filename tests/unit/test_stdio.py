"""`python -m gdm` reads stdin with the event loop when it is a pipe, and falls back to pygls'
reader when it is not (here a regular file): both answer `initialize` and exit cleanly."""

import json
import subprocess
import sys

from tests.e2e.editor import server_env
from tests.e2e.test_bad_input import _frame, _frames

SESSION = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None,
                                                                     "capabilities": {}}},
    {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
    {"jsonrpc": "2.0", "method": "exit"},
]


def _answers(stdout: bytes) -> dict:
    return {f["id"]: f for f in _frames(stdout) if "id" in f and "method" not in f}


def test_stdin_as_a_pipe(tmp_path):
    data = b"".join(_frame(m) for m in SESSION)
    done = subprocess.run([sys.executable, "-m", "gdm"], input=data, capture_output=True, timeout=60,
                          env=server_env(tmp_path), cwd=tmp_path)
    answers = _answers(done.stdout)
    assert answers[1]["result"]["serverInfo"]["name"] == "gdm" and "result" in answers[2]
    assert done.returncode == 0, done.stderr.decode()


def test_stdin_as_a_regular_file(tmp_path):
    requests = tmp_path / "requests.bin"
    requests.write_bytes(b"".join(_frame(m) for m in SESSION))
    with open(requests, "rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "gdm"], stdin=stdin, capture_output=True, timeout=60,
                              env=server_env(tmp_path), cwd=tmp_path)
    answers = _answers(done.stdout)
    assert answers[1]["result"]["serverInfo"]["name"] == "gdm", json.dumps(answers)[:500]
    assert done.returncode == 0, done.stderr.decode()
