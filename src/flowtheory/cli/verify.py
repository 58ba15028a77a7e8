"""``flowtheory verify [--only ID ...] [--json]``: run every proof in ``proofs/`` and print a table.

Exit status 1 if any proof fails.  With ``--json``: a list of objects with keys ``id``,
``equations``, ``verdict``, ``max_error`` (and the details of each check).
"""

from __future__ import annotations

import argparse
import sys

from flowtheory.cli.output import CliError, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="run every executable proof and print the verdicts")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these proof ids")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from flowtheory_proofs import all_proofs

    proofs = all_proofs()
    if args.only:
        unknown = sorted(set(args.only) - {p.id for p in proofs})
        if unknown:
            raise CliError(f"unknown proof id(s): {', '.join(unknown)}")
        proofs = [p for p in proofs if p.id in args.only]
    results = [p.run() for p in proofs]
    emit(args.json, [r.to_json() for r in results], _render)
    return 1 if any(r.verdict == "fails" for r in results) else 0


def _render(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="flowtheory verify")
    for col in ("id", "equations", "verdict", "max error", "worst error/tol", "s"):
        table.add_column(col, no_wrap=col == "id")
    colour = {"agrees": "green", "agrees after correction": "yellow", "fails": "red"}
    for r in rows:
        err = r["max_error"]
        table.add_row(
            r["id"],
            ", ".join(r["equations"]),
            f"[{colour[r['verdict']]}]{r['verdict']}[/]",
            "—" if err is None else f"{err:.2e}",
            "—" if r["worst_error_to_tolerance"] is None else f"{r['worst_error_to_tolerance']:.2g}",
            f"{r['seconds']:.1f}",
        )
    # a pipe or a log file gets a wide table instead of rich's 80-column default
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    for r in rows:
        if r["correction"]:
            console.print(f"[yellow]{r['id']}[/]: {r['correction']}")
