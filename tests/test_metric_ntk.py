"""The empirical metric-NTK of a metric network (section 3.3): neural-tangents' empirical_ntk_fn on the
same network, PSD, the matrix-free learned-kernel sum, and the measures of kernel motion."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.kernel_flow import hermitian_from_real, real_adjoint
from numerics.cy.metric_models import MetricNetwork
from numerics.cy.metric_ntk import (alignment, empirical_metric_ntk, metric_coordinates, metric_ntk_apply, relative_change,
                                    spectrum, spectrum_distance)
from numerics.cy.patches import Chart, chart
from numerics.cy.sampling import sample_points

QUINTIC = fermat_quintic()


@pytest.fixture(scope="module")
def setting():
    c = chart(QUINTIC, sample_points(QUINTIC, 10, jax.random.PRNGKey(0)).points)
    net = MetricNetwork(5, "phi", width=16, depth=2)
    return net, net.init(jax.random.PRNGKey(1)), c


def test_metric_ntk_equals_neural_tangents(setting):
    """empirical_ntk_fn with trace_axes=() on the same metric coordinates r = Re g + Im g: its layout
    (N1, N2, a1, a2, b1, b2) against ours (N1 a b, N2 c d), to 1e-12."""
    import neural_tangents as nt

    net, params, c = setting
    x = jnp.concatenate([c.z.real, c.z.imag, c.patch[:, None].astype(float), c.eliminated[:, None].astype(float)], axis=1)

    def f(p, x):
        z = x[:, :5] + 1j * x[:, 5:10]
        return metric_coordinates(net, p, Chart(z, jnp.round(x[:, 10]).astype(int), jnp.round(x[:, 11]).astype(int), QUINTIC.dp(z)))

    theirs = np.transpose(np.asarray(nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=None)(x, x, params)), (0, 2, 4, 1, 3, 5))
    ours = empirical_metric_ntk(net, params, c).reshape(theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 * np.max(np.abs(ours)))


def test_kernel_is_psd_and_its_matrix_free_sum_is_the_contraction(setting):
    net, params, c = setting
    theta = empirical_metric_ntk(net, params, c)
    assert spectrum(theta)[0] > -1e-12 * spectrum(theta)[-1]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((10, 3, 3)) + 1j * rng.standard_normal((10, 3, 3))
    values = jnp.asarray(a + np.conj(np.swapaxes(a, 1, 2)))
    got = metric_ntk_apply(net, params, c, c)(values, "test")
    reference = hermitian_from_real((theta @ np.asarray(real_adjoint(values)).reshape(-1)).reshape(10, 3, 3))
    np.testing.assert_allclose(np.asarray(got), np.asarray(reference), rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(reference))))


def test_motion_measures():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((30, 30))
    theta = a @ a.T
    assert relative_change(3 * theta, theta) == pytest.approx(2.0) and alignment(3 * theta, theta) == pytest.approx(1.0)
    assert spectrum_distance(spectrum(3 * theta), spectrum(theta)) == pytest.approx(0.0, abs=1e-12)  # normalised by the mean
    assert spectrum_distance(spectrum(3 * theta), spectrum(theta), "none") == pytest.approx(2 * np.mean(spectrum(theta)), rel=1e-12)


def test_ntk_evolution_command(tmp_path, capsys):
    import json

    from flowtheory.cli import main

    argv = ["quintic", "ntk-evolution", "--epochs", "2", "--at", "0,2,7", "--widths", "4,6,8", "--n-train", "200", "--n-val", "40",
            "--n-kernel", "6", "--depth", "1", "--json", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    for r in out["widths"].values():
        assert r["epochs"] == [0, 2] and r["relative_change"][0] == 0.0 and r["relative_change"][-1] > 0
        assert len(r["spectra"][0]) == 6 * 9 and len(r["val_sigma"]) == 3 and 0 < r["alignment"][-1] <= 1 + 1e-12
    assert set(out["width_fit"]) == {"relative_change", "val_gain"}
    assert "| width |" in (tmp_path / "quintic_ntk.md").read_text()
    assert main([*argv[:-2], "--n-kernel", "100", "--out", str(tmp_path / "x")]) == 2
    assert "--n-kernel 100 exceeds --n-val 40" in capsys.readouterr().err


def test_the_linearised_network_trains_with_a_kernel_that_does_not_move():
    from numerics.cy.metric_models import LinearisedNetwork
    from numerics.cy.metric_ntk import kernel_points, ntk_evolution
    from numerics.cy.metric_training import TrainSettings, training_set

    train_set = training_set(QUINTIC, sample_points(QUINTIC, 256, jax.random.PRNGKey(0)).points)
    val_set = training_set(QUINTIC, sample_points(QUINTIC, 64, jax.random.PRNGKey(1)).points)
    base, key = MetricNetwork(5, "phi", width=16, depth=1), jax.random.PRNGKey(3)
    settings = TrainSettings(epochs=2, init="standard", lr=3e-3)
    twin = LinearisedNetwork(base, settings.initial_parameters(base, key))
    points = kernel_points(val_set, 8)
    linear = ntk_evolution(twin, QUINTIC, train_set, val_set, settings, key, points=points, at_epochs=[2])
    finite = ntk_evolution(base, QUINTIC, train_set, val_set, settings, key, points=points, at_epochs=[2])
    assert linear["relative_change"][-1] < 1e-12 and finite["relative_change"][-1] > 1e-3
    assert linear["val_sigma"][0] == finite["val_sigma"][0]  # the same network at epoch 0
    assert linear["train_sigma"][-1] < linear["train_sigma"][0]  # and it learns its train points, with its frozen kernel


def test_a_frozen_network_kernel_drives_the_flow_from_fubini_study():
    """The metric-NTK frozen at the initial parameters as the kernel of (3.5): the flow lowers σ on its
    train points, and a step size too large for it is skipped, not taken."""
    from numerics.cy.kernel_flow import FlowSettings, point_set
    from numerics.cy.metric_ntk import frozen_kernel_flow
    from numerics.cy.sampling import sample_in_chart

    net = MetricNetwork(5, "phi", width=16, depth=2)
    train = point_set(QUINTIC, sample_in_chart(QUINTIC, 120, jax.random.PRNGKey(5), 0, 1).points)
    test = point_set(QUINTIC, sample_in_chart(QUINTIC, 60, jax.random.PRNGKey(6), 0, 1).points)
    out = frozen_kernel_flow(net, net.init(jax.random.PRNGKey(1)), QUINTIC, train, test, lambda lr: FlowSettings(lr=lr), [1.0, 1e6], 10)
    assert out["lr"] == 1.0 and [s[0] for s in out["scan"]] == [1.0]
    assert out["train_gain"] > 1.2 and len(out["test_sigma"]) == 11
