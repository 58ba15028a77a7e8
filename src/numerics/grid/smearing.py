"""The Gaussian metric-NTK of (2.27)–(2.30) on a flat torus, applied by FFT.

With no component mixing (2.23), a constant :math:`\\bar\\alpha(x, x') = \\bar\\Omega` and a
reference density :math:`\\tilde g`, the non-local metric flow (2.30) is

.. math::

    \\partial_t g_{ij}(x) = -\\bar\\Omega\\, \\tilde g(x)^{-1/4}
        \\int \\mathrm{d}^d x'\\, G_\\sigma(x - x')\\, \\tilde g(x')^{1/4}\\, V_{ij}(x'),
    \\qquad G_\\sigma(r) = (2\\pi\\sigma^2)^{-d/2} e^{-|r|^2/(2\\sigma^2)},

where :math:`V_{ij} = \\delta l/\\delta g_{ij}` is the local right-hand side: the local flow (2.31)
is :math:`\\partial_t g_{ij} = -\\bar\\Omega V_{ij}`.  On the torus :math:`|x - x'|` is the
distance on the torus, i.e. :math:`G_\\sigma` is periodised (a sum over images), and by Poisson
summation its Fourier coefficients are exactly :math:`\\hat G_\\sigma(k) = e^{-\\sigma^2 |k|^2/2}`
(:func:`gaussian_spectrum`); :func:`periodised_gaussian` samples the real-space kernel (2.27) so
that the tests can check the two against each other.  As :math:`\\sigma \\to 0`,
:math:`\\hat G_\\sigma \\to 1` and the flow becomes local with error
:math:`-\\tfrac{\\sigma^2}{2}\\Delta V + O(\\sigma^4)`.
"""

from __future__ import annotations

import itertools

import jax
import numpy as np

from flowtheory.errors import InvalidParameterError
from numerics.grid.grids import PeriodicGrid

__all__ = ["gaussian_spectrum", "periodised_gaussian", "gaussian_smear"]


def _check_sigma(sigma: float) -> None:
    if not (np.isfinite(sigma) and sigma >= 0):
        raise InvalidParameterError(f"sigma must be finite and >= 0, got {sigma}")


def gaussian_spectrum(grid: PeriodicGrid, sigma: float) -> np.ndarray:
    """Fourier multiplier :math:`e^{-\\sigma^2|k|^2/2}` of convolution with the periodised :math:`G_\\sigma`."""
    _check_sigma(sigma)
    k2 = sum(np.meshgrid(*[k**2 for k in grid.wavenumbers()], indexing="ij"))
    return np.exp(-0.5 * sigma**2 * k2)


def periodised_gaussian(grid: PeriodicGrid, sigma: float, images: int = 3) -> np.ndarray:
    """The normalised Gaussian (2.27) centred at the origin, summed over ``images`` periods per side."""
    _check_sigma(sigma)
    if sigma == 0:
        raise InvalidParameterError("the sigma -> 0 kernel is a delta function; sample it with sigma > 0")
    coords = [np.asarray(c) for c in grid.coordinates()]
    out = np.zeros(grid.shape)
    for shift in itertools.product(range(-images, images + 1), repeat=grid.dim):
        r2 = sum((c - s * grid.period) ** 2 for c, s in zip(coords, shift))
        out += np.exp(-0.5 * r2 / sigma**2)
    return out / (2 * np.pi * sigma**2) ** (grid.dim / 2)


def gaussian_smear(
    grid: PeriodicGrid,
    sigma: float,
    v: jax.Array,
    *,
    omega: float = 1.0,
    reference_density: jax.Array | None = None,
) -> jax.Array:
    """:math:`\\bar\\Omega\\,\\tilde g^{-1/4} (G_\\sigma * \\tilde g^{1/4} v)` over the last ``grid.dim`` axes.

    ``reference_density`` is :math:`\\tilde g = \\det\\tilde g_{ij}` on the grid (default 1, the flat
    reference); ``sigma = 0`` returns the local limit :math:`\\bar\\Omega v` (2.31).  The same
    integral in a chart of a curved surface, by quadrature, is :func:`numerics.nn.limits.quadrature_smear`.
    """
    if sigma == 0:
        return omega * v
    weight = 1.0 if reference_density is None else reference_density**0.25
    return omega * grid.fourier_filter(weight * v, gaussian_spectrum(grid, sigma)) / weight
