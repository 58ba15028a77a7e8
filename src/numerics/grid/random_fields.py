"""Random smooth test fields and metrics on the grids of :mod:`numerics.grid.grids` (explicit ``jax.random`` keys).

* :func:`trigonometric_field` — :math:`\\sum_{0 < |m|_\\infty \\le M} (a_m\\cos + b_m\\sin)(2\\pi m\\cdot x/L)`
  with :math:`a_m, b_m \\sim \\mathcal{N}(0, 1)`, rescaled by :math:`\\sum|a_m| + |b_m|` so that its
  modulus is at most ``scale`` (independently of the grid): analytic,
  band-limited (exactly resolved by a grid with more than :math:`2M` points per axis);
* :func:`random_torus_metric` — :math:`g_{ij} = \\delta_{ij} + \\epsilon\\, s_{ij}(x)` with
  trigonometric :math:`s_{ij}` of modulus at most 1, positive definite for :math:`\\epsilon < 1/d`
  (Gershgorin);
* :func:`sphere_polynomial` — a random polynomial of degree ``degree`` in the Cartesian coordinates
  :math:`(\\sin\\theta\\cos\\varphi, \\sin\\theta\\sin\\varphi, \\cos\\theta)`: a smooth function on
  :math:`S^2` (a finite sum of spherical harmonics);
* :func:`perturbed_round_metric` — :math:`e^{2u}g_{\\text{round}} + \\epsilon\\, df\\otimes df` with
  ``u``, ``f`` sphere polynomials: a smooth metric on :math:`S^2` whose components have the parities
  of :class:`numerics.grid.grids.SphereGrid` (``g_01`` odd).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError
from numerics.grid.grids import PeriodicGrid, SphereGrid

__all__ = ["trigonometric_field", "random_torus_metric", "sphere_polynomial", "perturbed_round_metric", "SPHERE_PARITIES"]

SPHERE_PARITIES = {"g_01": -1}
"""Double-Fourier parities of metric components in :math:`(\\theta, \\varphi)` (module docstring of grids)."""


def trigonometric_field(key: jax.Array, grid: PeriodicGrid, max_mode: int, scale: float) -> jax.Array:
    """A random trigonometric polynomial of degree ``max_mode`` per axis, modulus <= ``scale``, zero mean."""
    if max_mode < 1 or 2 * max_mode >= min(grid.n):
        raise InvalidParameterError(f"max_mode must be in 1..{min(grid.n) // 2 - 1} for this grid, got {max_mode}")
    modes = [m for m in itertools.product(range(-max_mode, max_mode + 1), repeat=grid.dim) if any(m)]
    coeffs = jax.random.normal(key, (len(modes), 2))
    x = jnp.stack(grid.coordinates())  # (d, *grid)
    phase = jnp.tensordot(jnp.asarray(modes, dtype=float), x, axes=1) * (2 * np.pi / grid.period)
    f = jnp.tensordot(coeffs[:, 0], jnp.cos(phase), axes=1) + jnp.tensordot(coeffs[:, 1], jnp.sin(phase), axes=1)
    return scale * f / jnp.sum(jnp.abs(coeffs))


def random_torus_metric(key: jax.Array, grid: PeriodicGrid, max_mode: int, epsilon: float) -> dict[str, jax.Array]:
    """``{"g_ij": field}`` (``i <= j``) of :math:`\\delta_{ij} + \\epsilon s_{ij}`; requires :math:`\\epsilon < 1/d`."""
    d = grid.dim
    if not 0 <= epsilon < 1 / d:
        raise InvalidParameterError(f"epsilon must be in [0, 1/{d}) to keep the metric positive definite, got {epsilon}")
    names = [(i, j) for i in range(d) for j in range(i, d)]
    keys = jax.random.split(key, len(names))
    return {f"g_{i}{j}": (1.0 if i == j else 0.0) + trigonometric_field(k, grid, max_mode, epsilon) for k, (i, j) in zip(keys, names)}


def sphere_polynomial(key: jax.Array, grid: SphereGrid, degree: int, scale: float) -> jax.Array:
    """A random polynomial of ``degree`` in the Cartesian coordinates on :math:`S^2`, modulus <= ``scale``."""
    if degree < 1:
        raise InvalidParameterError(f"degree must be >= 1, got {degree}")
    theta, phi = grid.coordinates()
    xyz = (jnp.sin(theta) * jnp.cos(phi), jnp.sin(theta) * jnp.sin(phi), jnp.cos(theta))
    powers = [p for p in itertools.product(range(degree + 1), repeat=3) if 0 < sum(p) <= degree]
    coeffs = jax.random.normal(key, (len(powers),))
    f = sum(c * xyz[0] ** a * xyz[1] ** b * xyz[2] ** e for c, (a, b, e) in zip(coeffs, powers))
    return scale * f / jnp.sum(jnp.abs(coeffs))


def perturbed_round_metric(key: jax.Array, grid: SphereGrid, degree: int, epsilon: float) -> dict[str, jax.Array]:
    """``{"g_00", "g_01", "g_11"}`` of :math:`e^{2u}g_{\\text{round}} + df\\otimes df` (``u``, ``f`` of modulus ``epsilon``)."""
    ku, kf = jax.random.split(key)
    u = sphere_polynomial(ku, grid, degree, epsilon)
    f = sphere_polynomial(kf, grid, degree, epsilon)
    theta, _ = grid.coordinates()
    ft, fp = grid.derivative(f, (1, 0)), grid.derivative(f, (0, 1))
    conformal = jnp.exp(2 * u)
    return {"g_00": conformal + ft * ft, "g_01": ft * fp, "g_11": conformal * jnp.sin(theta) ** 2 + fp * fp}
