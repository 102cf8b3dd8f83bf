#!/usr/bin/env bash
# Installs the real editors that tests/editors/ drive headless: Neovim, Emacs with eglot and
# lsp-mode, Vim with ALE, all from Debian. Idempotent: when every package is already installed
# it only says so, so scripts/test.sh can call it on every run.
set -euo pipefail

packages=(neovim emacs-nox elpa-eglot elpa-lsp-mode vim vim-ale)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "editors/ci.sh: ${packages[*]} already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "editors/ci.sh: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
