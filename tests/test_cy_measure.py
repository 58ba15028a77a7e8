"""Charts, Fubini–Study pullback, Ω, weights, κ and the σ-measure.

Monte-Carlo assertions use z = 4.5 standard errors: with at most 10 such assertions in this file
the family-wise failure probability is below 10 * 6.8e-6 ≈ 7e-5 (normal approximation; the
samples are >= 10^5 points, so the plug-in standard errors are accurate to a few percent).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flowtheory.errors import InvalidParameterError, NonFiniteError, NotPositiveDefiniteError, OffManifoldError
from numerics.cy.hypersurface import fermat_cubic, fermat_quartic, fermat_quintic, quintic_family
from numerics.cy.measure import FS_SCALE, eta, fs_metric, fs_sigma, fs_volume, point_data, polydisc_integrals, sigma_measure
from numerics.cy.patches import chart, embedding_jacobian, free_indices
from numerics.cy.sampling import sample_points

Z = 4.5


@pytest.mark.parametrize("surface", [fermat_cubic(), fermat_quartic(), fermat_quintic()], ids=lambda s: s.name)
def test_volume_is_the_intersection_number_and_line_sampling_has_the_fs_density(surface, key):
    """int J^n = deg X (polydisc MC), and the line sampler's |Omega|^2 volume agrees with the polydisc one.

    The second check tests the Shiffman–Zelditch density and the weights ``|Omega|^2/det g_FS``
    against an integration that uses neither.
    """
    k1, k2 = jax.random.split(key)
    polydisc = polydisc_integrals(surface, 60_000, k1)
    (vol_j, se_j), (vol_omega, se_omega) = polydisc["volume"], polydisc["volume_omega"]
    assert abs(vol_j - surface.degree) <= Z * se_j
    sample = sample_points(surface, 100_000, k2)
    result = fs_sigma(sample)
    assert abs(result.volume - surface.degree) < 1e-9  # FS: w * det g_FS / |Omega|^2 = 1 exactly
    assert abs(result.volume_omega - vol_omega) <= Z * math.hypot(result.volume_omega_stderr, se_omega)


def test_chart_jacobian_is_tangent_and_matches_finite_differences(key):
    surface = quintic_family(0.4 + 0.1j)
    z = sample_points(surface, 50, key).points
    c = chart(surface, z)
    jac = np.asarray(embedding_jacobian(c))
    # rows are tangent to X (dp . dz/dx^a = 0) and dz_k/dx^a = delta on the local coordinates
    assert np.max(np.abs(np.einsum("nam,nm->na", jac, np.asarray(c.dp)))) < 1e-12 * np.max(np.abs(c.dp))
    np.testing.assert_array_equal(np.take_along_axis(jac, np.asarray(free_indices(c))[:, None, :], axis=-1), np.broadcast_to(np.eye(3), (50, 3, 3)))
    # dz_j/dx^a against a central difference of the implicit function (Newton-solved)
    h = 1e-6
    for a in range(3):
        shift = h * jax.nn.one_hot(free_indices(c)[:, a], 5)
        z_j = [_solve_eliminated(surface, c.z + s * shift, c.eliminated) for s in (1.0, -1.0)]
        fd = (z_j[0] - z_j[1]) / (2 * h)
        exact = jnp.take_along_axis(embedding_jacobian(c)[:, a, :], c.eliminated[:, None], axis=-1)[:, 0]
        np.testing.assert_allclose(fd, exact, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("surface", [fermat_quintic(), quintic_family(0.4 - 0.3j), fermat_quartic()], ids=lambda s: s.name)
def test_point_data_charts_points_by_the_stated_rule_evaluating_dp_once(surface, key, monkeypatch):
    """On random points of X: patch = argmax_i |z_i|; the eliminated index is argmax over j != patch of
    |dp/dz_j| with dp_j = d z_j^(d-1) - d psi prod_(k != j) z_k written out in numpy at the
    patch-scaled point; |Omega|^2 = 1/|dp_j|^2 there; the weights are |Omega|^2/det g_FS with g_FS
    the pulled-back metric; and the gradient of p is evaluated once for all of it."""
    z = np.asarray(sample_points(surface, 500, key).points)
    calls = []
    dp = type(surface).dp
    monkeypatch.setattr(type(surface), "dp", lambda self, w: calls.append(1) or dp(self, w))
    data = point_data(surface, z)
    monkeypatch.undo()
    assert len(calls) == 1
    d, psi = surface.degree, surface.psi
    patch = np.argmax(np.abs(z), axis=1)
    scaled = z / z[np.arange(len(z)), patch][:, None]
    others = np.stack([np.prod(np.delete(scaled, j, axis=1), axis=1) for j in range(surface.n_ambient)], axis=1)
    gradient = d * scaled ** (d - 1) - d * psi * others
    masked = np.where(np.arange(surface.n_ambient)[None, :] == patch[:, None], -1.0, np.abs(gradient))
    eliminated = np.argmax(masked, axis=1)
    np.testing.assert_array_equal(data.chart.patch, patch)
    np.testing.assert_array_equal(data.chart.eliminated, eliminated)
    omega2 = 1.0 / np.abs(gradient[np.arange(len(z)), eliminated]) ** 2
    np.testing.assert_allclose(data.omega2, omega2, rtol=1e-12)
    det = np.linalg.det(np.asarray(fs_metric(data.chart))).real
    np.testing.assert_allclose(data.weights, omega2 / det, rtol=1e-10)


def _solve_eliminated(surface, z, j, steps=30):
    """Re-solve p = 0 for z_j by Newton from the current value."""
    onehot = jax.nn.one_hot(j, surface.n_ambient)
    for _ in range(steps):
        dpj = jnp.sum(surface.dp(z) * onehot, axis=-1)
        z = z - (surface.p(z) / dpj)[:, None] * onehot
    return jnp.sum(z * onehot, axis=-1)


def test_fs_pullback_is_the_hessian_of_the_potential(key):
    """g_ab = FS_SCALE d_a dbar_b ln|z(x)|^2, by autodiff of the potential in real coordinates."""
    surface = fermat_quintic()
    z = sample_points(surface, 8, key).points
    data = point_data(surface, z)
    c = data.chart

    def potential(u, free, j, z0):
        x = u[:3] + 1j * u[3:]
        rhs0 = -(1.0 + jnp.sum(z0[free] ** 5))
        zj = z0[j] * ((-(1.0 + jnp.sum(x**5))) / rhs0) ** (1 / 5)  # the branch through z0
        zz = z0.at[free].set(x).at[j].set(zj)
        return FS_SCALE * jnp.log(jnp.sum(jnp.abs(zz) ** 2))

    def metric(free, j, z0):
        u0 = jnp.concatenate([z0[free].real, z0[free].imag])
        hess = jax.hessian(potential)(u0, free, j, z0)
        # d_a dbar_b = (1/4)(d_ua - i d_va)(d_ub + i d_vb)
        return 0.25 * (hess[:3, :3] + hess[3:, 3:] + 1j * (hess[:3, 3:] - hess[3:, :3]))

    g = jax.vmap(metric)(free_indices(c), c.eliminated, c.z)
    np.testing.assert_allclose(g, fs_metric(c), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("surface", [fermat_cubic(), fermat_quartic(), quintic_family(0.5j)], ids=lambda s: s.name)
def test_metrics_hermitian_positive_definite_weights_positive(surface, key):
    data = point_data(surface, sample_points(surface, 4000, key).points)
    g = np.asarray(fs_metric(data.chart))
    np.testing.assert_allclose(g, np.conj(np.swapaxes(g, -1, -2)), rtol=0, atol=1e-15 * np.max(np.abs(g)))
    assert np.min(np.linalg.eigvalsh(g)) > 0
    np.testing.assert_allclose(data.det_fs, np.linalg.det(g).real, rtol=1e-10)
    w = np.asarray(data.weights)
    assert np.all(np.isfinite(w)) and np.all(w > 0)


def test_chart_change_is_covariant(key):
    """The same points in another (patch, eliminated) chart: g transforms with the chart Jacobian and
    det g/|Omega|^2 (hence eta and the weights) is unchanged."""
    surface = quintic_family(0.3)
    z = sample_points(surface, 2000, key).points
    a = point_data(surface, z)
    # another chart per point: the second-largest |z_i| as patch, then the best remaining elimination
    patch_b = jnp.argsort(-jnp.abs(z), axis=-1)[:, 1]
    b = point_data(surface, z, patch=patch_b)
    assert bool(jnp.all(b.chart.patch != a.chart.patch))
    ratio_a = a.det_fs / a.omega2
    ratio_b = b.det_fs / b.omega2
    np.testing.assert_allclose(ratio_a, ratio_b, rtol=1e-9)
    # M_ab = d x_B^b / d x_A^a = sum_mu J^A_{a mu} d(z_k/z_i)/dz_mu with (i, k) = B's patch and free index
    za, jac_a = a.chart.z, embedding_jacobian(a.chart)
    free_b = free_indices(b.chart)
    zi = jnp.take_along_axis(za, patch_b[:, None], axis=-1)
    zk = jnp.take_along_axis(za, free_b, axis=-1)
    jac_k = jnp.take_along_axis(jac_a, jnp.broadcast_to(free_b[:, None, :], jac_a.shape[:2] + (3,)), axis=-1)
    jac_i = jnp.take_along_axis(jac_a, jnp.broadcast_to(patch_b[:, None, None], jac_a.shape[:2] + (1,)), axis=-1)
    m = jac_k / zi[:, None, :] - jac_i * zk[:, None, :] / zi[:, None, :] ** 2
    g_a = fs_metric(a.chart)
    transformed = jnp.einsum("nab,nbc,ndc->nad", m, fs_metric(b.chart), jnp.conj(m))
    np.testing.assert_allclose(transformed, g_a, rtol=1e-8, atol=1e-10 * float(jnp.max(jnp.abs(g_a))))


def test_flat_torus_has_sigma_zero_and_fs_does_not(key):
    """On the cubic curve g = kappa |Omega|^2 is the flat (Ricci-flat) metric: eta = 1, sigma = 0."""
    surface = fermat_cubic()
    sample = sample_points(surface, 100_000, key)
    data = point_data(surface, sample.points)
    flat = sigma_measure(surface, data.weights, 2.7 * data.omega2, data.omega2, sample.line_ids)
    assert flat.sigma < 1e-13 and flat.sigma_stderr < 1e-13
    assert abs(flat.kappa - 2.7) < 1e-12
    np.testing.assert_allclose(eta(data.weights, 2.7 * data.omega2, data.omega2), 1.0, rtol=1e-13)
    fs = fs_sigma(sample)
    assert fs.sigma > 50 * fs.sigma_stderr


def test_fs_sigma_on_the_quintic_is_stable_across_seeds(key):
    """sigma(FS) on the Fermat quintic: two independent samples agree within their errors, and lie in
    the literature range 0.37-0.38 (Douglas et al. 2006; Larfors et al. 2022: sigma_FS ~ 0.375)."""
    surface = fermat_quintic()
    results = [fs_sigma(sample_points(surface, 100_000, k)) for k in jax.random.split(key)]
    a, b = results
    assert abs(a.sigma - b.sigma) <= Z * math.hypot(a.sigma_stderr, b.sigma_stderr)
    for r in results:
        assert 0.37 - Z * r.sigma_stderr <= r.sigma <= 0.38 + Z * r.sigma_stderr
        assert 0 < r.sigma_stderr < 0.01


def test_sigma_is_invariant_under_metric_rescaling(key):
    surface = fermat_quartic()
    sample = sample_points(surface, 5000, key)
    data = point_data(surface, sample.points)
    base = sigma_measure(surface, data.weights, data.det_fs, data.omega2)
    scaled = sigma_measure(surface, data.weights, 1e3 * data.det_fs, data.omega2)
    assert abs(base.sigma - scaled.sigma) < 1e-12
    assert abs(scaled.kappa / base.kappa - 1e3) < 1e-9 * 1e3


@pytest.mark.slow
def test_sigma_standard_error_is_calibrated(key):
    """Across 40 independent samples the spread of sigma matches the reported standard error.

    The ratio s^2/SE^2 of the empirical variance to the mean squared SE follows chi^2_39/39
    approximately; its 0.1% and 99.9% quantiles are 0.45 and 1.83.
    """
    surface = fermat_quintic()
    results = [fs_sigma(sample_points(surface, 20_000, k)) for k in jax.random.split(key, 40)]
    sigmas = np.array([r.sigma for r in results])
    se2 = np.mean([r.sigma_stderr**2 for r in results])
    assert 0.45 < np.var(sigmas, ddof=1) / se2 < 1.83


def test_bad_input_to_the_measure(key):
    surface = fermat_quintic()
    z = sample_points(surface, 10, key).points
    with pytest.raises(OffManifoldError):
        point_data(surface, z + 1e-4)
    with pytest.raises(InvalidParameterError):
        point_data(surface, z, patch=0, eliminated=0)
    data = point_data(surface, z)
    with pytest.raises(NotPositiveDefiniteError):
        sigma_measure(surface, data.weights, -data.det_fs, data.omega2)
    with pytest.raises(NonFiniteError):
        sigma_measure(surface, data.weights, data.det_fs.at[3].set(jnp.nan), data.omega2)
    with pytest.raises(InvalidParameterError):
        sigma_measure(surface, data.weights[:5], data.det_fs, data.omega2)
    assert fs_volume(surface) == pytest.approx(5 / 6)
    with pytest.raises(InvalidParameterError):
        polydisc_integrals(quintic_family(0.5), 10, key)
