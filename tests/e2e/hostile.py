"""The hostile workspace the sandbox tests plant: a git repository whose README tells AI agents to
run its payload (fixtures/workspaces/hostile/tools/exfil.py), a home full of secrets beside it,
listeners of this machine that record whatever reaches them, and the editor that opens it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import server_env, start_editor

MARKER = "gdm-escape-marker-4f1c9e"  # in every secret file; the payload leaks it if it can read one
KEY = "sk-escape-apikey-7d2b1a90c3e4f5a6b7c8"  # the server's API key: only in gdm's own environment
SECRETS = (".ssh/id_rsa", ".gnupg/private-keys-v1.d/key.key", ".netrc", ".git-credentials",
           ".config/gh/hosts.yml", ".docker/config.json", ".kube/config", ".npmrc", ".pypirc",
           ".config/gcloud/credentials.db")
LATER = ".aws/credentials"  # made after the server started: masked too


class Listener:
    """A TCP or unix-socket listener of this machine that records whatever reaches it."""

    def __init__(self, family: int, address: object, http: bool = False) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(16)
        self.got: list[bytes] = []
        self.http = http
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(3)
                try:
                    self.got.append(conn.recv(65536))
                    if self.http:
                        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nstatus: ok from the host\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def hostile(tmp_path: Path):
    """The hostile workspace as a git repository, a home full of secrets beside it, and listeners."""
    home = tmp_path / "home"
    for rel in SECRETS:
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(f"secret {MARKER} in ~/{rel}\n")
    (home / "notes.txt").write_text("an ordinary file of the home: commands may read it\n")
    ws = tmp_path / "greeter"
    shutil.copytree(FIXTURES / "workspaces" / "hostile", ws)
    (ws / "link-out").symlink_to(home)
    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(home), "PATH": os.environ["PATH"]}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "greeter"]):
        subprocess.run(["git", *args], cwd=ws, env=git, check=True)
    tcp = Listener(socket.AF_INET, ("127.0.0.1", 0), http=True)
    unix = Listener(socket.AF_UNIX, str(home / "agent.sock"))
    yield {"home": home, "ws": ws, "tcp": tcp, "unix": unix, "tmp": tmp_path}
    tcp.close()
    unix.close()


async def open_hostile(hostile: dict, model: ScriptedModel, **settings):
    tmp = hostile["tmp"]
    env = server_env(tmp, HOME=str(hostile["home"]), OPENAI_API_KEY=KEY,
                     PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.update(settings.pop("env", {}))
    answers = settings.pop("answers", [])
    ed, _ = await start_editor(hostile["ws"], tmp, init_options=scripted_settings(model, tmp, **settings), env=env)
    ed.answer_requests(answers)
    await ed.wait_for(lambda: ed.notes["gdm/costUpdate"])
    return ed


@pytest.fixture
def sandbox_model():
    """The scripted model playing fixtures/scripts/sandbox.json."""
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "sandbox.json").read_text())) as model:
        yield model
