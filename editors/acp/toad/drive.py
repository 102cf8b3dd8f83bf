"""Drive Toad (a terminal ACP client) against `gdm acp` in tmux, with the scripted model.

Run by `editors/acp/toad/run.sh`, which installs Toad and passes `--toad`:

    python editors/acp/toad/drive.py --toad VENV/bin/toad --out DIR [--render VENV/bin/python]

What it does, as a user would: copies `fixtures/workspaces/calc` to a temp folder, starts the
scripted model (`fixtures/scripts/acp.json`), starts `toad acp "<gdm acp>" WORKSPACE` in a tmux
session of 140×45, types the prompt "ACP guard divide", waits for gdm's permission request (the
patch's diff), saves the screen, presses `a` (Accept), waits for the task's end, saves the screen
again, and checks that `calc.py` now holds the guard. Screens are saved as the pane's text (`.txt`)
and, with `--render`, as PNGs (rich's SVG export, photographed by headless Chromium). Exits 1 with
the last screen when a step does not come within its deadline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SESSION = "gdm-toad"
PROMPT = "ACP guard divide"
GUARD = 'raise ValueError("divide by zero")'
RENDER = """
import sys
from rich.console import Console
from rich.text import Text
src, out, title = sys.argv[1:4]
console = Console(record=True, width=140, file=open("/dev/null", "w"), force_terminal=True, color_system="truecolor")
for line in open(src, encoding="utf-8").read().splitlines():
    console.print(Text.from_ansi(line), no_wrap=True, overflow="crop")
console.save_svg(out, title=title)
"""
CHROMIUM = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1800,1150"]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def screen(ansi: bool = False) -> str:
    return tmux("capture-pane", "-t", SESSION, "-p", *(["-e"] if ansi else []))


def wait_for(text: str, deadline_s: float) -> None:
    """Poll the pane (every 0.25 s) until `text` shows, or fail with the screen."""
    end = time.monotonic() + deadline_s
    while text not in screen():
        if time.monotonic() > end:
            raise TimeoutError(f"{text!r} did not show within {deadline_s:.0f} s; the screen:\n{screen()}")
        time.sleep(0.25)


def send_until(key: str, text: str, deadline_s: float) -> None:
    """Press `key` (again every 3 s) until `text` shows: Textual may drop a key sent while it is busy."""
    end = time.monotonic() + deadline_s
    while True:
        tmux("send-keys", "-t", SESSION, key)
        try:
            wait_for(text, 3)
            return
        except TimeoutError:
            if time.monotonic() > end:
                raise


def save(out: Path, name: str, title: str, render: str | None) -> None:
    (out / f"{name}.txt").write_text(screen())
    if render is None:
        return
    ansi, svg = out / f"{name}.ansi", out / f"{name}.svg"
    ansi.write_text(screen(ansi=True))
    subprocess.run([render, "-c", RENDER, str(ansi), str(svg), title], check=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print(f"no chromium: {svg} only", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM, f"--user-data-dir={profile}", f"--screenshot={out / f'{name}.png'}",
                        svg.as_uri()], check=True, capture_output=True, timeout=120)
    ansi.unlink()
    svg.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toad", required=True, help="the toad executable")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where screens go")
    parser.add_argument("--render", help="a Python with rich (Toad's venv) to render PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="gdm-toad-"))
    workspace = tmp / "calc"
    shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", workspace)
    model = subprocess.Popen([sys.executable, "-m", "gdm.scripted", str(REPO / "fixtures" / "scripts" / "acp.json")],
                             stdout=subprocess.PIPE, text=True)
    try:
        base_url = model.stdout.readline().strip()
        agent = tmp / "gdm-acp.sh"  # what Toad runs: gdm acp with the scripted model, scratch user dirs
        agent.write_text("#!/bin/sh\n" + "".join(f"export {k}='{v}'\n" for k, v in {
            "XDG_DATA_HOME": tmp / "data", "XDG_CACHE_HOME": tmp / "cache", "XDG_CONFIG_HOME": tmp / "config",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", "GDM_MODEL": "openai/scripted", "GDM_API_BASE": base_url,
            "GDM_TEST_COMMAND": "true", "GDM_DATABASE_URL": f"sqlite:///{tmp / 'gdm.db'}"}.items())
            + f"exec '{sys.executable}' -m gdm.cli acp 2>>'{tmp / 'agent.log'}'\n")
        agent.chmod(0o755)
        home = tmp / "home"  # Toad's own settings and history, out of the user's
        home.mkdir()
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
        tmux("new-session", "-d", "-s", SESSION, "-x", "140", "-y", "45",
             f"HOME='{home}' '{args.toad}' acp '{agent}' '{workspace}'; sleep 600")
        wait_for("How can I help you today?", 60)
        tmux("send-keys", "-t", SESSION, "-l", PROMPT)
        wait_for(f"❯ {PROMPT}", 20)  # typed into the input; an Enter sent sooner can be lost
        send_until("Enter", "Turn 1", 30)
        wait_for("Approval request", 60)
        save(args.out, "toad-01-permission", "Toad + gdm acp: the patch to review (mode review)", args.render)
        tmux("send-keys", "-t", SESSION, "a")
        wait_for("Tests pass with the", 60)
        save(args.out, "toad-02-accepted", "Toad + gdm acp: accepted, written, tests run, cost shown", args.render)
        text = (workspace / "calc.py").read_text()
        print(f"calc.py holds the guard: {GUARD in text}")
        print(f"screens: {', '.join(sorted(p.name for p in args.out.glob('toad-0*')))} in {args.out}")
        return 0 if GUARD in text else 1
    except TimeoutError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
        model.terminate()
        model.wait(timeout=10)
        if os.environ.get("GDM_TOAD_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
