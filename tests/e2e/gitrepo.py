"""A real git repository for the commit tests: made by the test in its temporary folder, with its
own git configuration (never the machine's), driven with the real `git`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

AUTHOR = ("Ada Tester", "ada@example.com")


def git_env(tmp: Path) -> dict[str, str]:
    """Environment variables that give git only the test's configuration."""
    config = tmp / "gitconfig"
    if not config.exists():
        config.write_text("[init]\n\tdefaultBranch = main\n")
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


class GitRepo:
    """The workspace as a git repository with one commit of the fixture's files."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **git_env(tmp)}
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", AUTHOR[0])
        self.git("config", "user.email", AUTHOR[1])
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "calc: the start")
        self.first = self.head()

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}{done.stdout}")
        return done.stdout

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def show(self, rev: str, path: str) -> str:
        return self.git("show", f"{rev}:{path}")

    def message(self, rev: str = "HEAD") -> str:
        """The commit's message as stored (`%B` adds a newline of its own)."""
        return self.git("log", "-1", "--format=%B", rev).removesuffix("\n")

    def hook(self, name: str, script: str) -> Path:
        path = self.root / ".git" / "hooks" / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
        return path

    def ssh_signing(self, tmp: Path) -> Path:
        """Sign commits with a fresh SSH key (`gpg.format ssh`), verifiable by `git verify-commit`."""
        key = tmp / "signing_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", AUTHOR[1], "-f", str(key)],
                       check=True, capture_output=True, timeout=60)
        signers = tmp / "allowed_signers"
        signers.write_text(f"{AUTHOR[1]} namespaces=\"git\" {(tmp / 'signing_key.pub').read_text()}")
        for name, value in (("gpg.format", "ssh"), ("user.signingkey", str(key) + ".pub"), ("commit.gpgsign", "true"),
                            ("gpg.ssh.allowedSignersFile", str(signers))):
            self.git("config", name, value)
        return key
