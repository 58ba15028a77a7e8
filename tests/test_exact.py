"""flowtheory.exact: random rational points, 30-digit values and deviations."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from flowtheory.errors import InvalidParameterError, NonFiniteError
from flowtheory.exact import evaluate, max_deviation, random_rational_points

x, y, z = sp.symbols("x y z")


def test_points_are_exact_rationals_in_their_intervals_and_reproducible():
    pts = random_rational_points((x, y), 50, seed=3, low=-0.25, high=0.5, ranges={y: (1, 2)})
    assert pts == random_rational_points((x, y), 50, seed=3, low=-0.25, high=0.5, ranges={y: (1, 2)})
    assert pts != random_rational_points((x, y), 50, seed=4, low=-0.25, high=0.5, ranges={y: (1, 2)})
    assert all(isinstance(v, sp.Rational) and (1000 * v).is_Integer for p in pts for v in p.values())
    assert all(-sp.Rational(1, 4) <= p[x] <= sp.Rational(1, 2) and 1 <= p[y] <= 2 for p in pts)
    complex_pts = random_rational_points((z,), 20, seed=1, low=-0.5, high=0.5, imaginary=True)
    assert all(abs(sp.re(p[z])) <= sp.Rational(1, 2) and abs(sp.im(p[z])) <= sp.Rational(1, 2) for p in complex_pts)
    assert any(sp.im(p[z]) != 0 for p in complex_pts)


def test_identities_written_differently_deviate_at_rounding_level():
    pts = random_rational_points((x, y), 4, seed=0)
    assert max_deviation(sp.sin(2 * x), 2 * sp.sin(x) * sp.cos(x), pts) < 1e-28
    assert max_deviation(sp.exp(x + y), sp.exp(x) * sp.exp(y), pts) < 1e-28
    assert max_deviation(sp.sqrt(x**2 + 2 * x * y + y**2 + 1), sp.sqrt((x + y) ** 2 + 1), pts) < 1e-28
    # a rational identity whose two sides cancel to 30 digits only (terms of size ~1e6)
    big = (1 + x**2) ** 6 * 10**6
    assert max_deviation(big / (1 + x**2) - 10**6 * (1 + x**2) ** 5, 0, pts) < 1e-20


def test_a_real_difference_is_detected():
    pts = random_rational_points((x, y), 4, seed=0)
    assert max_deviation(sp.sin(x + y), sp.sin(x) + sp.sin(y), pts) > 1e-2
    # a difference far below float64 resolution of the terms is still seen at 30 digits
    assert 1e-19 < max_deviation(1 + x * sp.Rational(1, 10**18), 1, pts) < 1e-18


def test_matrices_arrays_and_complex_points():
    m = sp.Matrix([[x, x * y], [sp.I * y, 1 / (1 + x**2)]])
    pts = random_rational_points((x, y), 3, seed=2)
    assert max_deviation(m, m.T.T, pts) == 0
    assert max_deviation(m, sp.zeros(2, 2), pts) > 0.1
    point = {x: sp.Rational(1, 2), y: sp.Rational(-1, 4)}
    np.testing.assert_allclose(evaluate(m, point), [[0.5, -0.125], [-0.25j, 0.8]], rtol=1e-15)
    arr = sp.Array([[[x, y]]])
    assert evaluate(arr, point).shape == (1, 1, 2)
    zpt = random_rational_points((z,), 2, seed=5, imaginary=True)
    assert max_deviation(z * sp.conjugate(z), sp.Abs(z) ** 2, zpt) < 1e-28
    assert evaluate(z**2, {z: 1 + sp.I}) == pytest.approx(2j)
    with pytest.raises(InvalidParameterError):
        max_deviation(m, sp.zeros(3, 3), pts)


def test_missing_values_and_singular_points_are_named_errors():
    with pytest.raises(InvalidParameterError, match="free symbols"):
        max_deviation(x + y, 0, [{x: 1}])
    with pytest.raises(NonFiniteError):
        evaluate(1 / x, {x: 0})
    with pytest.raises(NonFiniteError):
        evaluate(sp.Matrix([[1, sp.zoo]]), {})

