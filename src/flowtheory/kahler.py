r"""Kähler geometry in complex coordinates: Wirtinger derivatives, metrics from potentials, Ricci form.

Complex coordinates ``z_a`` are represented by *pairs* of sympy symbols ``(z_a, zbar_a)`` that are
treated as independent variables.  For an expression written in ``z`` and ``zbar`` the Wirtinger
derivatives are then ordinary partial derivatives,

.. math:: \partial_a = \frac{\partial}{\partial z_a}, \qquad
          \bar\partial_{\bar b} = \frac{\partial}{\partial \bar z_b},

and the physical value of an expression is recovered by setting ``z_a = x_a + i y_a``,
``zbar_a = x_a − i y_a`` (:func:`at_point`, :func:`to_real`).  :func:`complex_coordinates`
makes such pairs (``zbar`` is named ``z`` + ``"b"``: ``z, zb``); :func:`replace_conjugates`
rewrites ``conjugate(z)``, ``re(z)``, ``im(z)`` and ``Abs(z)`` in terms of the pair (every function
here applies it to the metric it is given, so ``conjugate(z)`` may be used directly).

Index convention: a Hermitian metric is the ``n x n`` matrix ``g[a, b] = g_{a b̄}``.  Its inverse
``g^{a b̄}`` is defined by ``g^{a b̄} g_{c b̄} = δ^a_c`` and returned indexed ``[a, b]``
(:func:`inverse_metric`), so traces are plain elementwise sums ``Σ_{ab} g^{a b̄} T_{a b̄}``.

Normalisation (the factors of 2).  The paper's Kähler form (B.2) is ``J = (i/2) g_{a b̄} dz^a ∧ dz̄^b``,
which is the Kähler form of the Riemannian line element

.. math:: ds^2 = g_{a\bar b}\, dz^a d\bar z^b \quad (\text{"line-element" components}),

so ``g_{a b̄} = 2 G(∂_a, ∂̄_b)`` in terms of the Riemannian metric tensor ``G``; e.g.
``K = ln(1 + |z|²)`` gives ``ds² = |dz|²/(1 + |z|²)²``, the round sphere of radius 1/2.  The Ricci
form (B.3) ``R_{a b̄} = −∂_a ∂̄_b ln det g`` is unchanged by a constant rescaling of ``g``, and is the
*tensor* component ``Ric(∂_a, ∂̄_b)`` of the Riemannian Ricci tensor of ``G``.  Consequently, with
line-element components (the paper's, and this module's default):

* Riemannian scalar curvature of ``G`` = ``4 · g^{a b̄} R_{a b̄}`` (:func:`scalar_curvature` returns
  ``g^{a b̄} R_{a b̄}``, the ``R`` of the paper's (B.8));
* Laplace–Beltrami operator of ``G`` = ``4 · g^{a b̄} ∂_a ∂̄_b`` (:func:`kahler_laplacian`);

and with *tensor* components (``g_{a b̄} = G(∂_a, ∂̄_b)``, ``ds² = 2 g_{a b̄} dz^a dz̄^b``) both factors
are 2 (:data:`RIEMANNIAN_FACTOR`).  The tests and ``proofs/geometry.py`` derive these factors by
computing both sides with :mod:`flowtheory.riemann` on :func:`to_real` metrics.

As in :mod:`flowtheory.riemann`, nothing is simplified on the caller's behalf; functions take
``simplify=`` (``False``, ``True`` or a callable), and the inverse metric and the Ricci form are
cached by the value of the metric (:func:`flowtheory.caching.cached_by_value`).  The curvature
functions reject, before any derivative is taken, a metric that no sample point can save
(:func:`flowtheory.riemann.check_nondegenerate` with ``hermitian=True``): NaN or infinite entries,
``det g`` identically zero (the zero metric, whose ``ln det g`` would silently give ``R_{a b̄} = 0``),
and a metric of numbers that is not Hermitian positive definite.  :func:`to_real` takes any
Hermitian form (a Ricci form may vanish) and is not restricted so.
"""

from __future__ import annotations

from typing import Literal, Mapping, Sequence

import sympy as sp

from flowtheory.caching import cached_by_value
from flowtheory.errors import (
    EmptyInputError,
    InvalidParameterError,
    NonFiniteError,
    NotKahlerError,
    NotPositiveDefiniteError,
    NotSymmetricError,
)
from flowtheory.exact import evaluate, random_rational_points
from flowtheory.riemann import Simplifier, apply_simplifier, as_simplifier, check_nondegenerate

__all__ = [
    "Components",
    "RIEMANNIAN_FACTOR",
    "at_point",
    "check_kahler_metric",
    "christoffel",
    "complex_coordinates",
    "d",
    "dbar",
    "default_sample_points",
    "inverse_metric",
    "kahler_laplacian",
    "metric_from_potential",
    "replace_conjugates",
    "ricci_form",
    "scalar_curvature",
    "to_real",
]

Components = Literal["line-element", "tensor"]

#: Riemannian scalar curvature of the real metric = factor · g^{a b̄} R_{a b̄}, and
#: Laplace–Beltrami = factor · g^{a b̄} ∂_a ∂̄_b, for the two normalisations of g_{a b̄}.
RIEMANNIAN_FACTOR: dict[str, int] = {"line-element": 4, "tensor": 2}


# ----------------------------------------------------------------------------------------------
# coordinates and derivatives
# ----------------------------------------------------------------------------------------------


def complex_coordinates(names: str | Sequence[str]) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """Pairs of independent symbols for complex coordinates: ``("z w")`` → ``((z, w), (zb, wb))``.

    >>> complex_coordinates("z w")
    ((z, w), (zb, wb))
    """
    if isinstance(names, str):
        names = names.split()
    names = list(names)
    if not names:
        raise InvalidParameterError("at least one complex coordinate is required")
    bars = [f"{name}b" for name in names]
    if len(set(names) | set(bars)) != 2 * len(names):
        raise InvalidParameterError(f"coordinate names {names} collide with their conjugates {bars}")
    return tuple(sp.Symbol(n) for n in names), tuple(sp.Symbol(b) for b in bars)


def _pairs(z, zbar) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    z = tuple(z) if isinstance(z, (tuple, list)) else (z,)
    zbar = tuple(zbar) if isinstance(zbar, (tuple, list)) else (zbar,)
    if len(z) != len(zbar) or not z:
        raise InvalidParameterError(f"need as many conjugates as coordinates, got {z} and {zbar}")
    symbols = z + zbar
    if not all(isinstance(s, sp.Symbol) for s in symbols) or len(set(symbols)) != len(symbols):
        raise InvalidParameterError(f"coordinates and conjugates must be distinct Symbols, got {z} and {zbar}")
    return z, zbar


def d(expr: sp.Expr, z: sp.Symbol) -> sp.Expr:
    """Holomorphic Wirtinger derivative ``∂f/∂z`` (``zbar`` held fixed)."""
    return sp.diff(expr, z)


def dbar(expr: sp.Expr, zbar: sp.Symbol) -> sp.Expr:
    """Antiholomorphic Wirtinger derivative ``∂f/∂z̄``, differentiating by the conjugate symbol."""
    return sp.diff(expr, zbar)


def replace_conjugates(expr: sp.Expr, z, zbar) -> sp.Expr:
    """Rewrite ``conjugate(z_a)``, ``re``, ``im``, ``Abs`` of the coordinates in terms of ``(z_a, zbar_a)``.

    ``conjugate(z) → zbar``, ``re(z) → (z + zbar)/2``, ``im(z) → (z − zbar)/(2i)``,
    ``Abs(z) → sqrt(z·zbar)``.  So ``log(1 + Abs(z)**2)`` becomes ``log(1 + z·zbar)``.
    """
    z, zbar = _pairs(z, zbar)
    rules = {}
    for a, b in zip(z, zbar):
        rules[sp.conjugate(a)] = b
        rules[sp.re(a)] = (a + b) / 2
        rules[sp.im(a)] = (a - b) / (2 * sp.I)
        rules[sp.Abs(a)] = sp.sqrt(a * b)
    return sp.sympify(expr).xreplace(rules)


def metric_from_potential(K: sp.Expr, z, zbar) -> sp.Matrix:
    """The Kähler metric (B.1) ``g_{a b̄} = ∂_a ∂̄_b K`` as an ``n x n`` Matrix indexed ``[a, b]``.

    >>> (z,), (zb,) = complex_coordinates("z")
    >>> metric_from_potential(sp.log(1 + z*zb), z, zb)
    Matrix([[-z*zb/(z*zb + 1)**2 + 1/(z*zb + 1)]])
    """
    z, zbar = _pairs(z, zbar)
    K = replace_conjugates(K, z, zbar)
    first = [sp.diff(K, b) for b in zbar]
    return sp.Matrix(len(z), len(z), lambda a, b: sp.diff(first[b], z[a]))


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def _prepare(g, z, zbar):
    z, zbar = _pairs(z, zbar)
    try:
        g = sp.ImmutableMatrix(g)
    except (TypeError, ValueError, sp.SympifyError) as exc:
        raise InvalidParameterError(f"metric is not a matrix: {exc}") from None
    if g.rows != g.cols:
        raise InvalidParameterError(f"metric must be square, got shape {g.shape}")
    if g.rows != len(z):
        raise InvalidParameterError(f"metric is {g.rows}x{g.cols} but there are {len(z)} complex coordinates")
    return sp.ImmutableMatrix(replace_conjugates(g, z, zbar)), z, zbar


def _prepare_metric(g, z, zbar):
    """:func:`_prepare`, then the metric checks of the curvature functions (module docstring)."""
    g, z, zbar = _prepare(g, z, zbar)
    check_nondegenerate(g, hermitian=True)
    return g, z, zbar


def at_point(expr, z, zbar, point: Sequence[complex] | Mapping, digits: int = 30):
    """``expr`` at ``z_a = w_a``, ``zbar_a = conj(w_a)``: a ``complex`` (numpy array for a matrix).

    ``point`` is a sequence of complex numbers (one per coordinate; Python complex, or sympy numbers
    such as ``Rational(1, 3) + I/5``) or a mapping that also fixes other symbols.  Evaluated at
    ``digits`` digits by :func:`flowtheory.exact.evaluate`.

    >>> (z,), (zb,) = complex_coordinates("z")
    >>> at_point(z * zb, z, zb, [sp.Rational(3, 10) + sp.I * sp.Rational(2, 5)])
    (0.25+0j)
    """
    z, zbar = _pairs(z, zbar)
    extra = {}
    if isinstance(point, Mapping):
        extra = {k: v for k, v in point.items() if k not in z}
        point = [point[a] for a in z]
    if len(point) != len(z):
        raise InvalidParameterError(f"point {tuple(point)} has {len(point)} values for {len(z)} coordinates")
    subs = dict(extra)
    for a, b, w in zip(z, zbar, point):
        w = sp.nsimplify(w) if isinstance(w, complex) else sp.sympify(w)
        subs[a], subs[b] = w, sp.conjugate(w)
    return evaluate(expr, subs, digits)


def default_sample_points(n: int, n_points: int = 5, seed: int = 0) -> list[tuple[sp.Expr, ...]]:
    """Points for :func:`check_kahler_metric`: ``x + i y`` with exact rationals x, y in [−1/2, 1/2].

    Raises:
        InvalidParameterError: ``n`` (complex dimension) or ``n_points`` not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidParameterError(f"n (the complex dimension) must be a positive integer, got {n!r}")
    w = sp.symbols(f"w0:{n}")
    points = random_rational_points(w, n_points, seed, low=-0.5, high=0.5, imaginary=True)
    return [tuple(p[s] for s in w) for p in points]


def check_kahler_metric(g: sp.MatrixBase, z, zbar, sample_points=None, *, rtol: float = 1e-12) -> None:
    """Validate a Kähler metric ``g_{a b̄}``; return ``None`` or raise a named error.

    Checks: square and one row per coordinate; closedness ``∂_c g_{a b̄} = ∂_a g_{c b̄}`` and
    ``∂̄_c g_{a b̄} = ∂̄_b g_{a c̄}`` (symbolically: the Kähler condition dJ = 0 under which (B.3)
    holds); at each sample point (default :func:`default_sample_points`, other free symbols drawn
    in [1/10, 9/10]): Hermitian and positive definite.

    Raises:
        InvalidParameterError, NotKahlerError, NotSymmetricError (not Hermitian),
        NotPositiveDefiniteError, NonFiniteError.
        EmptyInputError: ``sample_points`` is given but empty (nothing would be checked).
    """
    import numpy as np

    g, z, zbar = _prepare(g, z, zbar)
    n = len(z)
    for a in range(n):
        for c in range(a + 1, n):
            for b in range(n):
                if sp.simplify(sp.diff(g[a, b], z[c]) - sp.diff(g[c, b], z[a])) != 0:
                    raise NotKahlerError(f"∂_{z[c]} g[{a},{b}] ≠ ∂_{z[a]} g[{c},{b}]: the metric is not Kähler")
                if sp.simplify(sp.diff(g[b, a], zbar[c]) - sp.diff(g[b, c], zbar[a])) != 0:
                    raise NotKahlerError(f"∂_{zbar[c]} g[{b},{a}] ≠ ∂_{zbar[a]} g[{b},{c}]: the metric is not Kähler")
    extra = sorted(g.free_symbols - set(z) - set(zbar), key=str)
    if sample_points is None:
        coordinates = default_sample_points(n)
        constants = random_rational_points(extra, len(coordinates), seed=1, low=0.1, high=0.9)
        sample_points = [{**dict(zip(z, p)), **c} for p, c in zip(coordinates, constants)]
    elif len(sample_points) == 0:
        raise EmptyInputError("sample_points is empty: positivity would be checked nowhere")
    for point in sample_points:
        try:
            array = at_point(g, z, zbar, point)
        except NonFiniteError:
            raise NonFiniteError(f"metric is not finite at {point}") from None
        scale = float(np.max(np.abs(array))) or 1.0
        if np.max(np.abs(array - array.conj().T)) > rtol * scale:
            raise NotSymmetricError(f"metric is not Hermitian at {point}")
        eig = np.linalg.eigvalsh(array)
        if eig[0] <= rtol * scale:
            raise NotPositiveDefiniteError(f"metric is not positive definite at {point}: smallest eigenvalue {eig[0]:.3g}")


# ----------------------------------------------------------------------------------------------
# curvature
# ----------------------------------------------------------------------------------------------


@cached_by_value(maxsize=128)
def _inverse(g: sp.ImmutableMatrix, simp) -> sp.ImmutableMatrix:
    if g.is_diagonal():
        inv = sp.diag(*[1 / g[i, i] for i in range(g.rows)])
    else:
        inv = g.adjugate(method="berkowitz").T / g.det(method="berkowitz")
    return sp.ImmutableMatrix(inv.applyfunc(lambda e: apply_simplifier(e, simp)))


def inverse_metric(g: sp.MatrixBase, *, simplify: Simplifier = False) -> sp.Matrix:
    """``g^{a b̄}`` indexed ``[a, b]``, defined by ``Σ_b g^{a b̄} g_{c b̄} = δ^a_c`` (the transpose of ``g⁻¹``).

    Raises:
        InvalidParameterError: not a square, non-empty matrix.
        NonFiniteError, DegenerateInputError, NotSymmetricError, NotPositiveDefiniteError: as
            :func:`flowtheory.riemann.check_nondegenerate` (``hermitian=True``; a singular metric
            has no inverse).
    """
    g = sp.ImmutableMatrix(g)
    if g.rows != g.cols or g.rows == 0:
        raise InvalidParameterError(f"metric must be square and non-empty, got shape {g.shape}")
    check_nondegenerate(g, hermitian=True)
    return sp.Matrix(_inverse(g, as_simplifier(simplify)))


def _trace(ginv: sp.Matrix, t: sp.Matrix) -> sp.Expr:
    n = ginv.rows
    return sp.Add(*[ginv[a, b] * t[a, b] for a in range(n) for b in range(n) if ginv[a, b] != 0])


def christoffel(g: sp.MatrixBase, z, zbar, *, simplify: Simplifier = False) -> sp.Array:
    r"""The unmixed Christoffel symbols ``Γ^a_{bc} = g^{a d̄} ∂_b g_{c d̄}``, an Array indexed ``[a, b, c]``.

    For a Kähler metric these (and their conjugates ``Γ^ā_{b̄c̄}``) are the only non-zero
    Christoffel symbols of the Levi-Civita connection in complex coordinates; symmetric in ``(b, c)``.

    Raises:
        InvalidParameterError: a metric that is not square with one row per complex coordinate, or
            coordinates and conjugates that are not distinct Symbols.
        NonFiniteError, DegenerateInputError, NotSymmetricError, NotPositiveDefiniteError: a
            non-finite entry, ``det g`` identically zero, a metric of numbers that is not Hermitian
            positive definite (:func:`flowtheory.riemann.check_nondegenerate`).
    """
    g, z, zbar = _prepare_metric(g, z, zbar)
    simp = as_simplifier(simplify)
    n = len(z)
    ginv = inverse_metric(g, simplify=simplify)
    data = [
        [
            [apply_simplifier(sp.Add(*[ginv[a, e] * sp.diff(g[c, e], z[b]) for e in range(n)]), simp) for c in range(n)]
            for b in range(n)
        ]
        for a in range(n)
    ]
    return sp.Array(data, (n, n, n))


def ricci_form(g: sp.MatrixBase, z, zbar, *, simplify: Simplifier = False) -> sp.Matrix:
    r"""The Ricci tensor of a Kähler metric (B.3): ``R_{a b̄} = −∂_a ∂̄_b ln det g``, indexed ``[a, b]``.

    ``R_{a b̄}`` is the component ``Ric(∂_a, ∂̄_b)`` of the Riemannian Ricci tensor of the real
    metric, whatever the normalisation of ``g``; the Ricci form is ``ρ = i R_{a b̄} dz^a ∧ dz̄^b``.
    Fubini–Study ``K = ln(1 + Σ|z|²)`` on CP^n gives ``R_{a b̄} = (n + 1) g_{a b̄}``.

    Raises:
        InvalidParameterError: a metric that is not square with one row per complex coordinate, or
            coordinates and conjugates that are not distinct Symbols.
        NonFiniteError, DegenerateInputError, NotSymmetricError, NotPositiveDefiniteError: a
            non-finite entry, ``det g`` identically zero, a metric of numbers that is not Hermitian
            positive definite (:func:`flowtheory.riemann.check_nondegenerate`).
    """
    g, z, zbar = _prepare_metric(g, z, zbar)
    return sp.Matrix(_ricci_form(g, z, zbar, as_simplifier(simplify)))


@cached_by_value(maxsize=128)
def _ricci_form(g: sp.ImmutableMatrix, z: tuple, zbar: tuple, simp) -> sp.ImmutableMatrix:
    log_det = sp.log(g.det(method="berkowitz"))
    first = [sp.diff(log_det, b) for b in zbar]
    return sp.ImmutableMatrix(len(z), len(z), lambda a, b: apply_simplifier(-sp.diff(first[b], z[a]), simp))


def scalar_curvature(g: sp.MatrixBase, z, zbar, *, simplify: Simplifier = False) -> sp.Expr:
    """``g^{a b̄} R_{a b̄}`` — the ``R`` of the paper's (B.8).

    The Riemannian scalar curvature of the real metric is ``RIEMANNIAN_FACTOR[components]`` times
    this: 4 for the paper's line-element normalisation (B.2) (Fubini–Study on CP^1 with
    ``K = ln(1 + |z|²)``: ``g^{a b̄} R_{a b̄} = 2``, the sphere of radius 1/2 has R = 8), 2 for
    tensor components.

    Raises:
        InvalidParameterError: a metric that is not square with one row per complex coordinate, or
            coordinates and conjugates that are not distinct Symbols.
        NonFiniteError, DegenerateInputError, NotSymmetricError, NotPositiveDefiniteError: a
            non-finite entry, ``det g`` identically zero, a metric of numbers that is not Hermitian
            positive definite (:func:`flowtheory.riemann.check_nondegenerate`).
    """
    g, z, zbar = _prepare_metric(g, z, zbar)
    simp = as_simplifier(simplify)
    return apply_simplifier(_trace(inverse_metric(g, simplify=simplify), ricci_form(g, z, zbar, simplify=simplify)), simp)


def kahler_laplacian(f: sp.Expr, g: sp.MatrixBase, z, zbar, *, simplify: Simplifier = False) -> sp.Expr:
    """``g^{a b̄} ∂_a ∂̄_b f``; the Laplace–Beltrami operator of the real metric is 4× this
    (line-element normalisation, the paper's) or 2× (tensor components): :data:`RIEMANNIAN_FACTOR`.

    Raises:
        InvalidParameterError: a metric that is not square with one row per complex coordinate, or
            coordinates and conjugates that are not distinct Symbols.
        NonFiniteError, DegenerateInputError, NotSymmetricError, NotPositiveDefiniteError: a
            non-finite entry, ``det g`` identically zero, a metric of numbers that is not Hermitian
            positive definite (:func:`flowtheory.riemann.check_nondegenerate`).
    """
    g, z, zbar = _prepare_metric(g, z, zbar)
    simp = as_simplifier(simplify)
    f = replace_conjugates(f, z, zbar)
    hess = sp.Matrix(len(z), len(z), lambda a, b: sp.diff(f, z[a], zbar[b]))
    return apply_simplifier(_trace(inverse_metric(g, simplify=simplify), hess), simp)


def to_real(
    h: sp.MatrixBase,
    z,
    zbar,
    x: Sequence[sp.Symbol],
    y: Sequence[sp.Symbol],
    *,
    components: Components = "line-element",
    simplify: Simplifier = False,
) -> sp.Matrix:
    """The real symmetric ``2n x 2n`` matrix of a Hermitian form ``h_{a b̄}`` in coordinates
    ``(x_1, …, x_n, y_1, …, y_n)``, ``z_a = x_a + i y_a``.

    With ``h = A + iB`` (``A = (h + hᵀ)/2`` real symmetric, ``B = (h − hᵀ)/(2i)`` real antisymmetric
    for Hermitian ``h``), the quadratic form ``h_{a b̄} dz^a dz̄^b`` is

    .. math:: \\begin{pmatrix} A & B \\\\ -B & A \\end{pmatrix}
              \\quad(\\text{``line-element''}),

    and twice that for ``components="tensor"`` (``h_{a b̄} = T(∂_a, ∂̄_b)`` of a real symmetric
    J-invariant tensor ``T``).  So ``to_real(g, …)`` is the Riemannian metric of the paper's (B.2),
    and the Riemannian Ricci tensor of that metric is ``to_real(ricci_form(g), …, components="tensor")``.
    Entries are expressions in ``x`` and ``y``; the substitution introduces ``I`` in intermediate
    products such as ``(x + I*y)*(x − I*y)``, which ``simplify=sympy.expand`` (polynomial entries)
    or ``simplify=sympy.cancel`` (rational entries) multiplies out into manifestly real form.
    """
    g_, z, zbar = _prepare(h, z, zbar)
    x, y = tuple(x), tuple(y)
    if len(x) != len(z) or len(y) != len(z):
        raise InvalidParameterError(f"need {len(z)} real and {len(z)} imaginary coordinates, got {x} and {y}")
    if components not in RIEMANNIAN_FACTOR:
        raise InvalidParameterError(f"components must be one of {sorted(RIEMANNIAN_FACTOR)}, got {components!r}")
    simp = as_simplifier(simplify)
    factor = 1 if components == "line-element" else 2
    subs = {}
    for a, b, xa, ya in zip(z, zbar, x, y):
        subs[a], subs[b] = xa + sp.I * ya, xa - sp.I * ya
    m = sp.Matrix(g_).xreplace(subs)
    A = (m + m.T) / 2
    B = (m - m.T) / (2 * sp.I)
    real = factor * sp.Matrix(sp.BlockMatrix([[A, B], [-B, A]]))
    return real.applyfunc(lambda e: apply_simplifier(e, simp))
