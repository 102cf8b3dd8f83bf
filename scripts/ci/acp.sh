#!/usr/bin/env bash
# acpx 0.19 (npm), the headless ACP client that tests/e2e/test_acp_acpx.py drives `gdm acp` with,
# installed under .test-artifacts/acpx (git-ignored). Idempotent and quiet: when the right version
# is there it only says so.
set -euo pipefail
cd "$(dirname "$0")/../.."

prefix=.test-artifacts/acpx
acpx="$prefix/node_modules/.bin/acpx"
if [ -x "$acpx" ] && "$acpx" --version 2>/dev/null | grep -q '^0\.19\.'; then
  echo "scripts/ci/acp.sh: acpx $("$acpx" --version) already installed"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
mkdir -p "$prefix"
npm install --silent --no-audit --no-fund --prefix "$prefix" acpx@0.19 >/dev/null
echo "scripts/ci/acp.sh: installed acpx $("$acpx" --version)"
