"""``flowtheory verify [--only ID ...] [--time-limit SECONDS] [--json] [--graph [FILE.png]]``: run every proof in ``proofs/``
in dependency order and print a table.

A proof names the proofs it relies on (``depends_on``); they run first, and when one fails (or
is itself blocked) its dependents are not run and are reported as ``blocked``.  ``--only ID``
runs ID together with everything it depends on.  Exit status 1 if any proof fails or is blocked.
With ``--json``: a list of objects with keys ``id``, ``equations``, ``verdict`` (one of
``agrees``, ``agrees after correction``, ``fails``, ``blocked``), ``max_error``, ``depends_on``,
``blocked_by`` (and the details of each check).

``--graph`` runs nothing: it prints the dependency graph (the run order and every edge
``A -> B``, B relying on A) and, given a file name, draws it as a PNG (networkx layout in
matplotlib, one column per dependency depth); with ``--json`` it prints ``nodes``, ``edges`` and
``order``.

``--time-limit SECONDS`` (default 600; the whole run takes about two minutes on a 2-core machine)
stops the proofs with a one-line :class:`~flowtheory.errors.SymbolicLimitError`
(:func:`flowtheory.cli.expressions.time_limit`); nothing is printed then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowtheory.cli.expressions import add_time_limit, time_limit
from flowtheory.cli.output import CliError, emit

COLOUR = {"agrees": "green", "agrees after correction": "yellow", "fails": "red", "blocked": "magenta"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="run every executable proof and print the verdicts")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these proof ids (and, first, the proofs they depend on)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--graph",
        nargs="?",
        const="-",
        metavar="FILE.png",
        help="print the proof dependency graph instead of running the proofs; with a file name also draw it as a PNG",
    )
    add_time_limit(p, 600)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import networkx as nx

    from flowtheory.proof import dependency_graph, run_proofs
    from flowtheory_proofs import all_proofs

    proofs = all_proofs()
    if args.only:
        graph = dependency_graph(proofs)
        unknown = sorted(set(args.only) - set(graph))
        if unknown:
            raise CliError(f"unknown proof id(s): {', '.join(unknown)}")
        needed = set(args.only).union(*(nx.ancestors(graph, i) for i in args.only))
        proofs = [p for p in proofs if p.id in needed]
    if args.graph is not None:
        return _graph(dependency_graph(proofs), args)
    with time_limit(args.time_limit, "verify"):
        results = run_proofs(proofs)
    emit(args.json, [r.to_json() for r in results], _render)
    return 1 if any(r.verdict in ("fails", "blocked") for r in results) else 0


def _render(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="flowtheory verify")
    for col in ("id", "equations", "verdict", "max error", "worst error/tol", "s"):
        table.add_column(col, no_wrap=col == "id")
    for r in rows:
        ran = r["verdict"] != "blocked"
        err = r["max_error"]
        table.add_row(
            r["id"],
            ", ".join(r["equations"]),
            f"[{COLOUR[r['verdict']]}]{r['verdict']}[/]",
            "—" if err is None or not ran else f"{err:.2e}",
            "—" if r["worst_error_to_tolerance"] is None or not ran else f"{r['worst_error_to_tolerance']:.2g}",
            f"{r['seconds']:.1f}" if ran else "—",
        )
    # a pipe or a log file gets a wide table instead of rich's 80-column default
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    for r in rows:
        if r["correction"]:
            console.print(f"[yellow]{r['id']}[/]: {r['correction']}")
    for r in rows:
        if r["verdict"] == "blocked":
            console.print(f"[magenta]{r['id']}[/]: blocked, not run: it depends on {', '.join(r['blocked_by'])}")


def _graph(graph, args: argparse.Namespace) -> int:
    """``--graph``: print (and, given a file, draw) the dependency graph; runs no proof."""
    from flowtheory.proof import dependency_order

    order = [p.id for p in dependency_order(graph)]
    png = None if args.graph == "-" else Path(args.graph)
    if png is not None:
        if png.suffix.lower() != ".png":
            raise CliError(f"--graph writes a PNG: give a file name ending in .png, not {args.graph!r}")
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
    ax.set_title("proof dependencies (arrow: from a proof to the proofs that rely on it)")
    ax.axis("off")
    fig.tight_layout()
    from numerics.io.provenance import save_figure_atomic

    save_figure_atomic(path, fig, dpi=120)
    plt.close(fig)
