r"""Exact evaluation at random rational points: the second route of every symbolic identity.

An identity :math:`a = b` that sympy cannot (or should not be asked to) put in canonical form is
checked where it must hold pointwise: at exact rational points, with :math:`a - b` evaluated at
``digits`` (default 30) significant digits, so that a true identity leaves a deviation of about
:math:`10^{-30}` times the size of its terms while a real difference stays of order one.

* :func:`random_rational_points` draws the points: for each symbol, in the order given, a rational
  :math:`k/\text{denominator}` with ``k`` uniform in ``[low·denominator, high·denominator]``
  (``ranges`` overrides the interval of chosen symbols; ``imaginary=True`` draws ``x + iy``).
  The seed is fixed (default 0), never the clock.
* :func:`evaluate` gives the value of a scalar, a ``Matrix`` or an ``Array`` at one point,
  computed at ``digits`` digits and returned as ``complex`` (numpy array for a matrix).
* :func:`max_deviation` gives :math:`\max_{\text{points, entries}} |a - b|`, the difference
  formed symbolically and evaluated at ``digits`` digits (no cancellation in float64).

Evaluation goes through ``sympy.lambdify(..., "mpmath")`` at ``digits`` decimal digits: rational
point values enter exactly (``p/q`` at working precision), and one translation serves all points.
Every free symbol of the expression must have a value at each point
(:class:`~flowtheory.errors.InvalidParameterError` otherwise; symbols of a point that the
expression does not contain are ignored), and the value must be finite
(:class:`~flowtheory.errors.NonFiniteError` otherwise).

>>> import sympy as sp
>>> x, y = sp.symbols("x y")
>>> points = random_rational_points((x, y), 3, seed=1, low=-1, high=1)
>>> points[0]
{x: -29/40, y: 33/200}
>>> max_deviation(sp.sin(x + y), sp.sin(x) * sp.cos(y) + sp.cos(x) * sp.sin(y), points) < 1e-28
True
>>> max_deviation(sp.sin(x + y), sp.sin(x) + sp.sin(y), points) > 0.1
True
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Mapping, Sequence

import sympy as sp

from flowtheory.errors import EmptyInputError, InvalidParameterError, NonFiniteError

__all__ = ["DIGITS", "evaluate", "max_deviation", "random_rational_points"]

#: Significant digits of exact evaluation (the "30 digits" of the style guide).
DIGITS = 30

Point = Mapping[sp.Symbol, sp.Expr]


def random_rational_points(
    symbols: Sequence[sp.Symbol],
    n_points: int,
    seed: int = 0,
    *,
    low: float = -1,
    high: float = 1,
    ranges: Mapping[sp.Symbol, tuple[float, float]] | None = None,
    denominator: int = 1000,
    imaginary: bool = False,
) -> list[dict[sp.Symbol, sp.Expr]]:
    """``n_points`` points ``{symbol: value}`` with exact rational values, drawn with a fixed seed.

    Args:
        symbols: the symbols, in the order their values are drawn (the draws of one point follow
            this order, so the same call gives the same points).
        n_points: number of points.
        seed: seed of :class:`random.Random`.
        low, high: the interval of the values (``low * denominator`` and ``high * denominator``
            rounded to integers).
        ranges: ``{symbol: (low, high)}`` for symbols drawn from another interval.
        denominator: values are ``k / denominator``.
        imaginary: draw ``x + i y`` with ``x``, ``y`` both from the interval (real part first).

    Raises:
        InvalidParameterError: ``n_points`` or ``denominator`` not a positive integer, or an
            interval with ``low > high``.
        NonFiniteError: an interval bound that is NaN or infinite.

    >>> import sympy as sp
    >>> random_rational_points(sp.symbols("a b"), 2, seed=0, low=0.1, high=0.9)
    [{a: 247/500, b: 219/250}, {a: 53/100, b: 141/1000}]
    """
    for name, value in (("n_points", n_points), ("denominator", denominator)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")
    ranges = dict(ranges or {})
    rng = random.Random(seed)
    bounds = {}
    for s in symbols:
        lo, hi = ranges.get(s, (low, high))
        if not all(math.isfinite(float(v)) for v in (lo, hi)):
            raise NonFiniteError(f"the interval of {s} must be finite, got ({lo}, {hi})")
        if lo > hi:
            raise InvalidParameterError(f"the interval of {s} is empty: low = {lo} > high = {hi}")
        bounds[s] = (round(Fraction(str(lo)) * denominator), round(Fraction(str(hi)) * denominator))

    def draw(s):
        lo, hi = bounds[s]
        return sp.Rational(rng.randint(lo, hi), denominator)

    points = []
    for _ in range(n_points):
        point = {}
        for s in symbols:
            point[s] = draw(s) + sp.I * draw(s) if imaginary else draw(s)
        points.append(point)
    return points


def _entries(obj) -> tuple[list[sp.Expr], tuple[int, ...]]:
    """The entries of a scalar, Matrix or Array, flattened, and the shape (``()`` for a scalar)."""
    if isinstance(obj, (sp.MatrixBase, sp.NDimArray)):
        return [sp.sympify(e) for e in sp.flatten(obj.tolist())], tuple(obj.shape)
    return [sp.sympify(obj)], ()


def _mp(value, digits: int):
    """A point value as an mpmath number at the working precision (rationals enter exactly)."""
    import mpmath

    value = sp.sympify(value)
    if value.is_Rational:
        return mpmath.mpf(value.p) / value.q
    re, im = value.as_real_imag()
    if im == 0:
        return _mp(re, digits) if re.is_Rational else mpmath.mpf(sp.Float(re, digits + 10))
    return mpmath.mpc(_mp(re, digits), _mp(im, digits))


def _values(exprs: list[sp.Expr], points: Sequence[Point], digits: int) -> list[list]:
    """The mpmath values of ``exprs`` at each point, computed at ``digits`` digits."""
    import mpmath

    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise InvalidParameterError(f"digits must be a positive integer, got {digits!r}")
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    out = []
    if points and any(e.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for e in exprs):
        raise NonFiniteError(f"not finite at {dict(points[0])}")
    with mpmath.workdps(digits):
        fn = sp.lambdify(symbols, exprs, "mpmath")
        for point in points:
            missing = [s for s in symbols if s not in point]
            if missing:
                raise InvalidParameterError(f"point leaves free symbols {sorted(map(str, missing))}")
            for s in symbols:
                if sp.sympify(point[s]).has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                    raise NonFiniteError(f"point value {s} = {point[s]} is not finite")
            try:
                values = fn(*[_mp(point[s], digits) for s in symbols])
            except ZeroDivisionError:
                raise NonFiniteError(f"not finite at {dict(point)}") from None
            except (NameError, TypeError) as exc:
                raise InvalidParameterError(f"does not evaluate to numbers at {dict(point)}: {exc}") from None
            if not all(mpmath.isfinite(v) for v in values):
                raise NonFiniteError(f"not finite at {dict(point)}")
            out.append(values)
    return out


def evaluate(expr, point: Point, digits: int = DIGITS):
    """The value of ``expr`` (scalar, Matrix or Array) at ``point``, computed at ``digits`` digits.

    Returns a Python ``complex`` for a scalar and a numpy ``complex128`` array of the expression's
    shape otherwise (the ``digits``-digit value rounded once to double precision).

    Raises:
        InvalidParameterError: ``point`` leaves a free symbol unassigned, ``digits < 1``, or the
            expression does not evaluate to numbers.
        NonFiniteError: a point value, or the value, that is NaN or infinite.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> evaluate(sp.Matrix([[x, x**2], [1, sp.sqrt(x)]]), {x: sp.Rational(1, 4)}).real.tolist()
    [[0.25, 0.0625], [1.0, 0.5]]
    """
    import numpy as np

    exprs, shape = _entries(expr)
    (values,) = _values(exprs, [point], digits)
    numbers = [complex(v) for v in values]
    return numbers[0] if shape == () else np.array(numbers, dtype=complex).reshape(shape)


def max_deviation(a, b=0, points: Sequence[Point] = (), *, digits: int = DIGITS) -> float:
    """:math:`\\max |a - b|` over ``points`` and over the entries, evaluated at ``digits`` digits.

    ``a`` and ``b`` are scalars, or Matrices / Arrays of one shape (a scalar ``b``, e.g. the
    default 0, is compared with every entry): ``max_deviation(expr, 0, points)`` is the largest
    absolute value of ``expr``.  The difference is formed symbolically and evaluated at ``digits``
    digits, so an identity gives about ``10**-digits`` times the size of its terms.

    Raises:
        EmptyInputError: no points (a deviation over no points would vacuously be 0).
        InvalidParameterError: shapes that differ; a point that leaves a symbol unassigned.
        NonFiniteError: a point value, or the difference at a point, that is not finite.
    """
    if len(points) == 0:
        raise EmptyInputError("points is empty: a deviation over no points proves nothing")
    a_entries, a_shape = _entries(a)
    b_entries, b_shape = _entries(b)
    if b_shape == () and a_shape != ():
        b_entries = b_entries * len(a_entries)
    elif a_shape != b_shape:
        raise InvalidParameterError(f"cannot compare shapes {a_shape} and {b_shape}")
    diffs = [p - q for p, q in zip(a_entries, b_entries)]
    worst = 0.0
    for values in _values(diffs, points, digits):
        worst = max([worst] + [float(abs(v)) for v in values])
    return worst
