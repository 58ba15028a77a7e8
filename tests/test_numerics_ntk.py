"""Empirical metric-NTK: independent routes agree (closed form, Jacobian contraction, structured,
matrix-free, neural-tangents), kernel properties, and the flow (2.8)/(3.5) as the image of gradient descent."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flowtheory.errors import InvalidParameterError, NonFiniteError
from numerics.stats import fit_loglog_slope
from numerics.nn.networks import MLP, ComponentNetworks, Cosine, GaussNet, MetricMLP, apply_batch, relu
from numerics.nn.ntk import (
    contract,
    dense_ntk,
    empirical_ntk,
    flow_step,
    ntk_vector_product,
    parameter_gradient_step,
)


@pytest.fixture
def points(key):
    return jax.random.normal(jax.random.fold_in(key, 1), (9, 2))


def test_cosine_ntk_equals_closed_form_2_33(key, points):
    """(2.33) for the w·x network: Θ = (A²/N) Σ_k cos(w_k·x + b_k) cos(w_k·x' + b_k), only a trained."""
    net = Cosine(2, 37, sigma_w=1.7, A=0.9)
    p = net.init(key)
    feats = jnp.cos(points @ p["w"].T + p["b"])
    expected = 0.81 / 37 * feats @ feats.T
    np.testing.assert_allclose(empirical_ntk(net, p, points), expected, rtol=1e-13, atol=1e-15)
    # training every parameter is a different kernel (it adds the w and b gradients)
    full = empirical_ntk(net, p, points, trainable=("a", "w", "b"))
    assert float(jnp.min(jnp.diag(full) - jnp.diag(expected))) > 0


def test_block_size_does_not_change_the_kernel(key, points):
    net = MetricMLP(2, 2, (8,), form="cholesky")
    p = net.init(key)
    full = empirical_ntk(net, p, points, points[:7], block_size=64)
    for block in (2, 3):
        np.testing.assert_allclose(empirical_ntk(net, p, points, points[:7], block_size=block), full, rtol=0, atol=1e-13)
    np.testing.assert_allclose(dense_ntk(net, p, points, points[:7], block_size=3), full, rtol=0, atol=1e-13)


_METRIC = MetricMLP(2, 3, (16, 8), form="cholesky")


@pytest.mark.parametrize(
    "net, trainable",
    [
        (MLP(2, (16, 12), (3,), sigma_w=1.4, sigma_b=0.2), None),
        (relu(2, 20), None),
        (_METRIC, None),
        (_METRIC, ("W",)),
        (_METRIC, ("b",)),
        (MetricMLP(2, 3, (16,), form="symmetric", reference=lambda x: jnp.eye(3) * (1 + x @ x)), None),
    ],
    ids=["mlp", "relu", "metric-cholesky", "metric-cholesky-W", "metric-cholesky-b", "metric-symmetric-ref"],
)
def test_structured_ntk_equals_jacobian_contraction(key, points, net, trainable):
    p = net.init(key)
    a = empirical_ntk(net, p, points, points[:5], trainable=trainable)
    b = dense_ntk(net, p, points, points[:5], trainable=trainable)
    assert a.shape == (9, 5, *net.out_shape, *net.out_shape)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(a))))


def test_metric_ntk_is_a_psd_gram_matrix_with_the_2_7_symmetry(key, points):
    """Θ_ijkl(x,x') = Θ_klij(x',x), and the (n·d²)×(n·d²) matrix is positive semi-definite."""
    net = MetricMLP(2, 2, (12,), form="cholesky")
    theta = empirical_ntk(net, net.init(key), points)
    n, s = points.shape[0], 4
    M = np.asarray(theta.reshape(n, n, s, s).transpose(0, 2, 1, 3).reshape(n * s, n * s))
    np.testing.assert_allclose(M, M.T, rtol=0, atol=1e-12 * np.abs(M).max())
    # symmetric metric: Θ_ijkl = Θ_jikl
    np.testing.assert_allclose(theta, jnp.swapaxes(theta, 2, 3), rtol=0, atol=1e-12 * np.abs(M).max())
    assert np.linalg.eigvalsh(M).min() >= -1e-10 * np.abs(M).max()


@pytest.mark.parametrize(
    "net",
    [GaussNet(2, 30, sigma_b=0.5), ComponentNetworks(relu(2, 10), 2, "all-entries"), MetricMLP(2, 2, (10, 10))],
    ids=["gauss-net", "components", "metric-mlp"],
)
def test_matrix_free_product_equals_materialised(key, points, net):
    p = net.init(key)
    xb = jax.random.normal(jax.random.fold_in(key, 7), (13, 2))
    v = jax.random.normal(jax.random.fold_in(key, 8), (13, *net.out_shape))
    expected = contract(empirical_ntk(net, p, points, xb), v)
    for chunk in (5, 64):  # chunks that do and do not divide the point counts
        got = ntk_vector_product(net, p, points, xb, v, chunk=chunk)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(expected))))


def test_matches_neural_tangents(key):
    """Same values as neural-tangents' empirical NTK of the same stax network and parameters."""
    import neural_tangents as nt
    from neural_tangents import stax

    net = MLP(3, (24, 24), (4,), sigma_w=1.3, sigma_b=0.3)
    p = net.init(key)
    _, nt_apply, _ = stax.serial(stax.Dense(24, 1.3, 0.3), stax.Relu(), stax.Dense(24, 1.3, 0.3), stax.Relu(), stax.Dense(4, 1.3, 0.3))
    nt_params = [(p["W"][0], p["b"][0]), (), (p["W"][1], p["b"][1]), (), (p["W"][2], p["b"][2])]
    x = jax.random.normal(key, (6, 3))
    np.testing.assert_allclose(nt_apply(nt_params, x), apply_batch(net, p, x), rtol=1e-13)
    ref = nt.empirical_ntk_fn(nt_apply, trace_axes=(), vmap_axes=0, implementation=nt.NtkImplementation.JACOBIAN_CONTRACTION)(x, x, nt_params)
    np.testing.assert_allclose(empirical_ntk(net, p, x), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense_ntk(net, p, x), ref, rtol=1e-12, atol=1e-12)


def test_flow_step_is_first_order_image_of_gradient_descent(key):
    """(2.5)–(2.8): g(θ − dt ∂L/∂θ) = g − dt Θ·δl/δg + O(dt²); the fitted order of the difference is 2."""
    net = MetricMLP(2, 2, (16, 16), form="cholesky", eps=0.1)
    p = net.init(key)
    xb = jax.random.normal(jax.random.fold_in(key, 2), (12, 2))
    xe = jax.random.normal(jax.random.fold_in(key, 3), (5, 2))
    v = jax.random.normal(jax.random.fold_in(key, 4), (12, 2, 2))
    v = v + jnp.swapaxes(v, 1, 2)  # a symmetric δl/δg
    w = jnp.linspace(0.5, 1.5, 12)
    dts = np.array([2e-3, 1e-3, 5e-4, 2.5e-4])
    errs = []
    for dt in dts:
        kernel_step = flow_step(net, p, xe, xb, v, float(dt), weights=w)
        param_step = apply_batch(net, parameter_gradient_step(net, p, xb, v, float(dt), weights=w), xe)
        errs.append(float(jnp.max(jnp.abs(kernel_step - param_step))))
    fit = fit_loglog_slope(dts, np.array(errs))
    assert abs(fit.slope - 2.0) < 0.1, fit
    # and the first-order change itself is not small: the flow moves the metric
    change = flow_step(net, p, xe, xb, v, float(dts[-1]), weights=w) - apply_batch(net, p, xe)
    assert float(jnp.max(jnp.abs(change))) > 100 * errs[-1]


def test_frozen_leaves_do_not_move(key):
    net = Cosine(2, 16)
    p = net.init(key)
    xb = jax.random.normal(key, (4, 2))
    q = parameter_gradient_step(net, p, xb, jnp.ones(4), 0.1)
    np.testing.assert_array_equal(q["w"], p["w"])
    np.testing.assert_array_equal(q["b"], p["b"])
    assert float(jnp.max(jnp.abs(q["a"] - p["a"]))) > 0


def test_bad_input_raises(key, points):
    net = MetricMLP(2, 2, (8,))
    p = net.init(key)
    with pytest.raises(InvalidParameterError):
        empirical_ntk(net, p, points[0])
    with pytest.raises(InvalidParameterError):
        empirical_ntk(net, p, points, trainable=("a",))
    with pytest.raises(InvalidParameterError):
        empirical_ntk(net, p, points, block_size=0)
    with pytest.raises(InvalidParameterError):
        ntk_vector_product(net, p, points, points, jnp.zeros((3, 2, 2)))
    with pytest.raises(InvalidParameterError):
        dense_ntk(Cosine(2, 4), Cosine(2, 4).init(key), points)
    with pytest.raises(InvalidParameterError):
        dense_ntk(net, p, points, trainable=("W", "a"))
    with pytest.raises(InvalidParameterError):
        flow_step(net, p, points, points, jnp.zeros((9, 2, 2)), 0.1, weights=jnp.ones(3))
    with pytest.raises(InvalidParameterError):
        contract(jnp.zeros((2, 3, 2, 2)), jnp.zeros((3, 3)))
    with pytest.raises(InvalidParameterError):
        empirical_ntk(42, p, points)
    with pytest.raises(NonFiniteError):
        empirical_ntk(net, p, points.at[3, 1].set(jnp.nan))
    with pytest.raises(NonFiniteError):
        ntk_vector_product(net, p, points, points, jnp.full((9, 2, 2), jnp.inf))
