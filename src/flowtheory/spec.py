r"""``FlowSpec``: a metric (or Kähler-potential) flow as data, everything else derived.

A flow is specified by a :class:`~flowtheory.functionals.Functional` (coordinates, the metric or
Kähler potential it acts on, its density and inner product) and a metric-NTK kernel:

* ``kernel="local"`` — the local NN metric flow (2.13)–(2.14),
  :math:`\partial_t g_{ij}(x) = -\bar\Omega(x)\,\delta\mathcal{L}/\delta g_{ij}(x)`, with
  :math:`\bar\Omega` = ``omega`` (default 1, reachable by the rescaling trick (2.15)–(2.18)) and
  :math:`\delta\mathcal{L}/\delta g` the gradient of the loss :math:`\mathcal{L} = sE` for the
  functional's inner product (metric components go through :func:`flowtheory.ntk.local_flow`,
  the all-entries component structure (2.23));
* ``kernel=GaussianKernel(sigma)`` — the non-local flow (2.30): the right-hand side is the
  *local force* below, to be smeared with the normalised Gaussian :math:`N_\sigma` of (2.27)
  (:func:`flowtheory.ntk.gaussian`; numerically ``numerics.grid.smearing.gaussian_smear``); as
  :math:`\sigma\to0` it becomes the local flow (2.31).

Interface for numerics (stable)::

    spec = FlowSpec.preset("perelman", dim=2)        # or FlowSpec(functional, kernel, omega)
    spec.coords     # (x, y)                          coordinate symbols, axis order
    spec.fields     # ("g_00", "g_01", "g_11", "phi")  evolving fields
    spec.rhs()      # {"g_00": expr, ...}  FIELD FORM: d field/dt as sympy expressions in the
                    #   undefined functions g_00(x, y), phi(x, y), ... and their Derivative objects
                    #   (feed to numerics.grid.fields.compile_field_expression(expr, spec.coords))
    spec.rhs_jet()  # same in JET FORM: plain symbols g_00, g_00_x, g_00_xy, phi_xx, ...
    spec.jet.decode(sym)   # -> (field name, derivative orders per coordinate) of a jet symbol
    spec.compile()  # {"g_00": JaxFunction, ...}; JaxFunction.args = jet symbols (then any
                    #   coordinates), spec.arguments(field) gives their (field, orders) in order
    spec.energy_density()  # the functional's density in d^n x (field form), for diagnostics

Metric fields are the independent components ``g_ij`` with ``i <= j``; Kähler flows evolve
``phi`` over the coordinates ``(z, zbar)`` (``(z1, z2, zbar1, zbar2)`` for n = 2), with
:math:`g_{a\bar b} = \partial_a\partial_{\bar b}(K_0 + \varphi)`.  The right-hand sides are never
simplified; they are the expressions the derivation produced.

Named presets (:data:`PRESET_NAMES`): perelman, ricci, kahler-ricci, calabi, ultralocal,
two-derivative, einstein-hilbert, mabuchi, j.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

import sympy as sp

from flowtheory import functionals, ntk
from flowtheory.caching import cached_by_value
from flowtheory.errors import DegenerateInputError, InvalidParameterError, NonFiniteError
from flowtheory.functionals import Functional
from flowtheory.latex import latex, name_latex
from flowtheory.reprs import latex_block
from flowtheory.variation import JetSpace

__all__ = ["FlowSpec", "GaussianKernel", "PRESET_NAMES"]

PRESET_NAMES = tuple(functionals.PRESETS)


@dataclass(frozen=True)
class GaussianKernel:
    """The Gaussian non-local kernel (2.27)–(2.30) of width ``sigma`` > 0 (chart coordinates).

    Raises:
        InvalidParameterError, NonFiniteError: a ``sigma`` known not to be a positive finite number
            (:func:`flowtheory.ntk.check_positive`).
    """

    sigma: sp.Expr

    def __post_init__(self):
        object.__setattr__(self, "sigma", ntk.check_positive(self.sigma, "sigma"))

    def expr(self, x, xp) -> sp.Expr:
        """:math:`N_\\sigma(x - x')` of (2.27), from :func:`flowtheory.ntk.gaussian`."""
        return ntk.gaussian(tuple(x), tuple(xp), self.sigma)


Kernel = Union[Literal["local"], GaussianKernel]


@dataclass(frozen=True)
class FlowSpec:
    """A flow as data (module docstring).  ``omega`` is :math:`\\bar\\Omega(x)` (field-free).

    ``parameter_values`` holds the values given to the functional's constants by
    :meth:`with_parameters`, as ``((symbol, value), ...)`` sorted by name.  A spec is an immutable,
    hashable value: two specs are equal iff their data are, and derived quantities are cached by
    value (:func:`flowtheory.caching.cached_by_value`), never on the instance.
    """

    functional: Functional
    kernel: Kernel = "local"
    omega: sp.Expr = sp.S.One
    parameter_values: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()

    def __post_init__(self):
        if not (self.kernel == "local" or isinstance(self.kernel, GaussianKernel)):
            raise InvalidParameterError(f"kernel must be 'local' or a GaussianKernel, got {self.kernel!r}")
        omega = sp.sympify(self.omega)
        if omega.free_symbols - set(self.functional.coords):
            raise InvalidParameterError("omega may depend on the coordinates only")
        if omega.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise NonFiniteError(f"omega = {omega} is not finite")
        if omega == 0:
            raise DegenerateInputError("omega is identically zero: the kernel and the flow vanish")
        object.__setattr__(self, "omega", omega)
        values = tuple(sorted(((sp.sympify(k), sp.sympify(v)) for k, v in self.parameter_values), key=lambda kv: str(kv[0])))
        unknown = {k for k, _ in values} - set(self.functional.parameters)
        if unknown:
            raise InvalidParameterError(
                f"{sorted(map(str, unknown))} are not parameters of {self.functional.name}; they are {self.functional.parameters}"
            )
        object.__setattr__(self, "parameter_values", values)

    @classmethod
    def preset(cls, name: str, dim: int | None = None, *, sigma: float | sp.Expr | None = None, omega: sp.Expr = sp.S.One) -> "FlowSpec":
        """A named flow; ``sigma`` given → Gaussian kernel of that width, else local."""
        kernel: Kernel = "local" if sigma is None else GaussianKernel(sigma)
        return cls(functionals.preset(name, dim), kernel, omega)

    # -- data ----------------------------------------------------------------------------------
    @property
    def jet(self) -> JetSpace:
        return self.functional.jet

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        return self.functional.coords

    @property
    def fields(self) -> tuple[str, ...]:
        return self.functional.evolving_fields

    # -- derived -------------------------------------------------------------------------------
    def variation(self):
        """The functional's first variation density (jet form), see :meth:`Functional.variation`."""
        return self.functional.variation()

    def rhs_jet(self) -> dict[str, sp.Expr]:
        """``{field: d field/dt}`` in jet form (the local force for a Gaussian kernel)."""
        return dict(_rhs_jet_of(self))

    def rhs(self) -> dict[str, sp.Expr]:
        """``{field: d field/dt}`` in field form (undefined functions and ``Derivative`` objects)."""
        return {k: self.jet.from_jet(v) for k, v in self.rhs_jet().items()}

    def energy_density(self) -> sp.Expr:
        """The functional's density in :math:`\\mathrm{d}^nx`, field form."""
        return self.jet.from_jet(self.functional.density)

    def arguments(self, name: str) -> tuple[sp.Symbol, ...]:
        """Argument order of the compiled right-hand side of ``name``: jet symbols, then coordinates.

        Raises:
            InvalidParameterError: a ``name`` that is not an evolving field.
        """
        rhs = self.rhs_jet()
        if name not in rhs:
            raise InvalidParameterError(f"unknown field name {name!r}; the flow evolves {tuple(rhs)}")
        expr = rhs[name]
        jets = tuple(self.jet.jet_symbols_of(expr))
        coords = tuple(c for c in self.coords if c in expr.free_symbols)
        return jets + coords

    def compile(self) -> dict:
        """``{field: JaxFunction}`` via :func:`flowtheory.bridge.to_jax` (JAX imported lazily).

        Parameters of the functional (e.g. ``Rbar``, ``c``) must be substituted first
        (:meth:`with_parameters`); free symbols left over are an error of the bridge.
        """
        from flowtheory.bridge import to_jax

        return {name: to_jax(expr, self.arguments(name)) for name, expr in self.rhs_jet().items()}

    def with_parameters(self, values: dict) -> "FlowSpec":
        """The same flow with the functional's constants (``Rbar``, ``c``, ...) replaced by values."""
        subs = {sp.Symbol(str(k)) if isinstance(k, str) else k: sp.sympify(v) for k, v in values.items()}
        return FlowSpec(self.functional, self.kernel, self.omega, tuple({**dict(self.parameter_values), **subs}.items()))

    def _repr_latex_(self) -> str:
        r"""Notebook display (:mod:`flowtheory.reprs`): the functional, kernel and parameter values on
        one line, then :math:`\partial_t` of each field in jet variables (:meth:`rhs_jet`, derived
        once and cached by value; names of :meth:`Functional.latex_options`), one displayed formula
        per field; for a Gaussian kernel the local force is shown smeared, :math:`N_\sigma \ast (\dots)`."""
        f = self.functional
        options = f.latex_options()
        field_latex = lambda name: name_latex(name, names=options.get("names"))  # noqa: E731
        eqs = f" ({', '.join(f.equations)})" if f.equations else ""
        field = self.fields[0]
        jet_symbol = self.jet.symbol(field, (1,) + (0,) * (len(self.coords) - 1))
        coord = name_latex(str(self.coords[0]))
        jet = f"${latex(jet_symbol, **options)} = \\partial_{{{coord}}} {field_latex(field)}$"
        values = "".join(f", ${name_latex(str(k))} = {sp.latex(v)}$" for k, v in self.parameter_values)
        if self.kernel == "local":
            kernel, smear = f"a local NN metric flow (2.14) with $\\bar\\Omega(x) = {latex(self.omega, **options)}$", None
        else:
            kernel = f"a non-local flow (2.30), the local force smeared with $N_\\sigma$ (2.27), $\\sigma = {sp.latex(self.kernel.sigma)}$"
            smear = "N_{\\sigma} \\ast "
        formulas = []
        for name, rhs in self.rhs_jet().items():
            body = latex(rhs, **options)
            if smear is not None:
                body = f"{smear}\\left({body}\\right)"
            formulas.append(f"\\partial_t {field_latex(name)} = {body}")
        return latex_block(f"{f.title}{eqs} as {kernel}{values}; jet variables such as {jet}", formulas)


@cached_by_value()
def _rhs_jet_of(spec: FlowSpec) -> tuple[tuple[str, sp.Expr], ...]:
    """:meth:`FlowSpec.rhs_jet` as a pure function of the spec's value (cached by value)."""
    flow = spec.functional.flow()
    omega = spec.omega if spec.kernel == "local" else sp.S.One
    n = spec.jet.dim
    out = dict(flow)
    if spec.functional.variable == "metric":
        names = [f"g_{i}{j}" for i in range(n) for j in range(i, n)]
        force = sp.Matrix(n, n, lambda i, j: -flow[f"g_{min(i, j)}{max(i, j)}"])
        moved = ntk.local_flow(force, omega)
        out.update({f"g_{i}{j}": moved[i, j] for i in range(n) for j in range(i, n)})
        for other in set(flow) - set(names):
            out[other] = omega * flow[other]
    else:
        out = {k: omega * v for k, v in flow.items()}
    subs = dict(spec.parameter_values)
    return tuple((k, v.xreplace(subs)) for k, v in out.items())
