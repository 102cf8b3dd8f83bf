"""What the sandbox hides: the home's secrets, gdm's own data, the session's runtime folder.

`SECRETS` is DESIGN.md's list (ssh, cloud and registry credentials, keyrings) and what else in a
developer's home is a credential in all but name: shell and REPL histories, browser profiles
(cookies), the tokens of other coding agents and of Copilot, gdm's own store. Paths are relative to
the home; a file is masked with an empty read-only file, a folder with an empty read-only one.

The home itself is rebuilt rather than patched: a read-only tmpfs on `$HOME` with every entry
that is not a secret bound back read-only (`mask_home`). A secret that does not exist when a command
starts therefore cannot appear under it while it runs; nested secrets (`~/.config/gh`) are masked
where they exist when the command starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SECRETS: tuple[str, ...] = (
    # DESIGN.md's list
    ".ssh", ".aws", ".gnupg", ".netrc", ".git-credentials", ".config/gh", ".docker", ".kube", ".npmrc",
    ".pypirc",
    # cloud and infrastructure CLIs
    ".config/gcloud", ".azure", ".oci", ".config/doctl", ".terraform.d", ".vault-token", ".boto", ".s3cfg",
    ".databrickscfg", ".config/hub", ".config/op", ".config/heroku", ".fly", ".config/netlify",
    ".config/containers/auth.json", ".config/rclone",
    # package registries and databases
    ".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials", ".m2/settings-security.xml",
    ".pgpass", ".my.cnf", ".config/git/credentials", ".config/pip/pip.conf", ".pip/pip.conf",
    # keyrings and password stores
    ".local/share/keyrings", ".password-store", ".local/share/kwalletd", ".kde/share/apps/kwallet",
    ".pki",
    # histories, which hold pasted tokens
    ".bash_history", ".zsh_history", ".python_history", ".node_repl_history", ".psql_history",
    ".mysql_history", ".lesshst", ".local/share/fish/fish_history",
    # browser profiles (cookies) and mail
    ".mozilla", ".config/google-chrome", ".config/chromium", ".config/BraveSoftware", ".thunderbird",
    # other agents' and assistants' credentials
    ".claude", ".claude.json", ".codex", ".config/github-copilot", ".continue", ".aider",
)


@dataclass
class Masks:
    """The mount operations that hide what a command must not read, in bwrap's words."""

    args: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)  # what was hidden, for the debug log

    def file(self, path: str) -> None:
        self.args += ["--ro-bind", "/dev/null", path]
        self.hidden.append(path)

    def folder(self, path: str) -> None:
        self.args += ["--perms", "0700", "--tmpfs", path, "--remount-ro", path]
        self.hidden.append(path)


def secret_paths(home: Path, extra: tuple[Path, ...] = ()) -> list[Path]:
    """The secrets under `home`, plus `extra` absolute paths (gdm's data folder, the runtime folder)."""
    return [home / rel for rel in SECRETS] + list(extra)


def mask_home(home: Path | None, keep: set[Path], extra: tuple[Path, ...] = ()) -> Masks:
    """The home as a read-only tmpfs with its non-secret entries bound back, then the nested secrets
    and `extra` masked where they exist. `keep` are paths that are bound later anyway (the workspace)
    and whose parents must exist: they are not secrets, whatever their names."""
    masks = Masks()
    if home is None:
        for path in extra:
            if not any(k == path or k.is_relative_to(path) for k in keep):
                _mask(masks, path)
        return masks
    secrets = secret_paths(home, extra)
    top = {p.name for p in secrets if p.parent == home}
    rebuild = _safe_home(home)
    if rebuild:
        masks.args += ["--perms", _mode(home), "--tmpfs", str(home)]
        for entry in _entries(home):
            if entry.name in top and not any(k == entry or k.is_relative_to(entry) for k in keep):
                masks.hidden.append(str(entry))
                continue
            if entry.is_symlink():
                masks.args += ["--symlink", os.readlink(entry), str(entry)]
            else:
                masks.args += ["--ro-bind", str(entry), str(entry)]
        masks.args += ["--remount-ro", str(home)]
    for path in secrets:
        if any(k == path or k.is_relative_to(path) for k in keep):
            continue
        if rebuild and path.parent == home and not path.is_symlink():
            continue  # simply absent from the rebuilt home
        _mask(masks, path)  # nested, or a link whose target would still be visible
    return masks


def _safe_home(home: Path) -> bool:
    """Whether the home can be rebuilt: a real folder, not the root or a system folder."""
    try:
        return home.is_dir() and not home.is_symlink() and len(home.resolve().parts) >= 2 and \
            home.resolve() not in (Path("/usr"), Path("/etc"), Path("/tmp"), Path("/var"))
    except OSError:
        return False


def _entries(home: Path) -> list[Path]:
    try:
        return sorted(home.iterdir())
    except OSError:
        return []


def _mode(path: Path) -> str:
    try:
        return f"{path.stat().st_mode & 0o7777:04o}"
    except OSError:
        return "0700"


def _mask(masks: Masks, path: Path) -> None:
    """Hide `path` if it exists: its real target when it is a link, so the link leads to nothing."""
    try:
        if not os.path.lexists(path):
            return
        real = Path(os.path.realpath(path))
        if real.is_dir():
            masks.folder(str(real))
        elif real.exists():
            masks.file(str(real))
    except OSError:
        return
