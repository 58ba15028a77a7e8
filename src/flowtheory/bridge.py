"""The bridge from sympy expressions to JAX callables.

Every derived quantity in :mod:`flowtheory` is a sympy expression; :func:`to_jax` compiles it
with ``sympy.lambdify(..., modules="jax", cse=True)`` and returns the function *together with its
argument order*, so a caller never has to guess which symbol goes where.  The result is a pure
per-point function: jit it, and batch it with ``jax.vmap`` (a lambdified matrix with constant
entries does not broadcast on its own, so batching is never left to broadcasting).

:func:`max_deviation` is the second route of every bridged quantity: it evaluates the sympy
expression at the given points with 30 significant digits and returns the largest absolute
deviation of the compiled function from it.

JAX is imported lazily, so ``import flowtheory`` stays free of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import sympy as sp


@dataclass(frozen=True)
class JaxFunction:
    """A compiled sympy expression.

    Attributes:
        expr: the sympy expression (scalar or ``Matrix``) that was compiled.
        args: the symbols, in the order the function takes them.
        fn: the JAX function; ``fn(*values)`` with one value per symbol in ``args``.
        shape: ``()`` for a scalar expression, the matrix shape otherwise.
    """

    expr: sp.Basic
    args: tuple[sp.Symbol, ...]
    fn: Callable[..., Any]
    shape: tuple[int, ...]

    def __call__(self, *values):
        return self.fn(*values)


def to_jax(expr: sp.Basic, args: Sequence[sp.Symbol]) -> JaxFunction:
    """Compile ``expr`` (scalar or Matrix) into a jit-able, vmap-able per-point JAX function.

    The returned function maps scalars (one per symbol of ``args``) to an array of shape
    ``JaxFunction.shape`` in the dtype JAX promotes to (float64 when x64 is on).
    Free symbols of ``expr`` that are not in ``args`` are an error: nothing is silently bound.
    """
    import jax.numpy as jnp

    args = tuple(args)
    missing = set(getattr(expr, "free_symbols", set())) - set(args)
    if missing:
        raise ValueError(f"free symbols not among the arguments: {sorted(map(str, missing))}")
    if isinstance(expr, sp.MatrixBase):
        shape = tuple(expr.shape)
        raw = sp.lambdify(args, [list(row) for row in expr.tolist()], modules="jax", cse=True)

        def fn(*values):
            # Constant entries come back as Python numbers: stack them with the traced ones.
            rows = raw(*values)
            return jnp.stack([jnp.stack([jnp.asarray(v) * 1.0 for v in row]) for row in rows])

    else:
        shape = ()
        raw = sp.lambdify(args, expr, modules="jax", cse=True)

        def fn(*values):
            return jnp.asarray(raw(*values)) * 1.0

    return JaxFunction(expr=expr, args=args, fn=fn, shape=shape)


def max_deviation(compiled: JaxFunction, points: Sequence[Sequence[sp.Rational]], digits: int = 30) -> float:
    """Largest absolute deviation between ``compiled`` in float64 and sympy at ``digits`` digits.

    ``points`` is a sequence of tuples of exact (rational) values, one value per argument.
    """
    import numpy as np

    worst = 0.0
    for point in points:
        subs = dict(zip(compiled.args, point))
        exact = compiled.expr.subs(subs).evalf(digits)
        exact = np.array(sp.Matrix(exact).tolist() if compiled.shape else exact, dtype=complex)
        value = np.asarray(compiled.fn(*[float(v) for v in point]), dtype=complex)
        worst = max(worst, float(np.max(np.abs(value - exact))))
    return worst


def random_rational_points(n_args: int, n_points: int, low: float, high: float, seed: int) -> list[tuple[sp.Rational, ...]]:
    """``n_points`` tuples of exact rationals (denominator 1000) drawn uniformly from [low, high]."""
    import random

    rng = random.Random(seed)
    lo, hi = int(round(low * 1000)), int(round(high * 1000))
    return [tuple(sp.Rational(rng.randint(lo, hi), 1000) for _ in range(n_args)) for _ in range(n_points)]
