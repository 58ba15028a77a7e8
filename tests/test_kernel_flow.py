"""The kernel metric flow (3.5): its gradient against jax.grad, descent, back-off, and named errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flowtheory.errors import InvalidParameterError
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.kernel_flow import FlowSettings, loss_gradient, loss_of, point_set, run_flow, sigma_of
from numerics.cy.sampling import sample_in_chart, sample_points


@pytest.fixture(scope="module")
def points():
    surface = fermat_quintic()
    train = sample_in_chart(surface, 300, jax.random.PRNGKey(1), 0, 1)
    test = sample_in_chart(surface, 200, jax.random.PRNGKey(2), 0, 1)
    return point_set(surface, train.points, train.line_ids), point_set(surface, test.points, test.line_ids)


@pytest.mark.parametrize("loss", ["l1", "l2"])
@pytest.mark.parametrize("kappa", ["recomputed", "fixed"])
@pytest.mark.parametrize("normalisation", ["mean", "per-point"])
def test_derived_gradient_equals_jax_grad_of_the_discrete_loss(points, loss, kappa, normalisation):
    """Two routes: c_j g_j^{-1} from flowtheory.sigma_loss, and conj(jax.grad) of ℓ (JAX returns the
    conjugate of the steepest-ascent direction for a real function of complex input)."""
    train, _ = points
    settings = FlowSettings(lr=0.1, loss=loss, kappa=kappa, normalisation=normalisation)
    g = train.g_fs * (1 + 0.1 * jnp.arange(train.g_fs.shape[0])[:, None, None] / train.g_fs.shape[0])  # away from a symmetric point
    kappa0 = 1.3 * jnp.sum(train.weights * jnp.real(jnp.linalg.det(g)) / train.omega2) / jnp.sum(train.weights)
    derived = loss_gradient(g, train.weights, train.omega2, settings, kappa0)
    auto = jnp.conj(jax.grad(lambda m: loss_of(m, train.weights, train.omega2, settings, kappa0))(g))
    assert float(jnp.max(jnp.abs(derived - auto)) / jnp.max(jnp.abs(auto))) < 1e-12


def test_local_flow_descends_and_the_gradient_is_hermitian(points):
    """With the identity kernel on train points (the σ → 0 limit of the Gaussian) and a small step the
    L2 flow converges geometrically: σ falls at every step, by > 100 in 20 steps, no step rejected."""
    train, test = points
    settings = FlowSettings(lr=3e-4, loss="l2", normalisation="per-point")
    grad = loss_gradient(train.g_fs, train.weights, train.omega2, settings, None)
    assert float(jnp.max(jnp.abs(grad - jnp.conj(jnp.swapaxes(grad, 1, 2))))) < 1e-12 * float(jnp.max(jnp.abs(grad)))
    result = run_flow(lambda v, to: v if to == "train" else jnp.zeros((test.z.shape[0], *v.shape[1:]), v.dtype),
                      train, test, settings, steps=20)
    assert np.all(np.diff(result.train_sigma) < 0) and result.train_gain > 100 and result.rejected_steps == 0
    assert result.test_sigma == [result.test_sigma[0]] * 21  # no kernel reaches the test points


def test_an_unstable_step_backs_off_and_is_counted(points):
    train, test = points
    zeros = lambda v, to: v if to == "train" else jnp.zeros((test.z.shape[0], *v.shape[1:]), v.dtype)  # noqa: E731
    result = run_flow(zeros, train, test, FlowSettings(lr=1e4, loss="l2"), steps=2)
    assert result.rejected_steps > 0 and max(result.step_sizes) < 1e4
    assert np.all(np.linalg.eigvalsh(result.g_train)[:, 0] > 0)


def test_bad_settings_and_mixed_charts_are_named_errors():
    for kwargs, match in (({"lr": 0}, "lr"), ({"lr": float("nan")}, "lr"), ({"lr": 1, "loss": "l3"}, "loss"),
                          ({"lr": 1, "kappa": "x"}, "kappa"), ({"lr": 1, "normalisation": "x"}, "normalisation")):
        with pytest.raises(InvalidParameterError, match=match):
            FlowSettings(**kwargs)
    mixed = sample_points(fermat_quintic(), 200, jax.random.PRNGKey(0))
    with pytest.raises(InvalidParameterError, match="charts"):
        point_set(fermat_quintic(), mixed.points)


def test_sigma_of_fs_matches_the_measure_module(points):
    from numerics.cy.measure import sigma_measure

    train, _ = points
    det = jnp.real(jnp.linalg.det(train.g_fs))
    ref = sigma_measure(fermat_quintic(), train.weights, det, train.omega2).sigma
    assert float(sigma_of(train.g_fs, train.weights, train.omega2)) == pytest.approx(ref, rel=1e-12)


def test_an_empirical_metric_ntk_drives_the_flow_as_its_materialised_kernel(points):
    """ntk_apply (matrix-free) equals H Θ H^T contracted with the materialised empirical NTK, and a flow
    with it runs: the finite-network kernel the next stage of section 3.3 feeds in."""
    import jax

    from numerics.cy.kernel_flow import coordinate_features, hermitian_from_real, ntk_apply, real_adjoint
    from numerics.nn.networks import MLP
    from numerics.nn.ntk import contract, empirical_ntk

    train, test = points
    net = MLP(d_in=10, hidden=(16,), out_shape=(3, 3))
    params = net.init(jax.random.PRNGKey(0))
    grad = loss_gradient(train.g_fs, train.weights, train.omega2, FlowSettings(lr=1.0), None)
    apply = ntk_apply(net, params, train, test)
    theta = empirical_ntk(net, params, jnp.asarray(coordinate_features(test.z)), jnp.asarray(coordinate_features(train.z)))
    reference = hermitian_from_real(contract(theta, real_adjoint(grad)))
    got = apply(grad, "test")
    assert float(jnp.max(jnp.abs(got - reference)) / jnp.max(jnp.abs(reference))) < 1e-12
    assert float(jnp.max(jnp.abs(got - jnp.conj(jnp.swapaxes(got, 1, 2))))) == 0.0  # Hermitian
    result = run_flow(apply, train, test, FlowSettings(lr=1e-6), steps=3)
    assert result.train_sigma[-1] < result.train_sigma[0]
