"""``flowtheory quintic flow``: the kernel metric flow (3.5) on the Fermat quintic (section 3.2).

``flow --kernel {gaussian,delta,relu-ntk} --n-train N --n-test M --steps S [--lr LR] [--width W]
[--reading {d,d2,inverse}] [--sigma-w SW] [--sigma-b SB] [--loss {l1,l2}] [--kappa {recomputed,fixed}]
[--normalisation {mean,per-point}] [--exact | --clustered --batches B --clusters C] [--seed S]
[--out DIR] [--overwrite] [--json]``

Draws ``N`` train and ``M`` test points in chart (0, 1) (section 3.1), starts from the pulled-back
Fubini–Study metric and iterates (3.5) (:mod:`numerics.cy.kernel_flow`) with the chosen kernel
(:mod:`numerics.cy.kernels`), applied exactly over all train points (default) or per cluster of
the batched clustering (3.3) as the paper does.  Prints and writes ``DIR/quintic_flow.json``
(schema ``flowtheory.quintic.flow/1``: ``train_sigma``, ``test_sigma`` per step with step 0 first,
``train_gain``, ``test_gain``, ``rejected_steps``, ``kernel``, ``parameters``, ``run_record``) and
``DIR/quintic_flow.png`` (σ against step on both sets).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_float, bounded_int, emit, prepare_output_folder, seed

FLOW_FORMAT = "flowtheory.quintic.flow/1"
FILES = ("quintic_flow.json", "quintic_flow.png")
KERNELS = ("gaussian", "delta", "relu-ntk")
N_MAX = 200_000
STEPS_MAX = 10_000

#: Per-kernel defaults (step size, width): a plain run shows the flow at a stable step.
DEFAULTS = {
    "gaussian": {"lr": 3e-4, "width": 0.05},
    "delta": {"lr": 3e-4},
    "relu-ntk": {"lr": 1e-9},
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flow", help="kernel metric flow (3.5) on the quintic: train and test σ per step (section 3.2)")
    p.add_argument("--kernel", choices=KERNELS, required=True, help="Gaussian on FS distance (3.6), Delta (nearest train point), or the ReLU NTK")
    p.add_argument("--n-train", type=bounded_int(2, N_MAX), required=True, help=f"train points (2 to {N_MAX})")
    p.add_argument("--n-test", type=bounded_int(2, N_MAX), required=True, help=f"test points (2 to {N_MAX})")
    p.add_argument("--steps", type=bounded_int(1, STEPS_MAX), default=50, help=f"flow steps (1 to {STEPS_MAX}, default 50 as in the paper)")
    p.add_argument("--lr", type=bounded_float(0, 1e6, low_open=True), default=None, help="step size Δt (default per kernel: " + ", ".join(f"{k} {v['lr']:g}" for k, v in DEFAULTS.items()) + ")")
    p.add_argument("--width", type=bounded_float(0, 1e4, low_open=True), default=None, help=f"Gaussian width σ (default {DEFAULTS['gaussian']['width']:g})")
    p.add_argument("--reading", choices=("d", "d2", "inverse"), default="d2", help="the Gaussian's exponent: d/2σ as printed, d²/2σ² (default), or σd²/2 (σ an inverse width)")
    p.add_argument("--sigma-w", type=bounded_float(0, 1e3, low_open=True), default=5.716, help="ReLU NTK weight scale (Table 1: 5.716)")
    p.add_argument("--sigma-b", type=bounded_float(0, 1e3), default=80.52, help="ReLU NTK bias scale (Table 1: 80.52)")
    p.add_argument("--loss", choices=("l1", "l2"), default="l2", help="per-point deviation: |1-η| (B.11) or (1-η)² (default)")
    p.add_argument("--kappa", choices=("recomputed", "fixed"), default="recomputed", help="κ recomputed from the metric every step (default) or fixed at step 0")
    p.add_argument("--normalisation", choices=("mean", "per-point"), default="per-point", help="ℓ as the σ mean, or the sum of per-point losses as (3.5) writes it (default)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--exact", action="store_true", help="apply the kernel over all train points, matrix-free (default)")
    how.add_argument("--clustered", action="store_true", help="apply the kernel within the clusters of the batched clustering (3.3)")
    p.add_argument("--batches", type=bounded_int(1, N_MAX), default=5, help="mini batches of --clustered (default 5)")
    p.add_argument("--clusters", type=bounded_int(1, N_MAX), default=10, help="clusters of --clustered (default 10)")
    p.add_argument("--block", type=bounded_int(1, 65_536), default=1024, help="points per tile of the exact kernel sum (default 1024)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the point samples (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_flow_out"), help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_flow_command)


def make_kernel(args: argparse.Namespace):
    """The kernel object the options name (:mod:`numerics.cy.kernels`)."""
    from numerics.cy import kernels

    if args.kernel == "gaussian":
        return kernels.GaussianKernel(width=args.width if args.width is not None else DEFAULTS["gaussian"]["width"], reading=args.reading)
    if args.kernel == "delta":
        return kernels.DeltaKernel()
    return kernels.ReluNtkKernel(sigma_w=args.sigma_w, sigma_b=args.sigma_b)


def run_flow_command(args: argparse.Namespace) -> int:
    if args.clustered and args.clusters > args.n_train // args.batches:
        raise CliError(f"--clusters {args.clusters} exceeds the train points per batch ({args.n_train} // {args.batches})")
    prepare_output_folder(args.out, FILES, overwrite=args.overwrite)
    import dataclasses

    import jax

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_flow import FlowSettings, kernel_apply, point_set, run_flow
    from numerics.cy.sampling import sample_in_chart
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import write_record

    lr = args.lr if args.lr is not None else DEFAULTS[args.kernel]["lr"]
    settings = FlowSettings(lr=lr, loss=args.loss, kappa=args.kappa, normalisation=args.normalisation)
    kernel = make_kernel(args)
    surface = fermat_quintic()
    key = jax.random.PRNGKey(args.seed)
    progress = not args.json
    train_sample = sample_in_chart(surface, args.n_train, jax.random.fold_in(key, 0), 0, 1, progress=progress)
    test_sample = sample_in_chart(surface, args.n_test, jax.random.fold_in(key, 1), 0, 1, progress=progress)
    train = point_set(surface, train_sample.points, train_sample.line_ids)
    test = point_set(surface, test_sample.points, test_sample.line_ids)
    clusters = (args.batches, args.clusters) if args.clustered else None
    apply = kernel_apply(kernel, train, test, clusters=clusters, block=args.block, progress=progress)
    with progress_bar(f"kernel flow ({args.kernel})", total=args.steps, enabled=progress) as advance:
        result = run_flow(apply, train, test, settings, args.steps, on_step=lambda *_: advance())
    parameters = {
        "kernel": args.kernel, "kernel_parameters": dataclasses.asdict(kernel), "n_train": args.n_train, "n_test": args.n_test,
        "steps": args.steps, "lr": lr, "loss": args.loss, "kappa": args.kappa, "normalisation": args.normalisation,
        "application": "clustered" if args.clustered else "exact", "batches": args.batches if args.clustered else None,
        "clusters": args.clusters if args.clustered else None, "block": args.block, "chart": [0, 1],
    }
    out = {
        "kernel": args.kernel,
        "train_sigma": result.train_sigma,
        "test_sigma": result.test_sigma,
        "train_gain": result.train_gain,
        "test_gain": result.test_gain,
        "rejected_steps": result.rejected_steps,
        "step_sizes": result.step_sizes,
        "parameters": parameters,
        "figure": str(args.out / "quintic_flow.png"),
        "run_record": run_record(args.seed, parameters),
    }
    write_record(args.out / "quintic_flow.json", FLOW_FORMAT, out)
    _plot(out, args.out / "quintic_flow.png")
    emit(args.json, out, _render)
    return 0


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numerics.io.provenance import save_figure_atomic

    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    steps = range(len(result["train_sigma"]))
    ax.semilogy(steps, result["train_sigma"], "o-", ms=3, label=f"train (gain {result['train_gain']:.3g})")
    ax.semilogy(steps, result["test_sigma"], "s-", ms=3, label=f"test (gain {result['test_gain']:.3g})")
    ax.set_xlabel("flow step n of (3.5)")
    ax.set_ylabel("σ-measure (B.11), dimensionless")
    ax.set_title(f"{result['kernel']} kernel, {result['parameters']['n_train']} train points")
    ax.legend()
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(result: dict) -> None:
    from rich.console import Console

    console = Console()
    p = result["parameters"]
    console.print(f"{result['kernel']} kernel ({p['application']}), {p['n_train']} train / {p['n_test']} test points, {p['steps']} steps, lr {p['lr']:g}")
    console.print(f"train σ {result['train_sigma'][0]:.4g} -> {result['train_sigma'][-1]:.4g}  (gain {result['train_gain']:.4g})")
    console.print(f"test  σ {result['test_sigma'][0]:.4g} -> {result['test_sigma'][-1]:.4g}  (gain {result['test_gain']:.4g})")
    console.print(f"rejected steps (step halvings): {result['rejected_steps']}")
    console.print(f"figure: {result['figure']}")
