#!/usr/bin/env bash
# The real MCP servers gdm's MCP tests talk to, installed from the registries into a cache
# (idempotent, quiet): mcp-server-git (PyPI) in a venv of its own, and
# @modelcontextprotocol/server-everything (npm). Prints nothing when all is already there.
#
#   GDM_CI_CACHE   where they go (default: ~/.cache/gdm-ci)
# The tests find them at $GDM_CI_CACHE/mcp-git/bin/mcp-server-git and
# $GDM_CI_CACHE/npm/node_modules/.bin/mcp-server-everything.
set -euo pipefail

CACHE="${GDM_CI_CACHE:-$HOME/.cache/gdm-ci}"
GIT_VERSION=2026.10.19
EVERYTHING_VERSION=2026.8.31
mkdir -p "$CACHE"

if ! "$CACHE/mcp-git/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp-server-git') != '$GIT_VERSION')" 2>/dev/null; then
  echo "mcp.sh: pip install mcp-server-git==$GIT_VERSION into $CACHE/mcp-git"
  python3 -m venv "$CACHE/mcp-git"
  "$CACHE/mcp-git/bin/python" -m pip install -q --disable-pip-version-check "mcp-server-git==$GIT_VERSION" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
  "$CACHE/mcp-git/bin/mcp-server-git" --help >/dev/null
fi

if ! grep -q "\"version\": \"$EVERYTHING_VERSION\"" \
    "$CACHE/npm/node_modules/@modelcontextprotocol/server-everything/package.json" 2>/dev/null; then
  command -v npm >/dev/null || { echo "mcp.sh: npm is needed (apt-get install nodejs npm)"; exit 1; }
  echo "mcp.sh: npm install @modelcontextprotocol/server-everything@$EVERYTHING_VERSION into $CACHE/npm"
  mkdir -p "$CACHE/npm"
  npm install --silent --no-audit --no-fund --prefix "$CACHE/npm" \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" >/dev/null
fi
test -x "$CACHE/npm/node_modules/.bin/mcp-server-everything"
