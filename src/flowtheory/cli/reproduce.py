"""``flowtheory reproduce``: one command runs the paper's results and writes a report beside its print.

``reproduce [--scale {quick,paper,tiny}] [--out DIR] [--resume | --overwrite] [--only SECTION ...] [--seed S] [--json]``

Stages (sections of the paper), each the command that computes it, run into ``DIR/<stage>/``:

========================  ============  ==========================================================
stage                     section       command(s)
========================  ============  ==========================================================
``theory``                2.1–2.4, B    ``verify`` (every proof; at ``tiny`` the proofs of section 3.1)
``clustering``            3.1, fig. 2   ``quintic cluster`` at several seeds (silhouettes ± spread)
``distances``             3.1, fig. 3   ``quintic distances`` with repeats: μ(N) and the fit (3.7)
``table1``                3.2, Table 1  ``quintic search`` per kernel, then ``quintic flow`` at the
                                        best parameters on fresh points per seed (gains ± spread)
``noise``                 3.2, fig. 3   ``quintic noise-analysis`` at several seeds: gain against
                                        distance, the extrapolation to a test gain of 100
``clustered``             3.2           ``quintic flow --clustered --compare-exact`` per seed
``networks``              3.3           ``quintic compare``: finite vs linearised vs initial and
                                        learned kernels vs Donaldson (standard errors)
``ntk``                   3.3, fig. 4   ``quintic ntk-evolution``: spectra, Wasserstein, change vs width
========================  ============  ==========================================================

``--scale quick`` (the default) uses small point sets and finishes in about a quarter of an hour
on a 2-core machine; ``paper`` uses the paper's sizes (10^5 points, 50 steps and epochs) and takes
hours; ``tiny`` is a smoke test of every stage (a minute or two, numbers without meaning).  After
every stage ``DIR/results.json`` (schema ``flowtheory.reproduce/1``: ``stages`` — per stage its
``headline`` rows ``{"name", "value", "error", "error_kind", "paper"}``, ``claims``, ``figures``,
``seconds`` and the command's whole JSON under ``data`` —, ``summary``, ``scale``, ``parameters``,
``run_record``) is rewritten: ``--resume`` skips the stages done and continues an interrupted one
where its command can.  Then ``DIR/report.md`` and a self-contained ``DIR/report.html`` (the
figures embedded) are written from the stages done.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import statistics
import time
from pathlib import Path

from flowtheory.cli.output import CliError, emit, prepare_output_folder, say, seed

REPRODUCE_FORMAT = "flowtheory.reproduce/1"
FILES = ("results.json", "report.md", "report.html")
STAGES = ("theory", "clustering", "distances", "table1", "noise", "clustered", "networks", "ntk")
SECTIONS = {"theory": "2.1–2.4, appendix B", "clustering": "3.1 (figure 2)", "distances": "3.1 (figure 3 right, eq. 3.7)",
            "table1": "3.2 (Table 1)", "noise": "3.2 (figure 3 left, extrapolation)", "clustered": "3.2 (clustered against exact kernels)",
            "networks": "3.3 (finite, linearised, learned kernel, Donaldson)", "ntk": "3.3 (figure 4, kernel change against width)"}

#: Sizes per scale.  ``quick`` keeps every stage to a few minutes on 2 cores; ``paper`` is the paper's.
SCALES = {
    "tiny": {"proofs": ["cyd-*"], "seeds": 2, "cluster": (200, 2, 4), "distances": ("200,400,800", 2),
             "search": {"trials": 2, "init_points": 1, "trial_steps": 3, "steps": 3, "n_train": 60, "n_test": 40},
             "noise": {"n_train": 60, "n_noised": 30, "noise": "0.01,0.1", "steps": 3, "sizes": "100,200", "repeats": 2},
             "clustered": {"n_train": 120, "n_test": 40, "steps": 3, "batches": 2, "clusters": 3},
             "networks": {"epochs": 1, "n_train": 128, "n_val": 128, "width": 4, "depth": 1, "batch": 64, "flow_points": 30, "flow_steps": 3, "k": "1"},
             "ntk": {"epochs": 1, "widths": "4,8,16", "n_kernel": 4, "n_train": 128, "n_val": 128, "depth": 1, "at": "0,1"}},
    "quick": {"proofs": None, "seeds": 3, "cluster": (1000, 5, 10), "distances": ("1000,2000,4000,8000", 2),
              "search": {"trials": 12, "init_points": 4, "trial_steps": 30, "steps": 50, "n_train": 500, "n_test": 500},
              "noise": {"n_train": 1000, "n_noised": 300, "noise": "0,0.0001,0.0003,0.001,0.003,0.01,0.03,0.1,0.3", "steps": 50, "sizes": "1000,2000,4000", "repeats": 2},
              "clustered": {"n_train": 1500, "n_test": 500, "steps": 50, "batches": 5, "clusters": 10},
              "networks": {"epochs": 5, "n_train": 10000, "n_val": 2000, "width": 64, "depth": 3, "batch": 64, "flow_points": 500, "flow_steps": 50, "k": "1,2,3,4"},
              "ntk": {"epochs": 5, "widths": "32,64,128", "n_kernel": 50, "n_train": 5000, "n_val": 1000, "depth": 3, "at": "0,1,2,5"}},
    "paper": {"proofs": None, "seeds": 3, "cluster": (1000, 5, 10), "distances": ("1000,3000,10000,30000,100000", 3),
              "search": {"trials": 30, "init_points": 5, "trial_steps": 50, "steps": 50, "n_train": None, "n_test": 1000},
              "noise": {"n_train": None, "n_noised": 500, "noise": "0,0.0001,0.0003,0.001,0.003,0.01,0.03,0.1,0.3", "steps": 50,
                        "sizes": "1000,3000,10000,30000", "repeats": 2},
              "clustered": {"n_train": 10000, "n_test": 1000, "steps": 50, "batches": 5, "clusters": 10},
              "networks": {"epochs": 50, "n_train": 90000, "n_val": 10000, "width": 64, "depth": 3, "batch": 64, "flow_points": 2000, "flow_steps": 50, "k": "1,2,3,4,5"},
              "ntk": {"epochs": 50, "widths": "32,64,128,256,512", "n_kernel": 100, "n_train": 90000, "n_val": 10000, "depth": 3, "at": "0,1,2,5,10,25,50"}},
}
KERNELS = ("delta", "gaussian", "relu-ntk")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="run the paper's results and write report.md, report.html and results.json beside its print")
    p.add_argument("--scale", choices=tuple(SCALES), default="quick", help="quick (default, ~15 min on 2 cores), paper (the paper's sizes: hours) or tiny (a smoke test)")
    p.add_argument("--only", nargs="+", choices=STAGES, metavar="SECTION", help=f"run only these stages (of {', '.join(STAGES)})")
    p.add_argument("--seed", type=seed, default=0, help="base seed of every stage (0 to 2**32-1, default 0)")
    p.add_argument("--out", type=Path, default=Path("reproduce_out"), help="output folder (default reproduce_out)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run in --out: stages done are kept, an interrupted one continues")
    again.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print results.json's content")
    p.set_defaults(handler=run_reproduce_command)


# --- running a command of our own ------------------------------------------------------------

def run_command(argv: list[str]) -> dict | list:
    """Run ``flowtheory ARGV --json`` in this process and return its JSON (its progress bars off).

    Raises:
        CliError: the command failed (its own error message).
    """
    from flowtheory.cli import build_parser

    args = build_parser().parse_args([*argv, "--json"])
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = args.handler(args)
    if status not in (0, None, 1) or not buffer.getvalue().strip():
        raise CliError(f"flowtheory {' '.join(argv)} ended with status {status}")
    return json.loads(buffer.getvalue())


def _folder_argv(folder: Path, resumable: bool) -> list[str]:
    """``--out folder`` with ``--resume`` when an interrupted run of a resumable command is there, else ``--overwrite``."""
    started = folder.exists() and any(folder.iterdir())
    return ["--out", str(folder), "--resume" if (resumable and started) else "--overwrite"]


def mean_spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (the seed spread; 0 for one value)."""
    values = [float(v) for v in values]
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def row(name: str, value, error, error_kind: str, paper=None) -> dict:
    return {"name": name, "value": value, "error": error, "error_kind": error_kind, "paper": paper}


def claim(text: str, paper: str, measured: str, holds: bool) -> dict:
    return {"claim": text, "paper": paper, "measured": measured, "holds": bool(holds)}


# --- the stages ------------------------------------------------------------------------------

def stage_theory(folder: Path, scale: dict, base_seed: int) -> dict:
    argv = ["verify"] + (["--only", *scale["proofs"]] if scale["proofs"] else [])
    results = run_command(argv)
    counts = {v: sum(r["verdict"] == v for r in results) for v in ("agrees", "agrees after correction", "fails", "blocked")}
    headline = [row(r["id"], r["verdict"], r["max_error"], (r["worst_check"] or {}).get("error_kind", "none"), ", ".join(r["equations"]))
                for r in results]
    text = f"{len(results)} proofs: {counts['agrees']} agree, {counts['agrees after correction']} agree after correction, {counts['fails']} fail, {counts['blocked']} blocked"
    return {"headline": headline, "figures": [], "data": results, "counts": counts,
            "claims": [claim("the equations of sections 2 and B hold (as derived)", "the printed equations", text, counts["fails"] + counts["blocked"] == 0)],
            "table": [{"id": r["id"], "equations": ", ".join(r["equations"]), "verdict": r["verdict"], "correction": r["correction"] or "",
                       "error": r["max_error"], "error_kind": (r["worst_check"] or {}).get("error_kind", "")} for r in results]}


def stage_clustering(folder: Path, scale: dict, base_seed: int) -> dict:
    n, batches, clusters = scale["cluster"]
    runs = [run_command(["quintic", "cluster", "--n", str(n), "--batches", str(batches), "--clusters", str(clusters), "--seed", str(base_seed + s),
                         "--out", str(folder / f"seed{s}"), "--overwrite"]) for s in range(scale["seeds"])]
    paper = {"batched": 0.016, "full": -0.011, "birch_euclidean": -0.032}
    headline, means = [], {}
    for method in paper:
        m, spread = mean_spread([r["silhouette"][method] for r in runs])
        means[method] = m
        headline.append(row(f"silhouette, {method}", m, spread, f"seed spread ({len(runs)} seeds)", paper[method]))
    return {"headline": headline, "figures": [str(folder / "seed0" / "quintic_cluster.png")], "data": runs,
            "claims": [claim("batched clustering on FS distances separates the quintic's points better than Birch on Euclidean features",
                             "silhouettes .016 (batched) > −.032 (Birch)", f"{means['batched']:.3f} against {means['birch_euclidean']:.3f}",
                             means["batched"] > means["birch_euclidean"])]}


def stage_distances(folder: Path, scale: dict, base_seed: int) -> dict:
    sizes, repeats = scale["distances"]
    out = run_command(["quintic", "distances", "--n", sizes, "--repeats", str(repeats), "--seed", str(base_seed), *_folder_argv(folder, True)])
    fit = out["fit"]
    exponent, exponent_se = fit["b"], fit["se_b"]
    return {"headline": [row("prefactor a of μ = a N^b (all of X)", fit["a"], fit["se_a"], "fit standard error", 0.968),
                         row("exponent b", exponent, exponent_se, "fit standard error", -0.184)],
            "figures": [str(folder / "quintic_distances.png")], "data": out,
            "claims": [claim("(3.7) is the nearest-neighbour law of points on all of X", ".968 N^−.184",
                             f"all of X: {fit['a']:.3f} N^{exponent:.3f} ± {exponent_se:.3f} (the printed law is one chart's: see section 3.2's "
                             "noise stage and the proof cyd-nn-scaling-chart)", abs(exponent + 0.184) < 3 * exponent_se)]}


def stage_table1(folder: Path, scale: dict, base_seed: int) -> dict:
    s = scale["search"]
    headline, data, gains = [], {}, {}
    for kernel in KERNELS:
        argv = ["quintic", "search", "--kernel", kernel, "--trials", str(s["trials"]), "--init-points", str(s["init_points"]),
                "--trial-steps", str(s["trial_steps"]), "--steps", str(s["steps"]), "--n-test", str(s["n_test"]), "--seed", str(base_seed)]
        argv += ["--n-train", str(s["n_train"])] if s["n_train"] else []
        search = run_command([*argv, *_folder_argv(folder / kernel, True)])
        best = search["best"]["parameters"]
        flow_options = ["--lr", repr(float(best["lr"]))]
        for key, flag in (("width", "--sigma"), ("sigma_w", "--sigma-w"), ("sigma_b", "--sigma-b")):
            if key in best:
                flow_options += [flag, repr(float(best[key]))]
        flows = [run_command(["quintic", "flow", "--kernel", kernel, *flow_options, "--steps", str(s["steps"]), "--n-test", str(s["n_test"]),
                              *(["--n-train", str(s["n_train"])] if s["n_train"] else []), "--seed", str(base_seed + 100 + i),
                              *_folder_argv(folder / f"{kernel}-flow{i}", True)])
                 for i in range(1, scale["seeds"])]
        train = [search["final"]["train_gain"], *(f["train_gain"] for f in flows)]
        test = [search["final"]["test_gain"], *(f["test_gain"] for f in flows)]
        paper = search.get("paper") or {}
        (tr, tr_s), (te, te_s) = mean_spread(train), mean_spread(test)
        gains[kernel] = (tr, te)
        kind = f"seed spread ({len(train)} point sets)"
        headline += [row(f"{kernel}: Δt", best["lr"], None, "search optimum (no error)", paper.get("lr")),
                     row(f"{kernel}: train gain", tr, tr_s, kind, paper.get("train_gain")),
                     row(f"{kernel}: test gain", te, te_s, kind, paper.get("test_gain"))]
        data[kernel] = {"search": search, "flows": flows}
    claims = [claim(f"the {k} kernel flow learns its train points but generalises poorly", "Table 1: train gains ≫ test gains (1.2–5)",
                    f"train gain {gains[k][0]:.3g}, test gain {gains[k][1]:.3g}", gains[k][0] > 3 * gains[k][1] and gains[k][1] < 10)
              for k in ("delta", "gaussian")]
    return {"headline": headline, "claims": claims, "data": data,
            "figures": [str(folder / k / "quintic_search.png") for k in KERNELS]}


def stage_noise(folder: Path, scale: dict, base_seed: int) -> dict:
    n = scale["noise"]
    runs = []
    for i in range(scale["seeds"]):
        argv = ["quintic", "noise-analysis", "--n-noised", str(n["n_noised"]), "--noise", n["noise"], "--steps", str(n["steps"]),
                "--sizes", n["sizes"], "--repeats", str(n["repeats"]), "--seed", str(base_seed + i)]
        argv += ["--n-train", str(n["n_train"])] if n["n_train"] else []
        runs.append(run_command([*argv, *_folder_argv(folder / f"seed{i}", True)]))
    headline, claims = [], []
    for kernel in KERNELS:
        for variant in ("off", "on"):
            points = [r["extrapolation"][kernel][variant].get("n_points") for r in runs if variant in r["extrapolation"].get(kernel, {})]
            points = [p for p in points if p]
            if points:
                m, spread = mean_spread([math.log10(p) for p in points])
                headline.append(row(f"{kernel}, {variant} the quintic: log10 points for a test gain of 100", m, spread,
                                    f"seed spread ({len(points)} of {len(runs)} seeds)", _log10_points(runs[0]["paper"]["extrapolation"].get(kernel))))
    exponent = mean_spread([r["distances"]["fit"]["exponent"] for r in runs])
    headline.append(row("exponent of μ(N) on chart (0, 1) points", exponent[0], exponent[1], f"seed spread ({len(runs)} seeds)", -0.184))
    fit_se = max(r["distances"]["fit"]["exponent_se"] for r in runs)
    claims.append(claim("(3.7) is the law of one chart's points", ".968 N^−.184",
                        f"N^{exponent[0]:.3f} ± {exponent[1]:.3f} (seed spread; fit standard error {fit_se:.3f})",
                        abs(exponent[0] + 0.184) < 3 * math.hypot(exponent[1], fit_se)))
    gaussian = [h for h in headline if h["name"].startswith("gaussian, off")]
    if gaussian:
        claims.append(claim("a test gain of 100 needs ~10^12 points (Gaussian kernel, off the quintic)", "10^12",
                            f"10^{gaussian[0]['value']:.1f} ± {gaussian[0]['error']:.1f}", abs(gaussian[0]["value"] - 12) < 2))
    return {"headline": headline, "claims": claims, "data": runs, "figures": [str(folder / "seed0" / "quintic_noise.png")]}


def _log10_points(paper: dict | None) -> float | None:
    """log10 of the points the paper extrapolates to (``EXTRAPOLATION`` of :mod:`flowtheory.printed.cy`), if it gives them."""
    return math.log10(paper["n_points"]) if paper and paper.get("n_points") else None


def stage_clustered(folder: Path, scale: dict, base_seed: int) -> dict:
    c = scale["clustered"]
    runs = [run_command(["quintic", "flow", "--kernel", "gaussian", "--clustered", "--batches", str(c["batches"]), "--clusters", str(c["clusters"]),
                         "--compare-exact", "--n-train", str(c["n_train"]), "--n-test", str(c["n_test"]), "--steps", str(c["steps"]),
                         "--seed", str(base_seed + i), *_folder_argv(folder / f"seed{i}", True)]) for i in range(scale["seeds"])]
    ratios = {k: mean_spread([r["comparison"]["sigma_ratio_clustered_to_exact"][k] for r in runs]) for k in ("train", "test")}
    kind = f"seed spread ({len(runs)} seeds)"
    return {"headline": [row(f"final {k} σ, clustered / exact", m, s, kind) for k, (m, s) in ratios.items()],
            "claims": [claim("clustering the kernel costs little on test points", "clustering 'produces decent results' (section 3.2.2)",
                             f"final test σ clustered/exact {ratios['test'][0]:.3f} ± {ratios['test'][1]:.3f}", ratios["test"][0] < 1.5)],
            "data": runs, "figures": [str(folder / "seed0" / "quintic_flow.png")]}


def stage_networks(folder: Path, scale: dict, base_seed: int) -> dict:
    n = scale["networks"]
    argv = ["quintic", "compare", "--seed", str(base_seed), "--k", n["k"]]
    for key in ("epochs", "n_train", "n_val", "width", "depth", "batch", "flow_points", "flow_steps"):
        argv += [f"--{key.replace('_', '-')}", str(n[key])]
    out = run_command([*argv, *_folder_argv(folder, True)])
    s = out["stages"]
    headline = [row(f"{name}: validation σ after training", s[name]["val_sigma_final"], s[name]["val_sigma_final_stderr"], "standard error")
                for name in ("finite", "linearised")]
    headline += [row(f"{name}: validation gain", s[name]["val_gain"], s[name]["val_gain_stderr"], "standard error",
                     "10–100" if name == "finite" else None) for name in ("finite", "linearised")]
    headline += [row(f"flow (3.5), {name} metric-NTK: test gain", f["test_gain"], f["test_gain_stderr"], "standard error", "1.2–5 (frozen kernels)")
                 for name, f in s["kernel_flow"].items()]
    headline += [row(f"Donaldson k = {k}: validation σ", v, e, "standard error")
                 for k, v, e in zip(s["donaldson"]["k"], s["donaldson"]["val_sigma"], s["donaldson"]["val_sigma_stderr"])]
    return {"headline": headline, "claims": [claim(r["claim"], r["paper"], r["measured"], r["holds"]) for r in out["summary"]],
            "data": out, "figures": [str(folder / "quintic_compare.png")]}


def stage_ntk(folder: Path, scale: dict, base_seed: int) -> dict:
    n = scale["ntk"]
    argv = ["quintic", "ntk-evolution", "--seed", str(base_seed), "--widths", n["widths"], "--at", n["at"]]
    for key in ("epochs", "n_kernel", "n_train", "n_val", "depth"):
        argv += [f"--{key.replace('_', '-')}", str(n[key])]
    out = run_command([*argv, "--out", str(folder), "--overwrite"])
    fit = out["width_fit"]
    headline = [row("relative kernel change ∝ width^b: b", fit["relative_change"]["slope"], fit["relative_change"]["slope_se"], "fit standard error"),
                row("validation gain ∝ width^b: b", fit["val_gain"]["slope"], fit["val_gain"]["slope_se"], "fit standard error")]
    largest = max(out["widths"], key=int)
    w = out["widths"][largest]
    headline.append(row(f"width {largest}: Wasserstein distance of the spectrum at epoch {w['epochs'][-1]}", w["wasserstein"][-1], None,
                        "one network (see the width study for the trend)", "grows with the epoch (figure 4 right)"))
    return {"headline": headline, "data": out, "figures": [str(folder / "quintic_ntk.png")],
            "claims": [claim("the metric-NTK of a learning network evolves (feature learning)", "figure 4: the spectrum shifts, the Wasserstein distance grows",
                             f"‖Θ−Θ₀‖/‖Θ₀‖ = {w['relative_change'][-1]:.3g} at width {largest}", w["relative_change"][-1] > 0.1),
                       claim("the kernel freezes as the width grows (section 2.2)", "infinite width: a frozen kernel",
                             f"change ∝ width^{fit['relative_change']['slope']:.2f} ± {fit['relative_change']['slope_se']:.2f}",
                             fit["relative_change"]["slope"] < 0)]}


RUNNERS = {"theory": stage_theory, "clustering": stage_clustering, "distances": stage_distances, "table1": stage_table1, "noise": stage_noise,
           "clustered": stage_clustered, "networks": stage_networks, "ntk": stage_ntk}


# --- the command ----------------------------------------------------------------------------

def _validate(path: Path, content: dict) -> None:
    from numerics.io.records import field_error

    stages = content.get("stages")
    if not isinstance(stages, dict) or not set(stages) <= set(STAGES):
        raise field_error(path, "stages", f"expected an object of stage results among {STAGES}")
    for name, stage in stages.items():
        if not isinstance(stage, dict) or not isinstance(stage.get("headline"), list):
            raise field_error(path, f"stages.{name}", "expected an object with headline rows")
    if content.get("scale") not in SCALES or not isinstance(content.get("parameters"), dict):
        raise field_error(path, "scale", f"expected one of {tuple(SCALES)} and an object of parameters")


def run_reproduce_command(args: argparse.Namespace) -> int:
    mode = prepare_output_folder(args.out, FILES, overwrite=args.overwrite, resume=args.resume)
    from flowtheory.cli.report import write_report
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record
    from numerics.io.records import read_record, write_record

    chosen = [s for s in STAGES if not args.only or s in args.only]
    parameters = {"scale": args.scale, "sizes": SCALES[args.scale], "seed": args.seed}
    record_path = args.out / "results.json"
    stages: dict = {}
    if mode == "resume" and record_path.exists():
        saved = read_record(record_path, REPRODUCE_FORMAT, _validate)
        if saved["scale"] != args.scale or saved["parameters"].get("seed") != args.seed:
            raise CliError(f"--resume: {record_path} is a {saved['scale']} run with seed {saved['parameters'].get('seed')}; "
                           "rerun with the same --scale and --seed, or with --overwrite")
        stages = dict(saved["stages"])
        say(f"resumed from {record_path}: kept {', '.join(stages) or 'no stages'}")
    progress = not args.json

    def content():
        summary = [c for s in STAGES if s in stages for c in stages[s]["claims"]]
        return {"stages": stages, "summary": summary, "scale": args.scale, "parameters": parameters, "report": str(args.out / "report.md"),
                "html": str(args.out / "report.html"), "run_record": run_record(args.seed, parameters)}

    with progress_bar(f"reproduce ({args.scale})", total=len(chosen), enabled=progress) as advance:
        for name in chosen:
            if name in stages:
                advance()
                continue
            start = time.perf_counter()
            result = RUNNERS[name](args.out / name, SCALES[args.scale], args.seed)
            result.update(section=SECTIONS[name], seconds=time.perf_counter() - start)
            stages[name] = result
            write_record(record_path, REPRODUCE_FORMAT, content())
            advance()
    out = content()
    write_record(record_path, REPRODUCE_FORMAT, out)
    write_report(out, args.out)
    emit(args.json, out, _render)
    return 0


def _render(out: dict) -> None:
    from rich.console import Console

    console = Console()
    for c in out["summary"]:
        console.print(f"[{'green' if c['holds'] else 'red'}]{'holds' if c['holds'] else 'does not hold'}[/]: {c['claim']} — {c['measured']} (paper: {c['paper']})")
    console.print(f"report: {out['report']}  and  {out['html']}")
