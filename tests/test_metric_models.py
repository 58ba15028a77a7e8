"""Metric networks on Calabi–Yau hypersurfaces (section 3.3): ∂∂̄φ by autodiff against sympy, the
φ-model Kähler and Hermitian, the Kähler loss by two routes, and training that lowers σ."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from flowtheory.errors import InvalidParameterError
from numerics.cy.hypersurface import fermat_cubic, fermat_quintic
from numerics.cy.measure import fs_metric
from numerics.cy.metric_models import MetricNetwork, invariant_features, kahler_defect, local_chart_metric, wirtinger_hessian
from numerics.cy.metric_training import TrainSettings, kahler_loss, train, training_set
from numerics.cy.patches import chart
from numerics.cy.sampling import sample_in_chart, sample_points

QUINTIC = fermat_quintic()


def perturbed(net):
    """Standard-initialised parameters (every layer random)."""
    return net.init(jax.random.PRNGKey(1))


@pytest.fixture(scope="module")
def quintic_chart():
    return chart(QUINTIC, sample_points(QUINTIC, 40, jax.random.PRNGKey(0)).points)


def test_wirtinger_hessian_equals_sympy_for_a_known_potential():
    """∂_μ∂̄_ν ln(Σ|z_i|^4) by jax.hessian on (Re z, Im z) against sympy with z, z̄ independent."""
    m = 5
    z, zb = sp.symbols(f"z0:{m}"), sp.symbols(f"zb0:{m}")
    potential = sp.log(sum(z[i] ** 2 * zb[i] ** 2 for i in range(m)))
    hessian = sp.lambdify([z, zb], sp.Matrix(m, m, lambda a, b: sp.diff(potential, z[a], zb[b])), "numpy")
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = rng.standard_normal(m) + 1j * rng.standard_normal(m)
        ours = wirtinger_hessian(lambda w: jnp.log(jnp.sum(jnp.abs(w) ** 4)), jnp.asarray(point))
        ref = np.array(hessian(list(point), list(np.conj(point))), dtype=complex)
        np.testing.assert_allclose(np.asarray(ours), ref, rtol=0, atol=1e-13 * np.max(np.abs(ref)))


def test_features_are_projectively_invariant():
    z = np.asarray(sample_points(QUINTIC, 10, jax.random.PRNGKey(3)).points)
    np.testing.assert_allclose(invariant_features(jnp.asarray(z * (0.3 - 2.1j))), invariant_features(jnp.asarray(z)), atol=1e-15)
    assert invariant_features(jnp.asarray(z)).shape == (10, 25)


def test_models_start_at_fubini_study(quintic_chart):
    for model in ("phi", "mult", "free"):
        net = MetricNetwork(5, model, width=16, depth=2)
        g = net.metric(net.init(jax.random.PRNGKey(0), zero_output=True), quintic_chart)
        np.testing.assert_allclose(np.asarray(g), np.asarray(fs_metric(quintic_chart)), rtol=0, atol=1e-15)


def test_phi_model_is_kahler_and_hermitian_positive_definite(quintic_chart):
    net = MetricNetwork(5, "phi", width=16, depth=2)
    params = perturbed(net)
    g = net.metric(params, quintic_chart)
    assert float(jnp.max(jnp.abs(g - jnp.conj(jnp.swapaxes(g, 1, 2))))) < 1e-16
    assert float(jnp.min(jnp.linalg.eigvalsh(g))) > 0
    single = jax.tree_util.tree_map(lambda a: a[:1], quintic_chart)
    assert kahler_defect(net, params, QUINTIC, single) < 1e-12
    assert float(kahler_loss(net, params, QUINTIC, quintic_chart)) < 1e-24


def test_kahler_loss_of_a_direct_model_is_the_local_coordinates_defect(quintic_chart):
    """The ambient route (J ∂_μ g) of the Kähler loss against g differentiated in the chart's own coordinates."""
    net = MetricNetwork(5, "mult", width=16, depth=2)
    params = perturbed(net)
    single = jax.tree_util.tree_map(lambda a: a[:1], quintic_chart)
    v0, metric_at = local_chart_metric(net, params, QUINTIC, single)
    d = jax.jacfwd(metric_at)(v0)
    holo = (d[..., :3] - 1j * d[..., 3:]) / 2
    local = float(jnp.sum(jnp.abs(holo - jnp.transpose(holo, (2, 1, 0))) ** 2))
    assert local > 1e-6  # a direct model is not Kähler
    assert float(kahler_loss(net, params, QUINTIC, single)) == pytest.approx(local, rel=1e-10)


def test_training_lowers_validation_sigma_on_the_quintic():
    """3000 points, 6 epochs of the paper's 3 x 64 φ-model (GELU, Adam 1e-3, batch 64): validation σ
    falls more than threefold on points the optimiser never saw."""
    train_set = training_set(QUINTIC, sample_points(QUINTIC, 3000, jax.random.PRNGKey(0)).points)
    val_set = training_set(QUINTIC, sample_points(QUINTIC, 1000, jax.random.PRNGKey(1)).points)
    result = train(MetricNetwork(5, "phi"), QUINTIC, train_set, val_set, TrainSettings(epochs=6), jax.random.PRNGKey(2))
    assert len(result.val_sigma) == 7 and result.val_sigma[0] > 0.3
    assert result.val_gain > 3.0 and result.loss_terms["kahler"] == [0.0] * 6


def test_the_torus_reaches_near_zero_sigma():
    """On the Fermat cubic (a torus) the flat metric is exact: the φ-model takes σ from 0.098 to below 0.01."""
    cubic = fermat_cubic()
    train_set = training_set(cubic, sample_points(cubic, 3000, jax.random.PRNGKey(0)).points)
    val_set = training_set(cubic, sample_points(cubic, 1000, jax.random.PRNGKey(1)).points)
    result = train(MetricNetwork(3, "phi"), cubic, train_set, val_set, TrainSettings(epochs=6), jax.random.PRNGKey(2))
    assert result.val_sigma[0] > 0.08 and result.val_sigma[-1] < 0.01


def test_resumed_training_is_the_uninterrupted_training():
    train_set = training_set(QUINTIC, sample_points(QUINTIC, 400, jax.random.PRNGKey(0)).points)
    val_set = training_set(QUINTIC, sample_points(QUINTIC, 200, jax.random.PRNGKey(1)).points)
    net, key = MetricNetwork(5, "phi", width=16, depth=2), jax.random.PRNGKey(5)
    whole = train(net, QUINTIC, train_set, val_set, TrainSettings(epochs=3), key)
    first = train(net, QUINTIC, train_set, val_set, TrainSettings(epochs=1), key)
    resumed = train(net, QUINTIC, train_set, val_set, TrainSettings(epochs=3), key, resume_from=first)
    assert resumed.val_sigma == whole.val_sigma and resumed.train_sigma == whole.train_sigma


def test_direct_models_need_one_chart_and_bad_settings_are_named():
    data = training_set(QUINTIC, sample_points(QUINTIC, 200, jax.random.PRNGKey(0)).points)
    with pytest.raises(InvalidParameterError, match="one chart"):
        train(MetricNetwork(5, "free"), QUINTIC, data, data, TrainSettings(epochs=1), jax.random.PRNGKey(0))
    one = training_set(QUINTIC, sample_in_chart(QUINTIC, 100, jax.random.PRNGKey(0), 0, 1).points)
    with pytest.raises(InvalidParameterError, match="batch"):
        train(MetricNetwork(5, "free"), QUINTIC, one, one, TrainSettings(epochs=1, batch=500), jax.random.PRNGKey(0))
    for bad in ({"model": "cnn"}, {"activation": "tanh"}, {"width": 0}):
        with pytest.raises(InvalidParameterError):
            MetricNetwork(5, **bad)
    with pytest.raises(InvalidParameterError):
        TrainSettings(lr=-1.0)
