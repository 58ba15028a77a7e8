"""``flowtheory flow run SPEC``: run a compiled flow preset (:mod:`numerics.grid.presets`).

Writes, into ``--out`` (default ``flow-<SPEC>``):

* ``trajectory.npz`` — saved times, the fields at every saved step, the functional and the
  curvature spread;
* ``flow.png`` — the functional and the curvature spread against time;
* ``summary.json`` — the figures printed, with ``run_record`` (seed, versions, parameters);
* ``checkpoint.npz`` — the state after the last saved step; ``--resume`` continues from it (the
  parameters must match) up to ``--steps`` in total.

Bad input (unknown preset, steps/dt/grid out of range, a metric that stops being positive definite
during the flow — reported with its step number) exits with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flowtheory.cli.output import CliError, emit

PRESET_NAMES = ("ricci-t2", "ricci-s2", "kahler-ricci-torus", "calabi-torus", "ultralocal-torus")
"""The keys of :data:`numerics.grid.presets.PRESETS`, named here so that the parser imports no numerics."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flow", help="run compiled metric and Kähler-potential flows on tori and spheres")
    flow_sub = p.add_subparsers(dest="flow_command", required=True, metavar="FLOW_COMMAND")
    run = flow_sub.add_parser("run", help="integrate a flow preset and write trajectory, plot and summary")
    run.add_argument("spec", metavar="SPEC", help=f"flow preset: {', '.join(PRESET_NAMES)}")
    run.add_argument("--steps", type=int, default=200, help="total RK4 steps (default 200)")
    run.add_argument("--dt", type=float, default=None, help="time step (default: the preset's stable step for the grid)")
    run.add_argument("--grid", type=int, default=None, help="grid points per axis (default: the preset's)")
    run.add_argument("--sigma", type=float, default=0.0, help="width of the Gaussian metric-NTK (2.30) in chart coordinates (torus presets); 0 = local flow")
    run.add_argument("--seed", type=int, default=0, help="seed of the random initial state (default 0)")
    run.add_argument("--save-every", type=int, default=None, help="steps between saved, checked states (default: about steps/20, a divisor of steps)")
    run.add_argument("--out", type=Path, default=None, help="output folder (default flow-SPEC)")
    run.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(handler=_run)


def _parameters(args, prepared) -> dict:
    return {
        "spec": args.spec,
        "steps": args.steps,
        "dt": args.dt if args.dt is not None else prepared.default_dt,
        "grid": list(prepared.grid.shape),
        "sigma": args.sigma,
        "save_every": args.save_every,
    }


def _validate(args) -> None:
    if args.steps <= 0:
        raise CliError(f"--steps must be a positive integer, got {args.steps}")
    if args.resume and args.save_every is None:  # keep the interrupted run's spacing
        out = args.out or Path(f"flow-{args.spec}")
        args.save_every = _saved_parameters(out / "checkpoint.npz").get("save_every")
    if args.dt is not None and not args.dt > 0:
        raise CliError(f"--dt must be positive, got {args.dt}")
    if args.grid is not None and (args.grid < 4 or args.grid % 2):
        raise CliError(f"--grid must be an even integer >= 4, got {args.grid}")
    if not args.sigma >= 0:
        raise CliError(f"--sigma must be >= 0, got {args.sigma}")
    if args.save_every is None:  # the largest divisor of --steps not above steps/20
        args.save_every = max(d for d in range(1, max(1, args.steps // 20) + 1) if args.steps % d == 0)
    if args.save_every <= 0 or args.steps % args.save_every:
        raise CliError(f"--save-every must be a positive divisor of --steps ({args.steps}), got {args.save_every}")


def _saved_parameters(path: Path) -> dict:
    import numpy as np

    if not path.exists():
        raise CliError(f"--resume: no checkpoint at {path}")
    return json.loads(str(np.load(path)["parameters"]))


def _load_checkpoint(path: Path, parameters: dict):
    import numpy as np

    saved = _saved_parameters(path)
    data = np.load(path)
    keys = ("spec", "dt", "grid", "sigma", "save_every", "seed")
    mismatch = [k for k in keys if saved.get(k) != parameters.get(k)]
    if mismatch:
        raise CliError(f"--resume: checkpoint parameters differ in {mismatch}; rerun without --resume or with the same values")
    fields = [k[len("state_"):] for k in data.files if k.startswith("state_")]
    history = {k: [list(v) for v in data[f"history_{k}"]] for k in fields}
    return (
        int(data["step"]),
        float(data["t"]),
        {k: data[f"state_{k}"] for k in fields},
        list(data["ts"]),
        list(data["energy"]),
        list(data["spread"]),
        history,
    )


def _plot(path: Path, ts, energy, spread, title: str, energy_label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(ts, energy, marker=".")
    a.set_xlabel("t")
    a.set_ylabel(energy_label)
    a.set_title("functional")
    spread = np.asarray(spread)
    if np.all(spread > 0):
        b.semilogy(ts, spread, marker=".")
    else:
        b.plot(ts, spread, marker=".")
    b.set_xlabel("t")
    b.set_ylabel("max - min")
    b.set_title("curvature spread")
    fig.suptitle(title)
    fig.tight_layout()
    from numerics.io.provenance import save_figure_atomic

    save_figure_atomic(path, fig, dpi=100)
    plt.close(fig)


def _run(args) -> int:
    _validate(args)
    import jax.numpy as jnp
    import numpy as np

    from numerics.grid.integrators import rk4
    from numerics.grid.presets import prepare
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record, save_npz_atomic, write_json_atomic

    prepared = prepare(args.spec, grid=args.grid, seed=args.seed, sigma=args.sigma)
    parameters = {**_parameters(args, prepared), "seed": args.seed}
    dt = parameters["dt"]
    out = args.out or Path(f"flow-{args.spec}")
    checkpoint = out / "checkpoint.npz"

    if args.resume:
        step, t, state, ts, energy, spread, history = _load_checkpoint(checkpoint, parameters)
        state = {k: jnp.asarray(v) for k, v in state.items()}
    else:
        state, step, t = prepared.initial, 0, 0.0
        ts, energy, spread = [0.0], [float(prepared.energy(state))], [float(prepared.spread(state))]
        history = {k: [np.asarray(v)] for k, v in state.items()}

    def save(step_now, t_now, s, diag):
        nonlocal step, t, state
        step, t, state = step_now, t_now, s
        ts.append(t_now)
        energy.append(diag["energy"])
        spread.append(diag["spread"])
        for k, v in s.items():
            history[k].append(np.asarray(v))
        save_npz_atomic(
            checkpoint,
            step=step_now,
            t=t_now,
            parameters=json.dumps(parameters),
            ts=np.asarray(ts),
            energy=np.asarray(energy),
            spread=np.asarray(spread),
            **{f"state_{k}": np.asarray(v) for k, v in s.items()},
            **{f"history_{k}": np.stack(v) for k, v in history.items()},
        )
        advance(args.save_every)

    remaining = args.steps - step
    with progress_bar(f"flow {args.spec}", total=args.steps, enabled=not args.json) as advance:
        advance(step)
        if remaining > 0:
            rk4(
                prepared.flow,
                state,
                dt=dt,
                n_steps=remaining,
                save_every=args.save_every,
                t0=t,
                first_step=step,
                diagnostics={"energy": prepared.energy, "spread": prepared.spread},
                min_eigenvalue=prepared.min_eigenvalue,
                on_save=save,
            )

    ts_a, energy_a, spread_a = np.asarray(ts), np.asarray(energy), np.asarray(spread)
    save_npz_atomic(out / "trajectory.npz", ts=ts_a, energy=energy_a, spread=spread_a,
                    **{k: np.stack(v) for k, v in history.items()})
    _plot(out / "flow.png", ts_a, energy_a, spread_a, f"{args.spec} (grid {parameters['grid']}, sigma {args.sigma})",
          prepared.energy_label)
    monotone = bool(np.all(np.diff(energy_a) <= 0)) if prepared.monotone == "decreasing" else None
    positive = spread_a > 0
    rate = float(-np.polyfit(ts_a[positive], np.log(spread_a[positive]), 1)[0]) if positive.sum() >= 2 else None
    result = {
        "spec": args.spec,
        "steps": step,
        "t_final": float(ts_a[-1]),
        "energy_label": prepared.energy_label,
        "energy_initial": float(energy_a[0]),
        "energy_final": float(energy_a[-1]),
        "energy_monotone": monotone,
        "expected_monotone": prepared.monotone,
        "spread_initial": float(spread_a[0]),
        "spread_final": float(spread_a[-1]),
        "spread_decay_rate": rate,
        "files": {name: str(out / name) for name in ("trajectory.npz", "flow.png", "summary.json", "checkpoint.npz")},
        "run_record": run_record(args.seed, parameters),
    }
    write_json_atomic(out / "summary.json", result)
    emit(args.json, result, _render)
    return 0


def _render(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"flow {result['spec']}: {result['steps']} steps to t = {result['t_final']:.4g}")
    table.add_column("quantity")
    table.add_column("initial", justify="right")
    table.add_column("final", justify="right")
    table.add_row(result["energy_label"], f"{result['energy_initial']:.6g}", f"{result['energy_final']:.6g}")
    table.add_row("curvature spread", f"{result['spread_initial']:.6g}", f"{result['spread_final']:.6g}")
    console = Console()
    console.print(table)
    if result["expected_monotone"]:
        console.print(f"functional {result['expected_monotone']} at every saved step: {result['energy_monotone']}")
    if result["spread_decay_rate"] is not None:
        console.print(f"fitted decay rate of the spread: {result['spread_decay_rate']:.4g}")
    console.print(f"wrote {', '.join(result['files'].values())}")
