"""Fubini–Study pullback, Ω, integration weights, κ, η and the σ-measure (B.10–B.11).

Conventions (stated once, used throughout ``numerics.cy``):

* Kähler form and metric: :math:`J = i\\, g_{a\\bar b}\\, dx^a \\wedge d\\bar x^b`.  The ambient
  Fubini–Study form is :math:`J_{FS} = \\tfrac{i}{2\\pi}\\partial\\bar\\partial \\ln|z|^2`, i.e.
  :math:`g^{FS}_{\\mu\\bar\\nu} = \\tfrac{1}{2\\pi}\\partial_\\mu\\bar\\partial_\\nu \\ln|z|^2
  = \\tfrac{1}{2\\pi}\\big(\\delta_{\\mu\\nu}/|z|^2 - \\bar z_\\mu z_\\nu/|z|^4\\big)`, normalised so
  that :math:`\\int_{\\mathbb{P}^1} J_{FS} = 1`.  Then :math:`\\int_X J_{FS}^n = \\deg X`
  (5 for the quintic) and the Fubini–Study volume is :math:`\\mathrm{Vol}_{FS} = \\deg X / n!`.
* Volume forms, with :math:`d^{2n}x` the Lebesgue measure of the real and imaginary parts of the
  local coordinates: :math:`J^n/n! = \\det g\\; 2^n d^{2n}x` and
  :math:`i^{n^2}\\,\\Omega\\wedge\\bar\\Omega = |\\Omega|^2\\, 2^n d^{2n}x`, with
  :math:`\\Omega = dx^1\\wedge\\cdots\\wedge dx^n/(\\partial p/\\partial z_j)` (the residue of the
  ambient form, globally defined on a Calabi–Yau, so :math:`\\det g/|\\Omega|^2` is a chart-independent
  scalar).
* Weights.  Points from random lines have density :math:`(J_{FS}^n/n!)/\\mathrm{Vol}_{FS}`
  (:mod:`numerics.cy.sampling`), so with :math:`w = |\\Omega|^2/\\det g_{FS}` (the ratio of the two
  volume forms above)
  :math:`\\int_X f\\, |\\Omega|^2 2^n d^{2n}x = \\mathrm{Vol}_{FS}\\, \\mathbb{E}[f w]`.
* :math:`\\kappa = \\mathrm{vol}_g/\\mathrm{vol}_\\Omega = \\int \\det g / \\int |\\Omega|^2`
  (B.10 read as :math:`J^n/n! = \\kappa\\, i^{n^2}\\Omega\\wedge\\bar\\Omega` in volume), estimated as
  :math:`\\sum w r/\\sum w` with :math:`r = \\det g/|\\Omega|^2`; then
  :math:`\\eta = r/\\kappa` has weighted mean exactly 1 and the σ-measure (B.11) is
  :math:`\\sigma = \\sum w |1 - \\eta| / \\sum w`, the :math:`|\\Omega|^2`-average of :math:`|1-\\eta|`.
  σ does not depend on the normalisation of ``g`` or ``Ω``.

Standard errors are delta-method (influence-function) errors of these ratio estimators, with the
points of one sampling line as a cluster (they are not independent): for an estimator with
influence values :math:`\\psi_i`, :math:`\\mathrm{SE}^2 = \\sum_{\\text{lines }c}
(\\sum_{i\\in c}\\psi_i)^2 / N^2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float, Int

from flowtheory.errors import EmptyInputError, InvalidParameterError, NonFiniteError, NotPositiveDefiniteError
from flowtheory.reprs import html_table, plus_minus
from numerics.checks import require_finite, require_nonempty, require_weights
from numerics.cy.hypersurface import Hypersurface
from numerics.cy.patches import Chart, chart, embedding_jacobian

#: Normalisation of the Fubini–Study potential: K = FS_SCALE * ln|z|^2, J = i dd̄K.
FS_SCALE = 1.0 / (2.0 * math.pi)


def fs_metric(c: Chart) -> Complex[Array, "N n n"]:
    r"""The Fubini–Study metric pulled back to the chart: :math:`g = J G J^\dagger` (``N, n, n``).

    :math:`G_{\mu\bar\nu} = \tfrac{1}{2\pi}(\delta_{\mu\nu}/|z|^2 - \bar z_\mu z_\nu/|z|^4)` and
    ``J`` the embedding Jacobian (:func:`numerics.cy.patches.embedding_jacobian`); Hermitian
    positive definite.
    """
    norm2 = jnp.sum(jnp.abs(c.z) ** 2, axis=-1)[:, None, None]
    jac = embedding_jacobian(c)
    jz = jnp.einsum("nam,nm->na", jac, jnp.conj(c.z))
    gram = jnp.einsum("nam,nbm->nab", jac, jnp.conj(jac))
    return FS_SCALE * (gram / norm2 - jz[:, :, None] * jnp.conj(jz)[:, None, :] / norm2**2)


def fs_det(c: Chart) -> Float[Array, " N"]:
    r""":math:`\det g_{FS}` of :func:`fs_metric` in closed form, ``O(m)`` per point.

    With :math:`J_a = e_{k_a} + v_a e_j`, :math:`v_a = -\partial_{k_a}p/\partial_j p`, one has
    :math:`JJ^\dagger = 1 + vv^\dagger` and :math:`g = \tfrac{1}{2\pi|z|^2}(JJ^\dagger - uu^\dagger/|z|^2)`
    with :math:`u = J\bar z`, so by the matrix-determinant lemma

    .. math::

        \det g = \Big(\frac{1}{2\pi|z|^2}\Big)^n \Big[(1+|v|^2)\Big(1-\frac{|u|^2}{|z|^2}\Big)
                  + \frac{|v^\dagger u|^2}{|z|^2}\Big]

    (checked against the determinant of :func:`fs_metric` in the tests).
    """
    m = c.z.shape[-1]
    free = ~(jax.nn.one_hot(c.patch, m, dtype=bool) | jax.nn.one_hot(c.eliminated, m, dtype=bool))
    dp_j = jnp.take_along_axis(c.dp, c.eliminated[:, None], axis=-1)
    z_j = jnp.take_along_axis(c.z, c.eliminated[:, None], axis=-1)
    v = jnp.where(free, -c.dp / dp_j, 0.0)
    u = jnp.where(free, jnp.conj(c.z) + v * jnp.conj(z_j), 0.0)
    norm2 = jnp.sum(jnp.abs(c.z) ** 2, axis=-1)
    v2 = jnp.sum(jnp.abs(v) ** 2, axis=-1)
    u2 = jnp.sum(jnp.abs(u) ** 2, axis=-1)
    vu2 = jnp.abs(jnp.sum(jnp.conj(v) * u, axis=-1)) ** 2
    return (FS_SCALE / norm2) ** (m - 2) * ((1.0 + v2) * (1.0 - u2 / norm2) + vu2 / norm2)


def omega_squared(c: Chart) -> Float[Array, " N"]:
    """:math:`|\\Omega|^2 = 1/|\\partial p/\\partial z_j|^2` in the chart (patch-scaled ``z``)."""
    dp_j = jnp.take_along_axis(c.dp, c.eliminated[:, None], axis=-1)[:, 0]
    return 1.0 / jnp.abs(dp_j) ** 2


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class PointData:
    """Everything the σ-measure needs at each point, in the point's chart.

    Attributes:
        chart: the chart (:class:`numerics.cy.patches.Chart`); :func:`fs_metric` of it is the
            pulled-back Fubini–Study metric.
        det_fs: ``(N,)`` the determinant of that metric.
        omega2: ``(N,)`` :math:`|\\Omega|^2`.
        weights: ``(N,)`` :math:`w = |\\Omega|^2/\\det g_{FS}` (sampling density -> Ω measure).
    """

    chart: Chart
    det_fs: Float[Array, " N"]
    omega2: Float[Array, " N"]
    weights: Float[Array, " N"]


@jax.jit
def _measure(c: Chart) -> PointData:
    det = fs_det(c)
    omega2 = omega_squared(c)
    return PointData(c, det, omega2, omega2 / det)


def point_data(surface: Hypersurface, z, patch=None, eliminated=None, tolerance: float | None = None) -> PointData:
    """Validated :class:`PointData` of points ``z`` (``(N, m)``), in default or forced charts
    (``tolerance``: the on-surface test, as in :func:`numerics.cy.patches.chart`).

    One pass: :func:`numerics.cy.patches.chart` evaluates :math:`\\partial p` once, and the
    determinant, :math:`|\\Omega|^2` and the weights are computed from that chart.

    Raises:
        OffManifoldError, NonFiniteError, InvalidParameterError, SingularManifoldError: via
            :func:`numerics.cy.patches.chart`.
        NotPositiveDefiniteError: a pulled-back metric with non-positive determinant (degenerate chart).
    """
    data = _measure(chart(surface, z, patch, eliminated, tolerance))
    if not bool(jnp.all(jnp.isfinite(data.weights) & jnp.isfinite(data.det_fs))):
        raise NonFiniteError("non-finite weights: the chart does not cover some points")
    if not bool(jnp.all(data.det_fs > 0)):
        raise NotPositiveDefiniteError("pulled-back Fubini–Study metric not positive definite at some point")
    return data


def fs_volume(surface: Hypersurface) -> float:
    """Exact Fubini–Study volume :math:`\\int_X J_{FS}^n/n! = \\deg X/n!` (``J_FS`` normalised as above)."""
    return surface.degree / math.factorial(surface.dim)


@dataclass(frozen=True)
class SigmaResult:
    """The σ-measure of a metric on a point sample, with standard errors (module docstring).

    Attributes:
        sigma, sigma_stderr: the σ-measure (B.11) and its standard error.
        kappa, kappa_stderr: :math:`\\kappa = \\mathrm{vol}_g/\\mathrm{vol}_\\Omega`.
        volume, volume_stderr: :math:`\\int_X J_g^n` (the intersection number ``deg X`` for FS).
        volume_omega, volume_omega_stderr: :math:`\\int_X |\\Omega|^2\\, 2^n d^{2n}x`.
        n_points: sample size.
    """

    sigma: float
    sigma_stderr: float
    kappa: float
    kappa_stderr: float
    volume: float
    volume_stderr: float
    volume_omega: float
    volume_omega_stderr: float
    n_points: int

    def _repr_html_(self) -> str:
        """Notebook display: the estimates with their standard errors (:mod:`flowtheory.reprs`)."""
        rows = [
            ("σ (B.11), dimensionless", plus_minus(self.sigma, self.sigma_stderr)),
            ("κ = vol_g / vol_Ω", plus_minus(self.kappa, self.kappa_stderr)),
            ("vol_g = ∫ J_g^n", plus_minus(self.volume, self.volume_stderr)),
            ("vol_Ω = ∫ |Ω|² 2ⁿ d²ⁿx", plus_minus(self.volume_omega, self.volume_omega_stderr)),
            ("points", self.n_points),
        ]
        return html_table(rows, caption=f"σ-measure on {self.n_points} points")


def clustered_stderr(influence: Float[Array, " N"], clusters: Int[Array, " N"] | None) -> float:
    """Standard error of a mean-type estimator from its influence values, lines as clusters.

    Raises:
        InvalidParameterError: ``influence`` not 1-d, or ``clusters`` not integer labels of its shape.
        EmptyInputError: no influence values.
        NonFiniteError: NaN or infinity in ``influence``.
    """
    influence = jnp.asarray(influence)
    if influence.ndim != 1:
        raise InvalidParameterError(f"influence must be 1-d, got shape {influence.shape}")
    n_pts = influence.shape[0]
    require_nonempty(n_pts, "influence", "values")
    require_finite(influence, "influence")
    if clusters is not None:
        clusters = jnp.asarray(clusters)
        if clusters.shape != influence.shape or not jnp.issubdtype(clusters.dtype, jnp.integer):
            raise InvalidParameterError(f"clusters must be integer labels of shape {influence.shape}, got {clusters.dtype} of shape {clusters.shape}")
        influence = jax.ops.segment_sum(influence, clusters - clusters.min(), num_segments=int(clusters.max() - clusters.min()) + 1)
    return float(jnp.sqrt(jnp.sum(influence**2)) / n_pts)


def sigma_measure(
    surface: Hypersurface,
    weights: Float[Array, " N"],
    det_g: Float[Array, " N"],
    omega2: Float[Array, " N"],
    clusters: Int[Array, " N"] | None = None,
    region: tuple[float, float] = (1.0, 0.0),
) -> SigmaResult:
    """σ-measure (B.11), κ and volumes of a metric with determinant ``det_g`` (same chart as ``omega2``).

    Args:
        surface: the hypersurface (for the exact Fubini–Study volume of the sampling measure).
        weights: :math:`w = |\\Omega|^2/\\det g_{FS}` of the sampled points.
        det_g: determinant of the metric to test, in each point's chart.
        omega2: :math:`|\\Omega|^2` in the same chart.
        clusters: line index of each point (``PointSample.line_ids``); ``None`` treats points as independent.
        region: ``(fraction, stderr)`` of the Fubini–Study volume that the sample covers — ``(1, 0)``
            for a sample of all of X; for a chart-selected sample its acceptance rate.  The volumes
            are then those of the region (σ and κ are averages over it and need no correction).

    Raises:
        NonFiniteError: a non-finite input.
        NotPositiveDefiniteError: ``det_g <= 0`` somewhere (``g`` is not a metric there).
        EmptyInputError: an empty sample.
        InvalidParameterError: mismatched shapes (``clusters`` too), a negative weight (it would
            give a negative volume), ``omega2 <= 0``, a ``region`` fraction outside ``(0, 1]`` or a
            negative region stderr.
        DegenerateInputError: every weight is 0 (the weighted means have no normalisation).
    """
    w, det_g, omega2 = (jnp.asarray(x, dtype=jnp.float64) for x in (weights, det_g, omega2))
    if not (w.ndim == 1 and w.shape == det_g.shape == omega2.shape):
        raise InvalidParameterError(f"weights, det_g and omega2 must be equal-length 1-d arrays, got {w.shape}, {det_g.shape}, {omega2.shape}")
    require_nonempty(w.shape[0], "weights")
    for name, value in (("weights", w), ("det_g", det_g), ("omega2", omega2)):
        require_finite(value, name)
    require_weights(w, "weights")
    if not bool(jnp.all(det_g > 0)):
        raise NotPositiveDefiniteError(f"det g <= 0 at {int(jnp.sum(~(det_g > 0)))} point(s)")
    if not bool(jnp.all(omega2 > 0)):
        raise InvalidParameterError(f"omega2 = |Omega|^2 must be > 0, got {int(jnp.sum(~(omega2 > 0)))} non-positive value(s)")
    if clusters is not None and np.shape(clusters) != w.shape:
        raise InvalidParameterError(f"clusters must have the shape {w.shape} of weights, got {np.shape(clusters)}")
    fraction, fraction_se = (float(x) for x in region)
    if not (0 < fraction <= 1 and math.isfinite(fraction_se) and fraction_se >= 0):
        raise InvalidParameterError(f"region must be (fraction in (0, 1], stderr >= 0), got {region}")
    values = sigma_terms(w, det_g / omega2)
    vol = fs_volume(surface) * fraction
    n_fact = math.factorial(surface.dim)
    (sigma, kappa, mean_w, mean_wr), (if_sigma, if_kappa, if_w, if_wr) = values
    se = partial(clustered_stderr, clusters=clusters)
    return SigmaResult(
        sigma=float(sigma),
        sigma_stderr=se(if_sigma),
        kappa=float(kappa),
        kappa_stderr=se(if_kappa),
        volume=float(n_fact * vol * mean_wr),
        volume_stderr=n_fact * vol * math.hypot(se(if_wr), float(mean_wr) * fraction_se / fraction),
        volume_omega=float(vol * mean_w),
        volume_omega_stderr=vol * math.hypot(se(if_w), float(mean_w) * fraction_se / fraction),
        n_points=int(w.shape[0]),
    )


@jax.jit
def sigma_terms(w, r):
    """Estimates (σ, κ, mean w, mean w r) of (B.11) from weights ``w`` and ratios ``r = det g/|Ω|²``,
    and their influence values (delta method); jit-traceable (the kernel flow's σ per step)."""
    mean_w = jnp.mean(w)
    mean_wr = jnp.mean(w * r)
    kappa = mean_wr / mean_w
    eta = r / kappa
    dev = jnp.abs(1.0 - eta)
    sigma = jnp.mean(w * dev) / mean_w
    if_kappa = (w * r - kappa * w) / mean_w
    dsigma_dkappa = jnp.mean(w * jnp.sign(1.0 - eta) * eta / kappa) / mean_w
    if_sigma = (w * dev - sigma * w) / mean_w + dsigma_dkappa * if_kappa
    return (sigma, kappa, mean_w, mean_wr), (if_sigma, if_kappa, w - mean_w, w * r - mean_wr)


def eta(weights: Float[Array, " N"], det_g: Float[Array, " N"], omega2: Float[Array, " N"]) -> Float[Array, " N"]:
    """:math:`\\eta = \\det g/(\\kappa|\\Omega|^2)` (B.11) with κ fixed by the sample (weighted mean of η = 1).

    Raises:
        InvalidParameterError: the three arrays are not 1-d of one length; a negative weight.
        EmptyInputError: no points.
        NonFiniteError: NaN or infinity (concrete input).
        DegenerateInputError: every weight is 0 (κ is undefined).
    """
    weights, det_g, omega2 = jnp.asarray(weights), jnp.asarray(det_g), jnp.asarray(omega2)
    if not (weights.ndim == 1 and weights.shape == det_g.shape == omega2.shape):
        raise InvalidParameterError(f"weights, det_g and omega2 must be equal-length 1-d arrays, got {weights.shape}, {det_g.shape}, {omega2.shape}")
    require_nonempty(weights.shape[0], "weights")
    require_finite(det_g, "det_g")
    require_finite(omega2, "omega2")
    require_weights(weights, "weights")
    r = det_g / omega2
    return r * jnp.sum(weights) / jnp.sum(weights * r)


def sample_region(sample) -> tuple[float, float]:
    """``(fraction, stderr)`` of the FS volume a sample covers: 1 for all of X, else its acceptance rate
    (:func:`numerics.cy.sampling.sample_in_chart`).  The candidates come in lines of ``d`` correlated
    points, which inflates the binomial variance by at most ``d``: the error uses that bound.

    Raises:
        EmptyInputError: a chart-selected sample that examined no candidates.
    """
    if sample.n_candidates == 0:
        raise EmptyInputError("the sample examined no candidate points (n_candidates = 0): its region is undefined")
    rate = sample.acceptance_rate
    if rate is None:
        return (1.0, 0.0)
    return (rate, math.sqrt(sample.surface.degree * rate * (1 - rate) / sample.n_candidates))


def fs_sigma(sample) -> SigmaResult:
    """σ-measure of the Fubini–Study metric on a :class:`numerics.cy.sampling.PointSample`."""
    data = point_data(sample.surface, sample.points)
    return sigma_measure(sample.surface, data.weights, data.det_fs, data.omega2, np.asarray(sample.line_ids), sample_region(sample))


def polydisc_integrals(surface: Hypersurface, n: int, key: Array) -> dict[str, tuple[float, float]]:
    r"""Independent Monte-Carlo of :math:`\int_X J_{FS}^n` and :math:`\int_X |\Omega|^2 2^n d^{2n}x`
    on a Fermat hypersurface, without random lines or weights: ``{"volume": (value, stderr),
    "volume_omega": (value, stderr)}``.

    In the chart (patch 0, eliminated 1) the local coordinates are drawn uniformly in the unit
    polydisc (density :math:`\pi^{-n}`) and ``z_1`` runs over the ``d`` roots of
    :math:`z_1^d = -(1 + \sum x^d)`; a root counts when the default chart rule picks (0, 1) there.
    The default charts tile X, and the permutation symmetry of the Fermat equation (which preserves
    FS and :math:`|\Omega|^2`) makes all ``m (m-1)`` charts contribute equally.  This is the check
    of the sampling density and the weights (:func:`fs_sigma` must agree with it).

    Raises:
        InvalidParameterError: ``surface`` is not a Fermat hypersurface (``psi != 0`` or ``d != m``),
            or ``n`` is not an integer >= 2 (the standard error needs two draws).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise InvalidParameterError(f"the number of draws n must be an integer >= 2, got {n!r}")
    if surface.deformed or not surface.is_calabi_yau:
        raise InvalidParameterError("the polydisc integration uses the permutation symmetry of a Fermat Calabi–Yau")
    m, d, n_loc = surface.n_ambient, surface.degree, surface.dim
    kr, kt = jax.random.split(key)
    x = jnp.sqrt(jax.random.uniform(kr, (n, n_loc))) * jnp.exp(2j * jnp.pi * jax.random.uniform(kt, (n, n_loc)))
    rhs = -(1.0 + jnp.sum(x**d, axis=-1))
    root = jnp.abs(rhs) ** (1.0 / d) * jnp.exp(1j * jnp.angle(rhs) / d)
    z1 = root[:, None] * jnp.exp(2j * jnp.pi * jnp.arange(d) / d)
    z = jnp.concatenate([jnp.ones((n, d, 1)), z1[..., None], jnp.broadcast_to(x[:, None, :], (n, d, n_loc))], axis=-1).reshape(-1, m)
    data = point_data(surface, z)
    inside = (data.chart.patch == 0) & (data.chart.eliminated == 1)
    scale = math.pi**n_loc * m * (m - 1) * 2**n_loc
    out = {}
    for name, density in (("volume", math.factorial(n_loc) * data.det_fs), ("volume_omega", data.omega2)):
        per_draw = jnp.where(inside, density, 0.0).reshape(n, d).sum(axis=1) * scale
        out[name] = (float(jnp.mean(per_draw)), float(jnp.std(per_draw) / math.sqrt(n)))
    return out
