r"""Energy functionals as data, their first variations and gradient flows (section 2.4, appendix B).

A :class:`Functional` holds an integral :math:`E = \int \mathcal{L}\,\mathrm{d}^n x` as a density in
jet form (:mod:`flowtheory.variation`), the variable it is varied in — a Riemannian metric
``g_ij`` (with, for Perelman, the dilaton ``phi`` slaved to a fixed measure) or a Kähler potential
correction ``phi`` — and the inner product whose gradient defines its flow.  Everything else is
derived: :meth:`Functional.variation` by the Euler operator, :meth:`Functional.gradient` by dividing
by the inner product's measure (and lowering indices), :meth:`Functional.flow` by the rule stated
in :attr:`Functional.flow_rule`.

Conventions.

* Riemannian curvature: :mod:`flowtheory.riemann` (unit S² has R = +2).
* Metric variations: :math:`\delta E = \int V^{ij}h_{ij}\,\mathrm{d}^nx`, ``V`` symmetric (sum over all
  ``i, j``); the gradient for :math:`\langle h,k\rangle_m=\int h_{ij}k^{ij}\,\mathrm{d}m` is
  :math:`G_{ij} = g_{ik}V^{kl}g_{lj}/\rho_m` (:func:`flowtheory.variation.covariant_gradient`).
* Kähler (:mod:`flowtheory.kahler`): complex dimension ``n``, coordinates ``z_a`` and ``zb_a``
  treated as independent, line-element components :math:`ds^2 = g_{a\bar b}dz^a d\bar z^b` (the
  paper's (B.2)),
  :math:`g_{a\bar b} = \partial_a\partial_{\bar b}(K_0 + \varphi)` (the paper's (B.6) without its
  :math:`i/2\pi`), :math:`R_{a\bar b} = -\partial_a\partial_{\bar b}\ln\det g` (B.3),
  :math:`R = g^{a\bar b}R_{a\bar b}` (the paper's (B.8); the Riemannian scalar curvature is 4R),
  :math:`\Delta f = g^{a\bar b}\partial_a\partial_{\bar b}f` (the Laplace–Beltrami operator is 4Δ),
  :math:`|\partial f|^2 = g^{a\bar b}\partial_a f\,\partial_{\bar b}f` (:math:`|\nabla f|^2_{\text{Riem}} = 4|\partial f|^2`).
  Top forms are densities in
  :math:`\mathrm{d}^{2n}x` with :math:`\omega_\varphi^n/n! \mapsto \det g` and, for mixed products,
  :math:`\omega_1\wedge\dots\wedge\omega_n/n! \mapsto D(g_1,\dots,g_n)` (mixed discriminant); the fixed
  Calabi–Yau measure is :math:`\mu_{CY} = w\,\mathrm{d}^{2n}x` with :math:`w = \kappa|\Omega|^2`
  (``w`` = 1 on the flat torus) and :math:`\eta = \det g / w` (B.11).
* Potential variations: :math:`\delta E = \int \mathcal{E}_\varphi\,\psi\,\mathrm{d}^{2n}x`; the
  :math:`L^2(\omega_\varphi^n)` (Mabuchi) gradient is :math:`\mathcal{E}_\varphi/\det g`.

Flows are *gradient descent of a loss* :math:`\mathcal{L} = s\,E` (``loss_scale`` s), as a local NN
metric flow (2.14) with :math:`\bar\Omega = 1`: Perelman's flow is the descent of
:math:`\mathcal{L} = -2\mathcal{F}` (the ascent of :math:`\mathcal{F}` at rate 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Mapping

import sympy as sp

from flowtheory import errors, riemann
from flowtheory.caching import cached_by_value
from flowtheory.errors import DegenerateInputError, EmptyInputError, InvalidParameterError, NonConvexError, NonFiniteError
from flowtheory.exact import evaluate
from flowtheory.latex import latex, name_latex
from flowtheory.reprs import latex_block
from flowtheory.variation import (
    JetSpace,
    covariant_gradient,
    euler_operator,
    fixed_measure_metric_variation,
    metric_field_names,
    metric_variation,
    symmetric_metric,
)

__all__ = [
    "Functional",
    "KahlerSetting",
    "PRESETS",
    "calabi",
    "check_convex",
    "einstein_hilbert",
    "einstein_hilbert_metric",
    "j_functional",
    "kahler_ricci",
    "kahler_setting",
    "mabuchi",
    "mixed_discriminant",
    "perelman",
    "perelman_eta",
    "preset",
    "ricci",
    "two_derivative",
    "ultralocal",
    "volume",
]

FlowRule = Literal["l2", "h1", "lie-ricci"]
Variable = Literal["metric", "potential"]


@dataclass(frozen=True)
class Functional:
    r"""An integral functional with the data that define its first variation and gradient flow.

    Attributes:
        name: preset name (``"perelman"``, ``"calabi"``, ...).
        title: human-readable name.
        equations: the paper's equation numbers it corresponds to.
        variable: ``"metric"`` (fields ``g_ij``, plus a slaved scalar) or ``"potential"`` (``phi``).
        jet: the jet space of the fields.
        integrand: the covariant integrand (field form) for display, e.g. :math:`R + |\nabla\phi|^2`.
        measure_label: the integration measure in words/LaTeX for display.
        lagrangian: the integrand per unit ``weight`` (jet form, canonical ``cancel`` form).
        weight: the density (jet form) of the integration measure in :math:`\mathrm{d}^nx`, so
            that :math:`E = \int` ``lagrangian * weight`` :math:`\mathrm{d}^nx`.
        inner_measure: density (jet form) of the measure of the gradient's inner product.
        metric: the metric in field form (``g_ij`` for Riemannian, ``g_{a\bar b}`` for Kähler).
        slaved: name of the scalar slaved to ``fixed_measure`` (Perelman's dilaton), else ``None``.
        fixed_measure: the fixed measure density (jet form) that slaves ``slaved``.
        loss_scale: ``s`` in the loss :math:`\mathcal{L} = sE` whose descent is the flow.
        flow_rule: ``"l2"`` (descent of the :math:`L^2(\text{inner\_measure})` gradient), ``"h1"``
            (descent in the Dirichlet inner product :math:`\int\partial\psi_1\cdot\bar\partial\psi_2\,\omega_\varphi^n`,
            ``h1_potential`` being the gradient), ``"lie-ricci"`` (Perelman's flow plus
            :math:`\mathcal{L}_{\nabla\phi}g`: Ricci flow (2.39), not a gradient flow).
        h1_potential: the :math:`H^1` gradient (jet form) where ``flow_rule == "h1"``.
        parameters: constants of the functional (e.g. :math:`\bar R`), as symbols.
        formula: the functional in covariant LaTeX, for display.
    """

    name: str
    title: str
    equations: tuple[str, ...]
    variable: Variable
    jet: JetSpace
    integrand: sp.Expr
    measure_label: str
    lagrangian: sp.Expr
    weight: sp.Expr
    inner_measure: sp.Expr
    metric: sp.ImmutableMatrix
    slaved: str | None = None
    fixed_measure: sp.Expr | None = None
    loss_scale: sp.Expr = sp.S.One
    flow_rule: FlowRule = "l2"
    h1_potential: sp.Expr | None = None
    parameters: tuple[sp.Symbol, ...] = ()
    formula: str = ""

    def __post_init__(self):
        # A value: immutable sympy data, so that equal data compare and hash equal.
        object.__setattr__(self, "equations", tuple(self.equations))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "metric", sp.ImmutableMatrix(self.metric))
        for name in ("integrand", "lagrangian", "weight", "inner_measure", "loss_scale"):
            object.__setattr__(self, name, sp.sympify(getattr(self, name)))
        for name in ("fixed_measure", "h1_potential"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, sp.sympify(getattr(self, name)))

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        return self.jet.coords

    @property
    def density(self) -> sp.Expr:
        """The Lagrangian density in :math:`\\mathrm{d}^nx` (jet form): ``lagrangian * weight``."""
        return self.lagrangian * self.weight

    @property
    def evolving_fields(self) -> tuple[str, ...]:
        """The fields with a flow equation (Ricci flow (2.39) evolves the metric only)."""
        return tuple(self.flow())

    def variation(self):
        r"""The first variation with respect to the measure ``weight`` (jet form, rational).

        :math:`V^{ij}/\rho` (Matrix) or :math:`\mathcal{E}_\varphi/\rho`, :math:`\rho` = ``weight``:
        :math:`\delta E = \int (V^{ij}/\rho)h_{ij}\,\rho\,\mathrm{d}^nx`.  For a slaved scalar the
        metric variation is taken at fixed measure
        (:func:`flowtheory.variation.fixed_measure_metric_variation`).
        """
        return _variation(self)

    def gradient(self):
        """The gradient w.r.t. the inner product (jet form, canonical ``cancel`` form): lowered :math:`G_{ij}` or a scalar."""
        return _gradient(self)

    def flow(self) -> dict[str, sp.Expr]:
        r"""``{field: d field/dt}`` in jet form: descent of :math:`\mathcal{L} = sE` per ``flow_rule``."""
        return _flow(self)

    def flow_at(self, values: Mapping[str, sp.Expr] | None = None, *, metric: sp.MatrixBase | None = None) -> dict[str, sp.Expr]:
        """The flow at concrete fields: expressions in the coordinates.

        Riemannian functionals take ``metric`` (an ``n x n`` Matrix in ``self.coords``, validated by
        :func:`flowtheory.riemann.check_metric`: :class:`~flowtheory.errors.NotSymmetricError`,
        :class:`~flowtheory.errors.NotPositiveDefiniteError`) and ``values`` for the scalar (``phi``,
        default 0); Kähler ones take ``values={"phi": ...}`` in ``(z, zb)``, the resulting metric
        validated by :func:`flowtheory.kahler.check_kahler_metric`.
        """
        values = dict(values or {})
        n = self.jet.dim
        if self.variable == "metric":
            if metric is None:
                raise InvalidParameterError("a Riemannian flow needs metric=")
            metric = sp.Matrix(metric)
            riemann.check_metric(metric, self.coords)
            for i in range(n):
                for j in range(i, n):
                    values[f"g_{i}{j}"] = metric[i, j]
            for name in self.jet.fields:
                values.setdefault(name, sp.S.Zero)
        else:
            from flowtheory import kahler

            values.setdefault("phi", sp.S.Zero)
            half = n // 2
            g = self.metric.xreplace({self.jet.function("phi"): values["phi"]}).doit()
            kahler.check_kahler_metric(g, self.coords[:half], self.coords[half:])
        out = {}
        for name, expr in self.flow().items():
            reps = {}
            for sym in self.jet.jet_symbols_of(expr):
                field_name, orders = self.jet.decode(sym)
                pairs = [(c, k) for c, k in zip(self.coords, orders) if k]
                reps[sym] = sp.diff(values[field_name], *pairs) if pairs else sp.sympify(values[field_name])
            out[name] = expr.xreplace(reps)
        return out

    def latex_options(self) -> dict:
        r"""Keyword arguments of :func:`flowtheory.latex.latex` for expressions in this functional's
        jets: comma notation for derivatives, and for a Kähler potential the name :math:`\varphi`
        with the second half of the coordinates conjugate (``zb`` → :math:`\bar z`)."""
        if self.variable == "metric":
            return {"jet": self.jet}
        return {"jet": self.jet, "names": {"phi": r"\varphi"}, "conjugates": self.coords[self.jet.dim // 2:]}

    def _repr_latex_(self) -> str:
        r"""Notebook display (:mod:`flowtheory.reprs`): title, equations, fields and flow rule on one
        line, then the functional as a displayed formula (``formula``, else :math:`\int` integrand
        measure).  Nothing is derived."""
        options = self.latex_options()
        conjugates = [str(c) for c in options.get("conjugates", ())]
        eqs = f" ({', '.join(self.equations)})" if self.equations else ""
        fields = ", ".join(f"${name_latex(name, names=options.get('names'))}$" for name in self.jet.fields)
        coords = ", ".join(f"${name_latex(str(c), conjugates=conjugates)}$" for c in self.coords)
        loss = "E" if self.loss_scale == 1 else f"{sp.latex(self.loss_scale)}\\,E"
        inner = f"L^2({self.measure_label})" if self.variable == "metric" else r"L^2(\omega_\varphi^n)"
        rule = {
            "l2": f"the ${inner}$ gradient",
            "h1": r"the gradient in the Dirichlet inner product $\int\partial\psi_1\cdot\bar\partial\psi_2\,\omega_\varphi^n$",
            "lie-ricci": r"Perelman's flow plus $\mathcal{L}_{\nabla\phi}g$ (Ricci flow (2.39), not a gradient flow)",
        }[self.flow_rule]
        constants = f"; constants {', '.join(f'${name_latex(p.name)}$' for p in self.parameters)}" if self.parameters else ""
        text = (f"{self.title}{eqs}: fields {fields} on {coords}; flow: descent of the loss "
                f"$\\mathcal{{L}} = {loss}$ by {rule}{constants}")
        formula = self.formula or f"\\int {latex(self.integrand, **options)}\\,{self.measure_label}"
        return latex_block(text, [formula])


# ----------------------------------------------------------------------------------------------
# derived quantities: pure functions of immutable values, cached by value
# (:func:`flowtheory.caching.cached_by_value`, the one caching scheme of the symbolic layer).
# Each cache key is exactly the data the computation reads, so equal data share a result and
# different data never do; cached results are immutable (ImmutableMatrix, tuples of pairs).
# ----------------------------------------------------------------------------------------------


@cached_by_value()
def _variation_of(variable: Variable, jet: JetSpace, lagrangian: sp.Expr, weight: sp.Expr, slaved: str | None, fixed_measure: sp.Expr | None):
    if variable == "potential":
        return euler_operator(lagrangian, "phi", jet, weight=weight)
    if slaved is not None:
        return sp.ImmutableMatrix(fixed_measure_metric_variation(lagrangian, fixed_measure, slaved, jet, weight=weight))
    return sp.ImmutableMatrix(metric_variation(lagrangian, jet, weight=weight))


def _variation(f: Functional):
    return _variation_of(f.variable, f.jet, f.lagrangian, f.weight, f.slaved, f.fixed_measure)


@cached_by_value()
def _gradient_of(variable: Variable, jet: JetSpace, lagrangian: sp.Expr, weight: sp.Expr, slaved: str | None,
                 fixed_measure: sp.Expr | None, inner_measure: sp.Expr, metric: sp.ImmutableMatrix):
    ratio = sp.cancel(weight / inner_measure)
    V = _variation_of(variable, jet, lagrangian, weight, slaved, fixed_measure)
    if variable == "potential":
        return sp.cancel(V * ratio)
    return sp.ImmutableMatrix(covariant_gradient(V.applyfunc(sp.cancel), jet.to_jet(metric), 1 / ratio).applyfunc(sp.cancel))


def _gradient(f: Functional):
    return _gradient_of(f.variable, f.jet, f.lagrangian, f.weight, f.slaved, f.fixed_measure, f.inner_measure, f.metric)


@cached_by_value()
def _flow_of(f: Functional) -> tuple[tuple[str, sp.Expr], ...]:
    if f.variable == "potential":
        if f.flow_rule == "h1":
            return (("phi", -f.loss_scale * f.h1_potential),)
        return (("phi", -f.loss_scale * _gradient(f)),)
    G = -f.loss_scale * _gradient(f)
    n = f.jet.dim
    if f.flow_rule == "lie-ricci":
        # Ricci flow (2.39) = Perelman's flow + L_{∇φ} g, and L_{∇φ} g = 2 ∇∇φ.
        G = (G + 2 * f.jet.to_jet(riemann.hessian(f.jet.function(f.slaved), f.metric, f.coords))).applyfunc(sp.cancel)
    out = {f"g_{i}{j}": G[i, j] for i in range(n) for j in range(i, n)}
    if f.slaved is not None and f.flow_rule != "lie-ricci":
        # The slaved scalar follows from d(rho_m)/dt = 0 (derived from the measure density).
        rho = f.fixed_measure
        d_phi = sp.diff(rho, f.jet.symbol(f.slaved))
        rate = sp.Add(*[sp.cancel(-sp.diff(rho, f.jet.symbol(name)) / d_phi) * out[name] for name in metric_field_names(n)])
        out[f.slaved] = sp.cancel(rate)
    return tuple(out.items())


def _flow(f: Functional) -> dict[str, sp.Expr]:
    return dict(_flow_of(f))


# ----------------------------------------------------------------------------------------------
# Riemannian functionals
# ----------------------------------------------------------------------------------------------


def _riemannian_jet(dim: int, scalars: tuple[str, ...] = ()) -> tuple[JetSpace, sp.Matrix]:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1 or dim > 4:
        raise InvalidParameterError(f"Riemannian functionals are supported in dimension 1..4, got {dim!r}")
    coords = tuple(sp.Symbol(name) for name in ("x", "y", "w", "v")[:dim])
    jet = JetSpace(coords, metric_field_names(dim) + scalars)
    return jet, symmetric_metric(jet)


def perelman(dim: int = 2) -> Functional:
    r"""Perelman's :math:`\mathcal{F}[g,\phi] = \int (R + |\nabla\phi|^2)e^{-\phi}\,\mathrm{d}V` (2.41).

    Varied at fixed :math:`m = e^{-\phi}\mathrm{d}V`: the gradient for :math:`\langle h,k\rangle_m`
    is :math:`-(R_{ij} + \nabla_i\nabla_j\phi)` and the flow, the descent of
    :math:`\mathcal{L} = -2\mathcal{F}`, is (2.40) with :math:`\partial_t\phi = -\Delta\phi - R`.
    """
    jet, g = _riemannian_jet(dim, ("phi",))
    phi = jet.function("phi")
    vol = riemann.volume_density(g, jet.coords)
    integrand = riemann.ricci_scalar(g, jet.coords) + riemann.grad_norm_sq(phi, g, jet.coords)
    m = jet.to_jet(sp.exp(-phi) * vol)
    return Functional(
        name="perelman", formula=r"\mathcal{F}[g,\phi] = \int (R + |\nabla\phi|^2)\,e^{-\phi}\,dV",
        title="Perelman's F-functional",
        equations=("2.40", "2.41", "2.42"),
        variable="metric",
        jet=jet,
        integrand=integrand,
        measure_label=r"e^{-\phi}\,dV",
        lagrangian=sp.cancel(jet.to_jet(integrand)),
        weight=m,
        inner_measure=m,
        metric=g,
        slaved="phi",
        fixed_measure=m,
        loss_scale=sp.Integer(-2),
    )


def ricci(dim: int = 2) -> Functional:
    r"""Ricci flow (2.39) :math:`\partial_t g = -2R_{ij}`: Perelman's flow (2.40) plus :math:`\mathcal{L}_{\nabla\phi}g`.

    Not a gradient flow itself; the functional carried is Perelman's :math:`\mathcal{F}`, the flow
    rule ``"lie-ricci"`` adds the Lie derivative :math:`2\nabla_i\nabla_j\phi` of the diffeomorphism.
    """
    f = perelman(dim)
    return Functional(**{**f.__dict__, "name": "ricci", "title": "Ricci flow (via Perelman's F)", "equations": ("2.39", "2.40"), "flow_rule": "lie-ricci"})


def einstein_hilbert_metric(dim: int = 2) -> Functional:
    r"""The Einstein–Hilbert action :math:`\int R\,\mathrm{d}V` of a Riemannian metric.

    Variation :math:`V^{ij} = -(R^{ij} - \tfrac12 R g^{ij})\sqrt{g}` (identically zero in two
    dimensions: Gauss–Bonnet); gradient descent for :math:`\langle h,k\rangle_{dV}`:
    :math:`\partial_t g = R_{ij} - \tfrac12 R g_{ij}`.
    """
    jet, g = _riemannian_jet(dim)
    vol = jet.to_jet(riemann.volume_density(g, jet.coords))
    R = riemann.ricci_scalar(g, jet.coords)
    return Functional(
        name="einstein-hilbert-metric", formula=r"\int R\,dV",
        title="Einstein-Hilbert action",
        equations=(),
        variable="metric",
        jet=jet,
        integrand=R,
        measure_label="dV",
        lagrangian=sp.cancel(jet.to_jet(R)),
        weight=vol,
        inner_measure=vol,
        metric=g,
    )


def volume(dim: int = 2) -> Functional:
    r"""The volume :math:`\int\mathrm{d}V`; variation :math:`\tfrac12 g^{ij}\sqrt{g}`."""
    jet, g = _riemannian_jet(dim)
    vol = jet.to_jet(riemann.volume_density(g, jet.coords))
    return Functional(
        name="volume",  formula=r"\int dV", title="Volume", equations=(), variable="metric", jet=jet, integrand=sp.S.One,
        measure_label="dV", lagrangian=sp.S.One, weight=vol, inner_measure=vol, metric=g,
    )


# ----------------------------------------------------------------------------------------------
# Kähler functionals
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KahlerSetting:
    r"""A chart for :math:`\varphi`-flows: complex coordinates, reference potential, CY density.

    Attributes:
        n: complex dimension.
        z, zbar: the holomorphic and antiholomorphic coordinates (independent symbols).
        jet: the jet space of ``phi`` over ``z + zbar``.
        K0: reference Kähler potential (field-free expression in the coordinates).
        w: density of :math:`\mu_{CY} = \kappa|\Omega|^2\,\mathrm{d}^{2n}x` (``1`` on the flat torus);
            :math:`\ln w` must be pluriharmonic for :math:`R_{a\bar b} = -\partial_a\partial_{\bar b}\ln\eta`.
        metric: :math:`g_{a\bar b} = \partial_a\partial_{\bar b}(K_0 + \varphi)` in field form.
    """

    n: int
    z: tuple[sp.Symbol, ...]
    zbar: tuple[sp.Symbol, ...]
    jet: JetSpace
    K0: sp.Expr
    w: sp.Expr
    metric: sp.ImmutableMatrix

    def __post_init__(self):
        object.__setattr__(self, "metric", sp.ImmutableMatrix(self.metric))

    @property
    def phi(self) -> sp.Expr:
        return self.jet.function("phi")

    @property
    def det(self) -> sp.Expr:
        return self.metric.det(method="berkowitz")

    @property
    def eta(self) -> sp.Expr:
        """:math:`\\eta = \\det g / w` (B.11)."""
        return self.det / self.w

    def inverse(self) -> sp.Matrix:
        """:math:`g^{a\\bar b}` indexed ``[a, b]`` (:func:`flowtheory.kahler.inverse_metric`)."""
        from flowtheory import kahler

        return kahler.inverse_metric(self.metric)

    def trace(self, X: sp.Matrix) -> sp.Expr:
        """:math:`g^{a\\bar b}X_{a\\bar b}`."""
        ginv = self.inverse()
        return sp.Add(*[ginv[a, b] * X[a, b] for a in range(self.n) for b in range(self.n)])

    def ricci_form(self) -> sp.Matrix:
        """:math:`R_{a\\bar b}` (B.3), :func:`flowtheory.kahler.ricci_form`."""
        from flowtheory import kahler

        return kahler.ricci_form(self.metric, self.z, self.zbar)

    def scalar_curvature(self) -> sp.Expr:
        """:math:`R = g^{a\\bar b}R_{a\\bar b}` (:func:`flowtheory.kahler.scalar_curvature`)."""
        from flowtheory import kahler

        return kahler.scalar_curvature(self.metric, self.z, self.zbar)

    def laplacian(self, f: sp.Expr) -> sp.Expr:
        """:math:`\\Delta f = g^{a\\bar b}\\partial_a\\partial_{\\bar b} f` (:func:`flowtheory.kahler.kahler_laplacian`)."""
        from flowtheory import kahler

        return kahler.kahler_laplacian(f, self.metric, self.z, self.zbar)

    def ddbar(self, f: sp.Expr) -> sp.Matrix:
        """:math:`\\partial_a\\partial_{\\bar b} f` as an ``n x n`` matrix."""
        return sp.Matrix(self.n, self.n, lambda a, b: sp.diff(f, self.z[a], self.zbar[b]))

    def grad_norm_sq(self, f: sp.Expr, h: sp.Expr | None = None) -> sp.Expr:
        """:math:`g^{a\\bar b}\\partial_a f\\,\\partial_{\\bar b} h` (``h`` defaults to ``f``)."""
        h = f if h is None else h
        return self.trace(sp.Matrix(self.n, self.n, lambda a, b: sp.diff(f, self.z[a]) * sp.diff(h, self.zbar[b])))


def kahler_setting(n: int = 1, K0: sp.Expr | None = None, w: sp.Expr | None = None) -> KahlerSetting:
    """A :class:`KahlerSetting` in complex dimension ``n`` (default: flat torus, ``K0 = Σ z z̄``, ``w = 1``).

    Raises:
        InvalidParameterError: ``n`` not in 1..3.
        DegenerateInputError: a ``w`` identically zero, or a ``K0`` whose metric ``∂∂̄K0`` is
            singular (:func:`flowtheory.riemann.check_nondegenerate`, e.g. ``K0 = 0``).
        NonFiniteError: a ``w`` or ``K0`` with ``nan``, ``oo`` or ``zoo``.
        NotPositiveDefiniteError, NotSymmetricError: a ``∂∂̄K0`` of numbers that is not a Kähler metric.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n > 3:
        raise InvalidParameterError(f"Kähler functionals are supported in complex dimension 1..3, got {n!r}")
    from flowtheory import kahler

    z, zbar = kahler.complex_coordinates("z" if n == 1 else [f"z{a + 1}" for a in range(n)])
    jet = JetSpace(z + zbar, ("phi",))
    K0 = sp.Add(*[a * b for a, b in zip(z, zbar)]) if K0 is None else sp.sympify(K0)
    w = sp.S.One if w is None else sp.sympify(w)
    for name, value in (("K0", K0), ("w", w)):
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise NonFiniteError(f"{name} = {value} is not finite")
    if w == 0:
        raise DegenerateInputError("w is identically zero: the Calabi-Yau density w |dz|^2n vanishes")
    try:
        riemann.check_nondegenerate(kahler.metric_from_potential(K0, z, zbar), hermitian=True)
    except (DegenerateInputError, errors.NotPositiveDefiniteError, errors.NotSymmetricError) as e:
        raise type(e)(f"K0 = {K0} gives no reference metric: {e}") from None
    phi = jet.function("phi")
    metric = kahler.metric_from_potential(K0 + phi, z, zbar)
    return KahlerSetting(n=n, z=z, zbar=zbar, jet=jet, K0=K0, w=w, metric=metric)


def mixed_discriminant(matrices) -> sp.Expr:
    r"""The mixed discriminant :math:`D(A_1,\dots,A_n) = \frac{1}{n!}\partial_{t_1}\cdots\partial_{t_n}\det(\textstyle\sum t_kA_k)`.

    :math:`D(A,\dots,A) = \det A` and :math:`D(B, A,\dots,A) = \tfrac1n\mathrm{tr}(A^{-1}B)\det A`;
    it represents :math:`\omega_1\wedge\dots\wedge\omega_n/n!` as a density.

    Raises:
        EmptyInputError: no ``matrices``.
        InvalidParameterError: a matrix that is not ``n x n`` for ``n = len(matrices)``.
    """
    matrices = [sp.Matrix(m) for m in matrices]
    n = len(matrices)
    if n == 0:
        raise EmptyInputError("matrices is empty: the mixed discriminant needs n >= 1 matrices")
    for i, m in enumerate(matrices):
        if m.shape != (n, n):
            raise InvalidParameterError(f"matrices[{i}] has shape {m.shape}; {n} matrices need shape ({n}, {n})")
    t = sp.symbols(f"t0:{n}")
    total = sp.zeros(n, n)
    for tk, m in zip(t, matrices):
        total += tk * m
    d = total.det(method="berkowitz")
    for tk in t:
        d = sp.diff(d, tk)
    return sp.expand(d / sp.factorial(n))


def _potential_functional(s: KahlerSetting, *, name, title, equations, integrand, measure_label, lagrangian, weight, **kw) -> Functional:
    return Functional(
        name=name,
        title=title,
        equations=equations,
        variable="potential",
        jet=s.jet,
        integrand=integrand,
        measure_label=measure_label,
        lagrangian=sp.cancel(s.jet.to_jet(lagrangian)),
        weight=s.jet.to_jet(weight),
        inner_measure=s.jet.to_jet(s.det),
        metric=s.metric,
        **kw,
    )


def check_convex(F: sp.Expr, eta: sp.Symbol) -> None:
    r"""Require :math:`F:\mathbb{R}^+\to\mathbb{R}` convex (B.12): :math:`F'' \ge 0` on :math:`\eta > 0`.

    Decided symbolically where sympy can (``F''`` provably non-negative for positive ``eta``),
    otherwise by exact evaluation (:func:`flowtheory.exact.evaluate`, 30 digits) on a grid of
    :math:`\eta \in [10^{-3}, 10^{3}]`; a negative or non-real value raises
    :class:`~flowtheory.errors.NonConvexError`.

    Raises:
        NonFiniteError: an ``F`` with ``nan``, ``oo`` or ``zoo``.
        InvalidParameterError: an ``F`` with free symbols other than ``eta``.
        NonConvexError: ``F''`` negative or non-real at a sample.
    """
    if sp.sympify(F).has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NonFiniteError(f"F = {F} is not finite")
    e = sp.Symbol(str(eta), positive=True)
    second = sp.diff(sp.sympify(F).subs(eta, e), e, 2)
    if second.free_symbols - {e}:
        raise InvalidParameterError(f"F must depend on eta only, got free symbols {second.free_symbols - {e}}")
    if second.is_nonnegative:
        return
    samples = [sp.Rational(k, 8) ** p for k in range(1, 9) for p in (1, 3)] + [sp.Integer(10) ** k for k in range(-3, 4)]
    for v in samples:
        value = evaluate(second, {e: v})
        if value.imag != 0 or value.real < 0:
            shown = f"{value.real:.6g}" if value.imag == 0 else f"{value:.6g}"
            raise NonConvexError(f"F = {F} is not convex: F''({v}) = {shown}")


def ultralocal(n: int = 1, F: sp.Expr | None = None, eta: sp.Symbol | None = None, *, rule: Literal["h1", "l2"] = "h1", setting: KahlerSetting | None = None) -> Functional:
    r"""Ultra-local :math:`E = \int F(\eta)\,\mu_{CY}` (B.12), default :math:`F = (\eta-1)^2` (B.14).

    Variation :math:`\mathcal{E}_\varphi = \Delta F'(\eta)\,\det g` (B.13 with :math:`\tfrac12\nabla^2 = \Delta`);
    :math:`L^2(\omega_\varphi^n)` descent :math:`\dot\varphi = -\Delta F'(\eta)` (``rule="l2"``), or
    the :math:`H^1` descent :math:`\dot\varphi = F'(\eta)` (``rule="h1"``, the flow (B.21) corrected).
    ``F`` must be convex (:func:`check_convex`).

    Raises:
        InvalidParameterError: an unknown ``rule``; see also :func:`check_convex`.
    """
    if rule not in ("h1", "l2"):
        raise InvalidParameterError(f"unknown rule {rule!r}; choose 'h1' or 'l2'")
    s = setting or kahler_setting(n)
    eta = eta or sp.Symbol("eta")
    F = (eta - 1) ** 2 if F is None else sp.sympify(F)
    check_convex(F, eta)
    Fe = F.subs(eta, s.eta)
    Fprime = sp.diff(F, eta).subs(eta, s.eta)
    return _potential_functional(
        s,
        name="ultralocal", formula=r"E = \int F(\eta)\,\mu_{CY}",
        title=f"Ultra-local functional, F(eta) = {F}",
        equations=("B.12", "B.13", "B.14", "B.21"),
        integrand=F,
        measure_label=r"\mu_{CY}",
        lagrangian=Fe,
        weight=s.w,
        flow_rule=rule,
        h1_potential=s.jet.to_jet(-Fprime),
    )


def kahler_ricci(n: int = 1, setting: KahlerSetting | None = None) -> Functional:
    r"""Kähler–Ricci flow (B.4) in :math:`\varphi` form on a Calabi–Yau: :math:`\dot\varphi = \ln\eta`.

    Realised as the :math:`H^1` descent of the ultra-local :math:`\int\eta\ln\eta\,\mu_{CY}`
    (:math:`F' = \ln\eta + 1`; the constant does not move the metric):
    :math:`\partial_t g_{a\bar b} = \partial_a\partial_{\bar b}\ln\eta = -R_{a\bar b}`.
    """
    s = setting or kahler_setting(n)
    eta = sp.Symbol("eta")
    base = ultralocal(n, eta * sp.log(eta), eta, rule="h1", setting=s)
    return Functional(
        **{
            **base.__dict__,
            "name": "kahler-ricci",
            "title": "Kahler-Ricci flow (H1 descent of the entropy int eta ln eta mu_CY)",
            "formula": r"\int \eta\ln\eta\,\mu_{CY}",
            "equations": ("B.3", "B.4"),
            "h1_potential": s.jet.to_jet(-sp.log(s.eta)),
        }
    )


def calabi(n: int = 1, setting: KahlerSetting | None = None) -> Functional:
    r"""Calabi's functional :math:`\int R^2\,\omega_\varphi^n` (B.7).

    Variation (derived; proof ``func-calabi``) :math:`\mathcal{E}_\varphi = -2\,\mathcal{D}^*\mathcal{D}R\,\det g`
    with :math:`\mathcal{D}^*\mathcal{D}f = \Delta^2 f + R^{a\bar b}f_{,a\bar b} + g^{a\bar b}\partial_a R\,\partial_{\bar b}f`.
    Its :math:`L^2` descent is the 8th-order flow :math:`\dot\varphi = 2\mathcal{D}^*\mathcal{D}R`; the
    Calabi flow (B.8)–(B.9) :math:`\dot\varphi = R` is the descent of the Mabuchi K-energy
    (:func:`mabuchi`) and decreases this functional.
    """
    s = setting or kahler_setting(n)
    R = s.scalar_curvature()
    return _potential_functional(
        s, name="calabi", formula=r"Ca = \int R^2\,\omega_\varphi^n", title="Calabi functional", equations=("B.7", "B.8", "B.9"), integrand=R**2,
        measure_label=r"\omega_\varphi^n", lagrangian=R**2, weight=s.det,
    )


def mabuchi(n: int = 1, setting: KahlerSetting | None = None) -> Functional:
    r"""Mabuchi's K-energy (Mabuchi 1986; Chen 2000), variation :math:`-(R - \bar R)` in :math:`L^2(\omega_\varphi^n)`.

    .. math:: M(\varphi) = \int \ln\frac{\det g_\varphi}{\det g_0}\det g_\varphi
              - \sum_{k=0}^{n-1}\int \varphi\, D(\mathrm{Ric}_0, g_0^{(k)}, g_\varphi^{(n-1-k)})
              + \frac{\bar R}{n+1}\sum_{k=0}^{n}\int\varphi\, D(g_0^{(k)}, g_\varphi^{(n-k)})

    (densities in :math:`\mathrm{d}^{2n}x`, ``D`` the mixed discriminant, :math:`\bar R` the average
    scalar curvature — a cohomological constant, a symbol here; 0 on a torus or a Calabi–Yau).
    Its descent is the Calabi flow :math:`\dot\varphi = R - \bar R` (B.8)–(B.9).
    """
    s = setting or kahler_setting(n)
    Rbar = sp.Symbol("Rbar")
    g0 = s.ddbar(s.K0)
    ric0 = -s.ddbar(sp.log(g0.det(method="berkowitz")))
    phi = s.phi
    entropy = sp.log(s.det / g0.det(method="berkowitz")) * s.det
    twist = sp.Add(*[mixed_discriminant([ric0] + [g0] * k + [s.metric] * (n - 1 - k)) for k in range(n)])
    aubin = sp.Add(*[mixed_discriminant([g0] * k + [s.metric] * (n - k)) for k in range(n + 1)])
    density = entropy - phi * twist + Rbar / (n + 1) * phi * aubin
    return _potential_functional(
        s, name="mabuchi", formula=r"M(\varphi),\ \delta M = -\int (R - \bar R)\,\delta\varphi\,\omega_\varphi^n", title="Mabuchi K-energy", equations=("B.8", "B.9"),
        integrand=sp.Symbol("M"), measure_label=r"d^{2n}x", lagrangian=density, weight=sp.S.One, parameters=(Rbar,),
    )


def j_functional(n: int = 1, chi: sp.Matrix | None = None, setting: KahlerSetting | None = None) -> Functional:
    r"""The J-functional :math:`J_\chi` (Chen 2000; Song–Weinkove 2008), variation :math:`\mathrm{tr}_{g_\varphi}\chi - c`.

    .. math:: J_\chi(\varphi) = \sum_{k=0}^{n-1}\int\varphi\,D(\chi, g_0^{(k)}, g_\varphi^{(n-1-k)})
              - \frac{c}{n+1}\sum_{k=0}^{n}\int\varphi\,D(g_0^{(k)}, g_\varphi^{(n-k)})

    with ``chi`` a closed (1,1)-form (default :math:`\chi = \omega_0`) and ``c`` the cohomological
    constant :math:`n[\chi][\omega]^{n-1}/[\omega]^n` (a symbol).  Descent: the J-flow
    :math:`\dot\varphi = c - \mathrm{tr}_{g_\varphi}\chi`.

    Raises:
        InvalidParameterError: a ``chi`` that is not ``n x n``.
        DegenerateInputError, NonFiniteError, NotPositiveDefiniteError, NotSymmetricError: a ``chi``
            that is not a Kähler form (:func:`flowtheory.riemann.check_nondegenerate`; e.g. ``chi = 0``).
    """
    s = setting or kahler_setting(n)
    c = sp.Symbol("c")
    g0 = s.ddbar(s.K0)
    chi = g0 if chi is None else sp.Matrix(chi)
    if chi.shape != (n, n):
        raise InvalidParameterError(f"chi has shape {chi.shape}, expected ({n}, {n})")
    try:
        riemann.check_nondegenerate(chi, hermitian=True)
    except errors.FlowtheoryError as e:
        raise type(e)(f"chi is not a Kähler form: {e}") from None
    phi = s.phi
    first = sp.Add(*[mixed_discriminant([chi] + [g0] * k + [s.metric] * (n - 1 - k)) for k in range(n)])
    aubin = sp.Add(*[mixed_discriminant([g0] * k + [s.metric] * (n - k)) for k in range(n + 1)])
    density = phi * first - c / (n + 1) * phi * aubin
    return _potential_functional(
        s, name="j", formula=r"J_\chi(\varphi),\ \delta J = \int (\mathrm{tr}_{\omega_\varphi}\chi - c)\,\delta\varphi\,\omega_\varphi^n", title="J-functional", equations=(), integrand=sp.Symbol("J"),
        measure_label=r"d^{2n}x", lagrangian=density, weight=sp.S.One, parameters=(c,),
    )


def two_derivative(n: int = 1, setting: KahlerSetting | None = None) -> Functional:
    r"""The two-derivative functional :math:`\int\mu_{CY}\,g^{a\bar b}\partial_a\eta\,\partial_{\bar b}\eta` (B.15).

    :math:`L^2(\omega_\varphi^n)` descent (a sixth-order flow); see proof ``func-two-derivative`` for
    the printed variation (B.16) and flows (B.19)–(B.20).
    """
    s = setting or kahler_setting(n)
    integrand = s.grad_norm_sq(s.eta)
    return _potential_functional(
        s, name="two-derivative", formula=r"E_2 = \int \mu_{CY}\,g^{a\bar b}\partial_a\eta\,\bar\partial_{\bar b}\eta", title="Two-derivative functional", equations=("B.15", "B.16", "B.19", "B.20"),
        integrand=integrand, measure_label=r"\mu_{CY}", lagrangian=integrand, weight=s.w,
    )


def einstein_hilbert(n: int = 1, setting: KahlerSetting | None = None) -> Functional:
    r"""(B.17) :math:`E_{EH} = -\tfrac12\int\mu_{CY}R_{\text{Riem}} = -2\int\mu_{CY}R` (:math:`R_{\text{Riem}} = 4R`), in :math:`\varphi`.

    On a Calabi–Yau chart (:math:`\ln w` pluriharmonic) it equals :math:`2\int\mu_{CY}\eta^{-2}|\partial\eta|^2`
    up to a divergence — not proportional to :math:`E_{2\text{deriv}}` (B.15); :math:`E_{EH} = 2E_{2\text{deriv}}`
    only to quadratic order at :math:`\eta = 1` (proof ``func-einstein-hilbert``).
    """
    from flowtheory.kahler import RIEMANNIAN_FACTOR

    s = setting or kahler_setting(n)
    R = RIEMANNIAN_FACTOR["line-element"] * s.scalar_curvature() / 2  # half the Riemannian R
    return _potential_functional(
        s, name="einstein-hilbert", formula=r"E_{EH} = -\frac{1}{2}\int \mu_{CY} R_{\mathrm{Riem}}", title="Einstein-Hilbert action with the CY measure", equations=("B.17",),
        integrand=-R, measure_label=r"\mu_{CY}", lagrangian=-R, weight=s.w,
    )


def perelman_eta(n: int = 1, setting: KahlerSetting | None = None) -> Functional:
    r"""Perelman's :math:`\mathcal{F}` (2.41) on Kähler metrics with dilaton :math:`\phi = \ln\eta` (B.18).

    :math:`e^{-\phi}\mathrm{d}V = \mu_{CY}`, :math:`R_{\text{Riem}} = 4R`, :math:`|\nabla f|^2_{\text{Riem}} = 4|\partial f|^2`:
    :math:`\mathcal{F} = 4\int\mu_{CY}(R + |\partial\ln\eta|^2)`, a null Lagrangian on a Calabi–Yau
    chart (proof ``func-perelman-eta``).
    """
    s = setting or kahler_setting(n)
    R = s.scalar_curvature()
    u = sp.log(s.eta)
    from flowtheory.kahler import RIEMANNIAN_FACTOR

    integrand = RIEMANNIAN_FACTOR["line-element"] * (R + s.grad_norm_sq(u))
    return _potential_functional(
        s, name="perelman-eta", formula=r"\mathcal{F} = \int \mu_{CY}(R_{\mathrm{Riem}} + |\nabla\ln\eta|^2)", title="Perelman's F with dilaton ln eta", equations=("B.18",),
        integrand=integrand, measure_label=r"\mu_{CY}", lagrangian=integrand, weight=s.w,
    )


PRESETS: Mapping[str, Callable[..., Functional]] = {
    "perelman": perelman,
    "ricci": ricci,
    "kahler-ricci": kahler_ricci,
    "calabi": calabi,
    "ultralocal": ultralocal,
    "two-derivative": two_derivative,
    "einstein-hilbert": einstein_hilbert,
    "mabuchi": mabuchi,
    "j": j_functional,
}


def preset(name: str, dim: int | None = None) -> Functional:
    """A named functional: ``dim`` is the real dimension (perelman, ricci) or the complex one (others)."""
    if name not in PRESETS:
        raise InvalidParameterError(f"unknown functional {name!r}; choose from {sorted(PRESETS)}")
    default = 2 if name in ("perelman", "ricci") else 1
    return PRESETS[name](default if dim is None else dim)
