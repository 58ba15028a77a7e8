"""Discretised energy functionals and the numeric check of their first variations.

A :class:`flowtheory.functionals.Functional` carries its density :math:`\\mathcal{L} = L\\rho` in
:math:`\\mathrm{d}^nx` (jet form; :math:`\\rho` its ``weight``) and its derived first variation with
respect to :math:`\\rho`: the symmetric :math:`V^{ij}/\\rho` of a metric functional
(:math:`\\delta E = \\int (V^{ij}/\\rho)h_{ij}\\,\\rho\\,\\mathrm{d}^nx`, sum over all :math:`i, j`), or
:math:`\\mathcal{E}_\\varphi/\\rho` of a potential functional
(:math:`\\delta E = \\int (\\mathcal{E}_\\varphi/\\rho)\\,\\psi\\,\\rho\\,\\mathrm{d}^{2n}x`).  :class:`DiscreteFunctional`
compiles both through the bridge and evaluates, on a grid,

* ``energy(fields)`` :math:`= \\sum_{\\text{grid}} w\\,\\mathcal{L}` — the discretised functional;
* ``directional_derivative(fields, h)`` :math:`= \\frac{d}{d\\varepsilon}E_h[f + \\varepsilon h]|_0`
  by ``jax.jvp`` of the discretised functional (spectral derivatives are linear, so this is the
  exact derivative of the discrete functional);
* ``pairing(fields, h)`` :math:`= \\sum w\\,\\langle \\delta E/\\delta f, h\\rangle` — the symbolic
  variation, compiled, paired with :math:`h`.

The two agree up to the discretisation error of the integration by parts that the Euler operator
performs, which for spectral derivatives and the trapezoidal rule falls exponentially with the grid.

Perelman's :math:`\\mathcal{F}` is varied at fixed measure :math:`e^{-\\phi}\\mathrm{d}V`: the dilaton
perturbation is then slaved, :math:`\\delta\\phi = -(\\partial\\rho_m/\\partial g_{ij})h_{ij} / (\\partial\\rho_m/\\partial\\phi)`,
computed here pointwise by ``jax.jvp`` of the compiled measure density (a route independent of the
symbolic constraint solved in :func:`flowtheory.variation.fixed_measure_metric_variation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import sympy as sp

from flowtheory.errors import InvalidParameterError
from flowtheory.functionals import Functional
from numerics.grid.fields import CompiledField, compile_jet_expression

__all__ = ["DiscreteFunctional"]

Fields = Mapping[str, jax.Array]


@dataclass(frozen=True)
class DiscreteFunctional:
    """A :class:`Functional` compiled for a grid (see the module docstring).

    Attributes:
        functional: the symbolic functional.
        grid: a grid of :mod:`numerics.grid.grids` whose coordinates are the functional's.
        density: the compiled density :math:`\\mathcal{L}`.
        variation: the compiled variation w.r.t. ``weight`` (``(n, n, *grid)`` for a metric, ``grid.shape``
            for a potential).
        weight: the compiled measure density :math:`\\rho` of the variation.
        measure: the compiled fixed measure density when a scalar is slaved, else ``None``.
        parities: double-Fourier parities of the fields on a :class:`~numerics.grid.grids.SphereGrid`
            (:data:`numerics.grid.random_fields.SPHERE_PARITIES`); empty on tori.
    """

    functional: Functional
    grid: Any
    density: CompiledField
    variation: CompiledField
    weight: CompiledField
    measure: CompiledField | None
    parities: Mapping[str, int]

    @classmethod
    def compile(
        cls,
        functional: Functional,
        grid,
        parameters: Mapping[sp.Symbol, float] | None = None,
        parities: Mapping[str, int] | None = None,
    ) -> "DiscreteFunctional":
        """Compile ``functional`` for ``grid``; ``parameters`` give values to its constants (e.g. :math:`\\bar R`)."""
        values = dict(parameters or {})
        missing = set(functional.parameters) - set(values)
        if missing:
            raise InvalidParameterError(f"give values for the parameters {sorted(map(str, missing))}")
        jet = functional.jet

        def build(expr):
            return compile_jet_expression(expr.subs(values) if values else expr, jet)

        measure = build(functional.fixed_measure) if functional.slaved else None
        return cls(
            functional, grid, build(functional.density), build(functional.variation()), build(functional.weight), measure,
            dict(parities or {}),
        )

    def _eval(self, compiled: CompiledField, fields: Fields) -> jax.Array:
        return compiled.evaluate(self.grid, fields, self.parities)

    @property
    def metric_components(self) -> tuple[tuple[int, int, str], ...]:
        n = self.functional.jet.dim
        return tuple((i, j, f"g_{i}{j}") for i in range(n) for j in range(i, n))

    def energy(self, fields: Fields) -> jax.Array:
        """The discretised functional :math:`\\int\\mathcal{L}\\,\\mathrm{d}^nx`."""
        return self.grid.integrate(self._eval(self.density, fields))

    def slaved_perturbation(self, fields: Fields, h: Fields) -> jax.Array:
        """Pointwise :math:`\\delta\\phi` keeping the fixed measure density unchanged under ``h``."""
        f = self.functional
        rho = lambda v: self._eval(self.measure, v)  # noqa: E731
        zero = {k: jnp.zeros_like(v) for k, v in fields.items()}
        d_metric = jax.jvp(rho, (dict(fields),), ({**zero, **{k: h[k] for k in h if k != f.slaved}},))[1]
        d_scalar = jax.jvp(rho, (dict(fields),), ({**zero, f.slaved: jnp.ones_like(fields[f.slaved])},))[1]
        return -d_metric / d_scalar

    def tangent(self, fields: Fields, h: Fields) -> dict[str, jax.Array]:
        """The full tangent: ``h`` on the varied fields, the slaved scalar's perturbation, 0 elsewhere."""
        out = {k: jnp.zeros_like(v) for k, v in fields.items()}
        out.update(h)
        if self.functional.slaved is not None:
            out[self.functional.slaved] = self.slaved_perturbation(fields, h)
        return out

    def directional_derivative(self, fields: Fields, h: Fields) -> jax.Array:
        """:math:`\\frac{d}{d\\varepsilon}E[f + \\varepsilon h]` at 0, by ``jax.jvp`` of :meth:`energy`."""
        return jax.jvp(self.energy, (dict(fields),), (self.tangent(fields, h),))[1]

    def pairing(self, fields: Fields, h: Fields) -> jax.Array:
        """:math:`\\int\\langle\\delta E/\\delta f, h\\rangle\\,\\mathrm{d}^nx` with the compiled symbolic variation."""
        V = self._eval(self.variation, fields)
        rho = self._eval(self.weight, fields)
        if self.functional.variable == "potential":
            return self.grid.integrate(V * h["phi"] * rho)
        total = sum((1 if i == j else 2) * V[i, j] * h[name] for i, j, name in self.metric_components)
        return self.grid.integrate(total * rho)
