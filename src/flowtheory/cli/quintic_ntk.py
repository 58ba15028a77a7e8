"""``flowtheory quintic ntk-evolution``: the metric-NTK of a training network moves (section 3.3, figure 4).

``ntk-evolution [--epochs E] [--at 0,1,2,5,10,...] [--widths 32,64,128,...] [--n-kernel K] [--n-train N]
[--n-val M] [--model phi] [--depth 3] [--activation gelu] [--lr LR] [--batch B] [--init {standard,fs}]
[--spectrum-normalisation {mean,none}] [--manifold …] [--psi P] [--seed S] [--out DIR] [--overwrite] [--json]``

For each width, trains the network (:mod:`numerics.cy.metric_training`) and follows its empirical
metric-NTK on the first ``K`` validation points at the epochs ``--at`` (:mod:`numerics.cy.metric_ntk`):
spectrum, Wasserstein distance to epoch 0's spectrum (each divided by its mean eigenvalue unless
``--spectrum-normalisation none``), relative change and alignment.  Then the final relative change and the
validation gain against width with fitted log–log slopes (section 2.2: the kernel freezes as the
width grows).  Writes ``DIR/quintic_ntk.json`` (schema ``flowtheory.quintic.ntk/1``: ``widths`` (per
width: ``epochs``, ``spectra``, ``wasserstein``, ``relative_change``, ``alignment``, ``val_sigma``,
``train_sigma``, ``seconds_per_epoch``), ``width_fit``, ``parameters``, ``run_record``) after every
width, ``DIR/quintic_ntk.png`` (figure 4 left and right, and the width study) and ``DIR/quintic_ntk.md``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_float, bounded_int, emit, number_list, prepare_output_folder, seed
from flowtheory.cli.quintic_train import add_manifold_arguments, surface_from_arguments

NTK_FORMAT = "flowtheory.quintic.ntk/1"
FILES = ("quintic_ntk.json", "quintic_ntk.png", "quintic_ntk.md")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ntk-evolution", help="the metric-NTK of a training network: spectra, Wasserstein distance, change against width (figure 4)")
    p.add_argument("--epochs", type=bounded_int(1, 10_000), default=10, help="epochs of training (default 10)")
    p.add_argument("--at", type=number_list(int, 0, 10_000, "epoch"), default=[0, 1, 2, 5, 10, 25, 50], help="epochs the kernel is measured at (default 0,1,2,5,10,25,50; those beyond --epochs are skipped)")
    p.add_argument("--widths", type=number_list(int, 1, 4096, "width"), default=[32, 64, 128, 256], help="hidden widths (default 32,64,128,256)")
    p.add_argument("--n-kernel", type=bounded_int(1, 2000), default=100, help="validation points the kernel is followed on (default 100: a 900 x 900 kernel)")
    p.add_argument("--n-train", type=bounded_int(2, 2_000_000), default=10_000, help="train points (default 10^4)")
    p.add_argument("--n-val", type=bounded_int(2, 2_000_000), default=2_000, help="validation points (default 2000)")
    p.add_argument("--model", choices=("phi",), default="phi", help="the φ-model (points in all charts)")
    p.add_argument("--depth", type=bounded_int(1, 16), default=3, help="hidden layers (default 3)")
    p.add_argument("--activation", choices=("gelu", "relu"), default="gelu", help="activation (default gelu)")
    p.add_argument("--lr", type=bounded_float(0, 1.0, low_open=True), default=1e-3, help="Adam's learning rate (default 1e-3)")
    p.add_argument("--batch", type=bounded_int(2, 2_000_000), default=64, help="points per step (default 64)")
    p.add_argument("--init", choices=("standard", "fs"), default="standard", help="every layer random (default: the NTK theory's setting) or the output layer zero")
    p.add_argument("--spectrum-normalisation", choices=("mean", "none"), default="mean",
                   help="spectra divided by their mean eigenvalue before the Wasserstein distance (default) or not")
    add_manifold_arguments(p)
    p.add_argument("--seed", type=seed, default=0, help="seed of points, initialisation and batches (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_ntk_out"), help="output folder (default quintic_ntk_out)")
    p.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_ntk_command)


def run_ntk_command(args: argparse.Namespace) -> int:
    if args.n_kernel > args.n_val:
        raise CliError(f"--n-kernel {args.n_kernel} exceeds --n-val {args.n_val}")
    if args.batch > args.n_train:
        raise CliError(f"--batch {args.batch} exceeds --n-train {args.n_train}")
    surface, surface_parameters = surface_from_arguments(args)
    prepare_output_folder(args.out, FILES, overwrite=args.overwrite)
    import jax

    from numerics.cy.metric_models import MetricNetwork
    from numerics.cy.metric_ntk import kernel_points, ntk_evolution
    from numerics.cy.metric_training import TrainSettings, training_set
    from numerics.cy.sampling import sample_points
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import write_record
    from numerics.stats import fit_loglog_slope

    key = jax.random.PRNGKey(args.seed)
    progress = not args.json
    train_set = training_set(surface, sample_points(surface, args.n_train, jax.random.fold_in(key, 0), progress=progress).points)
    val_set = training_set(surface, sample_points(surface, args.n_val, jax.random.fold_in(key, 1), progress=progress).points)
    points = kernel_points(val_set, args.n_kernel)
    settings = TrainSettings(epochs=args.epochs, batch=args.batch, lr=args.lr, init=args.init)
    parameters = {k: getattr(args, k) for k in ("epochs", "at", "widths", "n_kernel", "n_train", "n_val", "model", "depth", "activation",
                                               "lr", "batch", "init", "spectrum_normalisation", "seed")} | surface_parameters
    out = {"widths": {}, "parameters": parameters}
    for width in args.widths:
        net = MetricNetwork(surface.n_ambient, args.model, width, args.depth, args.activation)
        with progress_bar(f"width {width}: training, kernel at epochs {','.join(map(str, args.at))}", total=args.epochs, enabled=progress) as advance:
            out["widths"][str(width)] = ntk_evolution(net, surface, train_set, val_set, settings, jax.random.fold_in(key, 2), points=points,
                                                      at_epochs=args.at, normalisation=args.spectrum_normalisation, on_epoch=lambda _: advance())
        write_record(args.out / "quintic_ntk.json", NTK_FORMAT, {**out, "run_record": run_record(args.seed, parameters)})
    if len(args.widths) >= 3:
        ws = [float(w) for w in args.widths]
        change = [out["widths"][str(w)]["relative_change"][-1] for w in args.widths]
        gain = [out["widths"][str(w)]["val_sigma"][0] / out["widths"][str(w)]["val_sigma"][-1] for w in args.widths]
        fits = {name: fit_loglog_slope(ws, values) for name, values in (("relative_change", change), ("val_gain", gain))}
        out["width_fit"] = {name: {"slope": f.slope, "slope_se": f.slope_se, "prefactor": math.exp(f.intercept)} for name, f in fits.items()}
    else:
        out["width_fit"] = {"reason": "fewer than 3 widths: no fit"}
    out["figure"] = str(args.out / "quintic_ntk.png")
    out["report"] = str(args.out / "quintic_ntk.md")
    out["run_record"] = run_record(args.seed, parameters)
    write_record(args.out / "quintic_ntk.json", NTK_FORMAT, out)
    _plot(out, args.out / "quintic_ntk.png")
    _write_report(out, args.out / "quintic_ntk.md")
    emit(args.json, out, _render)
    return 0


def _rows(out: dict) -> list[tuple[str, ...]]:
    rows = []
    for width, r in out["widths"].items():
        rows.append((width, str(r["epochs"][-1]), f"{r['relative_change'][-1]:.3g}", f"{r['alignment'][-1]:.3f}", f"{r['wasserstein'][-1]:.3g}",
                     f"{r['val_sigma'][0]:.4f} → {r['val_sigma'][-1]:.4f}"))
    return rows


def _write_report(out: dict, path: Path) -> None:
    from numerics.io.provenance import write_text_atomic

    p = out["parameters"]
    fit = out["width_fit"]
    lines = [
        "# The metric-NTK moves during training (section 3.3, figure 4)",
        "",
        f"{p['model']} model, depth {p['depth']}, {p['activation']}, init {p['init']}, Adam {p['lr']:g}, batch {p['batch']}, "
        f"{p['n_train']} train / {p['n_val']} validation points on the {p['manifold']}, seed {p['seed']}; kernel on {p['n_kernel']} validation points, "
        f"spectra normalised by {'their mean eigenvalue' if p['spectrum_normalisation'] == 'mean' else 'nothing'} for the Wasserstein distance.",
        "",
        "| width | last epoch | ‖Θ−Θ₀‖/‖Θ₀‖ | alignment | Wasserstein | validation σ |",
        "|---|---|---|---|---|---|",
        *["| " + " | ".join(row) + " |" for row in _rows(out)],
        "",
        ("Against width: relative change ∝ width^{:.2f} ± {:.2f}, validation gain ∝ width^{:.2f} ± {:.2f} (section 2.2 expects the change to fall "
         "with width: the kernel freezes in the infinite-width limit).".format(
             fit["relative_change"]["slope"], fit["relative_change"]["slope_se"], fit["val_gain"]["slope"], fit["val_gain"]["slope_se"])
         if "relative_change" in fit else fit["reason"]),
        "",
        "Paper (figure 4): a clear shift of the spectrum between epochs 0 and 50 and a Wasserstein distance that grows with the epoch.",
        "",
        f"![figure 4]({Path(out['figure']).name})",
        "",
    ]
    write_text_atomic(path, "\n".join(lines))


def _plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from numerics.io.provenance import save_figure_atomic

    p = out["parameters"]
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15.0, 4.6))
    fig.suptitle(f"metric-NTK during training: {p['model']} model, depth {p['depth']}, {p['activation']}, init {p['init']}, "
                 f"Adam {p['lr']:g}, batch {p['batch']}, {p['n_train']} train points on the {p['manifold']}, "
                 f"kernel on {p['n_kernel']} validation points, seed {p['seed']}", fontsize=10)
    shown = str(p["widths"][len(p["widths"]) // 2])
    r = out["widths"][shown]
    for index, label in ((0, "epoch 0"), (-1, f"epoch {r['epochs'][-1]}")):
        spec = np.maximum(np.asarray(r["spectra"][index]), 1e-300)
        left.hist(np.log10(spec[spec > 1e-12 * spec.max()]), bins=40, alpha=0.6, label=label)
    left.set_xlabel("log10 eigenvalue of the metric-NTK")
    left.set_ylabel("number of eigenvalues")
    left.set_title(f"spectrum (figure 4 left), width {shown}", fontsize=10)
    left.legend()
    for width, rw in out["widths"].items():
        middle.plot(rw["epochs"], rw["wasserstein"], "o-", ms=4, label=f"width {width}")
    middle.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    middle.set_xlabel("epoch")
    middle.set_ylabel("Wasserstein distance to epoch 0, " + ("dimensionless" if p["spectrum_normalisation"] == "mean" else "eigenvalue units"))
    middle.set_title(f"figure 4 right ({'spectra / mean eigenvalue' if p['spectrum_normalisation'] == 'mean' else 'raw spectra'})", fontsize=10)
    middle.legend()
    widths = [int(w) for w in out["widths"]]
    series = {
        "relative_change": ("o-", "‖Θ−Θ₀‖/‖Θ₀‖ at the end", [out["widths"][str(w)]["relative_change"][-1] for w in widths]),
        "val_gain": ("s-", "validation gain σ(0)/σ(end)", [out["widths"][str(w)]["val_sigma"][0] / out["widths"][str(w)]["val_sigma"][-1] for w in widths]),
    }
    fit = out["width_fit"]
    for (name, (style, label, values)), colour in zip(series.items(), ("C0", "C1")):
        right.loglog(widths, values, style, color=colour, label=label)
        if name in fit:
            f = fit[name]
            right.loglog(widths, [f["prefactor"] * w ** f["slope"] for w in widths], ":", color=colour,
                         label=rf"fit $\propto$ width$^{{{f['slope']:.2f} \pm {f['slope_se']:.2f}}}$")
    right.set_xticks(widths, [str(w) for w in widths])
    right.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_xlabel("hidden width")
    right.set_ylabel("dimensionless")
    right.set_title(f"against width after {p['epochs']} epochs", fontsize=10)
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="metric-NTK during training")
    for column in ("width", "last epoch", "‖Θ−Θ₀‖/‖Θ₀‖", "alignment", "Wasserstein", "validation σ"):
        table.add_column(column)
    for row in _rows(out):
        table.add_row(*row)
    console = Console()
    console.print(table)
    fit = out["width_fit"]
    if "relative_change" in fit:
        console.print(f"relative change ∝ width^{fit['relative_change']['slope']:.2f} ± {fit['relative_change']['slope_se']:.2f}; "
                      f"validation gain ∝ width^{fit['val_gain']['slope']:.2f} ± {fit['val_gain']['slope_se']:.2f}")
    console.print(f"report: {out['report']}   figure: {out['figure']}")
