"""``flowtheory verify [--only ID ...] [--list | --graph [--out FILE.png [--overwrite]]] [--time-limit SECONDS] [--json]``: run every
proof in ``proofs/`` in dependency order and print a table.

A proof names the proofs it relies on (``depends_on``); they run first, and when one fails (or
is itself blocked) its dependents are not run and are reported as ``blocked``.  ``--only ID``
runs ID together with everything it depends on; an ID may also be a prefix (``kernel-``, ``ntk``)
or a glob (``mc-*-relu``), and one that matches no proof is an error naming the close matches.
Exit status 1 if any proof fails or is blocked.

While the proofs run, a line per proof (its id, verdict and seconds) goes to stderr; stdout holds
the table (100 columns wide: the prose columns wrap), the corrections, and one summary line
(``48 proofs: 27 agree, 21 agree after correction, 0 fail, 0 blocked``).  The table's error is
that of the check nearest its tolerance (largest error/tolerance), with its kind: ``z`` (standard
errors), ``rel`` (relative) or ``abs`` (absolute) — :data:`flowtheory.proof.ERROR_KINDS`.
With ``--json``: no progress lines, and a list of objects with keys ``id``, ``equations``, ``verdict``
(one of ``agrees``, ``agrees after correction``, ``fails``, ``blocked``), ``max_error``,
``worst_check``, ``depends_on``, ``blocked_by`` (and the details of each check, with its
``error_kind``).

``--list`` runs nothing: it prints the ids with their equations (with ``--json``: ids, titles,
equations and dependencies).  ``--graph`` runs nothing either: it prints the dependency graph (the
run order and every edge ``A -> B``, B relying on A) and, with ``--out FILE.png``, draws it as a PNG
(networkx layout in matplotlib, one column per dependency depth; an existing file is refused unless
``--overwrite``, as every command's ``--out FILE``); with ``--json`` it prints ``nodes``, ``edges``,
``order`` and ``png``.

``--time-limit SECONDS`` (default 600; the whole run takes about two minutes on a 2-core machine)
stops the proofs with a one-line :class:`~flowtheory.errors.SymbolicLimitError`
(:func:`flowtheory.cli.expressions.time_limit`); nothing is printed on stdout then.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import sys
from pathlib import Path

from flowtheory.cli.expressions import add_time_limit, time_limit
from flowtheory.cli.output import CliError, emit, prepare_output_file, say

COLOUR = {"agrees": "green", "agrees after correction": "yellow", "fails": "red", "blocked": "magenta"}
#: the summary line's words for the statuses, in its order
SUMMARY = {"agrees": "agree", "agrees after correction": "agree after correction", "fails": "fail", "blocked": "blocked"}
ERROR_UNIT = {"z-score": "z", "relative": "rel", "absolute": "abs"}
WIDTH = 100
"""Columns of the table and the text around it (fewer on a narrower terminal)."""
ID_WIDTH = 34
"""The id column is as wide as the longest id up to this (the longest is 34 characters; longer ids fold)."""
LIST_IN_MESSAGE = 12
"""Up to this many proofs, an --only miss lists every id; beyond, the close matches and --list."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="run every executable proof and print the verdicts")
    p.add_argument(
        "--only", nargs="+", metavar="ID",
        help="run only these proofs (and, first, the proofs they depend on); an ID may be a prefix (kernel-) or a glob (mc-*-relu)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table (and no progress lines)")
    show = p.add_mutually_exclusive_group()
    show.add_argument("--list", action="store_true", help="print the proof ids with their equations instead of running the proofs")
    show.add_argument("--graph", action="store_true", help="print the proof dependency graph instead of running the proofs")
    p.add_argument("--out", type=Path, default=None, metavar="FILE.png",
                   help="with --graph: also draw the graph to this PNG (refused if it exists, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_time_limit(p, 600)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from flowtheory.proof import dependency_graph, run_proofs
    from flowtheory_proofs import all_proofs

    if args.out is not None:
        if not args.graph:
            raise CliError("--out draws the dependency graph: add --graph")
        if args.out.suffix.lower() != ".png":
            raise CliError(f"--out {args.out}: the graph is drawn as a PNG; give a file name ending in .png")
        prepare_output_file(args.out, overwrite=args.overwrite)
    proofs = all_proofs()
    if args.only:
        proofs = _select(proofs, args.only)
    if args.list:
        emit(args.json, [{"id": p.id, "title": p.title, "equations": list(p.equations), "depends_on": list(p.depends_on)} for p in proofs],
             _render_list)
        return 0
    if args.graph:
        return _graph(dependency_graph(proofs), args)
    with time_limit(args.time_limit, "verify"):
        results = run_proofs(proofs, on_result=None if args.json else _progress(len(proofs)))
    emit(args.json, [r.to_json() for r in results], _render)
    return 1 if any(r.verdict in ("fails", "blocked") for r in results) else 0


def matches(proof_id: str, pattern: str) -> bool:
    """Whether ``--only PATTERN`` selects ``proof_id``: a glob (``*``, ``?``, ``[...]``) must match the
    whole id; anything else is the id itself or a prefix of it.

    >>> [matches("kernel-relu", p) for p in ("kernel-relu", "kernel-", "ntk", "*-relu", "kernel-r?lu", "relu")]
    [True, True, False, True, True, False]
    """
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(proof_id, pattern)
    return proof_id.startswith(pattern)


def _select(proofs: list, patterns: list[str]) -> list:
    """The proofs ``--only`` selects, with everything they depend on, in their given order."""
    import networkx as nx

    from flowtheory.proof import dependency_graph

    graph = dependency_graph(proofs)
    ids = list(graph)
    chosen = {i for i in ids for p in patterns if matches(i, p)}
    missed = [p for p in patterns if not any(matches(i, p) for i in ids)]
    if missed:
        raise CliError(f"unknown proof id(s): {', '.join(missed)}; {_suggest(missed, ids)}")
    needed = chosen.union(*(nx.ancestors(graph, i) for i in chosen))
    return [p for p in proofs if p.id in needed]


def _suggest(missed: list[str], ids: list[str]) -> str:
    """The rest of the --only error: every id when there are few, else the close matches and --list."""
    if len(ids) <= LIST_IN_MESSAGE:
        return f"the proofs are {', '.join(ids)}"
    close: list[str] = []
    for pattern in missed:
        stem = pattern.strip("*?[]")
        close += [i for i in ids if stem and stem in i] + difflib.get_close_matches(stem, ids, n=3, cutoff=0.6)
    close = list(dict.fromkeys(close))[:8]
    near = f"close matches: {', '.join(close)}" if close else "no id is close"
    return f"{near}; flowtheory verify --list prints all {len(ids)}"


def _progress(total: int):
    """``run_proofs``' report: one line per proof on stderr, ``verify [ 3/48] ID: VERDICT (S s)``."""
    done = 0

    def report(result) -> None:
        nonlocal done
        done += 1
        how = f"blocked by {', '.join(result.blocked_by)}" if result.verdict == "blocked" else f"{result.verdict} ({result.seconds:.1f} s)"
        say(f"verify [{done:>{len(str(total))}}/{total}] {result.id}: {how}")
        sys.stderr.flush()

    return report


def summary(rows: list[dict]) -> str:
    """``N proofs: a agree, b agree after correction, c fail, d blocked`` from the rows' verdicts."""
    counts = ", ".join(f"{sum(r['verdict'] == v for r in rows)} {word}" for v, word in SUMMARY.items())
    return f"{len(rows)} proof{'s' if len(rows) != 1 else ''}: {counts}"


def _console():
    """A rich console :data:`WIDTH` columns wide (a pipe or a file), or the terminal's width up to that."""
    from rich.console import Console

    if not sys.stdout.isatty():
        return Console(width=WIDTH)
    console = Console()
    console.width = min(console.width, WIDTH)
    return console


def _error_cell(check: dict | None) -> str:
    if check is None or check["error"] is None:
        return "—"
    return f"{check['error']:.2g} {ERROR_UNIT[check['error_kind']]}"


def _render(rows: list[dict]) -> None:
    from rich.table import Table

    console = _console()
    cells = [
        (
            r["id"],
            ", ".join(r["equations"]),
            f"[{COLOUR[r['verdict']]}]{r['verdict']}[/]",
            _error_cell(r["worst_check"]),
            "—" if r["worst_check"] is None or r["worst_error_to_tolerance"] is None else f"{r['worst_error_to_tolerance']:.2g}",
            f"{r['seconds']:.1f}" if r["verdict"] != "blocked" else "—",
        )
        for r in rows
    ]
    # numbers whole; the id up to ID_WIDTH and the verdict and equations wrapped into what is left
    headers = ("id", "equations", "verdict", "error", "err/tol", "s")
    widths = [max(len(h), *(len(c[k]) for c in cells)) for k, h in enumerate(headers)]
    widths[0] = min(widths[0], ID_WIDTH)
    widths[2] = len("agrees after")
    widths[1] = max(len("equations"), console.width - 3 * len(headers) - 1 - sum(widths) + widths[1])
    table = Table(
        title="flowtheory verify",
        caption="error: the check nearest its tolerance; z = standard errors, rel = relative, abs = absolute",
    )
    for header, width in zip(headers, widths):
        numeric = header in ("error", "err/tol", "s")
        table.add_column(header, max_width=width, overflow="fold", justify="right" if numeric else "left", no_wrap=numeric)
    for row in cells:
        table.add_row(*row)
    console.print(table)
    for r in rows:
        if r["correction"]:
            console.print(f"[yellow]{r['id']}[/]: {r['correction']}", overflow="fold")
    for r in rows:
        if r["verdict"] == "blocked":
            console.print(f"[magenta]{r['id']}[/]: blocked, not run: it depends on {', '.join(r['blocked_by'])}", overflow="fold")
    console.print(summary(rows), highlight=False)


def _render_list(proofs: list[dict]) -> None:
    width = max((len(p["id"]) for p in proofs), default=0)
    for p in proofs:
        print(f"{p['id']:<{width}}  {', '.join(p['equations']) or '—'}")


def _graph(graph, args: argparse.Namespace) -> int:
    """``--graph``: print (and, given a file, draw) the dependency graph; runs no proof."""
    from flowtheory.proof import dependency_order

    order = [p.id for p in dependency_order(graph)]
    png = args.out
    if png is not None:
        _draw(graph, png)
    result = {
        "nodes": [
            {"id": i, "title": graph.nodes[i]["proof"].title, "equations": list(graph.nodes[i]["proof"].equations),
             "depends_on": list(graph.nodes[i]["proof"].depends_on)}
            for i in order
        ],
        "edges": [[a, b] for a, b in sorted(graph.edges, key=lambda e: (order.index(e[1]), order.index(e[0])))],
        "order": order,
        "png": None if png is None else str(png),
    }
    emit(args.json, result, _render_graph)
    return 0


def _render_graph(result: dict) -> None:
    nodes, edges = result["nodes"], result["edges"]
    print(f"proof dependency graph: {len(nodes)} proofs, {len(edges)} dependencies (A -> B: B relies on A)")
    print("run order:")
    for n, node in enumerate(nodes, start=1):
        after = f"  (after {', '.join(node['depends_on'])})" if node["depends_on"] else ""
        print(f"  {n:3d}  {node['id']}{after}")
    print("dependencies:")
    for a, b in edges:
        print(f"  {a} -> {b}")
    if result["png"]:
        print(f"drawn to {result['png']}")


def _draw(graph, path: Path) -> None:
    """The graph as a PNG: one column per depth (longest chain of dependencies), arrows to dependents."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    generations = [sorted(ids) for ids in nx.topological_generations(graph)]
    layered = nx.DiGraph()
    for depth, ids in enumerate(generations):
        layered.add_nodes_from(ids, depth=depth)
    layered.add_edges_from(graph.edges)
    pos = nx.multipartite_layout(layered, subset_key="depth")
    fig, ax = plt.subplots(figsize=(3.2 * len(generations) + 2, 0.45 * max(map(len, generations)) + 1.5))
    families = sorted({i.split("-")[0] for i in graph})
    cmap = plt.get_cmap("tab10")
    colours = [cmap(families.index(i.split("-")[0]) % 10) for i in graph]
    nx.draw_networkx_edges(graph, pos, ax=ax, arrows=True, arrowsize=10, edge_color="0.6", node_size=600)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=120)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=7, verticalalignment="bottom")
    ax.set_title(f"dependencies of {len(graph)} proofs (arrow: from a proof to the proofs that rely on it; "
                 "column: the longest chain of dependencies below a proof)")
    handles = [plt.Line2D([], [], ls="", marker="o", color=cmap(i % 10)) for i in range(len(families))]
    ax.legend(handles, [f"{name}-…" for name in families], title="id prefix", fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.axis("off")
    fig.tight_layout()
    from numerics.io.provenance import save_figure_atomic

    save_figure_atomic(path, fig, dpi=120)
    plt.close(fig)
