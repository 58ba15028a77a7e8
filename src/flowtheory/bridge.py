"""The bridge from sympy expressions to JAX callables.

Every derived quantity in :mod:`flowtheory` is a sympy expression; :func:`to_jax` compiles it
with ``sympy.lambdify(..., modules="jax", cse=True)`` and returns the function *together with its
argument order*, so a caller never has to guess which symbol goes where.  The result is a pure
per-point function: jit it, and batch it with ``jax.vmap`` (a lambdified matrix with constant
entries does not broadcast on its own, so batching is never left to broadcasting).

:func:`compiled_deviation` is the second route of every bridged quantity: it evaluates the sympy
expression at exact points with 30 significant digits (:func:`flowtheory.exact.evaluate`; the
points come from :func:`flowtheory.exact.random_rational_points`) and returns the largest absolute
deviation of the compiled function from it.

JAX is imported lazily, so ``import flowtheory`` stays free of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import sympy as sp

from flowtheory.errors import EmptyInputError, InvalidParameterError, NonFiniteError
from flowtheory.exact import DIGITS, evaluate


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
        """``fn(*values)``; raises :class:`~flowtheory.errors.InvalidParameterError` unless one value per arg."""
        if len(values) != len(self.args):
            raise InvalidParameterError(f"values: got {len(values)}, expected one per argument {self.args}")
        return self.fn(*values)


def to_jax(expr: sp.Basic, args: Sequence[sp.Symbol]) -> JaxFunction:
    """Compile ``expr`` (scalar or Matrix) into a jit-able, vmap-able per-point JAX function.

    The returned function maps scalars (one per symbol of ``args``) to an array of shape
    ``JaxFunction.shape`` in the dtype JAX promotes to (float64 when x64 is on).
    Free symbols of ``expr`` that are not in ``args`` are an error: nothing is silently bound.

    Raises:
        InvalidParameterError: ``args`` with a non-symbol or a repeated symbol; free symbols of
            ``expr`` not among ``args``.
        NonFiniteError: an ``expr`` with ``nan``, ``oo`` or ``zoo`` (it would compile to NaN).
    """
    import jax.numpy as jnp

    args = tuple(args)
    if not all(isinstance(a, sp.Symbol) for a in args):
        raise InvalidParameterError(f"args must be sympy Symbols, got {args}")
    if len(set(args)) != len(args):
        raise InvalidParameterError(f"args has a repeated symbol: {args}")
    missing = set(getattr(expr, "free_symbols", set())) - set(args)
    if missing:
        raise InvalidParameterError(f"free symbols not among the arguments args: {sorted(map(str, missing))}")
    if sp.sympify(expr).has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NonFiniteError(f"expr {expr} is not finite: it holds nan, oo or zoo")
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


def compiled_deviation(compiled: JaxFunction, points: Sequence[Mapping[sp.Symbol, sp.Expr] | Sequence[sp.Expr]], digits: int = DIGITS) -> float:
    """Largest absolute deviation of ``compiled`` in float64 from its expression at ``digits`` digits.

    ``points`` are exact (rational) points: mappings ``{symbol: value}`` such as
    :func:`flowtheory.exact.random_rational_points` draws, or tuples with one value per argument in
    the order of ``compiled.args``.  The exact side is :func:`flowtheory.exact.evaluate`.

    Raises:
        EmptyInputError: no ``points`` (a deviation over no points proves nothing).
        InvalidParameterError: a point that misses an argument or has another number of values.
        NonFiniteError, InvalidParameterError: from :func:`flowtheory.exact.evaluate` (NaN values, ``digits < 1``).
    """
    import numpy as np

    if len(points) == 0:
        raise EmptyInputError("points is empty: a deviation over no points proves nothing")
    worst = 0.0
    for i, point in enumerate(points):
        if isinstance(point, Mapping):
            missing = [s for s in compiled.args if s not in point]
            if missing:
                raise InvalidParameterError(f"points[{i}] has no value for {missing}")
            values = [point[s] for s in compiled.args]
        else:
            values = list(point)
            if len(values) != len(compiled.args):
                raise InvalidParameterError(f"points[{i}] has {len(values)} values, expected one per argument {compiled.args}")
        exact = evaluate(compiled.expr, dict(zip(compiled.args, values)), digits)
        value = np.asarray(compiled.fn(*[float(v) for v in values]), dtype=complex)
        worst = max(worst, float(np.max(np.abs(value - exact))))
    return worst
