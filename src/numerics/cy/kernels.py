r"""Kernels of the kernel metric flow (3.5) on points of :math:`\mathbb{P}^4` (the Fermat quintic).

Every kernel of section 3.2 has the form :math:`\Theta_{ijkl}(x,x') = \delta_{ik}\delta_{jl}K(x,x')`,
so one step of (3.5) is :math:`g^{(n+1)}(x) = g^{(n)}(x) - \Delta t\,\sum_{x'}K(x,x')\,
\delta\ell(x')/\delta g^{(n)}(x')` componentwise: a scalar kernel ``K`` applied to a field of values
(e.g. ``(N, 3, 3)`` Hermitian metric gradients).  Points are homogeneous coordinates, complex
``(N, 5)`` arrays as :mod:`numerics.cy.sampling` returns them.

Kernels (each a frozen, hashable dataclass with ``pairwise(z, w)``, the direct dense formula):

- :class:`GaussianKernel` — (3.6), :math:`\exp(-d/(2\sigma))` as printed, with ``d`` the
  Fubini–Study distance (3.2) after the threshold (3.4); also the readings :math:`\exp(-d^2/(2\sigma^2))`
  and, with σ an inverse width, :math:`\exp(-\sigma d^2/2)`.  Table 1: σ = 30 (:meth:`GaussianKernel.paper`).
- :class:`DeltaKernel` — section 3.2.3: a test point takes the update of its nearest train point;
  on the train points themselves :math:`K(x_i, x_j) = \delta_{ij}`.
- :class:`ReluNtkKernel` — section 3.2.1: the infinite-width NTK of a one-hidden-layer ReLU network
  on the 10 real inputs (real and imaginary parts of the 5 coordinates, section 3.1); Table 1:
  σ_w = 5.716, σ_b = 80.52 (:meth:`ReluNtkKernel.paper`).

Matrix-free application.  :func:`apply_kernel` computes :math:`\mathrm{out}[x] = \sum_{x'}K(x,x')\,
\mathrm{values}[x']` over square tiles of ``block`` out-points by ``block`` in-points (``lax.map``
over out-blocks, ``lax.scan`` over in-blocks; with ``same_points`` one scan over the tiles
``i <= j``, each applied to both blocks since ``K`` is symmetric): memory is
:math:`O(\text{block}^2 + N F)` and the ``N_out x N_in`` matrix never exists.  For the Gaussian
kernel a tile costs one matrix product of projector embeddings, :math:`u = \cos^2 d = e(z)\cdot e(w)`
(:func:`numerics.cy.distance.projector_embedding`), and the kernel is then evaluated without
``arccos``: with :math:`s = 1 - u = \sin^2 d` and :math:`x = \min(s, u) \le 1/2`,

.. math::
    \arcsin\sqrt{x} = \sqrt{x}\,B(x),\qquad B(x) = \sum_{n\ge0}\frac{\binom{2n}{n}}{4^n(2n+1)}x^n,
    \qquad d = \begin{cases}\sqrt{s}\,B(s) & s \le u\\ \pi/2 - \sqrt{u}\,B(u) & s > u\end{cases}

(:math:`d^2 = s\,B(s)^2` needs no square root).  The series has positive terms (Horner's rule is
stable); it is truncated at the fewest terms for which :math:`|K'(d)|\,\delta d \le 10^{-17}`
(:data:`SERIES_TOL`) on the range the kernel needs, so narrow kernels, for which far pairs are
negligible, use only the lower branch, up to :math:`\sin^2 d_{cut}`, with 3-20 terms (σ = 0.1,
``"d2"``: 18 terms); wide ones use both branches with about 40.  ``exp`` is a vectorised
Cody–Waite + Taylor evaluation (:func:`_exp_neg`, 2 ulp), since XLA's float64 ``exp`` is slow on
CPU.  Pairs beyond :math:`d_{cut}`, where :math:`K < 10^{-16}` (:data:`SKIP_BELOW`), are dropped,
and a tile whose largest ``u`` lies below :math:`\cos^2 d_{cut}` is skipped (``lax.cond``).
``order="spatial"`` sorts the points by principal-axis bisection (:func:`spatial_order`) so that
tiles are spatially coherent; in the 6 real dimensions of the quintic this skips tiles only for
narrow kernels (σ <= 0.05 for ``"d2"`` at 2e4 points: a kernel of width 0.1 keeps 11% of all pairs,
spread over every tile).

Accuracy.  ``1 - e.e'`` carries an absolute rounding error of about 6 ulp (:data:`S_ERROR`, measured
on quintic samples), which moves ``K`` by :math:`|dK/ds|\,\delta s`, :math:`|dK/ds| =
|K'(d)|/\sin 2d`.  Tiles holding a pair where that could exceed 1e-13 (:data:`REFINE_TOL`) —
near ``d = 0`` for the cusp of the ``"d"`` reading and for narrow widths, near ``d = π/2`` for wide
ones — are recomputed with the exact wedge form
:math:`s = |z\wedge w|^2/(|z\wedge w|^2 + |z^\dagger w|^2)` of :mod:`numerics.cy.distance` (which also
lets the threshold (3.4) act on the true distance).  The guarantee, checked entrywise by
``tests/test_cy_kernels.py`` against :func:`dense_reference` (the dense direct formula on accurate
distances) on 250 x 500 and 500 x 500 quintic points, every reading, widths 0.01 to 30 (and
measured at 0.001 to 400):

.. math::
    |\mathrm{out} - \mathrm{ref}| \le 10^{-12}\sum_{x'}K(x,x')|v_{x'}| + 10^{-16}\sum_{x'}|v_{x'}|

(the second term: dropped pairs).  Measured, the first coefficient is at most 1.6e-14 (σ = 0.1,
``"d2"``); relative to the largest output, errors are 1e-15 (wide) to 1e-13 (σ = 0.05 ``"d2"``:
``S_ERROR / (2σ^2)``).

The ReLU NTK is applied over the same tiles (no skipping: it is not local); the Delta kernel by a
blockwise nearest-neighbour search (:func:`nearest_indices`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, NamedTuple, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental.shard_map import shard_map
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, Complex, Float, Int

from flowtheory.errors import InvalidParameterError
from numerics.checks import require_finite, require_nonempty
from numerics.cy.distance import (
    _check_points,
    _rescale,
    _resolve_threshold,
    _wedge_and_dot,
    fs_distance,
    fs_distance_matrix,
    projector_embedding,
)

__all__ = [
    "DeltaKernel",
    "GaussianKernel",
    "Kernel",
    "ProfileKernel",
    "READINGS",
    "REFINE_TOL",
    "ReluNtkKernel",
    "SKIP_BELOW",
    "S_ERROR",
    "apply_kernel",
    "dense_reference",
    "kernel_from",
    "KERNEL_NAMES",
    "nearest_indices",
    "spatial_order",
]

#: Kernel values below this (relative to K(x, x) = 1) are dropped: whole tiles and single pairs.
SKIP_BELOW = 1e-16
#: Bound on the absolute rounding error of ``s = 1 - e(z).e(w)`` (6 ulp measured on quintic samples).
S_ERROR = 8 * float(np.finfo(np.float64).eps)
#: Pairs whose kernel value would move by more than this under an error S_ERROR in ``s`` are
#: recomputed with the exact wedge form.
REFINE_TOL = 1e-13
#: Truncation of the series of arcsin(sqrt(x))/sqrt(x): its effect on any K is at most this.
SERIES_TOL = 1e-17
#: Longest series tried (the two-region evaluation, x <= 1/2, never needs more than about 40 terms).
MAX_SERIES_TERMS = 120
#: Exponents beyond this (K < 1e-304) are clamped: they only occur past the cutoff, where K is dropped.
EXP_ARGUMENT_MAX = 700.0
#: Rows whose two largest overlaps differ by less than this are decided with exact distances ...
TIE_GAP = 1e-12
#: ... where distances within this of the smallest (the rounding of the wedge form) count as a tie.
TIE_DISTANCE = 8 * float(np.finfo(np.float64).eps)

READINGS = ("d", "d2", "inverse")
#: Real inputs of the ReLU network: real and imaginary parts of the 5 coordinates of P^4 (section 3.1).
NTK_INPUTS = 10


def _positive_finite(value, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"{name} must be a finite number {bound}, got {value}")
    return value


def _points(z, name: str) -> np.ndarray:
    """``(N, n)`` complex points: finite, nonzero, at least one (as :mod:`numerics.cy.distance`)."""
    arr = _check_points(z, name)
    if arr.ndim != 2:
        raise InvalidParameterError(f"{name} must be an (N, n) array of points, got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------------------------- kernels


@dataclass(frozen=True)
class GaussianKernel:
    r"""The Gaussian kernel (3.6) of the Fubini–Study distance, in one of three readings of σ.

    With :math:`d = d_{FS}(x, x')` of (3.2), set to 0 below ``threshold`` (3.4):

    - ``"d"`` (3.6 as printed): :math:`K = \exp(-d/(2\sigma))`;
    - ``"d2"`` (a Gaussian of variance σ²): :math:`K = \exp(-d^2/(2\sigma^2))`;
    - ``"inverse"`` (σ an inverse width, as a ``W_std``-like parameter): :math:`K = \exp(-\sigma d^2/2)`.

    :math:`K(x, x) = 1`, ``K`` is symmetric and invariant under :math:`z \to \lambda z`.  It need
    not be positive semi-definite: a Gaussian of a geodesic distance is PSD for every σ only on
    flat spaces (Feragen, Lauze & Hauberg, CVPR 2015); on quintic points ``"d2"`` is PSD at σ <= 0.3
    and indefinite at σ = 1 (``tests/test_cy_kernels.py``).

    Attributes:
        width: σ > 0, finite.  Table 1 has σ = 30.
        reading: one of :data:`READINGS`.
        threshold: (3.4) distance threshold; ``None`` means
            :func:`numerics.cy.distance.default_threshold` (2.1e-8), ``0`` disables it.

    Raises:
        InvalidParameterError: width not a finite positive number, unknown reading, bad threshold.
    """

    width: float
    reading: str = "d"
    threshold: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "width", _positive_finite(self.width, "width"))
        if self.reading not in READINGS:
            raise InvalidParameterError(f"reading must be one of {READINGS}, got {self.reading!r}")
        object.__setattr__(self, "threshold", _resolve_threshold(self.threshold))

    @classmethod
    def paper(cls) -> "GaussianKernel":
        """Table 1's Gaussian kernel: (3.6) as printed with σ = 30."""
        return cls(30.0, "d")

    def profile(self, d: Float[np.ndarray, "*b"]) -> Float[np.ndarray, "*b"]:
        """``K`` as a function of the (already thresholded) distance ``d`` (numpy)."""
        d = np.asarray(d, dtype=np.float64)
        return np.exp(-self._exponent_coefficient() * (d if self.reading == "d" else d * d))

    def _exponent_coefficient(self) -> float:
        """``c`` in ``K = exp(-c d)`` (reading ``"d"``) or ``K = exp(-c d^2)`` (the others)."""
        sigma = self.width
        return {"d": 1 / (2 * sigma), "d2": 1 / (2 * sigma**2), "inverse": sigma / 2}[self.reading]

    def cutoff_distance(self) -> float:
        """The distance beyond which ``K < SKIP_BELOW`` (``inf`` when that is beyond π/2)."""
        x = -math.log(SKIP_BELOW) / self._exponent_coefficient()
        d = x if self.reading == "d" else math.sqrt(x)
        return d if d < math.pi / 2 else math.inf

    def pairwise(self, z: Complex[Array, "N n"], w: Complex[Array, "M n"] | None = None) -> Float[np.ndarray, "N M"]:
        """The dense ``(N, M)`` matrix ``K(z_a, w_b)`` by the direct formula (``w = z`` if omitted).

        Distances come from :func:`numerics.cy.distance.fs_distance_matrix` (accurate to O(eps)
        everywhere, thresholded by (3.4)), then ``exp`` of the reading.  For small inputs and references.
        """
        d = np.asarray(fs_distance_matrix(_points(z, "z"), None if w is None else _points(w, "w"), threshold=self.threshold))
        return self.profile(d)


@dataclass(frozen=True)
class DeltaKernel:
    """The Delta ('nearest neighbour') kernel of section 3.2.3.

    A test point ``y`` takes the update of its nearest train point in the FS distance (3.2):
    :math:`K(y, x_j) = 1` if ``j`` is the nearest train index (the first one on exact ties), else 0.
    On the train points themselves :math:`K(x_i, x_j) = \\delta_{ij}` — ``pairwise(z)`` and
    ``apply_kernel(..., same_points=True)`` — even when the train set holds duplicates.
    """

    def pairwise(self, z: Complex[Array, "N n"], w: Complex[Array, "M n"] | None = None) -> Float[np.ndarray, "N M"]:
        """The one-hot ``(N, M)`` nearest-neighbour matrix; the identity when ``w`` is omitted."""
        z = _points(z, "z")
        if w is None:
            return np.eye(z.shape[0])
        idx = nearest_indices(z, w)
        k = np.zeros((z.shape[0], np.asarray(w).shape[0]))
        k[np.arange(z.shape[0]), idx] = 1.0
        return k


@dataclass(frozen=True)
class ProfileKernel:
    r"""A kernel :math:`K(x, x') = f(d_{FS}(x, x'))` of any profile ``f`` given as a sympy expression in ``d``.

    The way a frozen kernel of the symbolic layer enters the flow (3.5): e.g. a Gaussian family
    member derived in :mod:`flowtheory.ntk`, written in the FS distance.  ``f`` is compiled with
    ``sympy.lambdify`` (jax); on each tile the distance is evaluated exactly (the wedge form of
    :mod:`numerics.cy.distance`) and thresholded by (3.4).  Nothing is skipped: every pair is
    evaluated.

    Attributes:
        expression: ``f`` as text or a sympy expression in the symbol ``d`` only.
        threshold: as :class:`GaussianKernel`.

    Raises:
        InvalidParameterError: an expression that does not parse, or has other free symbols.
    """

    expression: Any
    threshold: float | None = None

    def __post_init__(self):
        import sympy as sp

        try:
            expr = sp.sympify(self.expression, locals={"d": sp.Symbol("d")}) if isinstance(self.expression, str) else sp.sympify(self.expression)
        except (sp.SympifyError, TypeError, SyntaxError) as exc:
            raise InvalidParameterError(f"cannot read the profile {self.expression!r}: {exc}") from None
        extra = sorted(str(x) for x in expr.free_symbols if str(x) != "d")
        if extra:
            raise InvalidParameterError(f"the profile may depend on d only, not on {', '.join(extra)}")
        object.__setattr__(self, "expression", expr)
        object.__setattr__(self, "threshold", _resolve_threshold(self.threshold))

    def profile(self, d):
        """``f(d)`` (numpy or jax arrays)."""
        return _compiled_profile(self.expression)(d)

    def pairwise(self, z: Complex[Array, "N n"], w: Complex[Array, "M n"] | None = None) -> Float[np.ndarray, "N M"]:
        """The dense ``(N, M)`` matrix ``f(d)`` (for small inputs and references)."""
        d = fs_distance_matrix(_points(z, "z"), None if w is None else _points(w, "w"), threshold=self.threshold)
        return np.asarray(self.profile(jnp.asarray(d)), dtype=np.float64) * np.ones_like(np.asarray(d))


@lru_cache(maxsize=None)
def _compiled_profile(expression):
    import sympy as sp

    return sp.lambdify(sp.Symbol("d"), expression, modules="jax")


@dataclass(frozen=True)
class ReluNtkKernel:
    r"""The infinite-width NTK of a one-hidden-layer ReLU network (section 3.2.1) on the 10 real inputs.

    The network is neural-tangents'
    ``stax.serial(Dense(W, W_std=σ_w, b_std=σ_b), Relu(), Dense(1, W_std=σ_w, b_std=σ_b))`` in NTK
    parameterisation, on :math:`x = (\mathrm{Re}\,z, \mathrm{Im}\,z) \in \mathbb{R}^{10}` (section 3.1),
    :math:`d_0 = 10`.  It is a function of the representative ``z``, not of the projective point:
    apply it to the patch-scaled coordinates :mod:`numerics.cy.sampling` returns.

    Derivation.  Layer 1, :math:`h = \sigma_w W x/\sqrt{d_0} + \sigma_b b` with standard normal
    ``W, b``: its covariance over the initialisation is
    :math:`\Sigma(x,x') = a\,x\cdot x' + b`, :math:`a = \sigma_w^2/d_0`, :math:`b = \sigma_b^2`, and its
    tangent kernel (gradients with respect to ``W`` and ``b``) is the same, :math:`\Theta_1 = \Sigma`.
    With :math:`(u, v) \sim \mathcal{N}(0, [[\Sigma_{xx}, \Sigma_{xx'}], [\Sigma_{xx'}, \Sigma_{x'x'}]])`
    and :math:`\cos\theta = \Sigma_{xx'}/\sqrt{\Sigma_{xx}\Sigma_{x'x'}}`, the arc-cosine kernels of
    order 1 and 0 (Cho & Saul 2009) are

    .. math::
        \mathbb{E}[\mathrm{relu}(u)\mathrm{relu}(v)] = \frac{\sqrt{\Sigma_{xx}\Sigma_{x'x'}}}{2\pi}
            (\sin\theta + (\pi-\theta)\cos\theta), \qquad
        \mathbb{E}[\mathrm{relu}'(u)\mathrm{relu}'(v)] = \frac{\pi - \theta}{2\pi}

    (write :math:`u = \sqrt{\Sigma_{xx}}\,r\cos\phi`, :math:`v = \sqrt{\Sigma_{x'x'}}\,r\cos(\phi-\theta)`
    in polar coordinates of a standard normal pair; the integrand is supported on the arc where both
    cosines are positive, of length :math:`\pi - \theta`, and :math:`\int_0^\infty r^3e^{-r^2/2}dr = 2`,
    :math:`\int_0^\infty re^{-r^2/2}dr = 1`).  The output layer, in NTK parameterisation, gives
    :math:`\Theta = \sigma_w^2\,\mathbb{E}[\mathrm{relu}\,\mathrm{relu}] + \sigma_b^2 +
    \sigma_w^2\,\mathbb{E}[\mathrm{relu}'\mathrm{relu}']\,\Theta_1`: the first two terms from its own
    ``W, b``, the last from the first layer's parameters through the hidden units.  With
    :math:`\sqrt{\Sigma_{xx}\Sigma_{x'x'}}\sin\theta = \sqrt{D}`,
    :math:`D = \Sigma_{xx}\Sigma_{x'x'} - \Sigma_{xx'}^2`,

    .. math::
        \Theta(x, x') = \frac{\sigma_w^2}{2\pi}\Big(\sqrt{D} + 2(\pi - \theta)\,\Sigma_{xx'}\Big)
            + \sigma_b^2, \qquad \theta = \operatorname{atan2}(\sqrt{D}, \Sigma_{xx'}).

    Numerics.  :math:`\Sigma_{xx'} = X\cdot X'` for the augmented inputs
    :math:`X = (\sqrt a\,x, \sqrt b) \in \mathbb{R}^{11}`, so θ is the angle between ``X`` and ``X'``.
    ``arccos`` of :math:`\Sigma_{xx'}/\sqrt{\Sigma_{xx}\Sigma_{x'x'}}` (and ``D`` from the Gram
    matrix) loses half the digits near θ = 0, where the paper's σ_b makes every pair lie
    (θ ≲ 0.05 at Table 1's values; an error of 1 ulp in the cosine is 2e-8 in θ, 5e-9 relative in Θ).
    With :math:`p = |\hat X - \hat X'|`, :math:`q = |\hat X + \hat X'|` of the unit vectors, computed as
    norms of differences, :math:`\theta = 2\operatorname{atan2}(p, q)`, :math:`\sin\theta = pq/2`,
    :math:`\cos\theta = (q^2 - p^2)/4`, and

    .. math::
        \Theta(x, x') = \frac{\sigma_w^2|X||X'|}{2\pi}\big(\sin\theta + 2(\pi - \theta)\cos\theta\big)
            + \sigma_b^2

    to a few ulp for every pair, identical ones included.  ``tests/test_cy_kernels.py`` checks it
    against ``neural_tangents``' ``kernel_fn(x1, x2, 'ntk')``.

    Attributes:
        sigma_w: > 0, finite (Table 1: 5.716).
        sigma_b: >= 0, finite (Table 1: 80.52).

    Raises:
        InvalidParameterError: a non-finite, negative (or zero ``sigma_w``) parameter.
    """

    sigma_w: float
    sigma_b: float

    def __post_init__(self):
        object.__setattr__(self, "sigma_w", _positive_finite(self.sigma_w, "sigma_w"))
        object.__setattr__(self, "sigma_b", _positive_finite(self.sigma_b, "sigma_b", allow_zero=True))

    @classmethod
    def paper(cls) -> "ReluNtkKernel":
        """Table 1's ReLU NTK: σ_w = 5.716, σ_b = 80.52."""
        return cls(5.716, 80.52)

    @staticmethod
    def features(z: Complex[Array, "N n"]) -> Float[np.ndarray, "N 2n"]:
        """The real inputs ``(Re z, Im z)`` of section 3.1."""
        z = _points(z, "z")
        return np.concatenate([z.real, z.imag], axis=1)

    def augmented(self, z: Complex[Array, "N n"]) -> tuple[Float[np.ndarray, "N 11"], Float[np.ndarray, " N"]]:
        """Unit augmented inputs :math:`\\hat X` and norms :math:`|X|` (class docstring) of the points ``z``.

        Raises:
            InvalidParameterError: points that do not have 5 coordinates (10 real inputs).
        """
        x = self.features(z)
        if x.shape[1] != NTK_INPUTS:
            raise InvalidParameterError(f"the ReLU NTK takes points of P^4 ({NTK_INPUTS} real inputs), got {x.shape[1]} real inputs")
        big = np.concatenate([self.sigma_w / math.sqrt(NTK_INPUTS) * x, np.full((x.shape[0], 1), self.sigma_b)], axis=1)
        norm = np.linalg.norm(big, axis=1)
        return big / norm[:, None], norm

    def _from_unit(self, xo, no, xi, ni, xp):
        """Θ between unit augmented inputs ``xo`` (with norms ``no``) and ``xi`` (``ni``)."""
        diff = xo[:, None, :] - xi[None, :, :]
        summ = xo[:, None, :] + xi[None, :, :]
        p2, q2 = xp.sum(diff * diff, axis=-1), xp.sum(summ * summ, axis=-1)
        p, q = xp.sqrt(p2), xp.sqrt(q2)
        theta = 2.0 * xp.arctan2(p, q)
        shape = 0.5 * p * q + 0.5 * (math.pi - theta) * (q2 - p2)
        return self.sigma_w**2 / (2 * math.pi) * (no[:, None] * ni[None, :]) * shape + self.sigma_b**2

    def pairwise(self, z: Complex[Array, "N n"], w: Complex[Array, "M n"] | None = None) -> Float[np.ndarray, "N M"]:
        """The dense ``(N, M)`` NTK matrix (``w = z`` if omitted), numpy, in row chunks.

        Raises:
            InvalidParameterError: points that do not have 5 coordinates (10 real inputs).
        """
        xo, no = self.augmented(_points(z, "z"))
        xi, ni = (xo, no) if w is None else self.augmented(_points(w, "w"))
        rows = max(1, 2**21 // xi.shape[0])
        return np.concatenate([self._from_unit(xo[i : i + rows], no[i : i + rows], xi, ni, np) for i in range(0, xo.shape[0], rows)])


Kernel = Union[GaussianKernel, DeltaKernel, ReluNtkKernel, ProfileKernel]


# --------------------------------------------------------------------------- Gaussian tile evaluation


KERNEL_NAMES = ("gaussian", "delta", "relu-ntk")


def kernel_from(name: str, *, width: float | None = None, reading: str = "inverse",
                sigma_w: float | None = None, sigma_b: float | None = None) -> "Kernel":
    """The kernel ``name`` of :data:`KERNEL_NAMES` with its parameters (those another kernel takes are ignored).

    Raises:
        InvalidParameterError: an unknown name, or a parameter the kernel needs missing or invalid.
    """
    if name not in KERNEL_NAMES:
        raise InvalidParameterError(f"unknown kernel {name!r}; choose one of {KERNEL_NAMES}")
    needed = {"gaussian": {"width": width}, "delta": {}, "relu-ntk": {"sigma_w": sigma_w, "sigma_b": sigma_b}}[name]
    missing = [key for key, value in needed.items() if value is None]
    if missing:
        raise InvalidParameterError(f"the {name} kernel needs {', '.join(missing)}")
    if name == "gaussian":
        return GaussianKernel(width=width, reading=reading)
    if name == "delta":
        return DeltaKernel()
    return ReluNtkKernel(sigma_w=sigma_w, sigma_b=sigma_b)


class _GaussianPlan(NamedTuple):
    """What a tile of a Gaussian kernel needs, fixed per kernel (see the module docstring)."""

    u_cut: float  # pairs (and tiles) with u < u_cut have K < SKIP_BELOW; -1: none
    upper: bool  # some d > pi/4 is needed: evaluate through x = min(s, u) and sqrt
    series: tuple[float, ...]  # Taylor coefficients of B(x) = arcsin(sqrt x)/sqrt x
    s_refine: float  # tiles with a pair of s below this (d < pi/4) are recomputed with the exact wedge form,
    u_refine: float  # and so are tiles with a pair of u below this (d > pi/4)


def _series_coefficients(n_terms: int) -> np.ndarray:
    """The first ``n_terms`` Taylor coefficients ``binom(2n, n) / (4^n (2n+1))`` of B(x)."""
    n = np.arange(n_terms)
    central = np.concatenate([[1.0], np.cumprod((2 * n[1:] - 1) / (2 * n[1:]))])  # binom(2n, n)/4^n
    return central / (2 * n + 1)


def _series_length(kernel: GaussianKernel, x_max: float, upper: bool) -> int:
    """Fewest terms of B for which ``|K'(d)| * delta_d <= SERIES_TOL`` wherever the series is used.

    A relative error ``r`` of B moves ``d`` (or ``pi/2 - d`` in the upper region) by ``r`` times
    itself; the remainder after ``N`` terms is at most ``c_N x^N / (1 - x)`` (positive, decreasing
    coefficients).  The weight ``|K'(d)|`` makes far pairs, where ``K`` is tiny, need few terms.
    """
    x = np.geomspace(1e-30, x_max, 4000)
    a = np.arcsin(np.sqrt(x))
    c = kernel._exponent_coefficient()
    weights = []
    for d, arm in ([(a, a)] if not upper else [(a, a), (math.pi / 2 - a, a)]):
        dk_dd = c * kernel.profile(d) * (1.0 if kernel.reading == "d" else 2 * d)
        weights.append(dk_dd * arm / (a / np.sqrt(x)))  # |K'(d)| * |arm| / B(x)
    weight = np.max(weights, axis=0) / (1 - x)
    coeffs = _series_coefficients(MAX_SERIES_TERMS + 1)
    for n_terms in range(1, MAX_SERIES_TERMS + 1):
        if np.max(weight * coeffs[n_terms] * x**n_terms) <= SERIES_TOL:
            return n_terms
    return MAX_SERIES_TERMS + 1  # not reached for x_max <= 1/2 (there 40 terms suffice for any kernel)


@lru_cache(maxsize=None)
def _gaussian_plan(kernel: GaussianKernel) -> _GaussianPlan:
    d_cut = kernel.cutoff_distance()
    # Lower region only (x = s up to sin^2 d_cut) when that is no longer than both regions (x <= 1/2).
    n_two = _series_length(kernel, 0.5, upper=True)
    n_low = _series_length(kernel, math.sin(d_cut) ** 2, upper=False) if d_cut < math.pi / 2 else MAX_SERIES_TERMS + 1
    upper = n_low > n_two + (1 if kernel.reading == "d" else 4)  # the two regions cost a sqrt and a select
    # |dK/ds| = |dK/du| = |K'(d)| / sin(2d): where it times S_ERROR exceeds REFINE_TOL, s (for
    # d <= pi/4) or u (for d > pi/4) must be exact.  Both ends are resolved on geometric grids.
    ends = np.geomspace(1e-12, math.pi / 4, 4001)
    d = np.concatenate([ends, math.pi / 2 - ends[::-1]])
    d = d[d < d_cut]
    c = kernel._exponent_coefficient()
    dk_dd = c * kernel.profile(d) * (1.0 if kernel.reading == "d" else 2 * d)
    sensitive = dk_dd / np.sin(2 * d) * S_ERROR > REFINE_TOL
    low, high = d[sensitive & (d <= math.pi / 4)], d[sensitive & (d > math.pi / 4)]
    s_refine = 0.0 if low.size == 0 else math.sin(min(1.05 * low.max(), math.pi / 4)) ** 2
    u_refine = 0.0 if high.size == 0 else math.sin(min(1.05 * (math.pi / 2 - high.min()), math.pi / 4)) ** 2
    u_cut = math.cos(d_cut) ** 2 if math.isfinite(d_cut) else -1.0
    series = tuple(float(c) for c in _series_coefficients(n_two if upper else n_low))
    return _GaussianPlan(u_cut, upper, series, s_refine, u_refine)


def _horner(coeffs, x):
    r = jnp.full_like(x, coeffs[-1])
    for c in coeffs[-2::-1]:
        r = r * x + c
    return r


#: exp(-r) on |r| <= ln(2)/2: Taylor to order 13 (remainder 4e-18 relative).
_EXP_TAYLOR = tuple((-1.0) ** n / math.factorial(n) for n in range(14))
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10  # fdlibm's split of ln 2


def _exp_neg(y):
    """``exp(-y)`` for ``0 <= y <= 700``, to about 2 ulp, vectorisable (XLA's float64 ``exp`` is a
    scalar call per element on CPU, several times slower).  Cody–Waite reduction
    ``y = k ln 2 + r``, ``|r| <= ln(2)/2`` (``k ln2_hi`` is exact), a Taylor polynomial for
    ``exp(-r)``, and ``2^-k`` built from its exponent bits."""
    k = jnp.floor(y * (1 / math.log(2)) + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    bits = (1023 - k.astype(jnp.int64)) << 52
    return _horner(_EXP_TAYLOR, r) * jax.lax.bitcast_convert_type(bits, jnp.float64)


def _gaussian_values(kernel: GaussianKernel, plan: _GaussianPlan, s, u):
    """K from ``s = sin^2 d`` and ``u = cos^2 d`` on a tile (module docstring), thresholded by (3.4)."""
    c, t = kernel._exponent_coefficient(), kernel.threshold
    if plan.upper:
        x = jnp.clip(jnp.minimum(s, u), 0.0, 0.5)
        a = jnp.sqrt(x) * _horner(plan.series, x)
        d = jnp.where(s <= u, a, math.pi / 2 - a)
        d = jnp.where(d < t, 0.0, d)
        y = c * (d if kernel.reading == "d" else d * d)
    else:
        x = jnp.clip(s, 0.0, 1.0)
        b = _horner(plan.series, x)
        if kernel.reading == "d":
            d = jnp.sqrt(x) * b
            y = c * jnp.where(d < t, 0.0, d)
        else:
            d2 = x * b * b
            y = c * jnp.where(d2 < t * t, 0.0, d2)
    k = _exp_neg(jnp.minimum(y, EXP_ARGUMENT_MAX))
    return k if plan.u_cut < 0 else jnp.where(u < plan.u_cut, 0.0, k)


def _gaussian_tile(kernel: GaussianKernel, out_data, in_data, products, zeros):
    """``products(K)`` on one tile: ``zeros`` when every pair is beyond the cutoff; ``s`` and ``u``
    recomputed exactly (wedge form) when a pair is where their rounding would matter."""
    plan = _gaussian_plan(kernel)
    (eo, zo), (ei, zi) = out_data, in_data
    u = eo @ ei.T

    def evaluate(u):
        s = 1.0 - u
        if plan.s_refine > 0 or plan.u_refine > 0:

            def exact(_):
                wedge2, dot = _wedge_and_dot(zo[:, None, :], zi[None, :, :])
                norm = wedge2 + dot * dot
                return wedge2 / norm, dot * dot / norm

            near = (jnp.min(s) < plan.s_refine) | (jnp.min(u) < plan.u_refine)
            s, u = jax.lax.cond(near, exact, lambda _: (s, u), None)
        return products(_gaussian_values(kernel, plan, s, u))

    if plan.u_cut < 0:
        return evaluate(u)
    return jax.lax.cond(jnp.max(u) < plan.u_cut, lambda _: zeros, evaluate, u)


def _tile(kernel, out_data, in_data, products, zeros):
    """``products(K)`` for the ``K`` tile between two blocks of points (Gaussian: maybe skipped)."""
    if isinstance(kernel, GaussianKernel):
        return _gaussian_tile(kernel, out_data, in_data, products, zeros)
    if isinstance(kernel, ProfileKernel):
        (_, zo), (_, zi) = out_data, in_data
        wedge2, dot = _wedge_and_dot(zo[:, None, :], zi[None, :, :])
        d = jnp.arctan2(jnp.sqrt(wedge2), dot)
        return products(kernel.profile(jnp.where(d < kernel.threshold, 0.0, d)) * jnp.ones_like(d))
    (xo, no), (xi, ni) = out_data, in_data
    return products(kernel._from_unit(xo, no, xi, ni, jnp))


def _blocks(tree, block: int):
    return jax.tree_util.tree_map(lambda a: a.reshape(-1, block, *a.shape[1:]), tree)


def _mesh(devices: tuple) -> Mesh:
    """A one-axis mesh ``"points"`` over ``devices`` (all of ``jax.devices()`` by default)."""
    return Mesh(np.array(devices), ("points",))


@partial(jax.jit, static_argnames=("kernel", "block", "devices"))
def _tiled_apply(kernel, out_data, in_data, values, block: int, devices: tuple):
    """``sum_b K(a, b) values[b]`` over ``block x block`` tiles (inputs padded to whole blocks):
    the out-blocks are split over ``devices`` (``shard_map`` on a ``"points"`` mesh), each device
    runs ``lax.map`` over its out-blocks and ``lax.scan`` over all in-blocks (replicated)."""
    zeros = jnp.zeros((block, values.shape[1]), values.dtype)

    def local(out_local, in_data, values):
        def one_out_block(ob):
            def body(acc, inputs):
                ib, vb = inputs
                return acc + _tile(kernel, ob, ib, lambda k: k @ vb, zeros), None

            return jax.lax.scan(body, zeros, (_blocks(in_data, block), _blocks(values, block)))[0]

        return jax.lax.map(one_out_block, _blocks(out_local, block)).reshape(-1, values.shape[1])

    sharded = shard_map(local, _mesh(devices), in_specs=(P("points"), P(), P()), out_specs=P("points"), check_rep=False)
    return sharded(out_data, in_data, values)


@partial(jax.jit, static_argnames=("kernel", "block", "devices"))
def _tiled_apply_symmetric(kernel, data, values, block: int, devices: tuple):
    """As :func:`_tiled_apply` with ``z_out = z_in``, using ``K(a, b) = K(b, a)``: each tile
    ``i <= j`` is evaluated once and applied to both blocks (``K v_j`` to ``i``, ``K^T v_i`` to ``j``).
    The tile pairs are split over ``devices``; each accumulates its pairs into the whole output and
    the partial outputs are summed (``psum``)."""
    blocks, v = _blocks(data, block), _blocks(values, block)
    n = v.shape[0]
    i, j = np.triu_indices(n)
    extra = -len(i) % len(devices)  # pad the pair list to whole shares with pairs that add nothing
    live = np.concatenate([np.ones(len(i)), np.zeros(extra)])
    i, j = np.concatenate([i, np.zeros(extra, int)]), np.concatenate([j, np.zeros(extra, int)])
    zeros = jnp.zeros((block, values.shape[1]), values.dtype)

    def local(i, j, live, blocks, v):
        def body(out, ijl):
            a, b, alive = ijl
            pick = lambda k: jax.tree_util.tree_map(lambda x: x[k], blocks)  # noqa: E731
            to_a, to_b = _tile(kernel, pick(a), pick(b), lambda k: (k @ v[b], k.T @ v[a]), (zeros, zeros))
            out = out.at[a].add(alive * to_a)
            return out.at[b].add(jnp.where(a == b, 0.0, alive * to_b)), None

        out, _ = jax.lax.scan(body, jnp.zeros_like(v), (i, j, live))
        return jax.lax.psum(out, "points")

    sharded = shard_map(local, _mesh(devices), in_specs=(P("points"), P("points"), P("points"), P(), P()), out_specs=P(), check_rep=False)
    return sharded(jnp.asarray(i), jnp.asarray(j), jnp.asarray(live, values.dtype), blocks, v).reshape(-1, values.shape[1])


def _tile_inputs(kernel, z: np.ndarray):
    if isinstance(kernel, (GaussianKernel, ProfileKernel)):
        return (projector_embedding(z), np.asarray(_rescale(jnp.asarray(z))))
    return kernel.augmented(z)


def _pad(a: np.ndarray, n: int, fill: str) -> np.ndarray:
    """Pad the leading axis to length ``n``: by repeating the last row (``"edge"``) or with zeros."""
    extra = n - a.shape[0]
    if extra == 0:
        return a
    tail = np.repeat(a[-1:], extra, axis=0) if fill == "edge" else np.zeros((extra, *a.shape[1:]), a.dtype)
    return np.concatenate([a, tail])


# ------------------------------------------------------------------------------ nearest neighbours


@partial(jax.jit, static_argnames=("block",))
def _best_two_overlaps(eo, ei, block: int):
    """Per query row: index of the largest overlap ``e_a . e_b`` and its gap to the second largest."""
    cols = jnp.arange(ei.shape[0])

    def one_block(eb):
        u = eb @ ei.T
        best = jnp.argmax(u, axis=1)
        top = jnp.take_along_axis(u, best[:, None], axis=1)[:, 0]
        second = jnp.max(jnp.where(cols[None, :] == best[:, None], -jnp.inf, u), axis=1)
        return best, top - second

    best, gap = jax.lax.map(one_block, eo.reshape(-1, block, eo.shape[1]))
    return best.reshape(-1), gap.reshape(-1)


def nearest_indices(z_out: Complex[Array, "N n"], z_in: Complex[Array, "M n"], *, block: int = 256) -> Int[np.ndarray, " N"]:
    """For each point of ``z_out``, the index of its FS-nearest point (3.2) in ``z_in`` (first on ties).

    Row blocks of the overlap matrix ``u = cos^2 d`` (one matrix product of projector embeddings,
    as :func:`numerics.cy.distance.nearest_neighbour_distances`) keep each row's largest overlap and
    its gap to the second; memory is ``O(block * M)``.  Rows whose gap is below :data:`TIE_GAP`
    (near-ties, where the rounding of ``u`` could pick the wrong one) are decided again with exact
    distances (:func:`numerics.cy.distance.fs_distance`, thresholded by (3.4)); distances within
    :data:`TIE_DISTANCE` of the smallest are ties, and ties go to the smallest index.

    Raises:
        EmptyInputError, NonFiniteError, InvalidParameterError: as :func:`apply_kernel`.
    """
    z_out, z_in = _points(z_out, "z_out"), _points(z_in, "z_in")
    _require_same_dimension(z_out, z_in)
    block = min(_require_block(block), z_out.shape[0])
    n_out = z_out.shape[0]
    eo = _pad(projector_embedding(z_out), -(-n_out // block) * block, "edge")
    if z_in.shape[0] == 1:
        return np.zeros(n_out, dtype=np.int64)
    best, gap = (np.asarray(a)[:n_out] for a in _best_two_overlaps(jnp.asarray(eo), jnp.asarray(projector_embedding(z_in)), block))
    best = best.astype(np.int64)
    ties = np.flatnonzero(gap < TIE_GAP)
    chunk = max(1, 2**22 // z_in.shape[0])
    for start in range(0, ties.size, chunk):
        rows = ties[start : start + chunk]
        d = np.asarray(fs_distance(z_out[rows][:, None, :], z_in[None, :, :]))
        best[rows] = np.argmax(d <= d.min(axis=1, keepdims=True) + TIE_DISTANCE, axis=1)
    return best


# ----------------------------------------------------------------------------------- spatial order


def spatial_order(z: Complex[Array, "N n"], leaf: int = 256) -> Int[np.ndarray, " N"]:
    """A permutation that makes runs of ``leaf`` consecutive points spatially coherent.

    Recursive principal-axis bisection in the projector embedding (whose Euclidean distance
    ``sqrt(2) sin d`` increases with the FS distance): each set larger than ``leaf`` is split at the
    median of its projection on its direction of largest variance.  ``O(N log N)``, numpy.

    Raises:
        EmptyInputError, NonFiniteError, InvalidParameterError: bad points or ``leaf < 1``.
    """
    e = projector_embedding(_points(z, "z"))
    leaf = _require_block(leaf, "leaf")
    order = np.arange(e.shape[0])
    stack = [(0, e.shape[0])]
    while stack:
        lo, hi = stack.pop()
        if hi - lo <= leaf:
            continue
        idx = order[lo:hi]
        x = e[idx] - e[idx].mean(axis=0)
        axis = np.linalg.eigh(x.T @ x)[1][:, -1]
        mid = (hi - lo) // 2
        order[lo:hi] = idx[np.argpartition(x @ axis, mid)]
        stack += [(lo, lo + mid), (lo + mid, hi)]
    return order


# ------------------------------------------------------------------------------------- application


def _require_block(block, name: str = "block") -> int:
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {block!r}")
    return int(block)


def _require_same_dimension(z_out: np.ndarray, z_in: np.ndarray) -> None:
    if z_out.shape[1] != z_in.shape[1]:
        raise InvalidParameterError(f"z_out and z_in have {z_out.shape[1]} and {z_in.shape[1]} coordinates")


def _require_kernel(kernel) -> None:
    if not isinstance(kernel, (GaussianKernel, DeltaKernel, ReluNtkKernel, ProfileKernel)):
        raise InvalidParameterError(f"kernel must be a GaussianKernel, DeltaKernel, ReluNtkKernel or ProfileKernel, got {type(kernel).__name__}")


def _check_values(values, n_in: int) -> np.ndarray:
    v = np.asarray(values)
    if v.ndim < 1 or v.shape[0] != n_in:
        raise InvalidParameterError(f"values must have shape (N_in, ...) with N_in = {n_in} (the number of z_in points), got {v.shape}")
    require_nonempty(v.size, "values", "entries")
    if not np.issubdtype(v.dtype, np.number):
        raise InvalidParameterError(f"values must be numeric, got dtype {v.dtype}")
    require_finite(v, "values")
    return v


def apply_kernel(
    kernel: Kernel,
    z_out: Complex[Array, "N n"],
    z_in: Complex[Array, "M n"],
    values: Array,
    *,
    block: int = 256,
    same_points: bool = False,
    order: str | None = None,
    devices=None,
) -> np.ndarray:
    r"""Matrix-free :math:`\mathrm{out}[x] = \sum_{x'} K(x, x')\,\mathrm{values}[x']`, the sum of (3.5).

    Gaussian and ReLU NTK: ``block x block`` tiles (module docstring); memory
    ``O(block^2 + N_out * F)`` with ``F`` the size of one value, never the ``N_out x N_in`` matrix.
    Delta: ``values[nearest_indices(z_out, z_in)]``, or ``values`` itself when ``same_points``.

    Args:
        kernel: a :data:`Kernel`.
        z_out: ``(N_out, n)`` points where the sum is wanted (test points, or the train points).
        z_in: ``(N_in, n)`` points carrying the values (the train points).
        values: ``(N_in, ...)`` real or complex values, e.g. ``(N_in, 3, 3)`` metric gradients.
        block: tile side (working memory about ``8 * block^2 * 3`` bytes per tile).
        same_points: ``z_out`` is ``z_in`` (train on train); it must then equal ``z_in``.  For the
            Delta kernel this gives ``values`` itself, :math:`K(x_i, x_j) = \delta_{ij}`; for the
            others each tile pair ``(i, j), (j, i)`` is evaluated once (about half the work).
        order: ``None`` (points as given) or ``"spatial"``: tiles of points sorted by
            :func:`spatial_order`, so that more Gaussian tiles lie beyond the cutoff and are skipped
            (same result up to rounding).
        devices: the devices the tiles are split over (``None``: all of ``jax.devices()``): the
            out-blocks (or, with ``same_points``, the tile pairs) are shared out with ``jax.sharding``
            (``shard_map`` on a one-axis mesh).  One code path for one device or many; on several
            hosts after ``jax.distributed.initialize()`` ``jax.devices()`` spans all of them.

    Returns:
        ``(N_out, ...)`` numpy array of ``values``' dtype (float64 or complex128).

    Raises:
        EmptyInputError: no points or no values.
        NonFiniteError: NaN or infinity in points or values.
        InvalidParameterError: an unknown kernel, points that are not ``(N, n)`` or have different
            ``n``, a zero vector, ``values`` whose leading axis is not ``N_in``, ``block < 1``,
            an unknown ``order``, ``same_points`` with different point sets.
    """
    _require_kernel(kernel)
    z_out, z_in = _points(z_out, "z_out"), _points(z_in, "z_in")
    _require_same_dimension(z_out, z_in)
    v = _check_values(values, z_in.shape[0])
    block = _require_block(block)
    if order not in (None, "spatial"):
        raise InvalidParameterError(f"order must be None or 'spatial', got {order!r}")
    if same_points and not (z_out.shape == z_in.shape and np.array_equal(z_out, z_in)):
        raise InvalidParameterError("same_points=True needs z_out equal to z_in")
    if isinstance(kernel, DeltaKernel):
        return v.copy() if same_points else v[nearest_indices(z_out, z_in, block=block)]

    n_out, n_in = z_out.shape[0], z_in.shape[0]
    perm_out = spatial_order(z_out, block) if order == "spatial" else np.arange(n_out)
    perm_in = perm_out if same_points else (spatial_order(z_in, block) if order == "spatial" else np.arange(n_in))
    is_complex = np.iscomplexobj(v)
    flat = v.reshape(n_in, -1)[perm_in]
    flat = np.concatenate([flat.real, flat.imag], axis=1) if is_complex else flat.astype(np.float64)
    block = min(block, max(n_out, n_in))
    devices = tuple(jax.devices()) if devices is None else tuple(devices)
    if not devices:
        raise InvalidParameterError("devices must name at least one device")
    share = block * len(devices)
    pad_out, pad_in = -(-n_out // share) * share, -(-n_in // block) * block
    in_data = tuple(jnp.asarray(_pad(a, pad_in, "edge")) for a in _tile_inputs(kernel, z_in[perm_in]))
    flat = jnp.asarray(_pad(flat, pad_in, "zeros"))
    if same_points:
        out = np.asarray(_tiled_apply_symmetric(kernel, in_data, flat, block, devices))[:n_out]
    else:
        out_data = tuple(jnp.asarray(_pad(a, pad_out, "edge")) for a in _tile_inputs(kernel, z_out[perm_out]))
        out = np.asarray(_tiled_apply(kernel, out_data, in_data, flat, block, devices))[:n_out]
    if is_complex:
        half = out.shape[1] // 2
        out = out[:, :half] + 1j * out[:, half:]
    result = np.empty_like(out)
    result[perm_out] = out
    return result.reshape(n_out, *v.shape[1:])


def dense_reference(kernel: Kernel, z_out: Complex[Array, "N n"], z_in: Complex[Array, "M n"], values: Array) -> np.ndarray:
    """The straightforward dense computation ``kernel.pairwise(z_out, z_in) @ values`` (numpy), for
    tests and benchmarks.  Forms the ``N_out x N_in`` matrix.  Raises as :func:`apply_kernel`."""
    _require_kernel(kernel)
    z_out, z_in = _points(z_out, "z_out"), _points(z_in, "z_in")
    _require_same_dimension(z_out, z_in)
    v = _check_values(values, z_in.shape[0])
    k = kernel.pairwise(z_out, z_in)
    return np.tensordot(k, v, axes=(1, 0))
