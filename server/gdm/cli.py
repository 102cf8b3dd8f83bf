"""`gdm`: headless commands over the same engine the language server runs.

    gdm ask "<prompt>" --workspace DIR [--file F --range L1:L2] [--apply] [--continue TASK_ID]
    gdm undo TASK --workspace DIR [--revert|--files-only]   revert a task's accepted changes on disk
    gdm commit TASK… [--message M] [--dry-run]     the tasks' accepted hunks as one git commit
    gdm demo            a real task against the bundled scripted model, no key, no network
    gdm serve           the language server on stdio (same as `gdm-lsp`)
    gdm acp             the Agent Client Protocol on stdio (Zed, JetBrains, CodeCompanion, acpx)
    gdm replay SESSION|FIXTURE [--workspace DIR]   re-run a recorded session offline, compare
    gdm export SESSION FILE                        write a session as a replay fixture
    gdm usage [--since DATE] [--by day|model|user|task] [--format table|json|csv]   costs (reports.py)
    gdm audit [--since DATE] [--kind shell|accept|reject|undo|mcp|commit] [--format …]     decisions
    gdm map [--workspace DIR] [--tokens N] [--focus PATH…]   the ranked code map (mapcli.py)
    gdm symbols NAME… [--workspace DIR]                    where names are defined
    gdm mcp list [--workspace DIR] [--mcp-config FILE] [--allow-workspace-mcp]   MCP servers and their tools
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from gdm import __version__
from gdm.__main__ import main as serve_stdio
from gdm.acp.main import main as serve_acp
from gdm.agent.factory import open_session
from gdm.agent.session import TaskSpec, new_id
from gdm.config import Settings, env_layer, resolve
from gdm.context.workspace import NoBuffers
from gdm.demo import run_demo
from gdm.review.commit import CommitRequest
from gdm.headless import run_ask, run_commit, run_undo
from gdm import reports
from gdm import mapcli
from gdm.mcp_tools import listing as mcp_listing
from gdm.completions import replay as completion_replay
from gdm.models import replay
from gdm.store import open_store


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment, then command-line flags; bad values are reported and defaulted."""
    flags = {"model": getattr(args, "model", None), "apiBase": getattr(args, "api_base", None),
             "databaseUrl": getattr(args, "database_url", None)}
    try:
        flags.update(mcp_listing.mcp_config_layer(getattr(args, "mcp_config", None)))
    except ValueError as exc:
        raise SystemExit(f"gdm: {exc}") from None
    result = resolve([env_layer(), flags], ["environment", "command line"])
    for error in result.errors:
        print(f"gdm: {error}", file=sys.stderr)
    return result.settings


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `gdm` command."""
    parser = argparse.ArgumentParser(prog="gdm", description="gdm: an AI coding agent in a language server")
    parser.add_argument("--version", action="version", version=f"gdm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="run one task headless and print tool calls, patches and cost")
    ask.add_argument("prompt")
    ask.add_argument("--workspace", default=".", help="workspace root (default: current folder)")
    ask.add_argument("--file", help="the file the request is about")
    ask.add_argument("--range", dest="line_range", help="L1:L2, 1-based inclusive line range in --file")
    ask.add_argument("--apply", action="store_true", help="write the patches to disk (CRITICAL risk never)")
    ask.add_argument("--continue", dest="follow_up", metavar="TASK_ID",
                     help="a follow-up: continue the conversation of that earlier task")
    mcp = sub.add_parser("mcp", help="MCP servers: `gdm mcp list` starts each and shows its tools")
    mcp.add_argument("action", choices=["list"])
    mcp.add_argument("--workspace", default=".", help="workspace root (default: current folder)")
    mcp.add_argument("--format", choices=["table", "json"], default="table")
    for p in (ask, mcp):
        p.add_argument("--mcp-config", help="the user's MCP servers, an mcp.json file ({\"mcpServers\": {...}})")
        p.add_argument("--allow-workspace-mcp", action="store_true",
                       help="start the MCP servers the workspace's .mcp.json / .vscode/mcp.json define")
    for p in (ask,):
        p.add_argument("--model", help="litellm model string (else GDM_MODEL)")
        p.add_argument("--api-base", help="base URL of the provider (else GDM_API_BASE)")
        p.add_argument("--database-url", help="store URL (else GDM_DATABASE_URL, else SQLite in the user data dir)")
    undo = sub.add_parser("undo", help="revert a task's accepted changes on disk (conflicts are reported, never forced)")
    undo.add_argument("task_id")
    undo.add_argument("--workspace", default=".", help="workspace root (default: current folder)")
    undo.add_argument("--database-url", help="store URL (else GDM_DATABASE_URL, else the default SQLite file)")
    how = undo.add_mutually_exclusive_group()
    how.add_argument("--revert", dest="revert", action="store_const", const=True,
                     help="a task gdm committed: also make a revert commit of it (git revert; history is kept)")
    how.add_argument("--files-only", dest="revert", action="store_const", const=False,
                     help="a task gdm committed: undo it in the files only, leave the commit")
    add_commit_parser(sub)
    demo = sub.add_parser("demo", help="a real task against the bundled scripted model (no key, no network)")
    demo.add_argument("--keep", action="store_true", help="keep the demo workspace and print where it is")
    serve = sub.add_parser("serve", help="serve LSP on stdio (same as gdm-lsp)")
    serve.add_argument("--stdio", action="store_true", help="serve on stdin/stdout (the default)")
    sub.add_parser("acp", help="serve the Agent Client Protocol on stdio (Zed, JetBrains, CodeCompanion, acpx)")
    rep = sub.add_parser("replay", help="re-run a recorded session offline; exit 0 when its tool calls and patches "
                                        "are reproduced")
    rep.add_argument("source", help="a session id in the store, or a replay fixture file (.json)")
    rep.add_argument("--workspace", help="where to replay (default: the recorded workspace)")
    exp = sub.add_parser("export", help="write a recorded session as a replay fixture (JSON)")
    exp.add_argument("session")
    exp.add_argument("file")
    for p in (rep, exp):
        p.add_argument("--database-url", help="store URL (else GDM_DATABASE_URL, else the default SQLite file)")
    reports.add_parsers(sub)  # gdm usage, gdm audit
    mapcli.add_parsers(sub)  # gdm map, gdm symbols
    args = parser.parse_args(argv)
    if args.command in ("usage", "audit"):
        raise SystemExit(reports.run(args, sys.stdout, sys.stderr))
    if args.command in ("map", "symbols"):
        raise SystemExit(mapcli.run(args, settings_from_env().map_tokens or 2048))
    if args.command == "serve":
        serve_stdio([])
        return
    if args.command == "acp":
        serve_acp()
        return
    if args.command in ("replay", "export"):
        raise SystemExit(replay_or_export(args, sys.stdout))
    if args.command == "demo":
        raise SystemExit(run_demo(keep=args.keep, out=sys.stdout))
    if args.command == "mcp":
        raise SystemExit(mcp_list(args, sys.stdout))
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        raise SystemExit(f"gdm: --workspace {args.workspace} is not a folder")
    if args.command == "undo":
        raise SystemExit(asyncio.run(run_undo(undo_settings(args), workspace, args.task_id, sys.stdout, args.revert)))
    if args.command == "commit":
        raise SystemExit(asyncio.run(run_commit(undo_settings(args), workspace, commit_request(args), sys.stdout)))
    code = asyncio.run(run_ask(settings_from(args), workspace, args.prompt, args.file, args.line_range,
                               args.apply, sys.stdout, follow_up=args.follow_up,
                               allow_workspace_mcp=args.allow_workspace_mcp))
    raise SystemExit(code)


def replay_or_export(args: argparse.Namespace, out: TextIO) -> int:
    """`gdm replay` / `gdm export`: 0 when done (replay: identical), 1 when not, 2 on bad input."""
    source = getattr(args, "source", None) or args.session
    try:
        if source.endswith(".json") and Path(source).is_file():
            recording = replay.load(source)
        else:
            with open_store(args.database_url or settings_from_env().database_url) as store:
                recording = replay.Recording.from_store(store, source)
    except (KeyError, ValueError, OSError) as exc:
        out.write(f"gdm: {exc}\n")
        return 2
    if args.command == "export":
        out.write(f"exported {len(recording.tasks)} task(s) to {replay.export(recording, args.file)}\n")
        return 0
    workspace = Path(args.workspace or recording.workspace).resolve()
    if not workspace.is_dir():
        out.write(f"gdm: the workspace {workspace} does not exist: pass --workspace\n")
        return 2
    problems = asyncio.run(replay_recording(recording, workspace))
    for task, found in zip(recording.tasks, problems):
        out.write(f"{'✓' if not found else '✗'} {task.prompt[:60]}: {len(task.turns)} turn(s), "
                  f"{len(task.tool_calls)} tool call(s), {len(task.patches)} patch(es)\n")
        for problem in found:
            out.write(f"    {problem}\n")
    if recording.completions:
        found = asyncio.run(completion_replay.check(recording.completions))
        problems.append(found)
        out.write(f"{'✓' if not found else '✗'} {len(recording.completions)} inline completion(s)\n")
        for problem in found:
            out.write(f"    {problem}\n")
    return 0 if not any(problems) else 1


def add_commit_parser(sub: argparse._SubParsersAction) -> None:
    """`gdm commit`: the tasks' accepted hunks as one commit (review/commit.py)."""
    commit = sub.add_parser("commit", help="commit exactly the accepted hunks of a task (several tasks, or a "
                                           "conversation's: one commit); your other edits stay unstaged")
    commit.add_argument("task_ids", nargs="*", metavar="TASK", help="task id(s), as `gdm ask` prints them")
    commit.add_argument("--conversation", help="commit this conversation's tasks with accepted, uncommitted changes")
    commit.add_argument("--message", "-m", help="the commit message (else cheapModel's, else one from the prompt)")
    commit.add_argument("--dry-run", action="store_true", help="print the commit and its message, commit nothing")
    commit.add_argument("--no-verify", action="store_true", help="skip the pre-commit and commit-msg hooks")
    commit.add_argument("--workspace", default=".", help="workspace root (default: current folder)")
    commit.add_argument("--database-url", help="store URL (else GDM_DATABASE_URL, else the default SQLite file)")


def commit_request(args: argparse.Namespace) -> CommitRequest:
    """The `gdm commit` command line as a request; exit 2 when it names no task or both."""
    problem = ("name the task(s) or --conversation C (one of them)" if bool(args.task_ids) == bool(args.conversation)
               else "--message is empty: leave it out to have one written"
               if args.message is not None and not args.message.strip() else None)
    if problem:
        print(f"gdm commit: {problem}", file=sys.stderr)
        raise SystemExit(2)
    return CommitRequest(tuple(args.task_ids), args.conversation, args.message, args.dry_run, args.no_verify)


def undo_settings(args: argparse.Namespace) -> Settings:
    """Environment, then `--database-url` (the only setting an undo or a commit takes from flags)."""
    result = resolve([env_layer(), {"databaseUrl": args.database_url}], ["environment", "command line"])
    return result.settings


def mcp_list(args: argparse.Namespace, out: TextIO) -> int:
    """`gdm mcp list`: 0 when every server on offer started (or waits for a yes), 1 when one failed."""
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        out.write(f"gdm: --workspace {args.workspace} is not a folder\n")
        return 2
    rows = asyncio.run(mcp_listing.list_servers(settings_from(args), workspace, args.allow_workspace_mcp))
    return mcp_listing.print_servers(rows, out, args.format)


def settings_from_env() -> Settings:
    """Settings from the GDM_* environment only."""
    return resolve([env_layer()], ["environment"]).settings


async def replay_recording(recording: replay.Recording, workspace: Path) -> list[list[str]]:
    """Re-run each task through the real loop and tools against `workspace`, answered by the
    recording (no network), in a scratch store; per task, how it differs (empty: identical)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="gdm-replay-") as tmp, open_store(f"sqlite:///{tmp}/replay.db") as store:
        session = open_session(root=workspace, settings=Settings(), store=store, buffers=NoBuffers(), stream=False)
        for task in recording.tasks:
            # Stop where the original stopped: its number of model calls, and no budget of ours.
            session.update_settings(Settings.model_validate(
                {"maxTurns": max(1, len(task.turns)), "taskBudgetUsd": 1e9, "dayBudgetUsd": 1e9}))
            client = replay.ReplayClient(task)
            task_id = new_id("t")
            spec = TaskSpec(task.prompt, task.path, task.start_line, task.end_line,
                            (workspace / task.path).as_uri() if task.path else None)
            async for _event in session.run_task(task_id, spec, llm_factory=lambda _c, _p, client=client: client):
                pass
            patches = store.patches(session_id=session.id)
            found = replay.compare(task, store.tool_calls(task_id), [p for p in patches if p.get("taskId") == task_id])
            results.append(found + client.divergences if found else found)
    return results


if __name__ == "__main__":
    main()
