"""``flowtheory quintic train``: a finite network learns the Calabi–Yau metric (section 3.3).

``train [--model {phi,mult,free}] [--width 64] [--depth 3] [--activation {gelu,relu}] [--epochs E]
[--n-train N] [--n-val M] [--linearised] [--lr LR] [--batch B] [--kahler-weight K] [--transition-weight T] [--ricci-weight R]
[--init {fs,standard}] [--manifold {quintic,quartic,cubic}] [--psi P] [--seed S] [--out DIR] [--resume | --overwrite] [--json]``

Trains a metric network (:mod:`numerics.cy.metric_models`) with optax Adam
(:mod:`numerics.cy.metric_training`) on the σ-loss plus the weighted Kähler and transition losses
(direct models) and Ricci loss (off by default), each reported per epoch in ``loss_terms``: ``N``
train and ``M`` validation points (all charts for the φ-model, chart (0, 1) for the direct models)
on the Fermat hypersurface, or on the Dwork quintic ``sum z^5 - 5 psi prod z = 0`` with ``--psi``,
σ on both sets before training and after every epoch.  Writes ``DIR/quintic_train.json`` (schema ``flowtheory.quintic.train/1``: ``train_sigma``,
``val_sigma`` per epoch with epoch 0 first, ``val_gain``, ``train_gain``, ``loss_terms``,
``seconds_per_epoch``, ``parameters``, ``resumed_from``, ``run_record``), ``DIR/quintic_train.png``
and, after every epoch, ``DIR/quintic_train.checkpoint.npz`` (parameters, optimiser state,
histories): ``--resume`` continues from it (same parameters; ``--epochs`` may grow).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flowtheory.cli.output import (CliError, bounded_float, bounded_int, checkpoint_parameters, emit, open_checkpoint, prepare_output_folder,
                                   require_same_parameters, restore_leaves, say, seed)

TRAIN_FORMAT = "flowtheory.quintic.train/1"
CHECKPOINT_FORMAT = "flowtheory.quintic.train-checkpoint/1"
CHECKPOINT = "quintic_train.checkpoint.npz"
FILES = ("quintic_train.json", "quintic_train.png", CHECKPOINT)
MANIFOLDS = {"quintic": 4, "quartic": 3, "cubic": 2}


def add_manifold_arguments(p: argparse.ArgumentParser) -> None:
    """``--manifold`` and ``--psi``, shared by the commands of section 3.3 (:func:`surface_from_arguments`)."""
    from flowtheory.cli.quintic_points import PSI_MAX, _complex

    p.add_argument("--manifold", choices=tuple(MANIFOLDS), default="quintic", help="Fermat quintic (default), quartic (K3) or cubic (a torus: the flat metric is exact)")
    p.add_argument("--psi", type=_complex, default=0.0, help=f"Dwork parameter of the quintic, sum z^5 - 5 psi prod z = 0, |psi| <= {PSI_MAX:g} (default 0: Fermat)")


def surface_from_arguments(args: argparse.Namespace):
    """The hypersurface of ``--manifold`` and ``--psi`` and its record ``{"manifold", "psi": [re, im]}``.

    Raises:
        CliError: ``--psi`` with another manifold than the quintic (the Dwork term needs degree = 5 coordinates).
        SingularManifoldError: a singular member (``psi^5 = 1``).
    """
    from numerics.cy.hypersurface import fermat

    psi = complex(args.psi)
    if psi != 0 and args.manifold != "quintic":
        shown = f"{psi.real:g}" if psi.imag == 0 else f"{psi.real:g}{psi.imag:+g}j"
        raise CliError(f"--psi {shown} needs --manifold quintic (the Dwork family sum z^5 - 5 psi prod z); the {args.manifold} is Fermat only")
    return fermat(MANIFOLDS[args.manifold], psi), {"manifold": args.manifold, "psi": [psi.real, psi.imag]}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a metric network on the σ-loss: validation σ per epoch (section 3.3)")
    p.add_argument("--model", choices=("phi", "mult", "free"), default="phi", help="g_FS + ∂∂̄φ (default, Kähler), g_FS + g_FS∘H(NN), or g_FS + H(NN)")
    p.add_argument("--width", type=bounded_int(1, 4096), default=64, help="hidden width (default 64, the paper's)")
    p.add_argument("--depth", type=bounded_int(1, 16), default=3, help="hidden layers (default 3, the paper's)")
    p.add_argument("--activation", choices=("gelu", "relu"), default="gelu", help="activation (default gelu, cymetric's)")
    p.add_argument("--epochs", type=bounded_int(1, 10_000), default=20, help="epochs (default 20)")
    p.add_argument("--n-train", type=bounded_int(2, 2_000_000), default=90_000, help="train points (default 9·10^4, cymetric's)")
    p.add_argument("--n-val", type=bounded_int(2, 2_000_000), default=10_000, help="validation points, never seen by the optimiser (default 10^4)")
    p.add_argument("--lr", type=bounded_float(0, 1.0, low_open=True), default=1e-3, help="Adam's learning rate (default 1e-3)")
    p.add_argument("--batch", type=bounded_int(2, 2_000_000), default=64, help="points per step (default 64, cymetric's)")
    p.add_argument("--kahler-weight", type=bounded_float(0, 1e6), default=1.0, help="weight of the Kähler loss of the direct models (default 1)")
    p.add_argument("--transition-weight", type=bounded_float(0, 1e6), default=1.0, help="weight of the transition loss of the direct models, ‖g_B − T g_A T†‖² between two charts of a point (default 1)")
    p.add_argument("--ricci-weight", type=bounded_float(0, 1e6), default=0.0, help="weight of the Ricci loss, the weighted mean of |R| (default 0: not computed; costly, above all for the φ-model)")
    p.add_argument("--linearised", action="store_true", help="train the linearised twin (first-order Taylor model at the initial parameters: a frozen metric-NTK)")
    p.add_argument("--init", choices=("fs", "standard"), default="fs", help="start at g_FS (output layer zero; default) or with every layer random (LeCun normal)")
    add_manifold_arguments(p)
    p.add_argument("--seed", type=seed, default=0, help="seed of points, initialisation and batches (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_train_out"), help="output folder (default quintic_train_out)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help=f"continue the run in --out from {CHECKPOINT}")
    again.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_train_command)


def _save_checkpoint(path: Path, result, parameters: dict) -> None:
    import jax
    import numpy as np

    from numerics.io.provenance import save_npz_atomic

    leaves = jax.tree_util.tree_leaves((result.params, result.opt_state))
    save_npz_atomic(path, format=np.array(CHECKPOINT_FORMAT), parameters=np.array(json.dumps(parameters, sort_keys=True)),
                    history=np.array(json.dumps({"train_sigma": result.train_sigma, "val_sigma": result.val_sigma,
                                                 "loss_terms": result.loss_terms, "seconds_per_epoch": result.seconds_per_epoch})),
                    **{f"leaf_{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)})


def _load_checkpoint(path: Path, parameters: dict, epochs: int, template):
    """The partial :class:`TrainingResult` of a checkpoint, checked against this run (same parameters
    but epochs, not beyond ``epochs``, leaves of the template's shapes, finite)."""
    import numpy as np

    from flowtheory.errors import InvalidFileError
    from numerics.cy.metric_training import TrainingResult

    data = open_checkpoint(path, CHECKPOINT_FORMAT, ("history",))
    require_same_parameters(path, checkpoint_parameters(path, data), parameters, free=("epochs",))
    history = checkpoint_parameters(path, data, "history")
    done = history.get("seconds_per_epoch")
    if not isinstance(done, list) or not done:
        raise InvalidFileError(path, "expected a non-empty list", field="history.seconds_per_epoch")
    for key in ("train_sigma", "val_sigma"):
        v = history.get(key)
        if not isinstance(v, list) or len(v) != len(done) + 1 or not all(isinstance(x, (int, float)) and np.isfinite(x) and x > 0 for x in v):
            raise InvalidFileError(path, f"expected {len(done) + 1} finite positive numbers", field=f"history.{key}")
    if len(done) > epochs:
        raise CliError(f"--resume: the checkpoint in {path.parent} is at epoch {len(done)}, beyond --epochs {epochs}; ask for --epochs >= {len(done)}")
    params, opt_state = restore_leaves(path, data, template)
    return TrainingResult(history["train_sigma"], history["val_sigma"], history["loss_terms"], done, params, opt_state)


def run_train_command(args: argparse.Namespace) -> int:
    if args.batch > args.n_train:
        raise CliError(f"--batch {args.batch} exceeds --n-train {args.n_train}")
    surface, surface_parameters = surface_from_arguments(args)
    mode = prepare_output_folder(args.out, FILES, overwrite=args.overwrite, resume=args.resume)
    import dataclasses

    import jax

    from numerics.cy.metric_models import LinearisedNetwork, MetricNetwork, count_parameters
    from numerics.cy.metric_training import TrainSettings, train, training_set
    from numerics.cy.sampling import sample_in_chart, sample_points
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import write_record

    net = MetricNetwork(surface.n_ambient, args.model, args.width, args.depth, args.activation)
    settings = TrainSettings(epochs=args.epochs, batch=args.batch, lr=args.lr, kahler_weight=args.kahler_weight, init=args.init,
                             transition_weight=args.transition_weight, ricci_weight=args.ricci_weight)
    train_key = jax.random.fold_in(jax.random.PRNGKey(args.seed), 2)
    if args.linearised:
        net = LinearisedNetwork(net, settings.initial_parameters(net, train_key))
    parameters = {
        **surface_parameters, "model": args.model, "width": args.width, "depth": args.depth, "activation": args.activation,
        "epochs": args.epochs, "n_train": args.n_train, "n_val": args.n_val, "lr": args.lr, "batch": args.batch, "clip": settings.clip,
        "kahler_weight": args.kahler_weight, "transition_weight": args.transition_weight, "ricci_weight": args.ricci_weight, "init": args.init, "linearised": args.linearised, "optimizer": "adam", "seed": args.seed,
        "points": "all charts" if args.model == "phi" else "chart (0, 1)",
    }
    key = jax.random.PRNGKey(args.seed)
    progress = not args.json

    def draw(n, index):
        k = jax.random.fold_in(key, index)
        sample = sample_points(surface, n, k, progress=progress) if args.model == "phi" else sample_in_chart(surface, n, k, 0, 1, progress=progress)
        return training_set(surface, sample.points)

    train_set, val_set = draw(args.n_train, 0), draw(args.n_val, 1)
    checkpoint = args.out / CHECKPOINT
    start, resumed_from = None, None
    if mode == "resume":
        template_params = net.init(jax.random.PRNGKey(0))
        template = (template_params, settings.optimizer().init(template_params))
        start = _load_checkpoint(checkpoint, parameters, args.epochs, template)
        resumed_from = {"file": str(checkpoint), "epoch": len(start.seconds_per_epoch)}
        say(f"resumed from {checkpoint} at epoch {resumed_from['epoch']} of {args.epochs}")
    with progress_bar(f"training the {args.model} model", total=args.epochs, enabled=progress) as advance:
        if start is not None:
            advance(len(start.seconds_per_epoch))

        def on_epoch(result):
            _save_checkpoint(checkpoint, result, parameters)
            advance()

        result = train(net, surface, train_set, val_set, settings, train_key, resume_from=start, on_epoch=on_epoch)
    out = {
        "train_sigma": result.train_sigma,
        "val_sigma": result.val_sigma,
        "train_gain": result.train_gain,
        "val_gain": result.val_gain,
        "loss_terms": result.loss_terms,
        "seconds_per_epoch": result.seconds_per_epoch,
        "n_parameters": count_parameters(result.params),
        "parameters": parameters,
        "network": dataclasses.asdict(net.base if args.linearised else net),
        "resumed_from": resumed_from,
        "figure": str(args.out / "quintic_train.png"),
        "run_record": run_record(args.seed, parameters),
    }
    write_record(args.out / "quintic_train.json", TRAIN_FORMAT, out)
    _plot(out, args.out / "quintic_train.png")
    emit(args.json, out, _render)
    return 0


def _plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numerics.io.provenance import save_figure_atomic

    p = out["parameters"]
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    twin = "linearised " if p["linearised"] else ""
    epochs = range(len(out["val_sigma"]))
    ax.semilogy(epochs, out["train_sigma"], "o-", ms=3, label=f"train ({p['n_train']} points)")
    ax.semilogy(epochs, out["val_sigma"], "s-", ms=3, label=f"validation ({p['n_val']} points, gain {out['val_gain']:.3g})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("σ-measure (B.11), dimensionless")
    ax.set_title(f"{twin}{p['model']} model {p['depth']}×{p['width']} {p['activation']} on the {p['manifold']}, seed {p['seed']}")
    ax.legend()
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(out: dict) -> None:
    from rich.console import Console

    p = out["parameters"]
    console = Console()
    console.print(f"{p['model']} model {p['depth']}×{p['width']} {p['activation']} ({out['n_parameters']} parameters) on the {p['manifold']}:"
                  f" {p['n_train']} train / {p['n_val']} validation points, {p['epochs']} epochs, batch {p['batch']}, Adam {p['lr']:g}")
    console.print(f"validation σ {out['val_sigma'][0]:.4g} -> {out['val_sigma'][-1]:.4g}  (gain {out['val_gain']:.4g})")
    console.print(f"train σ      {out['train_sigma'][0]:.4g} -> {out['train_sigma'][-1]:.4g}  (gain {out['train_gain']:.4g})")
    console.print("loss terms of the last epoch: " + ", ".join(f"{name} {values[-1]:.4g}" for name, values in out["loss_terms"].items()))
    seconds = out["seconds_per_epoch"]
    console.print(f"seconds per epoch: {sum(seconds[1:]) / max(1, len(seconds) - 1):.3g} (first, with compilation: {seconds[0]:.3g})")
    console.print(f"figure: {out['figure']}")
