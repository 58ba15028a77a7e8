"""Benchmark: empirical metric-NTK of a deep ReLU network — numerics.nn.ntk vs neural-tangents.

Network: 3 hidden ReLU layers of width 64, 10 inputs, 9 outputs (the entries of a 3×3 metric),
NTK parameterisation (``numerics.nn.networks.MLP`` ≡ ``stax.serial(Dense(64), Relu, ..., Dense(9))``
with the same parameters).  Full output block (``trace_axes=()``): Θ has shape (n, n, 9, 9).

Timed in one process on the same parameters and points (warm = compiled; compile reported
separately; medians over ``--repeats``):

* ours ``dense_ntk`` (structured: per-layer Gram of inputs × Gram of pre-activation cotangents),
* ours ``empirical_ntk`` (Jacobian contraction, blockwise),
* neural-tangents ``empirical_ntk_fn`` with JACOBIAN_CONTRACTION and STRUCTURED_DERIVATIVES
  (``vmap_axes=0, trace_axes=()``) on ``--points`` points (default 1000),
* neural-tangents NTK_VECTOR_PRODUCTS on ``--small-points`` points only (default 500): its
  working memory grows as n² and reaches 19 GB at 1000 points.  It is compared with ours
  ``dense_ntk`` timed on the same points, and every row also gives the cost per point pair
  (warm seconds / n²).

Before it runs, each implementation's working memory is read from XLA's compiled
``memory_analysis()``; one that would not fit in the memory available now (``MemAvailable``) is
reported as skipped instead of being killed.  Every implementation's Θ is asserted equal to ours
(max abs difference ≤ 1e-12 · max|Θ|).

Then the matrix-free Θ·v (``ntk_vector_product``) on ``--matfree-points`` points (default 10^5),
checked against the materialised kernel contracted block by block on a subset of output rows.

With ``--json FILE`` the figures are written after every measurement (atomically; ``"complete":
false`` until the run ends), so an interrupted run keeps what it measured.  ``--quick`` is a
small run (200 and 50 points, 10^4 matrix-free points, one warm call) that checks the script.

Usage: ``python benchmarks/bench_metric_ntk.py [--json out.json] [--repeats 3] [--points 1000]
[--small-points 500] [--quick]``.  neural-tangents comes with the ``reference`` extra.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from numerics.io import run_record, write_json_atomic
from numerics.nn.networks import MLP
from numerics.nn.ntk import contract, dense_ntk, empirical_ntk, ntk_vector_product

SEED = 0
D_IN, HIDDEN, N_OUT = 10, (64, 64, 64), 9
SIGMA_W, SIGMA_B = 1.4, 0.1
OURS = "ours dense_ntk (structured)"
#: neural-tangents implementations whose working memory is too large for ``--points`` (n² growth).
SMALL = ("NTK_VECTOR_PRODUCTS",)
QUICK = {"points": 200, "small_points": 50, "matfree_points": 10_000, "repeats": 1, "budget": 5.0}


def _available_bytes() -> int | None:
    """``MemAvailable`` of /proc/meminfo (None where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _compile(fn, args: tuple):
    """``jax.jit(fn)`` compiled ahead of time, the compile seconds, and the bytes it needs to run."""
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    try:
        m = compiled.memory_analysis()
        need = int(m.temp_size_in_bytes + m.output_size_in_bytes + m.argument_size_in_bytes)
    except Exception:  # a backend without memory analysis runs unguarded
        need = None
    return compiled, compile_s, need


def _timed(compiled, args: tuple, repeats: int, budget_s: float) -> tuple[list[float], object]:
    """Warm calls: at least one; further ones (up to ``repeats``) while the time spent stays below ``budget_s``."""
    warm: list[float] = []
    while len(warm) < repeats and (not warm or sum(warm) < budget_s):
        t0 = time.perf_counter()
        out = jax.block_until_ready(compiled(*args))
        warm.append(time.perf_counter() - t0)
    return warm, out


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


def bench_materialised(n_points: int, n_small: int, repeats: int, budget_s: float, nt_impls: list[str], save) -> dict:
    """Time every implementation; ``save(result)`` is called after each measurement."""
    import neural_tangents as nt

    net = MLP(D_IN, HIDDEN, (N_OUT,), SIGMA_W, SIGMA_B)
    key = jax.random.PRNGKey(SEED)
    params = net.init(key)
    x_all = jax.random.normal(jax.random.fold_in(key, 1), (max(n_points, n_small), D_IN))
    apply_fn, nt_params = _nt_network(params)
    np.testing.assert_allclose(apply_fn(nt_params, x_all), jax.vmap(net.apply, in_axes=(None, 0))(params, x_all), rtol=1e-12, atol=1e-12)
    _nt_structured_shim()

    def nt_fn(name):
        impl = getattr(nt.NtkImplementation, name)
        fn = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=impl)
        return lambda x: fn(x, x, nt_params)

    # one group per size; ours dense_ntk first in each, the reference of its group
    groups = {n_points: [(OURS, lambda x: dense_ntk(net, params, x)),
                         ("ours empirical_ntk (Jacobian contraction)", lambda x: empirical_ntk(net, params, x, block_size=x.shape[0]))]}
    for name in nt_impls:
        n = n_small if name in SMALL else n_points
        groups.setdefault(n, [(OURS, lambda x: dense_ntk(net, params, x))]).append((f"neural-tangents {name}", nt_fn(name)))

    result = {"n_points": n_points, "n_small_points": n_small,
              "n_params": int(sum(p.size for p in jax.tree_util.tree_leaves(params))), "rows": []}
    for n, candidates in groups.items():
        x = x_all[:n]
        reference, base = None, None
        for name, fn in candidates:
            row = {"implementation": name, "n_points": n}
            print(f"  {name}, {n} points ...", file=sys.stderr, flush=True)
            try:
                compiled, compile_s, need = _compile(fn, (x,))
                available = _available_bytes()
                row.update(compile_s=compile_s, working_memory_bytes=need)
                if need is not None and available is not None and need > 0.8 * available:
                    row["skipped"] = f"needs {need / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"
                else:
                    warm, theta = _timed(compiled, (x,), repeats, budget_s)
                    del compiled
                    theta = np.asarray(theta)
                    assert theta.shape == (n, n, N_OUT, N_OUT), theta.shape
                    if reference is None:
                        reference = theta
                    diff = float(np.max(np.abs(theta - reference)))
                    scale = float(np.max(np.abs(reference)))
                    assert diff <= 1e-12 * scale, f"{name}: max |ΔΘ| = {diff} (max|Θ| = {scale})"
                    med = statistics.median(warm)
                    base = med if base is None else base
                    row.update(warm_median_s=med, warm_s=warm, seconds_per_point_pair=med / n**2,
                               time_ratio_to_ours_structured=med / base, max_abs_diff=diff, max_abs_theta=scale)
            except Exception as exc:  # an implementation that does not run on this jax is reported, not hidden
                row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            result["rows"].append(row)
            save(result)
    return result


def bench_matrix_free(n_points: int, repeats: int, budget_s: float, n_check: int, chunk: int) -> dict:
    net = MLP(D_IN, HIDDEN, (N_OUT,), SIGMA_W, SIGMA_B)
    key = jax.random.PRNGKey(SEED + 1)
    params = net.init(key)
    x = jax.random.normal(jax.random.fold_in(key, 1), (n_points, D_IN))
    v = jax.random.normal(jax.random.fold_in(key, 2), (n_points, N_OUT))
    args = (params, x, v)
    compiled, compile_s, need = _compile(lambda p, x, v: ntk_vector_product(net, p, x, x, v, chunk=chunk), args)
    warm, out = _timed(compiled, args, repeats, budget_s)
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
        "working_memory_bytes": need, "points_per_s": n_points / med, "checked_rows": n_check,
        "max_abs_error": err, "max_abs_value": scale,
    }


def _print_materialised(mat: dict, repeats: int) -> None:
    print(f"\nEmpirical metric-NTK, MLP {D_IN}->{'->'.join(map(str, HIDDEN))}->{N_OUT} ({mat['n_params']} params), "
          f"Θ of shape (n, n, 9, 9); median of up to {repeats} warm runs; ratio to ours dense_ntk on the same n points")
    print(f"{'implementation':44s} {'n':>5s} {'warm [s]':>9s} {'runs':>4s} {'compile [s]':>11s} {'memory':>9s} "
          f"{'s / pair':>9s} {'ratio':>6s} {'max|ΔΘ|':>8s}")
    for r in mat["rows"]:
        head = f"{r['implementation']:44s} {r['n_points']:5d}"
        memory = "—" if r.get("working_memory_bytes") is None else f"{r['working_memory_bytes'] / 2**30:.2f} GiB"
        if "error" in r:
            print(f"{head} unavailable: {r['error'][:80]}")
        elif "skipped" in r:
            print(f"{head} skipped: {r['skipped']}")
        else:
            print(f"{head} {r['warm_median_s']:9.3f} {len(r['warm_s']):4d} {r['compile_s']:11.2f} {memory:>9s} "
                  f"{r['seconds_per_point_pair']:9.2e} {r['time_ratio_to_ours_structured']:6.2f} {r['max_abs_diff']:8.1e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the figures to this JSON file (after every measurement)")
    ap.add_argument("--repeats", type=int, default=3, help="warm calls per implementation (at most)")
    ap.add_argument("--budget", type=float, default=60.0, help="stop repeating once an implementation's warm calls took this many seconds")
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--small-points", type=int, default=500,
                    help=f"points for the implementations whose memory grows too fast for --points ({', '.join(SMALL)})")
    ap.add_argument("--matfree-points", type=int, default=100_000)
    ap.add_argument("--matfree-chunk", type=int, default=8192)
    ap.add_argument("--nt", nargs="*", default=["JACOBIAN_CONTRACTION", "NTK_VECTOR_PRODUCTS", "STRUCTURED_DERIVATIVES"],
                    help="neural-tangents implementations to compare against")
    ap.add_argument("--quick", action="store_true",
                    help=f"a small run that checks the script: {', '.join(f'{k}={v}' for k, v in QUICK.items())}")
    args = ap.parse_args(argv)
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)

    record = run_record(SEED, {"d_in": D_IN, "hidden": HIDDEN, "n_out": N_OUT, "sigma_w": SIGMA_W, "sigma_b": SIGMA_B, **vars(args)})
    document = {"run": record, "complete": False, "materialised": None, "matrix_free": None}

    def save(materialised=None, matrix_free=None, complete=False):
        if materialised is not None:
            document["materialised"] = materialised
        if matrix_free is not None:
            document["matrix_free"] = matrix_free
        document["complete"] = complete
        if args.json:
            write_json_atomic(args.json, document)

    mat = bench_materialised(args.points, args.small_points, args.repeats, args.budget, args.nt, save)
    _print_materialised(mat, args.repeats)
    print(f"  matrix-free Θ·v, {args.matfree_points} points ...", file=sys.stderr, flush=True)
    free = bench_matrix_free(args.matfree_points, args.repeats, args.budget, 100, args.matfree_chunk)
    save(matrix_free=free, complete=True)
    print(f"\nMatrix-free Θ·v on {free['n_points']} points (x_eval = x_batch): {free['warm_median_s']:.3f} s warm "
          f"({free['points_per_s']:.3g} points/s), compile {free['compile_s']:.2f} s; "
          f"max error on {free['checked_rows']} rows vs materialised {free['max_abs_error']:.1e} (values up to {free['max_abs_value']:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
