r"""The discrete kernel metric flow (3.5) on a Calabi–Yau hypersurface, with σ tracked on train and test points.

State: the Hermitian metric values :math:`g_x` (``(N, n, n)``, complex) at train points ``x``,
all in one chart (:func:`numerics.cy.sampling.sample_in_chart`, section 3.1), initialised to the
pulled-back Fubini–Study metric.  One step of (3.5) with :math:`\Theta_{ijkl}(x,x') =
\delta_{ik}\delta_{jl}K(x,x')`:

.. math::
    g_x \leftarrow g_x - \Delta t \sum_{x'} K(x, x')\, s\, \nabla_{g_{x'}}\ell,
    \qquad \nabla_{g_{x'}}\ell = c_{x'}\, g_{x'}^{-1}

with ℓ the σ-loss of the train set and :math:`c_{x'}` derived in :mod:`flowtheory.sigma_loss`
(compiled here with ``sympy.lambdify``; ``tests/test_kernel_flow.py`` checks it against
``jax.grad`` of the discrete loss).  ``s`` is the normalisation of the loss: ``"mean"`` —
ℓ is the σ-measure (B.11) itself, a weighted mean, so each point's gradient is :math:`O(1/N)`;
``"per-point"`` — (3.5) sums :math:`\delta\ell(x')/\delta g` of the per-point losses
:math:`\ell(x') = w_{x'}\varphi(\eta_{x'})/\bar w`, i.e. :math:`s = N`.

Test points get the kernel's prediction: :math:`g_y \leftarrow g_y - \Delta t\sum_{x'}K(y,x')\,s\,
\nabla_{g_{x'}}\ell` (the same train gradients).  σ of train and test is recorded at every step,
step 0 first; gain = σ(step 0)/σ(step n).

A step that would make a train or test metric non-positive-definite or non-finite is not taken:
the step size is halved (up to ``max_backoff`` times) and the step counted in
``rejected_steps``; if no halving helps, :class:`NotPositiveDefiniteError` names the step.

``clusters``: the paper applies the kernel within the clusters of the batched clustering (3.3)
only (``K(x, x') = 0`` across clusters); test points join the cluster of their nearest train
point.  Without clusters the kernel is applied exactly over all train points, matrix-free
(:func:`numerics.cy.kernels.apply_kernel`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from flowtheory import sigma_loss
from flowtheory.errors import InvalidParameterError, NotPositiveDefiniteError
from flowtheory.reprs import cell_text, history_rows, html_table
from numerics.cy.measure import clustered_stderr, fs_metric, point_data, sigma_terms
from numerics.cy.patches import chart

NORMALISATIONS = ("mean", "per-point")


@dataclass(frozen=True)
class FlowSettings:
    """How the flow (3.5) is discretised (module docstring).

    Attributes:
        lr: the step size Δt (> 0).
        loss: per-point deviation φ: ``"l2"`` ((1 - η)^2, the default) or ``"l1"`` (|1 - η|, B.11).
        kappa: ``"recomputed"`` from the current metric every step (default), or ``"fixed"`` at step 0.
        normalisation: ``"mean"`` (ℓ the weighted mean, as σ (B.11) is; the default) or
            ``"per-point"`` (the sum of per-point losses, N times larger).

    The defaults are the rule that reproduces Table 1 (proof ``cy-kernel-flow-step-rule``): with the
    mean L2 loss and our FS normalisation the paper's Δt = 0.1 to 0.32 on 10^3 to 2.5·10^3 points sit
    just below the step where the local update turns unstable, where 50 steps gain 10^5 to 10^6 on
    the train points.  The L1 loss of (B.11) has a gradient of fixed size at every point, so a fixed
    step cannot converge past it: no Δt gains more than about 25 in 50 steps.
        max_backoff: halvings of the step tried before a step is declared impossible.
    """

    lr: float
    loss: str = "l2"
    kappa: str = "recomputed"
    normalisation: str = "mean"
    max_backoff: int = 30

    def __post_init__(self):
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise InvalidParameterError(f"lr must be positive and finite, got {self.lr}")
        if self.loss not in sigma_loss.POINT_LOSSES:
            raise InvalidParameterError(f"unknown loss {self.loss!r}; choose one of {sigma_loss.POINT_LOSSES}")
        if self.kappa not in sigma_loss.KAPPA_RULES:
            raise InvalidParameterError(f"unknown kappa rule {self.kappa!r}; choose one of {sigma_loss.KAPPA_RULES}")
        if self.normalisation not in NORMALISATIONS:
            raise InvalidParameterError(f"unknown normalisation {self.normalisation!r}; choose one of {NORMALISATIONS}")
        if not (isinstance(self.max_backoff, int) and 0 <= self.max_backoff <= 60):
            raise InvalidParameterError(f"max_backoff must be an integer in [0, 60], got {self.max_backoff!r}")


@dataclass(frozen=True)
class PointSet:
    """Points of one chart with what the σ-loss needs: FS metric, weights, |Ω|^2, line ids."""

    z: np.ndarray
    g_fs: jax.Array
    weights: jax.Array
    omega2: jax.Array
    line_ids: np.ndarray


def point_set(surface, z, line_ids=None, *, patch: int | None = None, eliminated: int | None = None,
              tolerance: float | None = None) -> PointSet:
    """:class:`PointSet` of points ``z``, all in one chart: their default chart, or the forced
    ``(patch, eliminated)`` one (e.g. the train points' chart for test points near them).
    ``tolerance`` is the on-surface test of :func:`numerics.cy.patches.chart` (``math.inf`` for
    points off the surface).

    Raises:
        InvalidParameterError: points whose default charts differ (their metrics would be
            components in different coordinates, section 3.1), or only one of patch/eliminated.
    """
    if (patch is None) != (eliminated is None):
        raise InvalidParameterError("force a chart with both patch and eliminated, or neither")
    c = chart(surface, z, patch, eliminated, tolerance)
    pairs = np.unique(np.stack([np.asarray(c.patch), np.asarray(c.eliminated)], axis=1), axis=0)
    if len(pairs) != 1:
        raise InvalidParameterError(f"points lie in {len(pairs)} charts; a kernel flow needs one (sample_in_chart)")
    data = point_data(surface, z, patch, eliminated, tolerance)
    ids = np.arange(len(z)) if line_ids is None else np.asarray(line_ids)
    return PointSet(np.asarray(c.z), fs_metric(c), data.weights, data.omega2, ids)


@functools.lru_cache(maxsize=None)
def _compiled_coefficient(loss: str, kappa: str) -> tuple[Callable, Callable]:
    point = sigma_loss.gradient_coefficient(loss, kappa)
    args = (sigma_loss.eta, sigma_loss.w, sigma_loss.W, sigma_loss.A)
    coefficient = sp.lambdify(args, point.coefficient, modules="jax")
    batch = sp.lambdify(args, point.batch_term, modules="jax")
    return coefficient, batch


def _hermitian_det(g):
    return jnp.real(jnp.linalg.det(g))


def sigma_of(g, weights, omega2):
    """σ (B.11) of metric values ``g`` with the given weights, κ from ``g`` (:func:`numerics.cy.measure.sigma_measure`'s estimate)."""
    (sigma, _, _, _), _ = sigma_terms(weights, _hermitian_det(g) / omega2)
    return sigma


def sigma_with_error(g, weights, omega2) -> tuple[float, float]:
    """σ (B.11) of metric values ``g`` and its standard error (points independent; the delta-method
    influence values of :func:`numerics.cy.measure.sigma_terms`)."""
    (sigma, _, _, _), (influence, _, _, _) = sigma_terms(jnp.asarray(weights), _hermitian_det(g) / jnp.asarray(omega2))
    return float(sigma), clustered_stderr(influence, None)


def loss_of(g, weights, omega2, settings: FlowSettings, kappa0):
    """The discrete train loss ℓ the flow descends (for the ``jax.grad`` check)."""
    r = _hermitian_det(g) / omega2
    k = jnp.sum(weights * r) / jnp.sum(weights) if settings.kappa == "recomputed" else kappa0
    e = r / k
    dev = jnp.abs(1 - e) if settings.loss == "l1" else (1 - e) ** 2
    scale = r.shape[0] if settings.normalisation == "per-point" else 1
    return scale * jnp.sum(weights * dev) / jnp.sum(weights)


def loss_gradient(g, weights, omega2, settings: FlowSettings, kappa0):
    r""":math:`s\,\nabla_{g_j}\ell = s\, c_j g_j^{-1}` at every train point (``(N, n, n)``)."""
    coefficient, batch = _compiled_coefficient(settings.loss, settings.kappa)
    r = _hermitian_det(g) / omega2
    total = jnp.sum(weights)
    k = jnp.sum(weights * r) / total if settings.kappa == "recomputed" else kappa0
    e = r / k
    a = jnp.sum(batch(e, weights, total, 0.0) * jnp.ones_like(e)) / total
    c = coefficient(e, weights, total, a) * jnp.ones_like(e)
    scale = r.shape[0] if settings.normalisation == "per-point" else 1
    return scale * c[:, None, None] * jnp.linalg.inv(g)


@dataclass
class FlowResult:
    """σ on train and test at every step (step 0 first), gains, rejected steps and the final metrics."""

    train_sigma: list[float]
    test_sigma: list[float]
    rejected_steps: int
    step_sizes: list[float]
    g_train: np.ndarray
    g_test: np.ndarray
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def train_gain(self) -> float:
        return self.train_sigma[0] / self.train_sigma[-1]

    @property
    def test_gain(self) -> float:
        return self.test_sigma[0] / self.test_sigma[-1]

    def _repr_html_(self) -> str:
        """Notebook display (:mod:`flowtheory.reprs`): σ at the first and last step with the gains,
        then the steps, rejections, step sizes and parameters; never the metrics."""
        n = len(self.step_sizes)
        sigma = html_table(history_rows({"σ train (B.11)": self.train_sigma, "σ test": self.test_sigma}),
                           header=("", "step 0", f"step {n}", "gain σ(0)/σ(end)"), caption=f"kernel flow (3.5): {n} step{'s' * (n != 1)}")
        low, high = (min(self.step_sizes), max(self.step_sizes)) if n else (None, None)
        rows = [("rejected (halved) steps", self.rejected_steps),
                ("step size Δt", low if low == high else f"{cell_text(low)} to {cell_text(high)}"),
                ("train, test points", f"{len(self.g_train)}, {len(self.g_test)}"),
                *self.parameters.items()]
        return sigma + "\n" + html_table(rows)


def kernel_apply(kernel, train: PointSet, test: PointSet, *, clusters: tuple[int, int] | None = None,
                 block: int = 1024, progress: bool = False, devices=None) -> Callable:
    """The kernel sum ``apply(values, to)`` of :func:`run_flow` for a kernel of :mod:`numerics.cy.kernels`.

    Args:
        clusters: ``None`` — exact over all train points, matrix-free
            (:func:`numerics.cy.kernels.apply_kernel`, memory ``O(N block)``); or ``(batches,
            clusters)`` — the batched clustering (3.3) of the train points, the kernel applied within
            each cluster only, each test point in the cluster of its nearest train point.
        block: tile size of the exact sum.
        devices: the devices the exact sum's tiles are split over (``None``: all of
            ``jax.devices()``; see :func:`numerics.cy.kernels.apply_kernel`).
    """
    from numerics.cy.kernels import apply_kernel, nearest_indices

    if clusters is None:
        def exact(values, to):
            if to == "train":
                return apply_kernel(kernel, train.z, train.z, values, block=block, same_points=True, devices=devices)
            return apply_kernel(kernel, test.z, train.z, values, block=block, devices=devices)

        return exact

    from numerics.cy.cluster import batched_agglomerative_clustering

    n_batches, n_clusters = clusters
    labels = batched_agglomerative_clustering(train.z, n_batches=n_batches, n_clusters=n_clusters, progress=progress).labels
    test_labels = labels[nearest_indices(test.z, train.z)]
    groups = [(np.flatnonzero(labels == a), np.flatnonzero(test_labels == a)) for a in range(n_clusters)]

    def clustered(values, to):
        values = np.asarray(values)
        out = np.zeros(((train if to == "train" else test).z.shape[0], *values.shape[1:]), dtype=values.dtype)
        for tr, te in groups:
            if to == "train":
                out[tr] = apply_kernel(kernel, train.z[tr], train.z[tr], values[tr], block=block, same_points=True)
            elif te.size:
                out[te] = apply_kernel(kernel, test.z[te], train.z[tr], values[tr], block=block)
        return jnp.asarray(out)

    return clustered


def hermitian_from_real(m):
    r"""The Hermitian matrices :math:`H(m) = (m + m^T)/2 + i\,(m - m^T)/2` of real ``(..., n, n)`` ``m``
    (a bijection: the real and imaginary parts of :math:`g_{a\bar b}` from the symmetric and
    antisymmetric parts of a network's ``n x n`` output)."""
    m = jnp.asarray(m)
    t = jnp.swapaxes(m, -1, -2)
    return (m + t) / 2 + 1j * (m - t) / 2


def real_adjoint(g):
    """The adjoint of :func:`hermitian_from_real` in the inner product Re tr(A†B): ``Re g + Im g``
    for Hermitian ``g``."""
    g = jnp.asarray(g)
    return jnp.real(g) + jnp.imag(g)


def coordinate_features(z) -> np.ndarray:
    """The network inputs of section 3.1: real and imaginary parts of the (chart-scaled) homogeneous coordinates."""
    z = np.asarray(z)
    return np.concatenate([z.real, z.imag], axis=-1)


def ntk_apply(model, params, train: PointSet, test: PointSet, *, features: Callable = coordinate_features,
              chunk: int = 4096) -> Callable:
    r"""The kernel sum ``apply(values, to)`` of :func:`run_flow` for the empirical metric-NTK of a network.

    ``model`` (a :mod:`numerics.nn.networks` network or a per-point ``apply(params, x)``) maps
    ``features(z)`` to a real ``(n, n)`` matrix ``m`` and the metric is :math:`g = H(m)`
    (:func:`hermitian_from_real`).  Its metric-NTK (2.7) acts on a gradient field ``G`` as
    :math:`H\,J(y)\,\sum_{x'} J(x')^T H^T G(x')` — :func:`numerics.nn.ntk.ntk_vector_product`,
    matrix-free, between :func:`real_adjoint` and :func:`hermitian_from_real`.  This is how a
    finite network's kernel, frozen at any stage of its training, drives the flow (3.5).
    """
    from numerics.nn.ntk import ntk_vector_product

    x_train, x_test = jnp.asarray(features(train.z)), jnp.asarray(features(test.z))

    def apply(values, to):
        x_eval = x_train if to == "train" else x_test
        u = ntk_vector_product(model, params, x_eval, x_train, real_adjoint(values), chunk=chunk)
        return hermitian_from_real(u)

    return apply


def _positive(g) -> bool:
    finite = bool(jnp.all(jnp.isfinite(g.real) & jnp.isfinite(g.imag)))
    return finite and bool(jnp.all(jnp.linalg.eigvalsh(g)[..., 0] > 0))


def run_flow(apply: Callable, train: PointSet, test: PointSet, settings: FlowSettings, steps: int, *, on_step=None,
             resume_from: FlowResult | None = None, on_result: Callable[[FlowResult], None] | None = None) -> FlowResult:
    """Iterate (3.5) up to ``steps`` steps in total.

    Args:
        apply: ``apply(values, to) -> updates``: the kernel sum :math:`\\sum_{x'}K(y,x')v_{x'}` over
            train points ``x'`` for ``to = "train"`` or ``"test"`` (see :func:`kernel_apply`).
        train, test: :class:`PointSet` in one chart.
        settings: :class:`FlowSettings`.
        steps: total number of steps (>= 1).
        on_step: called with ``(step, train_sigma, test_sigma)`` after each accepted step.
        resume_from: the result of the first ``k <= steps`` steps of the same flow (a checkpoint):
            the flow continues from its metrics and histories (κ at step 0 is that of ``train.g_fs``).
        on_result: called with the :class:`FlowResult` so far after each step (for checkpoints).

    Raises:
        NotPositiveDefiniteError: no halving of the step keeps every metric positive definite and finite.
        InvalidParameterError: ``resume_from`` with more steps than ``steps`` or metrics of other shapes.
    """
    if not (isinstance(steps, int) and steps >= 1):
        raise InvalidParameterError(f"steps must be a positive integer, got {steps!r}")
    kappa0 = jnp.sum(train.weights * _hermitian_det(train.g_fs) / train.omega2) / jnp.sum(train.weights)
    if resume_from is None:
        g, h = train.g_fs, test.g_fs
        train_sigma = [float(sigma_of(g, train.weights, train.omega2))]
        test_sigma = [float(sigma_of(h, test.weights, test.omega2))]
        rejected, sizes = 0, []
    else:
        done = len(resume_from.step_sizes)
        if done > steps or resume_from.g_train.shape != train.g_fs.shape or resume_from.g_test.shape != test.g_fs.shape:
            raise InvalidParameterError(
                f"cannot resume: the result has {done} steps and metrics {resume_from.g_train.shape}, {resume_from.g_test.shape};"
                f" this flow has {steps} steps and {train.g_fs.shape}, {test.g_fs.shape}"
            )
        g, h = jnp.asarray(resume_from.g_train), jnp.asarray(resume_from.g_test)
        train_sigma, test_sigma = list(resume_from.train_sigma), list(resume_from.test_sigma)
        rejected, sizes = resume_from.rejected_steps, list(resume_from.step_sizes)
    for step in range(len(sizes) + 1, steps + 1):
        grad = loss_gradient(g, train.weights, train.omega2, settings, kappa0)
        du, dv = apply(grad, "train"), apply(grad, "test")
        lr = settings.lr
        for _ in range(settings.max_backoff + 1):
            g_new, h_new = g - lr * du, h - lr * dv
            if _positive(g_new) and _positive(h_new):
                break
            rejected += 1
            lr /= 2
        else:
            raise NotPositiveDefiniteError(
                f"kernel flow step {step}: no step size down to lr/2^{settings.max_backoff} keeps every metric positive definite and finite"
            )
        g, h = g_new, h_new
        sizes.append(lr)
        train_sigma.append(float(sigma_of(g, train.weights, train.omega2)))
        test_sigma.append(float(sigma_of(h, test.weights, test.omega2)))
        if on_step is not None:
            on_step(step, train_sigma[-1], test_sigma[-1])
        if on_result is not None:
            on_result(FlowResult(list(train_sigma), list(test_sigma), rejected, list(sizes), np.asarray(g), np.asarray(h)))
    return FlowResult(train_sigma, test_sigma, rejected, sizes, np.asarray(g), np.asarray(h))
