"""Benchmark: empirical metric-NTK of a deep ReLU network — numerics.nn.ntk vs neural-tangents.

Network: 3 hidden ReLU layers of width 64, 10 inputs, 9 outputs (the entries of a 3×3 metric),
NTK parameterisation (``numerics.nn.networks.MLP`` ≡ ``stax.serial(Dense(64), Relu, ..., Dense(9))``
with the same parameters).  Full output block (``trace_axes=()``): Θ has shape (n, n, 9, 9).

Timed in one process on the same parameters and points (warm = compiled; compile reported
separately; medians over ``--repeats``):

* ours ``dense_ntk`` (structured: per-layer Gram of inputs × Gram of pre-activation cotangents),
* ours ``empirical_ntk`` (Jacobian contraction, blockwise),
* neural-tangents ``empirical_ntk_fn`` with JACOBIAN_CONTRACTION, NTK_VECTOR_PRODUCTS and
  STRUCTURED_DERIVATIVES (``vmap_axes=0, trace_axes=()``).

Every implementation's Θ is asserted equal to ours (max abs difference ≤ 1e-12 · max|Θ|).

Then the matrix-free Θ·v (``ntk_vector_product``) on ``--matfree-points`` points (default 10^5),
checked against the materialised kernel contracted block by block on a subset of output rows.

Usage: ``python benchmarks/bench_metric_ntk.py [--json out.json] [--repeats 3] [--points 1000]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from numerics.nn.networks import MLP
from numerics.nn.ntk import contract, dense_ntk, empirical_ntk, ntk_vector_product
from numerics.io.provenance import run_record, write_json_atomic

SEED = 0
D_IN, HIDDEN, N_OUT = 10, (64, 64, 64), 9
SIGMA_W, SIGMA_B = 1.4, 0.1


def _timed(fn, args: tuple, repeats: int, budget_s: float) -> tuple[float, list[float], object]:
    """Compile ``jax.jit(fn)`` ahead of time (timed), then time warm calls.

    At least one warm call; further ones (up to ``repeats``) while the warm time spent stays below
    ``budget_s`` — the Jacobian-contraction routes take minutes per call on a shared 2-core machine.
    """
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    warm: list[float] = []
    while len(warm) < repeats and (not warm or sum(warm) < budget_s):
        t0 = time.perf_counter()
        out = jax.block_until_ready(compiled(*args))
        warm.append(time.perf_counter() - t0)
    return compile_s, warm, out


def _nt_network(params):
    from neural_tangents import stax

    layers = []
    for n in HIDDEN:
        layers += [stax.Dense(n, SIGMA_W, SIGMA_B), stax.Relu()]
    _, apply_fn, _ = stax.serial(*layers, stax.Dense(N_OUT, SIGMA_W, SIGMA_B))
    nt_params = []
    for l, (W, b) in enumerate(zip(params["W"], params["b"])):
        nt_params.append((W, b))
        if l < len(HIDDEN):
            nt_params.append(())
    return apply_fn, nt_params


def _nt_structured_shim() -> None:
    """neural-tangents 0.6.5 STRUCTURED_DERIVATIVES reaches names that jax 0.5's public ``jax.interpreters.ad`` no longer re-exports.

    They are re-exported from ``jax._src.interpreters.ad`` (same objects) for this benchmark only.
    """
    from jax._src.interpreters import ad as private_ad
    from jax.interpreters import ad

    if not hasattr(ad, "config"):
        ad.config = jax.config
    for name in ("source_info_util", "add_tangents", "backward_pass", "get_primitive_transpose",
                 "is_undefined_primal", "linearize", "primitive_jvps", "reducing_transposes"):
        if not hasattr(ad, name) and hasattr(private_ad, name):
            setattr(ad, name, getattr(private_ad, name))


def bench_materialised(n_points: int, repeats: int, budget_s: float, nt_impls: list[str]) -> dict:
    import neural_tangents as nt

    net = MLP(D_IN, HIDDEN, (N_OUT,), SIGMA_W, SIGMA_B)
    key = jax.random.PRNGKey(SEED)
    params = net.init(key)
    x = jax.random.normal(jax.random.fold_in(key, 1), (n_points, D_IN))
    apply_fn, nt_params = _nt_network(params)
    np.testing.assert_allclose(apply_fn(nt_params, x), jax.vmap(net.apply, in_axes=(None, 0))(params, x), rtol=1e-12, atol=1e-12)

    candidates = {
        "ours dense_ntk (structured)": (lambda x, p: dense_ntk(net, p, x), (x, params)),
        "ours empirical_ntk (Jacobian contraction)": (lambda x, p: empirical_ntk(net, p, x, block_size=n_points), (x, params)),
    }
    _nt_structured_shim()
    for name in nt_impls:
        impl = getattr(nt.NtkImplementation, name)
        fn = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=impl)
        candidates[f"neural-tangents {name}"] = (fn, (x, x, nt_params))

    rows, reference = [], None
    for name, (fn, fn_args) in candidates.items():
        print(f"  timing {name} ...", file=sys.stderr, flush=True)
        try:
            compile_s, warm, theta = _timed(fn, fn_args, repeats, budget_s)
        except Exception as exc:  # an implementation that does not run on this jax is reported, not hidden
            rows.append({"implementation": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        theta = np.asarray(theta)
        if reference is None:
            reference = theta
        diff = float(np.max(np.abs(theta - reference)))
        scale = float(np.max(np.abs(reference)))
        assert theta.shape == (n_points, n_points, N_OUT, N_OUT), theta.shape
        assert diff <= 1e-12 * scale, f"{name}: max |ΔΘ| = {diff} (max|Θ| = {scale})"
        med = statistics.median(warm)
        rows.append({"implementation": name, "warm_median_s": med, "warm_s": warm, "compile_s": compile_s, "max_abs_diff": diff, "max_abs_theta": scale})
    base = rows[0]["warm_median_s"]
    for row in rows:
        if "warm_median_s" in row:
            row["time_ratio_to_ours_structured"] = row["warm_median_s"] / base
    return {"n_points": n_points, "n_params": int(sum(p.size for p in jax.tree_util.tree_leaves(params))), "rows": rows}


def bench_matrix_free(n_points: int, repeats: int, budget_s: float, n_check: int, chunk: int) -> dict:
    net = MLP(D_IN, HIDDEN, (N_OUT,), SIGMA_W, SIGMA_B)
    key = jax.random.PRNGKey(SEED + 1)
    params = net.init(key)
    x = jax.random.normal(jax.random.fold_in(key, 1), (n_points, D_IN))
    v = jax.random.normal(jax.random.fold_in(key, 2), (n_points, N_OUT))
    compile_s, warm, out = _timed(lambda p, x, v: ntk_vector_product(net, p, x, x, v, chunk=chunk), (params, x, v), repeats, budget_s)
    # check n_check rows of Θ·v against the materialised kernel, summed block by block over all points
    rows = jnp.arange(n_check) * (n_points // n_check)
    expected = jnp.zeros((n_check, N_OUT))
    block = 10_000
    for start in range(0, n_points, block):
        theta = dense_ntk(net, params, x[rows], x[start : start + block])
        expected = expected + contract(theta, v[start : start + block])
    err = float(jnp.max(jnp.abs(out[rows] - expected)))
    scale = float(jnp.max(jnp.abs(expected)))
    assert err <= 1e-10 * scale, f"matrix-free Θ·v: max error {err} (scale {scale})"
    med = statistics.median(warm)
    return {
        "n_points": n_points, "chunk": chunk, "warm_median_s": med, "warm_s": warm, "compile_s": compile_s,
        "points_per_s": n_points / med, "checked_rows": n_check, "max_abs_error": err, "max_abs_value": scale,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the figures to this JSON file")
    ap.add_argument("--repeats", type=int, default=3, help="warm calls per implementation (at most)")
    ap.add_argument("--budget", type=float, default=60.0, help="stop repeating once an implementation's warm calls took this many seconds")
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--matfree-points", type=int, default=100_000)
    ap.add_argument("--matfree-chunk", type=int, default=8192)
    ap.add_argument("--nt", nargs="*", default=["JACOBIAN_CONTRACTION", "NTK_VECTOR_PRODUCTS", "STRUCTURED_DERIVATIVES"],
                    help="neural-tangents implementations to compare against")
    args = ap.parse_args(argv)

    mat = bench_materialised(args.points, args.repeats, args.budget, args.nt)
    free = bench_matrix_free(args.matfree_points, args.repeats, args.budget, 100, args.matfree_chunk)

    print(f"\nEmpirical metric-NTK, MLP {D_IN}->{'->'.join(map(str, HIDDEN))}->{N_OUT} ({mat['n_params']} params), "
          f"{mat['n_points']} points, Θ shape ({mat['n_points']}, {mat['n_points']}, 9, 9); median of up to {args.repeats} warm runs")
    print(f"{'implementation':48s} {'warm [s]':>10s} {'runs':>5s} {'compile [s]':>12s} {'ratio':>8s} {'max|ΔΘ|':>10s}")
    for r in mat["rows"]:
        if "error" in r:
            print(f"{r['implementation']:48s} unavailable: {r['error'][:80]}")
        else:
            print(f"{r['implementation']:48s} {r['warm_median_s']:10.3f} {len(r['warm_s']):5d} {r['compile_s']:12.2f} {r['time_ratio_to_ours_structured']:8.2f} {r['max_abs_diff']:10.1e}")
    print(f"\nMatrix-free Θ·v on {free['n_points']} points (x_eval = x_batch): {free['warm_median_s']:.3f} s warm "
          f"({free['points_per_s']:.3g} points/s), compile {free['compile_s']:.2f} s; "
          f"max error on {free['checked_rows']} rows vs materialised {free['max_abs_error']:.1e} (values up to {free['max_abs_value']:.3g})")
    if args.json:
        record = run_record(SEED, {"d_in": D_IN, "hidden": HIDDEN, "n_out": N_OUT, "sigma_w": SIGMA_W, "sigma_b": SIGMA_B, **vars(args)})
        write_json_atomic(args.json, {"run": record, "materialised": mat, "matrix_free": free})
    return 0


if __name__ == "__main__":
    sys.exit(main())
