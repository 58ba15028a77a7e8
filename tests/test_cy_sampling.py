"""Points from random lines: equation residuals, root finding, rejection of degenerate lines, input errors."""

import cmath
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowtheory.errors import InvalidParameterError, NonFiniteError, OffManifoldError, SingularManifoldError
from numerics.cy.hypersurface import Hypersurface, fermat, fermat_cubic, fermat_quartic, fermat_quintic, quintic_family
from numerics.cy.sampling import aberth_roots, line_coefficients, sample_in_chart, sample_points, solve_lines

#: |p(z)|/|z|^d of sampled points: a few ulps of float64 times the polynomial's condition.
RESIDUAL_TOL = 1e-13

SURFACES = [fermat_cubic(), fermat_quartic(), fermat_quintic(), quintic_family(0.5 + 0.3j), quintic_family(3.0), quintic_family(1e8j), fermat(5)]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: f"{s.name}-{s.psi}")
def test_points_solve_equation_and_are_patch_scaled(surface, key):
    sample = sample_points(surface, 3001, key)
    z = sample.points
    assert z.shape == (3001, surface.n_ambient) and z.dtype == np.complex128
    assert np.all(np.isfinite(z))
    assert float(np.max(surface.residual(z))) < RESIDUAL_TOL
    modulus = np.abs(z)
    assert np.all(modulus <= 1.0)
    pivot = np.argmax(modulus, axis=1)
    assert np.all(z[np.arange(len(z)), pivot] == 1.0)
    assert sample.n_lines >= math.ceil(3001 / surface.degree)
    # every root of each accepted line is kept: points of one line are distinct
    lines = z[: 3000 // surface.degree * surface.degree].reshape(-1, surface.degree, surface.n_ambient)
    gaps = np.abs(lines[:, :, None, :] - lines[:, None, :, :]).sum(-1) + np.eye(surface.degree)
    assert np.all(gaps > 1e-8)


def test_same_key_same_points_other_key_other_points(key):
    surface = fermat_quintic()
    a = sample_points(surface, 500, key)
    b = sample_points(surface, 500, key)
    c = sample_points(surface, 500, jax.random.fold_in(key, 1))
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)


@given(st.complex_numbers(max_magnitude=3.0, allow_nan=False, allow_infinity=False))
def test_dwork_family_residuals(psi):
    if abs(psi**5 - 1) < 1e-3:
        with pytest.raises(SingularManifoldError):
            quintic_family(psi)
        return
    surface = quintic_family(psi)
    sample = sample_points(surface, 100, jax.random.PRNGKey(7))
    assert float(np.max(surface.residual(sample.points))) < RESIDUAL_TOL


@given(st.integers(0, 2**31 - 1))
def test_line_coefficients_reproduce_the_polynomial(seed):
    """q(t) = sum_k c_k t^k equals p(a + t b) at random t (Dwork member, product term included)."""
    surface = quintic_family(0.7 - 0.2j)
    ka, kb, kt = jax.random.split(jax.random.PRNGKey(seed), 3)
    a = jax.random.normal(ka, (4, 5)) + 1j * jax.random.normal(kb, (4, 5))
    b = jax.random.normal(kb, (4, 5)) - 1j * jax.random.normal(kt, (4, 5))
    t = jax.random.normal(kt, (4,)) + 0.5j
    coeffs = line_coefficients(surface, a, b)
    q = jnp.sum(coeffs * t[:, None] ** jnp.arange(6), axis=-1)
    direct = surface.p(a + t[:, None] * b)
    np.testing.assert_allclose(q, direct, rtol=1e-12, atol=1e-12 * float(jnp.max(jnp.abs(direct))))


_aberth_40 = jax.jit(functools.partial(aberth_roots, iterations=40))


@given(st.integers(0, 2**31 - 1), st.integers(2, 7))
def test_aberth_matches_companion_roots(seed, degree):
    coeffs = np.random.default_rng(seed).normal(size=(3, degree + 1, 2)) @ np.array([1.0, 1.0j])
    roots = np.asarray(_aberth_40(jnp.asarray(coeffs)))
    for c, r in zip(coeffs, roots):
        reference = np.roots(c[::-1])
        # match each reference root to its nearest Aberth root, one to one
        distance = np.abs(reference[:, None] - r[None, :])
        assert sorted(np.argmin(distance, axis=1).tolist()) == list(range(degree))
        scale = 1 + np.abs(reference)
        assert np.all(np.min(distance, axis=1) / scale < 1e-7)


def test_degenerate_lines_are_rejected():
    """Lines meeting X in fewer than ``d`` finite distinct points are rejected, with finite placeholders.

    Exactly representable data keep the degeneracy exact in floating point: ``b = (1, -1, 0, 0, 0)``
    lies on X and ``a ⟂ b`` (a root at infinity); the line through the point ``(1, -1, 0, 0, 0)`` of
    X in a direction ``(0, 0, *)`` meets X only there, with multiplicity 5.
    """
    surface = fermat_quintic()
    generic = jnp.array([[0.5, 0.5, -0.25, 0.75, 0.25j]])
    on_x = jnp.array([[1.0, -1.0, 0.0, 0.0, 0.0]])
    tangent = jnp.array([[0.0, 0.0, 0.5, 0.25j, 0.75]])
    a = jnp.concatenate([generic, generic, on_x])
    b = jnp.concatenate([tangent, on_x, tangent])
    z, ok = jax.jit(solve_lines)(surface, a, b)
    assert ok.tolist() == [True, False, False]
    assert bool(jnp.all(jnp.isfinite(z.real) & jnp.isfinite(z.imag)))
    assert float(jnp.max(surface.residual(z[0]))) < RESIDUAL_TOL


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_point_counts(n, key):
    with pytest.raises(InvalidParameterError):
        sample_points(fermat_quintic(), n, key)


@pytest.mark.parametrize("k", range(5))
def test_singular_quintics(k):
    with pytest.raises(SingularManifoldError):
        quintic_family(cmath.exp(2j * math.pi * k / 5))


def test_bad_surfaces():
    with pytest.raises(InvalidParameterError):
        fermat(1)
    with pytest.raises(InvalidParameterError):
        Hypersurface(n_ambient=5, degree=4, psi=0.5)
    with pytest.raises(InvalidParameterError):
        Hypersurface(n_ambient=5, degree=5, psi=complex("nan"))


def test_validate_rejects_bad_points():
    surface = fermat_quintic()
    good = np.array([[1.0, -1.0, 0.0, 0.0, 0.0]], dtype=complex)
    np.testing.assert_array_equal(surface.validate(good), good)
    with pytest.raises(OffManifoldError):
        surface.validate(good + np.array([1e-6, 0, 0, 0, 0]))
    with pytest.raises(InvalidParameterError):
        surface.validate(np.zeros((1, 5), dtype=complex))
    with pytest.raises(NonFiniteError):
        surface.validate(np.array([[1.0, np.nan, 0, 0, 0]]))
    with pytest.raises(InvalidParameterError):
        surface.validate(np.ones((3, 4)))


def test_chart_probabilities_are_one_twentieth(key):
    """By the S_5 symmetry of the Fermat quintic and of the FS measure each of the 20 charts holds
    1/20 of the points; every chart frequency agrees within Z = 4.5 clustered standard errors
    (20 assertions: family-wise failure probability < 1.4e-4)."""
    from numerics.cy.measure import clustered_stderr
    from numerics.cy.patches import chart, pair_index

    surface = fermat_quintic()
    sample = sample_points(surface, 50_000, key)
    c = chart(surface, sample.points)
    pair = np.asarray(pair_index(c.patch, c.eliminated, 5))
    assert set(pair.tolist()) == set(range(20))
    for c in range(20):
        hit = (pair == c).astype(float)
        se = clustered_stderr(hit - hit.mean(), sample.line_ids)
        assert abs(hit.mean() - 1 / 20) <= 4.5 * se


def test_sample_in_chart_keeps_only_that_chart_and_reports_acceptance(key):
    from numerics.cy.patches import chart

    surface = fermat_quintic()
    sample = sample_in_chart(surface, 3000, key, patch=3, eliminated=0)
    assert len(sample) == 3000 and sample.chart == (3, 0)
    c = chart(surface, sample.points)
    assert bool(jnp.all(c.patch == 3)) and bool(jnp.all(c.eliminated == 0))
    p = sample.acceptance_rate
    # candidates come in lines of 5 correlated points: the variance inflation is at most 5
    assert abs(p - 1 / 20) <= 4.5 * math.sqrt(5 * p * (1 - p) / sample.n_candidates)
    with pytest.raises(InvalidParameterError):
        sample_in_chart(surface, 10, key, patch=2, eliminated=2)


def test_point_files_round_trip_and_are_validated(tmp_path, key):
    from numerics.cy.io import load_points, save_points

    surface = quintic_family(0.25 - 0.5j)
    sample = sample_in_chart(surface, 200, key, patch=1, eliminated=4)
    path = save_points(tmp_path / "pts.npz", sample, seed=11, parameters={"n": 200})
    loaded, metadata = load_points(path)
    np.testing.assert_array_equal(loaded.points, sample.points)
    np.testing.assert_array_equal(loaded.line_ids, sample.line_ids)
    assert loaded.surface == surface and loaded.chart == (1, 4) and loaded.n_candidates == sample.n_candidates
    assert metadata["seed"] == 11 and metadata["run_record"]["parameters"] == {"n": 200}
    # a file whose points are moved off the hypersurface is refused
    bad = tmp_path / "bad.npz"
    with np.load(path) as data:
        arrays = dict(data)
    arrays["points"] = arrays["points"] * np.array([1, 1, 1, 1, 1 + 1e-6])
    np.savez(bad, **arrays)
    with pytest.raises(OffManifoldError):
        load_points(bad)
    from flowtheory.errors import InvalidFileError

    with pytest.raises(InvalidFileError, match="missing.npz"):
        load_points(tmp_path / "missing.npz")
