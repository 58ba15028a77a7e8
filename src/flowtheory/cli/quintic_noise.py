"""``flowtheory quintic noise-analysis``: figure 3 of the paper on our kernel flows, and the extrapolation.

``noise-analysis [--kernels gaussian,delta,relu-ntk] [--n-train N] [--n-noised M] [--noise E1,E2,...]
[--steps 50] [--sizes N1,N2,...] [--repeats R] [--target-gain 100] [--reading …] [--loss …] [--kappa …]
[--normalisation …] [--seed S] [--out DIR] [--resume | --overwrite] [--json]``

For each kernel (its ``quintic flow`` defaults, :data:`flowtheory.cli.quintic_flow.DEFAULTS`): the
flow (3.5) on ``N`` train points for ``--steps`` steps, and its gain on noised copies of ``M`` of
them at every noise level — off the quintic as the paper did, and projected back onto it
(:mod:`numerics.cy.noise_analysis`) — against their mean distance to the train set (figure 3
left).  Then μ(N) on chart-(0, 1) samples of ``--sizes`` with its fit (figure 3 right on the
experiments' point sets, eq. 3.7), and per kernel and variant the distance at which the gain
falls to ``--target-gain`` and the points that (3.7) says that needs, beside the paper's 10^12
(Gaussian) and 10^8 (Delta).  Writes ``DIR/quintic_noise.json`` (schema
``flowtheory.quintic.noise/1``: ``kernels`` (per kernel: ``train_gain``, ``curves`` per variant with
``noise``, ``mean_distance``, ``mean_distance_se``, ``gain``, ``n_points``, ``n_rejected``),
``distances`` (``sizes``, ``mean``, ``min``, ``max``, ``fit``), ``extrapolation``, ``paper``,
``parameters``, ``run_record``) after every kernel — ``--resume`` skips the kernels done —, the
figure ``DIR/quintic_noise.png`` and the report ``DIR/quintic_noise.md``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_float, bounded_int, emit, number_list, prepare_output_folder, require_same_parameters, say, seed
from flowtheory.cli.quintic_flow import DEFAULTS, KERNELS, N_MAX, add_flow_options

NOISE_FORMAT = "flowtheory.quintic.noise/1"
FILES = ("quintic_noise.json", "quintic_noise.png", "quintic_noise.md")
DEFAULT_NOISE = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
DEFAULT_SIZES = (1000, 3000, 10000, 30000)


def _kernel_list(text: str):
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [n for n in names if n not in KERNELS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"kernels must be among {', '.join(KERNELS)}, got {text!r}")
    return list(dict.fromkeys(names))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("noise-analysis", help="gain against distance to the train set, off and on the quintic; μ(N) and the extrapolation (figure 3)")
    p.add_argument("--kernels", type=_kernel_list, default=list(KERNELS), help=f"comma-separated kernels (default {','.join(KERNELS)})")
    p.add_argument("--n-train", type=bounded_int(2, N_MAX), default=None, help="train points (default per kernel, as `quintic flow`)")
    p.add_argument("--n-noised", type=bounded_int(2, N_MAX), default=500, help="train points noised at each level (default 500)")
    p.add_argument("--noise", type=number_list(float, 0.0, 10.0, "noise level"), default=list(DEFAULT_NOISE),
                   help="comma-separated noise levels ε (0 to 10; default " + ",".join(f"{x:g}" for x in DEFAULT_NOISE) + ")")
    p.add_argument("--steps", type=bounded_int(1, 10_000), default=50, help="flow steps (default 50)")
    p.add_argument("--sizes", type=number_list(int, 2, N_MAX, "size"), default=list(DEFAULT_SIZES),
                   help="comma-separated sample sizes of μ(N) on chart (0, 1) (default " + ",".join(map(str, DEFAULT_SIZES)) + ")")
    p.add_argument("--repeats", type=bounded_int(1, 50), default=2, help="independent samples per size (default 2)")
    p.add_argument("--target-gain", type=bounded_float(1, 1e12, low_open=True), default=100.0, help="test gain to extrapolate to (default 100, the finite networks')")
    add_flow_options(p)
    p.add_argument("--seed", type=seed, default=0, help="seed of points and noise (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_noise_out"), help="output folder (default quintic_noise_out)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue a run in --out: the kernels already done are kept")
    again.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_noise_command)


def _validate(path: Path, content: dict) -> None:
    from numerics.io.records import field_error

    kernels = content.get("kernels")
    if not isinstance(kernels, dict) or any(k not in KERNELS or not isinstance(v, dict) or "curves" not in v for k, v in kernels.items()):
        raise field_error(path, "kernels", "expected an object of kernel results with curves")
    if not isinstance(content.get("parameters"), dict):
        raise field_error(path, "parameters", "expected an object")


def run_noise_command(args: argparse.Namespace) -> int:
    if len(args.sizes) < 2 or len(args.sizes) * args.repeats < 3:
        raise CliError("--sizes needs at least two distinct sizes and three samples in all (sizes x --repeats) for the fit of (3.7) and its error")
    mode = prepare_output_folder(args.out, FILES, overwrite=args.overwrite, resume=args.resume)
    import dataclasses

    import jax

    from flowtheory.printed.cy import EXTRAPOLATION, eq_3_7
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_flow import FlowSettings, point_set
    from numerics.cy.kernels import kernel_from
    from numerics.cy.noise_analysis import NoiseCurve, distance_for_gain, nn_scaling_in_chart, noise_analysis, points_for_distance
    from numerics.cy.sampling import sample_in_chart
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import read_record, write_record

    parameters = {
        "kernels": args.kernels, "n_train": args.n_train, "n_noised": args.n_noised, "noise": args.noise, "steps": args.steps,
        "sizes": args.sizes, "repeats": args.repeats, "target_gain": args.target_gain, "reading": args.reading, "loss": args.loss,
        "kappa": args.kappa, "normalisation": args.normalisation, "block": args.block, "seed": args.seed,
    }
    record_path = args.out / "quintic_noise.json"
    done: dict = {}
    if mode == "resume" and record_path.exists():
        saved = read_record(record_path, NOISE_FORMAT, _validate)
        require_same_parameters(record_path, saved["parameters"], parameters, free=("kernels",))
        done = {k: v for k, v in saved["kernels"].items() if k in args.kernels}
        say(f"resumed from {record_path}: kept {', '.join(done) or 'no kernels'}")
    surface = fermat_quintic()
    key = jax.random.PRNGKey(args.seed)
    progress = not args.json
    out = {"kernels": dict(done), "parameters": parameters}
    for index, name in enumerate(KERNELS):
        if name not in args.kernels or name in done:
            continue
        defaults = DEFAULTS[name]
        n_train = args.n_train or defaults["n_train"]
        kernel_key = jax.random.fold_in(key, index)
        sample = sample_in_chart(surface, n_train, jax.random.fold_in(kernel_key, 0), 0, 1, progress=progress)
        train = point_set(surface, sample.points, sample.line_ids)
        values = {k: v for k, v in defaults.items() if k in ("width", "sigma_w", "sigma_b")}
        settings = FlowSettings(lr=defaults["lr"], loss=args.loss, kappa=args.kappa, normalisation=args.normalisation)
        with progress_bar(f"noise analysis ({name})", total=args.steps, enabled=progress) as advance:
            analysis = noise_analysis(surface, kernel_from(name, reading=args.reading, **values), settings, train,
                                      noise_levels=args.noise, n_noised=args.n_noised, steps=args.steps,
                                      key=jax.random.fold_in(kernel_key, 1), block=args.block, on_step=lambda *_: advance())
        out["kernels"][name] = {
            "defaults": defaults, "n_train": n_train, "lr": defaults["lr"], "kernel_parameters": values, "train_gain": analysis.train_gain,
            "train_sigma": analysis.train_sigma, "rejected_steps": analysis.rejected_steps,
            "curves": {v: dataclasses.asdict(c) for v, c in analysis.curves.items()},
        }
        write_record(record_path, NOISE_FORMAT, {**out, "run_record": run_record(args.seed, parameters)})
    ns, stats, fit = nn_scaling_in_chart(surface, args.sizes, jax.random.fold_in(key, 99), repeats=args.repeats)
    sizes = sorted(set(int(n) for n in ns))
    pick = lambda attr: [float(sum(getattr(s, attr) for s, m in zip(stats, ns) if m == n) / args.repeats) for n in sizes]  # noqa: E731
    out["distances"] = {
        "sizes": sizes, "mean": pick("mean"), "min": pick("min"), "max": pick("max"), "chart": [0, 1],
        "fit": {"prefactor": math.exp(fit.intercept), "prefactor_se": math.exp(fit.intercept) * fit.intercept_se,
                "exponent": fit.slope, "exponent_se": fit.slope_se},
        "paper_fit": {"prefactor": 0.968, "exponent": -0.184},
        "paper_mu": {str(n): float(eq_3_7(n)) for n in (1000, 100000)},
    }
    extrapolation = {}
    for name, result in out["kernels"].items():
        extrapolation[name] = {}
        for variant, curve in result["curves"].items():
            distance = distance_for_gain(NoiseCurve(**curve), args.target_gain)
            extrapolation[name][variant] = (
                {"distance": distance, "n_points": points_for_distance(distance, fit)} if distance is not None
                else {"reason": f"the measured gain does not fall through {args.target_gain:g} between two noise levels"}
            )
    out["extrapolation"] = extrapolation
    out["paper"] = {"extrapolation": EXTRAPOLATION, "test_gain_at_1e3_and_1e5": 5.0, "train_gain_at_distance_0": 1e6}
    out["figure"] = str(args.out / "quintic_noise.png")
    out["report"] = str(args.out / "quintic_noise.md")
    out["run_record"] = run_record(args.seed, parameters)
    write_record(record_path, NOISE_FORMAT, out)
    _plot(out, args.out / "quintic_noise.png")
    _write_report(out, args.out / "quintic_noise.md")
    emit(args.json, out, _render)
    return 0


def _extrapolation_rows(out: dict) -> list[tuple[str, ...]]:
    paper = out["paper"]["extrapolation"]
    rows = []
    for name, variants in out["extrapolation"].items():
        for variant, value in variants.items():
            where = "off the quintic (paper's)" if variant == "off" else "on the quintic"
            ours = (f"{value['distance']:.3g}", f"{value['n_points']:.2g}") if "distance" in value else ("not reached", "—")
            theirs = (f"{paper[name]['mean_distance']:g}", f"{paper[name]['n_points']:.0e}") if name in paper else ("—", "—")
            rows.append((name, where, *ours, *theirs))
    return rows


def _write_report(out: dict, path: Path) -> None:
    from numerics.io.provenance import write_text_atomic

    p, dist = out["parameters"], out["distances"]
    fit = dist["fit"]
    lines = [
        "# Kernel flows do not generalise: gain against distance (figure 3, section 3.2.4)",
        "",
        f"Flow (3.5), {p['steps']} steps, {p['loss']} {p['normalisation']} loss, seed {p['seed']}; "
        f"{p['n_noised']} train points noised per level (ε = {', '.join(f'{x:g}' for x in p['noise'])}).",
        "",
        "| kernel | train points | Δt | train gain | gain at the largest noise (off / on) |",
        "|---|---|---|---|---|",
        *[f"| {k} | {v['n_train']} | {v['lr']:.4g} | {v['train_gain']:.3g} | "
          f"{v['curves']['off']['gain'][-1]:.3g} / {v['curves']['on']['gain'][-1]:.3g} |" for k, v in out["kernels"].items()
          if set(v["curves"]) == {"off", "on"}],
        "",
        "Paper: train gain ~10^6 (Gaussian, Delta) and ~5 (ReLU) at distance 0, falling to ~1 at distance 1; ~5 at the test sets' distances.",
        "",
        "## μ(N) on the experiments' point sets (figure 3 right, eq. 3.7)",
        "",
        f"Chart-(0, 1) samples of {', '.join(map(str, dist['sizes']))} points: μ = ({fit['prefactor']:.3f} ± {fit['prefactor_se']:.3f}) "
        f"N^({fit['exponent']:.3f} ± {fit['exponent_se']:.3f}); printed .968 N^-.184. One chart holds 1/20 of the quintic, "
        "and its boundary steepens the slope at these N (proof cyd-nn-scaling-chart).",
        "",
        "| N | " + " | ".join(map(str, dist["sizes"])) + " |",
        "|---|" + "---|" * len(dist["sizes"]),
        "| mean | " + " | ".join(f"{x:.4f}" for x in dist["mean"]) + " |",
        "| min | " + " | ".join(f"{x:.4f}" for x in dist["min"]) + " |",
        "| max | " + " | ".join(f"{x:.4f}" for x in dist["max"]) + " |",
        "",
        f"## Points needed for a test gain of {p['target_gain']:g}",
        "",
        "| kernel | test points | distance (ours) | N (ours) | distance (paper) | N (paper) |",
        "|---|---|---|---|---|---|",
        *["| " + " | ".join(row) + " |" for row in _extrapolation_rows(out)],
        "",
        f"![gain against distance; μ(N)]({Path(out['figure']).name})",
        "",
    ]
    write_text_atomic(path, "\n".join(lines))


def _plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numerics.io.provenance import save_figure_atomic

    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.3))
    for (name, result), colour in zip(out["kernels"].items(), ("C0", "C1", "C2")):
        for variant, style in (("off", "--o"), ("on", "-s")):
            curve = result["curves"].get(variant)
            if curve is None:
                continue
            points = [(d, g) for d, g in zip(curve["mean_distance"], curve["gain"]) if d > 0]
            if points:
                left.loglog(*zip(*points), style, color=colour, ms=4, label=f"{name}, {'off (paper)' if variant == 'off' else 'on the quintic'}")
    fit = out["distances"]["fit"]
    for n in (1000, 100000):  # the text's test-set distances: mu at 10^3 and 10^5 points
        mu = fit["prefactor"] * n ** fit["exponent"]
        left.axvline(mu, color="grey", lw=0.8, ls=":")
        left.annotate(f"μ(10^{round(math.log10(n))})", (mu, 0.02), xycoords=("data", "axes fraction"), rotation=90, fontsize=7, color="grey")
    p = out["parameters"]
    left.axhline(p["target_gain"], color="k", lw=0.6, ls=":", label=f"target gain {p['target_gain']:g}")
    left.set_xlabel("mean shortest FS distance to the train set (3.2), radians")
    left.set_ylabel("gain σ(step 0) / σ(step n) on the noised\npoints, dimensionless")
    train = f"{p['n_train']} train points" if p["n_train"] else "train points per kernel as `quintic flow`"
    left.set_title(f"gain against distance (figure 3 left): {p['steps']} steps,\n{train}, {p['n_noised']} noised per level, seed {p['seed']}",
                   fontsize=10)
    left.legend(fontsize=7)
    dist = out["distances"]
    right.loglog(dist["sizes"], dist["mean"], "o-", label="mean")
    right.loglog(dist["sizes"], dist["min"], "v:", label="min")
    right.loglog(dist["sizes"], dist["max"], "^:", label="max")
    right.loglog(dist["sizes"], [fit["prefactor"] * n ** fit["exponent"] for n in dist["sizes"]], "k-", lw=0.8,
                 label=rf"fit ${fit['prefactor']:.3f}\,N^{{{fit['exponent']:.3f} \pm {fit['exponent_se']:.3f}}}$")
    right.loglog(dist["sizes"], [0.968 * n**-0.184 for n in dist["sizes"]], "r--", lw=0.8, label=r"paper (3.7) $.968\,N^{-.184}$")
    if len(dist["sizes"]) <= 8:  # the sample sizes themselves as ticks
        right.set_xticks(dist["sizes"], [str(n) for n in dist["sizes"]])
    right.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_xlabel(f"points N in chart {tuple(dist['chart'])}")
    right.set_ylabel("nearest-neighbour FS distance (3.2), radians")
    right.set_title(f"μ(N) (figure 3 right) on the experiments' chart: {p['repeats']} sample(s) per N", fontsize=10)
    right.legend(fontsize=7)
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="gain against mean distance to the train set (off the quintic / on it)")
    for column in ("kernel", "train gain", "distance → gain (off)", "distance → gain (on)"):
        table.add_column(column)
    for name, result in out["kernels"].items():
        cells = []
        for variant in ("off", "on"):
            c = result["curves"].get(variant)
            cells.append("—" if c is None else ", ".join(f"{d:.2g}→{g:.3g}" for d, g in zip(c["mean_distance"], c["gain"]) if d > 0))
        table.add_row(name, f"{result['train_gain']:.3g}", *cells)
    console.print(table)
    fit = out["distances"]["fit"]
    console.print(f"μ(N) on chart (0, 1): {fit['prefactor']:.3f} N^{fit['exponent']:.3f} (printed .968 N^-.184)")
    extra = Table(title=f"points for a test gain of {out['parameters']['target_gain']:g}")
    for column in ("kernel", "test points", "distance", "N", "paper distance", "paper N"):
        extra.add_column(column)
    for row in _extrapolation_rows(out):
        extra.add_row(*row)
    console.print(extra)
    console.print(f"report: {out['report']}   figure: {out['figure']}")
