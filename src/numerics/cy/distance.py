"""Fubini–Study geodesic distances on :math:`\\mathbb{P}^n` (paper eq. 3.2, 3.4) and their
nearest-neighbour statistics (figure 3 right, eq. 3.7).

Convention.  The distance is the geodesic distance of the Fubini–Study metric
:math:`g_{a\\bar b} = \\partial_a \\partial_{\\bar b} \\log |z|^2` with line element
:math:`ds^2 = g_{a\\bar b}\\, dz^a d\\bar z^b` (``proofs/cy_distance.py``, ``cyd-fs-distance``), so that

.. math::

    d(z, z') = \\arccos \\frac{|z^\\dagger z'|}{|z|\\,|z'|} \\in [0, \\pi/2]
    \\qquad\\text{(3.2)},

the diameter of :math:`\\mathbb{P}^n` is :math:`\\pi/2`, a line :math:`\\mathbb{P}^1` is the round sphere
of radius 1/2 (the Bloch-sphere angle is :math:`\\theta = 2d`), and
:math:`\\mathrm{vol}(\\mathbb{P}^n) = \\pi^n / n!`.

Numerics.  (3.2) through ``arccos`` loses half the digits near :math:`d = 0`
(:math:`\\arccos(1-\\epsilon) \\simeq \\sqrt{2\\epsilon}`, eq. 3.4) and XLA's float64 ``arccos`` is slow.
We evaluate the equivalent, well-conditioned form

.. math::

    d(z, z') = \\operatorname{atan2}\\big(|z \\wedge z'|,\\; |z^\\dagger z'|\\big), \\qquad
    |z \\wedge z'|^2 = \\sum_{i<j} |z_i z'_j - z_j z'_i|^2 = |z|^2|z'|^2 - |z^\\dagger z'|^2

(Lagrange's identity), which needs no normalisation, is symmetric and scale invariant to
rounding, and has absolute error of order :math:`\\epsilon` everywhere (``cyd-fs-distance`` proves the
equivalence and checks the float64 values against a 50-digit mpmath reference).

Threshold (3.4).  Distances below ``threshold`` are set to 0.  The default,
:func:`default_threshold`, is :math:`\\sqrt{2\\epsilon}` of the dtype (2.1e-8 in float64): the smallest
distance the printed route (3.2) can resolve at all.  Our form leaves ``O(eps)`` on identical
points, far below it; the printed route in float64 leaves up to about twice :math:`\\sqrt{2\\epsilon}`
(``cyd-threshold``).  ``threshold=0`` switches it off.

The fit of (3.7) uses :func:`numerics.stats.fit_loglog_slope` on the means of
:func:`nearest_neighbour_statistics`; :func:`poisson_mean_nn_distance` is its asymptotic law.

Nearest neighbours.  :func:`nearest_neighbour_distances` scans row blocks with ``lax.map``; each
block forms the ``(block, N)`` matrix of :math:`c^2 = |u^\\dagger u'|^2` of normalised points as one
real matrix product in the projector embedding (:func:`projector_embedding`) and keeps the row
maximum, so memory is :math:`O(N \\cdot \\text{block})` and no
``N x N`` matrix ever exists.  The nearest-neighbour distance is a decreasing function of the
largest :math:`c^2`; rows whose nearest neighbour is closer than ``refine_below`` (where the
:math:`c^2` route is ill-conditioned) are recomputed exactly with the wedge form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from flowtheory.errors import InvalidParameterError
from numerics.checks import require_finite, require_nonempty

__all__ = [
    "NearestNeighbourStatistics",
    "apply_threshold",
    "default_threshold",
    "fs_distance",
    "fs_distance_matrix",
    "nearest_neighbour_distances",
    "nearest_neighbour_statistics",
    "poisson_mean_nn_distance",
    "projector_embedding",
]


def default_threshold(dtype=jnp.float64) -> float:
    """:math:`\\sqrt{2\\epsilon}` of ``dtype``: the resolution of (3.2) near 0, by (3.4).

    ``arccos(1 - eps) ~ sqrt(2 eps)``: a distance below this is indistinguishable from 0 in the
    printed formula, so (3.4) sets it to 0.  2.1e-8 for float64, 4.9e-4 for float32.
    """
    return math.sqrt(2.0 * float(jnp.finfo(dtype).eps))


def _resolve_threshold(threshold: float | None) -> float:
    if threshold is None:
        return default_threshold()
    threshold = float(threshold)
    if not (math.isfinite(threshold) and threshold >= 0.0):
        raise InvalidParameterError(f"threshold must be a finite number >= 0, got {threshold}")
    return threshold


def apply_threshold(d: Float[Array, "*batch"], threshold: float | None = None) -> Float[Array, "*batch"]:
    """Eq. (3.4): distances below ``threshold`` (default :func:`default_threshold`) become 0."""
    t = _resolve_threshold(threshold)
    return jnp.where(d < t, jnp.zeros_like(d), d)


def _check_points(z, name: str = "z") -> np.ndarray:
    """Homogeneous coordinates, last axis: finite, at least 2 of them, no zero vector, at least one point."""
    arr = np.asarray(z)
    if arr.ndim < 1 or arr.shape[-1] < 2:
        raise InvalidParameterError(f"{name} must hold homogeneous coordinates on its last axis (>= 2 of them), got shape {arr.shape}")
    require_nonempty(math.prod(arr.shape[:-1]), name)
    if not np.issubdtype(arr.dtype, np.number):
        raise InvalidParameterError(f"{name} must be numeric, got dtype {arr.dtype}")
    require_finite(arr, name)
    if np.any(np.max(np.abs(arr), axis=-1) == 0):
        raise InvalidParameterError(f"{name} contains the zero vector, which is not a point of projective space")
    return arr.astype(np.complex128)


def _rescale(z: Complex[Array, "*batch n"]) -> Complex[Array, "*batch n"]:
    """Divide each point by its largest |coordinate| (same projective point; guards overflow)."""
    return z / jnp.max(jnp.abs(z), axis=-1, keepdims=True)


def _wedge_and_dot(z: Complex[Array, "*a n"], w: Complex[Array, "*a n"]):
    """``(|z ^ w|^2, |z^dagger w|)``, broadcasting over leading axes (an unrolled fused loop over i<j)."""
    n = z.shape[-1]
    wedge2 = jnp.zeros(jnp.broadcast_shapes(z.shape[:-1], w.shape[:-1]), dtype=jnp.float64)
    for i in range(n):
        for j in range(i + 1, n):
            m = z[..., i] * w[..., j] - z[..., j] * w[..., i]
            wedge2 = wedge2 + (m.real * m.real + m.imag * m.imag)
    dot = jnp.abs(jnp.sum(jnp.conj(z) * w, axis=-1))
    return wedge2, dot


@jax.jit
def _fs_distance_raw(z, w):
    z, w = _rescale(z), _rescale(w)
    wedge2, dot = _wedge_and_dot(z, w)
    return jnp.arctan2(jnp.sqrt(wedge2), dot)


def fs_distance(
    z: Complex[Array, "*batch n"], w: Complex[Array, "*batch n"], *, threshold: float | None = None
) -> Float[Array, "*batch"]:
    """Fubini–Study geodesic distance (3.2) between points ``z`` and ``w`` of :math:`\\mathbb{P}^{n-1}`.

    Computed as ``atan2(|z ^ w|, |z^dagger w|)`` (see the module docstring), then thresholded by
    (3.4).  Invariant under ``z -> lambda z`` for any complex ``lambda != 0``; symmetric (to ~1
    ulp: the compiler may fuse multiply-adds differently for the two orders); in ``[0, pi/2]``.

    Args:
        z, w: homogeneous coordinates on the last axis; leading axes broadcast.
        threshold: distances below it are set to 0; ``None`` means :func:`default_threshold`,
            ``0`` disables the threshold.

    Returns:
        The distances, shape ``broadcast(z.shape[:-1], w.shape[:-1])``, float64.

    Raises:
        InvalidParameterError: a zero vector, mismatched or too few coordinates, bad threshold.
        EmptyInputError: ``z`` or ``w`` holds no point.
        NonFiniteError: NaN or infinity in the input.

    Example:
        Two coordinate lines at the angle π/4, and a point against a rescaled copy of itself:

        >>> import math
        >>> import jax.numpy as jnp
        >>> z = jnp.array([1, 0, 0, 0, 0], dtype=complex)
        >>> w = jnp.array([1, 1j, 0, 0, 0], dtype=complex)
        >>> math.isclose(float(fs_distance(z, w, threshold=0)), math.pi / 4, rel_tol=1e-15)
        True
        >>> float(fs_distance(w, (2 - 3j) * w))
        0.0
    """
    z, w = _check_points(z, "z"), _check_points(w, "w")
    if z.shape[-1] != w.shape[-1]:
        raise InvalidParameterError(f"z and w have {z.shape[-1]} and {w.shape[-1]} coordinates")
    return apply_threshold(_fs_distance_raw(jnp.asarray(z), jnp.asarray(w)), threshold)


@partial(jax.jit, static_argnames=("block",))
def _distance_matrix_blocks(z, w, block: int):
    z, w = _rescale(z), _rescale(w)
    rows = z.reshape(-1, block, z.shape[-1])

    def one_block(zb):
        wedge2, dot = _wedge_and_dot(zb[:, None, :], w[None, :, :])
        return jnp.arctan2(jnp.sqrt(wedge2), dot)

    return jax.lax.map(one_block, rows).reshape(-1, w.shape[0])


def fs_distance_matrix(
    z: Complex[Array, "N n"],
    w: Complex[Array, "M n"] | None = None,
    *,
    threshold: float | None = None,
    block: int = 128,
) -> Float[Array, "N M"]:
    """All pairwise FS distances ``D[a, b] = d(z_a, w_b)`` (``w = z`` if omitted), eq. (3.2)+(3.4).

    Row blocks of size ``block`` are computed with ``lax.map`` (working memory ``O(block * M)``);
    the result itself is ``N x M`` — for nearest neighbours of large samples use
    :func:`nearest_neighbour_distances`, which never forms it.  With ``w`` omitted the matrix is
    exactly symmetric, and its diagonal (``O(eps)`` before the threshold) is 0 unless ``threshold=0``.

    Raises:
        InvalidParameterError, EmptyInputError, NonFiniteError: as :func:`fs_distance`, and for
            arrays that are not ``(N, n)``, ``(M, n)`` or a ``block`` that is not a positive integer.
    """
    z = _check_points(z, "z")
    w = z if w is None else _check_points(w, "w")
    if z.ndim != 2 or w.ndim != 2 or z.shape[1] != w.shape[1]:
        raise InvalidParameterError(f"expected point arrays of shapes (N, n) and (M, n), got {z.shape} and {w.shape}")
    if not (isinstance(block, int) and block >= 1):
        raise InvalidParameterError(f"block must be a positive integer, got {block!r}")
    n_rows = z.shape[0]
    pad = (-n_rows) % block
    zp = np.concatenate([z, np.repeat(z[:1], pad, axis=0)]) if pad else z
    d = _distance_matrix_blocks(jnp.asarray(zp), jnp.asarray(w), block)[:n_rows]
    if w is z:
        d = 0.5 * (d + d.T)  # rounding (fused multiply-adds) breaks symmetry by ~1 ulp
    return apply_threshold(d, threshold)


def projector_embedding(z: Complex[Array, "N n"]) -> Float[Array, "N n*n"]:
    """Real coordinates of the projector ``P = u u^dagger`` (``u = z/|z|``), an embedding of P^(n-1) in R^(n^2).

    Columns: ``|u_i|^2`` (``n``), then ``sqrt(2) Re(conj(u_i) u_j)`` and ``sqrt(2) Im(conj(u_i) u_j)``
    for ``i < j``, so that ``e(z) . e(w) = tr(P Q) = |u^dagger v|^2 = cos^2 d(z, w)`` and the Euclidean
    distance ``|e(z) - e(w)| = sqrt(2) sin d(z, w)`` is an increasing function of the FS distance:
    Euclidean nearest neighbours in this embedding are FS nearest neighbours.

    Raises:
        InvalidParameterError, EmptyInputError, NonFiniteError: as :func:`fs_distance`.
    """
    z = _check_points(z, "z")
    u = z / np.linalg.norm(z, axis=-1, keepdims=True)
    i, j = np.triu_indices(u.shape[-1], 1)
    off = np.conj(u[..., i]) * u[..., j]
    return np.concatenate([np.abs(u) ** 2, math.sqrt(2) * off.real, math.sqrt(2) * off.imag], axis=-1)


@partial(jax.jit, static_argnames=("block",))
def _max_overlap_blocks(eq, e, offset, block: int):
    """Row maxima of ``c^2 = e_a . e_b`` (:func:`projector_embedding`) over ``b != a``, for the
    query rows ``eq`` (a chunk of whole blocks of the padded sample, starting at row ``offset``):
    one ``(block, n^2) @ (n^2, N)`` product per block, the own column set to -1.
    """
    et = e.T
    n_blocks = eq.shape[0] // block

    def one_block(i):
        c2 = jax.lax.dynamic_slice_in_dim(eq, i * block, block) @ et
        own = offset + i * block + jnp.arange(block)
        c2 = c2.at[jnp.arange(block), own].set(-1.0, mode="drop")  # padded rows: own >= N, dropped
        return jnp.max(c2, axis=1)

    return jax.lax.map(one_block, jnp.arange(n_blocks)).reshape(-1)


@partial(jax.jit, static_argnames=("block",))
def _exact_nn_blocks(z_all, rows, block: int):
    """Exact (wedge-form) nearest-neighbour distances of the points ``z_all[rows]``."""
    z_all = _rescale(z_all)
    idx = rows.reshape(-1, block)

    def one_block(r):
        wedge2, dot = _wedge_and_dot(z_all[r][:, None, :], z_all[None, :, :])
        d = jnp.arctan2(jnp.sqrt(wedge2), dot)
        d = jnp.where(r[:, None] == jnp.arange(z_all.shape[0])[None, :], jnp.inf, d)
        return jnp.min(d, axis=1)

    return jax.lax.map(one_block, idx).reshape(-1)


#: The row scan of :func:`nearest_neighbour_distances` runs in about this many compiled calls.
PROGRESS_CHUNKS = 16


def nearest_neighbour_distances(
    z: Complex[Array, "N n"],
    *,
    threshold: float | None = None,
    block: int = 128,
    refine_below: float = 1e-3,
    progress: bool = False,
) -> Float[Array, " N"]:
    """FS distance from each point to its nearest *other* point of the sample (figure 3 right).

    Memory is ``O(N * block)``: ``lax.map`` over row blocks of the overlap matrix, keeping only
    each row's maximum (see the module docstring).  The distance is
    ``atan2(sqrt(1 - c^2), c)`` of the largest overlap ``c^2``; its absolute error is
    ``~ n^2 eps / sin(2d)``, about 1e-12 at ``d = refine_below = 1e-3`` and less above.  Rows with ``d <=
    refine_below`` (duplicates, near-duplicates) are recomputed with the exact wedge form, so the
    result is accurate to ``O(eps)`` everywhere.  Thresholded by (3.4) at the end.

    Args:
        z: ``(N, n)`` homogeneous coordinates, ``N >= 2``.
        threshold: as in :func:`fs_distance`.
        block: rows per step (working memory ``~ 8 * N * block`` bytes per step).
        refine_below: distance below which a row is recomputed exactly.
        progress: show a progress bar (the scan runs in :data:`PROGRESS_CHUNKS` compiled calls).

    Returns:
        ``(N,)`` float64 nearest-neighbour distances.

    Raises:
        EmptyInputError: no points.
        InvalidParameterError: fewer than 2 points, a zero vector, bad ``block`` / ``refine_below`` / ``threshold``.
        NonFiniteError: NaN or infinity in ``z``.
    """
    from numerics.io.progress import progress_bar

    z = _check_points(z, "z")
    if z.ndim != 2 or z.shape[0] < 2:
        raise InvalidParameterError(f"need an (N, n) array with N >= 2 points, got shape {z.shape}")
    if not (isinstance(block, int) and block >= 1):
        raise InvalidParameterError(f"block must be a positive integer, got {block!r}")
    if not (math.isfinite(refine_below) and 0.0 <= refine_below < math.pi / 2):
        raise InvalidParameterError(f"refine_below must lie in [0, pi/2), got {refine_below}")
    t = _resolve_threshold(threshold)
    n_pts = z.shape[0]
    block = min(block, n_pts)
    e = projector_embedding(z)
    # Query rows go in chunks of whole blocks (one compiled call per chunk, for the progress bar);
    # padded rows repeat row 0 and their results are dropped.
    n_blocks = -(-n_pts // block)
    chunk = block * -(-n_blocks // PROGRESS_CHUNKS)
    pad = (-n_pts) % chunk
    eq = np.concatenate([e, np.repeat(e[:1], pad, axis=0)]) if pad else e
    e_dev = jnp.asarray(e)
    c2max = np.empty(eq.shape[0])
    with progress_bar("nearest neighbours", total=eq.shape[0] // chunk + 1, enabled=progress) as advance:
        for start in range(0, eq.shape[0], chunk):
            c2max[start : start + chunk] = np.asarray(_max_overlap_blocks(jnp.asarray(eq[start : start + chunk]), e_dev, start, block))
            advance()
        c2max = c2max[:n_pts]
        c2max = np.clip(c2max, 0.0, 1.0)
        d = np.arctan2(np.sqrt(1.0 - c2max), np.sqrt(c2max))
        close = np.flatnonzero(d <= refine_below)
        if close.size:
            b2 = min(64, close.size)
            rows = np.concatenate([close, np.repeat(close[:1], (-close.size) % b2)])
            d[close] = np.asarray(_exact_nn_blocks(jnp.asarray(z), jnp.asarray(rows), b2))[: close.size]
        advance()
    return apply_threshold(jnp.asarray(d), t)


@dataclass(frozen=True)
class NearestNeighbourStatistics:
    """Minimum, mean (with its standard error) and maximum of the nearest-neighbour distances."""

    n_points: int
    min: float
    mean: float
    mean_se: float
    max: float


def nearest_neighbour_statistics(
    z: Complex[Array, "N n"], *, threshold: float | None = None, block: int = 128, progress: bool = False
) -> NearestNeighbourStatistics:
    """min / mean / max over the sample of each point's nearest-neighbour FS distance (figure 3 right).

    ``mean_se`` is the plug-in standard error ``std / sqrt(N)``; nearest-neighbour distances of
    one sample are weakly dependent (mutual neighbours), so it is indicative, not exact.

    Raises:
        EmptyInputError, InvalidParameterError, NonFiniteError: as :func:`nearest_neighbour_distances`.
    """
    d = np.asarray(nearest_neighbour_distances(z, threshold=threshold, block=block, progress=progress))
    return NearestNeighbourStatistics(
        n_points=int(d.size),
        min=float(d.min()),
        mean=float(d.mean()),
        mean_se=float(d.std(ddof=1) / math.sqrt(d.size)),
        max=float(d.max()),
    )


def poisson_mean_nn_distance(n_points: Float[Array, "..."], real_dim: int, volume: float) -> Float[Array, "..."]:
    r"""Asymptotic mean nearest-neighbour distance of ``n`` i.i.d. uniform points on a compact
    Riemannian manifold of real dimension ``d`` and volume ``V`` (the dimension argument behind 3.7).

    For large ``n`` the other points near a given one form a Poisson process of intensity
    :math:`n/V` in a locally Euclidean ball, so :math:`P(d_{NN} > r) = \exp(-n V_d r^d / V)` with
    :math:`V_d = \pi^{d/2}/\Gamma(d/2+1)`, and

    .. math::

        \mathbb{E}\,d_{NN} = \Gamma(1 + 1/d)\,\Big(\frac{V}{V_d}\Big)^{1/d} n^{-1/d}
        \qquad (1 + O(n^{-2/d}) \text{ curvature corrections}).

    For FS-distributed points on a degree-``k`` hypersurface of complex dimension ``m`` in this
    module's normalisation, :math:`V = k\,\pi^m/m!` (the Fermat quintic: ``d = 6``,
    :math:`V = 5\pi^3/6`, prefactor :math:`\Gamma(7/6)\,5^{1/6} = 1.2131`).

    Raises:
        InvalidParameterError: ``real_dim`` not a positive integer, ``volume`` not a positive finite
            number, or an ``n_points`` that is not positive.
        NonFiniteError: NaN or infinity in ``n_points``.
    """
    if not (isinstance(real_dim, int) and real_dim >= 1) or not (math.isfinite(volume) and volume > 0):
        raise InvalidParameterError(f"need a positive integer dimension and a positive volume, got {real_dim}, {volume}")
    n = np.asarray(n_points, dtype=float)
    require_finite(n, "n_points")
    if np.any(n <= 0):
        raise InvalidParameterError(f"n_points must be positive, got min {n.min():g}")
    d = real_dim
    ball = math.pi ** (d / 2) / math.gamma(d / 2 + 1)
    return math.gamma(1 + 1 / d) * (volume / ball) ** (1 / d) * n ** (-1 / d)


def fs_distance_reference(a, b, digits: int = 50) -> float:
    """(3.2) as printed, evaluated in mpmath with ``digits`` significant digits (a reference for tests).

    ``a`` and ``b`` are single points (sequences of complex homogeneous coordinates).
    """
    import mpmath as mp

    with mp.workdps(digits):
        a = [mp.mpc(complex(x)) for x in a]
        b = [mp.mpc(complex(x)) for x in b]
        dot = mp.fsum(mp.conj(x) * y for x, y in zip(a, b))
        c = mp.sqrt(abs(dot) ** 2 / (mp.fsum(abs(x) ** 2 for x in a) * mp.fsum(abs(y) ** 2 for y in b)))
        return float(mp.acos(min(c, mp.mpf(1))))
