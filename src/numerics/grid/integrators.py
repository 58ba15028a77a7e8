"""Time stepping of compiled flows :math:`\\dot y = f(t, y)` (``y`` any pytree of arrays).

* :func:`rk4` — the classical fourth-order Runge–Kutta method with fixed step (global error
  :math:`O(\\Delta t^4)`; ``tests/test_flows.py`` fits the order), jit-compiled as a
  ``lax.scan`` over saved steps with an inner ``lax.fori_loop``.
* :func:`solve_adaptive` — diffrax with an adaptive step (PID controller on the embedded error
  estimate): ``"tsit5"`` / ``"dopri5"`` (explicit, order 5(4)).  Explicit steps are limited by
  stiffness — :math:`\\Delta t \\lesssim \\Delta x^2` for second-order flows, :math:`\\Delta x^4` for
  the fourth-order Calabi flow — which the presets' default steps respect.

Both return the saved times and the stacked states (leading axis = saved step, the initial state
first), so callers can check every saved step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError, NonFiniteError

__all__ = ["rk4", "rk4_step", "solve_adaptive", "Trajectory", "RK4_ORDER"]

RK4_ORDER = 4
"""The global order of :func:`rk4` (asserted by the order test)."""

Rhs = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Trajectory:
    """Saved states of an integration.

    Attributes:
        ts: saved times, shape ``(n_saved,)``.
        ys: the state pytree with a leading axis of length ``n_saved`` (``ys[0]`` is the initial state).
        n_steps: accepted steps taken in total.
    """

    ts: np.ndarray
    ys: Any
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


def _check_steps(dt: float, n_steps: int, save_every: int) -> None:
    if not (np.isfinite(dt) and dt > 0):
        raise InvalidParameterError(f"dt must be positive and finite, got {dt}")
    if n_steps < 1 or save_every < 1 or n_steps % save_every:
        raise InvalidParameterError(f"need n_steps >= 1 divisible by save_every >= 1, got {n_steps}, {save_every}")


def rk4(rhs: Rhs, y0, *, t0: float = 0.0, dt: float, n_steps: int, save_every: int = 1) -> Trajectory:
    """Integrate ``n_steps`` RK4 steps of size ``dt``, saving every ``save_every`` steps.

    Returns ``n_steps // save_every + 1`` saved states (the initial one first).
    """
    _check_steps(dt, n_steps, save_every)

    @jax.jit
    def run(y0):
        def block(carry, _):
            t, y = carry
            t, y = jax.lax.fori_loop(0, save_every, lambda i, c: (c[0] + dt, rk4_step(rhs, c[0], c[1], dt)), (t, y))
            return (t, y), y

        _, ys = jax.lax.scan(block, (jnp.asarray(t0, dtype=float), y0), None, length=n_steps // save_every)
        return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), y0, ys)

    ys = run(y0)
    ts = t0 + dt * save_every * np.arange(n_steps // save_every + 1)
    return Trajectory(ts=ts, ys=ys, n_steps=n_steps)


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
) -> Trajectory:
    """Integrate from ``ts[0]`` to ``ts[-1]`` with diffrax and an adaptive step, saving at ``ts``.

    Raises :class:`NonFiniteError` if the solver fails (step-size collapse, NaN) — never returns a
    partial trajectory silently.
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
    return Trajectory(ts=ts, ys=sol.ys, n_steps=int(sol.stats["num_accepted_steps"]))
