r"""Why kernel flows do not generalise (section 3.2.4, figure 3): gain against distance from the train set.

**Figure 3 left** (:func:`noise_analysis`).  The flow (3.5) runs on train points; test points are
the train points moved by Gaussian noise of growing size ε (the paper's construction), and each
noise level's gain σ(step 0)/σ(step n) — σ of (B.11) on those points — is set against the mean
shortest FS distance (3.2) from the noised points to the train set.  At ε = 0 the test set is the
train set (the train gain); as the distance grows the gain falls to 1.  Noise is added to the
unit-normalised homogeneous coordinates :math:`u = z/|z|`, :math:`u' = u + \varepsilon(\xi +
i\zeta)/\sqrt 2` with standard normal ξ, ζ per coordinate, so ε is a relative perturbation.  Two
variants:

- ``off`` (the paper's): the noised points themselves, which leave the quintic (p ≠ 0); their
  σ uses the chart formulas (:math:`|\Omega|^2`, pulled-back FS metric, weights) evaluated there
  regardless (:func:`numerics.cy.patches.chart` with ``tolerance=inf``), as the paper's pipeline
  must have done;
- ``on`` (which the paper could not do): each noised point is projected back onto p = 0 by
  Newton's method along :math:`\overline{\nabla p}` (:func:`project_to_surface`), so every test
  point is a point of the quintic and its σ is the true one.  Points whose Newton iteration does
  not converge are dropped and counted.

The flow itself runs on the train points alone; a test metric that the prediction takes out of
the positive cone is dropped and counted in its level's ``n_rejected`` (with the unconverged
projections), not allowed to change the train run.

All test metrics are components in the train points' chart (0, 1), valid near them.

**Figure 3 right on the experiments' point sets** (:func:`nn_scaling_in_chart`): the mean
nearest-neighbour distance μ(N) of chart-(0, 1) samples and its fit μ = a N^b (3.7); proof
``cyd-nn-scaling-chart`` explains the printed fit by it.

**The extrapolation** (:func:`points_for_gain`): the distance at which a measured curve reaches a
target gain (log–log interpolation), and the N at which μ(N) falls to it — the paper's 10^12
(Gaussian) and 10^8 (Delta) points for a test gain of ~100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError, NotPositiveDefiniteError
from numerics.cy.kernel_flow import FlowSettings, PointSet, kernel_apply, point_set, run_flow, sigma_of

VARIANTS = ("off", "on")


def project_to_surface(surface, z, *, max_iter: int = 50, tol: float = 1e-14) -> tuple[np.ndarray, np.ndarray]:
    r"""Newton's method for :math:`p(z + t\,\overline{\nabla p(z)}) = 0` from each point (vectorised).

    Each iteration moves :math:`z \to z - p(z)\,\overline{\nabla p}/|\nabla p|^2` (the least-norm
    step to the linearised zero set), renormalising to :math:`|z| = 1`.

    Returns:
        ``(points, converged)``: unit-normalised points and, per point, whether the relative
        residual :meth:`~numerics.cy.hypersurface.Hypersurface.residual` fell below ``tol``.
    """
    u = jnp.asarray(z, dtype=jnp.complex128)
    u = u / jnp.linalg.norm(u, axis=-1, keepdims=True)

    def step(u, _):
        grad = surface.dp(u)
        u = u - (surface.p(u) / jnp.sum(jnp.abs(grad) ** 2, axis=-1))[:, None] * jnp.conj(grad)
        return u / jnp.linalg.norm(u, axis=-1, keepdims=True), None

    u, _ = jax.lax.scan(step, u, None, length=max_iter)
    residual = surface.residual(u)
    return np.asarray(u), np.asarray(jnp.isfinite(residual) & (residual < tol))


def add_noise(z, scale: float, key: jax.Array) -> np.ndarray:
    """Unit-normalised points plus complex Gaussian noise of standard deviation ``scale`` per coordinate."""
    u = np.asarray(z) / np.linalg.norm(np.asarray(z), axis=-1, keepdims=True)
    re, im = jax.random.normal(key, (2, *u.shape), dtype=jnp.float64)
    return u + scale * (np.asarray(re) + 1j * np.asarray(im)) / math.sqrt(2)


def mean_distance_to(z_test, z_train) -> tuple[float, float]:
    """Mean and standard error of each test point's shortest FS distance (3.2) to the train set."""
    from numerics.cy.distance import fs_distance
    from numerics.cy.kernels import nearest_indices

    idx = nearest_indices(z_test, z_train)
    d = np.asarray(fs_distance(jnp.asarray(z_test), jnp.asarray(np.asarray(z_train)[idx])))
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0


@dataclass
class NoiseCurve:
    """One variant's curve: per noise level, the mean distance to the train set and the gain."""

    variant: str
    noise: list[float]
    mean_distance: list[float]
    mean_distance_se: list[float]
    gain: list[float]
    n_points: list[int]
    n_rejected: list[int]
    """Per level: test points dropped (Newton did not converge, or the predicted metric is not positive definite)."""


@dataclass
class NoiseAnalysis:
    """Figure 3 left for one kernel: the curves of both variants and the train run they share."""

    train_gain: float
    train_sigma: list[float]
    rejected_steps: int
    curves: dict[str, NoiseCurve]
    parameters: dict[str, Any] = field(default_factory=dict)


def noise_analysis(surface, kernel, settings: FlowSettings, train: PointSet, *, noise_levels, n_noised: int, steps: int,
                   key: jax.Array, variants=VARIANTS, block: int = 1024, on_step=None) -> NoiseAnalysis:
    """Figure 3 left (module docstring): one flow on ``train``, every noise level and variant as test points.

    Args:
        noise_levels: ε values (>= 0; 0 gives the train points themselves).
        n_noised: the first ``n_noised`` train points are noised at each level (all if larger).
        key: noise of level ``i`` is drawn with ``fold_in(key, i)``; both variants share it.

    Raises:
        InvalidParameterError: negative or non-finite noise, an unknown variant, ``n_noised < 2``.
    """
    levels = [float(x) for x in noise_levels]
    if not levels or not all(math.isfinite(x) and x >= 0 for x in levels):
        raise InvalidParameterError(f"noise levels must be finite and >= 0, got {noise_levels!r}")
    if not variants or any(v not in VARIANTS for v in variants):
        raise InvalidParameterError(f"variants must be among {VARIANTS}, got {variants!r}")
    if not (isinstance(n_noised, int) and n_noised >= 2):
        raise InvalidParameterError(f"n_noised must be an integer >= 2, got {n_noised!r}")
    base = train.z[: min(n_noised, train.z.shape[0])]
    blocks: list[tuple[str, int, np.ndarray, int]] = []  # (variant, level index, points, rejected)
    for i, eps in enumerate(levels):
        noised = add_noise(base, eps, jax.random.fold_in(key, i))
        for variant in variants:
            if variant == "off":
                blocks.append((variant, i, noised, 0))
            else:
                projected, ok = project_to_surface(surface, noised)
                blocks.append((variant, i, projected[ok], int(np.sum(~ok))))
    too_few = [(v, levels[i]) for v, i, z, _ in blocks if z.shape[0] < 2]
    if too_few:
        raise InvalidParameterError(f"fewer than 2 test points left at {too_few}: lower the noise")
    everything = np.concatenate([z for _, _, z, _ in blocks])
    test = point_set(surface, everything, patch=0, eliminated=1, tolerance=math.inf)
    exact = kernel_apply(kernel, train, test, block=block)
    # The test metrics are linear in the train gradients: g_y(n) = g_FS(y) - sum_x K(y, x) G(x) with
    # G = sum_k Δt_k grad_k, so the flow runs on the train points alone (test metrics that leave the
    # positive cone are counted per level, not allowed to shrink the train step) and G is applied once.
    last = {}
    accumulated = np.zeros_like(np.asarray(train.g_fs))

    def train_only(values, to):
        if to == "train":
            last["grad"] = np.asarray(values)
            return exact(values, "train")
        return np.zeros_like(np.asarray(values)[:2])

    def accumulate(partial):
        accumulated[...] += partial.step_sizes[-1] * last["grad"]

    two = PointSet(train.z[:2], train.g_fs[:2], train.weights[:2], train.omega2[:2], train.line_ids[:2])
    result = run_flow(train_only, train, two, settings, steps, on_step=on_step, on_result=accumulate)
    g_test = np.asarray(test.g_fs) - np.asarray(exact(accumulated, "test"))
    positive = np.all(np.isfinite(g_test), axis=(1, 2))
    positive[positive] = np.linalg.eigvalsh(g_test[positive])[:, 0] > 0
    curves = {v: NoiseCurve(v, [], [], [], [], [], []) for v in variants}
    start = 0
    for variant, i, z, rejected in blocks:
        part = np.arange(start, start + z.shape[0])
        start += z.shape[0]
        keep = part[positive[part]]
        if keep.size < 2:
            raise NotPositiveDefiniteError(f"noise {levels[i]:g} ({variant}): fewer than 2 test metrics stay positive definite")
        weights, omega2 = test.weights[keep], test.omega2[keep]
        before = float(sigma_of(test.g_fs[keep], weights, omega2))
        after = float(sigma_of(jnp.asarray(g_test[keep]), weights, omega2))
        mean, se = mean_distance_to(z, train.z)
        curve = curves[variant]
        curve.noise.append(levels[i])
        curve.mean_distance.append(mean)
        curve.mean_distance_se.append(se)
        curve.gain.append(before / after)
        curve.n_points.append(int(keep.size))
        curve.n_rejected.append(rejected + int(part.size - keep.size))
    return NoiseAnalysis(result.train_gain, result.train_sigma, result.rejected_steps, curves)


def nn_scaling_in_chart(surface, sizes, key: jax.Array, *, repeats: int = 2, patch: int = 0, eliminated: int = 1):
    """Mean nearest-neighbour FS distances of one chart's samples of each size (figure 3 right on the
    experiments' point sets) and their fit μ = a N^b.

    ``repeats`` independent samples of ``max(sizes)`` points are drawn; size ``n`` uses the first ``n``
    points of each (nested subsets).

    Returns:
        ``(ns, stats, fit)``: the size of each sample (one per size and repeat), its
        :class:`numerics.cy.distance.NearestNeighbourStatistics` (min, mean, max) and the
        :class:`numerics.stats.SlopeFit` of the means (OLS; its standard errors from the scatter).
    """
    from numerics.cy.distance import nearest_neighbour_statistics
    from numerics.cy.sampling import sample_in_chart
    from numerics.stats import fit_loglog_slope

    sizes = sorted(int(n) for n in sizes)
    if len(set(sizes)) < 2 or sizes[0] < 2 or repeats < 1:
        raise InvalidParameterError(f"need at least two distinct sizes >= 2 and repeats >= 1, got {sizes}, {repeats}")
    largest = sizes[-1]
    sample = sample_in_chart(surface, repeats * largest, key, patch, eliminated).points
    ns, stats = [], []
    for n in sizes:
        for r in range(repeats):
            stats.append(nearest_neighbour_statistics(sample[r * largest : r * largest + n]))
            ns.append(n)
    ns = np.array(ns)
    return ns, stats, fit_loglog_slope(ns, np.array([s.mean for s in stats]))


def distance_for_gain(curve: NoiseCurve, target: float) -> float | None:
    """The mean distance at which ``curve``'s gain falls through ``target`` (log–log interpolation
    between the two levels that bracket it, the smallest such distance); ``None`` if no pair does."""
    d, g = np.asarray(curve.mean_distance), np.asarray(curve.gain)
    order = np.argsort(d)
    d, g = d[order], g[order]
    for k in range(len(d) - 1):
        if g[k] >= target > g[k + 1] and d[k] > 0:
            t = (math.log(target) - math.log(g[k])) / (math.log(g[k + 1]) - math.log(g[k]))
            return float(math.exp(math.log(d[k]) + t * (math.log(d[k + 1]) - math.log(d[k]))))
    return None


def points_for_distance(distance: float, fit) -> float:
    """N with μ(N) = ``distance`` on the fit μ = exp(intercept) N^slope (3.7)."""
    return float(math.exp((math.log(distance) - fit.intercept) / fit.slope))
