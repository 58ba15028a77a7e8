"""Compiled flows on a grid: a right-hand side made of compiled field expressions.

A :class:`GridFlow` holds, for each evolving field (metric components ``g00, g01, …``, a conformal
factor ``u``, a Kähler potential correction ``phi``), the :class:`numerics.grid.fields.CompiledField`
of its time derivative, as sympy derived it.  Optionally

* ``mean_free`` — subtract from the right-hand side its mean with respect to a compiled density
  (the normalised Ricci flow :math:`\\partial_t g = (\\bar r - R) g`; the additive constant of a
  Kähler potential);
* ``smearing`` — a callable applied to every right-hand side (the Gaussian non-local metric-NTK of
  (2.30), :func:`numerics.grid.smearing.gaussian_smear`).

A :class:`GridFlow` is the right-hand side :math:`f(t, y)` that :func:`numerics.grid.integrators.rk4`
integrates in checked chunks (finite state, positive metric, the diagnostics every flow reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jax

from flowtheory.errors import InvalidParameterError
from numerics.grid.fields import CompiledField, compile_jet_expression

__all__ = ["GridFlow"]

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
