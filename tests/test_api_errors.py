"""Empty or degenerate input to the public API raises a named error of :mod:`flowtheory.errors`.

Never a raw ``ZeroDivisionError`` / ``IndexError`` / ``LinAlgError``, never a NaN, ``zoo`` or a
negative volume.  Each case states the error class and a fragment of the message that names the
argument or the fact that is wrong; every named error is a ``ValueError``, so callers that catch
``ValueError`` keep working.
"""

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from flowtheory import errors, exact, kahler, riemann
from flowtheory.errors import (
    DegenerateInputError,
    EmptyInputError,
    InvalidParameterError,
    NonFiniteError,
    NotPositiveDefiniteError,
)
from numerics import cy, stats
from numerics.nn import ntk

x, y = sp.symbols("x y")
(z,), (zb,) = kahler.complex_coordinates("z")
(z1, z2), (z1b, z2b) = kahler.complex_coordinates("z1 z2")
QUINTIC = cy.fermat_quintic()
NO_POINTS = np.zeros((0, 5), dtype=complex)
ONES = np.ones(5)


def _estimate(n):
    return stats.Estimate(np.ones(n), np.ones(n), 3)


SYMBOLIC = [
    # a zero metric: det g = 0, every curvature would be nan / zoo
    ("riemann.christoffel(0)", lambda: riemann.christoffel(sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.riemann_tensor(0)", lambda: riemann.riemann_tensor(sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.ricci_tensor(0)", lambda: riemann.ricci_tensor(sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.ricci_scalar(0)", lambda: riemann.ricci_scalar(sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.hessian(0)", lambda: riemann.hessian(x * y, sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.laplacian(0)", lambda: riemann.laplacian(x * y, sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.grad_norm_sq(0)", lambda: riemann.grad_norm_sq(x * y, sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.volume_density(0)", lambda: riemann.volume_density(sp.zeros(2, 2), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.inverse_metric(0)", lambda: riemann.inverse_metric(sp.zeros(2, 2)), DegenerateInputError, "det g = 0"),
    # singular but not diagonal: det g = x^2 - x^2 = 0 identically
    ("riemann.ricci_scalar(rank 1)", lambda: riemann.ricci_scalar(sp.Matrix([[x, x], [x, x]]), (x, y)), DegenerateInputError, "det g = 0"),
    ("riemann.inverse_metric(0x0)", lambda: riemann.inverse_metric(sp.zeros(0, 0)), InvalidParameterError, "empty"),
    # a metric of numbers that is not positive definite (volume density would be I)
    ("riemann.volume_density(diag(-1, 1))", lambda: riemann.volume_density(sp.diag(-1, 1), (x, y)), NotPositiveDefiniteError, "not positive definite"),
    ("riemann.volume_density(diag(-1, -1))", lambda: riemann.volume_density(sp.diag(-1, -1), (x, y)), NotPositiveDefiniteError, "1x1 minor is -1"),
    ("riemann.ricci_scalar(indefinite)", lambda: riemann.ricci_scalar(sp.Matrix([[1, 2], [2, 1]]), (x, y)), NotPositiveDefiniteError, "2x2 minor is -3"),
    ("riemann.volume_density(nan)", lambda: riemann.volume_density(sp.diag(sp.nan, 1), (x, y)), NonFiniteError, r"g\[0,0\] = nan"),
    ("riemann.christoffel(oo)", lambda: riemann.christoffel(sp.diag(1, sp.oo), (x, y)), NonFiniteError, r"g\[1,1\] = oo"),
    ("riemann.check_metric([])", lambda: riemann.check_metric(sp.eye(2), (x, y), sample_points=[]), EmptyInputError, "sample_points"),
    # Kähler: ln det 0 = zoo, whose derivative sympy gives as 0
    ("kahler.ricci_form(0)", lambda: kahler.ricci_form(sp.zeros(1, 1), z, zb), DegenerateInputError, "det g = 0"),
    ("kahler.ricci_form(0, n=2)", lambda: kahler.ricci_form(sp.zeros(2, 2), (z1, z2), (z1b, z2b)), DegenerateInputError, "det g = 0"),
    ("kahler.ricci_form(-1)", lambda: kahler.ricci_form(sp.Matrix([[-1]]), z, zb), NotPositiveDefiniteError, "not positive definite"),
    ("kahler.christoffel(0)", lambda: kahler.christoffel(sp.zeros(1, 1), z, zb), DegenerateInputError, "det g = 0"),
    ("kahler.scalar_curvature(0)", lambda: kahler.scalar_curvature(sp.zeros(1, 1), z, zb), DegenerateInputError, "det g = 0"),
    ("kahler.kahler_laplacian(0)", lambda: kahler.kahler_laplacian(z * zb, sp.zeros(1, 1), z, zb), DegenerateInputError, "det g = 0"),
    ("kahler.inverse_metric(0)", lambda: kahler.inverse_metric(sp.zeros(1, 1)), DegenerateInputError, "det g = 0"),
    ("kahler.inverse_metric(not Hermitian)", lambda: kahler.inverse_metric(sp.Matrix([[2, sp.I], [sp.I, 2]])), errors.NotSymmetricError, "not Hermitian"),
    ("kahler.check_kahler_metric([])", lambda: kahler.check_kahler_metric(sp.eye(1), z, zb, sample_points=[]), EmptyInputError, "sample_points"),
    ("kahler.default_sample_points(0)", lambda: kahler.default_sample_points(0), InvalidParameterError, "complex dimension"),
    # exact evaluation
    ("exact.max_deviation(no points)", lambda: exact.max_deviation(x, 0, []), EmptyInputError, "points is empty"),
    ("exact.random_rational_points(0)", lambda: exact.random_rational_points((x,), 0), InvalidParameterError, "n_points"),
    ("exact.random_rational_points(low > high)", lambda: exact.random_rational_points((x,), 2, low=1, high=-1), InvalidParameterError, "low = 1 > high = -1"),
    ("exact.random_rational_points(denominator 0)", lambda: exact.random_rational_points((x,), 2, denominator=0), InvalidParameterError, "denominator"),
    ("exact.random_rational_points(nan)", lambda: exact.random_rational_points((x,), 2, low=float("nan")), NonFiniteError, "interval of x"),
    ("exact.evaluate(nan point)", lambda: exact.evaluate(x, {x: float("nan")}), NonFiniteError, "x = nan"),
    ("exact.evaluate(digits 0)", lambda: exact.evaluate(x, {x: 1}, digits=0), InvalidParameterError, "digits"),
]

NUMERIC = [
    # numerics.stats
    ("stats.mean_estimate([])", lambda: stats.mean_estimate([]), EmptyInputError, "samples has no draws"),
    ("stats.mean_estimate(axis)", lambda: stats.mean_estimate(np.ones(3), axis=2), InvalidParameterError, "axis 2"),
    ("stats.rms_estimate([])", lambda: stats.rms_estimate([]), EmptyInputError, "errors is empty"),
    ("stats.rms_estimate(scalar)", lambda: stats.rms_estimate(1.0), InvalidParameterError, "leading axis of draws"),
    ("stats.fit_loglog_slope(equal n)", lambda: stats.fit_loglog_slope([4, 4, 4], [1, 2, 3]), DegenerateInputError, "sample sizes n are equal"),
    ("stats.fit_loglog_slope(equal n, weighted)", lambda: stats.fit_loglog_slope([4, 4], [1, 2], [0.1, 0.1]), DegenerateInputError, "sample sizes n are equal"),
    ("stats.fit_loglog_slope([])", lambda: stats.fit_loglog_slope([], []), EmptyInputError, "n and y are empty"),
    ("stats.fit_loglog_slope(y_se shape)", lambda: stats.fit_loglog_slope([1, 2, 3], [1, 2, 3], [0.1, 0.1]), InvalidParameterError, "y_se"),
    ("stats.z_scores(nan exact)", lambda: stats.z_scores(_estimate(1), np.nan), NonFiniteError, "exact"),
    ("stats.z_scores(shape)", lambda: stats.z_scores(_estimate(3), np.ones(2)), InvalidParameterError, "exact of shape"),
    ("stats.assert_within(empty)", lambda: stats.assert_within(_estimate(0), np.ones(0), 2.0), EmptyInputError, "nothing to test"),
    # numerics.cy: empty point sets
    ("cy.point_data(no points)", lambda: cy.point_data(QUINTIC, NO_POINTS), EmptyInputError, "points is empty"),
    ("cy.fs_distance(no points)", lambda: cy.fs_distance(NO_POINTS, NO_POINTS), EmptyInputError, "z is empty"),
    ("cy.fs_distance_matrix(no points)", lambda: cy.fs_distance_matrix(NO_POINTS), EmptyInputError, "z is empty"),
    ("cy.nearest_neighbour_distances(no points)", lambda: cy.nearest_neighbour_distances(NO_POINTS), EmptyInputError, "z is empty"),
    ("cy.projector_embedding(no points)", lambda: cy.projector_embedding(NO_POINTS), EmptyInputError, "z is empty"),
    ("cy.projector_embedding(zero vector)", lambda: cy.projector_embedding(np.zeros((2, 5), complex)), InvalidParameterError, "zero vector"),
    ("cy.agglomerative_fs_labels(empty)", lambda: cy.agglomerative_fs_labels(np.zeros((0, 0)), 2), EmptyInputError, "points is empty"),
    ("cy.agglomerative_fs_labels(nan)", lambda: cy.agglomerative_fs_labels(np.full((3, 3), np.nan), 2), NonFiniteError, "distances"),
    ("cy.birch_euclidean_labels(no points)", lambda: cy.birch_euclidean_labels(NO_POINTS, 2), EmptyInputError, "points is empty"),
    ("cy.fs_silhouette_score(no points)", lambda: cy.fs_silhouette_score(NO_POINTS, np.zeros(0, int)), EmptyInputError, "points is empty"),
    ("cy.cluster_order([])", lambda: cy.cluster_order(np.zeros(0, int)), EmptyInputError, "labels is empty"),
    ("cy.line_coefficients(no lines)", lambda: cy.line_coefficients(QUINTIC, NO_POINTS, NO_POINTS), EmptyInputError, "a is empty"),
    ("cy.solve_lines(no lines)", lambda: cy.solve_lines(QUINTIC, NO_POINTS, NO_POINTS), EmptyInputError, "a is empty"),
    ("cy.aberth_roots(no polynomials)", lambda: cy.aberth_roots(np.zeros((0, 6), complex)), EmptyInputError, "coeffs is empty"),
    ("cy.aberth_roots(zero leading)", lambda: cy.aberth_roots(np.zeros((1, 6), complex)), DegenerateInputError, "zero leading coefficient"),
    ("cy.poisson_mean_nn_distance(0)", lambda: cy.poisson_mean_nn_distance(0, 6, 1.0), InvalidParameterError, "n_points must be positive"),
    ("cy.polydisc_integrals(1 draw)", lambda: cy.polydisc_integrals(QUINTIC, 1, None), InvalidParameterError, "number of draws"),
    ("cy.pair_index(patch == eliminated)", lambda: cy.pair_index(jnp.array([0]), jnp.array([0]), 5), InvalidParameterError, "distinct"),
    # numerics.cy: weights and measures
    ("cy.sigma_measure(empty)", lambda: cy.sigma_measure(QUINTIC, [], [], []), EmptyInputError, "weights is empty"),
    ("cy.sigma_measure(negative weights)", lambda: cy.sigma_measure(QUINTIC, -ONES, ONES, ONES), InvalidParameterError, "weights must be >= 0"),
    ("cy.sigma_measure(zero weights)", lambda: cy.sigma_measure(QUINTIC, 0 * ONES, ONES, ONES), DegenerateInputError, "weights are all zero"),
    ("cy.sigma_measure(omega2 = 0)", lambda: cy.sigma_measure(QUINTIC, ONES, ONES, 0 * ONES), InvalidParameterError, "omega2"),
    ("cy.sigma_measure(region 0)", lambda: cy.sigma_measure(QUINTIC, ONES, ONES, ONES, region=(0.0, 0.0)), InvalidParameterError, "region"),
    ("cy.sigma_measure(clusters shape)", lambda: cy.sigma_measure(QUINTIC, ONES, ONES, ONES, clusters=np.arange(3)), InvalidParameterError, "clusters"),
    ("cy.eta(empty)", lambda: cy.eta(np.zeros(0), np.zeros(0), np.zeros(0)), EmptyInputError, "weights is empty"),
    ("cy.eta(negative weights)", lambda: cy.eta(-ONES, ONES, ONES), InvalidParameterError, "weights must be >= 0"),
    ("cy.eta(zero weights)", lambda: cy.eta(0 * ONES, ONES, ONES), DegenerateInputError, "weights are all zero"),
    ("cy.clustered_stderr(empty)", lambda: cy.clustered_stderr(np.zeros(0), None), EmptyInputError, "influence is empty"),
    ("cy.clustered_stderr(nan)", lambda: cy.clustered_stderr(np.array([np.nan, 1.0]), None), NonFiniteError, "influence"),
    (
        "cy.sample_region(no candidates)",
        lambda: cy.sample_region(cy.PointSample(QUINTIC, NO_POINTS, np.zeros(0, int), 0, 0, (0, 1), 0)),
        EmptyInputError,
        "n_candidates = 0",
    ),
    # numerics.nn: empty point sets and negative quadrature weights
    ("ntk.empirical_ntk(no points)", lambda: ntk.empirical_ntk(lambda p, x: x, {}, np.zeros((0, 2))), EmptyInputError, "x1 is empty"),
    (
        "ntk.flow_velocity(negative weights)",
        lambda: ntk.flow_velocity(lambda p, x: p["a"] * x[0], {"a": 1.0}, np.ones((2, 1)), np.ones((2, 1)), np.ones(2), weights=-np.ones(2)),
        InvalidParameterError,
        "weights must be >= 0",
    ),
]


@pytest.mark.parametrize("name, call, error, match", SYMBOLIC + NUMERIC, ids=[c[0] for c in SYMBOLIC + NUMERIC])
def test_degenerate_input_raises_named_error(name, call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, ValueError)  # callers catching ValueError keep working


@pytest.mark.parametrize(
    "error",
    [
        errors.FlowtheoryError,
        InvalidParameterError,
        EmptyInputError,
        DegenerateInputError,
        NonFiniteError,
        NotPositiveDefiniteError,
        errors.NotSymmetricError,
    ],
)
def test_named_errors_are_value_errors(error):
    assert issubclass(error, ValueError)


def test_empty_and_degenerate_are_invalid_parameters():
    """Code that catches ``InvalidParameterError`` for a bad argument also catches the new, finer classes."""
    assert issubclass(EmptyInputError, InvalidParameterError)
    assert issubclass(DegenerateInputError, InvalidParameterError)


def test_symbolic_metrics_are_left_to_check_metric():
    """A metric with symbolic entries is not sampled by the curvature functions: ``√det`` of
    ``diag(1, x²)`` stays ``√(x²)``, and check_metric is where positivity is tested."""
    assert riemann.volume_density(sp.diag(1, x**2), (x, y)) == sp.sqrt(x**2)
    assert kahler.ricci_form(sp.Matrix([[2]]), z, zb) == sp.Matrix([[0]])  # flat, positive: fine
