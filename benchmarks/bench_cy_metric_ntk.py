"""Benchmark: the empirical metric-NTK of a trained φ-model on the quintic — ours vs neural-tangents.

The network of section 3.3 (:class:`numerics.cy.metric_models.MetricNetwork`, φ-model, 3 × 64 GELU,
standard initialisation), trained for ``--epochs`` epochs on ``--n-train`` points
(:func:`numerics.cy.metric_training.train`), then its metric-NTK Θ_ijkl(x, x') on ``--points``
validation points (default 2000: Θ is (2000·9)² = 3.2·10⁸ numbers, 2.4 GiB).  The function
differentiated is the same for both: the real metric coordinates r = Re g + Im g of
:func:`numerics.cy.metric_ntk.metric_coordinates`, whose φ-model metric is a Hessian of the network.

* ours :func:`numerics.cy.metric_ntk.empirical_metric_ntk` (per-point ``jacrev`` under ``vmap``, one matmul);
* neural-tangents ``empirical_ntk_fn`` (``trace_axes=()``, ``vmap_axes=0``) with JACOBIAN_CONTRACTION,
  NTK_VECTOR_PRODUCTS and STRUCTURED_DERIVATIVES (``--nt``); those that cannot trace the φ-model's
  Hessian on this jax are reported with their error.

Compile time (ahead of time) apart from warm time; working memory from XLA's ``memory_analysis()``,
and an implementation that would not fit in the memory available is skipped, not killed.  Every Θ is
asserted equal to ours to 1e-12·max|Θ|.  With ``--json FILE`` the figures are written after every
measurement.  ``--quick``: 200 points, 2000 train points, one warm call.

Usage: ``python benchmarks/bench_cy_metric_ntk.py [--json out.json] [--points 2000] [--quick]``
(neural-tangents comes with the ``reference`` extra).
"""

from __future__ import annotations

import argparse
import statistics
import sys

import jax
import jax.numpy as jnp
import numpy as np

from bench_metric_ntk import _available_bytes, _compile, _nt_structured_shim, _timed
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.metric_models import MetricNetwork
from numerics.cy.metric_ntk import _ntk, metric_coordinates
from numerics.cy.metric_training import TrainSettings, train, training_set
from numerics.cy.patches import Chart
from numerics.cy.sampling import sample_points
from numerics.io import run_record, write_json_atomic

SEED = 0
QUICK = {"points": 200, "n_train": 2000, "repeats": 1}


def trained_network(n_train: int, n_val: int, epochs: int):
    """The φ-model 3 × 64 GELU after ``epochs`` epochs, and the validation set."""
    surface = fermat_quintic()
    key = jax.random.PRNGKey(SEED)
    data = [training_set(surface, sample_points(surface, n, jax.random.fold_in(key, i)).points) for i, n in ((0, n_train), (1, n_val))]
    net = MetricNetwork(surface.n_ambient, "phi", 64, 3, "gelu")
    result = train(net, surface, *data, TrainSettings(epochs=epochs, init="standard"), jax.random.fold_in(key, 2))
    return surface, net, result, data[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the figures to this JSON file (after every measurement)")
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--n-train", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--nt", nargs="*", default=["JACOBIAN_CONTRACTION", "NTK_VECTOR_PRODUCTS", "STRUCTURED_DERIVATIVES"])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
    import neural_tangents as nt

    surface, net, trained, val = trained_network(args.n_train, args.points, args.epochs)
    params = trained.params
    c = jax.tree_util.tree_map(lambda a: a[: args.points], val.chart)
    n_params = int(sum(np.size(x) for x in jax.tree_util.tree_leaves(params)))
    document = {"run": run_record(SEED, vars(args)), "n_params": n_params, "val_sigma": trained.val_sigma, "rows": [], "complete": False}

    def save():
        if args.json:
            write_json_atomic(args.json, document)

    x = jnp.concatenate([c.z.real, c.z.imag, c.patch[:, None].astype(float), c.eliminated[:, None].astype(float)], axis=1)

    def f(p, x):  # the same metric coordinates, of real inputs (neural-tangents differentiates f(params, x))
        z = x[:, :5] + 1j * x[:, 5:10]
        return metric_coordinates(net, p, Chart(z, jnp.round(x[:, 10]).astype(int), jnp.round(x[:, 11]).astype(int), surface.dp(z)))

    _nt_structured_shim()
    candidates = [("ours empirical_metric_ntk", (lambda p, c: _ntk(net, p, c)), (params, c))]
    for name in args.nt:
        fn = nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=getattr(nt.NtkImplementation, name))
        candidates.append((f"neural-tangents {name}", (lambda fn: lambda p, x: fn(x, x, p))(fn), (params, x)))
    reference, base = None, None
    n, m = args.points, 9
    for name, fn, fargs in candidates:
        row = {"implementation": name, "n_points": n}
        print(f"  {name}, {n} points ...", file=sys.stderr, flush=True)
        try:
            compiled, compile_s, need = _compile(fn, fargs)
            available = _available_bytes()
            row.update(compile_s=compile_s, working_memory_bytes=need)
            if need is not None and available is not None and need > 0.8 * available:
                row["skipped"] = f"needs {need / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"
            else:
                warm, theta = _timed(compiled, fargs, args.repeats, args.budget)
                del compiled
                theta = np.asarray(theta)
                if theta.ndim == 6:  # neural-tangents' (N1, N2, a1, a2, b1, b2) to ours (N1 a1 b1, N2 a2 b2)
                    theta = np.transpose(theta, (0, 2, 4, 1, 3, 5)).reshape(n * m, n * m)
                if reference is None:
                    reference = theta
                diff, scale = float(np.max(np.abs(theta - reference))), float(np.max(np.abs(reference)))
                assert diff <= 1e-12 * scale, f"{name}: max |ΔΘ| = {diff} (max|Θ| = {scale})"
                med = statistics.median(warm)
                base = med if base is None else base
                row.update(warm_median_s=med, warm_s=warm, ratio_to_ours=med / base, max_abs_diff=diff, max_abs_theta=scale)
                del theta
        except Exception as exc:  # an implementation that does not run on this jax is reported, not hidden
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        document["rows"].append(row)
        save()
    document["complete"] = True
    save()
    print(f"\nEmpirical metric-NTK of the trained φ-model 3×64 GELU ({n_params} parameters, validation σ "
          f"{trained.val_sigma[0]:.3f} -> {trained.val_sigma[-1]:.3f}), Θ of shape ({n}·9)², median of up to {args.repeats} warm runs")
    print(f"{'implementation':44s} {'warm [s]':>9s} {'compile [s]':>11s} {'memory':>10s} {'ratio':>6s} {'max|ΔΘ|':>8s}")
    for r in document["rows"]:
        memory = "—" if r.get("working_memory_bytes") is None else f"{r['working_memory_bytes'] / 2**30:.2f} GiB"
        if "error" in r:
            print(f"{r['implementation']:44s} unavailable: {r['error'][:100]}")
        elif "skipped" in r:
            print(f"{r['implementation']:44s} skipped: {r['skipped']}")
        else:
            print(f"{r['implementation']:44s} {r['warm_median_s']:9.2f} {r['compile_s']:11.2f} {memory:>10s} {r['ratio_to_ours']:6.2f} {r['max_abs_diff']:8.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
