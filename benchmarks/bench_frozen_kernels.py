"""Benchmark: derived frozen ReLU NTK (flowtheory.networks, compiled by the bridge) vs neural-tangents.

Network: one hidden ReLU layer, NTK parameterisation, ``σ_w = 1.5``, ``σ_b = 0.5`` (the ``"relu"``
spec ≡ ``stax.serial(Dense(N, σ_w, σ_b), Relu(), Dense(1, σ_w, σ_b))``), inputs in ``d`` dimensions.

Timed in one process on the same ``n × n`` Gram matrix (warm = compiled; medians over ``--repeats``):

* ours: ``spec.kernel_jax()`` under ``jit(vmap(vmap))``;
* baseline: neural-tangents ``jit(kernel_fn, static_argnames="get")(x, x, "ntk")``.

Also reported (not timed): the agreement of the two Gram matrices (max difference on the scale
:math:`\sqrt{\Theta(x,x)\Theta(x',x')}`), both Gram entries' errors at the pair where they differ
most (against 30-digit sympy), and the accuracy of each at nearly parallel inputs ``x' = (1 + ε) x``, ``ε = 1e-7``, against 30-digit
sympy (neural-tangents goes through ``arccos`` of a rounded cosine; the derived kernel through
``atan2`` of a manifest sum of squares).  Printed, and written as JSON with the run record.

Usage: ``python benchmarks/bench_frozen_kernels.py [--n 2000] [--dims 2 4] [--repeats 5] [--json out.json]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from flowtheory.networks import get_network
from numerics.io.provenance import run_record, write_json_atomic

SEED = 0
SIGMA_W, SIGMA_B = 1.5, 0.5


def _median_time(fn, repeats: int) -> tuple[float, object]:
    out = jax.block_until_ready(fn())  # compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench(n: int, d: int, repeats: int) -> dict:
    from neural_tangents import stax

    spec = get_network("relu", d, SIGMA_W, SIGMA_B)
    kernel = spec.kernel_jax().fn
    x = jnp.asarray(np.random.default_rng(SEED).standard_normal((n, d)))
    ours_fn = jax.jit(lambda a: jax.vmap(lambda p: jax.vmap(lambda q: kernel(*p, *q))(a))(a))
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=SIGMA_W, b_std=SIGMA_B), stax.Relu(), stax.Dense(1, W_std=SIGMA_W, b_std=SIGMA_B))
    nt_fn = jax.jit(kernel_fn, static_argnames="get")
    t_ours, gram_ours = _median_time(lambda: ours_fn(x), repeats)
    t_nt, gram_nt = _median_time(lambda: nt_fn(x, x, "ntk"), repeats)
    # Errors on the scale sqrt(Θ(x,x) Θ(x',x')) (Cauchy–Schwarz bound of |Θ(x,x')|): the kernel changes
    # sign, so errors relative to |Θ(x,x')| itself are meaningless where it crosses 0.
    scale = np.sqrt(np.outer(np.diag(np.asarray(gram_ours)), np.diag(np.asarray(gram_ours))))
    difference = np.asarray(jnp.abs(gram_ours - gram_nt)) / scale
    i, j = np.unravel_index(np.argmax(difference), difference.shape)

    def errors(p: np.ndarray, q: np.ndarray, ours: float, nt: float, scale: float) -> tuple[float, float]:
        """Scaled errors of the two values at (p, q) against 30-digit sympy."""
        point = [sp.Float(v, 40) for v in (*p, *q)]
        exact = float(spec.kernel.xreplace(dict(zip(spec.x + spec.xp, point))).evalf(30))
        return abs(ours - exact) / scale, abs(nt - exact) / scale

    worst_ours, worst_nt = errors(np.asarray(x[i]), np.asarray(x[j]), float(gram_ours[i, j]), float(gram_nt[i, j]), scale[i, j])
    p = np.asarray(x[0])
    q = p * (1 + 1e-7)
    near = float(kernel(*p, *q))
    near_ours, near_nt = errors(p, q, near, float(kernel_fn(p[None], q[None], "ntk")[0, 0]), abs(near))
    return {
        "n": n, "d": d, "ours_s": t_ours, "neural_tangents_s": t_nt, "ratio_nt_over_ours": t_nt / t_ours,
        "max_scaled_difference": float(difference[i, j]), "worst_pair": [int(i), int(j)],
        "worst_pair_rel_error_ours": worst_ours, "worst_pair_rel_error_nt": worst_nt,
        "near_parallel_rel_error_ours": near_ours, "near_parallel_rel_error_nt": near_nt,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = [bench(args.n, d, args.repeats) for d in args.dims]
    for r in rows:
        print(
            f"d={r['d']} n={r['n']}: ours {r['ours_s'] * 1e3:.1f} ms, neural-tangents {r['neural_tangents_s'] * 1e3:.1f} ms "
            f"(ratio nt/ours {r['ratio_nt_over_ours']:.2f}); max |Δ|/√(Θ(x,x)Θ(x',x')) {r['max_scaled_difference']:.1e} at pair "
            f"{tuple(r['worst_pair'])} (vs 30-digit sympy: ours {r['worst_pair_rel_error_ours']:.1e}, nt {r['worst_pair_rel_error_nt']:.1e}); "
            f"at x'=(1+1e-7)x rel. error ours {r['near_parallel_rel_error_ours']:.1e}, nt {r['near_parallel_rel_error_nt']:.1e}"
        )
    if args.json:
        record = run_record(SEED, {"n": args.n, "dims": args.dims, "repeats": args.repeats, "sigma_w": SIGMA_W, "sigma_b": SIGMA_B})
        write_json_atomic(args.json, {"run": record, "results": rows})


if __name__ == "__main__":
    main()
