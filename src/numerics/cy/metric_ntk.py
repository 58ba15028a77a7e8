r"""The empirical metric-NTK of a metric network on a Calabi–Yau and how it moves in training (section 3.3, figure 4).

For a network whose metric at a point is :math:`g_\theta(x)` (:mod:`numerics.cy.metric_models`),
the metric-NTK (2.7) on points :math:`x_1..x_N` is

.. math:: \Theta_{ijkl}(x, x') = \sum_\theta \frac{\partial r_{ij}(x)}{\partial\theta}\frac{\partial r_{kl}(x')}{\partial\theta},

with :math:`r = \mathrm{Re}\,g + \mathrm{Im}\,g` the ``n^2`` real coordinates of the Hermitian
:math:`g` (:func:`numerics.cy.kernel_flow.real_adjoint`; ``Re g`` symmetric, ``Im g``
antisymmetric, so ``r`` determines ``g``).  :func:`empirical_metric_ntk` forms the Jacobian
:math:`\partial r/\partial\theta` (``jax.jacrev``) and returns the ``(N n^2, N n^2)`` positive
semi-definite matrix; ``tests/test_metric_ntk.py`` checks it against neural-tangents'
``empirical_ntk_fn`` on the same network.

Measures of kernel motion between a kernel :math:`\Theta_t` and the initial :math:`\Theta_0`:

- spectrum: the eigenvalues (``numpy.linalg.eigvalsh``);
- :func:`spectrum_distance`: ``scipy.stats.wasserstein_distance`` between the two spectra, each
  divided by its mean eigenvalue (``normalisation="mean"``, the default: the shape of the spectrum,
  blind to an overall growth of the kernel) or as they are (``"none"``);
- :func:`relative_change`: :math:`\|\Theta_t - \Theta_0\|_F/\|\Theta_0\|_F`;
- :func:`alignment`: :math:`\langle\Theta_t,\Theta_0\rangle_F/(\|\Theta_t\|_F\|\Theta_0\|_F)`
  (1 for a kernel that only rescales).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError
from numerics.cy.kernel_flow import real_adjoint
from numerics.cy.metric_models import MetricNetwork, Params
from numerics.cy.patches import Chart

NORMALISATIONS = ("mean", "none")


def metric_coordinates(net: MetricNetwork, params: Params, c: Chart) -> jax.Array:
    """The real coordinates ``r = Re g + Im g`` (``(N, n, n)``) of the model's metric at the points of ``c``."""
    return real_adjoint(net.metric(params, c))


def empirical_metric_ntk(net: MetricNetwork, params: Params, c: Chart) -> np.ndarray:
    """The ``(N n^2, N n^2)`` empirical metric-NTK on the points of ``c`` (module docstring);
    row ``a n^2 + i n + j`` is component ``r_ij`` at point ``a``."""
    return np.asarray(_ntk(net, params, c))


def metric_jacobian(net: MetricNetwork, params: Params, c: Chart) -> jax.Array:
    """:math:`\\partial r/\\partial\\theta` as a ``(N n^2, P)`` matrix, one point at a time (``vmap`` of
    ``jacrev``: memory ``N n^2 P`` numbers, not the reverse pass of all outputs at once)."""

    def one(point):
        single = jax.tree_util.tree_map(lambda a: a[None], point)
        jac = jax.jacrev(lambda p: metric_coordinates(net, p, single).reshape(-1))(params)
        return jnp.concatenate([leaf.reshape(leaf.shape[0], -1) for leaf in jax.tree_util.tree_leaves(jac)], axis=1)

    jac = jax.vmap(one)(c)
    return jac.reshape(-1, jac.shape[-1])


@partial(jax.jit, static_argnames="net")
def _ntk(net: MetricNetwork, params: Params, c: Chart) -> jax.Array:
    flat = metric_jacobian(net, params, c)
    return flat @ flat.T


def spectrum(theta: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric kernel matrix, ascending (rounding can leave tiny negatives)."""
    return np.linalg.eigvalsh(np.asarray(theta))


def spectrum_distance(spec_t: np.ndarray, spec_0: np.ndarray, normalisation: str = "mean") -> float:
    """Wasserstein-1 distance of two spectra (``scipy.stats.wasserstein_distance``), normalised as
    the module docstring says."""
    from scipy.stats import wasserstein_distance

    if normalisation not in NORMALISATIONS:
        raise InvalidParameterError(f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}")
    a, b = np.asarray(spec_t, float), np.asarray(spec_0, float)
    if normalisation == "mean":
        a, b = a / np.mean(a), b / np.mean(b)
    return float(wasserstein_distance(a, b))


def relative_change(theta_t: np.ndarray, theta_0: np.ndarray) -> float:
    """:math:`\\|\\Theta_t - \\Theta_0\\|_F / \\|\\Theta_0\\|_F`."""
    return float(np.linalg.norm(theta_t - theta_0) / np.linalg.norm(theta_0))


def alignment(theta_t: np.ndarray, theta_0: np.ndarray) -> float:
    """Kernel alignment :math:`\\langle\\Theta_t, \\Theta_0\\rangle_F / (\\|\\Theta_t\\|_F \\|\\Theta_0\\|_F)`."""
    return float(np.sum(theta_t * theta_0) / (np.linalg.norm(theta_t) * np.linalg.norm(theta_0)))


def kernel_points(data, n: int):
    """The first ``n`` points of a :class:`numerics.cy.metric_training.TrainingSet` as a :class:`Chart`
    (the fixed subsample the kernel is followed on)."""
    if not (isinstance(n, int) and 1 <= n <= data.size):
        raise InvalidParameterError(f"kernel points must be an integer in [1, {data.size}], got {n!r}")
    return jax.tree_util.tree_map(lambda a: a[:n], data.chart)


def ntk_evolution(net: MetricNetwork, surface, train_set, val_set, settings, key, *, points: Chart, at_epochs,
                  normalisation: str = "mean", on_epoch=None) -> dict:
    """Train ``net`` (:func:`numerics.cy.metric_training.train`) and follow its metric-NTK on ``points``.

    At each epoch of ``at_epochs`` (0 = the initial network; epochs beyond ``settings.epochs`` are
    ignored) the kernel's spectrum, its Wasserstein distance to epoch 0's (:func:`spectrum_distance`),
    the relative change and the alignment are recorded.

    Returns:
        ``{"epochs", "spectra", "wasserstein", "relative_change", "alignment", "train_sigma",
        "val_sigma", "seconds_per_epoch", "normalisation"}`` (lists per recorded epoch, except the σ
        and timing histories, per epoch).
    """
    from numerics.cy.metric_training import train

    at = sorted({int(e) for e in at_epochs if 0 <= int(e) <= settings.epochs} | {0})
    theta0 = empirical_metric_ntk(net, settings.initial_parameters(net, key), points)
    spec0 = spectrum(theta0)
    record = {"epochs": [0], "spectra": [spec0.tolist()], "wasserstein": [0.0], "relative_change": [0.0], "alignment": [1.0],
              "normalisation": normalisation}

    def follow(result):
        epoch = len(result.seconds_per_epoch)
        if epoch in at:
            theta = empirical_metric_ntk(net, result.params, points)
            spec = spectrum(theta)
            record["epochs"].append(epoch)
            record["spectra"].append(spec.tolist())
            record["wasserstein"].append(spectrum_distance(spec, spec0, normalisation))
            record["relative_change"].append(relative_change(theta, theta0))
            record["alignment"].append(alignment(theta, theta0))
        if on_epoch is not None:
            on_epoch(result)

    result = train(net, surface, train_set, val_set, settings, key, on_epoch=follow)
    record.update(train_sigma=result.train_sigma, val_sigma=result.val_sigma, seconds_per_epoch=result.seconds_per_epoch)
    return record


def metric_ntk_apply(net: MetricNetwork, params: Params, train_chart: Chart, test_chart: Chart):
    r"""The kernel sum ``apply(values, to)`` of :func:`numerics.cy.kernel_flow.run_flow` for this
    network's metric-NTK frozen at ``params`` — the learned kernel of section 3.3 driving the flow (3.5).

    Matrix-free: :math:`H\,J(y)\,\sum_{x'}J(x')^T H^T G(x')` as one vector–Jacobian product over the
    train points and one Jacobian–vector product at the output points (``jax.vjp``, ``jax.jvp``),
    between :func:`numerics.cy.kernel_flow.real_adjoint` and
    :func:`numerics.cy.kernel_flow.hermitian_from_real` — the same contraction as :func:`empirical_metric_ntk`.
    """
    def apply(values, to):
        return _ntk_product(net, params, train_chart, train_chart if to == "train" else test_chart, jnp.asarray(values))

    return apply


@partial(jax.jit, static_argnames="net")
def _ntk_product(net: MetricNetwork, params: Params, train_chart: Chart, where: Chart, values: jax.Array) -> jax.Array:
    from numerics.cy.kernel_flow import hermitian_from_real

    _, pullback = jax.vjp(lambda p: metric_coordinates(net, p, train_chart), params)
    (tangent,) = pullback(real_adjoint(values))
    _, pushed = jax.jvp(lambda p: metric_coordinates(net, p, where), (params,), (tangent,))
    return hermitian_from_real(pushed)


def frozen_kernel_flow(net: MetricNetwork, params: Params, surface, train, test, settings_of, lrs, steps: int,
                       scan_steps: int | None = None) -> dict:
    r"""The flow (3.5) from Fubini–Study with the metric-NTK of ``net`` frozen at ``params`` as kernel
    (:func:`metric_ntk_apply`), at each step size of ``lrs``; the one with the largest train gain
    and no halved step is kept (a kernel's scale is absorbed by Δt, so each kernel gets its own).

    Args:
        train, test: :class:`numerics.cy.kernel_flow.PointSet` in one chart.
        settings_of: ``lr -> FlowSettings`` (the loss rule of the flow; ``max_backoff`` 0 is set here).
        scan_steps: steps of the scan over ``lrs`` (default ``steps``); the best step sizes then run
            ``steps`` steps, in the order of their scan gains, until one completes.

    Returns:
        ``{"lr", "train_gain", "test_gain", "train_sigma", "test_sigma", "scan"}`` with ``scan`` the
        ``(lr, train gain, test gain)`` after ``scan_steps`` steps of every step size that completed,
        and the standard errors ``{train,test}_sigma_{initial,final}_stderr`` of the first and last σ.
    """
    from dataclasses import replace

    from flowtheory.errors import NotPositiveDefiniteError
    from numerics.cy.kernel_flow import run_flow
    from numerics.cy.patches import chart as chart_of

    apply = metric_ntk_apply(net, params, chart_of(surface, train.z), chart_of(surface, test.z))
    scan_steps = steps if scan_steps is None else min(int(scan_steps), steps)

    def flow(lr, n):
        try:
            return run_flow(apply, train, test, replace(settings_of(lr), max_backoff=0), n)
        except NotPositiveDefiniteError:
            return None

    scanned = [(float(lr), flow(lr, scan_steps)) for lr in lrs]
    scan = [(lr, r.train_gain, r.test_gain) for lr, r in scanned if r is not None]
    best = None
    for lr, r in sorted(((lr, r) for lr, r in scanned if r is not None), key=lambda item: -item[1].train_gain):
        result = r if scan_steps == steps else flow(lr, steps)
        if result is not None:
            best = (lr, result)
            break
    if best is None:
        raise NotPositiveDefiniteError(f"no step size of {list(lrs)} keeps the metrics positive definite for {steps} steps")
    from numerics.cy.kernel_flow import sigma_with_error

    lr, result = best
    errors = {f"{name}_sigma_{when}_stderr": sigma_with_error(g, points.weights, points.omega2)[1]
              for name, points, final in (("train", train, result.g_train), ("test", test, result.g_test))
              for when, g in (("initial", points.g_fs), ("final", final))}
    return {"lr": lr, "train_gain": result.train_gain, "test_gain": result.test_gain, "train_sigma": result.train_sigma,
            "test_sigma": result.test_sigma, "scan": scan, **errors}
