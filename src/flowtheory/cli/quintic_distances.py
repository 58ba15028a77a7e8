"""``flowtheory quintic distances`` and ``flowtheory quintic cluster``: section 3.1 of the paper.

``distances --n N1,N2,... [--repeats R] [--seed S] [--out DIR] [--json]``
    For each ``N`` (and repeat) draw ``N`` Shiffman–Zelditch points on the Fermat quintic (3.1),
    compute every point's nearest-neighbour Fubini–Study distance (3.2)+(3.4) blockwise (memory
    ``O(N * block)``), and report min / mean / max (figure 3 right).  Fits
    ``mu = a N^b`` (3.7) by log–log least squares with standard errors when there are >= 3 values
    at >= 2 distinct ``N``, and compares with the dimension argument ``b = -1/6``, its Poisson
    prefactor ``Gamma(7/6) 5^(1/6)`` and the printed ``.968 N^-.184``.  Writes
    ``DIR/quintic_distances.json`` (atomically, after every ``N``: an interrupted run resumes from
    it with ``--resume``; its schema ``flowtheory.quintic.distances/1`` carries a content digest and
every reused row is checked) and ``DIR/quintic_distances.png``.  A folder that holds an earlier
run is refused unless ``--resume`` (same seed and parameters) or ``--overwrite``.  Sample ``(N, r)`` is drawn
    with the key ``fold_in(fold_in(PRNGKey(seed), N), r)``, so adding sizes or repeats never changes
    the samples already drawn.

``cluster --n N --batches B --clusters C [--seed S] [--out DIR] [--json]``
    Draw ``N`` points, cluster them by batched average-linkage agglomerative clustering on FS
    distances (3.3, one-to-one merge; see :mod:`numerics.cy.cluster`), by full (unbatched)
    clustering, and by a Euclidean Birch baseline (``sklearn.cluster.Birch`` on ``[Re z, Im z]``), and
    report silhouette scores on FS distances (figure 2; ``silhouette``) and on the Euclidean
    distances of Birch's features (``silhouette_euclidean``).  Writes ``DIR/quintic_cluster.json``
    and the heat maps of the ordered distance matrices ``DIR/quintic_cluster.png`` (no clustering /
    batched / full / Birch, lines between the clusters' blocks, both silhouettes in each title).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_int, emit, prepare_output_folder, say, seed

DISTANCES_FORMAT = "flowtheory.quintic.distances/1"
CLUSTER_FORMAT = "flowtheory.quintic.cluster/1"
DISTANCES_FILES = ("quintic_distances.json", "quintic_distances.png")
CLUSTER_FILES = ("quintic_cluster.json", "quintic_cluster.png")

#: Bounds said in ``--help``: nearest-neighbour scans cost O(N^2) and clustering O(N^2) memory.
N_MAX = 200_000
CLUSTER_N_MAX = 50_000
REPEATS_MAX = 100
BLOCK_MAX = 65_536

#: Point counts above which full (unbatched) clustering is skipped (its N x N matrix and
#: average-linkage run are O(N^2) memory) and above which heat maps show a random subsample.
FULL_CLUSTERING_MAX = 8000
HEATMAP_MAX = 2000

#: The paper's printed values, shown next to ours.
PAPER_FIT = {"a": 0.968, "b": -0.184}
PAPER_SILHOUETTES = {"batched": 0.016, "full": -0.011, "birch_euclidean": -0.032}


def _n_list(text: str) -> list[int]:
    """argparse type: at most 50 distinct comma-separated integers in [2, N_MAX] (a nearest
    neighbour needs another point)."""
    if len(text) > 1000:
        raise argparse.ArgumentTypeError(f"expected at most 50 comma-separated sizes, got {len(text)} characters")
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text[:60]!r}") from None
    if not values or any(not 2 <= v <= N_MAX for v in values):
        raise argparse.ArgumentTypeError(f"every N must be an integer in [2, {N_MAX}], got {text[:60]!r}")
    if len(values) > 50 or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"expected at most 50 distinct sizes, got {text[:60]!r}")
    return values


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distances", help="nearest-neighbour FS distances vs N and the fit (3.7) (figure 3 right)")
    p.add_argument("--n", type=_n_list, required=True, metavar="N1,N2,...", help=f"distinct sample sizes, each 2 to {N_MAX}")
    p.add_argument("--repeats", type=bounded_int(1, REPEATS_MAX), default=1, help=f"independent samples per N (1 to {REPEATS_MAX}, default 1)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the jax.random key (0 to 2**32-1, default 0)")
    p.add_argument("--block", type=bounded_int(1, BLOCK_MAX), default=128, help=f"rows per block of the distance scan (1 to {BLOCK_MAX}, default 128)")
    p.add_argument("--out", type=Path, default=Path("quintic_distances_out"), help="output folder (default quintic_distances_out)")
    runs = p.add_mutually_exclusive_group()
    runs.add_argument("--resume", action="store_true", help="reuse the samples of the earlier run in --out (same seed and parameters)")
    runs.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_distances)

    c = sub.add_parser("cluster", help="batched FS clustering (3.3) and silhouette scores (figure 2)")
    c.add_argument("--n", type=bounded_int(2, CLUSTER_N_MAX), required=True, metavar="N", help=f"number of points (2 to {CLUSTER_N_MAX})")
    c.add_argument("--batches", type=bounded_int(1, CLUSTER_N_MAX), required=True, metavar="B", help="number of mini batches (1 to N)")
    c.add_argument("--clusters", type=bounded_int(2, CLUSTER_N_MAX), required=True, metavar="C", help="number of clusters (2 to N // B)")
    c.add_argument("--seed", type=seed, default=0, help="seed of the jax.random key (0 to 2**32-1, default 0)")
    c.add_argument("--out", type=Path, default=Path("quintic_cluster_out"), help="output folder (default quintic_cluster_out)")
    c.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    c.set_defaults(handler=run_cluster)


# --- distances ----------------------------------------------------------------------------------


def run_distances(args: argparse.Namespace) -> int:
    import resource

    import jax
    import numpy as np

    from numerics.cy.distance import default_threshold, nearest_neighbour_statistics, poisson_mean_nn_distance
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_points
    from numerics.stats import fit_loglog_slope
    from numerics.io.provenance import run_record
    from numerics.io.records import write_record

    surface = fermat_quintic()
    real_dim, volume = 2 * surface.dim, surface.degree * math.pi**surface.dim / math.factorial(surface.dim)
    params = {"n": args.n, "repeats": args.repeats, "block": args.block, "surface": surface.name, "threshold": default_threshold()}
    json_path = args.out / "quintic_distances.json"
    mode = prepare_output_folder(args.out, DISTANCES_FILES, overwrite=args.overwrite, resume=args.resume)
    done = _resumable_samples(json_path, args.seed, params) if mode == "resume" else {}
    reused = len(done)
    if mode == "resume":
        say(f"resumed from {json_path}: {reused} sample(s) reused")
    key = jax.random.PRNGKey(args.seed)
    rows = []
    for n in args.n:
        for r in range(args.repeats):
            if (n, r) not in done:
                sample = sample_points(surface, n, jax.random.fold_in(jax.random.fold_in(key, n), r), progress=not args.json)
                stats = nearest_neighbour_statistics(sample.points, block=args.block, progress=not args.json)
                done[(n, r)] = {"n": n, "repeat": r, "min": stats.min, "mean": stats.mean, "mean_se": stats.mean_se, "max": stats.max}
            rows.append(done[(n, r)])
            write_record(json_path, DISTANCES_FORMAT, {"samples": rows, "run_record": run_record(args.seed, params)})
    ns = np.array([row["n"] for row in rows], dtype=float)
    means = np.array([row["mean"] for row in rows])
    fit = None
    if ns.size >= 3 and np.unique(ns).size >= 2:
        f = fit_loglog_slope(ns, means)
        a = math.exp(f.intercept)
        fit = {"a": a, "se_a": a * f.intercept_se, "b": f.slope, "se_b": f.slope_se, "b_minus_dimension_slope_in_se": (f.slope + 1 / real_dim) / f.slope_se if f.slope_se > 0 else None}
    result = {
        "samples": rows,
        "fit": fit,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "dimension_slope": -1 / real_dim,
        "poisson_prefactor": float(poisson_mean_nn_distance(1, real_dim, volume)),
        "paper_fit": PAPER_FIT,
        "figure": str(args.out / "quintic_distances.png"),
        "resumed_from": {"file": str(json_path), "samples_reused": reused} if mode == "resume" else None,
        "run_record": run_record(args.seed, params),
    }
    write_record(json_path, DISTANCES_FORMAT, result)
    _plot_distances(result, args.out / "quintic_distances.png")
    emit(args.json, result, _render_distances)
    return 0


def _resumable_samples(json_path: Path, seed_value: int, params: dict) -> dict[tuple[int, int], dict]:
    """The samples of the earlier run in ``json_path``, checked (schema, digest, every row) and
    refused when its seed or its parameters (block, threshold, surface) differ from this run's."""
    from numerics.io.records import field_error, read_record

    if not json_path.exists():
        raise CliError(f"--resume: no earlier run at {json_path}")
    record = read_record(json_path, DISTANCES_FORMAT, _validate_distances)
    earlier = record["run_record"]
    if earlier.get("seed") != seed_value:
        raise CliError(f"--resume: {json_path} was made with --seed {earlier.get('seed')}, not {seed_value}; use that seed or --overwrite")
    for name in ("block", "threshold", "surface"):
        if earlier["parameters"].get(name) != params[name]:
            raise CliError(f"--resume: {json_path} was made with {name} = {earlier['parameters'].get(name)!r}, not {params[name]!r}; use --overwrite")
    done = {}
    for i, row in enumerate(record["samples"]):
        key = (row["n"], row["repeat"])
        if key in done:
            raise field_error(json_path, f"samples[{i}]", f"repeats sample (n = {key[0]}, repeat = {key[1]})")
        done[key] = row
    return done


def _validate_distances(path: Path, record: dict) -> None:
    """Every row a nearest-neighbour summary: integers n >= 2, repeat >= 0, and finite
    0 <= min <= mean <= max <= pi/2 (FS distances lie in [0, pi/2]) with mean_se >= 0."""
    from numerics.io.records import field_error

    if not isinstance(record.get("run_record"), dict) or not isinstance(record["run_record"].get("parameters"), dict):
        raise field_error(path, "run_record", "missing or not an object")
    samples = record.get("samples")
    if not isinstance(samples, list):
        raise field_error(path, "samples", "missing or not a list")
    for i, row in enumerate(samples):
        where = f"samples[{i}]"
        if not isinstance(row, dict):
            raise field_error(path, where, "not an object")
        for name, low in (("n", 2), ("repeat", 0)):
            if not (type(row.get(name)) is int and low <= row[name]):
                raise field_error(path, f"{where}.{name}", f"expected an integer >= {low}, got {row.get(name)!r}")
        values = [row.get(k) for k in ("min", "mean", "max", "mean_se")]
        if not all(type(v) in (int, float) and math.isfinite(v) for v in values):
            raise field_error(path, where, f"min, mean, max and mean_se must be finite numbers, got {values}")
        lo, mean, hi, se = values
        if not (0 <= lo <= mean <= hi <= math.pi / 2 and se >= 0):
            raise field_error(path, where, f"needs 0 <= min <= mean <= max <= pi/2 and mean_se >= 0, got {values}")


def _plot_distances(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from numerics.io.provenance import save_figure_atomic

    rows = result["samples"]
    n = np.array([r["n"] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    for name, marker in (("max", "^"), ("mean", "o"), ("min", "v")):
        ax.loglog(n, [r[name] for r in rows], marker, label=f"{name} NN distance")
    grid = np.geomspace(n.min(), n.max(), 50)
    if result["fit"]:
        f = result["fit"]
        ax.loglog(grid, f["a"] * grid ** f["b"], "-", label=rf"fit ${f['a']:.3f}\,N^{{{f['b']:.3f} \pm {f['se_b']:.3f}}}$")
    ax.loglog(grid, result["poisson_prefactor"] * grid ** result["dimension_slope"], ":",
              label=rf"Poisson law ${result['poisson_prefactor']:.3f}\,N^{{-1/6}}$")
    ax.loglog(grid, PAPER_FIT["a"] * grid ** PAPER_FIT["b"], "--", label=r"paper (3.7) $.968\,N^{-.184}$")
    sizes = np.unique(n)
    if sizes.size <= 8:  # the sample sizes themselves as ticks
        ax.set_xticks(sizes, [str(int(v)) for v in sizes])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("number of points N")
    ax.set_ylabel("FS distance (3.2) to the nearest\nneighbour, radians")
    params = result["run_record"]["parameters"]
    ax.set_title(f"Fermat quintic (figure 3 right): N = {int(n.min())} to {int(n.max())}, {params['repeats']} sample(s) per N, "
                 f"seed {result['run_record']['seed']}", fontsize=10)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=120)
    plt.close(fig)


def _render_distances(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="nearest-neighbour FS distances on the Fermat quintic (figure 3 right)")
    for col in ("N", "repeat", "min", "mean ± SE", "max"):
        table.add_column(col)
    for r in result["samples"]:
        table.add_row(str(r["n"]), str(r["repeat"]), f"{r['min']:.4f}", f"{r['mean']:.4f} ± {r['mean_se']:.4f}", f"{r['max']:.4f}")
    console = Console()
    console.print(table)
    f = result["fit"]
    if f:
        console.print(f"fit (3.7): mu = ({f['a']:.4f} ± {f['se_a']:.4f}) N^({f['b']:.4f} ± {f['se_b']:.4f})")
    else:
        console.print("fit (3.7): needs >= 3 samples at >= 2 distinct N")
    console.print(f"dimension argument: b = {result['dimension_slope']:.4f}, asymptotic a = {result['poisson_prefactor']:.4f}; paper: a = .968, b = -.184")
    console.print(f"peak resident memory of the run: {result['peak_rss_mib']:.0f} MiB")
    console.print(f"figure: {result['figure']}")


# --- cluster ------------------------------------------------------------------------------------


def run_cluster(args: argparse.Namespace) -> int:
    if args.clusters < 2:
        raise CliError("--clusters must be at least 2 (a silhouette score needs two clusters)")
    if args.batches > args.n:
        raise CliError(f"--batches {args.batches} exceeds --n {args.n}: a batch would be empty")
    if args.clusters > args.n // args.batches:
        raise CliError(
            f"--clusters {args.clusters} exceeds the points per batch ({args.n} // {args.batches} = {args.n // args.batches}); "
            "each batch needs at least one point per cluster"
        )
    import jax
    import numpy as np

    from numerics.cy.cluster import (
        agglomerative_fs_labels,
        batched_agglomerative_clustering,
        birch_euclidean_labels,
        euclidean_silhouette_score,
        fs_silhouette_score,
    )
    from numerics.cy.distance import fs_distance_matrix
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_points
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import write_record

    surface = fermat_quintic()
    params = {"n": args.n, "batches": args.batches, "clusters": args.clusters, "surface": surface.name}
    prepare_output_folder(args.out, CLUSTER_FILES, overwrite=args.overwrite)
    points = sample_points(surface, args.n, jax.random.PRNGKey(args.seed), progress=not args.json).points
    batched = batched_agglomerative_clustering(points, n_batches=args.batches, n_clusters=args.clusters, progress=not args.json)
    labels = {"batched": batched.labels}
    with progress_bar("full clustering and baselines", total=2, enabled=not args.json) as advance:
        if args.n <= FULL_CLUSTERING_MAX:
            labels["full"] = agglomerative_fs_labels(fs_distance_matrix(points), args.clusters)
        advance()
        labels["birch_euclidean"] = birch_euclidean_labels(points, args.clusters)
        advance()
    silhouettes = {name: fs_silhouette_score(points, lab, seed=args.seed) for name, lab in labels.items()}
    euclidean = {name: euclidean_silhouette_score(points, lab, seed=args.seed) for name, lab in labels.items()}
    result = {
        "n": args.n,
        "batches": args.batches,
        "clusters": args.clusters,
        "silhouette": silhouettes,
        "silhouette_euclidean": euclidean,
        "silhouette_sample_size": min(args.n, 4000),
        "full_skipped_above": FULL_CLUSTERING_MAX if args.n > FULL_CLUSTERING_MAX else None,
        "cluster_sizes": {name: np.bincount(lab, minlength=args.clusters).tolist() for name, lab in labels.items()},
        "merge_cost": batched.merge_cost,
        "paper_silhouette": PAPER_SILHOUETTES,
        "figure": str(args.out / "quintic_cluster.png"),
        "run_record": run_record(args.seed, params),
    }
    _plot_heatmaps(points, labels, result, args.out / "quintic_cluster.png", args.seed)
    write_record(args.out / "quintic_cluster.json", CLUSTER_FORMAT, result)
    emit(args.json, result, _render_cluster)
    return 0


def _plot_heatmaps(points, labels: dict, result: dict, path: Path, seed: int) -> None:
    """Figure 2 with its baseline: the FS distance matrix in sample order, then ordered by the
    batched, the full and the Euclidean Birch clusters, each with lines between its clusters'
    blocks and its silhouette score (on FS distances) in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from numerics.cy.cluster import cluster_order
    from numerics.cy.distance import fs_distance_matrix
    from numerics.io.provenance import save_figure_atomic

    idx = np.arange(points.shape[0])
    if idx.size > HEATMAP_MAX:
        idx = np.sort(np.random.default_rng(seed).choice(idx.size, size=HEATMAP_MAX, replace=False))
    d = np.asarray(fs_distance_matrix(points[idx]))
    names = {
        "batched": f"batched (3.3), {result['batches']} batches",
        "full": "full (unbatched)",
        "birch_euclidean": "Birch on Euclidean [Re z, Im z]",
    }
    panels = [("no clustering (sample order)", np.arange(idx.size), None)]
    panels += [
        (f"{title}\nsilhouette: FS {result['silhouette'][name]:+.3f}, Euclidean {result['silhouette_euclidean'][name]:+.3f}",
         cluster_order(labels[name][idx]), labels[name][idx])
        for name, title in names.items() if name in labels
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels) + 1.0, 4.5), squeeze=False, layout="constrained")
    for ax, (title, order, lab) in zip(axes[0], panels):
        im = ax.imshow(d[np.ix_(order, order)], cmap="viridis", vmin=0.0, vmax=math.pi / 2, interpolation="nearest")
        if lab is not None:
            for edge in np.cumsum(np.bincount(lab))[:-1] - 0.5:
                ax.axhline(edge, color="red", lw=0.6)
                ax.axvline(edge, color="red", lw=0.6)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("point" if lab is None else "point, ordered by cluster")
        ax.set_xticks([])
        ax.set_yticks([])
    shown = f", heat maps of a random {idx.size} of them" if idx.size < points.shape[0] else ""
    fig.suptitle(
        f"FS distances of {result['n']} points on the Fermat quintic, {result['clusters']} clusters, "
        f"seed {result['run_record']['seed']}{shown}\nsilhouettes on {result['silhouette_sample_size']} points (paper, figure 2, FS: "
        f"batched {PAPER_SILHOUETTES['batched']:+.3f}, full {PAPER_SILHOUETTES['full']:+.3f}, Birch {PAPER_SILHOUETTES['birch_euclidean']:+.3f});"
        " red lines: boundaries between clusters",
        fontsize=10,
    )
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="FS geodesic distance (3.2), radians")
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render_cluster(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"silhouette scores (FS and Euclidean distances): {result['n']} points, {result['clusters']} clusters, {result['batches']} batches")
    for col in ("clustering", "silhouette (FS)", "paper", "silhouette (Euclidean)", "cluster sizes"):
        table.add_column(col)
    for name, value in result["silhouette"].items():
        table.add_row(name, f"{value:+.4f}", f"{result['paper_silhouette'][name]:+.3f}", f"{result['silhouette_euclidean'][name]:+.4f}",
                      " ".join(map(str, result["cluster_sizes"][name])))
    console = Console()
    console.print(table)
    if result["full_skipped_above"]:
        console.print(f"full clustering skipped (N > {result['full_skipped_above']})")
    console.print(f"figure: {result['figure']}")
