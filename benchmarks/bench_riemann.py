"""Benchmark: Ricci tensor and scalar curvature with flowtheory.riemann vs sympy.diffgeom.

Both are cold symbolic computations (flowtheory's and sympy's caches cleared), no simplification, timed in one process as
medians over ``--repeats`` (a single run when the first takes over 10 s):

* ours: ``riemann.ricci_tensor(g, coords)`` and ``riemann.ricci_scalar(g, coords)``;
* baseline: ``sympy.diffgeom.metric_to_Ricci_components`` on the same metric written as a
  2-form on ``R2_r``/``R3_r``, then the contraction ``g^{ij} R_ij``.

Metrics: the round S² and S³ of radius r (diagonal), and random non-diagonal metrics
δ + (M + Mᵀ)/5 with linear polynomial entries in 2 and 3 coordinates (seeded).  Also reported: the
largest difference of the two scalar curvatures at a rational point (30 digits), which must be
round-off.  Printed, and written as JSON with the run record.

Usage: ``python benchmarks/bench_riemann.py [--repeats 3] [--json out.json]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import sympy as sp
from sympy.core.cache import clear_cache as clear_sympy_cache
from sympy.diffgeom import TensorProduct, metric_to_Ricci_components
from sympy.diffgeom.rn import R2_r, R3_r

from flowtheory import riemann
from flowtheory.caching import clear_caches
from numerics.io.provenance import run_record, write_json_atomic

SEED = 0


def _random_linear_metric(coords, seed):
    rng = random.Random(seed)
    n = len(coords)
    m = sp.Matrix(n, n, lambda i, j: sum(sp.Rational(rng.randint(-9, 9), 10) * c for c in (1, *coords)))
    return sp.eye(n) + (m + m.T) / 5


def _cases():
    p, q, s = sp.symbols("p q s", real=True)  # names distinct from those inside sympy's R2_r/R3_r
    r = sp.Symbol("r", positive=True)
    return {
        "S2(r)": (r**2 * sp.diag(1, sp.sin(p) ** 2), (p, q)),
        "S3(r)": (r**2 * sp.diag(1, sp.sin(p) ** 2, sp.sin(p) ** 2 * sp.sin(q) ** 2), (p, q, s)),
        "random 2D": (_random_linear_metric((p, q), SEED), (p, q)),
        "random 3D": (_random_linear_metric((p, q, s), SEED + 1), (p, q, s)),
    }


def _ours(g, coords):
    clear_caches()
    clear_sympy_cache()
    ric = riemann.ricci_tensor(g, coords)
    return ric, riemann.ricci_scalar(g, coords)


def _baseline(g, coords):
    clear_sympy_cache()
    system = R2_r if len(coords) == 2 else R3_r
    fields = system.coord_functions()
    forms = system.base_oneforms()
    to_fields = dict(zip(coords, fields))
    form = sum(
        g[i, j].subs(to_fields) * TensorProduct(forms[i], forms[j]) for i in range(len(coords)) for j in range(len(coords)) if g[i, j] != 0
    )
    ric = metric_to_Ricci_components(form)
    ginv = g.inv().subs(to_fields)
    n = len(coords)
    scalar = sum(ginv[i, j] * ric[i, j] for i in range(n) for j in range(n))
    return scalar.subs(dict(zip(fields, coords)))


def _median(fn, repeats):
    """Median wall time over ``repeats`` runs; one run only when the first takes over 10 s."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if times[0] > 10:
            break
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default="benchmarks/results/bench_riemann.json")
    args = parser.parse_args()
    rows = []
    for name, (g, coords) in _cases().items():
        t_ours, (_, scalar) = _median(lambda: _ours(g, coords), args.repeats)
        t_base, scalar_base = _median(lambda: _baseline(g, coords), args.repeats)
        point = {c: sp.Rational(k + 2, 10) for k, c in enumerate(coords)}
        point[sp.Symbol("r", positive=True)] = sp.Rational(3, 2)
        diff = abs(complex((scalar - scalar_base).xreplace(point).evalf(30)))
        rows.append({"metric": name, "ours_s": t_ours, "sympy_diffgeom_s": t_base, "speedup": t_base / t_ours, "scalar_difference": diff})
        print(f"{name:10s}  ours {t_ours:8.3f} s   sympy.diffgeom {t_base:8.3f} s   speed-up {t_base / t_ours:6.1f}x   |ΔR| = {diff:.1e}")
    write_json_atomic(args.json, {"rows": rows, "run": run_record(SEED, {"repeats": args.repeats})})
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
