"""Benchmark: points + weights + |Omega|^2 on the Fermat quintic, and the sigma-measure of FS.

Measured in one process, float64/complex128 throughout:

* ``jax`` — :func:`numerics.cy.sampling.sample_points` (vectorised Aberth root finding on blocks
  of random lines, Newton polish) followed by :func:`numerics.cy.measure.point_data` (charts,
  pulled-back FS metric, ``|Omega|^2``, weights ``w = |Omega|^2/det g_FS``, with validation);
  *cold* is the first call in the process (includes compilation), *warm* the median of later calls
  with fresh keys.
* ``numpy`` — the baseline: a Python loop over lines, ``numpy.roots`` on each line's quintic,
  then the same charts / pullback / weights vectorised in numpy.
* ``sigma`` — :func:`numerics.cy.measure.sigma_measure` of FS on the sampled points (weights,
  determinant, clustered standard errors), warm median.

Accuracy (max ``|p(z)|/|z|^5``) of both routes is reported.  The machine is shared (2 cores):
quote medians; the process CPU time (all threads) is reported too, as it is less sensitive to the
load of other processes (the JAX route uses both cores, the numpy loop one).  Results are printed as a table and written, with a run record, to ``--out``.

Usage::

    python benchmarks/bench_cy_sampling.py [--n 100000] [--repeats 5] [--out benchmarks/results/cy_sampling.json]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np


def numpy_points_and_weights(n: int, rng: np.random.Generator):
    """Baseline: loop over lines with ``numpy.roots``; charts, FS pullback and weights in numpy."""
    m, d = 5, 5
    binom = np.array([math.comb(d, k) for k in range(d + 1)], dtype=float)
    points = []
    for _ in range(-(-n // d)):
        a = rng.normal(size=m) + 1j * rng.normal(size=m)
        b = rng.normal(size=m) + 1j * rng.normal(size=m)
        a /= np.linalg.norm(a)
        b /= np.linalg.norm(b)
        coeffs = binom * np.array([np.sum(a ** (d - k) * b**k) for k in range(d + 1)])
        t = np.roots(coeffs[::-1])
        points.append(a[None, :] + t[:, None] * b[None, :])
    z = np.concatenate(points)[:n]
    z = z / z[np.arange(n), np.argmax(np.abs(z), axis=1)][:, None]
    patch = np.argmax(np.abs(z), axis=1)
    dp = d * z ** (d - 1)
    grad = np.abs(dp)
    grad[np.arange(n), patch] = -1
    elim = np.argmax(grad, axis=1)
    taken = np.zeros((n, m), bool)
    taken[np.arange(n), patch] = taken[np.arange(n), elim] = True
    free = np.argsort(taken, axis=1, kind="stable")[:, : m - 2]
    dp_j = dp[np.arange(n), elim]
    jac = np.zeros((n, m - 2, m), complex)
    rows = np.arange(n)[:, None]
    jac[rows, np.arange(m - 2)[None, :], free] = 1.0
    jac[rows, np.arange(m - 2)[None, :], elim[:, None]] = -np.take_along_axis(dp, free, axis=1) / dp_j[:, None]
    norm2 = np.sum(np.abs(z) ** 2, axis=1)[:, None, None]
    jz = np.einsum("nam,nm->na", jac, np.conj(z))
    g = (np.einsum("nam,nbm->nab", jac, np.conj(jac)) / norm2 - jz[:, :, None] * np.conj(jz)[:, None, :] / norm2**2) / (2 * math.pi)
    omega2 = 1.0 / np.abs(dp_j) ** 2
    return z, omega2 / np.linalg.det(g).real, omega2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cy_sampling.json"))
    args = parser.parse_args()

    import jax

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.measure import point_data, sigma_measure
    from numerics.cy.sampling import sample_points
    from numerics.io.provenance import run_record, write_json_atomic

    surface = fermat_quintic()

    def jax_route(seed):
        sample = sample_points(surface, args.n, jax.random.PRNGKey(seed))
        data = point_data(surface, sample.points)
        jax.block_until_ready(data.weights)
        return sample, data

    cpu_seconds: dict[str, list[float]] = {}

    def timed(fn, *a, label=None):
        """Wall seconds of one call (and its process CPU seconds, all threads, under ``label``)."""
        cpu, start = time.process_time(), time.perf_counter()
        out = fn(*a)
        wall = time.perf_counter() - start
        if label is not None:
            cpu_seconds.setdefault(label, []).append(time.process_time() - cpu)
        return wall, out

    cold, (sample, data) = timed(jax_route, 0, label="jax cold (first call)")
    warm = []
    for seed in range(1, args.repeats + 1):
        seconds, (sample, data) = timed(jax_route, seed, label="jax warm")
        warm.append(seconds)
    jax_residual = float(np.max(surface.residual(sample.points)))

    def sigma_route():
        return sigma_measure(surface, data.weights, data.det_fs, data.omega2, sample.line_ids)

    timed(sigma_route)  # compile
    sigma_times = []
    for _ in range(args.repeats):
        seconds, result = timed(sigma_route, label="sigma-measure (warm)")
        sigma_times.append(seconds)

    numpy_times = []
    for seed in range(max(1, args.repeats // 2)):
        seconds, (z_np, w_np, _) = timed(numpy_points_and_weights, args.n, np.random.default_rng(seed), label="numpy loop (numpy.roots)")
        numpy_times.append(seconds)
    numpy_residual = float(np.max(np.abs(np.sum(z_np**5, axis=1)) / np.linalg.norm(z_np, axis=1) ** 5))

    rows = {
        "jax warm": statistics.median(warm),
        "jax cold (first call)": cold,
        "numpy loop (numpy.roots)": statistics.median(numpy_times),
        "sigma-measure (warm)": statistics.median(sigma_times),
    }
    cpu = {name: statistics.median(values) for name, values in cpu_seconds.items()}
    figures = {
        "n_points": args.n,
        "seconds": rows,
        "cpu_seconds": cpu,
        "ratio_warm_vs_numpy_cpu": cpu["numpy loop (numpy.roots)"] / cpu["jax warm"],
        "points_per_second": {k: args.n / v for k, v in rows.items()},
        "ratio_warm_vs_numpy": statistics.median(numpy_times) / statistics.median(warm),
        "ratio_cold_vs_numpy": statistics.median(numpy_times) / cold,
        "max_residual": {"jax": jax_residual, "numpy": numpy_residual},
        "sigma_fs": {"sigma": result.sigma, "stderr": result.sigma_stderr},
        "warm_runs": warm,
        "numpy_runs": numpy_times,
        "sigma_runs": sigma_times,
        "run_record": run_record(0, {"n": args.n, "repeats": args.repeats}),
    }
    print(f"Fermat quintic, {args.n} points (points + weights + |Omega|^2), median of {args.repeats} warm runs")
    print(f"{'route':<28}{'seconds':>10}{'points/s':>14}{'CPU s':>10}")
    for name, seconds in rows.items():
        print(f"{name:<28}{seconds:>10.3f}{args.n / seconds:>14,.0f}{cpu[name]:>10.3f}")
    print(
        f"warm speed-up vs numpy loop: {figures['ratio_warm_vs_numpy']:.1f}x wall, "
        f"{figures['ratio_warm_vs_numpy_cpu']:.1f}x CPU time   (cold: {figures['ratio_cold_vs_numpy']:.1f}x wall)"
    )
    print(f"max |p(z)|/|z|^5: jax {jax_residual:.1e}, numpy {numpy_residual:.1e};  sigma_FS = {result.sigma:.4f} +- {result.sigma_stderr:.4f}")
    write_json_atomic(args.out, figures)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
