"""Benchmark: one exact Gaussian-kernel flow step (3.5) on Fermat-quintic train points.

One step's cost is the kernel sum :math:`\\sum_{x'} K(x, x') G_{x'}` over all train pairs
(:func:`numerics.cy.kernels.apply_kernel`, ``same_points=True``), with ``G`` the ``(N, 3, 3)``
complex σ-loss gradients.  Measured in one run:

* ``ours`` at ``--n-large`` (default 10^5) — wall time of a second call (the first compiles), and
  the ratio of its useful arithmetic (the projector-embedding matmul, ``2 * 25 * N^2`` flops, plus
  the ``18 N^2`` real multiply-adds of the value contraction) to the machine's float64 matmul rate
  measured here (``numpy`` 2000×2000 product);
* ``ours`` vs ``numpy`` at ``--n-small`` (default 4000): the straightforward dense numpy/scipy step
  (:func:`numerics.cy.kernels.dense_reference`: arccos distances, exp, one matmul) on the same
  points, the time ratio and the largest relative difference of the two results.

Results are printed and written to ``--json`` (default ``benchmarks/results/kernel_flow.json``).

Usage::

    python benchmarks/bench_kernel_flow.py [--n-small 4000] [--n-large 100000] [--width 0.1] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _timed(f, repeats: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-small", type=int, default=4000)
    parser.add_argument("--n-large", type=int, default=100_000)
    parser.add_argument("--width", type=float, default=0.1)
    parser.add_argument("--block", type=int, default=256)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "kernel_flow.json")
    args = parser.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_flow import FlowSettings, loss_gradient, point_set
    from numerics.cy.kernels import GaussianKernel, apply_kernel, dense_reference
    from numerics.cy.sampling import sample_in_chart
    from numerics.io.provenance import run_record, write_json_atomic

    a = np.random.default_rng(0).standard_normal((2000, 2000))
    matmul_s = _timed(lambda: a @ a, 3)
    matmul_rate = 2 * 2000**3 / matmul_s

    kernel = GaussianKernel(width=args.width, reading="d2")
    settings = FlowSettings(lr=1.0, loss="l2")
    surface = fermat_quintic()

    def prepared(n):
        pts = point_set(surface, sample_in_chart(surface, n, jax.random.PRNGKey(n), 0, 1).points)
        return pts, np.asarray(loss_gradient(pts.g_fs, pts.weights, pts.omega2, settings, None))

    small, g_small = prepared(args.n_small)
    step = lambda pts, g: np.asarray(apply_kernel(kernel, pts.z, pts.z, g, block=args.block, same_points=True))  # noqa: E731
    step(small, g_small)
    ours_small = _timed(lambda: step(small, g_small), 3)
    numpy_small = _timed(lambda: dense_reference(kernel, small.z, small.z, g_small), 3)
    diff = float(np.max(np.abs(step(small, g_small) - dense_reference(kernel, small.z, small.z, g_small))) / np.max(np.abs(g_small)))

    large, g_large = prepared(args.n_large)
    start = time.perf_counter()
    step(large, g_large)
    first = time.perf_counter() - start
    ours_large = _timed(lambda: step(large, g_large))
    flops = (2 * 25 + 18) * args.n_large**2
    result = {
        "matmul_gflops": matmul_rate / 1e9,
        "small": {"n": args.n_small, "ours_s": ours_small, "numpy_dense_s": numpy_small, "speedup_vs_numpy": numpy_small / ours_small,
                  "max_abs_difference_over_max_gradient": diff},
        "large": {"n": args.n_large, "first_call_s": first, "step_s": ours_large,
                  "useful_flops_fraction_of_matmul_rate": flops / ours_large / matmul_rate},
        "run_record": run_record(None, vars(args) | {"json": str(args.json)}),
    }
    write_json_atomic(args.json, result)
    print(json.dumps({k: v for k, v in result.items() if k != "run_record"}, indent=2))


if __name__ == "__main__":
    main()
