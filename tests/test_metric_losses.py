"""The transition and Ricci terms of the metric networks' loss (section 3.3, cymetric's losses).

Transition: the Jacobian of a chart change moves the Fubini–Study metric of one chart onto that of
the other to rounding; the φ-model (a global potential) has no transition loss, a direct model does.
Ricci: R_ab̄ by the ambient route against the chart's own coordinates; R ≡ 2π on the conic (the
round P^1 of area 2); on a Calabi–Yau the total scalar curvature vanishes (c_1 = 0) while on the
cubic surface (c_1 = H) it is 2π(m − d)·d/(n − 1)! = 6π, i.e. the FS-mean of R is 4π.

Monte-Carlo assertions use Z = 4 standard errors (lines as clusters, ``clustered_stderr``): with
three of them here the family-wise failure probability is below 3 · 6.3e-5 ≈ 2e-4.
"""

import math
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flowtheory.errors import InvalidParameterError
from numerics.cy import metric_training
from numerics.cy.hypersurface import Hypersurface, fermat_cubic, fermat_quintic
from numerics.cy.measure import clustered_stderr, fs_metric, omega_squared, point_data
from numerics.cy.metric_models import MetricNetwork, local_chart_metric, ricci_scalar, ricci_tensor, wirtinger_hessian
from numerics.cy.metric_training import TrainSettings, train, training_set, transition_loss
from numerics.cy.patches import chart, neighbour_chart, transition_jacobian
from numerics.cy.sampling import sample_in_chart, sample_points

Z = 4.0
QUINTIC = fermat_quintic()


SURFACES = {"quintic": QUINTIC, "cubic torus": fermat_cubic(), "cubic surface": Hypersurface(4, 3, name="cubic surface")}


@lru_cache(maxsize=None)
def sample(name):
    """2000 points on a surface of :data:`SURFACES` (one draw shared by the tests)."""
    return sample_points(SURFACES[name], 2000, jax.random.PRNGKey(0))


def first(c, n):
    return jax.tree_util.tree_map(lambda a: a[:n], c)


def dagger(a):
    return jnp.conj(jnp.swapaxes(a, -1, -2))


@pytest.mark.parametrize("name", ["quintic", "cubic torus"])
def test_fubini_study_transforms_with_the_chart_change_jacobian(name):
    """g_FS^B = T g_FS^A T^† to 1e-12, B the chart of the next-largest |z_i| (the chart rule forced there)."""
    surface = SURFACES[name]
    z = sample(name).points[:300]
    a = chart(surface, z)
    b = neighbour_chart(surface, a)
    forced = chart(surface, z, patch=b.patch)
    np.testing.assert_array_equal(np.asarray(forced.eliminated), np.asarray(b.eliminated))
    np.testing.assert_allclose(np.asarray(forced.z), np.asarray(b.z), rtol=0, atol=1e-14)
    moduli = np.abs(np.asarray(a.z))
    second = np.sort(moduli, axis=1)[:, -2]
    assert np.all(np.asarray(b.patch) != np.asarray(a.patch))
    np.testing.assert_array_equal(moduli[np.arange(300), np.asarray(b.patch)], second)
    t = transition_jacobian(a, b)
    g_b = fs_metric(b)
    defect = g_b - t @ fs_metric(a) @ dagger(t)
    assert float(jnp.max(jnp.abs(defect)) / jnp.max(jnp.abs(g_b))) < 1e-12
    # T of B -> A inverts T of A -> B (chain rule)
    np.testing.assert_allclose(np.asarray(transition_jacobian(b, a) @ t), np.broadcast_to(np.eye(surface.dim), t.shape), atol=1e-10)


def test_transition_loss_is_zero_for_the_phi_model_only():
    """Random (standard-initialised) parameters: the φ-model's loss is rounding (relative to |g|^2 below
    1e-20); a free model's is a sizeable fraction of |g|^2."""
    c = chart(QUINTIC, sample("quintic").points[:64])
    scale = float(jnp.mean(jnp.sum(jnp.abs(fs_metric(c)) ** 2, axis=(1, 2))))
    losses = {}
    for model in ("phi", "free"):
        net = MetricNetwork(5, model, width=8, depth=1)
        losses[model] = float(transition_loss(net, net.init(jax.random.PRNGKey(1)), QUINTIC, c)) / scale
    assert losses["phi"] < 1e-20
    assert losses["free"] > 1e-2


@pytest.mark.parametrize("model", ["mult", pytest.param("phi", marks=pytest.mark.slow)])
def test_ricci_tensor_equals_the_local_coordinates_hessian(model):
    """−J (∂∂̄ ln det g) J^† in the ambient space against −∂_a∂̄_b ln det g(x) in the chart's own coordinates
    (eliminated coordinate by Newton's method): random parameters, relative 1e-10 (the φ-model needs
    fourth derivatives of its network: slow to compile)."""
    c = chart(QUINTIC, sample("quintic").points[:1])
    net = MetricNetwork(5, model, width=8, depth=2)
    params = net.init(jax.random.PRNGKey(1))
    ambient = jax.jit(lambda p, c: ricci_tensor(partial(net.metric, p), QUINTIC, c))(params, c)[0]
    v0, metric_at = local_chart_metric(net, params, QUINTIC, c)
    n = v0.size // 2

    def log_det(x):
        return jnp.linalg.slogdet(metric_at(jnp.concatenate([x.real, x.imag])))[1]

    local = -jax.jit(partial(wirtinger_hessian, log_det))(v0[:n] + 1j * v0[n:])
    assert float(jnp.max(jnp.abs(local - jnp.conj(local.T)))) < 1e-12 * float(jnp.max(jnp.abs(local)))  # Hermitian
    assert float(jnp.max(jnp.abs(ambient - local))) < 1e-10 * float(jnp.max(jnp.abs(local)))


def test_ricci_scalar_of_the_round_conic_and_of_the_flat_torus():
    """The conic Σz² = 0 in P^2, the points (1 − t², i(1 + t²), 2t), is an SO(3)-orbit: its FS metric is
    round, R = 2π·χ/area = 2π at every point (sign and normalisation of R).  On the cubic torus the
    metric |Ω|² is flat: R = 0."""
    conic = Hypersurface(3, 2, name="conic")
    t = jnp.asarray(np.array([1.0, 1j]) @ np.random.default_rng(0).standard_normal((2, 50)) * 1.5)
    c = chart(conic, jnp.stack([1 - t**2, 1j * (1 + t**2), 2 * t], axis=1))
    np.testing.assert_allclose(np.asarray(jax.jit(partial(ricci_scalar, fs_metric, conic))(c)), 2 * math.pi, rtol=1e-12)
    torus = SURFACES["cubic torus"]
    flat = jax.jit(partial(ricci_scalar, lambda ch: omega_squared(ch)[:, None, None], torus))(chart(torus, sample("cubic torus").points[:50]))
    assert float(jnp.max(jnp.abs(flat))) < 1e-9


@pytest.mark.parametrize("name,expected", [("quintic", 0.0), ("cubic torus", 0.0), pytest.param("cubic surface", 4 * math.pi, marks=pytest.mark.slow)])
def test_total_scalar_curvature_is_topological(name, expected):
    """∫_X R dvol_g = n/n! ∫ ρ ∧ ω^(n−1) = 2π (m − d) d/(n − 1)! for the Fubini–Study metric: 0 on a
    Calabi–Yau, 6π on the cubic surface (Fano).  Estimated as the weighted mean of R · det g/|Ω|²
    (the weights of :mod:`numerics.cy.measure`; for g_FS, w det g/|Ω|² = 1 and this is the FS-mean
    of R times Vol_FS = d/n!) within Z standard errors, while the mean of |R| is > 20 standard errors."""
    surface, points = SURFACES[name], sample(name)
    data = point_data(surface, points.points)
    r = jax.jit(partial(ricci_scalar, fs_metric, surface))(data.chart)
    density = data.weights * data.det_fs / data.omega2  # = 1 for g_FS: the sample's density is vol_FS
    lines = np.asarray(points.line_ids)
    volume = surface.degree / math.factorial(surface.dim)  # Vol_FS
    mean = float(jnp.mean(r * density))
    se = clustered_stderr(r * density - mean, lines)
    assert expected * volume == pytest.approx(2 * math.pi * (surface.n_ambient - surface.degree) * surface.degree / math.factorial(surface.dim - 1))
    assert abs(mean - expected) <= Z * se
    mean_abs = float(jnp.mean(jnp.abs(r) * density))
    assert mean_abs > 20 * clustered_stderr(jnp.abs(r) * density - mean_abs, lines)


@pytest.mark.slow
def test_training_on_the_transition_loss_lowers_it_and_the_ricci_term_is_not_computed_at_weight_zero(monkeypatch):
    """A free model from g_FS, 4 epochs on the σ-loss: σ alone builds up a transition defect (on
    validation points); with the transition term (weight 100) it ends below half of that.  The term is
    reported as 0 (not computed) at weight 0, and the Ricci loss (weight 0) is never evaluated."""

    def refuse(*args, **kwargs):
        raise AssertionError("the Ricci loss was evaluated at weight 0")

    monkeypatch.setattr(metric_training, "ricci_loss", refuse)
    train_set = training_set(QUINTIC, sample_in_chart(QUINTIC, 256, jax.random.PRNGKey(0), 0, 1).points)
    val_set = training_set(QUINTIC, sample_in_chart(QUINTIC, 128, jax.random.PRNGKey(1), 0, 1).points)
    net = MetricNetwork(5, "free", width=8, depth=1)
    ending = {}
    for weight in (0.0, 100.0):
        settings = TrainSettings(epochs=4, batch=32, lr=3e-3, kahler_weight=0.0, transition_weight=weight)
        result = train(net, QUINTIC, train_set, val_set, settings, jax.random.PRNGKey(2))
        ending[weight] = float(transition_loss(net, result.params, QUINTIC, val_set.chart))
        assert (min(result.loss_terms["transition"]) > 0) == (weight > 0)
        assert result.loss_terms["ricci"] == [0.0] * 4 and result.val_gain > 1.5
    assert ending[0.0] > 1e-4 and ending[100.0] < 0.5 * ending[0.0]


@pytest.mark.slow
def test_training_on_the_ricci_loss_lowers_it():
    """On the cubic torus (the flat metric is exact, so R can reach 0), the φ-model (its Kähler class
    is fixed, so |R| cannot fall by scaling g up): 3 epochs with the Ricci term (weight 1) end with a
    validation mean of |R| below 0.9 of the start and below that of the same run on σ alone."""
    cubic = SURFACES["cubic torus"]
    train_set = training_set(cubic, sample_points(cubic, 512, jax.random.PRNGKey(0)).points)
    val_set = training_set(cubic, sample_points(cubic, 256, jax.random.PRNGKey(1)).points)
    net = MetricNetwork(3, "phi", width=8, depth=1)
    ending = {}
    for weight in (0.0, 1.0):
        settings = TrainSettings(epochs=3, batch=32, lr=3e-3, ricci_weight=weight)
        result = train(net, cubic, train_set, val_set, settings, jax.random.PRNGKey(2))
        ending[weight] = float(metric_training.ricci_loss(net, result.params, cubic, val_set))
        assert (min(result.loss_terms["ricci"]) > 0) == (weight > 0)
    before = float(metric_training.ricci_loss(net, settings.initial_parameters(net, jax.random.PRNGKey(2)), cubic, val_set))
    assert ending[1.0] < 0.9 * before and ending[1.0] < ending[0.0]


def test_negative_or_infinite_loss_weights_are_refused():
    for bad in ({"transition_weight": -1.0}, {"ricci_weight": float("inf")}, {"ricci_weight": float("nan")}):
        with pytest.raises(InvalidParameterError, match=next(iter(bad))):
            TrainSettings(**bad)
