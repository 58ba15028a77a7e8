"""Points on a hypersurface from random lines (the Shiffman–Zelditch measure).

A line :math:`L = \\{a + t b\\}` through two independent points :math:`a, b` uniform on the unit
sphere :math:`S^{2m-1} \\subset \\mathbb{C}^m` is a uniformly (unitarily invariantly) distributed
:math:`\\mathbb{P}^1 \\subset \\mathbb{P}^{m-1}`; it meets the degree-``d`` hypersurface in ``d``
points, the roots of the univariate polynomial :math:`q(t) = p(a + t b)`.  All ``d`` roots are
kept.  By Shiffman & Zelditch (Commun. Math. Phys. 200 (1999) 661) the resulting points are
distributed on :math:`X` with density proportional to the restricted Fubini–Study volume form
:math:`J^{n}/n!` (``J`` the ambient Fubini–Study form); :mod:`numerics.cy.measure` turns that into
the :math:`|\\Omega|^2` measure with the weights :math:`w = |\\Omega|^2/\\det g_{FS}` (tested there
against an independent Monte-Carlo over coordinate polydiscs).

Root finding is vectorised: Aberth–Ehrlich iterations on all lines of a block at once
(``lax.fori_loop``, cubic convergence), further iterations on the least-converged 1/32 of the lines,
then a Newton step on the true polynomial ``p(a + t b)``, so that each point solves the equation to
~1e-15 relative (:meth:`Hypersurface.residual`, :math:`|p(z)|/|z|^d` on the Fermat member).  Lines
whose roots do not converge, are not finite or coincide (measure zero, e.g. ``p(b) = 0`` or a
tangent line) are rejected and counted, never returned.

Returned points are **patch-scaled**: each row is divided by its coordinate of largest modulus, so
that coordinate is exactly 1 and every other has modulus <= 1 (the patch convention of
``DESIGN.md`` and section 3.1).  ``PointSample.line_ids`` records which line each point came from;
points of one line are not independent, so standard errors are computed with lines as clusters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Int

from flowtheory.errors import DegenerateInputError, InvalidParameterError, NonFiniteError
from flowtheory.reprs import html_table
from numerics.checks import is_concrete, require_nonempty
from numerics.cy.hypersurface import Hypersurface
from numerics.cy.patches import chart, pair_index

#: Aberth–Ehrlich iterations on every line (cubic convergence once close; from the circle start
#: about 0.3% of the roots of random quintic lines need more than 10) ...
ABERTH_ITERATIONS = 10
#: ... and further iterations on the 1/RESCUE_FRACTION least-converged lines of each block.
RESCUE_ITERATIONS = 40
RESCUE_FRACTION = 32
#: Newton steps on the true polynomial p(a + t b) after Aberth.
NEWTON_STEPS = 1
#: A line is accepted when every root's relative residual (:meth:`Hypersurface.residual`) is below this ...
ACCEPT_TOLERANCE = 1e-10
#: ... and its roots are pairwise at chordal distance above this (no double root).
DISTINCT_ROOTS = 1e-7
#: Lines solved per compiled call: every sample is built from blocks of this one size (one
#: compilation per hypersurface type, bounded memory, at most one block's surplus lines discarded).
BLOCK_LINES = 4096


@dataclass(frozen=True)
class PointSample:
    """Points on a hypersurface with the record of how they were drawn.

    Attributes:
        surface: the hypersurface the points lie on.
        points: ``(n, n_ambient)`` complex128, patch-scaled homogeneous coordinates (max |z_i| = 1).
        line_ids: ``(n,)`` int64, the index of the line each point came from (for clustered errors).
        n_lines: lines drawn (accepted + rejected).
        n_rejected_lines: lines rejected because a root did not converge or was not finite.
        chart: ``(patch, eliminated)`` when every point was selected to lie in that chart
            (:func:`sample_in_chart`), else ``None``.
        n_candidates: points examined by the chart selection (``None`` without selection).
    """

    surface: Hypersurface
    points: Complex[np.ndarray, "n m"]
    line_ids: Int[np.ndarray, " n"]
    n_lines: int
    n_rejected_lines: int
    chart: tuple[int, int] | None = None
    n_candidates: int | None = None

    @property
    def acceptance_rate(self) -> float | None:
        """Fraction of candidate points that fell in the chart (≈ 1/20 on the Fermat quintic)."""
        return None if self.n_candidates is None else len(self) / self.n_candidates

    def __len__(self) -> int:
        return self.points.shape[0]

    def _repr_html_(self) -> str:
        """Notebook display (:mod:`flowtheory.reprs`): the surface, the size, the lines drawn and
        rejected, and the charts of the points — the selected chart, or for a sample of all of X how
        many of the ``m(m-1)`` (patch, eliminated) pairs its points use and how many points lie in
        each patch.  Never the points themselves."""
        s, n = self.surface, len(self)
        m = s.n_ambient
        rows = [
            ("hypersurface", f"{s.name}: degree {s.degree} in P^{m - 1}"),
            ("ψ", s.psi),
            ("points", n),
            ("lines the points come from", np.unique(self.line_ids).size),
            ("lines drawn", self.n_lines),
            ("lines rejected (roots not converged or not distinct)", self.n_rejected_lines),
        ]
        if self.chart is not None:
            rows += [
                ("chart (patch, eliminated)", f"{self.chart}, selected"),
                ("candidates examined", self.n_candidates),
                ("acceptance rate", self.acceptance_rate),
            ]
        else:
            c = chart(s, self.points)
            pairs = np.unique(np.asarray(pair_index(c.patch, c.eliminated, m)))
            per_patch = np.bincount(np.asarray(c.patch), minlength=m)
            rows += [
                ("charts used (patch, eliminated)", f"{pairs.size} of {m * (m - 1)}"),
                (f"points per patch 0…{m - 1}", ", ".join(map(str, per_patch))),
            ]
        return html_table(rows, caption=f"{n} points on {s.name}")


def sample_points(surface: Hypersurface, n: int, key: Array, *, progress: bool = False) -> PointSample:
    """Draw ``n`` points on ``surface`` from random lines (Shiffman–Zelditch measure).

    Args:
        surface: the hypersurface.
        n: number of points (>= 1); ``ceil(n / degree)`` accepted lines are used, all roots of each
            line kept, the last line's surplus roots dropped.
        key: a ``jax.random`` key; the result is a deterministic function of ``(surface, n, key)``.
        progress: show a progress bar (stderr) while blocks of lines are solved.

    Returns:
        A :class:`PointSample` with patch-scaled points (see the module docstring).

    Raises:
        InvalidParameterError: ``n`` is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidParameterError(f"the number of points must be a positive integer, got {n!r}")
    n = int(n)
    from numerics.io.progress import progress_bar

    d = surface.degree
    lines_needed = -(-n // d)
    blocks, drawn, rejected, have = [], 0, 0, 0
    with progress_bar(f"sampling {surface.name}", total=lines_needed, enabled=progress) as advance:
        block = 0
        while have < lines_needed:
            # dispatch every block still needed before reading any back (JAX runs them asynchronously)
            count = -(-(lines_needed - have) // BLOCK_LINES)
            pending = [_sample_block(surface, jax.random.fold_in(key, block + i), BLOCK_LINES) for i in range(count)]
            block += count
            have_before = have
            for points, ok in pending:
                ok = np.asarray(ok)
                good = np.asarray(points)[ok]
                drawn += BLOCK_LINES
                rejected += int(BLOCK_LINES - ok.sum())
                take = min(good.shape[0], lines_needed - have)
                blocks.append(good[:take])
                have += take
                advance(take)
            if have == have_before:
                raise NonFiniteError(f"all {count * BLOCK_LINES} lines of a round were rejected on {surface}: no root converged")
    lines = np.concatenate(blocks, axis=0)  # (lines_needed, d, m)
    points = lines.reshape(-1, surface.n_ambient)[:n]
    line_ids = np.repeat(np.arange(lines_needed, dtype=np.int64), d)[:n]
    return PointSample(surface, points, line_ids, drawn, rejected)


def sample_in_chart(
    surface: Hypersurface, n: int, key: Array, patch: int = 0, eliminated: int = 1, *, progress: bool = False
) -> PointSample:
    """``n`` points whose default chart (:mod:`numerics.cy.patches`) is ``(patch, eliminated)``.

    Section 3.1 of the paper: so that all metrics are components in one coordinate system, draw
    about ``m (m - 1)`` times more points (20 on the quintic) and keep those whose patch (largest
    ``|z_i|``) and eliminated coordinate (largest ``|dp/dz_j|``) are the given pair.  The kept
    points have the Fubini–Study density restricted to that chart's region, so weighted means over
    them are averages over the region, not over X.  ``acceptance_rate`` reports the kept fraction.

    Raises:
        InvalidParameterError: ``n < 1``, or an index out of range or ``patch == eliminated``.
    """
    m = surface.n_ambient
    if not (0 <= patch < m and 0 <= eliminated < m and patch != eliminated):
        raise InvalidParameterError(f"(patch, eliminated) must be distinct indices in [0, {m}), got ({patch}, {eliminated})")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidParameterError(f"the number of points must be a positive integer, got {n!r}")
    from numerics.cy.patches import chart
    from numerics.io.progress import progress_bar

    batch = max(1024, (m * (m - 1) * int(n) * 11) // 10)
    kept, ids, candidates, lines, rejected, line_offset, round_ = [], [], 0, 0, 0, 0, 0
    with progress_bar(f"sampling {surface.name} in chart ({patch}, {eliminated})", total=int(n), enabled=progress) as advance:
        while sum(len(k) for k in kept) < n:
            draw = sample_points(surface, batch, jax.random.fold_in(key, round_))
            c = chart(surface, draw.points)
            mask = np.asarray((c.patch == patch) & (c.eliminated == eliminated))
            need = int(n) - sum(len(k) for k in kept)
            idx = np.flatnonzero(mask)[:need]
            # candidates examined: all of this draw, or up to the last point kept when it completes the sample
            candidates += batch if len(idx) < need else int(idx[-1]) + 1
            kept.append(draw.points[idx])
            ids.append(draw.line_ids[idx] + line_offset)
            line_offset += draw.n_lines
            lines += draw.n_lines
            rejected += draw.n_rejected_lines
            advance(len(idx))
            round_ += 1
    return PointSample(surface, np.concatenate(kept), np.concatenate(ids), lines, rejected, (patch, eliminated), candidates)


def _unit_sphere(key: Array, shape: tuple[int, ...]) -> Complex[Array, "*shape"]:
    """Points uniform on the unit sphere of C^shape[-1]: normalised complex Gaussians."""
    kr, ki = jax.random.split(key)
    z = jax.random.normal(kr, shape) + 1j * jax.random.normal(ki, shape)
    return z / jnp.linalg.norm(z, axis=-1, keepdims=True)


def line_coefficients(surface: Hypersurface, a: Complex[Array, "L m"], b: Complex[Array, "L m"]) -> Complex[Array, "L d+1"]:
    """Coefficients ``c_k`` (ascending powers of t) of ``q(t) = p(a + t b)``.

    Fermat part: :math:`\\sum_i (a_i + t b_i)^d = \\sum_k \\binom{d}{k} t^k \\sum_i a_i^{d-k} b_i^k`;
    the Dwork product :math:`\\prod_i (a_i + t b_i)` is expanded by successive convolution.

    Raises:
        InvalidParameterError: ``a`` and ``b`` not both ``(L, n_ambient)`` (shapes are checked
            under ``jit`` too, at trace time).
        EmptyInputError: no lines (``L = 0``).
    """
    _check_lines(surface, a, b)
    d = surface.degree
    binom = jnp.array([math.comb(d, k) for k in range(d + 1)], dtype=jnp.float64)
    a_pow, b_pow = _powers(a, d), _powers(b, d)  # (L, m, d+1): exact integer powers by products
    coeffs = binom * jnp.sum(a_pow[..., ::-1] * b_pow, axis=-2)
    if surface.deformed:
        prod = jnp.zeros_like(coeffs).at[..., 0].set(1.0)
        for i in range(surface.n_ambient):
            shifted = jnp.concatenate([jnp.zeros_like(prod[..., :1]), prod[..., :-1]], axis=-1)
            prod = prod * a[..., i : i + 1] + shifted * b[..., i : i + 1]
        coeffs = coeffs - d * surface.psi * prod
    return coeffs


def _check_lines(surface: Hypersurface, a, b) -> None:
    """Shape checks of line end points (static: free under ``jit``)."""
    m = surface.n_ambient
    if jnp.ndim(a) != 2 or jnp.shape(a) != jnp.shape(b) or jnp.shape(a)[1] != m:
        raise InvalidParameterError(f"a and b must both have shape (L, {m}), got {jnp.shape(a)} and {jnp.shape(b)}")
    require_nonempty(jnp.shape(a)[0], "a", "lines")


def _powers(x: Complex[Array, "L m"], d: int) -> Complex[Array, "L m d+1"]:
    """``x**k`` for ``k = 0..d`` by repeated multiplication (no complex ``exp``/``log``)."""
    powers = [jnp.ones_like(x), x]
    for _ in range(d - 1):
        powers.append(powers[-1] * x)
    return jnp.stack(powers, axis=-1)


def _horner(c: Complex[Array, "d+1 L"], t: Complex[Array, "r L"]) -> tuple[Complex[Array, "r L"], Complex[Array, "r L"]]:
    """``q(t)`` and ``q'(t)`` at root estimates; coefficients ascending on axis 0, lines on the last axis."""
    d = c.shape[0] - 1
    q = jnp.broadcast_to(c[d], t.shape)
    dq = jnp.zeros_like(t)
    for k in range(d - 1, -1, -1):
        dq = dq * t + q
        q = q * t + c[k]
    return q, dq


def aberth_roots(coeffs: Complex[Array, "L d+1"], iterations: int = ABERTH_ITERATIONS, start: Complex[Array, "L d"] | None = None) -> Complex[Array, "L d"]:
    r"""All roots of each polynomial ``sum_k c_k t^k`` by Aberth–Ehrlich iterations (vectorised).

    Start (unless ``start`` is given): ``d`` points on the circle of radius ``|c_0/c_d|^(1/d)`` (the
    geometric mean of the root moduli), rotated off the real axis.  Update :math:`t_k \leftarrow
    t_k - N_k/(1 - N_k \sum_{j\ne k} (t_k - t_j)^{-1})` with the Newton correction
    :math:`N_k = q(t_k)/q'(t_k)` (Aberth, Math. Comp. 27 (1973) 339).  Internally the arrays are
    ``(d, L)`` (lines on the fast axis) and the sum over roots is unrolled: this vectorises over
    lines (3-4x faster than ``(L, d)``).

    Raises:
        InvalidParameterError: ``coeffs`` not ``(L, d+1)`` with ``d >= 1``, or a ``start`` not
            ``(L, d)`` (static shape checks, also under ``jit``).
        DegenerateInputError: a concrete zero leading coefficient ``c_d`` (fewer than ``d`` roots).
        EmptyInputError: no polynomials (``L = 0``).
    """
    if jnp.ndim(coeffs) != 2 or jnp.shape(coeffs)[1] < 2:
        raise InvalidParameterError(f"coeffs must have shape (L, d+1) with degree d >= 1, got {jnp.shape(coeffs)}")
    n_lines, d = jnp.shape(coeffs)[0], jnp.shape(coeffs)[1] - 1
    require_nonempty(n_lines, "coeffs", "polynomials")
    if start is not None and jnp.shape(start) != (n_lines, d):
        raise InvalidParameterError(f"start must have shape {(n_lines, d)}, got {jnp.shape(start)}")
    if is_concrete(coeffs) and np.any(np.asarray(coeffs)[:, -1] == 0):
        raise DegenerateInputError("coeffs has a zero leading coefficient c_d: the polynomial has fewer than d roots")
    c = coeffs.T  # (d+1, L)
    if start is None:
        radius = jnp.abs(c[0] / c[d]) ** (1.0 / d)
        angles = 2 * jnp.pi * (jnp.arange(d) + 0.25) / d + 0.4
        start = (radius[None, :] * jnp.exp(1j * angles)[:, None]).T

    def step(_, t):
        q, dq = _horner(c, t)
        newton = q / dq
        repulsion = jnp.stack([sum(1.0 / (t[k] - t[j]) for j in range(d) if j != k) for k in range(d)])
        return t - newton / (1.0 - newton * repulsion)

    return jax.lax.fori_loop(0, iterations, step, start.T).T


def _aberth_with_rescue(coeffs: Complex[Array, "L d+1"]) -> Complex[Array, "L d"]:
    """Aberth on all lines for :data:`ABERTH_ITERATIONS`, then :data:`RESCUE_ITERATIONS` more on the
    ``L / RESCUE_FRACTION`` lines whose roots are least converged (largest Newton step relative to
    ``1 + |t|``): the slow lines get the iterations, not every line."""
    t = aberth_roots(coeffs)
    n_lines = t.shape[0]
    n_rescue = max(1, n_lines // RESCUE_FRACTION)
    q, dq = _horner(coeffs.T, t.T)
    score = jnp.max(jnp.abs(q / dq) / (1.0 + jnp.abs(t.T)), axis=0)
    score = jnp.where(jnp.isfinite(score), score, jnp.inf)
    _, worst = jax.lax.top_k(score, n_rescue)
    rescued = aberth_roots(coeffs[worst], RESCUE_ITERATIONS, start=t[worst])
    return t.at[worst].set(rescued)


@partial(jax.jit, static_argnums=2)
def _sample_block(surface: Hypersurface, key: Array, n_lines: int) -> tuple[Complex[Array, "L d m"], Array]:
    """Draw ``n_lines`` random lines and solve them (see :func:`solve_lines`)."""
    ka, kb = jax.random.split(key)
    m = surface.n_ambient
    return solve_lines(surface, _unit_sphere(ka, (n_lines, m)), _unit_sphere(kb, (n_lines, m)))


def solve_lines(surface: Hypersurface, a: Complex[Array, "L m"], b: Complex[Array, "L m"]) -> tuple[Complex[Array, "L d m"], Array]:
    """Intersect the lines through ``a`` and ``b`` with the hypersurface.

    Returns patch-scaled points ``(L, d, m)`` and a per-line ``ok`` flag.  A line is rejected
    (``ok = False``, its points replaced by a finite placeholder) when a root is not finite, a
    residual exceeds :data:`ACCEPT_TOLERANCE`, or two roots coincide (a tangent line).

    Raises:
        InvalidParameterError, EmptyInputError: as :func:`line_coefficients`.
    """
    _check_lines(surface, a, b)
    d, m = surface.degree, surface.n_ambient
    a = a / jnp.linalg.norm(a, axis=-1, keepdims=True)
    b = b - jnp.sum(jnp.conj(a) * b, axis=-1, keepdims=True) * a  # a ⟂ b: |a + t b|^2 = 1 + |t|^2
    b = b / jnp.linalg.norm(b, axis=-1, keepdims=True)
    t = _aberth_with_rescue(line_coefficients(surface, a, b))
    z = a[:, None, :] + t[..., None] * b[:, None, :]
    for _ in range(NEWTON_STEPS):
        slope = jnp.sum(surface.dp(z) * b[:, None, :], axis=-1)
        t = t - surface.p(z) / slope
        z = a[:, None, :] + t[..., None] * b[:, None, :]
    residual = surface.residual(z)
    pivot = jnp.argmax(jnp.abs(z), axis=-1)
    scale = jnp.take_along_axis(z, pivot[..., None], axis=-1)
    z = z / scale
    z = jnp.where(jax.nn.one_hot(pivot, m, dtype=bool), 1.0 + 0.0j, z)
    finite = jnp.all(jnp.isfinite(z.real) & jnp.isfinite(z.imag), axis=-1)
    ok = jnp.all(finite & (residual < ACCEPT_TOLERANCE), axis=-1)
    # distinct roots (chordal distance on the line): a tangent line has a double root; reject it
    norm = jnp.sqrt(1.0 + jnp.abs(t) ** 2)
    chordal = jnp.abs(t[..., :, None] - t[..., None, :]) / (norm[..., :, None] * norm[..., None, :])
    ok = ok & jnp.all(jnp.where(jnp.eye(d, dtype=bool), True, chordal > DISTINCT_ROOTS), axis=(-2, -1))
    z = jnp.where(ok[:, None, None], z, 1.0 + 0.0j)
    return z, ok
