"""``flowtheory quintic search``: the Bayesian hyper-parameter search of section 3.2.4, then 50 steps at the best.

``search --kernel {gaussian,delta,relu-ntk} [--trials T] [--init-points I] [--trial-steps S]
[--steps 50] [--n-train N] [--n-test M] [--objective {train,test}] [--reading …] [--loss …]
[--kappa …] [--normalisation …] [--seed S] [--out DIR] [--resume | --overwrite] [--json]``

Each trial draws a fresh point set and runs the flow (3.5) for ``--trial-steps`` steps at the
parameters bayesian-optimization suggests (:mod:`numerics.cy.kernel_search`); the trial list is
checkpointed after every trial (``DIR/quintic_search.trials.json``) and ``--resume`` continues it
exactly.  The best trial's parameters then run ``--steps`` steps on points no trial saw.  Writes
``DIR/quintic_search.json`` (schema ``flowtheory.quintic.search/1``: ``trials``, ``best``,
``final`` with ``train_sigma``/``test_sigma`` per step and the gains, ``paper`` (Table 1's row),
``parameters``, ``run_record``), ``DIR/quintic_search.png`` (score per trial; σ per step of the
final run) and ``DIR/quintic_search.md`` (our row of Table 1 beside the paper's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_int, emit, prepare_output_folder, require_same_parameters, say, seed
from flowtheory.cli.quintic_flow import DEFAULTS, KERNELS, N_MAX, add_flow_options

SEARCH_FORMAT = "flowtheory.quintic.search/1"
TRIALS_FORMAT = "flowtheory.quintic.search-trials/1"
TRIALS = "quintic_search.trials.json"
FILES = ("quintic_search.json", "quintic_search.png", "quintic_search.md", TRIALS)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="Bayesian search of a kernel flow's hyper-parameters, then 50 steps at the best (section 3.2.4, Table 1)")
    p.add_argument("--kernel", choices=KERNELS, required=True, help="the kernel whose Δt (and width, or σ_w and σ_b) are searched")
    p.add_argument("--trials", type=bounded_int(1, 1000), default=30, help="trials in all, each on fresh points (1 to 1000, default 30)")
    p.add_argument("--init-points", type=bounded_int(1, 1000), default=5, help="random trials before the Gaussian-process suggestions (default 5)")
    p.add_argument("--trial-steps", type=bounded_int(1, 1000), default=50, help="flow steps per trial (default 50, the steps the result is judged by)")
    p.add_argument("--steps", type=bounded_int(1, 10_000), default=50, help="flow steps at the best parameters (default 50, as in the paper)")
    p.add_argument("--n-train", type=bounded_int(2, N_MAX), default=None, help="train points per trial (default per kernel as in Table 1: "
                   + ", ".join(f"{k} {v['n_train']}" for k, v in DEFAULTS.items()) + ")")
    p.add_argument("--n-test", type=bounded_int(2, N_MAX), default=1000, help="test points per trial (default 1000)")
    p.add_argument("--objective", choices=("train", "test"), default="train", help="maximise log10 of the train gain (default, as the paper's optimiser did) or the test gain")
    add_flow_options(p)
    p.add_argument("--seed", type=seed, default=0, help="seed of the search: trial i's points and suggestion (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("quintic_search_out"), help="output folder (default quintic_search_out)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help=f"continue the search in --out from its trial list ({TRIALS})")
    again.add_argument("--overwrite", action="store_true", help="replace the results of an earlier search in --out")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run_search_command)


def _validate_trials(path: Path, content: dict) -> None:
    from numerics.io.records import field_error

    trials = content.get("trials")
    if not isinstance(trials, list) or not all(isinstance(t, dict) and isinstance(t.get("score"), (int, float)) and isinstance(t.get("point"), dict) for t in trials):
        raise field_error(path, "trials", "expected a list of trial records with a point and a score")
    if [t.get("trial") for t in trials] != list(range(len(trials))):
        raise field_error(path, "trials", "trial numbers are not 0, 1, 2, ...")
    if not isinstance(content.get("settings"), dict):
        raise field_error(path, "settings", "expected an object")


def run_search_command(args: argparse.Namespace) -> int:
    if args.init_points > args.trials:
        raise CliError(f"--init-points {args.init_points} exceeds --trials {args.trials}")
    mode = prepare_output_folder(args.out, FILES, overwrite=args.overwrite, resume=args.resume)
    import dataclasses

    import jax

    from flowtheory.printed.cy import TABLE_1
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_search import SearchSettings, best_trial, flow_on_fresh_points, search_hyperparameters
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import read_record, write_record

    settings = SearchSettings(
        kernel=args.kernel, trials=args.trials, n_train=args.n_train or DEFAULTS[args.kernel]["n_train"], n_test=args.n_test,
        trial_steps=args.trial_steps, init_points=args.init_points, objective=args.objective, reading=args.reading,
        loss=args.loss, kappa=args.kappa, normalisation=args.normalisation, seed=args.seed,
    )
    recorded = {k: v for k, v in dataclasses.asdict(settings).items() if k != "trials"}
    trials_path = args.out / TRIALS
    history: list = []
    if mode == "resume":
        if not trials_path.exists():
            raise CliError(f"--resume: no trial list at {trials_path}")
        saved = read_record(trials_path, TRIALS_FORMAT, _validate_trials)
        require_same_parameters(trials_path, saved["settings"], recorded)
        history = saved["trials"]
        if len(history) > settings.trials:
            raise CliError(f"--resume: {trials_path} holds {len(history)} trials, more than --trials {settings.trials}")
        say(f"resumed from {trials_path} at trial {len(history)} of {settings.trials}")
    surface = fermat_quintic()
    progress = not args.json
    with progress_bar(f"search ({args.kernel})", total=settings.trials, enabled=progress) as advance:
        advance(len(history))

        def checkpoint(trials):
            write_record(trials_path, TRIALS_FORMAT, {"settings": recorded, "trials": trials})
            advance()

        history = search_hyperparameters(surface, settings, history=history, block=args.block, on_trial=checkpoint)
    best = best_trial(history)
    parameters = best["parameters"]
    with progress_bar(f"flow at the best parameters ({args.steps} steps)", total=args.steps, enabled=progress) as advance:
        final = flow_on_fresh_points(
            surface, settings.kernel_of(parameters), settings.flow_settings(parameters["lr"]), n_train=settings.n_train,
            n_test=settings.n_test, steps=args.steps, key=jax.random.fold_in(jax.random.PRNGKey(settings.seed), settings.trials),
            block=args.block, on_step=lambda *_: advance(),
        )
    run_parameters = {**dataclasses.asdict(settings), "steps": args.steps, "block": args.block, "library": "bayesian-optimization"}
    out = {
        "kernel": args.kernel,
        "trials": history,
        "best": best,
        "final": {"parameters": parameters, "train_sigma": final.train_sigma, "test_sigma": final.test_sigma,
                  "train_gain": final.train_gain, "test_gain": final.test_gain, "rejected_steps": final.rejected_steps},
        "paper": TABLE_1[args.kernel],
        "parameters": run_parameters,
        "figure": str(args.out / "quintic_search.png"),
        "report": str(args.out / "quintic_search.md"),
        "run_record": run_record(args.seed, run_parameters),
    }
    write_record(args.out / "quintic_search.json", SEARCH_FORMAT, out)
    _plot(out, args.out / "quintic_search.png")
    _write_report(out, args.out / "quintic_search.md")
    emit(args.json, out, _render)
    return 0


def table_row(out: dict) -> list[tuple[str, str, str]]:
    """(quantity, ours, paper) rows of Table 1 for one search."""
    paper, best, final = out["paper"], out["final"]["parameters"], out["final"]
    rows = [("points", str(out["parameters"]["n_train"]), str(paper["n_points"])), ("learning rate Δt", f"{best['lr']:.4g}", f"{paper['lr']:g}")]
    for key, label in (("width", "σ (Gaussian width)"), ("sigma_b", "σ_b"), ("sigma_w", "σ_w")):
        if key in paper:
            rows.append((label, f"{best[key]:.4g}", f"{paper[key]:g}"))
    rows += [("train gain (50 steps)", f"{final['train_gain']:.3g}", f"~{paper['train_gain']:.0e}".replace("e+0", "e")),
             ("test gain (50 steps)", f"{final['test_gain']:.3g}", f"≲{paper['test_gain']:g}")]
    return rows


def _write_report(out: dict, path: Path) -> None:
    from numerics.io.provenance import write_text_atomic

    p = out["parameters"]
    lines = [
        f"# Hyper-parameter search: {out['kernel']} kernel (section 3.2.4, Table 1)",
        "",
        f"{p['trials']} trials of bayesian-optimization ({p['init_points']} random), each on fresh points "
        f"({p['n_train']} train, {p['n_test']} test, {p['trial_steps']} steps), objective log10 {p['objective']} gain; "
        f"then {p['steps']} steps at the best parameters on points no trial saw. Loss {p['loss']}, {p['normalisation']} "
        f"normalisation, κ {p['kappa']}" + (f", Gaussian reading {p['reading']}" if out["kernel"] == "gaussian" else "") + f"; seed {p['seed']}.",
        "",
        "| quantity | ours | paper (Table 1, figure 3) |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in table_row(out)],
        "",
        f"Rejected (halved) steps in the final run: {out['final']['rejected_steps']}.",
        "",
        f"![score per trial and σ per step]({Path(out['figure']).name})",
        "",
    ]
    write_text_atomic(path, "\n".join(lines))


def _plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from numerics.io.provenance import save_figure_atomic

    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    scores = np.array([t["score"] for t in out["trials"]])
    left.plot(scores, "o", ms=4, label="trial")
    left.plot(np.maximum.accumulate(scores), "-", label="best so far")
    p = out["parameters"]
    left.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    left.set_xlabel("trial")
    left.set_ylabel(f"log10 {p['objective']} gain σ(0)/σ({p['trial_steps']}), dimensionless")
    left.set_title(f"{out['kernel']} kernel: {len(scores)} trials of {p['trial_steps']} steps,\n"
                   f"{p['n_train']} train, {p['n_test']} test points each, seed {p['seed']}", fontsize=10)
    left.legend()
    steps = range(len(out["final"]["train_sigma"]))
    right.semilogy(steps, out["final"]["train_sigma"], "o-", ms=3, label=f"train (gain {out['final']['train_gain']:.3g})")
    right.semilogy(steps, out["final"]["test_sigma"], "s-", ms=3, label=f"test (gain {out['final']['test_gain']:.3g})")
    right.set_xlabel("flow step n of (3.5)")
    right.set_ylabel("σ-measure (B.11), dimensionless")
    paper = out["paper"]
    for name, colour in (("train", "C0"), ("test", "C1")) if len(steps) > 50 else ():  # Table 1's gains are after 50 steps
        right.semilogy([50], [out["final"][f"{name}_sigma"][0] / paper[f"{name}_gain"]], "x", color=colour, ms=8,
                       label=f"{name}, paper Table 1 after 50 steps (gain {paper[f'{name}_gain']:.3g})")
    names = {"lr": "Δt", "width": "width", "sigma_w": "σ_w", "sigma_b": "σ_b"}
    best = ", ".join(f"{names.get(k, k)} {v:.4g}" for k, v in out["final"]["parameters"].items())
    right.set_title(f"best parameters ({best}),\nfresh points, {len(steps) - 1} steps", fontsize=10)
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=110)
    plt.close(fig)


def _render(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Table 1, {out['kernel']} kernel: ours beside the paper's")
    for column in ("quantity", "ours", "paper"):
        table.add_column(column)
    for row in table_row(out):
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(f"report: {out['report']}   figure: {out['figure']}")
