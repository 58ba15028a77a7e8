"""Shared machinery of the functional proofs: exact jet values of concrete periodic fields and
spectrally accurate torus quadrature of jet-form densities (trapezoidal rule, numpy float64).

Concrete fields are sympy expressions in the coordinates.  For Kähler charts they are written in
``(z, zbar)`` (a real function of ``x, y`` with ``x = (z + zbar)/2``, ``y = (z - zbar)/(2i)``) so
that ``diff`` in ``z``/``zbar`` is the Wirtinger derivative; evaluation substitutes
``z = x + iy``, ``zbar = x - iy`` on the grid of :class:`numerics.grid.grids.PeriodicGrid`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from flowtheory.variation import JetSpace
from numerics.grid.grids import PeriodicGrid


def jet_values(expr, jet: JetSpace, concrete: dict) -> dict:
    """``{jet symbol: derivative of the concrete field}`` for every jet symbol of ``expr``."""
    exprs = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    out = {}
    for e in exprs:
        for s in jet.jet_symbols_of(e):
            name, orders = jet.decode(s)
            pairs = [(c, k) for c, k in zip(jet.coords, orders) if k]
            out[s] = sp.diff(concrete[name], *pairs) if pairs else concrete[name]
    return out


def concrete(expr, jet: JetSpace, fields: dict):
    """``expr`` (jet form) with the concrete fields substituted (exact)."""
    return expr.xreplace(jet_values(expr, jet, fields))


def torus_integral(expr, jet: JetSpace, fields: dict, n: int = 32, complex_chart: bool = False) -> float:
    """Trapezoidal ∫ expr d^dx over the torus [0, 2π)^d (real chart) or over (x, y) ∈ [0, 2π)² per
    complex coordinate (``complex_chart``: coordinates are ``z..., zbar...``).  Real part returned;
    the imaginary part of a real density is asserted to vanish to 1e-9 of the scale."""
    values = jet_values(expr, jet, fields)
    syms = list(values)
    if complex_chart:
        m = jet.dim // 2
        real = sp.symbols(f"xr0:{2 * m}", real=True)
        to_real = {}
        for a in range(m):
            to_real[jet.coords[a]] = real[2 * a] + sp.I * real[2 * a + 1]
            to_real[jet.coords[m + a]] = real[2 * a] - sp.I * real[2 * a + 1]
        grid_coords = real
        exprs = [sp.sympify(values[s]).xreplace(to_real) for s in syms]
        body = sp.sympify(expr).xreplace(to_real)
    else:
        grid_coords = jet.coords
        exprs = [values[s] for s in syms]
        body = sp.sympify(expr)
    grid = PeriodicGrid.cube(n, len(grid_coords))
    points = [np.asarray(c) for c in grid.coordinates()]
    args = [np.broadcast_to(np.asarray(sp.lambdify(grid_coords, e, "numpy")(*points), dtype=complex), points[0].shape) for e in exprs]
    f = sp.lambdify(list(syms) + list(grid_coords), body, "numpy", cse=True)
    sampled = np.broadcast_to(np.asarray(f(*args, *points), dtype=complex), points[0].shape)
    total = complex(np.sum(sampled) * grid.cell_volume)
    scale = float(np.sum(np.abs(sampled)) * grid.cell_volume) or 1.0
    if abs(total.imag) > 1e-9 * scale:
        raise AssertionError(f"a real density has imaginary integral {total.imag:.3g} (scale {scale:.3g})")
    return total.real


def wirtinger_real(expr_xy: sp.Expr, z: tuple, zbar: tuple) -> sp.Expr:
    """A function of real ``x_a, y_a`` (symbols ``xr0, xr1, ...``) rewritten in ``(z, zbar)``."""
    subs = {}
    for a, (za, zba) in enumerate(zip(z, zbar)):
        subs[sp.Symbol(f"xr{2 * a}", real=True)] = (za + zba) / 2
        subs[sp.Symbol(f"xr{2 * a + 1}", real=True)] = (za - zba) / (2 * sp.I)
    return expr_xy.xreplace(subs)
