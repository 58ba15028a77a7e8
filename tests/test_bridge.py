"""The sympy -> JAX bridge: compiled functions agree with sympy at 30 digits, batch with vmap,
keep complex entries, and refuse unbound symbols."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from flowtheory.bridge import compiled_deviation, to_jax
from flowtheory.exact import random_rational_points

x, y = sp.symbols("x y", real=True)


def test_scalar_and_matrix_agree_with_sympy_at_random_rational_points():
    points = random_rational_points((x, y), 8, seed=1, low=-2, high=2)
    scalar = to_jax(sp.exp(-(x**2)) * sp.cos(x * y) + sp.sqrt(1 + y**2), (x, y))
    matrix = to_jax(sp.Matrix([[1 + x**2, sp.sin(x * y)], [sp.sin(x * y), sp.exp(y)]]), (x, y))
    assert compiled_deviation(scalar, points) <= 4e-16
    assert compiled_deviation(matrix, points) <= 1e-15


def test_constant_entries_batch_under_vmap():
    matrix = to_jax(sp.Matrix([[1, x], [x, 2]]), (x, y))
    xs = jnp.linspace(-1.0, 1.0, 5)
    out = jax.jit(jax.vmap(matrix.fn))(xs, xs)
    assert out.shape == (5, 2, 2) and matrix.shape == (2, 2)
    np.testing.assert_array_equal(out[:, 0, 0], np.ones(5))
    np.testing.assert_array_equal(out[:, 0, 1], np.asarray(xs))


def test_complex_entries_are_kept():
    hermitian = to_jax(sp.Matrix([[1, sp.I * x], [-sp.I * x, y**2]]), (x, y))
    value = np.asarray(hermitian(0.5, 2.0))
    np.testing.assert_allclose(value, [[1, 0.5j], [-0.5j, 4]], rtol=0, atol=1e-15)
    assert compiled_deviation(hermitian, random_rational_points((x, y), 4, seed=2)) <= 1e-15


def test_unbound_free_symbols_are_refused():
    with pytest.raises(ValueError, match="free symbols"):
        to_jax(x * y, (x,))
