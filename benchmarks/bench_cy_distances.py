"""Benchmark: nearest-neighbour Fubini–Study distances of Fermat-quintic samples (figure 3 right).

Measures, each in a fresh subprocess (so ``ru_maxrss`` is that method's own peak):

* ``jax-blocked`` — :func:`numerics.cy.distance.nearest_neighbour_distances` (``lax.map`` over row
  blocks of the overlap matrix; memory ``O(N * block)``);
* ``numpy-arccos`` — the baseline: numpy row blocks (512 rows) of the complex Gram matrix, the
  printed formula (3.2) through ``arccos``, row minimum (also ``O(N * block)`` memory);
* ``kdtree-embedding`` — ``scipy.spatial.cKDTree`` on :func:`numerics.cy.distance.projector_embedding`
  ``z -> z z^dagger / |z|^2`` (Euclidean distance ``sqrt(2) sin d``, increasing in ``d``), then the
  exact distance of the found pairs: the same nearest neighbours by a tree instead of a scan.

Reported: median wall time over ``--repeats`` runs, the ratio ``baseline time / ours`` at ``--n-small``
(all three methods agree to 1e-12 there, which is checked), and time plus peak memory of ours at
``--n-large`` (default 10^5, one run, first call timed; a dense ``N x N`` float64 matrix would need ``8 N^2`` bytes, 80 GB).
Time is that of a second call (the first compiles); peak memory is ``ru_maxrss`` after the first
call minus ``ru_maxrss`` after importing and loading the points, so it includes the compiler's.
Results are printed and written to ``--json`` (default ``benchmarks/results/cy_distances.json``).  The machine is shared: quote medians.

Usage::

    python benchmarks/bench_cy_distances.py [--n-small 10000] [--n-large 100000] [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


#: Row block of the numpy baseline (its fastest setting here; larger blocks suit BLAS better).
NUMPY_BLOCK = 512

#: Above this many points the first call is timed (compilation, ~1 s, is then negligible).
SINGLE_CALL_ABOVE = 50000


def _numpy_arccos(z, block):
    import numpy as np

    u = z / np.linalg.norm(z, axis=1, keepdims=True)
    out = np.empty(u.shape[0])
    for start in range(0, u.shape[0], block):
        c = np.abs(np.conj(u[start : start + block]) @ u.T)
        rows = np.arange(c.shape[0])
        c[rows, start + rows] = -1.0
        out[start : start + block] = np.arccos(np.minimum(c.max(axis=1), 1.0))
    return out


def _kdtree(z):
    import numpy as np
    from scipy.spatial import cKDTree

    from numerics.cy.distance import fs_distance, projector_embedding

    e = projector_embedding(z)
    _, idx = cKDTree(e).query(e, k=2, workers=-1)
    return np.asarray(fs_distance(z, z[idx[:, 1]]))


def _run(method, z, block):
    import numpy as np

    if method == "jax-blocked":
        from numerics.cy.distance import nearest_neighbour_distances

        return np.asarray(nearest_neighbour_distances(z, block=block))
    if method == "numpy-arccos":
        return _numpy_arccos(z, NUMPY_BLOCK)
    if method == "kdtree-embedding":
        return _kdtree(z)
    raise ValueError(method)


def worker(method: str, npz: str, block: int, result: str) -> None:
    """Subprocess body: a first call (compiles; its peak memory is recorded), then a timed second call."""
    import numpy as np

    z = np.load(npz)["points"]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    d = _run(method, z, block)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if len(z) <= SINGLE_CALL_ABOVE:  # small inputs: time a second, compiled call
        t0 = time.perf_counter()
        d = _run(method, z, block)
        seconds = time.perf_counter() - t0
    np.save(result, d)
    print(json.dumps({"seconds": seconds, "peak_extra_mib": (peak - base) / 1024.0}))


def measure(method: str, npz: Path, block: int, repeats: int, tmp: Path):
    runs, result = [], tmp / f"{method}.npy"
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", method, str(npz), str(block), str(result)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    import numpy as np

    return {
        "seconds_median": statistics.median(r["seconds"] for r in runs),
        "seconds_all": [r["seconds"] for r in runs],
        "peak_extra_mib_median": statistics.median(r["peak_extra_mib"] for r in runs),
    }, np.load(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-small", type=int, default=10000)
    parser.add_argument("--n-large", type=int, default=100000)
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "cy_distances.json", help="where to write the figures")
    parser.add_argument("--worker", nargs=4, metavar=("METHOD", "NPZ", "BLOCK", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, npz, block, result = args.worker
        worker(method, npz, int(block), result)
        return

    import jax
    import numpy as np

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_points
    from numerics.io.provenance import run_record, write_json_atomic

    report = {"block": args.block, "repeats": args.repeats, "cpu_count": __import__("os").cpu_count()}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        points = sample_points(fermat_quintic(), args.n_large, jax.random.PRNGKey(args.seed)).points
        small, large = tmp / "small.npz", tmp / "large.npz"
        np.savez(small, points=points[: args.n_small])
        np.savez(large, points=points)

        ours, d_ours = measure("jax-blocked", small, args.block, args.repeats, tmp)
        report["small"] = {"n": args.n_small, "jax-blocked": ours}
        for method in ("numpy-arccos", "kdtree-embedding"):
            stats, d = measure(method, small, args.block, args.repeats, tmp)
            stats["time_ratio_to_ours"] = stats["seconds_median"] / ours["seconds_median"]
            stats["max_abs_difference_to_ours"] = float(np.max(np.abs(d - d_ours)))
            report["small"][method] = stats
        big, d_big = measure("jax-blocked", large, args.block, 1, tmp)
        big["predicted_working_mib"] = 8 * args.n_large * args.block / 2**20
        big["dense_matrix_mib"] = 8 * args.n_large**2 / 2**20
        big["mean_nn_distance"] = float(d_big.mean())
        report["large"] = {"n": args.n_large, "jax-blocked": big}
    report["run_record"] = run_record(args.seed, {k: v for k, v in vars(args).items() if k not in ("worker", "json")})
    write_json_atomic(args.json, report)

    s = report["small"]
    print(f"nearest-neighbour FS distances, Fermat quintic, block {args.block}, {report['cpu_count']} CPUs (medians of {args.repeats})")
    print(f"N = {args.n_small}:")
    for method in ("jax-blocked", "numpy-arccos", "kdtree-embedding"):
        r = s[method]
        extra = "" if method == "jax-blocked" else f"  time / ours = {r['time_ratio_to_ours']:.2f}, max |diff| {r['max_abs_difference_to_ours']:.1e}"
        print(f"  {method:18s} {r['seconds_median']:8.2f} s  peak +{r['peak_extra_mib_median']:7.1f} MiB{extra}")
    b = report["large"]["jax-blocked"]
    print(
        f"N = {args.n_large}: jax-blocked {b['seconds_median']:.1f} s, peak +{b['peak_extra_mib_median']:.0f} MiB "
        f"(O(N*block) estimate {b['predicted_working_mib']:.0f} MiB; a dense matrix: {b['dense_matrix_mib']:.0f} MiB); "
        f"mean NN distance {b['mean_nn_distance']:.4f}"
    )
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
