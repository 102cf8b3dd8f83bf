"""`gdm usage` and `gdm audit`: the store's costs and decisions as a table, JSON or CSV.

    gdm usage [--since DATE] [--by day|model|user|task|completions] [--format table|json|csv] [--database-url URL]
    gdm audit [--since DATE] [--kind shell|accept|reject|undo|mcp|commit] [--format table|json|csv] [--database-url URL]

The database is `--database-url`, else the settings' (`GDM_DATABASE_URL`), else the default SQLite
file. Exit status 0, or 2 with a one-line reason on stderr (bad flag value, store that cannot open).
"""

from __future__ import annotations

import argparse
import csv
import json
from datetime import date
from typing import Any, TextIO

from gdm.config import env_layer, resolve
from gdm.store import open_store, store_error_type

FORMATS = ("table", "json", "csv")
USAGE_BY = ("day", "model", "user", "task", "completions")
AUDIT_KINDS = ("shell", "accept", "reject", "undo", "mcp", "commit")


def add_parsers(sub: Any) -> None:
    """Add `usage` and `audit` to the `gdm` command's subparsers."""
    usage = sub.add_parser("usage", help="model calls, tokens and USD from the store, by day, model, user or task; "
                           "inline completions by day, with how many were accepted")
    usage.add_argument("--by", choices=USAGE_BY, default="day", help="group by (default: day)")
    audit = sub.add_parser("audit", help="shell commands run, changes accepted and rejected… from the store")
    audit.add_argument("--kind", choices=AUDIT_KINDS, help="only this kind of record")
    for p in (usage, audit):
        p.add_argument("--since", type=_day, help="from this UTC day on (YYYY-MM-DD)")
        p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
        p.add_argument("--database-url", help="store URL (else GDM_DATABASE_URL, else the default SQLite file)")


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `gdm usage` or `gdm audit` with parsed `args`; the exit status."""
    from gdm.store import reports  # noqa: PLC0415 - imports sqlmodel: only these commands need it

    url = args.database_url or resolve([env_layer()], ["environment"]).settings.database_url
    try:
        with open_store(url) as store:
            if args.command == "usage":
                rows = reports.usage(store, since=args.since, by=args.by)
            else:
                rows = reports.audit(store, since=args.since, kind=args.kind)
    except store_error_type() as exc:
        err.write(f"gdm {args.command}: {exc}\n")
        return 2
    write(rows, args.format, out, total=args.command == "usage")
    return 0


def write(rows: list[dict[str, Any]], fmt: str, out: TextIO, *, total: bool = False) -> None:
    """Rows as a table (with a total line when `total`), JSON (a list) or CSV (a header line)."""
    if fmt == "json":
        out.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    flat = [{k: _cell(v) for k, v in row.items()} for row in rows]
    if fmt == "csv":
        if flat:
            writer = csv.DictWriter(out, fieldnames=list(flat[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(flat)
        return
    if not flat:
        out.write("(nothing recorded)\n")
        return
    if total:
        sums = {k: sum(r[k] for r in rows) for k in ("calls", "tokensIn", "tokensOut", "usd", "unpricedCalls")}
        flat.append({**{k: "" for k in flat[0]}, next(iter(flat[0])): "total",
                     **{k: _cell(round(v, 6) if k == "usd" else v) for k, v in sums.items()}})
    columns = list(flat[0])
    widths = {c: max(len(c), *(len(r[c]) for r in flat)) for c in columns}
    numeric = {c for c in columns if all(isinstance(r.get(c), (int, float)) for r in rows)}
    def line(cells: dict[str, str]) -> str:
        return "  ".join(cells[c].rjust(widths[c]) if c in numeric else cells[c].ljust(widths[c])
                         for c in columns).rstrip()
    out.write(line({c: c for c in columns}) + "\n")
    for row in flat:
        out.write(line(row) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
