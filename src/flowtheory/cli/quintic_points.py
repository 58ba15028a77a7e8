"""``flowtheory quintic sample`` and ``flowtheory quintic sigma``: points and the σ-measure (section 3, B.11).

``sample --n N [--psi P] [--seed S] [--same-patch [--chart I J]] --out FILE [--json]``
    Draw ``N`` Shiffman–Zelditch points on the quintic ``sum z^5 - 5 psi prod z = 0`` (Fermat for
    ``psi = 0``) from random lines and save them (``.npz`` with metadata, :mod:`numerics.cy.io`).
    ``--same-patch`` keeps only points whose chart (largest ``|z_i|`` set to 1, largest
    ``|dp/dz_j|`` eliminated) is ``(I, J)`` (default ``(0, 1)``), as in section 3.1, and reports the
    acceptance rate (≈ 1/20 on the Fermat quintic).

``sigma --metric fs (--n N [--psi P] [--seed S] | --points FILE) [--json]``
    The σ-measure (B.11) of the Fubini–Study metric with its standard error, κ and the volumes
    ``int J^3`` (= 5 for FS) and ``int |Omega|^2``, on fresh points or on a saved point file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_int, emit, prepare_output_file, seed

POINTS_MAX = 2_000_000
"""Most points one command draws (about 0.5 GiB of working memory at the bound)."""
PSI_MAX = 100.0
"""Largest |psi| accepted: beyond it the family is numerically a ``prod z = 0`` degeneration and
float64 residuals of ``psi prod z`` lose all digits of ``sum z^5``."""


def _complex(text: str) -> complex:
    """argparse type: a complex ``psi`` with ``|psi| <= PSI_MAX`` (finite)."""
    try:
        value = complex(text.replace(" ", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a complex number such as 0.5 or 0.5+0.1j, got {text[:40]!r}") from None
    if not abs(value) <= PSI_MAX:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"expected |psi| <= {PSI_MAX:g}, got {text[:40]}")
    return value


def _npz_path(text: str) -> Path:
    if not text.endswith(".npz"):
        raise argparse.ArgumentTypeError(f"expected a file name ending in .npz, got {text[:80]!r}")
    return Path(text)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="points on the quintic from random lines (Shiffman–Zelditch)")
    p.add_argument("--n", type=bounded_int(1, POINTS_MAX), required=True, help=f"number of points (1 to {POINTS_MAX})")
    p.add_argument("--psi", type=_complex, default=0.0, help=f"Dwork parameter psi, |psi| <= {PSI_MAX:g} (default 0: Fermat)")
    p.add_argument("--seed", type=seed, default=0, help="random seed (0 to 2**32-1, default 0)")
    p.add_argument("--same-patch", action="store_true", help="keep only points in one chart (section 3.1)")
    p.add_argument("--chart", type=bounded_int(0, 4), nargs=2, default=(0, 1), metavar=("PATCH", "ELIMINATED"), help="the chart for --same-patch: two different coordinates 0 to 4 (default 0 1)")
    p.add_argument("--out", type=_npz_path, required=True, help="output .npz file (refused if it exists, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_sample)

    s = sub.add_parser("sigma", help="sigma-measure (B.11) of a metric, with standard error, kappa and volumes")
    s.add_argument("--metric", choices=("fs",), required=True, help="the metric: fs (Fubini–Study)")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--n", type=bounded_int(1, POINTS_MAX), help=f"number of fresh points (1 to {POINTS_MAX})")
    source.add_argument("--points", help="a point file written by `quintic sample`")
    s.add_argument("--psi", type=_complex, default=0.0, help=f"Dwork parameter psi for fresh points, |psi| <= {PSI_MAX:g} (default 0)")
    s.add_argument("--seed", type=seed, default=0, help="random seed for fresh points (0 to 2**32-1, default 0)")
    s.add_argument("--json", action="store_true", help="print one JSON document")
    s.set_defaults(handler=run_sigma)


def run_sample(args: argparse.Namespace) -> int:
    import jax
    import numpy as np

    from numerics.cy.hypersurface import quintic_family
    from numerics.cy.io import save_points
    from numerics.cy.sampling import sample_in_chart, sample_points
    from numerics.io.provenance import run_record

    if args.same_patch and args.chart[0] == args.chart[1]:
        raise CliError(f"--chart: the eliminated coordinate must differ from the patch, got {args.chart[0]} {args.chart[1]}")
    prepare_output_file(args.out, overwrite=args.overwrite)
    surface = quintic_family(args.psi)
    key = jax.random.PRNGKey(args.seed)
    progress = sys.stderr.isatty()
    if args.same_patch:
        sample = sample_in_chart(surface, args.n, key, *args.chart, progress=progress)
    else:
        sample = sample_points(surface, args.n, key, progress=progress)
    parameters = {"n": args.n, "psi": [args.psi.real, args.psi.imag], "same_patch": args.same_patch, "chart": list(args.chart)}
    path = save_points(args.out, sample, args.seed, parameters)
    result = {
        "file": str(path),
        "manifold": surface.name,
        "n_points": len(sample),
        "n_lines": sample.n_lines,
        "n_rejected_lines": sample.n_rejected_lines,
        "chart": sample.chart,
        "n_candidates": sample.n_candidates,
        "acceptance_rate": sample.acceptance_rate,
        "max_residual": float(np.max(surface.residual(sample.points))),
        "run_record": run_record(args.seed, parameters),
    }
    emit(args.json, result, _render_sample)
    return 0


def run_sigma(args: argparse.Namespace) -> int:
    import dataclasses

    import jax

    from numerics.cy.hypersurface import quintic_family
    from numerics.cy.io import load_points
    from numerics.cy.measure import fs_sigma
    from numerics.cy.sampling import sample_points
    from numerics.io.provenance import run_record

    if args.points is not None:
        sample, metadata = load_points(args.points)
        seed = metadata["seed"]
        parameters = {"metric": args.metric, "points": args.points}
    else:
        sample = sample_points(quintic_family(args.psi), args.n, jax.random.PRNGKey(args.seed), progress=sys.stderr.isatty())
        seed = args.seed
        parameters = {"metric": args.metric, "n": args.n, "psi": [args.psi.real, args.psi.imag]}
    result = dataclasses.asdict(fs_sigma(sample))
    result.update(
        manifold=sample.surface.name,
        metric=args.metric,
        chart=sample.chart,
        n_lines=sample.n_lines,
        n_rejected_lines=sample.n_rejected_lines,
        run_record=run_record(seed, parameters),
    )
    emit(args.json, result, _render_sigma)
    return 0


def _render_sample(r: dict) -> None:
    from rich.console import Console

    console = Console()
    console.print(f"{r['n_points']} points on {r['manifold']} from {r['n_lines']} lines ({r['n_rejected_lines']} rejected) -> {r['file']}")
    console.print(f"max relative residual |p(z)|/(|z|^5 (1 + 5|psi|)) = {r['max_residual']:.2e}")
    if r["chart"] is not None:
        console.print(f"chart {tuple(r['chart'])}: kept {r['n_points']} of {r['n_candidates']} candidates (acceptance {r['acceptance_rate']:.4f})")


def _render_sigma(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sigma-measure of the {r['metric'].upper()} metric on {r['manifold']} ({r['n_points']} points)")
    table.add_column("quantity")
    table.add_column("estimate")
    table.add_column("std. error")
    for label, name in (("sigma (B.11)", "sigma"), ("kappa = vol_g / vol_Omega", "kappa"), ("int J^3", "volume"), ("int |Omega|^2", "volume_omega")):
        table.add_row(label, f"{r[name]:.6g}", f"{r[name + '_stderr']:.2g}")
    Console().print(table)
