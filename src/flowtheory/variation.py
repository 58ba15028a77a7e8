r"""First variations of integral functionals: the Euler–Lagrange engine of :mod:`flowtheory`.

A functional is :math:`E[u] = \int \mathcal{L}\, \mathrm{d}^n x` where the *density*
:math:`\mathcal{L}` (a Lagrangian density with respect to the coordinate measure
:math:`\mathrm{d}^n x`, measure factor included: :math:`\sqrt{\det g}`, :math:`e^{-\phi}\sqrt{\det g}`,
:math:`\det g_{a\bar b}`, a fixed :math:`\kappa|\Omega|^2`, ...) is a function of the coordinates,
of the fields :math:`u` and of their coordinate derivatives of any order up to ``max_order``.
Its first variation, on a closed manifold (or with periodic/compactly supported variations), is

.. math::

    \delta E = \int \mathcal{E}_u(\mathcal{L})\, \delta u \;\mathrm{d}^n x, \qquad
    \mathcal{E}_u(\mathcal{L}) = \sum_{\alpha} (-D)^{\alpha}\,
        \frac{\partial \mathcal{L}}{\partial u_{\alpha}},

the Euler operator, with :math:`\alpha` running over *unordered* multi-indices (each mixed
derivative :math:`u_{xy}` is one jet variable, counted once) and :math:`D_i` the total derivative.

Jets.  :class:`JetSpace` replaces a field :math:`u(x)` and its derivatives
:math:`\partial^{\alpha}u` by plain symbols — ``u``, ``u_x``, ``u_xy``, ``u_xxy``, ... for
one-letter coordinates, ``u_z_zbar`` when a coordinate name is longer — so that partial derivatives
:math:`\partial\mathcal{L}/\partial u_\alpha` are ordinary ``diff`` and :math:`D_i` is the chain rule.
``to_jet`` / ``from_jet`` convert between this form and the *field form* (undefined functions
``u(x, y)`` and ``Derivative`` objects) that :mod:`flowtheory.riemann` and the numeric grids speak.
:func:`sympy.calculus.euler.euler_equations` computes the same Euler operator in field form; the
tests check the two against each other.  What it lacks, and this module adds: jets as plain symbols
(fast, no ``Derivative`` atoms), the symmetric-metric convention below, the fixed-measure
constraint, conversion of a density variation into a covariant tensor, and null-Lagrangian tests.

Symmetric metrics.  A metric is carried by its independent components ``g_ij`` (``i <= j``;
fields named ``g_00, g_01, ...``).  The variation is stated with a *symmetric* ``V``:

.. math:: \delta E = \int V^{ij} h_{ij}\, \mathrm{d}^n x \quad (\text{sum over all } i, j;\ h, V
          \text{ symmetric}),

so :math:`V^{ii} = \mathcal{E}_{g_{ii}}` and :math:`V^{ij} = \tfrac12 \mathcal{E}_{g_{ij}}`
(``i < j``), because the independent component ``g_ij`` occurs in both ``g[i, j]`` and ``g[j, i]``.
``V`` is a contravariant tensor density; dividing by the density :math:`\rho_m` of a measure
:math:`m` gives the variation *with respect to m*, :math:`\delta E = \int (V^{ij}/\rho_m) h_{ij}\,
\mathrm{d}m`, and lowering both indices gives the gradient for the inner product
:math:`\langle h, k\rangle_m = \int g^{ik}g^{jl}h_{ij}k_{kl}\,\mathrm{d}m` (:func:`covariant_gradient`).

Fixed measures.  Perelman's :math:`\mathcal{F}` (2.41) is varied with the measure
:math:`m = e^{-\phi}\,\mathrm{d}V` held fixed, which slaves :math:`\delta\phi` to :math:`h`.
:func:`fixed_measure_metric_variation` derives the constraint from the measure density
(:math:`\delta\rho_m = 0 \Rightarrow \delta\phi = \tfrac12 g^{ij}h_{ij}` for Perelman's) and adds
:math:`\mathcal{E}_\phi\, \partial(\delta\phi)/\partial h_{ij}` to :math:`V^{ij}`.

Order.  Densities of order at most ``max_order`` (default 4: curvature squared in a Kähler potential)
are accepted; higher orders raise :class:`~flowtheory.errors.UnsupportedOrderError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef

from flowtheory import riemann
from flowtheory.errors import DegenerateInputError, EmptyInputError, InvalidParameterError, NonFiniteError, UnsupportedOrderError
from flowtheory.exact import random_rational_points

__all__ = [
    "DEFAULT_MAX_ORDER",
    "JetSpace",
    "canonical_zero",
    "covariant_gradient",
    "euler_operator",
    "first_variation_integrand",
    "fixed_measure_metric_variation",
    "is_null_lagrangian",
    "metric_field_names",
    "metric_variation",
    "random_jet_points",
    "symmetric_metric",
]

DEFAULT_MAX_ORDER = 4

_TABLES: dict = {}


@dataclass(frozen=True)
class JetSpace:
    """Jet variables of the fields ``fields`` over the coordinates ``coords``.

    ``symbol(u, alpha)`` is the plain symbol of :math:`\\partial^\\alpha u` (``alpha`` a tuple of
    derivative counts, one per coordinate); ``decode(s)`` inverts it.  Symbols are created on
    demand (any order) and carry no assumptions, so they work for real coordinates and for
    independent complex pairs ``(z, zbar)`` alike.
    """

    coords: tuple[sp.Symbol, ...]
    fields: tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, "coords", tuple(self.coords))
        object.__setattr__(self, "fields", tuple(self.fields))
        if not self.coords or not all(isinstance(c, sp.Symbol) for c in self.coords):
            raise InvalidParameterError(f"coordinates must be a non-empty tuple of Symbols, got {self.coords}")
        if len(set(self.coords)) != len(self.coords) or len(set(self.fields)) != len(self.fields):
            raise InvalidParameterError("coordinates and field names must be distinct")
        names = {str(c) for c in self.coords}
        if names & set(self.fields):
            raise InvalidParameterError(f"a field is named like a coordinate: {sorted(names & set(self.fields))}")

    # -- jet symbols ------------------------------------------------------------------------
    @property
    def _table(self) -> dict:
        """The symbol table, shared by all equal jet spaces (symbols are created on demand)."""
        return _TABLES.setdefault((self.coords, self.fields), {})

    @property
    def dim(self) -> int:
        return len(self.coords)

    def symbol(self, name: str, orders: Sequence[int] | None = None) -> sp.Symbol:
        """The jet symbol of ``∂^orders name`` (``orders`` defaults to no derivative)."""
        if name not in self.fields:
            raise InvalidParameterError(f"unknown field {name!r}; fields are {self.fields}")
        orders = tuple(int(k) for k in (orders if orders is not None else (0,) * self.dim))
        if len(orders) != self.dim or any(k < 0 for k in orders):
            raise InvalidParameterError(f"derivative orders {orders} do not fit coordinates {self.coords}")
        short = all(len(str(c)) == 1 for c in self.coords)
        parts = [str(c) for c, k in zip(self.coords, orders) for _ in range(k)]
        text = name if not parts else name + "_" + ("".join(parts) if short else "_".join(parts))
        sym = sp.Symbol(text)
        self._table.setdefault(sym, (name, orders))
        return sym

    def decode(self, sym: sp.Symbol) -> tuple[str, tuple[int, ...]] | None:
        """``(field, orders)`` of a jet symbol of this space, ``None`` for any other symbol."""
        return self._table.get(sym)

    def jet_symbols_of(self, expr: sp.Basic) -> list[sp.Symbol]:
        """The jet symbols occurring in ``expr``, sorted by field then order."""
        found = [s for s in expr.free_symbols if s in self._table]
        return sorted(found, key=lambda s: (self._table[s][0], sum(self._table[s][1]), self._table[s][1]))

    def order_of(self, expr: sp.Basic, name: str | None = None) -> int:
        """Highest derivative order (of field ``name``, or of any field) in a jet-form ``expr``."""
        orders = [sum(self._table[s][1]) for s in self.jet_symbols_of(expr) if name is None or self._table[s][0] == name]
        return max(orders, default=-1)

    # -- field form -------------------------------------------------------------------------
    def function(self, name: str) -> sp.Expr:
        """The field as an undefined function of the coordinates, e.g. ``g_01(x, y)``."""
        if name not in self.fields:
            raise InvalidParameterError(f"unknown field {name!r}; fields are {self.fields}")
        return sp.Function(name)(*self.coords)

    def to_jet(self, expr):
        """Replace fields ``u(x, ...)`` and their ``Derivative`` objects by jet symbols."""
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(self.to_jet)
        expr = sp.sympify(expr)
        reps = {}
        for d in expr.atoms(sp.Derivative):
            if not isinstance(d.expr, AppliedUndef) or d.expr.func.__name__ not in self.fields:
                raise InvalidParameterError(f"derivative of something that is not a field of this jet space: {d}")
            if tuple(d.expr.args) != self.coords:
                raise InvalidParameterError(f"field {d.expr} must be a function of exactly {self.coords}")
            counts = dict.fromkeys(self.coords, 0)
            for var, k in d.variable_count:
                if var not in counts:
                    raise InvalidParameterError(f"derivative with respect to {var}, not a coordinate")
                counts[var] += int(k)
            reps[d] = self.symbol(d.expr.func.__name__, tuple(counts[c] for c in self.coords))
        out = expr.xreplace(reps)
        reps = {}
        for f in out.atoms(AppliedUndef):
            name = f.func.__name__
            if name in self.fields:
                if tuple(f.args) != self.coords:
                    raise InvalidParameterError(f"field {f} must be a function of exactly {self.coords}")
                reps[f] = self.symbol(name)
        return out.xreplace(reps)

    def from_jet(self, expr):
        """Inverse of :meth:`to_jet`: jet symbols back to fields and ``Derivative`` objects."""
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(self.from_jet)
        expr = sp.sympify(expr)
        reps = {}
        for s in self.jet_symbols_of(expr):
            name, orders = self._table[s]
            f = self.function(name)
            pairs = [(c, k) for c, k in zip(self.coords, orders) if k]
            reps[s] = sp.Derivative(f, *pairs) if pairs else f
        return expr.xreplace(reps)

    # -- calculus ---------------------------------------------------------------------------
    def total_derivative(self, expr, coord: sp.Symbol):
        r"""The total derivative :math:`D_i` of a jet-form expression (explicit ``x`` included).

        Raises:
            InvalidParameterError: a ``coord`` that is not one of :attr:`coords`.
        """
        if coord not in self.coords:
            raise InvalidParameterError(f"coord {coord} is not a coordinate of the jet space; coordinates are {self.coords}")
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(lambda e: self.total_derivative(e, coord))
        axis = self.coords.index(coord)
        out = sp.diff(expr, coord)
        for s in self.jet_symbols_of(expr):
            name, orders = self._table[s]
            shifted = tuple(k + (a == axis) for a, k in enumerate(orders))
            out += sp.diff(expr, s) * self.symbol(name, shifted)
        return out


def canonical_zero(expr) -> bool:
    """Whether a jet-form expression is identically zero, decided in canonical form.

    Every square root :math:`\\sqrt{A}` is replaced by a generator :math:`r_A`, the expression is
    brought over one denominator, and the expanded numerator is reduced modulo
    :math:`r_A^2 = A`; the expression vanishes when the reduced numerator expands to zero
    (exponentials such as :math:`e^{-\\phi}` stay generators).  Exact; cost grows quickly with size,
    so large identities are also checked at random rational points (:func:`flowtheory.exact.max_deviation`).
    """
    if isinstance(expr, sp.MatrixBase):
        return all(canonical_zero(e) for e in expr)
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    roots = {}
    for p in expr.atoms(sp.Pow):
        if p.exp.is_Rational and p.exp.q == 2 and p.base not in roots:
            roots[p.base] = sp.Dummy("r")
    expr = expr.replace(
        lambda e: e.is_Pow and e.exp.is_Rational and e.exp.q == 2 and e.base in roots,
        lambda e: roots[e.base] ** e.exp.p,
    )
    num = sp.expand(sp.fraction(sp.together(expr))[0])
    for base, r in roots.items():
        if num.has(r):
            poly = sp.Poly(num, r)
            num = sp.expand(sp.Add(*[c * base ** (k // 2) * r ** (k % 2) for (k,), c in poly.terms()]))
    return num == 0


def random_jet_points(
    expr,
    jet: JetSpace,
    n_points: int,
    seed: int,
    *,
    metric_prefix: str | None = "g",
    extra: Sequence[sp.Symbol] = (),
    ranges: Mapping[sp.Symbol, tuple[float, float]] | None = None,
) -> list[dict]:
    """Random exact points for the jet symbols of ``expr`` (and the coordinates and ``extra`` symbols).

    Values are rationals with denominator 1000: metric diagonal components ``g_ii`` in [1, 2],
    off-diagonal ones in [-0.2, 0.2] (so the metric is positive definite for ``n <= 5``), every other
    jet variable and coordinate in [-1, 1], ``extra`` symbols in [1/2, 3/2]; ``ranges`` overrides
    the interval of given symbols (e.g. second derivatives of a Kähler potential in [-1/2, 1/2] so
    that :math:`\\det(\\delta + \\partial\\bar\\partial\\varphi) > 0`).  Drawn by
    :func:`flowtheory.exact.random_rational_points` with a fixed ``seed``.

    Raises:
        InvalidParameterError: ``n_points < 1``; an interval in ``ranges`` with ``low > high``.
        NonFiniteError: an interval in ``ranges`` with NaN or infinity.
    """
    ranges = dict(ranges or {})
    exprs = list(expr) if isinstance(expr, sp.MatrixBase) else [sp.sympify(expr)]
    symbols = set()
    for e in exprs:
        symbols |= set(jet.jet_symbols_of(e))
    symbols = sorted(symbols, key=str)
    diag = {f"{metric_prefix}_{i}{i}" for i in range(jet.dim)} if metric_prefix else set()
    offd = set(metric_field_names(jet.dim, metric_prefix)) - diag if metric_prefix else set()

    def interval(s):
        name, orders = jet.decode(s)
        if s in ranges:
            return ranges[s]
        if sum(orders) == 0 and name in diag:
            return (1, 2)
        if sum(orders) == 0 and name in offd:
            return (-0.2, 0.2)
        return (-1, 1)

    intervals = {s: interval(s) for s in symbols}
    intervals.update({c: ranges.get(c, (-1, 1)) for c in jet.coords})
    intervals.update({s: ranges.get(s, (0.5, 1.5)) for s in extra})
    return random_rational_points([*symbols, *jet.coords, *extra], n_points, seed, ranges=intervals)


def _check_order(density: sp.Expr, jet: JetSpace, max_order: int) -> None:
    order = jet.order_of(density)
    if order > max_order:
        raise UnsupportedOrderError(
            f"the density depends on derivatives of order {order}; the engine accepts order <= {max_order}"
        )


def euler_operator(
    density: sp.Expr, name: str, jet: JetSpace, *, weight: sp.Expr | None = None, max_order: int = DEFAULT_MAX_ORDER
) -> sp.Expr:
    r"""The Euler operator :math:`\mathcal{E}_u(\mathcal{L}) = \sum_\alpha (-D)^\alpha\,\partial\mathcal{L}/\partial u_\alpha`.

    ``density`` is in jet form (see :class:`JetSpace`); the result is in jet form, of order up
    to twice that of ``density``.  :math:`\delta E = \int \mathcal{E}_u(\mathcal{L})\,\delta u\,\mathrm{d}^nx`.

    With a ``weight`` :math:`\rho` (a measure density such as :math:`e^{-\phi}\sqrt{\det g}`),
    ``density`` is the integrand :math:`L` per unit :math:`\rho` and the result is
    :math:`\mathcal{E}_u(\rho L)/\rho`, computed without ever forming :math:`\rho L`: with
    :math:`\lambda_i = D_i\ln\rho`, :math:`(-D)^\alpha(\rho P)/\rho = (-D^\rho)^\alpha P`,
    :math:`D^\rho_i P = D_i P + \lambda_i P`.  For a rational :math:`L` and a weight whose logarithm
    has rational derivatives the result is rational in the jets (no radicals or exponentials left).

    Raises:
        InvalidParameterError: a ``name`` that is not a field of ``jet``.
        DegenerateInputError: a ``weight`` identically zero (no measure).
        NonFiniteError: a ``weight`` with ``nan``, ``oo`` or ``zoo``.
        UnsupportedOrderError: ``density`` or ``weight`` of order above ``max_order``.
    """
    if name not in jet.fields:
        raise InvalidParameterError(f"unknown field name {name!r}; fields are {jet.fields}")
    density = sp.sympify(density)
    _check_order(density, jet, max_order)
    if weight is not None:
        weight = sp.sympify(weight)
        if weight.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise NonFiniteError(f"weight = {weight} is not finite")
        if weight == 0:
            raise DegenerateInputError("weight is identically zero: a measure density must not vanish")
        _check_order(weight, jet, max_order)
        log_w = sp.expand_log(sp.log(weight), force=True)
        lam = [sp.cancel(jet.total_derivative(log_w, c)) for c in jet.coords]
    symbols = set(jet.jet_symbols_of(density))
    if weight is not None:
        symbols |= set(jet.jet_symbols_of(weight))
    total = sp.Integer(0)
    for s in sorted(symbols, key=str):
        field_name, orders = jet.decode(s)
        if field_name != name:
            continue
        term = sp.diff(density, s)
        if weight is not None:
            term = sp.cancel(term + density * sp.diff(log_w, s))
        for axis, k in enumerate(orders):
            for _ in range(k):
                step = jet.total_derivative(term, jet.coords[axis])
                term = -(step + lam[axis] * term) if weight is not None else -step
                term = sp.cancel(term) if weight is not None else term
        total += term
    return total


def is_null_lagrangian(
    density: sp.Expr, jet: JetSpace, *, weight: sp.Expr | None = None, max_order: int = DEFAULT_MAX_ORDER
) -> bool:
    """Whether every Euler operator of ``density`` (times ``weight``) vanishes identically: a total divergence.

    Decided in canonical form (:func:`canonical_zero`) on the weighted Euler operators, which are
    rational in the jets for the weights used here.
    """
    return all(
        canonical_zero(sp.cancel(euler_operator(density, name, jet, weight=weight, max_order=max_order)))
        for name in jet.fields
    )


# ----------------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------------


def metric_field_names(n: int, prefix: str = "g") -> tuple[str, ...]:
    """Names of the independent components ``g_ij`` (``i <= j``) of an ``n``-metric."""
    if not isinstance(n, int) or n < 1 or n > 9:
        raise InvalidParameterError(f"metric dimension must be an integer in 1..9, got {n!r}")
    return tuple(f"{prefix}_{i}{j}" for i in range(n) for j in range(i, n))


def symmetric_metric(jet: JetSpace, prefix: str = "g") -> sp.Matrix:
    """The symmetric metric in field form, ``g[i, j] = g[j, i] = g_ij(x)`` (``i <= j``)."""
    n = jet.dim
    names = metric_field_names(n, prefix)
    missing = set(names) - set(jet.fields)
    if missing:
        raise InvalidParameterError(f"jet space lacks metric fields {sorted(missing)}")
    return sp.Matrix(n, n, lambda i, j: jet.function(f"{prefix}_{min(i, j)}{max(i, j)}"))


def metric_variation(
    density: sp.Expr,
    jet: JetSpace,
    prefix: str = "g",
    *,
    weight: sp.Expr | None = None,
    max_order: int = DEFAULT_MAX_ORDER,
) -> sp.Matrix:
    r"""The symmetric variation density :math:`V^{ij}` (module docstring): :math:`\delta E = \int V^{ij}h_{ij}\,\mathrm{d}^nx`.

    ``V[i, i]`` is the Euler operator of ``g_ii``; ``V[i, j] = V[j, i]`` is half that of ``g_ij``.
    With a ``weight`` :math:`\rho`, ``density`` is the integrand per unit :math:`\rho` and the
    result is :math:`V^{ij}/\rho`, the variation with respect to the measure :math:`\rho\,\mathrm{d}^nx`
    (in canonical ``cancel`` form).
    """
    n = jet.dim
    entries = {}
    for i in range(n):
        for j in range(i, n):
            e = euler_operator(density, f"{prefix}_{i}{j}", jet, weight=weight, max_order=max_order)
            e = e if i == j else e / 2
            entries[(i, j)] = entries[(j, i)] = e
    return sp.Matrix(n, n, lambda i, j: entries[(i, j)])


def fixed_measure_metric_variation(
    density: sp.Expr,
    measure_density: sp.Expr,
    scalar: str,
    jet: JetSpace,
    prefix: str = "g",
    *,
    weight: sp.Expr | None = None,
    max_order: int = DEFAULT_MAX_ORDER,
) -> sp.Matrix:
    r"""Metric variation with the scalar ``scalar`` slaved to keep ``measure_density`` fixed.

    The constraint :math:`\delta\rho_m = \partial\rho_m/\partial g_{ij}\,h_{ij} + \partial\rho_m/\partial\phi\,\delta\phi = 0`
    is solved for :math:`\delta\phi = c^{ij}h_{ij}` (``c`` derived from ``measure_density``, which
    must not depend on derivatives), and the result is :math:`V^{ij} + \mathcal{E}_\phi c^{ij}`.
    For Perelman's :math:`\rho_m = e^{-\phi}\sqrt{\det g}`, :math:`c^{ij} = \tfrac12 g^{ij}`.
    ``weight`` as in :func:`metric_variation` (the result is then divided by it).
    """
    measure_density = sp.sympify(measure_density)
    if jet.order_of(measure_density) > 0:
        raise InvalidParameterError("the fixed measure density must not depend on derivatives of the fields")
    n = jet.dim
    d_phi = sp.diff(measure_density, jet.symbol(scalar))
    if d_phi == 0:
        raise InvalidParameterError(f"the measure does not depend on {scalar!r}: nothing to slave")
    c = sp.Matrix(
        n,
        n,
        lambda i, j: sp.cancel(
            -sp.diff(measure_density, jet.symbol(f"{prefix}_{min(i, j)}{max(i, j)}")) / d_phi / (1 if i == j else 2)
        ),
    )
    e_phi = euler_operator(density, scalar, jet, weight=weight, max_order=max_order)
    out = metric_variation(density, jet, prefix, weight=weight, max_order=max_order) + e_phi * c
    return out


def covariant_gradient(variation_density: sp.Matrix, metric: sp.Matrix, measure_density: sp.Expr) -> sp.Matrix:
    r"""Lower both indices and divide by a measure density: :math:`G_{ij} = g_{ik}V^{kl}g_{lj}/\rho_m`.

    ``G`` is the gradient of :math:`E` for :math:`\langle h,k\rangle_m = \int g^{ik}g^{jl}h_{ij}k_{kl}\,\mathrm{d}m`;
    all arguments in the same (jet or field) form.

    Raises:
        EmptyInputError: a 0 x 0 ``metric``.
        InvalidParameterError: ``variation_density`` not of the ``metric``'s shape.
        DegenerateInputError: a ``measure_density`` identically zero, or a singular ``metric``
            (:func:`flowtheory.riemann.check_nondegenerate`); see there for the other metric errors.
    """
    metric, variation_density = sp.Matrix(metric), sp.Matrix(variation_density)
    if metric.rows == 0:
        raise EmptyInputError("metric is empty: need a d x d metric with d >= 1")
    if variation_density.shape != metric.shape:
        raise InvalidParameterError(f"variation_density has shape {variation_density.shape}, metric has {metric.shape}")
    riemann.check_nondegenerate(metric)
    measure_density = sp.sympify(measure_density)
    if measure_density == 0:
        raise DegenerateInputError("measure_density is identically zero: no gradient for a vanishing measure")
    return (metric * variation_density * metric) / measure_density


# ----------------------------------------------------------------------------------------------
# direct first variation (the second route)
# ----------------------------------------------------------------------------------------------


def first_variation_integrand(density_field_form: sp.Expr, perturbations: Mapping[sp.Expr, sp.Expr]) -> sp.Expr:
    r"""Pointwise :math:`\frac{d}{d\varepsilon}\mathcal{L}[u + \varepsilon h]\big|_{\varepsilon=0}`, no integration by parts.

    ``density_field_form`` is in field form; ``perturbations`` maps each field ``u(x, ...)`` to a
    perturbation ``h`` (an expression in the coordinates, or another field).  Integrated over a
    closed manifold this equals :math:`\int \mathcal{E}_u(\mathcal{L})\, h`; the difference is a total
    divergence pointwise.

    Raises:
        EmptyInputError: empty ``perturbations`` (no direction to vary in).
    """
    if not perturbations:
        raise EmptyInputError("perturbations is empty: name at least one field and its perturbation")
    eps = sp.Dummy("epsilon")
    shifted = density_field_form.subs({u: u + eps * h for u, h in perturbations.items()}, simultaneous=True)
    return sp.diff(shifted.doit(), eps).subs(eps, 0)
