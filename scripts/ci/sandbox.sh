#!/usr/bin/env bash
# What the sandbox tests need (idempotent, quiet when all is there):
# - bubblewrap (Debian `bubblewrap`), the sandbox itself: gdm runs no test, check or command without it;
# - the Node checkers the toolchain test runs inside the sandbox (typescript's tsc, eslint) from
#   npm into a cache under the home, which the sandbox sees read-only, as it sees nvm's or pyenv's.
#
#   GDM_CI_CACHE   where the Node tools go (default: ~/.cache/gdm-ci); the tests find them at
#                  $GDM_CI_CACHE/node-tools/node_modules/.bin/{tsc,eslint}
set -euo pipefail

CACHE="${GDM_CI_CACHE:-$HOME/.cache/gdm-ci}"
TYPESCRIPT_VERSION=5.9.3
ESLINT_VERSION=9.39.5
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v bwrap >/dev/null; then
  echo "sandbox.sh: apt-get install bubblewrap"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
fi
bwrap --ro-bind / / --unshare-user --unshare-net --unshare-pid --proc /proc --dev /dev true \
  || { echo "sandbox.sh: bubblewrap is installed but cannot make namespaces here (see its message above)"; exit 1; }

TOOLS="$CACHE/node-tools"
if ! grep -q "\"version\": \"$ESLINT_VERSION\"" "$TOOLS/node_modules/eslint/package.json" 2>/dev/null \
    || ! grep -q "\"version\": \"$TYPESCRIPT_VERSION\"" "$TOOLS/node_modules/typescript/package.json" 2>/dev/null; then
  command -v npm >/dev/null || { echo "sandbox.sh: npm is needed (apt-get install nodejs npm)"; exit 1; }
  echo "sandbox.sh: npm install typescript@$TYPESCRIPT_VERSION eslint@$ESLINT_VERSION into $TOOLS"
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "typescript@$TYPESCRIPT_VERSION" \
    "eslint@$ESLINT_VERSION" >/dev/null
fi
test -x "$TOOLS/node_modules/.bin/tsc" && test -x "$TOOLS/node_modules/.bin/eslint"
