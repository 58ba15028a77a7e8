r"""Riemannian geometry in components: Christoffel symbols, curvature, Hessian, Laplacian, volume.

Pure sympy, any dimension, textbook index form.  A metric is a square ``sympy.Matrix`` ``g`` whose
entries are expressions in the coordinates ``coords`` (a tuple of ``Symbol``); other free symbols
(a radius ``r``, a parameter) are constants.  Index placement follows the array axes:

.. math::

    \Gamma^k{}_{ij} &= \tfrac12 g^{kl}(\partial_i g_{jl} + \partial_j g_{il} - \partial_l g_{ij}),
        \qquad \texttt{christoffel}[k, i, j] \\
    R^a{}_{bcd} &= \partial_c \Gamma^a{}_{db} - \partial_d \Gamma^a{}_{cb}
        + \Gamma^a{}_{ce}\Gamma^e{}_{db} - \Gamma^a{}_{de}\Gamma^e{}_{cb},
        \qquad \texttt{riemann\_tensor}[a, b, c, d] \\
    R_{bd} &= R^a{}_{bad}, \qquad R = g^{bd} R_{bd}.

With these signs (those of Wald, Carroll and sympy.diffgeom) the unit round sphere S² has
R = +2, the round S^n of radius r has R = n(n−1)/r², and the Poincaré half-plane
(dx² + dy²)/y² has R = −2.  These are the conventions of the paper's Ricci flow (2.39) and
Perelman flow (2.40)–(2.41).

Simplification: the core never calls ``simplify`` on the caller's behalf.  Results are the
expressions produced by differentiation and sympy's automatic evaluation; the only canonicalisation
is structural: the inverse of a diagonal metric is the entrywise reciprocal, and otherwise
``g^{kl} = adj(g)_{kl} / det g`` with the one division by ``det g`` taken out of each sum over
``l`` (so a Christoffel symbol is one quotient and its derivatives do not repeat ``det g``).  Each function
accepts ``simplify=``: ``False`` (default), ``True`` (``sympy.simplify`` on every component) or a
callable ``Expr -> Expr`` (e.g. ``sympy.cancel``, ``sympy.trigsimp``).  A simplifier given to a
derived quantity is applied to the intermediate quantities too (Γ before it is differentiated),
which keeps expression swell down.

Results are cached by the value of the (immutable) inputs (:func:`flowtheory.caching.cached_by_value`),
so asking for Γ, Ricci and R of one metric computes Γ once.  Every function checks the shape and the
symmetry of the metric (``NotSymmetricError``) and rejects what no sample point could save
(:func:`check_nondegenerate`): NaN or infinite entries (``NonFiniteError``), a determinant that is
identically zero (``DegenerateInputError``) and a metric of numbers that is not positive definite
(``NotPositiveDefiniteError``, Sylvester's criterion in exact arithmetic).  Positive definiteness of
a metric with symbolic entries is checked, at sample points, by :func:`check_metric`.

Indefinite metrics.  The curvature functions (:func:`christoffel`, :func:`riemann_tensor`,
:func:`ricci_tensor`, :func:`ricci_scalar`, :func:`inverse_metric`) and the checks take
``signature=(p, q)``: ``p`` positive and ``q`` negative eigenvalues, ``p + q = n`` — ``(n - 1, 1)``
for a Lorentzian metric in the mostly-plus convention (−+++ of Wald and Carroll, whose curvature
signs these are: Schwarzschild is Ricci-flat, two-dimensional de Sitter
−dt² + e^{2t}dx² has R = +2).  Without it a metric must be positive definite.  A metric of numbers
is checked exactly (Descartes' rule of signs on its characteristic polynomial, whose roots are all
real), a symbolic one at sample points; a mismatch is a :class:`~flowtheory.errors.SignatureError`.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence, Union

import sympy as sp

from flowtheory.caching import cached_by_value
from flowtheory.errors import (
    DegenerateInputError,
    EmptyInputError,
    InvalidParameterError,
    NonFiniteError,
    NotPositiveDefiniteError,
    NotSymmetricError,
    SignatureError,
)
from flowtheory.exact import evaluate, random_rational_points

__all__ = [
    "Simplifier",
    "apply_simplifier",
    "as_simplifier",
    "check_metric",
    "check_nondegenerate",
    "christoffel",
    "default_sample_points",
    "grad_norm_sq",
    "hessian",
    "inertia",
    "inverse_metric",
    "laplacian",
    "ricci_scalar",
    "ricci_tensor",
    "riemann_tensor",
    "volume_density",
]

Simplifier = Union[bool, Callable[[sp.Expr], sp.Expr]]
Signature = tuple[int, int]
"""``(p, q)``: the numbers of positive and of negative eigenvalues of a metric."""


# ----------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------


def as_simplifier(simplify: Simplifier) -> Callable[[sp.Expr], sp.Expr] | None:
    """The callable of a ``simplify=`` argument: ``True`` → :func:`sympy.simplify`, ``False`` → ``None``."""
    if simplify is True:
        return sp.simplify
    if simplify is False or simplify is None:
        return None
    if callable(simplify):
        return simplify
    raise InvalidParameterError(f"simplify must be a bool or a callable, got {simplify!r}")


def _as_metric(g) -> sp.ImmutableMatrix:
    """The metric as a square, non-empty immutable (hashable) matrix."""
    try:
        g = sp.ImmutableMatrix(g)
    except (TypeError, ValueError, sp.SympifyError) as exc:
        raise InvalidParameterError(f"metric is not a matrix: {exc}") from None
    if g.rows != g.cols:
        raise InvalidParameterError(f"metric must be square, got shape {g.shape}")
    if g.rows == 0:
        raise InvalidParameterError("metric is empty (0x0): need at least one coordinate")
    return g


def _signature(signature, n: int) -> Signature | None:
    """``signature`` checked against the dimension ``n``; ``None`` for positive definite (``(n, 0)`` too)."""
    if signature is None:
        return None
    try:
        p, q = (int(v) for v in signature)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"signature must be a pair (p, q) of eigenvalue counts, got {signature!r}") from None
    if p < 0 or q < 0 or p + q != n or (p, q) != tuple(signature):
        raise InvalidParameterError(f"signature {tuple(signature)} does not fit a {n}x{n} metric: need p, q >= 0 with p + q = {n}")
    return None if q == 0 else (p, q)


def _sign(value: sp.Expr) -> int:
    """The sign of a real number, exactly where sympy decides it, else from 30 digits."""
    if value.is_zero:
        return 0
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    number = float(sp.re(sp.N(value, 30)))
    return (number > 0) - (number < 0)


def inertia(g: sp.MatrixBase) -> Signature:
    """``(p, q)`` of a real symmetric non-singular metric of numbers, exactly.

    The characteristic polynomial of a real symmetric matrix has only real roots, so Descartes' rule
    of signs counts them: ``p`` = sign changes of its coefficients, ``q`` = those of ``P(-λ)``.

    >>> import sympy as sp
    >>> inertia(sp.diag(-1, 1, 1, 1)), inertia(sp.Matrix([[1, 2], [2, 1]]))
    ((3, 1), (1, 1))
    """
    coeffs = [_sign(c) for c in sp.ImmutableMatrix(g).charpoly().all_coeffs()]
    degree = len(coeffs) - 1

    def changes(signs):
        nonzero = [s for s in signs if s]
        return sum(a != b for a, b in zip(nonzero, nonzero[1:]))

    return changes(coeffs), changes([s * (-1) ** (degree - k) for k, s in enumerate(coeffs)])


def check_nondegenerate(g: sp.MatrixBase, *, hermitian: bool = False, signature: Signature | None = None) -> None:
    """Reject a metric that no sample point can save; return ``None`` or raise a named error.

    Checks, in order: every entry finite; ``det g`` not identically zero (structurally: a zero
    diagonal entry of a diagonal metric, or a Berkowitz determinant that evaluates to 0); and, for a
    metric whose entries are all numbers, positive definiteness by Sylvester's criterion (every
    leading principal minor ``> 0``, decided exactly).  ``hermitian=True`` (Kähler metrics ``g_{a b̄}``)
    allows complex entries and requires ``g = g^†`` for a metric of numbers; otherwise numbers must be
    real.  Symbolic entries are not sampled here (:func:`check_metric` does that).  ``signature=(p, q)``
    asks for ``p`` positive and ``q`` negative eigenvalues instead (real metrics; :func:`inertia`).

    >>> import sympy as sp
    >>> check_nondegenerate(sp.diag(-1, 1))
    Traceback (most recent call last):
        ...
    flowtheory.errors.NotPositiveDefiniteError: metric [[-1, 0], [0, 1]] is not positive definite: its leading 1x1 minor is -1

    Raises:
        NonFiniteError: an entry is NaN or infinite (``nan``, ``oo``, ``zoo``).
        DegenerateInputError: ``det g`` is identically zero (e.g. the zero metric).
        NotSymmetricError: a Hermitian metric of numbers with ``g ≠ g^†``.
        NotPositiveDefiniteError: a metric of numbers with a complex entry (``hermitian=False``) or a
            leading principal minor ``<= 0``.
        SignatureError: with ``signature``, a metric of numbers with another signature.
        InvalidParameterError: a ``signature`` that does not fit, or one given with ``hermitian``.
    """
    g = sp.ImmutableMatrix(g)
    n = g.rows
    signature = _signature(signature, n)
    if hermitian and signature is not None:
        raise InvalidParameterError("a Kähler metric is positive definite: signature applies to real metrics only")
    for i in range(n):
        for j in range(n):
            if g[i, j].has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                raise NonFiniteError(f"metric entry g[{i},{j}] = {g[i, j]} is not finite")
    if g.is_diagonal():
        zero = [i for i in range(n) if g[i, i] == 0]
        if zero:
            raise DegenerateInputError(f"metric is singular: its diagonal entry g[{zero[0]},{zero[0]}] is 0, so det g = 0")
    elif _adjugate_and_det(g)[1] == 0:
        raise DegenerateInputError(f"metric {g.tolist()} is singular: det g = 0 identically")
    if g.free_symbols:
        return
    if hermitian:
        if any(sp.expand(g[i, j] - sp.conjugate(g[j, i])) != 0 for i in range(n) for j in range(i, n)):
            raise NotSymmetricError(f"metric {g.tolist()} is not Hermitian")
    elif any(e.is_real is False for e in g):
        raise NotPositiveDefiniteError(f"metric {g.tolist()} has complex entries")
    if signature is not None:
        found = inertia(g)
        if found != signature:
            raise SignatureError(f"metric {g.tolist()} has signature {found} (positive, negative eigenvalues), not {signature}")
        return
    for k in range(1, n + 1):
        minor = sp.expand(g[:k, :k].det(method="berkowitz"))
        if hermitian:
            minor = sp.re(minor)
        if minor.is_positive is False:
            raise NotPositiveDefiniteError(f"metric {g.tolist()} is not positive definite: its leading {k}x{k} minor is {minor}")


def _prepare(g, coords, signature: Signature | None = None) -> tuple[sp.ImmutableMatrix, tuple[sp.Symbol, ...]]:
    """Shape checks; returns the metric as an immutable (hashable) matrix and coords as a tuple."""
    g = _as_metric(g)
    coords = tuple(coords)
    if not coords:
        raise InvalidParameterError("at least one coordinate is required")
    if not all(isinstance(c, sp.Symbol) for c in coords):
        raise InvalidParameterError(f"coordinates must be sympy Symbols, got {coords}")
    if len(set(coords)) != len(coords):
        raise InvalidParameterError(f"repeated coordinate in {coords}")
    if g.rows != len(coords):
        raise InvalidParameterError(f"metric is {g.rows}x{g.cols} but there are {len(coords)} coordinates")
    _require_symmetric(g)
    check_nondegenerate(g, signature=signature)
    return g, coords


def _require_symmetric(g: sp.MatrixBase) -> None:
    """Structural equality, then ``expand``, then ``simplify`` of ``g_ij − g_ji`` (in that order)."""
    n = g.rows
    for i in range(n):
        for j in range(i + 1, n):
            a, b = g[i, j], g[j, i]
            if a == b or sp.expand(a - b) == 0 or sp.simplify(a - b) == 0:
                continue
            raise NotSymmetricError(f"metric is not symmetric: g[{i},{j}] = {a} but g[{j},{i}] = {b}")


def apply_simplifier(expr: sp.Expr, simp: Callable[[sp.Expr], sp.Expr] | None) -> sp.Expr:
    """``simp(expr)``, or ``expr`` itself when ``simp`` is ``None`` (see :func:`as_simplifier`)."""
    return simp(expr) if simp is not None else expr


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def default_sample_points(symbols: Sequence[sp.Symbol], n_points: int = 5, seed: int = 0) -> list[dict]:
    """Sample points for :func:`check_metric`: exact rationals drawn uniformly from [1/10, 9/10].

    The interval lies inside the usual charts (polar angle θ ∈ (0, π), upper half-plane y > 0,
    radii r > 0) so a correct metric is positive definite there.  Fixed ``seed``, never the clock.
    """
    return random_rational_points(symbols, n_points, seed, low=0.1, high=0.9)


def check_metric(
    g: sp.MatrixBase,
    coords: Sequence[sp.Symbol],
    sample_points: Sequence[Mapping | Sequence] | None = None,
    *,
    rtol: float = 1e-12,
    signature: Signature | None = None,
) -> None:
    """Validate a Riemannian metric (or, with ``signature``, an indefinite one); return ``None`` or raise a named error.

    Args:
        g: the metric, ``n x n``.
        coords: the ``n`` coordinates.
        sample_points: points at which positive definiteness is tested: mappings ``{symbol: value}``
            (they may also fix other free symbols such as a radius), or tuples of values in the
            order of ``coords``.  Default: :func:`default_sample_points` of *every* free symbol of
            ``g`` (coordinates and constants), five points in [1/10, 9/10].
        rtol: an eigenvalue ``<= rtol * max|g_ij|`` counts as not positive.
        signature: ``(p, q)``, the eigenvalue signs required instead of positive definiteness
            (``(n - 1, 1)``: Lorentzian); an eigenvalue within ``rtol * max|g_ij|`` of 0 is refused.

    Raises:
        InvalidParameterError: wrong shape, coordinate count mismatch, a sample point that leaves
            symbols unassigned.
        EmptyInputError: ``sample_points`` is given but empty.
        NotSymmetricError: ``g_ij - g_ji`` does not simplify to zero.
        NotPositiveDefiniteError: ``g`` is not real symmetric positive definite at a sample point.
        SignatureError: with ``signature``, ``g`` has other eigenvalue signs (or a zero eigenvalue) at a sample point.
        NonFiniteError: ``g`` is singular (infinite / NaN) at a sample point, or has a non-finite entry.
        DegenerateInputError: ``det g`` is identically zero (:func:`check_nondegenerate`).
    """
    import numpy as np

    g, coords = _prepare(g, coords, signature)
    signature = _signature(signature, g.rows)
    if sample_points is None:
        extra = sorted(g.free_symbols - set(coords), key=str)
        points = default_sample_points(list(coords) + extra)
    else:
        if len(sample_points) == 0:
            raise EmptyInputError("sample_points is empty: positive definiteness would be checked nowhere")
        points = [p if isinstance(p, Mapping) else dict(zip(coords, p)) for p in sample_points]
        for p in sample_points:
            if not isinstance(p, Mapping) and len(p) != len(coords):
                raise InvalidParameterError(f"sample point {tuple(p)} has {len(p)} values for {len(coords)} coordinates")
    for point in points:
        try:
            array = evaluate(g, point)
        except NonFiniteError:
            raise NonFiniteError(f"metric is not finite at {dict(point)}") from None
        scale = float(np.max(np.abs(array))) or 1.0
        if np.max(np.abs(array.imag)) > rtol * scale:
            raise NotPositiveDefiniteError(f"metric is not real at {dict(point)}")
        eig = np.linalg.eigvalsh(array.real)
        if signature is not None:
            found = (int(np.sum(eig > rtol * scale)), int(np.sum(eig < -rtol * scale)))
            if found != signature:
                raise SignatureError(
                    f"metric has signature {found} (positive, negative eigenvalues) at {dict(point)}, not {signature}"
                    + (" (a zero eigenvalue)" if sum(found) < g.rows else "")
                )
            continue
        if eig[0] <= rtol * scale:
            raise NotPositiveDefiniteError(
                f"metric is not positive definite at {dict(point)}: smallest eigenvalue {eig[0]:.3g}"
            )


# ----------------------------------------------------------------------------------------------
# components (cached on immutable inputs)
# ----------------------------------------------------------------------------------------------


@cached_by_value(maxsize=128)
def _adjugate_and_det(g: sp.ImmutableMatrix) -> tuple[sp.ImmutableMatrix, sp.Expr]:
    """``(adj g, det g)``; for a diagonal metric ``(diag(1/g_ii) det g, det g)`` is not formed."""
    return sp.ImmutableMatrix(g.adjugate(method="berkowitz")), g.det(method="berkowitz")


@cached_by_value(maxsize=128)
def _inverse(g: sp.ImmutableMatrix, simp) -> sp.ImmutableMatrix:
    n = g.rows
    if g.is_diagonal():
        inv = sp.diag(*[sp.Integer(1) / g[i, i] for i in range(n)])
    else:
        adj, det = _adjugate_and_det(g)
        inv = adj / det
    return sp.ImmutableMatrix(n, n, lambda i, j: apply_simplifier(inv[i, j], simp))


def _trace_with_inverse(g: sp.ImmutableMatrix, m, simp) -> sp.Expr:
    """``g^{ij} m_ij`` for a symmetric ``m``; non-diagonal ``g``: ``(Σ adj(g)_ij m_ij) / det g``."""
    n = g.rows
    if g.is_diagonal():
        return apply_simplifier(sp.Add(*[m[i, i] / g[i, i] for i in range(n)]), simp)
    if simp is not None:
        ginv = _inverse(g, simp)
        return apply_simplifier(sp.Add(*[ginv[i, j] * m[i, j] for i in range(n) for j in range(n) if ginv[i, j] != 0]), simp)
    adj, det = _adjugate_and_det(g)
    return sp.Add(*[adj[i, j] * m[i, j] for i in range(n) for j in range(n) if adj[i, j] != 0]) / det


@cached_by_value(maxsize=128)
def _christoffel(g: sp.ImmutableMatrix, coords: tuple, simp) -> sp.ImmutableDenseNDimArray:
    n = len(coords)
    dg = [[[sp.diff(g[i, j], x) for x in coords] for j in range(n)] for i in range(n)]  # dg[i][j][l] = ∂_l g_ij
    # Γ_{l,ij} (first kind), then raise l.
    first = [
        [[(dg[j][l][i] + dg[i][l][j] - dg[i][j][l]) / 2 for j in range(n)] for i in range(n)] for l in range(n)
    ]
    if g.is_diagonal():
        def raised(k, i, j):
            return first[k][i][j] / g[k, k]
    else:
        # g^{kl} = adj(g)_{kl} / det g with the one division taken out of the sum: a component is
        # (Σ_l adj_kl Γ_{l,ij}) / det g, which keeps derivatives of Γ from repeating det g.
        adj, det = _adjugate_and_det(g)

        def raised(k, i, j):
            return sp.Add(*[adj[k, l] * first[l][i][j] for l in range(n) if adj[k, l] != 0]) / det

    gamma = [[[apply_simplifier(raised(k, i, j), simp) for j in range(n)] for i in range(n)] for k in range(n)]
    return sp.ImmutableDenseNDimArray(gamma, (n, n, n))


@cached_by_value(maxsize=64)
def _riemann(g: sp.ImmutableMatrix, coords: tuple, simp) -> sp.ImmutableDenseNDimArray:
    n = len(coords)
    G = _christoffel(g, coords, simp)

    def component(a, b, c, d):
        if c == d:
            return sp.Integer(0)
        value = sp.diff(G[a, d, b], coords[c]) - sp.diff(G[a, c, b], coords[d])
        value += sp.Add(*[G[a, c, e] * G[e, d, b] - G[a, d, e] * G[e, c, b] for e in range(n)])
        return apply_simplifier(value, simp)

    # Antisymmetry in (c, d) is exact in the defining formula: compute c < d only.
    data = {}
    for a in range(n):
        for b in range(n):
            for c in range(n):
                for d in range(c + 1, n):
                    value = component(a, b, c, d)
                    data[(a, b, c, d)] = value
                    data[(a, b, d, c)] = -value
    flat = [data.get((a, b, c, d), sp.Integer(0)) for a in range(n) for b in range(n) for c in range(n) for d in range(n)]
    return sp.ImmutableDenseNDimArray(flat, (n, n, n, n))


@cached_by_value(maxsize=128)
def _ricci(g: sp.ImmutableMatrix, coords: tuple, simp) -> sp.ImmutableMatrix:
    # R_bd = R^a_{bad} = ∂_a Γ^a_{db} − ∂_d Γ^a_{ab} + Γ^a_{ae} Γ^e_{db} − Γ^a_{de} Γ^e_{ab}
    # (the contraction of the Riemann formula, computed directly: n² rather than n⁴ components).
    n = len(coords)
    G = _christoffel(g, coords, simp)
    trace = [sp.Add(*[G[a, a, e] for a in range(n)]) for e in range(n)]  # Γ^a_{ae}

    def component(b, d):
        value = sp.Add(*[sp.diff(G[a, d, b], coords[a]) for a in range(n)]) - sp.diff(trace[b], coords[d])
        value += sp.Add(*[trace[e] * G[e, d, b] for e in range(n)])
        value -= sp.Add(*[G[a, d, e] * G[e, a, b] for a in range(n) for e in range(n)])
        return apply_simplifier(value, simp)

    entries = {}
    for b in range(n):
        for d in range(b, n):
            entries[(b, d)] = entries[(d, b)] = component(b, d)
    return sp.ImmutableMatrix(n, n, lambda i, j: entries[(i, j)])


@cached_by_value(maxsize=128)
def _scalar(g: sp.ImmutableMatrix, coords: tuple, simp) -> sp.Expr:
    return _trace_with_inverse(g, _ricci(g, coords, simp), simp)


# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------


def inverse_metric(g: sp.MatrixBase, *, simplify: Simplifier = False, signature: Signature | None = None) -> sp.Matrix:
    """The inverse metric g^{ij} as an ``n x n`` Matrix.

    Diagonal metrics are inverted entrywise; otherwise ``adj(g) / det(g)`` (Berkowitz determinant),
    with no simplification unless ``simplify`` asks for it.

    Raises:
        InvalidParameterError: not a square, non-empty matrix.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError, SignatureError: as
            :func:`check_nondegenerate` (a singular metric has no inverse).

    >>> import sympy as sp
    >>> th = sp.Symbol("theta")
    >>> inverse_metric(sp.diag(1, sp.sin(th)**2))
    Matrix([
    [1,                0],
    [0, sin(theta)**(-2)]])
    """
    g = _as_metric(g)
    check_nondegenerate(g, signature=signature)
    return sp.Matrix(_inverse(g, as_simplifier(simplify)))


def christoffel(g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False, signature: Signature | None = None) -> sp.Array:
    r"""Christoffel symbols of the second kind, an ``(n, n, n)`` Array indexed ``[k, i, j]``.

    .. math:: \Gamma^k{}_{ij} = \tfrac12 g^{kl}(\partial_i g_{jl} + \partial_j g_{il} - \partial_l g_{ij})

    Symmetric in ``(i, j)``.  Unit sphere ``g = diag(1, sin²θ)`` in ``(θ, φ)``:
    ``Γ^θ_{φφ} = −sin θ cos θ``, ``Γ^φ_{θφ} = cos θ / sin θ``.

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
        SignatureError: with ``signature``, a metric of numbers with other eigenvalue signs.
    """
    g, coords = _prepare(g, coords, signature)
    return sp.Array(_christoffel(g, coords, as_simplifier(simplify)))


def riemann_tensor(g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False, signature: Signature | None = None) -> sp.Array:
    r"""The Riemann tensor R^a_{bcd}, an ``(n, n, n, n)`` Array indexed ``[a, b, c, d]``.

    .. math:: R^a{}_{bcd} = \partial_c \Gamma^a{}_{db} - \partial_d \Gamma^a{}_{cb}
              + \Gamma^a{}_{ce}\Gamma^e{}_{db} - \Gamma^a{}_{de}\Gamma^e{}_{cb}

    so that ``[∇_c, ∇_d] V^a = R^a_{bcd} V^b`` and the unit sphere has ``R^θ_{φθφ} = sin²θ``.
    Antisymmetric in ``(c, d)`` exactly (only ``c < d`` is computed).

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
        SignatureError: with ``signature``, a metric of numbers with other eigenvalue signs.
    """
    g, coords = _prepare(g, coords, signature)
    return sp.Array(_riemann(g, coords, as_simplifier(simplify)))


def ricci_tensor(g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False, signature: Signature | None = None) -> sp.Matrix:
    r"""The Ricci tensor ``R_{bd} = R^a_{bad}``, a symmetric ``n x n`` Matrix.

    Computed from Γ by the contracted formula
    ``R_{bd} = ∂_a Γ^a_{db} − ∂_d Γ^a_{ab} + Γ^a_{ae} Γ^e_{db} − Γ^a_{de} Γ^e_{ab}``
    (equal to contracting :func:`riemann_tensor`; the tests check this).  Positive on spheres:
    the round S^n of radius r has ``R_{ij} = (n−1)/r² g_{ij}``.

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
        SignatureError: with ``signature``, a metric of numbers with other eigenvalue signs.
    """
    g, coords = _prepare(g, coords, signature)
    return sp.Matrix(_ricci(g, coords, as_simplifier(simplify)))


def ricci_scalar(g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False, signature: Signature | None = None) -> sp.Expr:
    """The scalar curvature ``R = g^{bd} R_{bd}``.

    Unit round S² has R = +2; the round S^n of radius r has R = n(n−1)/r²; the Poincaré
    half-plane (dx² + dy²)/y² has R = −2.

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
        SignatureError: with ``signature``, a metric of numbers with other eigenvalue signs.

    >>> import sympy as sp
    >>> th, ph = sp.symbols("theta phi")
    >>> ricci_scalar(sp.diag(1, sp.sin(th)**2), (th, ph), simplify=True)
    2
    """
    g, coords = _prepare(g, coords, signature)
    return _scalar(g, coords, as_simplifier(simplify))


def hessian(f: sp.Expr, g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False) -> sp.Matrix:
    r"""The covariant Hessian ``∇_i ∇_j f = ∂_i ∂_j f − Γ^k_{ij} ∂_k f``, a symmetric ``n x n`` Matrix.

    This is the ``∇_i ∇_j φ`` of the Perelman flow (2.40).

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
    """
    g, coords = _prepare(g, coords)
    simp = as_simplifier(simplify)
    n = len(coords)
    f = sp.sympify(f)
    G = _christoffel(g, coords, simp)
    df = [sp.diff(f, x) for x in coords]
    entries = {}
    for i in range(n):
        for j in range(i, n):
            value = sp.diff(df[j], coords[i]) - sp.Add(*[G[k, i, j] * df[k] for k in range(n)])
            entries[(i, j)] = entries[(j, i)] = apply_simplifier(value, simp)
    return sp.Matrix(n, n, lambda i, j: entries[(i, j)])


def laplacian(f: sp.Expr, g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False) -> sp.Expr:
    r"""The Laplace–Beltrami operator ``Δf = g^{ij} ∇_i ∇_j f`` (the analyst's sign: Δ ≤ 0 on L²).

    Equal to ``(1/√g) ∂_i(√g g^{ij} ∂_j f)``; on the unit S², ``Δ cos θ = −2 cos θ``.

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
    """
    g, coords = _prepare(g, coords)
    return _trace_with_inverse(g, hessian(f, g, coords, simplify=simplify), as_simplifier(simplify))


def grad_norm_sq(f: sp.Expr, g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False) -> sp.Expr:
    """``|∇f|² = g^{ij} ∂_i f ∂_j f`` (the ``|∇φ|²`` of the Perelman functional (2.41)).

    Raises:
        InvalidParameterError: a metric that is not square, or coordinates that are not distinct
            Symbols, one per row.
        NotSymmetricError: ``g_ij − g_ji`` does not simplify to zero.
        NonFiniteError, DegenerateInputError, NotPositiveDefiniteError: a non-finite entry, a
            determinant that is identically zero, a metric of numbers that is not positive
            definite (:func:`check_nondegenerate`).
    """
    g, coords = _prepare(g, coords)
    f = sp.sympify(f)
    df = sp.Matrix([sp.diff(f, x) for x in coords])
    return _trace_with_inverse(g, df * df.T, as_simplifier(simplify))


def volume_density(g: sp.MatrixBase, coords: Sequence[sp.Symbol], *, simplify: Simplifier = False) -> sp.Expr:
    """The Riemannian volume density ``√det g`` (so ``dV = √det g dⁿx``, the dV of (2.41)).

    No branch of the square root is chosen for the caller: ``√(r⁴ sin²θ)`` stays as it is unless
    ``simplify`` (or symbols declared positive) allows sympy to take it apart.  The metric must be
    positive definite (``det g > 0``): enforced exactly for a metric of numbers, so that
    ``diag(−1, 1)`` is refused rather than given the density ``I``; a symbolic metric is the
    caller's to check (:func:`check_metric`).

    Raises:
        InvalidParameterError, NotSymmetricError: as :func:`christoffel`.
        NonFiniteError: a non-finite entry.
        DegenerateInputError: ``det g`` is identically zero (the density would vanish everywhere).
        NotPositiveDefiniteError: a metric of numbers that is not positive definite.
    """
    g, coords = _prepare(g, coords)
    simp = as_simplifier(simplify)
    return apply_simplifier(sp.sqrt(g.det(method="berkowitz")), simp)
