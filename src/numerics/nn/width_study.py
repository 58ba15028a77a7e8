r"""Monte-Carlo width studies: the empirical NTK of independent width-``N`` networks converges to the
frozen NTK (2.9) at the rate :math:`N^{-1/2}`, with standard errors from :mod:`numerics.stats`."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from flowtheory.errors import InvalidParameterError
from numerics.stats import Estimate, SlopeFit, fit_loglog_slope, mean_estimate, over_draws, rms_estimate, z_scores

__all__ = ["WidthStudy", "ntk_width_study"]


@dataclass(frozen=True)
class WidthStudy:
    r"""Empirical NTK :math:`\Theta_N` of ``n_draws`` independent width-``N`` networks vs the frozen :math:`\bar\Theta`.

    Attributes:
        name, hyper: the architecture (:func:`flowtheory.networks.get_network` name) and the
            hyperparameters of the finite networks (including the ``A`` used).
        points: the inputs, shape ``(n, d)``; the pairs compared are ``pairs`` (``a <= b``).
        exact: :math:`\bar\Theta` on the pairs (from the symbolic kernel, compiled by the bridge).
        widths: the widths ``N``.
        means: per width, the mean of :math:`\Theta_N` over draws on the pairs (an :class:`Estimate`).
        rms: per width, the RMS over draws and pairs of :math:`\Theta_N - \bar\Theta` with its SE.
        slope: the fit of :math:`\log\mathrm{RMS}` against :math:`\log N` (expected slope −1/2).
        max_z: per width, the largest :math:`|\text{mean} - \bar\Theta|/\mathrm{SE}` over the pairs.
    """

    name: str
    hyper: dict
    points: np.ndarray
    pairs: np.ndarray
    exact: np.ndarray
    widths: tuple[int, ...]
    n_draws: int
    means: tuple[Estimate, ...]
    rms: tuple[Estimate, ...]
    slope: SlopeFit
    max_z: tuple[float, ...]

    @property
    def n_tests(self) -> int:
        """Number of z-tests the study makes (every pair at every width, plus the slope)."""
        return len(self.widths) * len(self.pairs) + 1


def ntk_width_study(
    name: str,
    *,
    d: int,
    widths: tuple[int, ...],
    n_draws: int,
    points: ArrayLike,
    key: Array,
    batch: int = 32,
    sigma_w: float = 1.0,
    sigma_b: float | None = None,
) -> WidthStudy:
    r"""Monte-Carlo check of (2.9): :math:`\Theta_N(x,x') \to \bar\Theta(x,x')` as the width grows.

    For each width, ``n_draws`` networks of :mod:`numerics.nn.networks` are initialised with keys split
    from ``key`` and their empirical NTK (2.7) is computed by :func:`numerics.nn.ntk.empirical_ntk`
    (trainable subset as in the architecture).  :math:`\bar\Theta` is the symbolic frozen NTK of
    :func:`flowtheory.networks.get_network` compiled by the bridge; the finite networks are built
    from that spec by :func:`numerics.nn.networks.from_spec` (its laws and derived normalisation ``A``).

    For all four architectures :math:`\Theta_N = c + \frac1N\sum_{i=1}^N t_i` with i.i.d. unit terms
    :math:`t_i`, so :math:`\mathbb E\,\Theta_N = \bar\Theta` at every ``N`` (no finite-width bias)
    and :math:`\mathrm{Var}\,\Theta_N \propto 1/N`: the RMS error has slope exactly −1/2 in
    :math:`\log N`.
    """
    from flowtheory.networks import get_network as get_spec

    from numerics.nn.networks import from_spec
    from numerics.nn.ntk import empirical_ntk

    x = jnp.asarray(points, dtype=float)
    if x.ndim != 2 or x.shape[1] != d:
        raise InvalidParameterError(f"points must have shape (n, {d}), got {x.shape}")
    spec = get_spec(name, d, sigma_w=sigma_w, sigma_b=sigma_b)
    kernel = spec.kernel_jax()
    ia, ib = np.triu_indices(x.shape[0])
    exact = np.asarray(jax.vmap(lambda a, b: kernel(*a, *b))(x[ia], x[ib]))
    hyper: dict = {"sigma_w": sigma_w}
    if sigma_b is not None:
        hyper["sigma_b"] = sigma_b
    if spec.normalization_A is not None:
        hyper["A"] = float(spec.normalization_A)

    means, rms, zmax = [], [], []
    for k, width in zip(jax.random.split(key, len(widths)), widths):
        net = from_spec(spec, width)
        theta = over_draws(lambda kk: empirical_ntk(net, net.init(kk), x)[ia, ib], k, n_draws, batch)
        theta = np.asarray(theta)
        means.append(mean_estimate(theta))
        rms.append(rms_estimate(theta - exact))
        zmax.append(float(np.max(z_scores(means[-1], exact))))
    fit = fit_loglog_slope(np.asarray(widths), np.array([float(r.mean) for r in rms]), np.array([float(r.se) for r in rms]))
    return WidthStudy(
        name=name, hyper=hyper, points=np.asarray(x), pairs=np.stack([ia, ib], axis=1), exact=exact,
        widths=tuple(widths), n_draws=n_draws, means=tuple(means), rms=tuple(rms), slope=fit, max_z=tuple(zmax),
    )
