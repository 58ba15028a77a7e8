"""``flowtheory quintic flow``: the kernel metric flow (3.5) on the Fermat quintic (section 3.2).

``flow --kernel {gaussian,delta,relu-ntk} [--n-train N] [--n-test M] [--steps S] [--lr LR] [--sigma S]
[--sigma-w SW] [--sigma-b SB] [--reading {inverse,d,d2}] [--loss {l2,l1}] [--kappa {recomputed,fixed}]
[--normalisation {mean,per-point}] [--exact | --clustered --batches B --clusters C [--compare-exact]] [--seed S]
[--out DIR] [--resume | --overwrite] [--json]``

Draws ``N`` train and ``M`` test points in chart (0, 1) (section 3.1), starts from the pulled-back
Fubini–Study metric and iterates (3.5) (:mod:`numerics.cy.kernel_flow`) with the chosen kernel
(:mod:`numerics.cy.kernels`), applied exactly over all train points (default) or per cluster of
the batched clustering (3.3) as the paper does.  The defaults per kernel (:data:`DEFAULTS`) are the
best parameters ``flowtheory quintic search`` found, with the mean L2 loss and the inverse-width
reading of (3.6) that reproduce the paper's behaviour (proofs ``cy-kernel-flow-step-rule`` and
``cy-gaussian-reading``).  Prints and writes ``DIR/quintic_flow.json`` (schema
``flowtheory.quintic.flow/1``: ``train_sigma``, ``test_sigma`` per step with step 0 first,
``train_gain``, ``test_gain``, ``rejected_steps``, ``step_sizes``, ``kernel``, ``parameters``,
``resumed_from``, ``comparison`` (with ``--clustered --compare-exact``: the exact flow on the same
points and the ratios of final σ, clustered over exact), ``run_record``) and ``DIR/quintic_flow.png``
(σ against step on both sets).
After every step the state goes to ``DIR/quintic_flow.checkpoint.npz``; ``--resume`` continues
from it (same parameters; ``--steps`` may grow).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowtheory.cli.output import (CliError, bounded_float, bounded_int, checkpoint_parameters, emit, open_checkpoint, prepare_output_folder,
                                   require_same_parameters, say, seed)

FLOW_FORMAT = "flowtheory.quintic.flow/1"
CHECKPOINT_FORMAT = "flowtheory.quintic.flow-checkpoint/1"
CHECKPOINT = "quintic_flow.checkpoint.npz"
FILES = ("quintic_flow.json", "quintic_flow.png", CHECKPOINT)
KERNELS = ("gaussian", "delta", "relu-ntk")
N_MAX = 200_000
STEPS_MAX = 10_000

#: Per-kernel defaults: the best parameters of ``flowtheory quintic search --kernel K --trials 30``
#: (seed 0, Table 1's point counts, 50 steps per trial; README, "Table 1 reproduced").
DEFAULTS = {
    "gaussian": {"lr": 0.4084, "width": 82.58, "n_train": 2500},
    "delta": {"lr": 0.2066, "n_train": 1000},
    "relu-ntk": {"lr": 5.526e-10, "sigma_w": 100.0, "sigma_b": 0.007185, "n_train": 2500},
}


def add_flow_options(p: argparse.ArgumentParser) -> None:
    """The options of the flow rule and of the Gaussian's reading, shared by ``flow`` and ``search``."""
    p.add_argument("--reading", choices=("d", "d2", "inverse"), default="inverse",
                   help="the Gaussian's exponent: σd²/2, σ an inverse width (default: the reading that reproduces the paper), d/2σ as printed, or d²/2σ²")
    p.add_argument("--loss", choices=("l1", "l2"), default="l2", help="per-point deviation: (1-η)² (default) or |1-η| (B.11)")
    p.add_argument("--kappa", choices=("recomputed", "fixed"), default="recomputed", help="κ recomputed from the metric every step (default) or fixed at step 0")
    p.add_argument("--normalisation", choices=("mean", "per-point"), default="mean", help="ℓ the weighted mean as σ is (default), or the sum of per-point losses")
    p.add_argument("--block", type=bounded_int(1, 65_536), default=1024, help="points per tile of the exact kernel sum (default 1024)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flow", help="kernel metric flow (3.5) on the quintic: train and test σ per step (section 3.2)")
    p.add_argument("--kernel", choices=KERNELS, required=True, help="Gaussian on FS distance (3.6), Delta (nearest train point), or the ReLU NTK")
    p.add_argument("--n-train", type=bounded_int(2, N_MAX), default=None, help=f"train points (2 to {N_MAX}; default per kernel as in Table 1: " + ", ".join(f"{k} {v['n_train']}" for k, v in DEFAULTS.items()) + ")")
    p.add_argument("--n-test", type=bounded_int(2, N_MAX), default=1000, help=f"test points (2 to {N_MAX}, default 1000)")
    p.add_argument("--steps", type=bounded_int(1, STEPS_MAX), default=50, help=f"flow steps (1 to {STEPS_MAX}, default 50 as in the paper)")
    p.add_argument("--lr", type=bounded_float(0, 1e6, low_open=True), default=None, help="step size Δt (default per kernel: " + ", ".join(f"{k} {v['lr']:g}" for k, v in DEFAULTS.items()) + ")")
    p.add_argument("--sigma", type=bounded_float(0, 1e4, low_open=True), default=None,
                   help=f"width σ of the Gaussian kernel (3.6) (default {DEFAULTS['gaussian']['width']:g}; kernel_parameters.width in the JSON)")
    p.add_argument("--sigma-w", type=bounded_float(0, 1e3, low_open=True), default=None, help=f"ReLU NTK weight scale (default {DEFAULTS['relu-ntk']['sigma_w']:g}, the search's; Table 1 prints 5.716)")
    p.add_argument("--sigma-b", type=bounded_float(0, 1e3), default=None, help=f"ReLU NTK bias scale (default {DEFAULTS['relu-ntk']['sigma_b']:g}, the search's; Table 1 prints 80.52)")
    add_flow_options(p)
    how = p.add_mutually_exclusive_group()
    how.add_argument("--exact", action="store_true", help="apply the kernel over all train points, matrix-free (default)")
    how.add_argument("--clustered", action="store_true", help="apply the kernel within the clusters of the batched clustering (3.3)")
    p.add_argument("--batches", type=bounded_int(1, N_MAX), default=5, help="mini batches of --clustered (default 5)")
    p.add_argument("--clusters", type=bounded_int(1, N_MAX), default=10, help="clusters of --clustered (default 10)")
    p.add_argument("--compare-exact", action="store_true", help="with --clustered: also run the exact flow on the same points and report what clustering costs in σ")
    p.add_argument("--seed", type=seed, default=0, help="seed of the point samples (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_flow_out"), help="output folder (default quintic_flow_out)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help=f"continue the run in --out from its checkpoint ({CHECKPOINT}, written every step)")
    again.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_flow_command)


def kernel_parameters(args: argparse.Namespace) -> dict:
    """The kernel's parameters: the options given, else the kernel's defaults."""
    defaults = DEFAULTS[args.kernel]
    given = {"width": args.sigma, "sigma_w": args.sigma_w, "sigma_b": args.sigma_b}
    return {k: (v if v is not None else defaults[k]) for k, v in given.items() if k in defaults}


def _save_checkpoint(path: Path, result, parameters: dict) -> None:
    import json

    import numpy as np

    from numerics.io.provenance import save_npz_atomic

    save_npz_atomic(path, format=np.array(CHECKPOINT_FORMAT), parameters=np.array(json.dumps(parameters, sort_keys=True)),
                    train_sigma=np.asarray(result.train_sigma), test_sigma=np.asarray(result.test_sigma),
                    step_sizes=np.asarray(result.step_sizes, dtype=float), rejected_steps=np.asarray(result.rejected_steps),
                    g_train=result.g_train, g_test=result.g_test)


def _load_checkpoint(path: Path, parameters: dict, steps: int):
    """The partial :class:`FlowResult` of a checkpoint, checked against this run: the same parameters
    (steps aside), histories of one entry per step, no more steps than ``steps``, finite positive
    definite metrics of the run's shapes."""
    import numpy as np

    from flowtheory.errors import InvalidFileError
    from numerics.cy.kernel_flow import FlowResult

    data = open_checkpoint(path, CHECKPOINT_FORMAT, ("train_sigma", "test_sigma", "step_sizes", "rejected_steps", "g_train", "g_test"))
    require_same_parameters(path, checkpoint_parameters(path, data), parameters, free=("steps",))
    done = data["step_sizes"].shape[0] if data["step_sizes"].ndim == 1 else -1
    for name, length in (("step_sizes", done), ("train_sigma", done + 1), ("test_sigma", done + 1)):
        v = data[name]
        if done < 1 or v.dtype.kind != "f" or v.shape != (length,) or not np.all(np.isfinite(v)) or not np.all(v > 0):
            raise InvalidFileError(path, f"expected {max(length, 1)} finite positive numbers, got {v.dtype} {v.shape}", field=name)
    if done > steps:
        raise CliError(f"--resume: the checkpoint in {path.parent} is at step {done}, beyond --steps {steps}; ask for --steps >= {done}")
    rejected = data["rejected_steps"]
    if rejected.shape != () or rejected.dtype.kind not in "iu" or rejected < 0:
        raise InvalidFileError(path, "expected a non-negative integer", field="rejected_steps")
    for name, n in (("g_train", parameters["n_train"]), ("g_test", parameters["n_test"])):
        g = data[name]
        if g.dtype.kind != "c" or g.shape != (n, 3, 3) or not np.all(np.isfinite(g)):
            raise InvalidFileError(path, f"expected finite complex ({n}, 3, 3) metrics, got {g.dtype} {g.shape}", field=name)
        if not (np.allclose(g, np.conj(np.swapaxes(g, 1, 2))) and np.all(np.linalg.eigvalsh(g)[:, 0] > 0)):
            raise InvalidFileError(path, "not Hermitian positive definite metrics", field=name)
    return FlowResult(list(data["train_sigma"]), list(data["test_sigma"]), int(rejected), list(data["step_sizes"]), data["g_train"], data["g_test"])


def run_flow_command(args: argparse.Namespace) -> int:
    n_train = args.n_train if args.n_train is not None else DEFAULTS[args.kernel]["n_train"]
    if args.compare_exact and not args.clustered:
        raise CliError("--compare-exact compares a --clustered run with the exact one; add --clustered")
    if args.clustered and args.clusters > n_train // args.batches:
        raise CliError(f"--clusters {args.clusters} exceeds the train points per batch ({n_train} // {args.batches})")
    mode = prepare_output_folder(args.out, FILES, overwrite=args.overwrite, resume=args.resume)
    import jax

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_flow import FlowSettings, kernel_apply, point_set, run_flow
    from numerics.cy.kernels import kernel_from
    from numerics.cy.sampling import sample_in_chart
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import write_record

    lr = args.lr if args.lr is not None else DEFAULTS[args.kernel]["lr"]
    settings = FlowSettings(lr=lr, loss=args.loss, kappa=args.kappa, normalisation=args.normalisation)
    kernel_values = kernel_parameters(args)
    kernel = kernel_from(args.kernel, reading=args.reading, **kernel_values)
    parameters = {
        "kernel": args.kernel, "kernel_parameters": {**kernel_values, **({"reading": args.reading} if args.kernel == "gaussian" else {})},
        "n_train": n_train, "n_test": args.n_test, "steps": args.steps, "lr": lr, "loss": args.loss, "kappa": args.kappa,
        "normalisation": args.normalisation, "application": "clustered" if args.clustered else "exact",
        "batches": args.batches if args.clustered else None, "clusters": args.clusters if args.clustered else None,
        "block": args.block, "chart": [0, 1], "seed": args.seed,
    }
    checkpoint = args.out / CHECKPOINT
    start, resumed_from = None, None
    if mode == "resume":
        start = _load_checkpoint(checkpoint, parameters, args.steps)
        resumed_from = {"file": str(checkpoint), "step": len(start.step_sizes)}
        say(f"resumed from {checkpoint} at step {resumed_from['step']} of {args.steps}")
    surface = fermat_quintic()
    key = jax.random.PRNGKey(args.seed)
    progress = not args.json
    train_sample = sample_in_chart(surface, n_train, jax.random.fold_in(key, 0), 0, 1, progress=progress)
    test_sample = sample_in_chart(surface, args.n_test, jax.random.fold_in(key, 1), 0, 1, progress=progress)
    train = point_set(surface, train_sample.points, train_sample.line_ids)
    test = point_set(surface, test_sample.points, test_sample.line_ids)
    clusters = (args.batches, args.clusters) if args.clustered else None
    apply = kernel_apply(kernel, train, test, clusters=clusters, block=args.block, progress=progress)
    with progress_bar(f"kernel flow ({args.kernel})", total=args.steps, enabled=progress) as advance:
        if start is not None:
            advance(len(start.step_sizes))
        result = run_flow(apply, train, test, settings, args.steps, on_step=lambda *_: advance(), resume_from=start,
                          on_result=lambda partial: _save_checkpoint(checkpoint, partial, parameters))
    comparison = None
    if args.compare_exact:
        with progress_bar(f"exact flow for comparison ({args.kernel})", total=args.steps, enabled=progress) as advance:
            exact = run_flow(kernel_apply(kernel, train, test, block=args.block), train, test, settings, args.steps, on_step=lambda *_: advance())
        comparison = {
            "exact": {"train_sigma": exact.train_sigma, "test_sigma": exact.test_sigma, "train_gain": exact.train_gain,
                      "test_gain": exact.test_gain, "rejected_steps": exact.rejected_steps},
            "sigma_ratio_clustered_to_exact": {"train": result.train_sigma[-1] / exact.train_sigma[-1],
                                               "test": result.test_sigma[-1] / exact.test_sigma[-1]},
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
        "resumed_from": resumed_from,
        "comparison": comparison,
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
    if result["comparison"] is not None:
        exact = result["comparison"]["exact"]
        ax.semilogy(steps, exact["train_sigma"], "--", color="C0", label=f"train, exact kernel (gain {exact['train_gain']:.3g})")
        ax.semilogy(steps, exact["test_sigma"], "--", color="C1", label=f"test, exact kernel (gain {exact['test_gain']:.3g})")
    ax.set_xlabel("flow step n of (3.5)")
    ax.set_ylabel("σ-measure (B.11), dimensionless")
    p = result["parameters"]
    application = p["application"] if p["application"] != "clustered" else f"clustered: {p['batches']} batches, {p['clusters']} clusters"
    kernel = "".join(f", {k} {v:.4g}" if isinstance(v, float) else f", {k} {v}" for k, v in p["kernel_parameters"].items())
    ax.set_title(f"{result['kernel']} kernel ({application}{kernel}), Δt {p['lr']:.4g}\n"
                 f"{p['n_train']} train, {p['n_test']} test points in chart {tuple(p['chart'])}, seed {p['seed']}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(result: dict) -> None:
    from rich.console import Console

    console = Console()
    p = result["parameters"]
    extra = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in p["kernel_parameters"].items())
    console.print(f"{result['kernel']} kernel ({p['application']}{', ' + extra if extra else ''}), {p['n_train']} train / {p['n_test']} test points,"
                  f" {p['steps']} steps, lr {p['lr']:g}, {p['loss']} {p['normalisation']} loss")
    console.print(f"train σ {result['train_sigma'][0]:.4g} -> {result['train_sigma'][-1]:.4g}  (gain {result['train_gain']:.4g})")
    console.print(f"test  σ {result['test_sigma'][0]:.4g} -> {result['test_sigma'][-1]:.4g}  (gain {result['test_gain']:.4g})")
    console.print(f"rejected steps (step halvings): {result['rejected_steps']}")
    if result["comparison"] is not None:
        exact, ratio = result["comparison"]["exact"], result["comparison"]["sigma_ratio_clustered_to_exact"]
        console.print(f"exact flow on the same points: train gain {exact['train_gain']:.4g}, test gain {exact['test_gain']:.4g};"
                      f" clustering multiplies the final σ by {ratio['train']:.4g} (train), {ratio['test']:.4g} (test)")
    console.print(f"figure: {result['figure']}")
