"""``flowtheory flow run SPEC``: run a compiled flow preset (:mod:`numerics.grid.presets`) or a flow file.

``SPEC`` is a preset name or a flow file ``FILE.toml`` / ``FILE.json`` describing a flow — functional,
coordinates, initial metric or potential, kernel, grid, time stepping (:mod:`flowtheory.cli.flow_spec`);
``--steps``, ``--dt``, ``--grid``, ``--sigma`` and ``--save-every`` given on the command line
override the file's values.

Writes, into ``--out`` (default ``flow-<SPEC>``, ``flow-<FILE stem>`` for a file):

* ``trajectory.npz`` — saved times, the fields at every saved step, the functional, the curvature
  spread, the grid's coordinates and a ``description`` of every key (:data:`TRAJECTORY_KEYS`);
* ``flow.png`` — the functional and the curvature spread against time (log axes where they fall by
  decades, the linearised flow's decay law beside them where the preset states it) and the
  curvature field at the first, the middle and the last saved step, the run named in the title;
* ``summary.json`` — the figures printed, with ``run_record`` (seed, versions, parameters);
* ``checkpoint.npz`` — the state after the last saved step (schema ``flowtheory.flow.checkpoint/1``,
  checked field by field on load); ``--resume`` continues from it (the parameters must match) up
  to ``--steps`` in total, says so on stderr and records it in the summary (``resumed_from``).

A folder that already holds a run is refused unless ``--resume`` or ``--overwrite``; temporaries
a killed run left are removed.  Bad input (unknown preset, steps/dt/grid out of their stated
bounds, a damaged checkpoint, a metric that stops being positive definite or a state or
diagnostic that stops being finite during the flow — reported with its step number) exits with
status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flowtheory.cli.output import CliError, bounded_float, bounded_int, checkpoint_parameters, emit, open_checkpoint, prepare_output_folder, say, seed
from flowtheory.errors import InvalidFileError

CHECKPOINT_FORMAT = "flowtheory.flow.checkpoint/1"
PRODUCTS = ("trajectory.npz", "flow.png", "summary.json", "checkpoint.npz")
STEPS_MAX = 10_000_000
"""Most RK4 steps one run takes (a few hours for the largest default grids on two cores)."""
GRID_MAX = 1024
"""Most grid points per axis (a 1024 x 1024 two-field state and its RK4 stages fit in 1 GiB)."""
SIGMA_MAX = 10.0

PRESET_NAMES = ("ricci-t2", "ricci-s2", "kahler-ricci-torus", "calabi-torus", "ultralocal-torus")
"""The keys of :data:`numerics.grid.presets.PRESETS`, named here so that the parser imports no numerics."""

TRAJECTORY_KEYS = {
    "ts": "saved times t, shape (n_saved,)",
    "energy": "the run's functional (energy_label in summary.json) at each saved time, shape (n_saved,)",
    "spread": "max - min over the grid of the scalar curvature (Riemannian R, Kähler g^{a bbar} R_{a bbar}; eta for ultralocal-torus), shape (n_saved,)",
    "coordinates": "the real coordinates of the grid points, shape (dim, *grid), axis a named coordinate_names[a] (a complex torus: x, y of z = x + i y)",
    "coordinate_names": "the names of the coordinates, shape (dim,)",
    "description": "this table: JSON object key -> meaning",
    "FIELD": "each evolving field at each saved time, shape (n_saved, *grid): g_ij (i <= j) metric components, u the conformal factor of ricci-s2, phi the Kähler potential correction",
}
"""The keys of ``trajectory.npz`` and what they hold (saved in it as the JSON string ``description``)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flow", help="run compiled metric and Kähler-potential flows on tori and spheres")
    flow_sub = p.add_subparsers(dest="flow_command", required=True, metavar="FLOW_COMMAND")
    run = flow_sub.add_parser("run", help="integrate a flow preset or a flow file and write trajectory, plot and summary")
    run.add_argument("spec", metavar="SPEC", help=f"flow preset ({', '.join(PRESET_NAMES)}) or flow file FILE.toml / FILE.json (see README)")
    run.add_argument("--steps", type=bounded_int(1, STEPS_MAX), default=None, help=f"total time steps (1 to {STEPS_MAX}; default: the preset's, long enough to fit the late decay rate, or the flow file's)")
    run.add_argument("--dt", type=bounded_float(0, 1, low_open=True), default=None, help="time step in (0, 1] (default: the preset's stable step for the grid, or the flow file's)")
    run.add_argument("--grid", type=bounded_int(4, GRID_MAX), default=None, help=f"grid points per axis, even, 4 to {GRID_MAX} (default: the preset's or the flow file's)")
    run.add_argument("--sigma", type=bounded_float(0, SIGMA_MAX), default=None, help=f"width of the Gaussian metric-NTK (2.30) in chart coordinates (tori), 0 to {SIGMA_MAX:g}; 0 = local flow (default 0, or the flow file's)")
    run.add_argument("--seed", type=seed, default=0, help="seed of the random initial state (0 to 2**32-1, default 0)")
    run.add_argument("--save-every", type=bounded_int(1, STEPS_MAX), default=None, help="steps between saved, checked states, a divisor of --steps (default: about steps/20)")
    run.add_argument("--out", type=Path, default=None, help="output folder (default flow-SPEC)")
    runs = run.add_mutually_exclusive_group()
    runs.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    runs.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in OUT")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(handler=_run)


def _parameters(args, prepared, flow_file=None) -> dict:
    parameters = {
        "spec": args.spec,
        "steps": args.steps,
        "dt": args.dt if args.dt is not None else prepared.default_dt,
        "grid": list(prepared.grid.shape),
        "sigma": args.sigma,
        "save_every": args.save_every,
    }
    if flow_file is not None:
        parameters["definition"] = flow_file.definition()
    return parameters


def _apply_flow_file(args):
    """For a flow file: read it, and take from it the options not given on the command line; else
    the presets' defaults.  Returns the :class:`flowtheory.cli.flow_spec.FlowFile` or ``None``."""
    from flowtheory.cli import flow_spec

    if not flow_spec.is_flow_file(args.spec):
        from numerics.grid.presets import default_steps

        args.steps = default_steps(args.spec) if args.steps is None else args.steps
        args.sigma = 0.0 if args.sigma is None else args.sigma
        return None
    flow_file = flow_spec.load(Path(args.spec))
    for option, value in (("steps", flow_file.steps), ("dt", flow_file.dt), ("grid", flow_file.size),
                          ("sigma", flow_file.sigma), ("save_every", flow_file.save_every)):
        if getattr(args, option) is None:
            setattr(args, option, value)
    if args.sigma and flow_file.kernel == "local":
        raise CliError(f"--sigma {args.sigma:g}: {args.spec} has a local kernel; set [kernel] type = \"gaussian\" in the file")
    return flow_file  # a Gaussian file run with --sigma 0 is the local flow (2.31)


def _validate(args) -> dict | None:
    """Check the options against each other; returns the checkpoint's parameters when resuming."""
    if args.grid is not None and args.grid % 2:
        raise CliError(f"--grid must be an even integer >= 4, got {args.grid}")
    saved = None
    if args.resume:
        saved = _checkpoint_parameters(_out(args) / "checkpoint.npz")
        if args.save_every is None:  # keep the interrupted run's spacing
            args.save_every = saved.get("save_every")
    if args.save_every is None:  # the largest divisor of --steps not above steps/20
        args.save_every = _default_save_every(args.steps)
    if args.steps % args.save_every:
        raise CliError(f"--save-every must be a positive divisor of --steps ({args.steps}), got {args.save_every}")
    return saved


def _default_save_every(steps: int) -> int:
    """The largest divisor of ``steps`` not above ``steps / 20`` (by trial up to sqrt(steps))."""
    limit = max(1, steps // 20)
    best = 1
    d = 1
    while d * d <= steps:
        if steps % d == 0:
            for candidate in (d, steps // d):
                if best < candidate <= limit:
                    best = candidate
        d += 1
    return best


def _out(args) -> Path:
    from flowtheory.cli.flow_spec import is_flow_file

    return args.out or Path(f"flow-{Path(args.spec).stem if is_flow_file(args.spec) else args.spec}")


def _open_checkpoint(path: Path) -> dict:
    """All arrays of a checkpoint file, or :class:`InvalidFileError` naming what is wrong."""
    return open_checkpoint(path, CHECKPOINT_FORMAT, ("step", "t", "ts", "energy", "spread"))


def _checkpoint_parameters(path: Path, arrays: dict | None = None) -> dict:
    """The run parameters stored in a checkpoint (its arrays, if already read, are not read again)."""
    arrays = _open_checkpoint(path) if arrays is None else arrays
    parameters = checkpoint_parameters(path, arrays)
    every = parameters.get("save_every")
    if type(every) is not int or not 1 <= every <= STEPS_MAX:
        raise InvalidFileError(path, f"expected an integer in [1, {STEPS_MAX}], got {str(every)[:40]}", field="parameters.save_every")
    return parameters


def _load_checkpoint(path: Path, parameters: dict, initial: dict, steps: int):
    """The state of a checkpoint, checked against this run: same parameters, a step that is a
    multiple of save_every and not beyond ``steps``, t = step * dt, states of the preset's shapes
    and finite, histories with one entry per saved step."""
    import numpy as np

    data = _open_checkpoint(path)
    saved = _checkpoint_parameters(path, data)
    keys = ("spec", "dt", "grid", "sigma", "save_every", "seed", "definition")
    mismatch = [k for k in keys if saved.get(k) != parameters.get(k)]
    if mismatch:
        raise CliError(f"--resume: {path}: checkpoint parameters differ in {mismatch}; rerun with the same values, or with --overwrite to start afresh")
    every = saved["save_every"]

    def scalar(name: str, kinds: str):
        value = data[name]
        if value.shape != () or value.dtype.kind not in kinds or not np.isfinite(value):
            raise InvalidFileError(path, f"expected a finite scalar, got {value.dtype} {value.shape}", field=name)
        return value.item()

    step, t = int(scalar("step", "iu")), float(scalar("t", "f"))
    if not (0 < step <= STEPS_MAX and step % every == 0):
        raise InvalidFileError(path, f"expected a positive multiple of save_every = {every}, got {step}", field="step")
    if step > steps:
        raise CliError(f"--resume: the checkpoint in {path.parent} is at step {step}, beyond --steps {steps}; ask for --steps >= {step}")
    if not abs(t - step * parameters["dt"]) <= 1e-9 * max(1.0, abs(t)):
        raise InvalidFileError(path, f"t = {t} is not step * dt = {step * parameters['dt']}", field="t")
    n_saved = step // every + 1
    for name in ("ts", "energy", "spread"):
        v = data[name]
        if v.dtype.kind != "f" or v.shape != (n_saved,) or not np.all(np.isfinite(v)):
            raise InvalidFileError(path, f"expected {n_saved} finite numbers, got {v.dtype} {v.shape}", field=name)
    expected = {k: np.shape(v) for k, v in initial.items()}
    fields = sorted(k[len("state_"):] for k in data if k.startswith("state_"))
    if fields != sorted(expected):
        raise InvalidFileError(path, f"expected state fields {sorted(expected)}, got {fields}", field="state")
    for k, shape in expected.items():
        for name, want in ((f"state_{k}", shape), (f"history_{k}", (n_saved, *shape))):
            v = data.get(name)
            if v is None or v.dtype.kind != "f" or v.shape != want or not np.all(np.isfinite(v)):
                got = "missing" if v is None else f"{v.dtype} {v.shape}"
                raise InvalidFileError(path, f"expected finite float {want}, got {got}", field=name)
    return (
        step,
        t,
        {k: data[f"state_{k}"] for k in expected},
        list(data["ts"]),
        list(data["energy"]),
        list(data["spread"]),
        {k: list(data[f"history_{k}"]) for k in expected},
    )


SNAPSHOTS = 3
"""Saved steps whose curvature field ``flow.png`` shows: the first, the middle and the last."""


def _axis_label(name: str) -> str:
    """A coordinate's axis label with its unit: angles on the sphere in radians, chart coordinates of a torus plain numbers."""
    return {"theta": "θ (rad)", "phi": "φ (rad)"}.get(name, f"{name} (chart coordinate, dimensionless)")


def _decays_over_decades(values) -> bool:
    """Log axis for a positive quantity that falls by a factor 10 or more over the run."""
    import numpy as np

    return bool(np.all(values > 0)) and values[0] >= 10 * values[-1]


def _title(args, parameters: dict, steps: int, t_final: float, flow_file) -> str:
    """The run in words: preset or flow file (functional, manifold, kernel), grid, dt, steps, seed, σ."""
    grid = " × ".join(map(str, parameters["grid"]))
    if flow_file is None:
        what = f"flow run {args.spec}"
    else:
        d = parameters["definition"]
        what = f"flow run {Path(args.spec).name}: {d['functional']} on the {d['manifold']}, {d['integrator']}"
    kernel = "local kernel (2.14)" if not args.sigma else f"Gaussian metric-NTK (2.30), σ = {args.sigma:g}"
    return (f"{what}\ngrid {grid}, dt = {parameters['dt']:.3g}, {steps} step{'s' if steps != 1 else ''} to t = {t_final:.4g}, "
            f"saved every {args.save_every}, seed {args.seed}, {kernel}")


def _plot(path: Path, ts, energy, spread, *, title: str, prepared, fit, history: dict, save_every: int) -> None:
    """``flow.png``: the functional and the curvature spread against t (log axes where they span
    decades), and the curvature field at the first, a middle and the last saved step (heat maps on
    2-d grids, a slice through the first two axes beyond; lines on 1-d).

    Where the preset states the linearised flow's decay rate, the spread carries its law
    :math:`A e^{-\\text{rate}\\,t}` and the functional :math:`A' e^{-2\\,\\text{rate}\\,t}` — every
    preset's functional vanishes at its limit to second order in the deviation from it — with
    :math:`A`, :math:`A'` fitted (:func:`numerics.grid.presets.decay_amplitude`) over the window
    the rate is fitted in, which is shaded."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from numerics.grid.presets import decay_amplitude
    from numerics.io.provenance import save_figure_atomic

    fig = plt.figure(figsize=(14, 9.5))
    axes = fig.subplot_mosaic([["energy"] * 3 + ["spread"] * 3, [f"s{k}" for k in range(SNAPSHOTS) for _ in (0, 1)]])
    time_label = "flow time t (dimensionless)"
    rate = None if prepared.decay_rate is None else prepared.decay_rate()
    ts = np.asarray(ts)
    a = axes["energy"]
    energy = np.asarray(energy)
    a.plot(ts, energy, marker=".", label=f"{prepared.energy_label} at each saved step")
    if fit is not None and rate is not None and np.all(energy > 0):  # quadratic in the deviation that decays at rate
        amplitude = decay_amplitude(ts, energy, 2 * rate, fit[1], fit[2])
        a.plot(ts, amplitude * np.exp(-2 * rate * ts), "--", color="C3",
               label=f"linearised flow: A·exp(−2·{rate:#.4g} t), quadratic in the decaying modes")
    a.set_yscale("log" if _decays_over_decades(energy) else "linear")
    a.set_xlabel(time_label)
    a.set_ylabel(textwrap.fill(f"{prepared.energy_label} (dimensionless)", 45))
    a.set_title("the functional" + (f", {prepared.monotone} along a gradient flow" if prepared.monotone else ""))
    a.legend(fontsize=8)

    b = axes["spread"]
    spread = np.asarray(spread)
    b.plot(ts, spread, marker=".", label="max − min over the grid")
    if fit is not None:
        b.axvspan(fit[1], fit[2], color="0.85", label=f"fit window: fitted rate {fit[0]:#.4g}")
        if rate is not None:
            amplitude = decay_amplitude(ts, spread, rate, fit[1], fit[2])
            b.plot(ts, amplitude * np.exp(-rate * ts), "--", color="C3",
                   label=f"linearised flow: A·exp(−{rate:#.4g} t)\n({prepared.decay_theory})")
    b.set_yscale("log" if _decays_over_decades(spread) else "linear")
    b.set_xlabel(time_label)
    b.set_ylabel(f"max − min of {prepared.curvature_label} (dimensionless)")
    b.set_title(f"curvature spread: max − min of {prepared.curvature_label}")
    b.legend(fontsize=8)

    n_saved = len(ts)
    picks = sorted({0, (n_saved - 1) // 2, n_saved - 1})
    coordinates = prepared.coordinates()
    names = prepared.coordinate_names
    for k in range(SNAPSHOTS):
        c = axes[f"s{k}"]
        if k >= len(picks):
            c.set_visible(False)
            continue
        i = picks[k]
        field = np.asarray(prepared.curvature({name: values[i] for name, values in history.items()}))
        mean = float(np.mean(field))  # shown apart: the deviation from it is what the flow removes
        deviation = f"{prepared.curvature_label} − mean (dimensionless)"
        c.set_title(f"{prepared.curvature_label} at t = {ts[i]:.4g} (step {i * save_every})\nmean over the grid points {mean:.6g}", fontsize=10)
        if field.ndim == 1:
            c.plot(coordinates[0], field - mean, label=f"{prepared.curvature_label} − mean")
            c.set_xlabel(_axis_label(names[0]))
            c.set_ylabel(deviation)
            c.legend(fontsize=8)
            continue
        where = (slice(None), slice(None)) + (0,) * (field.ndim - 2)
        mesh = c.pcolormesh(coordinates[0][where], coordinates[1][where], field[where] - mean, shading="auto", cmap="viridis")
        fig.colorbar(mesh, ax=c, label=deviation)
        c.set_xlabel(_axis_label(names[0]))
        c.set_ylabel(_axis_label(names[1]))
        if field.ndim > 2:
            c.set_title(c.get_title() + "\nslice " + ", ".join(f"{n} = {coordinates[j][(0,) * field.ndim]:.3g}" for j, n in enumerate(names) if j >= 2),
                        fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure_atomic(path, fig, dpi=100)
    plt.close(fig)


def _run(args) -> int:
    flow_file = _apply_flow_file(args)
    _validate(args)
    out = _out(args)
    mode = prepare_output_folder(out, PRODUCTS, overwrite=args.overwrite, resume=args.resume)
    import jax.numpy as jnp
    import numpy as np

    from flowtheory.cli.flow_spec import stepper
    from numerics.grid.presets import fit_decay_rate, prepare
    from numerics.io.progress import progress_bar
    from numerics.io.provenance import run_record, save_npz_atomic, write_json_atomic

    if flow_file is None:
        prepared, integrate = prepare(args.spec, grid=args.grid, seed=args.seed, sigma=args.sigma), stepper("rk4")
    else:
        prepared, integrate = flow_file.prepare(size=args.grid, sigma=args.sigma, dt=args.dt), stepper(flow_file.integrator)
    parameters = {**_parameters(args, prepared, flow_file), "seed": args.seed}
    dt = parameters["dt"]
    checkpoint = out / "checkpoint.npz"

    resumed_from = None
    if mode == "resume":
        step, t, state, ts, energy, spread, history = _load_checkpoint(checkpoint, parameters, prepared.initial, args.steps)
        state = {k: jnp.asarray(v) for k, v in state.items()}
        resumed_from = {"file": str(checkpoint), "step": step}
        say(f"resumed from {checkpoint} at step {step} of {args.steps}")
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
            format=CHECKPOINT_FORMAT,
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
            integrate(
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
                    coordinates=prepared.coordinates(), coordinate_names=np.asarray(prepared.coordinate_names),
                    description=json.dumps(TRAJECTORY_KEYS), **{k: np.stack(v) for k, v in history.items()})
    monotone = bool(np.all(np.diff(energy_a) <= 0)) if prepared.monotone == "decreasing" else None
    fit = fit_decay_rate(ts_a, spread_a)  # over the last quarter of the run
    _plot(out / "flow.png", ts_a, energy_a, spread_a, title=_title(args, parameters, step, float(ts_a[-1]), flow_file), prepared=prepared,
          fit=fit, history=history, save_every=args.save_every)
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
        "spread_decay_rate": None if fit is None else fit[0],
        "spread_decay_fit_t": None if fit is None else list(fit[1:]),
        "spread_decay_rate_theory": None if prepared.decay_rate is None else prepared.decay_rate(),
        "spread_decay_theory": prepared.decay_theory,
        "files": {name: str(out / name) for name in PRODUCTS},
        "resumed_from": resumed_from,
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
        theory = result["spread_decay_rate_theory"]
        said = "" if theory is None else f" (theory {theory:#.4g}, {result['spread_decay_theory']})"
        t0, t1 = result["spread_decay_fit_t"]
        console.print(f"decay rate: fitted {result['spread_decay_rate']:#.4g}{said}, spread fitted over t = {t0:.4g} to {t1:.4g}")
    console.print(f"wrote {', '.join(result['files'].values())}")
