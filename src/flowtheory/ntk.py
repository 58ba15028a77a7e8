r"""Metric networks, the metric-NTK and the metric flows it induces (paper sections 2.1–2.3).

A *metric network* is a d×d matrix g_θ(x) whose entries are sympy expressions in coordinates x
and finitely many parameters θ_1..θ_P.  Gradient descent on the parameters (2.2) of a loss that is
a sum (2.3) or an integral (2.4) of a pointwise loss l[g](x') pushes forward (2.1) to a flow of the
metric; written with the metric-NTK (2.7) it is the kernel flow (2.8).  This module builds both
routes from their definitions — the parameter route by sympy's chain rule (and Leibniz's rule under
an unevaluated :class:`sympy.Integral`), the kernel route by contraction — so that the proofs can
show they coincide rather than assume it.

Conventions (stated once, used throughout):

* Points are tuples of sympy symbols; ``x`` is the external point, ``xp`` the integrated point x'.
* **Variation of a pointwise loss.**  A pointwise loss is a function l(g, x) of a *symmetric* metric.
  We extend it to all d×d matrices M by l̂(M) = l((M+Mᵀ)/2, x) and define
  δl/δg_kl := ∂l̂/∂M_kl |_{M=g}, a symmetric matrix.  With this convention the chain rule reads
  dl/dθ = Σ_{k,l} δl/δg_kl ∂g_kl/∂θ with the sum over *all* d² pairs (k,l), as in (2.5)–(2.8).
  (The derivative with respect to an independent off-diagonal component g_{kl}, k<l, is twice it.)
* Metric-NTK: Θ_ijkl(x,x') = Σ_I ∂g_ij(x)/∂θ_I ∂g_kl(x')/∂θ_I (2.7), stored as a rank-4 sympy
  array of shape (d, d, d, d).  A *kernel* argument is a callable ``kernel(x, xp)`` returning such an
  array; a *variation* argument is a callable ``variation(xp)`` returning δl/δg_kl at xp.
* Measures: dμ(x') = ρ(x') d^dx' with a density expression ρ in xp; the δ-function of a local kernel
  is with respect to dμ, δ_μ(x−x') = δ_{R^d}(x−x')/ρ(x') (2.25)–(2.26).
* Gaussian family: N_σ(x−x') = (2πσ²)^{−d/2} exp(−|x−x'|²/(2σ²)) in chart coordinates (2.27);
  "g̃" denotes det g̃, the determinant of the reference metric (positive).

Nothing here calls ``simplify``; every result is returned as built.  Objects are frozen dataclasses
with ``_repr_latex_`` for notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Callable, Literal, Mapping, Sequence

import sympy as sp

from flowtheory.caching import cached_by_value
from flowtheory.errors import DegenerateInputError, EmptyInputError, InvalidParameterError, NonFiniteError, NotSymmetricError
from flowtheory.latex import latex

Point = tuple[sp.Symbol, ...]
Kernel = Callable[[Point, Point], sp.NDimArray]
Variation = Callable[[Point], sp.MatrixBase]
Parameterisation = Literal["all-entries", "symmetric"]

__all__ = [
    "MetricNetwork",
    "PointwiseLoss",
    "MetricNTK",
    "ComponentNTK",
    "GaussianFamily",
    "SmearingExpansion",
    "primed",
    "metric_ntk",
    "scalar_ntk",
    "batch_loss",
    "integral_loss",
    "pushforward_flow",
    "flow_discrete",
    "flow_continuous",
    "linearize",
    "local_kernel",
    "local_flow",
    "component_ntk",
    "component_flow",
    "rescaled_kernel",
    "gaussian",
    "gaussian_family",
    "smearing_expansion",
    "local_limit",
    "merge_integrals",
]


def _latex_eq(lhs: str, rhs: object) -> str:
    return f"$\\displaystyle {lhs} = {latex(rhs)}$"


def primed(x: Sequence[sp.Symbol]) -> Point:
    """The integrated point x' matching ``x``: real symbols named ``x'`` after each coordinate."""
    return tuple(sp.Symbol(f"{s.name}'", real=True) for s in x)


def _check_point(point: Sequence, d: int, what: str) -> Point:
    point = tuple(point)
    if len(point) != d:
        raise InvalidParameterError(f"{what} has {len(point)} coordinates, expected {d}")
    return point


def _check_pair(x: Sequence, xp: Sequence) -> tuple[Point, Point]:
    """``x`` with at least one coordinate and ``xp`` with as many."""
    x = tuple(x)
    if not x:
        raise EmptyInputError("x is empty: need at least one coordinate")
    return x, _check_point(xp, len(x), "xp")


def _check_square(m: sp.MatrixBase, name: str) -> sp.ImmutableMatrix:
    """``m`` as an immutable square matrix of size ``>= 1``."""
    m = sp.ImmutableMatrix(m)
    if m.rows != m.cols:
        raise InvalidParameterError(f"{name} must be a square matrix, got shape {m.shape}")
    if m.rows == 0:
        raise EmptyInputError(f"{name} is empty: need a d x d matrix with d >= 1")
    return m


def check_positive(value, name: str) -> sp.Expr:
    """``value`` as a sympy expression, unless it is provably not a positive finite number.

    An expression whose sign sympy cannot decide (an undeclared symbol) passes.

    >>> check_positive(0, "sigma")
    Traceback (most recent call last):
        ...
    flowtheory.errors.InvalidParameterError: sigma must be positive, got 0

    Raises:
        NonFiniteError: ``value`` contains ``nan``, ``oo`` or ``zoo``.
        InvalidParameterError: ``value`` is zero, negative or not real.
    """
    v = sp.sympify(value)
    if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NonFiniteError(f"{name} = {v} is not finite")
    if v.is_positive is False:
        raise InvalidParameterError(f"{name} must be positive, got {v}")
    return v


def _to_point(expr, frm: Point, to: Point):
    """``expr`` with the coordinates ``frm`` replaced by ``to`` (simultaneously)."""
    if frm == to:
        return expr
    return expr.subs(dict(zip(frm, to)), simultaneous=True)


# --- networks and losses ---------------------------------------------------------------------


@dataclass(frozen=True)
class MetricNetwork:
    r"""A metric g_θ(x) represented by a network with finitely many parameters (section 2.1).

    Attributes:
        metric: d×d immutable sympy matrix; entries are expressions in ``coords`` and ``params``
            (and possibly other constants).
        coords: the coordinate symbols x_1..x_d the entries are written in.
        params: the parameters θ_1..θ_P (sympy symbols) that gradient descent updates.
        symmetric: whether g is required to be symmetric (default).  ``False`` admits the reading of
            (2.19)–(2.23) in which all d² entries are separate networks.

    Raises:
        InvalidParameterError: non-square metric, size ≠ len(coords), or no parameters.
        NotSymmetricError: ``symmetric=True`` and g_ij − g_ji is not identically zero.
    """

    metric: sp.ImmutableMatrix
    coords: Point
    params: tuple[sp.Symbol, ...]
    symmetric: bool = True

    def __post_init__(self):
        object.__setattr__(self, "metric", sp.ImmutableMatrix(self.metric))
        object.__setattr__(self, "coords", tuple(self.coords))
        object.__setattr__(self, "params", tuple(self.params))
        rows, cols = self.metric.shape
        if rows != cols or rows != len(self.coords) or rows == 0:
            raise InvalidParameterError(f"metric of shape {self.metric.shape} for {len(self.coords)} coordinates")
        if not self.params:
            raise InvalidParameterError("a metric network needs at least one parameter")
        if self.symmetric:
            for i in range(rows):
                for j in range(i + 1, rows):
                    if sp.expand(self.metric[i, j] - self.metric[j, i]) != 0:
                        raise NotSymmetricError(f"g[{i},{j}] != g[{j},{i}]; pass symmetric=False for d^2 separate networks")

    @property
    def dim(self) -> int:
        return self.metric.shape[0]

    def at(self, point: Sequence[sp.Expr]) -> sp.ImmutableMatrix:
        """g_ij at ``point`` (coordinates substituted)."""
        return _to_point(self.metric, self.coords, _check_point(point, self.dim, "point"))

    def jacobian(self, point: Sequence[sp.Expr]) -> tuple[sp.ImmutableMatrix, ...]:
        """(∂g_ij/∂θ_I at ``point``) for I = 1..P, one d×d matrix per parameter."""
        g = self.at(point)
        return tuple(g.diff(t) for t in self.params)

    def _repr_latex_(self) -> str:
        return _latex_eq("g_{\\theta}(" + ",".join(map(latex, self.coords)) + ")", self.metric)


@dataclass(frozen=True)
class PointwiseLoss:
    r"""A pointwise loss l[g](x) (2.3)–(2.4), stored on a generic matrix of symbols.

    Build it with :meth:`from_function`.  ``expr`` is l((M+Mᵀ)/2, x) in the d² independent symbols
    ``entries`` = M and the coordinates ``coords``; :meth:`variation` is δl/δg_kl in the convention
    of the module docstring (symmetric, chain rule over all d² pairs).
    """

    expr: sp.Expr
    entries: sp.ImmutableMatrix
    coords: Point

    @classmethod
    def from_function(cls, fn: Callable[[sp.Matrix, Point], sp.Expr], coords: Sequence[sp.Symbol]) -> "PointwiseLoss":
        """``fn(g, x)`` returns l for a symmetric d×d metric ``g`` at the point ``x``."""
        coords = tuple(coords)
        d = len(coords)
        M = sp.ImmutableMatrix(d, d, lambda i, j: sp.Symbol(f"M_{{{i}{j}}}"))
        return cls(expr=sp.sympify(fn((M + M.T) / 2, coords)), entries=M, coords=coords)

    @property
    def dim(self) -> int:
        return self.entries.shape[0]

    def _subs(self, net: MetricNetwork, point: Sequence[sp.Expr]) -> dict:
        g = net.at(point)
        d = self.dim
        sub = {self.entries[k, l]: g[k, l] for k in range(d) for l in range(d)}
        sub.update(zip(self.coords, point))
        return sub

    def at(self, net: MetricNetwork, point: Sequence[sp.Expr]) -> sp.Expr:
        """l[g_θ](point)."""
        return self.expr.subs(self._subs(net, point), simultaneous=True)

    def variation_entries(self) -> sp.ImmutableMatrix:
        """δl/δg_kl as a matrix in the generic symbols ``entries`` (not yet evaluated on a metric)."""
        d = self.dim
        return sp.ImmutableMatrix(d, d, lambda k, l: sp.diff(self.expr, self.entries[k, l]))

    def variation(self, net: MetricNetwork, point: Sequence[sp.Expr]) -> sp.ImmutableMatrix:
        """δl(x')/δg_kl(x') evaluated on g_θ at ``point``."""
        return self.variation_entries().subs(self._subs(net, point), simultaneous=True)

    def _repr_latex_(self) -> str:
        return _latex_eq("l[g]", self.expr)


# --- the metric-NTK (2.7) and the flows (2.1)–(2.8) --------------------------------------------


def _contract(K, V, d: int) -> sp.ImmutableMatrix:
    """(Θ·V)_ij = Σ_kl Θ_ijkl V_kl."""
    return sp.ImmutableMatrix(d, d, lambda i, j: sum((K[i, j, k, l] * V[k, l] for k in range(d) for l in range(d)), sp.S.Zero))


@dataclass(frozen=True)
class MetricNTK:
    r"""Θ_ijkl(x,x') = Σ_I ∂g_ij(x)/∂θ_I ∂g_kl(x')/∂θ_I (2.7), shape (d, d, d, d)."""

    array: sp.ImmutableDenseNDimArray
    x: Point
    xp: Point

    def __getitem__(self, idx):
        return self.array[idx]

    @property
    def dim(self) -> int:
        return self.array.shape[0]

    def contract(self, variation: sp.MatrixBase) -> sp.ImmutableMatrix:
        """Σ_kl Θ_ijkl(x,x') V_kl — the integrand/summand of (2.8) without the sign."""
        return _contract(self.array, variation, self.dim)

    def _repr_latex_(self) -> str:
        return _latex_eq("\\Theta_{ijkl}", self.array)


def metric_ntk(net: MetricNetwork, x: Sequence[sp.Expr], xp: Sequence[sp.Expr]) -> MetricNTK:
    r"""The metric-NTK (2.7) of ``net`` between the points ``x`` and ``xp``.

    Θ_ijkl(x,x') = Σ_{I=1}^{P} ∂g_ij(x)/∂θ_I ∂g_kl(x')/∂θ_I; symmetric under (ij,x) ↔ (kl,x').
    """
    x, xp = _check_point(x, net.dim, "x"), _check_point(xp, net.dim, "xp")
    a, b = net.jacobian(x), net.jacobian(xp)
    r = range(net.dim)
    arr = [[[[sum((aI[i, j] * bI[k, l] for aI, bI in zip(a, b)), sp.S.Zero) for l in r] for k in r] for j in r] for i in r]
    return MetricNTK(sp.ImmutableDenseNDimArray(arr), x, xp)


def scalar_ntk(phi: sp.Expr, coords: Sequence[sp.Symbol], params: Sequence[sp.Symbol], x: Sequence[sp.Expr], xp: Sequence[sp.Expr]) -> sp.Expr:
    r"""NTK of a scalar network φ(x; θ): Θ_φ(x,x') = Σ_I ∂φ(x)/∂θ_I ∂φ(x')/∂θ_I.

    Raises:
        EmptyInputError: no ``coords`` or no ``params`` (a network without parameters has no kernel).
        InvalidParameterError: ``x`` or ``xp`` with another number of coordinates than ``coords``.
    """
    coords = tuple(coords)
    if not tuple(params):
        raise EmptyInputError("params is empty: a network without parameters has no tangent kernel")
    if not coords:
        raise EmptyInputError("coords is empty: need at least one coordinate")
    _check_point(x, len(coords), "x")
    _check_point(xp, len(coords), "xp")
    px, pxp = _to_point(phi, coords, tuple(x)), _to_point(phi, coords, tuple(xp))
    return sum((sp.diff(px, t) * sp.diff(pxp, t) for t in params), sp.S.Zero)


def batch_loss(net: MetricNetwork, loss: PointwiseLoss, batch: Sequence[Point]) -> sp.Expr:
    r"""(2.3): L[g] = Σ_{x'∈B} l[g](x').

    Raises:
        EmptyInputError: an empty ``batch`` (the loss of no points is no loss).
    """
    if not batch:
        raise EmptyInputError("batch is empty: need at least one point x'")
    return sum((loss.at(net, p) for p in batch), sp.S.Zero)


def integral_loss(net: MetricNetwork, loss: PointwiseLoss, xp: Point, density: sp.Expr, limits: Sequence[tuple]) -> sp.Integral:
    r"""(2.4): L[g] = ∫_X dμ(x') l[g](x') with dμ = ``density`` d^dx', as an unevaluated Integral.

    ``limits`` are sympy integration limits over the symbols of ``xp``, e.g. ``[(xp1, 0, 1), ...]``.
    """
    return sp.Integral(density * loss.at(net, xp), *limits)


def pushforward_flow(net: MetricNetwork, total_loss: sp.Expr, x: Sequence[sp.Expr]) -> sp.ImmutableMatrix:
    r"""(2.1)+(2.2): dg_ij(x)/dt = ∂g_ij(x)/∂θ_I dθ_I/dt with dθ_I/dt = −∂L/∂θ_I.

    The parameter gradient is taken by sympy (through an unevaluated Integral by Leibniz's rule),
    so this is the parameter-space route to (2.5)/(2.6), with no kernel in it.
    """
    theta_dot = [-sp.diff(total_loss, t) for t in net.params]
    d = net.dim
    out = sp.zeros(d, d)
    for dgI, tdot in zip(net.jacobian(x), theta_dot):
        out += dgI * tdot
    return sp.ImmutableMatrix(out)


def flow_discrete(kernel: Kernel, variation: Variation, x: Point, batch: Sequence[Point]) -> sp.ImmutableMatrix:
    r"""(2.8)/(2.12), discrete batch: dg_ij(x)/dt = −Σ_{x'∈B} Θ_ijkl(x,x') δl(x')/δg_kl(x').

    ``kernel(x, xp)`` is a rank-4 array (e.g. ``lambda a, b: metric_ntk(net, a, b).array``, or a
    frozen Θ̄), ``variation(xp)`` the matrix δl/δg_kl at xp.
    """
    total = None
    for xp in batch:
        V = variation(xp)
        term = _contract(kernel(x, xp), V, V.shape[0])
        total = term if total is None else total + term
    if total is None:
        raise EmptyInputError("batch is empty: need at least one point x'")
    return sp.ImmutableMatrix(-total)


def flow_continuous(kernel: Kernel, variation: Variation, x: Point, xp: Point, density: sp.Expr, limits: Sequence[tuple]) -> sp.ImmutableMatrix:
    r"""(2.8)/(2.12), continuous: dg_ij(x)/dt = −∫ dμ(x') Θ_ijkl(x,x') δl(x')/δg_kl(x').

    Returns a matrix of unevaluated Integrals (call ``.doit()`` to evaluate); dμ = ``density`` d^dx'.
    """
    V = variation(xp)
    d = V.shape[0]
    K = kernel(x, xp)
    summand = _contract(K, V, d)
    return sp.ImmutableMatrix(d, d, lambda i, j: -sp.Integral(density * summand[i, j], *limits))


def merge_integrals(expr: sp.Expr) -> sp.Expr:
    r"""Canonical form of a linear combination of Integrals with common limits: one Integral.

    Every term c·∫ f (c free of the integration variables) becomes ∫ c f, and terms with the same
    limits are summed under one integral sign.  Linearity only: no integral is evaluated.  Used to
    compare (2.6), whose prefactor ∂g(x)/∂θ_I stands outside the integral, with (2.8).
    """
    expr = sp.expand_mul(expr, deep=False)
    groups: dict[tuple, sp.Expr] = {}
    rest = sp.S.Zero
    for term in sp.Add.make_args(expr):
        integrals = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Integral)]
        if len(integrals) != 1:
            rest += term
            continue
        (integral,) = integrals
        coeff = term / integral
        key = integral.limits
        groups[key] = groups.get(key, sp.S.Zero) + coeff * integral.function
    merged = [sp.Integral(f, *lim) for lim, f in groups.items()]
    return rest + sp.Add(*merged)


# --- linearised model (2.10)–(2.12) ------------------------------------------------------------


def linearize(net: MetricNetwork, theta0: Mapping[sp.Symbol, sp.Expr]) -> MetricNetwork:
    r"""(2.10): g^L_ij(x) = g_ij(x)|_{θ0} + (θ_I − θ_{0,I}) ∂g_ij(x)/∂θ_I|_{θ0}.

    ``theta0`` maps every parameter to its value at initialisation.  Its metric-NTK (2.11) is
    Θ|_{θ0}, independent of θ, hence frozen along the flow (2.12).
    """
    missing = [t for t in net.params if t not in theta0]
    if missing:
        raise InvalidParameterError(f"theta0 lacks values for {missing}")
    at0 = {t: theta0[t] for t in net.params}
    g0 = net.metric.subs(at0, simultaneous=True)
    lin = sp.Matrix(g0)
    for t in net.params:
        lin += (t - at0[t]) * net.metric.diff(t).subs(at0, simultaneous=True)
    return MetricNetwork(sp.ImmutableMatrix(lin), net.coords, net.params, net.symmetric)


# --- local kernels and flows (2.13)–(2.14) -----------------------------------------------------


def local_kernel(omega: sp.Expr, x: Point, xp: Point, density: sp.Expr = sp.S.One) -> Kernel:
    r"""The continuous local kernel (2.13): Θ̄_ijkl(x,x') = δ_μ(x−x') δ_ik δ_jl Ω̄(x).

    ``omega`` is Ω̄ as an expression in ``x``; δ_μ is the δ-function of dμ = ``density`` d^dx',
    δ_μ(x−x') = Π_a δ(x_a − x'_a) / ρ(x') (2.25)–(2.26).  Returns a kernel callable for
    :func:`flow_continuous` (integrate over all of R^d).

    Raises:
        EmptyInputError: an empty ``x``.
        InvalidParameterError: ``xp`` with another number of coordinates than ``x``.
    """
    x, xp = _check_pair(x, xp)
    d = len(x)

    def kernel(a: Point, b: Point) -> sp.ImmutableDenseNDimArray:
        dirac = sp.Mul(*[sp.DiracDelta(u - v) for u, v in zip(a, b)]) / _to_point(density, xp, b)
        om = _to_point(omega, x, a)
        return sp.ImmutableDenseNDimArray(
            [[[[dirac * om if (i == k and j == l) else sp.S.Zero for l in range(d)] for k in range(d)] for j in range(d)] for i in range(d)]
        )

    return kernel


def local_flow(variation: sp.MatrixBase, omega: sp.Expr = sp.S.One, *, parameterisation: Parameterisation = "all-entries") -> sp.ImmutableMatrix:
    r"""The local NN metric flow (2.14): dg_ij(x)/dt = −Ω̄(x) Σ_kl c_ijkl δl(x)/δg_kl(x).

    ``variation`` is δl/δg_kl at x in this module's (symmetric) convention — for a functional
    E[g] = ∫ l, pass its first variation δE/δg_kl; ``omega`` is Ω̄(x).

    ``parameterisation`` picks the component structure of the network (see :func:`component_ntk`):
    ``"all-entries"`` (d² separate networks, c = δ_ik δ_jl — the printed (2.23), giving
    −Ω̄ δl/δg_ij) or ``"symmetric"`` (d(d+1)/2 networks with g_ji the same network as g_ij,
    giving −Ω̄ δl/δg_ij on the diagonal and −2Ω̄ δl/δg_ij off it).

    Raises:
        InvalidParameterError: a ``variation`` that is not square, or an unknown ``parameterisation``.
        EmptyInputError: a 0 x 0 ``variation``.
    """
    V = _check_square(variation, "variation")
    c = component_ntk(V.shape[0], parameterisation).coefficients
    return sp.ImmutableMatrix(-omega * _contract(c, V, V.shape[0]))


# --- component structure (2.19)–(2.23) ---------------------------------------------------------


@dataclass(frozen=True)
class ComponentNTK:
    r"""Θ̄_ijkl(x,x') = c_ijkl Θ̄(x,x') for a metric whose components are independent networks
    of one architecture (2.19)–(2.23).

    Attributes:
        dim: d.
        parameterisation: ``"all-entries"`` (d² networks) or ``"symmetric"`` (d(d+1)/2 networks).
        coefficients: c_ijkl (integers), derived by :func:`component_ntk`.
    """

    dim: int
    parameterisation: Parameterisation
    coefficients: sp.ImmutableDenseNDimArray

    def kernel(self, scalar_kernel: sp.Expr) -> sp.ImmutableDenseNDimArray:
        """Θ̄_ijkl = c_ijkl Θ̄ for a given scalar frozen kernel Θ̄(x,x')."""
        return sp.ImmutableDenseNDimArray(self.coefficients.applyfunc(lambda c: c * scalar_kernel))

    def _repr_latex_(self) -> str:
        return _latex_eq("c_{ijkl}", self.coefficients)


def _component_networks(d: int, parameterisation: Parameterisation, x: Point, n_params: int):
    """g_ij = φ(x; θ^{(ij)}) with φ an undefined function of x and ``n_params`` parameters."""
    phi = sp.Function("phi")
    params = []
    net = {}
    for i, j in product(range(d), repeat=2):
        key = (min(i, j), max(i, j)) if parameterisation == "symmetric" else (i, j)
        if key not in net:
            th = tuple(sp.Symbol(f"theta^{{{key[0]}{key[1]}}}_{p}") for p in range(n_params))
            params.extend(th)
            net[key] = (phi(*x, *th), th)
    metric = sp.ImmutableMatrix(d, d, lambda i, j: net[(min(i, j), max(i, j)) if parameterisation == "symmetric" else (i, j)][0])
    return MetricNetwork(metric, x, tuple(params), symmetric=(parameterisation == "symmetric")), net


@cached_by_value(maxsize=None)
def component_ntk(d: int, parameterisation: Parameterisation = "all-entries") -> ComponentNTK:
    r"""Derive c_ijkl in Θ_ijkl = c_ijkl Θ^{(ij)} for independent component networks (2.19)–(2.23).

    Each independent component is a separate network φ(x; θ^{(ij)}) of one architecture (an
    undefined sympy function of x and two parameters of its own); :func:`metric_ntk` of the whole
    metric is computed and divided by the component kernel Θ^{(ij)}(x,x') = Σ_p ∂φ^{(ij)}(x)
    ∂φ^{(ij)}(x') (which becomes the common frozen Θ̄ of (2.22)).  Results:

    * ``"all-entries"`` (all d² entries separate networks, g need not be symmetric):
      c_ijkl = δ_ik δ_jl — the printed (2.20)/(2.23).
    * ``"symmetric"`` (d(d+1)/2 networks, g_ji ≡ g_ij): c_ijkl = [{i,j} = {k,l}]
      = δ_ik δ_jl + δ_il δ_jk − δ_ij δ_ik δ_il.

    Raises:
        InvalidParameterError: d < 1 or an unknown parameterisation.
    """
    if not isinstance(d, int) or d < 1:
        raise InvalidParameterError(f"dimension must be a positive integer, got {d!r}")
    if parameterisation not in ("all-entries", "symmetric"):
        raise InvalidParameterError(f"unknown parameterisation {parameterisation!r}")
    x = tuple(sp.Symbol(f"x_{a}", real=True) for a in range(d))
    xp = primed(x)
    net, comps = _component_networks(d, parameterisation, x, n_params=2)
    theta = metric_ntk(net, x, xp)
    coeff = [[[[None] * d for _ in range(d)] for _ in range(d)] for _ in range(d)]
    for i, j, k, l in product(range(d), repeat=4):
        key = (min(i, j), max(i, j)) if parameterisation == "symmetric" else (i, j)
        phi_ij, th = comps[key]
        own = scalar_ntk(phi_ij, x, th, x, xp)
        ratio = sp.cancel(theta[i, j, k, l] / own)
        if not ratio.is_Integer:
            raise AssertionError(f"component kernel is not a multiple of the component NTK at {(i, j, k, l)}: {ratio}")
        coeff[i][j][k][l] = ratio
    return ComponentNTK(d, parameterisation, sp.ImmutableDenseNDimArray(coeff))


def component_flow(variation: sp.MatrixBase, scalar_term: sp.Expr, parameterisation: Parameterisation = "all-entries") -> sp.ImmutableMatrix:
    r"""Σ_kl c_ijkl Θ̄ V_kl for the component structure of :func:`component_ntk` (integrand of (2.12)).

    ``scalar_term`` is Θ̄(x,x') (or Θ̄ times a measure density); the flow is minus its sum/integral.

    Raises:
        InvalidParameterError: a ``variation`` that is not square, or an unknown ``parameterisation``.
        EmptyInputError: a 0 x 0 ``variation``.
    """
    V = _check_square(variation, "variation")
    c = component_ntk(V.shape[0], parameterisation).coefficients
    return sp.ImmutableMatrix(scalar_term * _contract(c, V, V.shape[0]))


# --- rescaling trick (2.15)–(2.18) -------------------------------------------------------------


def rescaled_kernel(h: sp.Expr, kernel: sp.Expr, x: Point, xp: Point) -> sp.Expr:
    r"""(2.16): the NTK of φ̃ = h φ (2.15) with deterministic h(x): Θ_φ̃(x,x') = h(x) h(x') Θ_φ(x,x').

    ``h`` is an expression in ``x``; h(x') is obtained by substituting ``xp``.

    Raises:
        DegenerateInputError: ``h`` identically zero (the rescaled network is 0).
        EmptyInputError, InvalidParameterError: an empty ``x`` or an ``xp`` of another length.
    """
    h = sp.sympify(h)
    if h == 0:
        raise DegenerateInputError("h is identically zero: the rescaled network h phi and its kernel vanish")
    x, xp = _check_pair(x, xp)
    return h * _to_point(h, tuple(x), tuple(xp)) * kernel


# --- Gaussian family (2.27)–(2.31) -------------------------------------------------------------


def gaussian(x: Point, xp: Point, sigma: sp.Expr) -> sp.Expr:
    r"""N_σ(x−x') = (2πσ²)^{−d/2} exp(−|x−x'|²/(2σ²)), the normalised Gaussian of (2.27).

    Raises:
        EmptyInputError, InvalidParameterError: an empty ``x`` or an ``xp`` of another length.
        InvalidParameterError, NonFiniteError: a ``sigma`` that is not positive or not finite
            (:func:`check_positive`).
    """
    x, xp = _check_pair(x, xp)
    sigma = check_positive(sigma, "sigma")
    d = len(x)
    r2 = sum(((a - b) ** 2 for a, b in zip(x, xp)), sp.S.Zero)
    return (2 * sp.pi * sigma**2) ** sp.Rational(-d, 2) * sp.exp(-r2 / (2 * sigma**2))


@dataclass(frozen=True)
class GaussianFamily:
    r"""The family (2.27)–(2.28) of frozen kernels with a Gaussian of width σ.

    Attributes:
        x, xp: the points x and x'.
        sigma: the width σ > 0 (symbol or number).
        ref_det: det g̃(x) of the reference metric, an expression in ``x`` (positive).
        alpha: ᾱ(x,x'), an expression in ``x`` and ``xp``.
        base_kernel: (2.27), N_σ(x−x') ᾱ(x,x').
        h: the rescaling g̃(x)^{−1/4} of (2.15).
        kernel: (2.28) = :func:`rescaled_kernel` (h, base_kernel) = N_σ (g̃(x)g̃(x'))^{−1/4} ᾱ.
        smooth: the non-Gaussian factor h(x)h(x')ᾱ(x,x') of ``kernel``.
        density: √g̃(x'), the density of dμ = dV_g̃ in d^dx'.
        omega: Ω̄(x) = ᾱ(x,x) (2.29).
    """

    x: Point
    xp: Point
    sigma: sp.Expr
    ref_det: sp.Expr
    alpha: sp.Expr
    base_kernel: sp.Expr
    h: sp.Expr
    kernel: sp.Expr
    smooth: sp.Expr
    density: sp.Expr
    omega: sp.Expr

    @property
    def dim(self) -> int:
        return len(self.x)

    def flow_integrand(self, variation_xp: sp.Expr, *, rescaled: bool = True) -> sp.Expr:
        r"""Integrand in d^dx' of (2.30): −(dg_ij(x)/dt) = ∫ d^dx' √g̃(x') Θ̄_σ(x,x') δl(x')/δg_ij(x').

        ``variation_xp`` is the (i,j) component of δl/δg at x'.  With ``rescaled=False`` the
        un-rescaled kernel (2.27) is used instead of (2.28).
        """
        return self.density * (self.kernel if rescaled else self.base_kernel) * variation_xp

    def flow(self, variation_xp: sp.Expr, *, rescaled: bool = True) -> sp.Integral:
        r"""(2.30): dg_ij(x)/dt = −∫_{R^d} d^dx' √g̃(x') Θ̄_σ(x,x') δl(x')/δg_ij(x') (unevaluated)."""
        return -sp.Integral(self.flow_integrand(variation_xp, rescaled=rescaled), *[(a, -sp.oo, sp.oo) for a in self.xp])

    def _repr_latex_(self) -> str:
        return _latex_eq("\\bar{\\Theta}_{\\sigma}(x,x')", self.kernel)


def gaussian_family(x: Sequence[sp.Symbol], sigma: sp.Expr, ref_metric_det: sp.Expr, alpha: sp.Expr, xp: Sequence[sp.Symbol] | None = None) -> GaussianFamily:
    r"""The rescaled Gaussian family (2.27)–(2.29) on a chart with reference metric determinant g̃.

    Args:
        x: coordinate symbols; ``ref_metric_det`` and ``alpha`` are written in them.
        sigma: σ > 0.
        ref_metric_det: det g̃(x) (> 0).
        alpha: ᾱ(x,x') in ``x`` and ``xp``.
        xp: the integrated point; default :func:`primed` (x).

    The rescaled kernel is built with the rescaling trick (2.15)–(2.16), h = g̃^{−1/4}.

    Raises:
        EmptyInputError: an empty ``x``.
        InvalidParameterError: an ``xp`` of another length than ``x``; σ or ``ref_metric_det`` known
            not to be positive.
        NonFiniteError: a σ or ``ref_metric_det`` with ``nan``, ``oo`` or ``zoo``.
    """
    x, xp = _check_pair(x, primed(x) if xp is None else xp)
    sigma = check_positive(sigma, "sigma")
    ref = check_positive(ref_metric_det, "ref_metric_det")
    alpha = sp.sympify(alpha)
    base = gaussian(x, xp, sigma) * alpha
    h = ref ** sp.Rational(-1, 4)
    kernel = rescaled_kernel(h, base, x, xp)
    smooth = rescaled_kernel(h, alpha, x, xp)
    return GaussianFamily(
        x=x,
        xp=xp,
        sigma=sigma,
        ref_det=ref,
        alpha=alpha,
        base_kernel=base,
        h=h,
        kernel=kernel,
        smooth=smooth,
        density=sp.sqrt(_to_point(ref, x, xp)),
        omega=_to_point(alpha, xp, x),
    )


@dataclass(frozen=True)
class SmearingExpansion:
    r"""∫ d^dx' N_σ(x−x') F(x,x') = leading + σ sigma1 + σ² sigma2 + O(σ³) (Gaussian smearing in a chart).

    ``sigma1`` is kept to show it vanishes (odd Gaussian moments); then the remainder is O(σ⁴).
    """

    leading: sp.Expr
    sigma1: sp.Expr
    sigma2: sp.Expr

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {latex(self.leading)} + \\sigma^2 \\left({latex(self.sigma2)}\\right) + O(\\sigma^4)$"


def smearing_expansion(F: sp.Expr, x: Point, xp: Point) -> SmearingExpansion:
    r"""Small-σ expansion of ∫_{R^d} d^dx' N_σ(x−x') F(x,x') for smooth F.

    Derivation: x' = x + σu maps N_σ(x−x') d^dx' to the standard normal density N_1(u) d^du;
    Taylor-expanding F(x, x+σu) to second order in σ and integrating the monomials against N_1
    (sympy computes the moments ∫ N_1(u) u^k du, k ≤ 2) gives F(x,x) + σ·0 + (σ²/2) Σ_a
    ∂²F/∂x'_a² |_{x'=x}; odd orders vanish, so the remainder is O(σ⁴).

    Raises:
        EmptyInputError, InvalidParameterError: an empty ``x`` or an ``xp`` of another length.
    """
    x, xp = _check_pair(x, xp)
    d = len(x)
    s = sp.Symbol("s", real=True)
    w = sp.exp(-(s**2) / 2) / sp.sqrt(2 * sp.pi)
    moment = {k: sp.integrate(w * s**k, (s, -sp.oo, sp.oo)) for k in range(3)}

    def expect(mono_powers: Sequence[int]) -> sp.Expr:
        return sp.Mul(*[moment[p] for p in mono_powers])

    leading = _to_point(F, xp, x) * expect([0] * d)
    first = sp.S.Zero
    for a in range(d):
        powers = [0] * d
        powers[a] = 1
        m = expect(powers)
        if m != 0:  # the moment is computed first; a vanishing moment needs no derivative
            first += _to_point(sp.diff(F, xp[a]), xp, x) * m
    second = sp.S.Zero
    for a, b in product(range(d), repeat=2):
        powers = [0] * d
        powers[a] += 1
        powers[b] += 1
        m = expect(powers)
        if m != 0:
            second += _to_point(sp.diff(F, xp[a], xp[b]), xp, x) * m / 2
    return SmearingExpansion(leading=leading, sigma1=first, sigma2=second)


@cached_by_value(maxsize=128)
def local_limit(family: GaussianFamily, f: sp.Expr = sp.S.One, *, rescaled: bool = True) -> SmearingExpansion:
    r"""σ→0 of ∫ dV_g̃(x') Θ̄_σ(x,x') f(x') for the family (2.28) (or (2.27) if ``rescaled=False``).

    (2.29): the leading term is Ω̄(x) f(x) with Ω̄ = ᾱ(x,x), i.e. Θ̄_σ → δ(x−x')Ω̄(x) with δ the
    δ-function of the g̃ volume measure; the σ² coefficient gives the rate.  Without the rescaling
    the leading term is √g̃(x) Ω̄(x) f(x).  ``f`` is an expression in ``family.xp``.
    """
    smooth = family.smooth if rescaled else family.alpha
    return smearing_expansion(family.density * smooth * f, family.x, family.xp)
