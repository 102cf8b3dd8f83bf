#!/usr/bin/env bash
# All of gdm's tests, from a fresh clone: installs what they need, then runs them.
# This is the README's test command, and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# The real editors the editor tests drive (Neovim, Emacs + eglot / lsp-mode, Vim + ALE), from Debian.
if [ -f editors/ci.sh ]; then
  bash editors/ci.sh
fi

# acpx (npm), the headless ACP client tests/e2e/test_acp_acpx.py drives `gdm acp` with.
bash scripts/ci/acp.sh

# A throwaway PostgreSQL cluster (Debian's postgresql), stopped on exit: the store tests run on it too.
. scripts/ci/postgres.sh

# The real MCP servers the MCP tests talk to (mcp-server-git from PyPI, server-everything from npm).
bash scripts/ci/mcp.sh

# The sandbox: bubblewrap (Debian's), without which gdm runs no test, check or command, and the Node
# checkers (tsc, eslint from npm) its toolchain test runs inside it.
bash scripts/ci/sandbox.sh

# git and ssh-keygen for the commit tests (real repositories, an SSH-signed commit).
bash scripts/ci/git.sh

# Unit tests of every layer, and end-to-end tests that drive the real server (python -m gdm)
# over LSP against the scripted model on 127.0.0.1. Two workers, one test file at a time each
# (--dist loadfile keeps a file's module-scoped servers in one worker): the machine has 2 cores
# and most tests wait on a server process, so this halves the wall time (25 → ~13 min). Every test
# has its own workspace, store file or PostgreSQL database and XDG cache, so workers share nothing.
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

# The VS Code extension: its unit tests and its end-to-end test in a real VS Code
# (code-server in headless Chromium); the script installs what it needs.
if [ -f editor-extension/scripts/ci.sh ]; then
  GDM_PYTHON="$PWD/.venv/bin/python" bash editor-extension/scripts/ci.sh
fi
