"""Benchmark: seconds per epoch of the metric networks (section 3.3) at cymetric's notebook settings.

3 hidden layers × 64, GELU, Adam 10^-3, gradient clipping at norm 5, batch 64, 9·10^4 train and
10^4 validation points on the Fermat quintic (``--n-train``, ``--n-val``); the φ-model (all charts)
and the g_FS + g_FS∘H(NN) model with the Kähler loss (chart (0, 1)).  Measured in one run: wall
seconds of each epoch after the first (which compiles), validation σ per epoch, the epochs and
seconds to a validation gain of 10, and the machine's float64 matmul rate (numpy 2000×2000) as the
baseline of this machine.  cymetric (TensorFlow) on this machine kind, as measured with its own
notebook: 45–60 s per epoch (MultFS) and about 50 s (PhiFS); validation σ 0.38 → 0.10 after one
epoch, 0.08 after twelve, 0.017 near epoch 50.

Usage::

    python benchmarks/bench_metric_training.py [--epochs 5] [--n-train 90000] [--n-val 10000] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--n-train", type=int, default=90_000)
    parser.add_argument("--n-val", type=int, default=10_000)
    parser.add_argument("--models", default="phi,mult")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "metric_training.json")
    args = parser.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.metric_models import MetricNetwork
    from numerics.cy.metric_training import TrainSettings, train, training_set
    from numerics.cy.sampling import sample_in_chart, sample_points
    from numerics.io.provenance import run_record, write_json_atomic

    a = np.random.default_rng(0).standard_normal((2000, 2000))
    start = time.perf_counter()
    a @ a
    matmul_gflops = 2 * 2000**3 / (time.perf_counter() - start) / 1e9
    surface = fermat_quintic()
    results = {"matmul_gflops": matmul_gflops}
    for model in args.models.split(","):
        draw = (lambda n, k: sample_points(surface, n, jax.random.PRNGKey(k))) if model == "phi" else (
            lambda n, k: sample_in_chart(surface, n, jax.random.PRNGKey(k), 0, 1))
        train_set, val_set = training_set(surface, draw(args.n_train, 0).points), training_set(surface, draw(args.n_val, 1).points)
        run = train(MetricNetwork(5, model), surface, train_set, val_set, TrainSettings(epochs=args.epochs), jax.random.PRNGKey(2))
        warm = run.seconds_per_epoch[1:]
        reach = next((e for e, s in enumerate(run.val_sigma) if run.val_sigma[0] / s >= 10), None)
        results[model] = {
            "seconds_per_epoch_warm": float(np.median(warm)) if warm else None,
            "first_epoch_s": run.seconds_per_epoch[0],
            "val_sigma": run.val_sigma,
            "epochs_to_val_gain_10": reach,
            "seconds_to_val_gain_10": float(sum(run.seconds_per_epoch[:reach])) if reach else None,
            "speedup_vs_cymetric_50s_per_epoch": 50.0 / float(np.median(warm)) if warm else None,
        }
        print(model, json.dumps(results[model]), flush=True)
    results["run_record"] = run_record(None, vars(args) | {"json": str(args.json)})
    write_json_atomic(args.json, results)


if __name__ == "__main__":
    main()
