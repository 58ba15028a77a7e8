r"""Numeric σ→0 limit of the rescaled Gaussian family (2.28)–(2.29) on a curved chart.

For the family of :func:`flowtheory.ntk.gaussian_family` this module evaluates

.. math::

    I_\sigma[f](x) = \int d^dx' \sqrt{\tilde g(x')}\, \bar\Theta_\sigma(x,x')\, f(x')
    \;\xrightarrow{\sigma\to 0}\; \bar\Omega(x) f(x) + O(\sigma^2),

(the right side of (2.30) with f = δl/δg_ij) by quadrature in a chart, and measures the rate.

Quadrature: the integrand is a Gaussian of width σ times a smooth function, so it is integrated on
a window x + [−Lσ, Lσ]^d (default L = 10) with the n-point trapezoid rule per axis.  The truncation
error is ≲ e^{−L²/2} (≈ 2e-22 for L = 10) relative, and the trapezoid error for a Gaussian of width
σ on spacing h = 2Lσ/(n−1) is ≲ e^{−2π²σ²/h²} (≈ e^{−196} for n = 64): both far below the O(σ²)
effect at every σ, because the window scales with σ.  On a periodic chart (the torus) the
Gaussian lives on the universal cover R^d; images of the window contribute ≲ e^{−π²/(2σ²)}.

Charts are sympy data (:class:`SurfaceChart`: coordinates and reference metric g̃); det g̃ is derived by
sympy and every integrand is compiled with :func:`flowtheory.bridge.to_jax`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from jaxtyping import Array, Float

from flowtheory.bridge import to_jax
import math

from flowtheory.errors import InvalidParameterError
from numerics.checks import require_finite, require_nonempty
from flowtheory.ntk import GaussianFamily, gaussian_family, local_limit
from numerics.stats import fit_loglog_slope

__all__ = ["SurfaceChart", "donut_torus", "round_sphere_stereographic", "quadrature_smear", "SigmaLimitStudy", "sigma_limit_study"]


@dataclass(frozen=True)
class SurfaceChart:
    """A coordinate chart of a surface with a reference metric g̃ (sympy matrix in ``coords``).

    The σ → 0 quadrature runs in it; not to be confused with a patch of a Calabi–Yau
    hypersurface (:class:`numerics.cy.patches.Chart`).
    """

    name: str
    coords: tuple[sp.Symbol, ...]
    metric: sp.ImmutableMatrix

    @property
    def metric_det(self) -> sp.Expr:
        """det g̃ (derived, not typed)."""
        return self.metric.det()

    def family(self, alpha: sp.Expr, sigma: sp.Symbol | None = None) -> GaussianFamily:
        """The rescaled Gaussian family (2.28) on this chart with ᾱ(x,x') = ``alpha``."""
        sigma = sigma if sigma is not None else sp.Symbol("sigma", positive=True)
        return gaussian_family(self.coords, sigma, self.metric_det, alpha)


def donut_torus(R: int | sp.Rational = 2, r: int | sp.Rational = 1) -> SurfaceChart:
    """The embedded torus in R³ in angles (u, v): g̃ = diag((R + r cos v)², r²), det g̃ = r²(R + r cos v)²."""
    u, v = sp.symbols("u v", real=True)
    return SurfaceChart("donut torus", (u, v), sp.ImmutableMatrix([[(R + r * sp.cos(v)) ** 2, 0], [0, r**2]]))


def round_sphere_stereographic(radius: int | sp.Rational = 1) -> SurfaceChart:
    """The round S² of radius a in stereographic coordinates (y1, y2): g̃ = 4a²/(1+|y|²)² δ."""
    y1, y2 = sp.symbols("y1 y2", real=True)
    conf = 4 * sp.S(radius) ** 2 / (1 + y1**2 + y2**2) ** 2
    return SurfaceChart("round sphere (stereographic)", (y1, y2), sp.ImmutableMatrix([[conf, 0], [0, conf]]))


@lru_cache(maxsize=64)
def _compiled_integrand(family: GaussianFamily, f: sp.Expr, rescaled: bool):
    if not isinstance(family.sigma, sp.Symbol):
        raise InvalidParameterError("the family's sigma must be a symbol for numeric evaluation")
    expr = family.flow_integrand(f, rescaled=rescaled)
    return to_jax(expr, (*family.x, *family.xp, family.sigma))


def _window(d: int, n: int, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (n^d, d) of the unit window [−L, L]^d and trapezoid weights (n^d,) (without σ^d)."""
    t = np.linspace(-half_width, half_width, n)
    h = t[1] - t[0]
    w1 = np.full(n, h)
    w1[[0, -1]] = h / 2
    grids = np.meshgrid(*([t] * d), indexing="ij")
    weights = np.ones([n] * d)
    for ax in range(d):
        shape = [1] * d
        shape[ax] = n
        weights = weights * w1.reshape(shape)
    return np.stack([g.ravel() for g in grids], axis=1), weights.ravel()


def quadrature_smear(
    family: GaussianFamily,
    f: sp.Expr,
    points: Float[Array, "m d"],
    sigma: float,
    *,
    rescaled: bool = True,
    n: int = 64,
    half_width: float = 10.0,
) -> Float[Array, " m"]:
    r"""I_σ[f](x) = ∫ d^dx' √g̃(x') Θ̄_σ(x,x') f(x') at each row of ``points`` (the right side of (2.30)).

    ``f`` is a sympy expression in ``family.xp``; ``rescaled=False`` uses the kernel (2.27) without
    the (g̃g̃')^{−1/4} factors.  Window quadrature as in the module docstring, in any chart of a
    curved surface; on a flat periodic grid the same smearing is a Fourier multiplier
    (:func:`numerics.grid.smearing.gaussian_smear`).

    Raises:
        InvalidParameterError: σ ≤ 0 or not finite, n < 8 or a window half-width < 6 or not finite
            (truncation above 1e-8); ``points`` not of shape ``(m, family.dim)``.
        EmptyInputError: no ``points``.
        NonFiniteError: ``points`` with NaN or infinity.
    """
    if not (math.isfinite(sigma) and sigma > 0):
        raise InvalidParameterError(f"sigma must be positive and finite, got {sigma}")
    if n < 8 or not (math.isfinite(half_width) and half_width >= 6):
        raise InvalidParameterError(f"quadrature too coarse: n={n}, half_width={half_width}")
    if np.ndim(points) != 2 or np.shape(points)[1] != family.dim:
        raise InvalidParameterError(f"points must have shape (m, {family.dim}), got shape {np.shape(points)}")
    require_nonempty(np.shape(points)[0], "points")
    require_finite(points, "points")
    fn = _compiled_integrand(family, sp.sympify(f), rescaled)
    d = family.dim
    offsets, weights = _window(d, n, half_width)
    offsets = jnp.asarray(offsets) * sigma
    weights = jnp.asarray(weights) * sigma**d
    return _quadrature_jit(fn.fn, d)(jnp.asarray(points, dtype=float), offsets, weights, jnp.asarray(sigma, dtype=float))


@lru_cache(maxsize=64)
def _quadrature_jit(fn, d: int):
    def at_point(x, offsets, weights, sigma):
        xp = x[None, :] + offsets
        vals = jax.vmap(lambda q: fn(*[x[a] for a in range(d)], *[q[a] for a in range(d)], sigma))(xp)
        return jnp.sum(weights * vals)

    return jax.jit(jax.vmap(at_point, in_axes=(0, None, None, None)))


@dataclass(frozen=True)
class SigmaLimitStudy:
    """Result of :func:`sigma_limit_study` (arrays are numpy, shapes stated).

    Attributes:
        sigmas: (s,) the widths.
        points: (m, d) the external points x.
        values: (s, m) I_σ[f](x).
        target: (m,) Ω̄(x) f(x), the claimed limit (2.29).
        errors: (s, m) |values − target|.
        slopes: (m,) fitted log-log slope of errors against σ per point (expected 2 for the rescaled
            family).
        sigma2_predicted: (m,) the symbolic σ² coefficient of :func:`flowtheory.ntk.local_limit`.
        sigma2_fitted: (m,) the σ² coefficient fitted as values − target = C σ² + D σ⁴.
        ratio: (m,) values/target at the smallest σ (→ 1 rescaled; → √g̃(x) un-rescaled).
        sqrt_det: (m,) √g̃(x).
    """

    sigmas: np.ndarray
    points: np.ndarray
    values: np.ndarray
    target: np.ndarray
    errors: np.ndarray
    slopes: np.ndarray
    sigma2_predicted: np.ndarray
    sigma2_fitted: np.ndarray
    ratio: np.ndarray
    sqrt_det: np.ndarray


def _eval_at(expr: sp.Expr, coords, points: np.ndarray) -> np.ndarray:
    fn = to_jax(expr, coords)
    return np.asarray(jax.vmap(lambda p: fn(*[p[a] for a in range(len(coords))]))(jnp.asarray(points)))


def sigma_limit_study(
    family: GaussianFamily,
    f: sp.Expr,
    points: Float[Array, "m d"],
    sigmas: Float[Array, " s"],
    *,
    rescaled: bool = True,
    n: int = 64,
    half_width: float = 10.0,
) -> SigmaLimitStudy:
    r"""Integrate Θ̄_σ against f dV_g̃ for each σ and compare with Ω̄(x) f(x) (2.29).

    ``f`` is an expression in ``family.xp``.  The target is always Ω̄(x)f(x) (the claim of (2.29));
    with ``rescaled=False`` the study shows the un-rescaled kernel (2.27) missing it by √g̃(x).

    Raises:
        EmptyInputError: no ``sigmas``; see :func:`quadrature_smear` and
            :func:`numerics.stats.fit_loglog_slope` for the others.
    """
    points = np.asarray(points, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float)
    require_nonempty(sigmas.size, "sigmas", "widths")
    f = sp.sympify(f)
    values = np.stack([np.asarray(quadrature_smear(family, f, points, s, rescaled=rescaled, n=n, half_width=half_width)) for s in sigmas])
    x, xp = family.x, family.xp
    target = _eval_at(family.omega * f.subs(dict(zip(xp, x)), simultaneous=True), x, points)
    predicted = _eval_at(local_limit(family, f, rescaled=rescaled).sigma2, x, points)
    sqrt_det = _eval_at(sp.sqrt(family.ref_det), x, points)
    errors = np.abs(values - target[None, :])
    slopes = np.array([fit_loglog_slope(sigmas, errors[:, m]).slope for m in range(points.shape[0])])
    design = np.stack([sigmas**2, sigmas**4], axis=1)
    coef, *_ = np.linalg.lstsq(design, values - target[None, :], rcond=None)
    k = int(np.argmin(sigmas))
    return SigmaLimitStudy(
        sigmas=sigmas,
        points=points,
        values=values,
        target=target,
        errors=errors,
        slopes=slopes,
        sigma2_predicted=predicted,
        sigma2_fitted=coef[0],
        ratio=values[k] / target,
        sqrt_det=sqrt_det,
    )
