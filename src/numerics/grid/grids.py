"""Discretisations of the toy manifolds on which compiled flows run: tori and the round 2-sphere.

Every grid offers the same three operations, so a flow never needs to know which one it lives on:

* ``coordinates()`` — the coordinate arrays of the grid points (``indexing="ij"``);
* ``derivative(f, orders)`` — the coordinate derivative :math:`\\partial^{\\alpha} f` of a sampled
  scalar (component) field, :math:`\\alpha` = ``orders`` (one non-negative integer per axis, any
  total order, mixed derivatives included);
* ``integrate(f)`` — the quadrature :math:`\\int f\\, \\mathrm{d}^d x` in coordinates.  A metric's
  volume :math:`\\int f \\sqrt{\\det g}\\, \\mathrm{d}^d x` is ``integrate(f * sqrt(det g))``.

Orders of accuracy.

* :class:`PeriodicGrid` — the flat torus :math:`T^d = \\mathbb{R}^d / (L\\mathbb{Z})^d`, uniform
  grid, Fourier-spectral derivatives (odd orders drop the Nyquist mode) and the trapezoidal rule:
  both converge *exponentially* in the number of points for analytic fields (the rule is exact for
  trigonometric polynomials of degree < n per axis).
* :class:`SphereGrid` — :math:`S^2` in polar coordinates :math:`(\\theta, \\varphi)` on the
  pole-free grid :math:`\\theta_j = (j + \\tfrac12)\\pi/n_\\theta`,
  :math:`\\varphi_k = 2\\pi k / n_\\varphi`.  Derivatives use the *double Fourier* extension
  :math:`f(2\\pi - \\theta, \\varphi) = \\pm f(\\theta, \\varphi + \\pi)` (Merilees 1973; Orszag
  1974), which is smooth and :math:`2\\pi`-periodic in :math:`\\theta` for a smooth field; the
  sign is ``parity``: :math:`+1` for scalars and for the components
  :math:`g_{\\theta\\theta}, g_{\\varphi\\varphi}`, :math:`-1` for components with an odd number of
  :math:`\\theta` indices (:math:`g_{\\theta\\varphi}`).  Integration in :math:`\\theta` is Fejér's
  first rule on the midpoint nodes (exact for polynomials in :math:`\\cos\\theta` of degree
  :math:`< n_\\theta`; the :math:`\\sin\\theta` of the round measure is *not* included — pass it in
  through :math:`\\sqrt{\\det g}`), the trapezoidal rule in :math:`\\varphi`.  Both are spectral.

Shapes: a field is an array of shape ``grid.shape`` (leading batch axes are allowed and carried
through by ``derivative``).  All arithmetic is float64 (``import numerics`` turns x64 on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from flowtheory.errors import InvalidParameterError

__all__ = ["PeriodicGrid", "SphereGrid", "ComplexTorus"]


def _check_counts(n: Sequence[int], minimum: int = 4) -> tuple[int, ...]:
    if any(isinstance(v, bool) or int(v) != v for v in n):
        raise InvalidParameterError(f"grid sizes must be even integers >= {minimum}, got {tuple(n)}")
    n = tuple(int(v) for v in n)
    if not n or any(v < minimum or v % 2 for v in n):
        raise InvalidParameterError(f"grid sizes must be even integers >= {minimum}, got {n}")
    return n


def _spectral_factor(k: np.ndarray, order: int, n: int) -> np.ndarray:
    """Fourier multiplier of d^order/dx^order: (i k)^order, Nyquist mode zeroed for odd orders."""
    factor = (1j * k) ** order
    if order % 2 == 1:
        factor = factor.copy()
        factor[n // 2] = 0.0
    return factor


@dataclass(frozen=True)
class PeriodicGrid:
    """The flat torus :math:`T^d = \\mathbb{R}^d/(L\\mathbb{Z})^d` on a uniform ``n[0] x ... x n[d-1]`` grid.

    Attributes:
        n: points per axis (even, >= 4).
        period: the period :math:`L` of every axis (default :math:`2\\pi`).
    """

    n: tuple[int, ...]
    period: float = 2 * math.pi

    def __post_init__(self):
        object.__setattr__(self, "n", _check_counts(self.n))
        if not (math.isfinite(self.period) and self.period > 0):
            raise InvalidParameterError(f"period must be positive, got {self.period}")

    @classmethod
    def cube(cls, n: int, dim: int, period: float = 2 * math.pi) -> "PeriodicGrid":
        """The ``n``-per-axis grid on :math:`T^{dim}`."""
        if dim < 1:
            raise InvalidParameterError(f"dimension must be >= 1, got {dim}")
        return cls((n,) * dim, period)

    @property
    def dim(self) -> int:
        return len(self.n)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.n

    @property
    def cell_volume(self) -> float:
        return float(np.prod([self.period / m for m in self.n]))

    def coordinates(self) -> tuple[Float[Array, "*grid"], ...]:
        """The coordinate arrays :math:`x^a_{j} = j L / n_a` (``indexing="ij"``)."""
        axes = [jnp.arange(m) * (self.period / m) for m in self.n]
        return tuple(jnp.meshgrid(*axes, indexing="ij"))

    def wavenumbers(self) -> tuple[np.ndarray, ...]:
        """Angular wavenumbers :math:`2\\pi m / L` per axis, in FFT order."""
        return tuple(2 * np.pi * np.fft.fftfreq(m, d=self.period / m) for m in self.n)

    def multiplier(self, orders: Sequence[int]) -> np.ndarray:
        """The Fourier multiplier of :math:`\\partial^{\\alpha}` on the full ``fftn`` grid."""
        orders = tuple(int(o) for o in orders)
        if len(orders) != self.dim or any(o < 0 for o in orders):
            raise InvalidParameterError(f"need {self.dim} non-negative derivative orders, got {orders}")
        out = np.ones(self.n, dtype=complex)
        for axis, (k, order, m) in enumerate(zip(self.wavenumbers(), orders, self.n)):
            shape = [1] * self.dim
            shape[axis] = m
            out = out * _spectral_factor(k, order, m).reshape(shape)
        return out

    def derivative(self, f: Float[Array, "*batch *grid"], orders: Sequence[int]) -> Float[Array, "*batch *grid"]:
        """Spectral :math:`\\partial^{\\alpha} f` over the last ``dim`` axes of a real field."""
        if not any(orders):
            return f
        axes = tuple(range(-self.dim, 0))
        return jnp.real(jnp.fft.ifftn(jnp.fft.fftn(f, axes=axes) * self.multiplier(orders), axes=axes))

    def fourier_filter(self, f: Float[Array, "*batch *grid"], spectrum: np.ndarray) -> Float[Array, "*batch *grid"]:
        """Multiply ``f`` by a real, even Fourier ``spectrum`` (shape ``grid.shape``): a convolution."""
        axes = tuple(range(-self.dim, 0))
        return jnp.real(jnp.fft.ifftn(jnp.fft.fftn(f, axes=axes) * spectrum, axes=axes))

    def integrate(self, f: Float[Array, "*batch *grid"]) -> Float[Array, "*batch"]:
        """Trapezoidal :math:`\\int_{T^d} f\\, \\mathrm{d}^d x` over the last ``dim`` axes.

        Raises:
            InvalidParameterError: ``f`` whose last ``dim`` axes are not the grid's shape.
        """
        if tuple(jnp.shape(f)[-self.dim:]) != self.shape:
            raise InvalidParameterError(f"f has shape {jnp.shape(f)}; its last axes must be the grid shape {self.shape}")
        return jnp.sum(f, axis=tuple(range(-self.dim, 0))) * self.cell_volume


@dataclass(frozen=True)
class SphereGrid:
    """:math:`S^2` in polar coordinates on the pole-free grid described in the module docstring.

    Axis 0 is :math:`\\theta \\in (0, \\pi)`, axis 1 is :math:`\\varphi \\in [0, 2\\pi)`.  The round
    metric is :math:`\\mathrm{d}\\theta^2 + \\sin^2\\theta\\,\\mathrm{d}\\varphi^2` (:meth:`round_metric`).
    """

    n_theta: int
    n_phi: int

    def __post_init__(self):
        _check_counts((self.n_theta, self.n_phi))

    @property
    def dim(self) -> int:
        return 2

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_theta, self.n_phi)

    def theta(self) -> np.ndarray:
        return (np.arange(self.n_theta) + 0.5) * np.pi / self.n_theta

    def coordinates(self) -> tuple[Float[Array, "nt nf"], Float[Array, "nt nf"]]:
        phi = np.arange(self.n_phi) * (2 * np.pi / self.n_phi)
        return tuple(jnp.meshgrid(jnp.asarray(self.theta()), jnp.asarray(phi), indexing="ij"))

    def round_metric(self) -> Float[Array, "2 2 nt nf"]:
        """Components of the unit round metric on the grid, shape ``(2, 2, n_theta, n_phi)``."""
        theta, _ = self.coordinates()
        zero = jnp.zeros_like(theta)
        return jnp.stack([jnp.stack([jnp.ones_like(theta), zero]), jnp.stack([zero, jnp.sin(theta) ** 2])])

    def derivative(self, f: Float[Array, "*batch nt nf"], orders: Sequence[int], parity: int = 1) -> Float[Array, "*batch nt nf"]:
        """Spectral :math:`\\partial_\\theta^{a}\\partial_\\varphi^{b} f` by the double Fourier extension.

        ``parity`` is the sign of the extension (+1 scalars, -1 components with an odd number of
        :math:`\\theta` indices), see the module docstring.
        """
        a, b = (int(o) for o in orders)
        if a < 0 or b < 0:
            raise InvalidParameterError(f"derivative orders must be non-negative, got {orders}")
        if parity not in (1, -1):
            raise InvalidParameterError(f"parity must be +1 or -1, got {parity}")
        if a == 0 and b == 0:
            return f
        nt, nf = self.shape
        # f on theta in (0, 2 pi): f(2 pi - theta, phi) = parity * f(theta, phi + pi).
        mirrored = parity * jnp.roll(jnp.flip(f, axis=-2), nf // 2, axis=-1)
        ext = jnp.concatenate([f, mirrored], axis=-2)
        k_theta = np.fft.fftfreq(2 * nt, d=1.0 / (2 * nt))
        k_phi = np.fft.fftfreq(nf, d=1.0 / nf)
        mult = _spectral_factor(k_theta, a, 2 * nt)[:, None] * _spectral_factor(k_phi, b, nf)[None, :]
        out = jnp.real(jnp.fft.ifft2(jnp.fft.fft2(ext, axes=(-2, -1)) * mult, axes=(-2, -1)))
        return out[..., :nt, :]

    def fejer_weights(self) -> np.ndarray:
        """Fejér's first rule: :math:`\\int_0^\\pi f(\\theta)\\sin\\theta\\,d\\theta \\approx \\sum_j w_j f(\\theta_j)`."""
        n = self.n_theta
        theta = self.theta()
        k = np.arange(1, n // 2 + 1)
        s = np.sum(np.cos(2 * np.outer(theta, k)) / (4 * k**2 - 1), axis=1)
        return (2.0 / n) * (1.0 - 2.0 * s)

    def integrate(self, f: Float[Array, "*batch nt nf"]) -> Float[Array, "*batch"]:
        """:math:`\\int f\\,\\mathrm{d}\\theta\\,\\mathrm{d}\\varphi` (coordinate measure; see the docstring).

        Implemented as Fejér's rule applied to :math:`f/\\sin\\theta`, which is smooth whenever
        :math:`f = h \\sqrt{\\det g}` for a smooth metric and smooth :math:`h`.

        Raises:
            InvalidParameterError: ``f`` whose last two axes are not the grid's shape.
        """
        if tuple(jnp.shape(f)[-2:]) != self.shape:
            raise InvalidParameterError(f"f has shape {jnp.shape(f)}; its last axes must be the grid shape {self.shape}")
        w = jnp.asarray(self.fejer_weights() / np.sin(self.theta()))
        return jnp.einsum("...tf,t->...", f, w) * (2 * np.pi / self.n_phi)


@dataclass(frozen=True)
class ComplexTorus:
    r"""The flat complex torus :math:`\mathbb{C}^n/(\mathbb{Z}^n + i\mathbb{Z}^n)`, :math:`n = 1, 2`.

    Real coordinates :math:`(x^1, y^1, \dots, x^n, y^n)` with :math:`z^a = x^a + i y^a`, each of
    period 1, on the real :class:`PeriodicGrid` ``grid`` (axis :math:`2a` is :math:`x^a`, axis
    :math:`2a+1` is :math:`y^a`).  Derivatives are taken in the complex coordinates
    :math:`(z^1, \dots, z^n, \bar z^1, \dots, \bar z^n)` — the order of the coordinates of
    :func:`flowtheory.functionals.kahler_setting` — as Wirtinger derivatives
    :math:`\partial_a = \tfrac12(\partial_{x^a} - i\partial_{y^a})`,
    :math:`\partial_{\bar a} = \tfrac12(\partial_{x^a} + i\partial_{y^a})`, spectrally (Fourier
    multipliers :math:`\tfrac12(ik_x + k_y)` and :math:`\tfrac12(ik_x - k_y)`; the Nyquist modes are
    dropped from every derivative).  Results are complex; the flat metric of :math:`K_0 = z\bar z`
    is :math:`g_{a\bar b} = \delta_{ab}`, the density of :math:`\mathrm{d}^{2n}x` is 1 and the torus
    has volume 1.
    """

    n_complex: int
    n: int

    def __post_init__(self):
        if self.n_complex not in (1, 2):
            raise InvalidParameterError(f"complex dimension must be 1 or 2, got {self.n_complex}")
        _check_counts((self.n,))

    @property
    def grid(self) -> PeriodicGrid:
        return PeriodicGrid.cube(self.n, 2 * self.n_complex, period=1.0)

    @property
    def dim(self) -> int:
        return 2 * self.n_complex

    @property
    def shape(self) -> tuple[int, ...]:
        return self.grid.shape

    def coordinates(self) -> tuple[Array, ...]:
        r""":math:`(z^1, \dots, z^n, \bar z^1, \dots, \bar z^n)` on the grid (complex arrays)."""
        real = self.grid.coordinates()
        z = tuple(real[2 * a] + 1j * real[2 * a + 1] for a in range(self.n_complex))
        return z + tuple(jnp.conj(v) for v in z)

    def multiplier(self, orders: Sequence[int]) -> np.ndarray:
        r"""Fourier multiplier of :math:`\partial_z^{\alpha}\partial_{\bar z}^{\beta}` (``orders = α + β``)."""
        m = self.n_complex
        orders = tuple(int(o) for o in orders)
        if len(orders) != 2 * m or any(o < 0 for o in orders):
            raise InvalidParameterError(f"need {2 * m} non-negative derivative orders, got {orders}")
        k = self.grid.wavenumbers()[0].copy()
        k[self.n // 2] = 0.0
        ks = np.meshgrid(*([k] * 2 * m), indexing="ij")
        out = np.ones(self.shape, dtype=complex)
        for a in range(m):
            kx, ky = ks[2 * a], ks[2 * a + 1]
            out = out * (0.5 * (1j * kx + ky)) ** orders[a] * (0.5 * (1j * kx - ky)) ** orders[m + a]
        return out

    def derivative(self, f: Array, orders: Sequence[int]) -> Array:
        """Spectral Wirtinger derivative of ``f`` (last ``2n`` axes), complex."""
        if not any(orders):
            return f
        axes = tuple(range(-self.dim, 0))
        return jnp.fft.ifftn(jnp.fft.fftn(f, axes=axes) * self.multiplier(orders), axes=axes)

    def ddbar(self, phi: Float[Array, "*grid"]) -> Array:
        r""":math:`\partial_a\bar\partial_{\bar b}\varphi`, complex Hermitian, shape ``(n, n, *grid)``."""
        m = self.n_complex
        eye = np.eye(2 * m, dtype=int)
        return jnp.stack([jnp.stack([self.derivative(phi, eye[a] + eye[m + b]) for b in range(m)]) for a in range(m)])

    def integrate(self, f: Float[Array, "*batch *grid"]) -> Float[Array, "*batch"]:
        r""":math:`\int f\, \mathrm{d}^{2n}x` over the unit-volume torus."""
        return self.grid.integrate(f)
