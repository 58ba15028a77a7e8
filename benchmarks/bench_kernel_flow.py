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
  points, the time ratio and the largest relative difference of the two results;
* the same two measurements for the ReLU NTK (Table 1's σ_w, σ_b; tiled, nothing to skip) at
  ``--n-small`` and ``--n-relu`` (default 2·10^4).

The tiles are split over ``--devices`` host devices (default: one per core), the path
``jax.sharding`` takes on several accelerators.

Results are printed and written to ``--json`` (default ``benchmarks/results/kernel_flow.json``).

Usage::

    python benchmarks/bench_kernel_flow.py [--n-small 4000] [--n-large 100000] [--n-relu 20000] [--width 0.1] [--devices K] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
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
    parser.add_argument("--n-relu", type=int, default=20_000)
    parser.add_argument("--block", type=int, default=256)
    parser.add_argument("--devices", type=int, default=os.cpu_count(), help="host devices the tiles are split over (default: one per core)")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "kernel_flow.json")
    args = parser.parse_args()
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={args.devices}".strip()

    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_flow import FlowSettings, loss_gradient, point_set
    from numerics.cy.kernels import GaussianKernel, ReluNtkKernel, apply_kernel, dense_reference
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

    def compare(kernel, pts, g):
        step = lambda: np.asarray(apply_kernel(kernel, pts.z, pts.z, g, block=args.block, same_points=True))  # noqa: E731
        step()
        ours = _timed(step, 3)
        dense = _timed(lambda: dense_reference(kernel, pts.z, pts.z, g), 3)
        diff = float(np.max(np.abs(step() - dense_reference(kernel, pts.z, pts.z, g))) / np.max(np.abs(step())))
        return {"n": pts.z.shape[0], "ours_s": ours, "numpy_dense_s": dense, "speedup_vs_numpy": dense / ours,
                "max_abs_difference_over_max_output": diff}

    def large_step(kernel, n, flops_per_pair):
        pts, g = prepared(n)
        start = time.perf_counter()
        apply_kernel(kernel, pts.z, pts.z, g, block=args.block, same_points=True)
        first = time.perf_counter() - start
        seconds = _timed(lambda: apply_kernel(kernel, pts.z, pts.z, g, block=args.block, same_points=True))
        return {"n": n, "first_call_s": first, "step_s": seconds,
                "useful_flops_fraction_of_matmul_rate": flops_per_pair * n**2 / seconds / matmul_rate}

    small, g_small = prepared(args.n_small)
    relu = ReluNtkKernel.paper()
    result = {
        "matmul_gflops": matmul_rate / 1e9,
        "devices": len(jax.devices()),
        "small": compare(kernel, small, g_small),
        "large": large_step(kernel, args.n_large, 2 * 25 + 18),
        "relu_small": compare(relu, small, g_small),
        # the ReLU tile: an 11-wide Gram matmul (22 flops a pair) and the 18-term value contraction
        "relu_large": large_step(relu, args.n_relu, 2 * 11 + 18),
        "run_record": run_record(None, vars(args) | {"json": str(args.json)}),
    }
    write_json_atomic(args.json, result)
    print(json.dumps({k: v for k, v in result.items() if k != "run_record"}, indent=2))


if __name__ == "__main__":
    main()
