r"""Monte-Carlo estimators with standard errors, convergence-rate fits, and z-tests.

Every Monte-Carlo number in flowtheory carries an error bar:

* :func:`mean_estimate` — the sample mean over independent draws (e.g. independent network
  initialisations) with its plug-in standard error :math:`s/\sqrt M`;
* :func:`rms_estimate` — the root-mean-square of an error over draws, with its delta-method
  standard error :math:`\mathrm{SE}(\overline{e^2})/(2\,\mathrm{RMS})`;
* :func:`over_draws` — evaluate a function of a ``jax.random`` key on ``M`` independent keys
  (``lax.map`` over batches of ``vmap``, so memory stays bounded);
* :func:`fit_loglog_slope` — least-squares slope of :math:`\log y` against :math:`\log n` with the
  slope's standard error (weighted by the Monte-Carlo errors of ``y`` when given);
* :func:`z_value` / :func:`z_scores` / :func:`assert_within` — the two-sided normal quantile for a
  stated family-wise failure probability (Bonferroni over the family), and the test
  :math:`|\hat\mu - \mu| \le z\,\mathrm{SE} + \text{bias}`.

The plug-in standard error is itself estimated; it is reliable when the number of draws is large
(``M`` ≳ 100) and the per-draw quantity has light tails (the width-``N`` empirical NTK is an average
of ``N`` i.i.d. unit terms, so it is close to normal once ``N`` is in the tens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import jax
import numpy as np
from jaxtyping import Array, ArrayLike
from scipy.special import ndtri

from flowtheory.errors import DegenerateInputError, EmptyInputError, InvalidParameterError
from numerics.checks import require_finite

__all__ = [
    "Estimate",
    "SlopeFit",
    "mean_estimate",
    "rms_estimate",
    "over_draws",
    "fit_loglog_slope",
    "z_value",
    "z_scores",
    "assert_within",
]


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate ``mean ± se`` from ``n`` independent draws (arrays broadcast elementwise)."""

    mean: np.ndarray
    se: np.ndarray
    n: int


@dataclass(frozen=True)
class SlopeFit:
    r"""Fit :math:`\log y = \text{intercept} + \text{slope}\,\log n`.

    ``slope_se`` is from the propagated Monte-Carlo errors of ``y`` (``weighted=True``) or from the
    residual scatter (ordinary least squares, ``weighted=False``); ``chi2``/``dof`` judge the fit.
    """

    slope: float
    slope_se: float
    intercept: float
    intercept_se: float
    chi2: float
    dof: int
    weighted: bool


def _finite(name: str, a: ArrayLike) -> np.ndarray:
    """``a`` as a float array, checked finite (:func:`numerics.checks.require_finite`)."""
    a = np.asarray(a, dtype=float)
    require_finite(a, name)
    return a


def mean_estimate(samples: ArrayLike, axis: int = 0) -> Estimate:
    """Mean over independent draws along ``axis`` with the standard error ``std(ddof=1)/sqrt(M)``.

    Raises:
        NonFiniteError: NaN or infinity in ``samples``.
        EmptyInputError: no draws (``samples`` is empty along ``axis``).
        InvalidParameterError: ``axis`` out of range, or a single draw (no standard error).
    """
    x = _finite("samples", samples)
    if not -x.ndim <= axis < x.ndim:
        raise InvalidParameterError(f"axis {axis} is out of range for samples of shape {x.shape}")
    m = x.shape[axis]
    if m == 0:
        raise EmptyInputError(f"samples has no draws along axis {axis} (shape {x.shape})")
    if m < 2:
        raise InvalidParameterError(f"need at least 2 draws for a standard error, got {m}")
    return Estimate(x.mean(axis=axis), x.std(axis=axis, ddof=1) / math.sqrt(m), m)


def rms_estimate(errors: ArrayLike) -> Estimate:
    r"""RMS of ``errors`` (shape ``(M, ...)``: ``M`` independent draws, anything per draw) with its SE.

    Per draw :math:`q_m = \text{mean}(e_m^2)` (mean over the trailing axes); the RMS is
    :math:`\sqrt{\bar q}` and its standard error by the delta method
    :math:`\mathrm{SE}(\bar q)/(2\sqrt{\bar q})`.

    Raises:
        NonFiniteError: NaN or infinity in ``errors``.
        InvalidParameterError: ``errors`` is a scalar (no axis of draws), or has one draw.
        EmptyInputError: no draws, or no entries per draw.
    """
    e = _finite("errors", errors)
    if e.ndim == 0:
        raise InvalidParameterError("errors must have a leading axis of draws, got a scalar")
    if e.size == 0:
        raise EmptyInputError(f"errors is empty (shape {e.shape}): need at least one entry per draw")
    q = (e**2).reshape(e.shape[0], -1).mean(axis=1)
    est = mean_estimate(q)
    rms = math.sqrt(float(est.mean))
    if rms == 0.0:
        return Estimate(np.asarray(0.0), np.asarray(0.0), est.n)
    return Estimate(np.asarray(rms), np.asarray(float(est.se) / (2 * rms)), est.n)


def over_draws(fn: Callable[[Array], Array], key: Array, n_draws: int, batch: int = 32):
    """``fn(k)`` for ``n_draws`` independent keys split from ``key``: a pytree with a leading axis ``n_draws``.

    Evaluated as ``lax.map`` over batches of ``vmap`` (``batch`` draws at a time); ``n_draws`` must be
    a multiple of ``batch`` (pick ``batch`` to bound memory).
    """
    if n_draws < 1 or batch < 1 or n_draws % batch:
        raise InvalidParameterError(f"n_draws ({n_draws}) must be a positive multiple of batch ({batch})")
    keys = jax.random.split(key, n_draws).reshape(n_draws // batch, batch, *key.shape)
    out = jax.lax.map(jax.vmap(fn), keys)
    return jax.tree_util.tree_map(lambda a: a.reshape(n_draws, *a.shape[2:]), out)


def fit_loglog_slope(n: ArrayLike, y: ArrayLike, y_se: ArrayLike | None = None) -> SlopeFit:
    r"""Least-squares fit of :math:`\log y = c + s\log n`; returns the slope with its standard error.

    With ``y_se`` (Monte-Carlo standard errors of ``y``) the fit is weighted by
    :math:`1/\sigma_{\log y}^2`, :math:`\sigma_{\log y} = y_{se}/y`, and the parameter covariance is
    :math:`(X^\top W X)^{-1}` — the errors are known, not inferred from the residuals.  Without it,
    ordinary least squares with the covariance :math:`\hat\sigma^2 (X^\top X)^{-1}` from the residuals
    (needs at least 3 points).

    Example:
        The Monte-Carlo rate :math:`y = 3 N^{-1/2}`:

        >>> import numpy as np
        >>> n = np.array([64.0, 256.0, 1024.0])
        >>> fit = fit_loglog_slope(n, 3.0 / np.sqrt(n))
        >>> round(fit.slope, 12), round(float(np.exp(fit.intercept)), 12)
        (-0.5, 3.0)

    Raises:
        NonFiniteError: NaN or infinity in ``n``, ``y`` or ``y_se``.
        EmptyInputError: ``n`` and ``y`` are empty.
        InvalidParameterError: shapes that differ or are not 1-d, fewer than 2 points (3 unweighted),
            a non-positive ``n``, ``y`` or ``y_se``.
        DegenerateInputError: every ``n`` is the same (the slope is undetermined).
    """
    n = _finite("n", n)
    y = _finite("y", y)
    if n.shape != y.shape or n.ndim != 1:
        raise InvalidParameterError(f"n and y must be 1-d of equal length, got {n.shape} and {y.shape}")
    if len(n) == 0:
        raise EmptyInputError("n and y are empty: a slope fit needs at least 2 points")
    if len(n) < 2:
        raise InvalidParameterError(f"a slope fit needs at least 2 points, got {len(n)}")
    if np.any(n <= 0):
        raise InvalidParameterError(f"a log-log fit needs positive n, got min {n.min():.3g}")
    if np.any(y <= 0):
        raise InvalidParameterError(f"a log-log fit needs positive y, got min {y.min():.3g}")
    if np.all(n == n[0]):
        raise DegenerateInputError(f"all sample sizes n are equal ({n[0]:g}): the slope in log n is undetermined")
    X = np.stack([np.ones_like(n), np.log(n)], axis=1)
    t = np.log(y)
    if y_se is not None:
        y_se = _finite("y_se", y_se)
        if y_se.shape != y.shape or np.any(y_se <= 0):
            raise InvalidParameterError(f"y_se must be positive and of the shape of y {y.shape}, got shape {y_se.shape}")
        s = y_se / y
        w = 1.0 / s**2
        cov = np.linalg.inv(X.T @ (w[:, None] * X))
        beta = cov @ X.T @ (w * t)
        resid = t - X @ beta
        chi2 = float(np.sum(w * resid**2))
    else:
        if len(n) < 3:
            raise InvalidParameterError("an unweighted fit needs at least 3 points for a residual error")
        beta, *_ = np.linalg.lstsq(X, t, rcond=None)
        resid = t - X @ beta
        sigma2 = float(resid @ resid) / (len(n) - 2)
        cov = sigma2 * np.linalg.inv(X.T @ X)
        chi2 = float(resid @ resid) / sigma2 if sigma2 > 0 else 0.0
    return SlopeFit(
        slope=float(beta[1]),
        slope_se=float(math.sqrt(cov[1, 1])),
        intercept=float(beta[0]),
        intercept_se=float(math.sqrt(cov[0, 0])),
        chi2=chi2,
        dof=len(n) - 2,
        weighted=y_se is not None,
    )


def z_value(failure_probability: float, n_tests: int = 1) -> float:
    r"""Two-sided normal quantile :math:`z` with :math:`P(\max_k |Z_k| > z) \le p` over ``n_tests`` tests.

    Bonferroni: :math:`z = \Phi^{-1}(1 - p/(2\,n_{\text{tests}}))`, valid for any dependence between
    the tests.

    Example:
        >>> round(z_value(0.05), 4), round(z_value(1e-3), 2), round(z_value(1e-3, 100), 2)
        (1.96, 3.29, 4.42)
    """
    if not 0 < failure_probability < 1:
        raise InvalidParameterError(f"failure_probability must be in (0, 1), got {failure_probability}")
    if n_tests < 1:
        raise InvalidParameterError(f"n_tests must be positive, got {n_tests}")
    return float(-ndtri(failure_probability / (2 * n_tests)))  # Φ^{-1}(1 - q) = -Φ^{-1}(q)


def z_scores(estimate: Estimate, exact: ArrayLike, bias: ArrayLike = 0.0) -> np.ndarray:
    r""":math:`(|\hat\mu - \mu| - |\text{bias}|)_+/\mathrm{SE}` elementwise (``bias``: a known bound on a systematic error).

    Raises:
        NonFiniteError: NaN or infinity in ``exact`` or ``bias``.
        InvalidParameterError: ``exact`` or ``bias`` does not broadcast to the estimate's shape.
    """
    exact, bias = _finite("exact", exact), _finite("bias", bias)
    shape = np.shape(estimate.mean)
    for name, value in (("exact", exact), ("bias", bias)):
        try:
            np.broadcast_to(value, shape)
        except ValueError:
            raise InvalidParameterError(f"{name} of shape {value.shape} does not broadcast to the estimate's shape {shape}") from None
    diff = np.abs(np.asarray(estimate.mean) - exact) - np.abs(bias)
    diff = np.maximum(diff, 0.0)
    se = np.asarray(estimate.se)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(diff == 0, 0.0, diff / se)


def assert_within(estimate: Estimate, exact: ArrayLike, z: float, bias: ArrayLike = 0.0, what: str = "estimate") -> float:
    r"""Assert :math:`|\hat\mu - \mu| \le z\,\mathrm{SE} + |\text{bias}|` elementwise; returns the largest z-score.

    Raises:
        AssertionError: with the worst element's estimate, exact value and z-score.
        EmptyInputError: an estimate with no elements (nothing would be tested).
        NonFiniteError, InvalidParameterError: as :func:`z_scores`.
    """
    zs = z_scores(estimate, exact, bias)
    if zs.size == 0:
        raise EmptyInputError(f"{what} has no elements: nothing to test")
    worst = int(np.argmax(zs))
    zmax = float(zs.reshape(-1)[worst])
    if not zmax <= z:
        mean = np.asarray(estimate.mean).reshape(-1)[worst] if np.ndim(estimate.mean) else estimate.mean
        ex = np.broadcast_to(np.asarray(exact, dtype=float), np.shape(estimate.mean)).reshape(-1)[worst] if np.ndim(estimate.mean) else exact
        raise AssertionError(f"{what}: {mean} vs exact {ex} is {zmax:.2f} standard errors off (allowed {z:.2f})")
    return zmax
