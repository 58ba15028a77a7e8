"""``flowtheory quintic compare``: finite network, linearised network, frozen kernels and Donaldson (section 3.3).

``compare [--epochs E] [--n-train N] [--n-val M] [--width W] [--depth D] [--activation A] [--lr LR] [--batch B]
[--init {standard,fs}] [--flow-points F] [--flow-steps S] [--k 1,2,3,4] [--manifold …] [--psi P] [--seed S]
[--out DIR] [--resume | --overwrite] [--json]``

The learners of :mod:`numerics.cy.learner_comparison` on the same points: the φ-model network trained
on the σ-loss, its linearised twin (the frozen metric-NTK of the same architecture) trained alike,
the flow (3.5) from Fubini–Study on ``F`` train / ``F`` test points of chart (0, 1) with the
metric-NTK frozen at the initial and at the trained parameters, and Donaldson's balanced metrics.
Writes ``DIR/quintic_compare.json`` (schema ``flowtheory.quintic.compare/1``: ``stages`` — ``finite``,
``linearised``, ``kernel_flow``, ``donaldson`` as in :func:`numerics.cy.learner_comparison.compare_learners`
—, ``summary`` (the paper's claims against the measured figures), ``parameters``, ``run_record``)
after every stage, with the trained parameters in ``DIR/quintic_compare.params.npz``: ``--resume``
keeps the stages done.  Then ``DIR/quintic_compare.png`` (σ per epoch for the networks with the
balanced metrics' σ_k, σ per step of the two kernel flows) and ``DIR/quintic_compare.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flowtheory.cli.output import (CliError, bounded_float, bounded_int, checkpoint_parameters, emit, number_list, open_checkpoint,
                                   prepare_output_folder, require_same_parameters, restore_leaves, say, seed)

COMPARE_FORMAT = "flowtheory.quintic.compare/1"
PARAMS_FORMAT = "flowtheory.quintic.compare-params/1"
PARAMS = "quintic_compare.params.npz"
FILES = ("quintic_compare.json", "quintic_compare.png", "quintic_compare.md", PARAMS)
LEARNERS = {"finite": "finite network", "linearised": "linearised twin (frozen initial kernel)"}


def register(sub: argparse._SubParsersAction) -> None:
    from flowtheory.cli.quintic_donaldson import K_MAX
    from flowtheory.cli.quintic_train import add_manifold_arguments

    p = sub.add_parser("compare", help="finite network vs linearised network vs initial and learned kernels vs Donaldson (section 3.3)")
    p.add_argument("--epochs", type=bounded_int(1, 10_000), default=10, help="epochs of both networks (default 10)")
    p.add_argument("--n-train", type=bounded_int(2, 2_000_000), default=10_000, help="train points of the networks and Donaldson's T-operator (default 10^4)")
    p.add_argument("--n-val", type=bounded_int(2, 2_000_000), default=2_000, help="validation points of all learners (default 2000)")
    p.add_argument("--width", type=bounded_int(1, 4096), default=64, help="hidden width (default 64, the paper's)")
    p.add_argument("--depth", type=bounded_int(1, 16), default=3, help="hidden layers (default 3, the paper's)")
    p.add_argument("--activation", choices=("gelu", "relu"), default="gelu", help="activation (default gelu)")
    p.add_argument("--lr", type=bounded_float(0, 1.0, low_open=True), default=1e-3, help="Adam's learning rate (default 1e-3)")
    p.add_argument("--batch", type=bounded_int(2, 2_000_000), default=64, help="points per step (default 64)")
    p.add_argument("--init", choices=("standard", "fs"), default="standard", help="every layer random (default: the NTK theory's setting) or the output layer zero")
    p.add_argument("--flow-points", type=bounded_int(2, 20_000), default=500, help="train and test points (each) of the kernel flows (3.5) in chart (0, 1) (default 500)")
    p.add_argument("--flow-steps", type=bounded_int(1, 10_000), default=50, help="steps of the kernel flows (default 50, the paper's)")
    p.add_argument("--k", type=number_list(int, 1, K_MAX, "k"), default=[1, 2, 3, 4], help=f"degrees of Donaldson's balanced metrics, 1 to {K_MAX} (default 1,2,3,4)")
    add_manifold_arguments(p)
    p.add_argument("--seed", type=seed, default=0, help="seed of points, initialisation and batches (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_compare_out"), help="output folder (default quintic_compare_out)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue a run in --out: the stages already done are kept")
    again.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_compare_command)


def _validate(path: Path, content: dict) -> None:
    from numerics.cy.learner_comparison import STAGES
    from numerics.io.records import field_error

    stages = content.get("stages")
    if not isinstance(stages, dict) or not set(stages) <= set(STAGES) or not all(isinstance(v, dict) for v in stages.values()):
        raise field_error(path, "stages", f"expected an object of stage results among {STAGES}")
    if not isinstance(content.get("parameters"), dict):
        raise field_error(path, "parameters", "expected an object")


def _save_params(path: Path, params, parameters: dict) -> None:
    import jax
    import numpy as np

    from numerics.io.provenance import save_npz_atomic

    leaves = jax.tree_util.tree_leaves(params)
    save_npz_atomic(path, format=np.array(PARAMS_FORMAT), parameters=np.array(json.dumps(parameters, sort_keys=True)),
                    **{f"leaf_{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)})


def _load_params(path: Path, parameters: dict, template):
    data = open_checkpoint(path, PARAMS_FORMAT, ())
    require_same_parameters(path, checkpoint_parameters(path, data), parameters)
    return restore_leaves(path, data, template)


def run_compare_command(args: argparse.Namespace) -> int:
    from flowtheory.cli.quintic_donaldson import require_points_per_section
    from flowtheory.cli.quintic_train import surface_from_arguments

    if args.batch > args.n_train:
        raise CliError(f"--batch {args.batch} exceeds --n-train {args.n_train}")
    surface, surface_parameters = surface_from_arguments(args)
    require_points_per_section(surface, args.k, args.n_train)
    mode = prepare_output_folder(args.out, FILES, overwrite=args.overwrite, resume=args.resume)
    import jax

    from numerics.cy.kernel_flow import point_set
    from numerics.cy.learner_comparison import STAGES, Comparison, ComparisonSettings, compare_learners, summary
    from numerics.cy.metric_training import training_set
    from numerics.cy.sampling import sample_in_chart, sample_points
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import read_record, write_record

    settings = ComparisonSettings(width=args.width, depth=args.depth, activation=args.activation, epochs=args.epochs, batch=args.batch,
                                  lr=args.lr, init=args.init, flow_steps=args.flow_steps, donaldson_k=tuple(args.k))
    parameters = {**settings.as_dict(), "n_train": args.n_train, "n_val": args.n_val, "flow_points": args.flow_points,
                  **surface_parameters, "seed": args.seed}
    record_path, params_path = args.out / "quintic_compare.json", args.out / PARAMS
    key = jax.random.PRNGKey(args.seed)
    start = Comparison()
    if mode == "resume" and record_path.exists():
        saved = read_record(record_path, COMPARE_FORMAT, _validate)
        require_same_parameters(record_path, saved["parameters"], parameters)
        start.stages = dict(saved["stages"])
        if "finite" in start.stages:
            template = settings.network(surface.n_ambient).init(jax.random.PRNGKey(0))
            start.trained_params = _load_params(params_path, parameters, template)
        say(f"resumed from {record_path}: kept {', '.join(start.stages) or 'no stages'}")
    progress = not args.json
    draw = lambda n, index: sample_points(surface, n, jax.random.fold_in(key, index), progress=progress).points  # noqa: E731
    train_set, val_set = training_set(surface, draw(args.n_train, 0)), training_set(surface, draw(args.n_val, 1))
    flow = [sample_in_chart(surface, args.flow_points, jax.random.fold_in(key, index), 0, 1, progress=progress) for index in (3, 4)]
    flow_train, flow_test = (point_set(surface, s.points, s.line_ids) for s in flow)
    units = {"finite": args.epochs, "linearised": args.epochs, "kernel_flow": 2, "donaldson": len(args.k)}

    def on_stage(stage, comparison):
        if stage == "finite":
            _save_params(params_path, comparison.trained_params, parameters)
        write_record(record_path, COMPARE_FORMAT, {"stages": comparison.stages, "parameters": parameters,
                                                   "run_record": run_record(args.seed, parameters)})

    with progress_bar("finite / linearised / kernel flows / Donaldson", total=sum(units.values()), enabled=progress) as advance:
        advance(sum(units[s] for s in start.stages))
        result = compare_learners(surface, train_set, val_set, flow_train, flow_test, settings, jax.random.fold_in(key, 2),
                                  resume_from=start, on_stage=on_stage, on_progress=lambda stage: advance())
    out = {"stages": {s: result.stages[s] for s in STAGES}, "summary": summary(result.stages), "parameters": parameters,
           "figure": str(args.out / "quintic_compare.png"), "report": str(args.out / "quintic_compare.md"),
           "run_record": run_record(args.seed, parameters)}
    write_record(record_path, COMPARE_FORMAT, out)
    plot_comparison(out, args.out / "quintic_compare.png")
    _write_report(out, args.out / "quintic_compare.md")
    emit(args.json, out, _render)
    return 0


def title(p: dict) -> str:
    """The run in one line: network, points, epochs, seed."""
    return (f"{p['model']} model {p['depth']}×{p['width']} {p['activation']} (init {p['init']}) on the {p['manifold']}: "
            f"{p['n_train']} train / {p['n_val']} validation points, {p['epochs']} epochs, Adam {p['lr']:g}, batch {p['batch']}; "
            f"flow (3.5) on {p['flow_points']} + {p['flow_points']} chart points, {p['flow_steps']} steps; seed {p['seed']}")


def _rows(out: dict) -> list[tuple[str, ...]]:
    s = out["stages"]
    rows = []
    for stage, name in LEARNERS.items():
        r = s[stage]
        rows.append((name, f"{r['val_sigma'][0]:.4f} ± {r['val_sigma_initial_stderr']:.4f}", f"{r['val_sigma_final']:.4f} ± {r['val_sigma_final_stderr']:.4f}",
                     f"{r['val_gain']:.3g} ± {r['val_gain_stderr']:.2g}", f"{r['train_gain']:.3g}"))
    for name, r in s["kernel_flow"].items():
        rows.append((f"flow (3.5), {name} metric-NTK (Δt {r['lr']:g})", f"{r['test_sigma'][0]:.4f} ± {r['test_sigma_initial_stderr']:.4f}",
                     f"{r['test_sigma'][-1]:.4f} ± {r['test_sigma_final_stderr']:.4f}", f"{r['test_gain']:.3g} ± {r['test_gain_stderr']:.2g}",
                     f"{r['train_gain']:.3g}"))
    d = s["donaldson"]
    for k, sigma, se in zip(d["k"], d["val_sigma"], d["val_sigma_stderr"]):
        rows.append((f"Donaldson balanced metric, k = {k}", "", f"{sigma:.4f} ± {se:.4f}", "", ""))
    return rows


COLUMNS = ("learner", "σ before", "σ after (validation / test)", "validation/test gain", "train gain")


def _write_report(out: dict, path: Path) -> None:
    from numerics.io.provenance import write_text_atomic

    lines = [
        "# Finite networks against frozen kernels and balanced metrics (section 3.3)",
        "",
        title(out["parameters"]) + ".",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *["| " + " | ".join(row) + " |" for row in _rows(out)],
        "",
        "The finite networks' σ is measured on validation points of all charts (the network's σ before training is that of its",
        "initial metric); the kernel flows' on test points of chart (0, 1), from Fubini–Study. Errors: one Monte-Carlo standard error.",
        "",
        "## The paper's claims",
        "",
        "| claim | paper | measured | holds |",
        "|---|---|---|---|",
        *[f"| {r['claim']} | {r['paper']} | {r['measured']} | {'yes' if r['holds'] else 'no'} |" for r in out["summary"]],
        "",
        f"![comparison]({Path(out['figure']).name})",
        "",
    ]
    write_text_atomic(path, "\n".join(lines))


def plot_comparison(out: dict, path: Path) -> None:
    """σ per epoch for the finite and linearised networks with Donaldson's σ_k; σ per step of the kernel flows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numerics.io.provenance import save_figure_atomic

    s = out["stages"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13.0, 4.6))
    for stage, marker in (("finite", "o-"), ("linearised", "s-")):
        r = s[stage]
        left.semilogy(range(len(r["val_sigma"])), r["val_sigma"], marker, ms=3, label=f"{LEARNERS[stage]}, validation (gain {r['val_gain']:.3g})")
        left.semilogy(range(len(r["train_sigma"])), r["train_sigma"], marker[0] + ":", ms=2, alpha=0.6, label=f"{LEARNERS[stage]}, train")
    d = s["donaldson"]
    for k, sigma, colour in zip(d["k"], d["val_sigma"], plt.cm.Greys(list(0.35 + 0.6 * i / max(1, len(d["k"]) - 1) for i in range(len(d["k"]))))):
        left.axhline(sigma, color=colour, ls="--", lw=1, label=f"Donaldson k = {k}")
    left.set_xlabel("epoch")
    left.set_ylabel("σ-measure (B.11), dimensionless")
    left.set_title("networks (all charts) against balanced metrics")
    left.legend(fontsize=7)
    for (name, r), colour in zip(s["kernel_flow"].items(), ("C2", "C3")):
        right.semilogy(r["test_sigma"], "-", color=colour, label=f"{name} kernel, test (gain {r['test_gain']:.3g})")
        right.semilogy(r["train_sigma"], ":", color=colour, label=f"{name} kernel, train (gain {r['train_gain']:.3g})")
    right.set_xlabel("flow step (3.5)")
    right.set_ylabel("σ-measure (B.11), dimensionless")
    right.set_title("frozen metric-NTK as the kernel of the flow (chart (0, 1))")
    right.legend(fontsize=7)
    fig.suptitle(title(out["parameters"]), fontsize=8)
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="section 3.3: finite, linearised, frozen kernels, balanced metrics")
    for column in COLUMNS:
        table.add_column(column)
    for row in _rows(out):
        table.add_row(*row)
    console = Console()
    console.print(title(out["parameters"]))
    console.print(table)
    for r in out["summary"]:
        console.print(f"[{'green' if r['holds'] else 'red'}]{'holds' if r['holds'] else 'does not hold'}[/]: {r['claim']} — {r['measured']}")
    console.print(f"report: {out['report']}   figure: {out['figure']}")
