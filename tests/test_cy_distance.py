"""Fubini–Study distance (3.2) with threshold (3.4), nearest-neighbour statistics, power-law fit (3.7)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from flowtheory.errors import InvalidParameterError, NonFiniteError
from numerics.cy.distance import (
    default_threshold,
    fs_distance,
    fs_distance_matrix,
    fs_distance_reference,
    nearest_neighbour_distances,
    nearest_neighbour_statistics,
    poisson_mean_nn_distance,
    projector_embedding,
)
from numerics.stats import fit_loglog_slope

SEED = 20240628


def random_points(rng, n, dim=5):
    return rng.normal(size=(n, dim)) + 1j * rng.normal(size=(n, dim))


def test_matches_high_precision_reference_everywhere():
    """|float64 - 50-digit reference| <= 1e-13 from d ~ 1e-9 up to pi/2 (no threshold)."""
    rng = np.random.default_rng(SEED)
    z = random_points(rng, 120)
    w = random_points(rng, 120)
    # near-coincident pairs at graded distances, and nearly orthogonal pairs
    eps = 10.0 ** -rng.uniform(1, 9, size=40)
    w[:40] = z[:40] + eps[:, None] * w[:40]
    w[40:60] = w[40:60] - (np.sum(np.conj(z[40:60]) * w[40:60], axis=1) / np.sum(np.abs(z[40:60]) ** 2, axis=1))[:, None] * z[40:60]
    w[40:60] += 1e-9 * z[40:60]
    d = np.asarray(fs_distance(z, w, threshold=0.0))
    ref = np.array([fs_distance_reference(a, b) for a, b in zip(z, w)])
    assert np.max(np.abs(d - ref)) <= 1e-13
    # near 0 the error stays O(eps) absolute, where (3.2) through float64 arccos is off by up to
    # ~sqrt(2 eps) = 2e-8 (eq. 3.4)
    small = ref < 1e-3
    assert small.sum() >= 20
    assert np.max(np.abs(d[small] - ref[small])) <= 1e-15
    c = np.abs(np.sum(np.conj(z) * w, axis=1)) / (np.linalg.norm(z, axis=1) * np.linalg.norm(w, axis=1))
    printed_route = np.arccos(np.minimum(c, 1.0))
    assert np.max(np.abs(printed_route[small] - ref[small])) >= 1e-10


def test_identical_points_up_to_scaling_are_at_distance_zero():
    rng = np.random.default_rng(SEED + 1)
    z = random_points(rng, 200)
    lam = rng.normal(size=(200, 1)) + 1j * rng.normal(size=(200, 1))
    raw = np.asarray(fs_distance(z, lam * z, threshold=0.0))
    assert np.max(raw) <= 1e-15  # the printed arccos route gives ~1e-8 here
    assert np.all(np.asarray(fs_distance(z, lam * z)) == 0.0)


def test_cp1_bloch_sphere_half_angle():
    """On CP^1, d = theta / 2 with theta the angle between the Bloch vectors."""
    rng = np.random.default_rng(SEED + 2)
    z = random_points(rng, 300, dim=2)
    w = random_points(rng, 300, dim=2)

    def bloch(v):
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        a, b = v[:, 0], v[:, 1]
        return np.stack([2 * (np.conj(a) * b).real, 2 * (np.conj(a) * b).imag, np.abs(a) ** 2 - np.abs(b) ** 2], axis=1)

    cos_theta = np.clip(np.sum(bloch(z) * bloch(w), axis=1), -1, 1)
    theta = np.arccos(cos_theta)
    d = np.asarray(fs_distance(z, w, threshold=0.0))
    ok = np.abs(cos_theta) < 0.99  # arccos of the reference itself is well conditioned there
    assert ok.sum() > 200
    assert np.max(np.abs(d[ok] - theta[ok] / 2)) <= 1e-13
    # exact special values: poles (orthogonal) at pi/2, equator points at pi/4 from the poles
    e0, e1, eq = np.array([1, 0]), np.array([0, 1j]), np.array([1, np.exp(0.3j)])
    assert float(fs_distance(e0, e1)) == pytest.approx(math.pi / 2, abs=1e-15)
    assert float(fs_distance(e0, eq)) == pytest.approx(math.pi / 4, abs=1e-15)


complex_points = arrays(
    np.complex128,
    (3, 4),
    elements=st.complex_numbers(min_magnitude=0.0, max_magnitude=10.0, allow_nan=False, allow_infinity=False),
).filter(lambda a: np.all(np.max(np.abs(a), axis=1) > 1e-3))


@given(complex_points, st.complex_numbers(min_magnitude=1e-3, max_magnitude=1e3, allow_nan=False, allow_infinity=False))
def test_metric_properties(pts, lam):
    """Symmetry, scale invariance, range [0, pi/2], triangle inequality (to rounding)."""
    a, b, c = pts
    dab = float(fs_distance(a, b, threshold=0.0))
    dba = float(fs_distance(b, a, threshold=0.0))
    dbc = float(fs_distance(b, c, threshold=0.0))
    dac = float(fs_distance(a, c, threshold=0.0))
    assert abs(dab - dba) <= 1e-15
    assert abs(float(fs_distance(lam * a, b, threshold=0.0)) - dab) <= 1e-14
    assert 0.0 <= dab <= math.pi / 2 + 1e-15
    assert dac <= dab + dbc + 1e-14


def test_diameter_attained_by_orthogonal_points():
    """Orthogonal points are at the diameter pi/2; a random sample stays below it."""
    rng = np.random.default_rng(SEED + 3)
    q, _ = np.linalg.qr(random_points(rng, 5))
    d = np.asarray(fs_distance_matrix(q.T))
    off = d[~np.eye(5, dtype=bool)]
    assert np.max(np.abs(off - math.pi / 2)) <= 1e-15


def test_default_threshold_is_resolution_of_printed_formula():
    eps = np.finfo(np.float64).eps
    t = default_threshold()
    assert t == pytest.approx(math.sqrt(2 * eps))
    # arccos(1 - eps) ~ sqrt(2 eps) (3.4): the printed route's smallest non-zero distance
    assert np.arccos(1 - eps) == pytest.approx(t, rel=1e-6)
    assert default_threshold(np.float32) == pytest.approx(math.sqrt(2 * np.finfo(np.float32).eps))
    d = np.asarray(fs_distance(np.array([1.0, 0, 0]), np.array([[1.0, 0.5 * t, 0], [1.0, 2 * t, 0]])))
    assert d[0] == 0.0 and d[1] == pytest.approx(2 * t, rel=1e-12)


def test_distance_matrix_is_symmetric_with_zero_diagonal_and_matches_pairs():
    rng = np.random.default_rng(SEED + 4)
    z = random_points(rng, 77)
    d = np.asarray(fs_distance_matrix(z, block=16))
    assert np.array_equal(d, d.T)
    assert np.all(np.diag(d) == 0.0)
    pairs = np.asarray(fs_distance(z[:, None, :], z[None, :, :]))
    assert np.max(np.abs(d - pairs)) <= 1e-15
    w = random_points(rng, 13)
    cross = np.asarray(fs_distance_matrix(z, w, block=10))
    assert cross.shape == (77, 13)
    assert np.max(np.abs(cross - np.asarray(fs_distance(z[:, None, :], w[None, :, :])))) <= 1e-15


@pytest.mark.parametrize("n,block", [(2, 512), (101, 16), (300, 8), (257, 1000)])
def test_nearest_neighbours_equal_brute_force(n, block):
    rng = np.random.default_rng(SEED + n)
    z = random_points(rng, n)
    if n > 10:  # duplicates up to scaling and near-duplicates exercise the exact refinement
        z[1] = (2 - 1j) * z[0]
        z[3] = z[2] + 1e-7 * z[4]
    brute = np.array(fs_distance_matrix(z))
    np.fill_diagonal(brute, np.inf)
    nn = np.asarray(nearest_neighbour_distances(z, block=block))
    assert np.max(np.abs(nn - brute.min(axis=1))) <= 1e-13
    if n > 10:
        assert nn[0] == 0.0 and nn[1] == 0.0
        assert nn[2] == pytest.approx(brute[2, 3], rel=1e-9)


def test_projector_embedding_inner_product_is_cos_squared():
    """e(z).e(w) = |u^dagger v|^2 = cos^2 d and |e(z) - e(w)| = sqrt(2) sin d."""
    rng = np.random.default_rng(SEED + 8)
    z, w = random_points(rng, 200), random_points(rng, 200)
    ez, ew = projector_embedding(z), projector_embedding(w)
    d = np.asarray(fs_distance(z, w, threshold=0.0))
    assert ez.shape == (200, 25)
    assert np.max(np.abs(np.sum(ez * ew, axis=1) - np.cos(d) ** 2)) <= 1e-14
    assert np.max(np.abs(np.linalg.norm(ez - ew, axis=1) - np.sqrt(2) * np.sin(d))) <= 1e-14


def test_nearest_neighbour_statistics_of_brute_force():
    rng = np.random.default_rng(SEED + 5)
    z = random_points(rng, 400)
    brute = np.array(fs_distance_matrix(z))
    np.fill_diagonal(brute, np.inf)
    nn = brute.min(axis=1)
    s = nearest_neighbour_statistics(z, block=64)
    assert s.n_points == 400
    assert s.min == pytest.approx(nn.min(), abs=1e-13)
    assert s.mean == pytest.approx(nn.mean(), abs=1e-13)
    assert s.max == pytest.approx(nn.max(), abs=1e-13)
    assert s.mean_se == pytest.approx(nn.std(ddof=1) / 20, rel=1e-9)


def test_nearest_neighbour_scaling_in_cp1_has_dimension_slope():
    """Uniform points on CP^1 (real dimension 2, area pi): mean NN distance -> sqrt(pi)/2 N^(-1/2).

    The Poisson law of :func:`poisson_mean_nn_distance` (Gamma(3/2) sqrt(area / pi) = sqrt(pi)/2);
    the fitted slope is -1/2 within 4 SE (or 0.02), the prefactor within 3% at N = 8000
    (SE of one mean ~0.6%, curvature corrections O(1/N)).
    """
    rng = np.random.default_rng(SEED + 6)
    ns = np.array([500, 1000, 2000, 4000, 8000])
    means = []
    for n in ns:
        # uniform on the Bloch sphere <=> z Gaussian in C^2
        means.append(nearest_neighbour_statistics(random_points(rng, int(n), dim=2)).mean)
    fit = fit_loglog_slope(ns, means)
    assert abs(fit.slope + 0.5) <= max(4 * fit.slope_se, 0.02)
    assert poisson_mean_nn_distance(1, 2, math.pi) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-14)
    assert means[-1] == pytest.approx(poisson_mean_nn_distance(ns[-1], 2, math.pi), rel=0.03)


def test_bad_input_raises_named_errors():
    with pytest.raises(InvalidParameterError):
        fs_distance(np.zeros(5), np.ones(5))
    with pytest.raises(NonFiniteError):
        fs_distance(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(InvalidParameterError):
        fs_distance(np.ones(5), np.ones(4))
    with pytest.raises(InvalidParameterError):
        fs_distance(np.ones(5), np.ones(5), threshold=-1.0)
    with pytest.raises(InvalidParameterError):
        nearest_neighbour_distances(np.ones((1, 5)))
    with pytest.raises(InvalidParameterError):
        nearest_neighbour_distances(np.ones((4, 5)), block=0)
    with pytest.raises(InvalidParameterError):
        poisson_mean_nn_distance(10, 0, 1.0)


@pytest.mark.slow
def test_quintic_mean_nn_distance_follows_poisson_law_not_printed_fit():
    """Fermat quintic, N = 10^3..10^5: mu N^(1/6) -> Gamma(7/6) 5^(1/6) (within 1% at 10^5), the
    fitted slope is -1/6 within 0.01 (pre-asymptotic), and the printed b = -.184 is > 5 SE away."""
    import jax

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_points

    ns = np.array([1000, 10000, 100000])
    key = jax.random.PRNGKey(SEED)
    means = np.array([nearest_neighbour_statistics(sample_points(fermat_quintic(), int(n), jax.random.fold_in(key, int(n))).points).mean for n in ns])
    poisson = poisson_mean_nn_distance(ns, 6, 5 * math.pi**3 / 6)
    assert means[-1] == pytest.approx(poisson[-1], rel=0.01)
    assert np.all(means < poisson)  # approached from below
    fit = fit_loglog_slope(ns, means)
    assert abs(fit.slope + 1 / 6) <= 0.01
    assert abs(fit.slope + 0.184) >= 5 * fit.slope_se
