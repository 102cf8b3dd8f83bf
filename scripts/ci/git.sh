#!/usr/bin/env bash
# git and ssh-keygen (Debian's git, openssh-client): the commit tests make real repositories and
# sign commits with a fresh SSH key (tests/e2e/test_commit.py). Idempotent: when both are there
# it only says so.
set -euo pipefail
if command -v git >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
  echo "scripts/ci/git.sh: $(git --version) and ssh-keygen already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends git openssh-client
echo "scripts/ci/git.sh: installed $(git --version) and ssh-keygen"
