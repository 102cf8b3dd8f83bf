"""Ready-made code actions: "gdm: Fix this", "gdm: Explain", "gdm: Write tests", and
"gdm: <instruction>" for a `gdm:` comment line, in the file's own comment syntax.

Each action carries `gdm.ask` with a prompt already written, so it works in editors without an
input box. Two of them need more than a prompt, named by the payload's `action` field:
`explain` (the task may not edit: only reading tools are offered, the answer is shown) and
`comment` (the patch that answers the comment also removes the comment line, server-side).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.agent.prompts import READY_PROMPTS
from gdm.commands import Command
from gdm.features.code_actions import range_payload, wanted

if TYPE_CHECKING:
    from gdm.agent.session import Session, TaskSpec
    from gdm.server import GdmServer

FIX_KIND = lsp.CodeActionKind.QuickFix
READY_KIND = lsp.CodeActionKind.RefactorRewrite
MAX_SCANNED_LINES = 200  # a huge selection is not searched for gdm: comments line by line

# Comment openers (and closers) per file extension; a file we do not know accepts them all.
_HASH, _SLASHES, _DASHES, _SEMI, _BLOCK, _HTML = "#", "//", "--", ";", "/*", "<!--"
_CLOSERS = MappingProxyType({_BLOCK: "*/", _HTML: "-->"})
_SYNTAX_GROUPS = (
    ("py pyi sh bash zsh rb pl r yaml yml toml cfg conf mk cmake dockerfile nix tf ex exs jl", (_HASH,)),
    ("js jsx ts tsx mjs cjs go rs c h cc cpp hpp cs java kt kts swift scala dart php zig groovy",
     (_SLASHES, _BLOCK)),
    ("css scss less", (_BLOCK, _SLASHES)),
    ("sql lua hs elm ada vhd", (_DASHES,)),
    ("lisp el clj cljs scm rkt asm s ini", (_SEMI,)),
    ("html htm xml svg vue md markdown xhtml", (_HTML,)),
)
_SYNTAX = MappingProxyType({ext: openers for exts, openers in _SYNTAX_GROUPS for ext in exts.split()})
_ALL_OPENERS = (_HTML, _BLOCK, _SLASHES, _DASHES, _HASH, _SEMI)

PROMPTS = READY_PROMPTS  # agent/prompts.py: the ACP slash commands use them too


def comment_openers(path: str) -> tuple[str, ...]:
    """The comment openers of a file, by its extension (all of them for an unknown one)."""
    name = PurePosixPath(path).name.lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else name
    return _SYNTAX.get(ext, _ALL_OPENERS)


def gdm_instruction(line: str, openers: tuple[str, ...] = _ALL_OPENERS) -> str | None:
    """The instruction of a `gdm:` comment line (`# gdm: do X` → `do X`), or None."""
    stripped = line.strip()
    for opener in sorted(openers, key=len, reverse=True):
        if not stripped.startswith(opener):
            continue
        body = stripped[len(opener):]
        closer = _CLOSERS.get(opener)
        if closer and body.rstrip().endswith(closer):
            body = body.rstrip()[: -len(closer)]
        match = re.match(r"\s*gdm:\s*(\S.*?)\s*$", body)
        return match.group(1) if match else None
    return None


def _command(title: str, payload: dict[str, Any]) -> lsp.Command:
    return lsp.Command(title=title, command=Command.ASK.identifier, arguments=[payload])


def _text_and_name(server: GdmServer, uri: str) -> tuple[str, str] | None:
    """The editor's text of a document and its file name (for the comment syntax); no store needed."""
    name = PurePosixPath(unquote(urlparse(uri).path)).name
    doc = server.ls.workspace.text_documents.get(unquote(uri))
    if doc is not None:
        return doc.source, name
    session = server.session  # not open in the editor: the session reads it from disk
    rel = session.view.rel_of_uri(uri) if session is not None else None
    current = session.view.current(rel) if rel is not None else None
    return None if current is None else (current.text, name)


def comment_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """ "gdm: <instruction>" on each `gdm:` comment line under the cursor or selection."""
    if not wanted(READY_KIND.value, params):
        return []
    found = _text_and_name(server, params.text_document.uri)
    if found is None:
        return []
    text, name = found
    lines = text.splitlines()
    openers = comment_openers(name)
    first = params.range.start.line
    last = min(params.range.end.line, first + MAX_SCANNED_LINES, len(lines) - 1)
    actions = []
    for number in range(first, last + 1):
        instruction = gdm_instruction(lines[number], openers)
        if instruction is None:
            continue
        rng = lsp.Range(start=lsp.Position(line=number, character=0), end=lsp.Position(line=number, character=0))
        payload = {"prompt": instruction, "uri": params.text_document.uri, "range": range_payload(rng),
                   "action": "comment"}
        title = f"gdm: {instruction}"
        actions.append(lsp.CodeAction(title=title, kind=READY_KIND, command=_command(title, payload)))
    return actions


def fix_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """ "gdm: Fix this" when the editor sends diagnostics with the request; their messages go to the model."""
    diagnostics = params.context.diagnostics or []
    if not diagnostics or not wanted(FIX_KIND.value, params):
        return []
    problems = "\n".join(f"- line {d.range.start.line + 1}: {d.message}" + (f" ({d.source})" if d.source else "")
                         for d in diagnostics)
    lo = min(d.range.start.line for d in diagnostics)
    hi = max(d.range.end.line for d in diagnostics)
    rng = lsp.Range(start=lsp.Position(line=lo, character=0), end=lsp.Position(line=hi, character=0))
    payload = {"prompt": PROMPTS["fix"].format(problems=problems), "uri": params.text_document.uri,
               "range": range_payload(rng)}
    title = "gdm: Fix this"
    return [lsp.CodeAction(title=title, kind=FIX_KIND, diagnostics=list(diagnostics), is_preferred=False,
                           command=_command(title, payload))]


def explain_and_test_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """ "gdm: Explain" and "gdm: Write tests" on any selection or cursor."""
    if server.session is None or not wanted(READY_KIND.value, params):
        return []
    where = {"uri": params.text_document.uri, "range": range_payload(params.range)}
    explain = {"prompt": PROMPTS["explain"], **where, "action": "explain"}
    tests = {"prompt": PROMPTS["tests"], **where}
    return [lsp.CodeAction(title="gdm: Explain", kind=READY_KIND, command=_command("gdm: Explain", explain)),
            lsp.CodeAction(title="gdm: Write tests", kind=READY_KIND, command=_command("gdm: Write tests", tests))]


PROVIDERS = (comment_actions, fix_actions, explain_and_test_actions)


def refine(session: Session, spec: TaskSpec, args: tuple[Any, ...]) -> TaskSpec:
    """The task spec of `gdm.ask` with what its `action` asks for (read-only, comment removal)."""
    from pydantic import ValidationError  # noqa: PLC0415 - pydantic after `initialize`

    from gdm.features.params import ActionParams  # noqa: PLC0415

    payload = args[0] if args else {}
    # pygls hands unknown payloads over as namedtuples: read the one field either way.
    raw = payload.get("action") if isinstance(payload, dict) else getattr(payload, "action", None)
    try:
        action = ActionParams.model_validate({"action": raw} if raw is not None else {}).action
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"gdm.ask: action must be one of ask, explain, comment "
                                   f"({exc.errors()[0]['msg']})") from exc
    if action == "explain":
        return dataclasses.replace(spec, read_only=True)
    if action == "comment":
        return dataclasses.replace(spec, drop_line=_comment_line(session, spec))
    return spec


def _comment_line(session: Session, spec: TaskSpec) -> str:
    """The text of the `gdm:` comment line the task answers (checked: it must still be one)."""
    if spec.path is None or spec.start_line is None:
        raise JsonRpcInvalidParams("gdm.ask: action 'comment' needs the uri and range of the comment line")
    current = session.view.current(spec.path)
    lines = current.text.splitlines(keepends=True) if current is not None else []
    line = lines[spec.start_line] if spec.start_line < len(lines) else ""
    if gdm_instruction(line, comment_openers(spec.path)) is None:
        raise JsonRpcInvalidParams(f"gdm.ask: line {spec.start_line + 1} of {spec.path} is not a `gdm:` comment "
                                   f"(any more?)")
    return line
