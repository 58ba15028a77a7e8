"""Time stepping of compiled flows :math:`\\dot y = f(t, y)` (``y`` any pytree of arrays).

* :func:`rk4` — the classical fourth-order Runge–Kutta method with fixed step (global error
  :math:`O(\\Delta t^4)`; ``tests/test_flows.py`` fits the order), jit-compiled in chunks of
  ``save_every`` steps (a ``lax.fori_loop``); after each chunk the state is checked (finite, and
  optionally a positive metric) and the diagnostics are recorded.
* :func:`solve_adaptive` — diffrax with an adaptive step (PID controller on the embedded error
  estimate): ``"tsit5"`` / ``"dopri5"`` (explicit, order 5(4)).  Explicit steps are limited by
  stiffness — :math:`\\Delta t \\lesssim \\Delta x^2` for second-order flows, :math:`\\Delta x^4` for
  the fourth-order Calabi flow — which the presets' default steps respect.

Both return a :class:`Trajectory`: the saved times, the stacked states (leading axis = saved step,
the initial state first) and the diagnostics at every saved step, all checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError, NonFiniteError, NotPositiveDefiniteError

__all__ = ["rk4", "rk4_step", "solve_adaptive", "Trajectory", "RK4_ORDER"]

RK4_ORDER = 4
"""The global order of :func:`rk4` (asserted by the order test)."""

Rhs = Callable[[Any, Any], Any]
Diagnostics = Mapping[str, Callable[[Any], jax.Array]]


@dataclass(frozen=True)
class Trajectory:
    """Saved, checked states of an integration.

    Attributes:
        ts: saved times, shape ``(n_saved,)``.
        ys: the state pytree with a leading axis of length ``n_saved`` on every leaf (numpy;
            ``ys[0]`` is the initial state).
        diagnostics: ``{name: (n_saved,)}``, each scalar diagnostic at every saved state.
        n_steps: accepted steps taken in total.
    """

    ts: np.ndarray
    ys: Any
    diagnostics: dict[str, np.ndarray]
    n_steps: int


def _axpy(a, x, y):
    return jax.tree_util.tree_map(lambda xi, yi: yi + a * xi, x, y)


def rk4_step(rhs: Rhs, t, y, dt):
    """One classical RK4 step of size ``dt`` from ``(t, y)``."""
    k1 = rhs(t, y)
    k2 = rhs(t + dt / 2, _axpy(dt / 2, k1, y))
    k3 = rhs(t + dt / 2, _axpy(dt / 2, k2, y))
    k4 = rhs(t + dt, _axpy(dt, k3, y))
    return jax.tree_util.tree_map(lambda yi, a, b, c, d: yi + dt / 6 * (a + 2 * b + 2 * c + d), y, k1, k2, k3, k4)


class _Checks:
    """The checks and diagnostics of every saved state, shared by both drivers."""

    def __init__(self, diagnostics: Diagnostics | None, min_eigenvalue: Callable[[Any], jax.Array] | None):
        self.names = tuple(diagnostics or {})
        self.probes = jax.jit(lambda y: {k: f(y) for k, f in (diagnostics or {}).items()})
        self.lowest = jax.jit(min_eigenvalue) if min_eigenvalue is not None else None

    def __call__(self, where: str, y) -> dict[str, float]:
        """Check the state ``y`` saved at ``where`` (``"step 40"``, ``"t = 0.1"``); its diagnostics."""
        for path, leaf in jax.tree_util.tree_flatten_with_path(y)[0]:
            if not bool(jnp.all(jnp.isfinite(leaf))):
                raise NonFiniteError(f"state{jax.tree_util.keystr(path)} is not finite at {where}")
        if self.lowest is not None:
            low = float(self.lowest(y))
            if not low > 0:
                raise NotPositiveDefiniteError(f"metric is not positive definite at {where} (smallest eigenvalue {low:.3g})")
        values = {k: float(v) for k, v in self.probes(y).items()}
        for k, v in values.items():
            if not np.isfinite(v):
                raise NonFiniteError(f"diagnostic {k!r} is {v} at {where} (is the time step stable for this grid?)")
        return values

    def trajectory(self, ts, states: list, diags: list[dict[str, float]], n_steps: int) -> Trajectory:
        return Trajectory(
            ts=np.asarray(ts, dtype=float),
            ys=jax.tree_util.tree_map(lambda *leaves: np.stack([np.asarray(v) for v in leaves]), *states),
            diagnostics={k: np.asarray([d[k] for d in diags]) for k in self.names},
            n_steps=n_steps,
        )


def rk4(
    rhs: Rhs,
    y0,
    *,
    dt: float,
    n_steps: int,
    save_every: int = 1,
    t0: float = 0.0,
    first_step: int = 0,
    diagnostics: Diagnostics | None = None,
    min_eigenvalue: Callable[[Any], jax.Array] | None = None,
    on_save: Callable[[int, float, Any, dict[str, float]], None] | None = None,
) -> Trajectory:
    """Integrate ``n_steps`` RK4 steps of size ``dt`` in chunks of ``save_every``, checking each chunk.

    Returns ``n_steps // save_every + 1`` saved states (the initial one first).

    Args:
        rhs: :math:`f(t, y)`, e.g. a :class:`numerics.grid.flows.GridFlow`.
        y0: the initial state (a pytree of arrays).
        diagnostics: scalar functions of the state recorded at every saved step (functional,
            curvature spread, …).
        min_eigenvalue: the smallest eigenvalue of the metric over the grid; a saved state where
            it is ``<= 0`` raises :class:`NotPositiveDefiniteError` with the step number.
        first_step: step number of ``y0`` (for resumed runs; steps are counted from there).
        on_save: called after each checked chunk with ``(step, t, state, diagnostics)``
            (checkpointing, progress bars).

    Raises:
        InvalidParameterError: ``dt <= 0`` or not finite; ``n_steps < 1`` or not divisible by ``save_every >= 1``.
        NonFiniteError: a saved state or diagnostic with NaN or infinity (naming the leaf or the
            diagnostic and the step).
        NotPositiveDefiniteError: see ``min_eigenvalue``.

    Example:
        :math:`\\dot y = -y` to :math:`t = 1` (global error :math:`O(\\Delta t^4)`, here ~1e-11):

        >>> import jax.numpy as jnp
        >>> traj = rk4(lambda t, y: -y, jnp.array(1.0), dt=0.01, n_steps=100, save_every=50,
        ...            diagnostics={"y": lambda y: y})
        >>> traj.ts.round(12).tolist(), round(float(traj.ys[-1]), 9), traj.diagnostics["y"].shape
        ([0.0, 0.5, 1.0], 0.367879441, (3,))
    """
    if not (np.isfinite(dt) and dt > 0):
        raise InvalidParameterError(f"dt must be positive and finite, got {dt}")
    if n_steps < 1 or save_every < 1 or n_steps % save_every:
        raise InvalidParameterError(f"need n_steps >= 1 divisible by save_every >= 1, got {n_steps}, {save_every}")
    check = _Checks(diagnostics, min_eigenvalue)

    @jax.jit
    def chunk(t, y):
        return jax.lax.fori_loop(0, save_every, lambda i, c: (c[0] + dt, rk4_step(rhs, c[0], c[1], dt)), (t, y))

    t, y = jnp.asarray(t0, dtype=float), y0
    ts, states, diags = [float(t0)], [y0], [check(f"step {first_step}", y0)]
    for block in range(n_steps // save_every):
        t, y = chunk(t, y)
        step = first_step + (block + 1) * save_every
        d = check(f"step {step}", y)
        ts.append(float(t))
        states.append(y)
        diags.append(d)
        if on_save is not None:
            on_save(step, float(t), y, d)
    return check.trajectory(ts, states, diags, n_steps)


Solver = Literal["tsit5", "dopri5"]


def solve_adaptive(
    rhs: Rhs,
    y0,
    *,
    ts: np.ndarray,
    solver: Solver = "tsit5",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    dt0: float | None = None,
    max_steps: int = 200_000,
    diagnostics: Diagnostics | None = None,
    min_eigenvalue: Callable[[Any], jax.Array] | None = None,
) -> Trajectory:
    """Integrate from ``ts[0]`` to ``ts[-1]`` with diffrax and an adaptive step, saving at ``ts``.

    ``diagnostics`` and ``min_eigenvalue`` are recorded and checked at the saved states as in
    :func:`rk4`.

    Raises :class:`NonFiniteError` if the solver fails (step-size collapse, NaN) — never returns a
    partial trajectory silently — and the errors of :func:`rk4`'s checks.
    """
    import diffrax

    solvers = {"tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5}
    if solver not in solvers:
        raise InvalidParameterError(f"unknown solver {solver!r}; choose one of {sorted(solvers)}")
    ts = np.asarray(ts, dtype=float)
    if ts.ndim != 1 or ts.size < 2 or np.any(np.diff(ts) <= 0):
        raise InvalidParameterError("ts must be a strictly increasing 1-d array of >= 2 times")
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: rhs(t, y)),
        solvers[solver](),
        t0=float(ts[0]),
        t1=float(ts[-1]),
        dt0=dt0,
        y0=y0,
        saveat=diffrax.SaveAt(ts=jnp.asarray(ts)),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    if not bool(sol.result == diffrax.RESULTS.successful):
        raise NonFiniteError(f"{solver} stopped before t = {ts[-1]}: {diffrax.RESULTS[sol.result]}")
    check = _Checks(diagnostics, min_eigenvalue)
    states = [jax.tree_util.tree_map(lambda leaf, i=i: leaf[i], sol.ys) for i in range(ts.size)]
    return check.trajectory(ts, states, [check(f"t = {t:.6g}", y) for t, y in zip(ts, states)], int(sol.stats["num_accepted_steps"]))
