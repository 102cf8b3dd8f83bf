#!/usr/bin/env bash
# Toad (batrachian-toad, a terminal ACP client) against `gdm acp` in tmux, with the scripted model:
# types a prompt, saves the screen of gdm's permission request (the patch), accepts it, saves the
# screen of the result, checks the file holds the change. Screens: editors/acp/toad/toad-0*.{txt,png}.
# Not part of CI: Toad needs Python >= 3.14; with only 3.13 here, py313_shims.py adapts it.
# Needs tmux (apt-get install tmux) and, for the PNGs, chromium. Env: TOAD_PYTHON (the Python for
# Toad's venv), TOAD_VENV (default .test-artifacts/toad-venv), GDM_TOAD_KEEP=1 keeps the temp folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
version=0.6.20
py=${TOAD_PYTHON:-}
if [ -z "$py" ]; then
  for candidate in python3.14 "$HOME"/.pyenv/versions/3.14*/bin/python "$HOME"/.pyenv/versions/3.13*/bin/python python3.13; do
    if command -v "$candidate" >/dev/null 2>&1; then py=$candidate; break; fi
  done
fi
[ -n "$py" ] || { echo "run.sh: no Python 3.13 or newer found (set TOAD_PYTHON)" >&2; exit 2; }
command -v tmux >/dev/null || { echo "run.sh: tmux is needed (apt-get install tmux)" >&2; exit 2; }
venv=${TOAD_VENV:-$repo/.test-artifacts/toad-venv}
if [ ! -x "$venv/bin/toad" ]; then
  "$py" -m venv "$venv"
  if "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 14))'; then
    "$venv/bin/pip" install -q "batrachian-toad==$version"
  else
    "$venv/bin/pip" install -q --ignore-requires-python "batrachian-toad==$version"
  fi
fi
if "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info >= (3, 14))'; then
  "$venv/bin/python" "$here/py313_shims.py"
fi
exec "$repo/.venv/bin/python" "$here/drive.py" --toad "$venv/bin/toad" --render "$venv/bin/python" --out "$here"
