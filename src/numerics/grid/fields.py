"""Pointwise evaluation of symbolic field expressions on a grid.

A *field expression* is a sympy expression (scalar or Matrix) in the jet variables of a
:class:`flowtheory.variation.JetSpace` — fields such as metric components ``g_01``, a potential
``phi``, a conformal factor ``u``, and their coordinate derivatives ``g_01_xy``, ``phi_z_zbar`` as
plain symbols — and possibly the coordinates themselves.  :func:`compile_jet_expression` compiles
it once with :func:`flowtheory.bridge.to_jax` and records, for each argument, which field and which
derivative multi-index it stands for; :meth:`CompiledField.evaluate` computes those derivatives
spectrally on a grid (:mod:`numerics.grid.grids`) and evaluates the compiled function at every grid
point with ``jax.vmap``.  :func:`compile_field_expression` accepts the *field form* that
:mod:`flowtheory.riemann` returns (undefined functions ``u(x, y)`` and ``Derivative`` objects) and
converts it with :meth:`JetSpace.to_jet`.

This is how every derived flow right-hand side, variation and functional density runs numerically:
nothing is retyped; the expression sympy derived is the expression evaluated.

Grids whose derivatives are complex (Wirtinger derivatives on :class:`numerics.grid.grids.ComplexTorus`)
give complex jets; :meth:`CompiledField.evaluate` returns the real part unless ``real=False``
(a real density or flow evaluated from complex jets has a round-off imaginary part only).

Shapes: a scalar expression evaluates to an array of shape ``grid.shape``; an ``r x c`` Matrix to
``(r, c, *grid.shape)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.core.function import AppliedUndef

from flowtheory.bridge import JaxFunction, to_jax
from flowtheory.errors import InvalidParameterError
from flowtheory.variation import JetSpace

__all__ = ["CompiledField", "Jet", "compile_field_expression", "compile_jet_expression"]


@dataclass(frozen=True)
class Jet:
    """What one argument of a compiled expression stands for: :math:`\\partial^{\\alpha}` ``field``
    (``orders`` = :math:`\\alpha`), or the coordinate of axis ``coordinate`` when ``field`` is ``None``."""

    field: str | None
    orders: tuple[int, ...] = ()
    coordinate: int | None = None


@dataclass(frozen=True)
class CompiledField:
    """An expression compiled for grid evaluation (see the module docstring).

    Attributes:
        compiled: the bridged per-point function (argument order = ``jets`` order).
        jets: one :class:`Jet` per argument.
        fields: names of the fields the expression depends on, sorted.
    """

    compiled: JaxFunction
    jets: tuple[Jet, ...]
    fields: tuple[str, ...]

    def inputs(self, grid, values: Mapping[str, jax.Array], parities: Mapping[str, int] | None = None) -> list[jax.Array]:
        """The argument arrays on ``grid``: spectral derivatives of the fields, coordinates."""
        missing = set(self.fields) - set(values)
        if missing:
            raise InvalidParameterError(f"values missing for fields {sorted(missing)}")
        parities = parities or {}
        cache: dict[Jet, jax.Array] = {}
        out = []
        for jet in self.jets:
            if jet not in cache:
                if jet.field is None:
                    cache[jet] = grid.coordinates()[jet.coordinate]
                elif jet.field in parities:
                    cache[jet] = grid.derivative(values[jet.field], jet.orders, parity=parities[jet.field])
                else:
                    cache[jet] = grid.derivative(values[jet.field], jet.orders)
            out.append(cache[jet])
        return out

    def evaluate(
        self, grid, values: Mapping[str, jax.Array], parities: Mapping[str, int] | None = None, *, real: bool = True
    ) -> jax.Array:
        """Evaluate at every point of ``grid``: shape ``grid.shape`` or ``(r, c, *grid.shape)``."""
        shape = self.compiled.shape
        if not self.jets:  # a constant expression
            value = jnp.asarray(self.compiled.fn())
            return jnp.broadcast_to(value[..., None], (*shape, math.prod(grid.shape))).reshape((*shape, *grid.shape))
        args = [jnp.reshape(a, (-1,)) for a in self.inputs(grid, values, parities)]
        flat = jax.vmap(self.compiled.fn)(*args)  # (points, *shape)
        out = jnp.moveaxis(flat, 0, -1).reshape((*shape, *grid.shape))
        return jnp.real(out) if real else out


def compile_jet_expression(expr: sp.Basic, jet: JetSpace) -> CompiledField:
    """Compile a jet-form expression of ``jet`` (coordinates allowed) for evaluation on a grid."""
    expr = sp.ImmutableMatrix(expr) if isinstance(expr, sp.MatrixBase) else sp.sympify(expr)
    decoded = {s: jet.decode(s) for s in sorted(expr.free_symbols, key=str) if s not in jet.coords}
    symbols = [s for s, d in decoded.items() if d is not None]
    jets = [Jet(*decoded[s]) for s in symbols]
    for axis, c in enumerate(jet.coords):
        if c in expr.free_symbols:
            symbols.append(c)
            jets.append(Jet(None, coordinate=axis))
    stray = expr.free_symbols - set(symbols)
    if stray:
        raise InvalidParameterError(f"symbols {sorted(map(str, stray))} are neither jet variables nor coordinates; substitute them first")
    compiled = to_jax(expr, symbols)
    fields = tuple(sorted({j.field for j in jets if j.field is not None}))
    return CompiledField(compiled=compiled, jets=tuple(jets), fields=fields)


def compile_field_expression(expr: sp.Basic, coords: Sequence[sp.Symbol]) -> CompiledField:
    """Compile a field-form expression (undefined functions of exactly ``coords``)."""
    atoms = expr.atoms(AppliedUndef) if not isinstance(expr, sp.MatrixBase) else set().union(*(e.atoms(AppliedUndef) for e in expr))
    jet = JetSpace(tuple(coords), tuple(sorted({f.func.__name__ for f in atoms})))
    return compile_jet_expression(jet.to_jet(expr), jet)
