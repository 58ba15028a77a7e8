"""Compiled flows on a grid: a right-hand side made of compiled field expressions, time stepping
in checked chunks, and the diagnostics every flow reports.

A :class:`GridFlow` holds, for each evolving field (metric components ``g00, g01, …``, a conformal
factor ``u``, a Kähler potential correction ``phi``), the :class:`numerics.grid.fields.CompiledField`
of its time derivative, as sympy derived it.  Optionally

* ``mean_free`` — subtract from the right-hand side its mean with respect to a compiled density
  (the normalised Ricci flow :math:`\\partial_t g = (\\bar r - R) g`; the additive constant of a
  Kähler potential);
* ``smearing`` — a callable applied to every right-hand side (the Gaussian non-local metric-NTK of
  (2.30), :func:`numerics.grid.smearing.gaussian_smear`).

:func:`run_flow` integrates it with :func:`numerics.grid.integrators.rk4` in chunks of ``save_every``
steps and checks after each chunk that the state is finite and that the metric stays positive
definite (``min_eigenvalue``); a violation raises :class:`NotPositiveDefiniteError` /
:class:`NonFiniteError` naming the step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError, NonFiniteError, NotPositiveDefiniteError
from numerics.grid.fields import CompiledField, compile_jet_expression
from numerics.grid.integrators import rk4_step

__all__ = ["GridFlow", "run_flow", "FlowRun"]

State = dict[str, jax.Array]


@dataclass(frozen=True)
class GridFlow:
    """:math:`\\partial_t f_a = \\mathrm{rhs}_a[f]` for fields :math:`f_a` on ``grid``.

    Attributes:
        grid: a grid of :mod:`numerics.grid.grids`.
        rhs: ``{field name: compiled right-hand side}``; every field an expression uses must evolve.
        parities: double-Fourier parities of the fields (sphere grids; default +1).
        mean_free: ``None`` or a compiled density :math:`\\rho`; then each right-hand side
            :math:`v` becomes :math:`v - \\int v\\rho / \\int \\rho`.
        smearing: ``None`` or a map applied to every right-hand side array (non-local kernels).
    """

    grid: Any
    rhs: Mapping[str, CompiledField]
    parities: Mapping[str, int] = field(default_factory=dict)
    mean_free: CompiledField | None = None
    smearing: Callable[[jax.Array], jax.Array] | None = None

    def __post_init__(self):
        used = set().union(*(c.fields for c in self.rhs.values()))
        if self.mean_free is not None:
            used |= set(self.mean_free.fields)
        if not used <= set(self.rhs):
            raise InvalidParameterError(f"fields {sorted(used - set(self.rhs))} appear but do not evolve")

    @classmethod
    def from_spec(cls, spec, grid, **options) -> "GridFlow":
        """The flow of a :class:`flowtheory.spec.FlowSpec` (its jet-form right-hand sides, compiled).

        Constants of the functional must be given values first (``spec.with_parameters``); with a
        Gaussian kernel the right-hand side is the local force, to be smeared through
        ``smearing=`` (:func:`numerics.grid.smearing.gaussian_smear`).  ``options`` are the other fields.
        """
        rhs = {name: compile_jet_expression(expr, spec.jet) for name, expr in spec.rhs_jet().items()}
        return cls(grid, rhs, **options)

    def __call__(self, t, state: State) -> State:
        out = {name: c.evaluate(self.grid, state, self.parities) for name, c in self.rhs.items()}
        if self.mean_free is not None:
            rho = self.mean_free.evaluate(self.grid, state, self.parities)
            total = self.grid.integrate(rho)
            out = {k: v - self.grid.integrate(v * rho) / total for k, v in out.items()}
        if self.smearing is not None:
            out = {k: self.smearing(v) for k, v in out.items()}
        return out


@dataclass(frozen=True)
class FlowRun:
    """A checked trajectory: ``ts`` (saved times), ``states`` (field -> ``(n_saved, *grid)``),
    ``diagnostics`` (name -> ``(n_saved,)``)."""

    ts: np.ndarray
    states: dict[str, np.ndarray]
    diagnostics: dict[str, np.ndarray]


def run_flow(
    flow: GridFlow,
    state: State,
    *,
    dt: float,
    n_steps: int,
    save_every: int = 1,
    t0: float = 0.0,
    first_step: int = 0,
    diagnostics: Mapping[str, Callable[[State], jax.Array]] | None = None,
    min_eigenvalue: Callable[[State], jax.Array] | None = None,
    on_save: Callable[[int, float, State, dict[str, float]], None] | None = None,
) -> FlowRun:
    """Integrate ``n_steps`` RK4 steps of ``dt`` in chunks of ``save_every``, checking each chunk.

    Args:
        diagnostics: scalar functions of the state recorded at every saved step (functional,
            curvature spread, …).
        min_eigenvalue: the smallest eigenvalue of the metric over the grid; a saved state where
            it is ``<= 0`` raises :class:`NotPositiveDefiniteError` with the step number.
        first_step: step number of ``state`` (for resumed runs; steps are counted from there).
        on_save: called after each checked chunk with ``(step, t, state, diagnostics)``
            (checkpointing, progress bars).
    """
    if n_steps < 1 or save_every < 1 or n_steps % save_every:
        raise InvalidParameterError(f"need n_steps >= 1 divisible by save_every >= 1, got {n_steps}, {save_every}")
    if not (np.isfinite(dt) and dt > 0):
        raise InvalidParameterError(f"dt must be positive and finite, got {dt}")
    diagnostics = dict(diagnostics or {})
    probes = jax.jit(lambda s: {k: f(s) for k, f in diagnostics.items()})
    lowest = jax.jit(min_eigenvalue) if min_eigenvalue is not None else None

    @jax.jit
    def chunk(t, s):
        return jax.lax.fori_loop(0, save_every, lambda i, c: (c[0] + dt, rk4_step(flow, c[0], c[1], dt)), (t, s))

    def check(step: int, s: State) -> dict[str, float]:
        for name, v in s.items():
            if not bool(jnp.all(jnp.isfinite(v))):
                raise NonFiniteError(f"field {name} is not finite at step {step}")
        if lowest is not None:
            low = float(lowest(s))
            if not low > 0:
                raise NotPositiveDefiniteError(f"metric is not positive definite at step {step} (smallest eigenvalue {low:.3g})")
        return {k: float(v) for k, v in probes(s).items()}

    t = jnp.asarray(t0, dtype=float)
    ts, states, diags = [float(t0)], [state], [check(first_step, state)]
    for block in range(n_steps // save_every):
        t, state = chunk(t, state)
        step = first_step + (block + 1) * save_every
        d = check(step, state)
        ts.append(float(t))
        states.append(state)
        diags.append(d)
        if on_save is not None:
            on_save(step, float(t), state, d)
    return FlowRun(
        ts=np.asarray(ts),
        states={k: np.stack([np.asarray(s[k]) for s in states]) for k in state},
        diagnostics={k: np.asarray([d[k] for d in diags]) for k in diagnostics},
    )
