"""The exact kernel sum and the kernel flow split over 8 (host) devices equal the 1-device results.

``XLA_FLAGS=--xla_force_host_platform_device_count=8`` must be set before JAX starts, so the
comparison runs in a fresh interpreter; inside it both runs use the same code path
(:func:`numerics.cy.kernels.apply_kernel` with ``devices`` one device or all eight)."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    assert len(jax.devices()) == 8, jax.devices()
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_in_chart
    from numerics.cy.kernels import GaussianKernel, ReluNtkKernel, apply_kernel
    from numerics.cy.kernel_flow import FlowSettings, kernel_apply, point_set, run_flow
    surface = fermat_quintic()
    z = np.asarray(sample_in_chart(surface, 700, jax.random.PRNGKey(0), 0, 1).points)
    w = np.asarray(sample_in_chart(surface, 300, jax.random.PRNGKey(1), 0, 1).points)
    values = np.random.default_rng(0).standard_normal((700, 3, 3)) + 0j
    one, eight = jax.devices()[:1], jax.devices()
    worst = 0.0
    for kernel in (GaussianKernel(0.2, "d2"), ReluNtkKernel(1.5, 0.3)):
        for out, same in ((z, True), (w, False)):
            a = apply_kernel(kernel, out, z, values, block=64, same_points=same, devices=one)
            b = apply_kernel(kernel, out, z, values, block=64, same_points=same, devices=eight)
            worst = max(worst, float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
    train, test = point_set(surface, z), point_set(surface, w)
    runs = [run_flow(kernel_apply(GaussianKernel(30.0, "inverse"), train, test, block=64, devices=d), train, test, FlowSettings(lr=0.05), 6)
            for d in (one, eight)]
    for key in ("train_sigma", "test_sigma"):
        worst = max(worst, max(abs(x - y) / x for x, y in zip(getattr(runs[0], key), getattr(runs[1], key))))
    worst = max(worst, float(np.max(np.abs(runs[0].g_train - runs[1].g_train)) / np.max(np.abs(runs[0].g_train))))
    print(repr(worst))
    """
)


def test_eight_devices_equal_one_to_1e12():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.strip().splitlines()[-1]) <= 1e-12


TRAINING = textwrap.dedent(
    """
    import jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    assert len(jax.devices()) == 8, jax.devices()
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_points
    from numerics.cy.metric_models import MetricNetwork
    from numerics.cy.metric_training import TrainSettings, train, training_set
    surface = fermat_quintic()
    train_set = training_set(surface, sample_points(surface, 256, jax.random.PRNGKey(0)).points)
    val_set = training_set(surface, sample_points(surface, 64, jax.random.PRNGKey(1)).points)
    net = MetricNetwork(5, "phi", width=16, depth=2)
    runs = [train(net, surface, train_set, val_set, TrainSettings(epochs=2, batch=32, init="standard"), jax.random.PRNGKey(2), devices=d)
            for d in (jax.devices()[:1], jax.devices())]
    worst = max(abs(a - b) / abs(a) for key in ("train_sigma", "val_sigma") for a, b in zip(getattr(runs[0], key), getattr(runs[1], key)))
    worst = max(worst, max(abs(a - b) / abs(a) for a, b in zip(runs[0].loss_terms["total"], runs[1].loss_terms["total"])))
    print(repr(worst))
    """
)


def test_data_parallel_training_on_eight_devices_follows_the_one_device_trajectory():
    """Each mini batch split over 8 host devices (gradients summed by XLA): the loss and σ trajectories
    of the 1-device run to 1e-10."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", TRAINING], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.strip().splitlines()[-1]) <= 1e-10
