"""flowtheory.caching: derived quantities are cached by the value of their arguments, and only by it."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from flowtheory import riemann
from flowtheory.caching import cached_by_value, clear_caches

x, y = sp.symbols("x y", real=True)


def test_equal_values_share_one_result_and_different_values_never_do():
    calls = []

    @cached_by_value()
    def trace(m):
        calls.append(m)
        return m.trace()

    a, b = sp.ImmutableMatrix([[x, 0], [0, 1]]), sp.ImmutableMatrix([[x, 0], [0, 1]])
    assert trace(a) == trace(b) == x + 1 and len(calls) == 1
    assert trace(sp.ImmutableMatrix([[x, 0], [0, 2]])) == x + 2 and len(calls) == 2
    with pytest.raises(TypeError):  # a mutable matrix is not a value
        trace(sp.Matrix([[x]]))
    clear_caches()
    trace(a)
    assert len(calls) == 3


def test_frozen_values_are_cache_keys_by_their_data():
    @dataclasses.dataclass(frozen=True)
    class Scaled:
        metric: sp.ImmutableMatrix
        scale: sp.Expr

    @cached_by_value()
    def scaled_scalar(v: Scaled) -> sp.Expr:
        return riemann.ricci_scalar(v.scale * v.metric, (x, y))

    half_plane = sp.ImmutableMatrix([[1 / y**2, 0], [0, 1 / y**2]])
    assert sp.simplify(scaled_scalar(Scaled(half_plane, sp.Integer(1)))) == -2
    # a different scale is a different key: R scales as 1/c
    assert sp.simplify(scaled_scalar(Scaled(half_plane, sp.Integer(4)))) == -sp.Rational(1, 2)


def test_riemann_returns_the_callers_own_matrix():
    g = sp.Matrix([[1 + x**2, 0], [0, 1]])
    ric = riemann.ricci_tensor(g, (x, y))
    ric[0, 0] = 17  # the caller's copy; the cached tensor is immutable
    assert riemann.ricci_tensor(g, (x, y))[0, 0] != 17
