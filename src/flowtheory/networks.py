r"""Network specs, their parameter laws, and their frozen NTKs derived as expectations (sec. 2.3.2).

Every frozen NTK here is *derived*: the law of large numbers turns the width-:math:`N` sum of
gradient products (2.33) into an expectation over one hidden unit's parameters (2.9, 2.34), and
that expectation is computed by sympy integration against the parameter laws — nothing is looked
up.  Two integration engines do the work:

* :func:`expectation` — expectations over independent Gaussian / uniform parameters of sums of
  ``(deterministic) * monomial * exp(linear form)`` terms (``cos`` and ``sin`` are rewritten as
  exponentials).  Each law's moment-generating function is derived once by ``sympy.integrate``;
  moments are its derivatives.  This gives the cosine and Gauss-net kernels and the pre-activation
  covariances of the ReLU network.
* :func:`homogeneous_pair_moment` — :math:`\mathbb{E}[u_+^{k}\, v_+^{l}]` for a centred bivariate
  Gaussian :math:`(u, v)`, reduced by rotation invariance to polar coordinates; sympy does the
  radial and the angular integral.  This gives the arc-cosine (ReLU) NNGP and NTK.

Networks (all in NTK parameterisation, width :math:`N \to \infty`; the exact contract that the
finite-width networks of :mod:`numerics.nn.networks` implement):

``"cosine"`` — random-Fourier-feature reading of (2.32)
    :math:`\phi(x) = \frac{A}{\sqrt N}\sum_{i=1}^N a_i \cos\big(\sum_{j=1}^d w_{ij}x_j + b_i\big)`,
    :math:`a_i \sim \mathcal N(0,\sigma_a^2)`, :math:`w_{ij} \sim \mathcal N(0,\sigma_w^2/d)`,
    :math:`b_i \sim \mathcal U(-\pi,\pi)`; only the :math:`a_i` are trained (as in 2.33).
    Frozen NTK :math:`\frac{A^2}{2}\exp(-\frac{\sigma_w^2}{2d}|x-x'|^2)` — this reading gives (2.35).
``"cosine-literal"`` — (2.32) read literally (the sum over :math:`j` outside the cosine)
    :math:`\phi(x) = \frac{A}{\sqrt N}\sum_{i=1}^N\sum_{j=1}^d a_i \cos(w_{ij}x_j + b_i)`, same laws,
    only the :math:`a_i` trained.  Its frozen NTK keeps the cross terms :math:`j \ne l` that the
    printed (2.33) drops; for :math:`d > 1` it is not a Gaussian in :math:`x - x'`.
``"gauss-net"`` — the exponential network after (2.37) (Gauss-net of Halverson, Maiti, Stoner,
    *Neural networks and quantum field theory*, Mach. Learn.: Sci. Technol. 2 (2021) 035002)
    :math:`\phi(x) = \frac{A}{\sqrt N}\sum_i a_i \exp(w_i\cdot x + b_i)\,/\,\sqrt{\mathbb E[\exp(2(w\cdot x + b))]}`,
    :math:`w_{ij} \sim \mathcal N(0,\sigma_w^2/d)`, :math:`b_i \sim \mathcal N(0,\sigma_b^2)`,
    :math:`a_i \sim \mathcal N(0,\sigma_a^2)`; only the :math:`a_i` trained.  The denominator is the
    deterministic function :attr:`NetworkSpec.feature_normalizer` of :math:`x` (derived).
``"relu"`` — one hidden ReLU layer, *all* parameters trained, exactly neural-tangents'
    ``stax.serial(stax.Dense(N, W_std=σ_w, b_std=σ_b), stax.Relu(), stax.Dense(1, W_std=σ_w, b_std=σ_b))``
    with ``parameterization='ntk'``:
    :math:`h_i = \frac{\sigma_w}{\sqrt d}\sum_j W_{ij}x_j + \sigma_b b_i`,
    :math:`f = \frac{\sigma_w}{\sqrt N}\sum_i v_i\,\mathrm{relu}(h_i) + \sigma_b c`, all parameters
    :math:`\mathcal N(0,1)`.  No normalisation :math:`A` (and no width :math:`\sigma`).

For the Gaussian kernels (``"cosine"``, ``"gauss-net"``, and ``"cosine-literal"`` in :math:`d = 1`)
:math:`A` is fixed by requiring :math:`\int_{\mathbb R^d} \mathrm d^dx'\,\bar\Theta(x,x') = 1`
(derived by sympy integration), which makes :math:`\bar\Theta` the normalised Gaussian
:math:`(2\pi\sigma^2)^{-d/2}\exp(-|x-x'|^2/(2\sigma^2))` of (2.27) with :math:`\alpha = 1`.
For ``"cosine-literal"`` in :math:`d > 1` no :math:`A` normalises the kernel (its integral over
:math:`x'` diverges); it carries the :math:`A` of the ``"cosine"`` network with the same
:math:`(d, \sigma_w)` — the value the paper's (2.36) intends — so that both readings share the
architecture's normalisation.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Mapping, Union

import sympy as sp

from flowtheory.caching import cached_by_value
from flowtheory.errors import InvalidParameterError, NonFiniteError, NotPositiveDefiniteError
from flowtheory.latex import latex
from flowtheory.ntk import check_positive, gaussian

NetworkName = Literal["cosine", "cosine-literal", "gauss-net", "relu"]
NETWORK_NAMES: tuple[str, ...] = ("cosine", "cosine-literal", "gauss-net", "relu")


# --------------------------------------------------------------------------------------------
# Parameter laws and expectations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Normal:
    """The centred normal law :math:`\\mathcal N(0, \\mathrm{variance})`.

    Raises:
        InvalidParameterError: a ``variance`` known not to be positive (no density exists).
        NonFiniteError: a ``variance`` with ``nan``, ``oo`` or ``zoo``.
    """

    variance: sp.Expr

    def __post_init__(self):
        check_positive(self.variance, "variance")

    @property
    def mean(self) -> sp.Expr:
        return sp.Integer(0)

    def __str__(self) -> str:
        return f"N(0, {self.variance})"


@dataclass(frozen=True)
class Uniform:
    """The uniform law :math:`\\mathcal U(\\mathrm{low}, \\mathrm{high})`.

    Raises:
        InvalidParameterError: ``high - low`` known not to be positive (an empty interval).
        NonFiniteError: a bound with ``nan``, ``oo`` or ``zoo``.
    """

    low: sp.Expr
    high: sp.Expr

    def __post_init__(self):
        check_positive(self.high - self.low, "high - low of the uniform law")

    @property
    def mean(self) -> sp.Expr:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> sp.Expr:
        return (self.high - self.low) ** 2 / 12

    def __str__(self) -> str:
        return f"U({self.low}, {self.high})"


Law = Union[Normal, Uniform]

_C = sp.Symbol("c")  # argument of a moment-generating function


@cached_by_value(maxsize=None)
def _generic_mgf(kind: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """The moment-generating function E[exp(c v)] of a law family, by sympy integration.

    Returns the expression in ``_C`` and the family's generic parameters.
    """
    v = sp.Symbol("v", real=True)
    if kind == "normal":
        s2 = sp.Symbol("s2", positive=True)
        density = sp.exp(-(v**2) / (2 * s2)) / sp.sqrt(2 * sp.pi * s2)
        mgf = sp.integrate(sp.exp(_C * v) * density, (v, -sp.oo, sp.oo), conds="none")
        return sp.simplify(mgf), (s2,)
    lo, hi = sp.symbols("lo hi", real=True)
    mgf = sp.integrate(sp.exp(_C * v) / (hi - lo), (v, lo, hi), conds="none")
    return mgf, (lo, hi)


def moment_generating_function(law: Law) -> sp.Lambda:
    """:math:`c \\mapsto \\mathbb E[e^{c v}]` for ``v ~ law``, derived by sympy integration."""
    if isinstance(law, Normal):
        mgf, (s2,) = _generic_mgf("normal")
        return sp.Lambda(_C, mgf.subs(s2, law.variance))
    mgf, (lo, hi) = _generic_mgf("uniform")
    return sp.Lambda(_C, mgf.subs({lo: law.low, hi: law.high}))


@cached_by_value(maxsize=None)
def _exponential_moment(law: Law, c: sp.Expr, k: int) -> sp.Expr:
    """E[v^k exp(c v)] = d^k/dc^k E[exp(c v)], the removable singularity at c = 0 by a limit."""
    mgf = moment_generating_function(law)
    derivative = sp.diff(mgf(_C), _C, k)
    if isinstance(law, Uniform) and c == 0:  # (e^{c hi} - e^{c lo})/(c (hi - lo)) is 0/0 at c = 0
        return sp.limit(derivative, _C, 0)
    return derivative.subs(_C, c)


def expectation(expr: sp.Expr, laws: Mapping[sp.Symbol, Law]) -> sp.Expr:
    """:math:`\\mathbb E[\\mathrm{expr}]` over the independent random variables ``laws``.

    ``expr`` must be (after rewriting ``cos``/``sin`` as exponentials and expanding) a sum of terms
    ``g * prod_v v**k_v * exp(linear form in the v)`` with ``g`` free of the random variables.
    Each term's expectation factorises by independence into moments
    :math:`\\mathbb E[v^k e^{c v}] = \\partial_c^k M_v(c)` of the laws' moment-generating functions
    :math:`M_v`, which are derived by :func:`moment_generating_function`.

    Raises:
        ValueError: a term is not of that form (e.g. an exponent quadratic in a random variable).
    """
    rvs = tuple(laws)
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(sp.sympify(expr).rewrite(sp.exp))):
        coeff, dependent = term.as_independent(*rvs, as_Add=False)
        exponent = sp.Integer(0)
        powers = dict.fromkeys(rvs, 0)
        for factor in sp.Mul.make_args(dependent):
            if isinstance(factor, sp.exp):
                exponent += factor.args[0]
            elif factor in laws:
                powers[factor] += 1
            elif factor.is_Pow and factor.base in laws and factor.exp.is_Integer and factor.exp > 0:
                powers[factor.base] += int(factor.exp)
            elif factor != 1:
                raise ValueError(f"expectation: factor {factor} is not a monomial or an exponential")
        exponent = sp.expand(exponent)
        slopes = {v: sp.expand(sp.diff(exponent, v)) for v in rvs}  # expanded: a zero slope is literally 0
        if any(slope.free_symbols & set(rvs) for slope in slopes.values()):
            raise ValueError(f"expectation: exponent {exponent} is not linear in the random variables")
        rest = sp.expand(exponent - sum(slopes[v] * v for v in rvs))
        value = coeff * sp.exp(rest)
        for v in rvs:
            value *= _exponential_moment(laws[v], slopes[v], powers[v])
        total += value
    return sp.powsimp(sp.expand(total), combine="exp")


@cached_by_value(maxsize=None)
def _polar_pair_moment(k: int, l: int) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """E[u_+^k v_+^l] in terms of the generic covariance symbols (K11, K22, K12); see below."""
    k11, k22 = sp.symbols("K11 K22", positive=True)
    k12 = sp.Symbol("K12", real=True)
    theta = sp.Symbol("theta", positive=True)  # the angle between the two pre-activations, in (0, pi)
    r, phi = sp.Symbol("r", positive=True), sp.Symbol("phi", real=True)
    # (u, v) = (sqrt(K11) z1, sqrt(K22) (cos(theta) z1 + sin(theta) z2)) with z ~ N(0, 1_2); in polar
    # coordinates z = r (cos phi, sin phi): u = sqrt(K11) r cos(phi), v = sqrt(K22) r cos(phi - theta).
    # u_+^k v_+^l is positively homogeneous of degree k + l and supported where cos(phi) > 0 and
    # cos(phi - theta) > 0, i.e. phi in (theta - pi/2, pi/2) for theta in (0, pi).
    radial = sp.integrate(r ** (1 + k + l) * sp.exp(-(r**2) / 2), (r, 0, sp.oo))
    angular = sp.integrate(sp.cos(phi) ** k * sp.cos(phi - theta) ** l, (phi, theta - sp.pi / 2, sp.pi / 2))
    moment = sp.sqrt(k11) ** k * sp.sqrt(k22) ** l * radial * sp.expand(sp.expand_trig(angular)) / (2 * sp.pi)
    # cos(theta) = K12/sqrt(K11 K22), sin(theta) = sqrt(det)/sqrt(K11 K22), theta = atan2(sqrt(det), K12).
    det = sp.Symbol("det", nonnegative=True)
    norm = sp.sqrt(k11 * k22)
    moment = moment.xreplace({sp.cos(theta): k12 / norm, sp.sin(theta): sp.sqrt(det) / norm})
    moment = moment.xreplace({theta: sp.atan2(sp.sqrt(det), k12)})
    return sp.expand(moment), (k11, k22, k12, det)


def homogeneous_pair_moment(k: int, l: int, k11: sp.Expr, k22: sp.Expr, k12: sp.Expr, det: sp.Expr | None = None) -> sp.Expr:
    r""":math:`\mathbb E[u_+^k\, v_+^l]` for centred Gaussian :math:`(u, v)` with covariance :math:`\begin{pmatrix}K_{11}&K_{12}\\K_{12}&K_{22}\end{pmatrix}`.

    :math:`u_+^1 = \mathrm{relu}(u)`, :math:`u_+^0 = \Theta(u)` (the step, relu').  Derived by rotation
    invariance: :math:`(u, v) = (\sqrt{K_{11}}\,r\cos\varphi, \sqrt{K_{22}}\,r\cos(\varphi - \theta))` with
    :math:`\cos\theta = K_{12}/\sqrt{K_{11}K_{22}}`; sympy integrates :math:`r` over :math:`(0,\infty)`
    against :math:`r e^{-r^2/2}/(2\pi)` and :math:`\varphi` over the support :math:`(\theta-\pi/2, \pi/2)`.
    The angle enters as :math:`\theta = \operatorname{atan2}(\sqrt{\det K}, K_{12})` — equal to
    :math:`\arccos(K_{12}/\sqrt{K_{11}K_{22}})` but accurate to float64 for nearly parallel inputs
    and never the ``arccos`` of a rounded value above 1.  ``det`` defaults to
    :math:`K_{11}K_{22} - K_{12}^2`; pass an equal expression that is manifestly non-negative.
    ``det = 0`` (parallel inputs, e.g. the diagonal x = x') is allowed: then θ = 0.

    Raises:
        InvalidParameterError: ``k`` or ``l`` not a non-negative integer; ``k11`` or ``k22`` known
            not to be positive (a variance).
        NonFiniteError: a covariance entry with ``nan``, ``oo`` or ``zoo``.
        NotPositiveDefiniteError: ``det`` known to be negative (no covariance has it).
    """
    for name, power in (("k", k), ("l", l)):
        if isinstance(power, bool) or not isinstance(power, numbers.Integral) or power < 0:
            raise InvalidParameterError(f"{name} must be a non-negative integer, got {power!r}")
    k11, k22 = check_positive(k11, "k11"), check_positive(k22, "k22")
    k12 = sp.sympify(k12)
    if k12.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NonFiniteError(f"k12 = {k12} is not finite")
    moment, (g11, g22, g12, gdet) = _polar_pair_moment(k, l)
    if det is None:
        det = k11 * k22 - k12**2
    det = sp.sympify(det)
    if det.is_negative:
        raise NotPositiveDefiniteError(f"covariance [[k11, k12], [k12, k22]] has det = {det} < 0")
    return moment.xreplace({g11: k11, g22: k22, g12: k12, gdet: det})


# --------------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSpec:
    """A network architecture with its parameter laws and its derived frozen NTK.

    Attributes:
        name: one of :data:`NETWORK_NAMES`.
        dim: the input dimension :math:`d`.
        x, xp: the real symbols :math:`x_1..x_d` and :math:`x'_1..x'_d` (names ``x1``, ``x'1``, ...).
        sigma_w: :math:`\\sigma_w` (a positive sympy symbol or number).
        sigma_b: :math:`\\sigma_b`; ``None`` for the cosine networks (their bias is uniform on
            :math:`(-\\pi, \\pi)`).
        kernel: the frozen NTK :math:`\\bar\\Theta(x, x')` with the normalisation :math:`A` substituted.
        normalization_A: :math:`A` (``None`` for ``"relu"``).
        width_sigma: :math:`\\sigma` with :math:`\\bar\\Theta = (2\\pi\\sigma^2)^{-d/2}e^{-|x-x'|^2/(2\\sigma^2)}`;
            ``None`` when the kernel is not that Gaussian.
        description: the architecture and its parameter law (LaTeX inside ``$...$``).
        trainable: names of the trained parameter groups (``laws`` lists every group).
        laws: ``(parameter, law)`` for each parameter group; every entry of a group is i.i.d.
            (``sigma_a`` is a symbol: the law of the readout ``a`` does not enter the NTK, since
            only ``a`` is trained and :math:`\\partial\\phi/\\partial a_i` does not contain ``a``).
        nngp: the NNGP kernel :math:`\\mathbb E[f(x)f(x')]` (``"relu"`` only; for the networks that
            train only ``a`` it is :math:`\\sigma_a^2\\bar\\Theta`).
        feature_normalizer: ``"gauss-net"`` only: :math:`\\sqrt{\\mathbb E[\\exp(2(w\\cdot x+b))]}`,
            the deterministic denominator of each hidden unit, as a function of ``x``.
    """

    name: str
    dim: int
    x: tuple[sp.Symbol, ...]
    xp: tuple[sp.Symbol, ...]
    sigma_w: sp.Expr
    sigma_b: sp.Expr | None
    kernel: sp.Expr
    normalization_A: sp.Expr | None
    width_sigma: sp.Expr | None
    description: str
    trainable: tuple[str, ...]
    laws: tuple[tuple[str, Law], ...]
    nngp: sp.Expr | None = None
    feature_normalizer: sp.Expr | None = None

    def kernel_jax(self):
        """The frozen NTK compiled by :func:`flowtheory.bridge.to_jax`, arguments ``x + xp``.

        Raises:
            InvalidParameterError: ``sigma_w`` or ``sigma_b`` is still symbolic.
        """
        free = self.kernel.free_symbols - set(self.x) - set(self.xp)
        if free:
            raise InvalidParameterError(
                f"kernel_jax needs numeric parameters; symbolic: {sorted(map(str, free))} "
                "(pass sigma_w/sigma_b to get_network)"
            )
        return _compile(self.kernel, self.x + self.xp)

    def _repr_latex_(self) -> str:
        lines = [self.description, f"$$\\bar\\Theta(x,x') = {latex(self.kernel)}$$"]
        if self.normalization_A is not None:
            lines.append(f"$$A = {latex(self.normalization_A)}$$")
        if self.width_sigma is not None:
            lines.append(f"$$\\sigma = {latex(self.width_sigma)}$$")
        return "\n".join(lines)


@cached_by_value(maxsize=64)
def _compile(expr: sp.Expr, args: tuple[sp.Symbol, ...]):
    from flowtheory.bridge import to_jax

    return to_jax(expr, args)


# --------------------------------------------------------------------------------------------
# Derivations (symbolic sigma_w, sigma_b; cached per (name, dim))
# --------------------------------------------------------------------------------------------

SIGMA_W = sp.Symbol("sigma_w", positive=True)
SIGMA_B = sp.Symbol("sigma_b", positive=True)
SIGMA_A = sp.Symbol("sigma_a", positive=True)
A = sp.Symbol("A", positive=True)


def input_symbols(dim: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """The real symbols ``(x1..xd)`` and ``(x'1..x'd)``.

    Raises:
        InvalidParameterError: ``dim`` not a positive integer.
    """
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
        raise InvalidParameterError(f"dim must be a positive integer, got {dim!r}")
    x = tuple(sp.Symbol(f"x{j}", real=True) for j in range(1, dim + 1))
    xp = tuple(sp.Symbol(f"x'{j}", real=True) for j in range(1, dim + 1))
    return x, xp


def squared_distance(x, xp) -> sp.Expr:
    """:math:`|x - x'|^2` as a sum of squares.

    Raises:
        InvalidParameterError: ``x`` and ``xp`` of different lengths.
    """
    if len(x) != len(xp):
        raise InvalidParameterError(f"xp has {len(xp)} coordinates, x has {len(x)}")
    return sp.Add(*[(a - b) ** 2 for a, b in zip(x, xp)])


@dataclass(frozen=True)
class GaussianNormalisation:
    """Result of :func:`normalise_gaussian`: ``A`` and ``sigma`` with ``A^2 * raw`` the normalised Gaussian."""

    A: sp.Expr
    sigma: sp.Expr
    integral: sp.Expr  # Z = int_{R^d} raw(x, x') d^d x'


def normalise_gaussian(raw: sp.Expr, x, xp) -> GaussianNormalisation | None:
    r"""Fix :math:`A` so that :math:`A^2\,\mathrm{raw}(x,x')` integrates to 1 over :math:`x' \in \mathbb R^d`.

    First establishes (symbolically) that ``raw`` is :math:`e^{L_0 - |x-x'|^2/(2\sigma^2)}` with
    constant :math:`L_0` — translation invariant, isotropic, Gaussian — reading :math:`\sigma^2 = -1/\partial_{x_1}^2\log\mathrm{raw}`;
    returns ``None`` when it is not.  Then sympy integrates ``raw`` over :math:`x'` (one coordinate
    at a time: the established form factorises) and solves :math:`A^2 Z = 1` for :math:`A > 0`.
    """
    log_raw = sp.expand(sp.expand_log(sp.log(raw), force=True))
    if any(log.free_symbols & set(x + xp) for log in log_raw.atoms(sp.log)):
        return None  # log(raw) is not a polynomial in x, x': raw is not a single exponential
    curvature = sp.cancel(sp.diff(log_raw, x[0], 2))
    if curvature.free_symbols & set(x + xp) or not curvature.is_negative:
        return None
    offset = sp.simplify(log_raw.subs(dict(zip(xp, x))))
    if offset.free_symbols & set(x + xp):
        return None
    if sp.expand(log_raw - offset - curvature * squared_distance(x, xp) / 2) != 0:
        return None
    sigma = sp.sqrt(-1 / curvature)
    integral = sp.exp(offset)
    for xj, xpj in zip(x, xp):
        integral *= sp.integrate(sp.exp(curvature * (xj - xpj) ** 2 / 2), (xpj, -sp.oo, sp.oo))
    a = sp.Symbol("A", positive=True)
    (solution,) = sp.solve(sp.Eq(a**2 * integral, 1), a)
    return GaussianNormalisation(A=sp.simplify(solution), sigma=sp.simplify(sigma), integral=sp.simplify(integral))


def normalised_gaussian(sigma: sp.Expr, x, xp) -> sp.Expr:
    """:math:`(2\\pi\\sigma^2)^{-d/2}\\exp(-|x-x'|^2/(2\\sigma^2))` (eq. 2.27 with :math:`\\bar\\alpha = 1`): :func:`flowtheory.ntk.gaussian`.

    Raises:
        EmptyInputError, InvalidParameterError: an empty ``x`` or an ``xp`` of another length.
        InvalidParameterError, NonFiniteError: a ``sigma`` that is not positive or not finite.
    """
    return gaussian(x, xp, sigma)


def _canonical_gaussian(kernel: sp.Expr, norm: GaussianNormalisation, x, xp) -> sp.Expr:
    """``kernel`` rewritten as the normalised Gaussian of width ``norm.sigma``, after checking equality."""
    canonical = normalised_gaussian(norm.sigma, x, xp)
    difference = sp.expand(sp.expand_log(sp.log(kernel) - sp.log(canonical), force=True))
    if sp.simplify(difference) != 0:
        raise ArithmeticError(f"normalised kernel {kernel} is not the Gaussian {canonical}")
    return canonical


@cached_by_value(maxsize=None)
def cosine_kernel_unnormalised(dim: int, literal: bool) -> sp.Expr:
    r""":math:`\bar\Theta/A^2` of the cosine networks: :math:`\mathbb E[\psi(x)\psi(x')]` over one unit's ``w, b``.

    ``literal=False``: :math:`\psi(x) = \cos(\sum_j w_j x_j + b)` (random Fourier features).
    ``literal=True``: :math:`\psi(x) = \sum_j \cos(w_j x_j + b)` (printed 2.32 read literally).
    :math:`w_j \sim \mathcal N(0, \sigma_w^2/d)`, :math:`b \sim \mathcal U(-\pi, \pi)`; since only
    :math:`a` is trained, :math:`\partial\phi/\partial a_i = (A/\sqrt N)\psi_i(x)` and (2.33) becomes
    :math:`A^2\,\mathbb E[\psi(x)\psi(x')]` as :math:`N \to \infty`.
    """
    x, xp = input_symbols(dim)
    w = sp.symbols(f"w1:{dim + 1}", real=True)
    b = sp.Symbol("b", real=True)
    laws = {**{wj: Normal(SIGMA_W**2 / dim) for wj in w}, b: Uniform(-sp.pi, sp.pi)}

    def feature(pt):
        if literal:
            return sp.Add(*[sp.cos(wj * pj + b) for wj, pj in zip(w, pt)])
        return sp.cos(sp.Add(*[wj * pj for wj, pj in zip(w, pt)]) + b)

    return expectation(feature(x) * feature(xp), laws)


@cached_by_value(maxsize=None)
def gauss_net_parts(dim: int) -> tuple[sp.Expr, sp.Expr]:
    r"""Gauss-net: (feature normaliser :math:`D(x)`, :math:`\bar\Theta/A^2`), both by :func:`expectation`.

    :math:`D(x)^2 = \mathbb E[e^{2(w\cdot x + b)}]`; :math:`\bar\Theta/A^2 = \mathbb E[e^{w\cdot(x+x') + 2b}]/(D(x)D(x'))`.
    """
    x, xp = input_symbols(dim)
    w = sp.symbols(f"w1:{dim + 1}", real=True)
    b = sp.Symbol("b", real=True)
    laws = {**{wj: Normal(SIGMA_W**2 / dim) for wj in w}, b: Normal(SIGMA_B**2)}

    def pre(pt):
        return sp.Add(*[wj * pj for wj, pj in zip(w, pt)]) + b

    second_moment = expectation(sp.exp(2 * pre(x)), laws)
    if not isinstance(second_moment, sp.exp):
        raise ArithmeticError(f"E[exp(2(w.x+b))] = {second_moment} is not an exponential")
    normaliser = sp.exp(second_moment.args[0] / 2)  # sqrt(exp(s)) = exp(s/2) for real s
    raw = expectation(sp.exp(pre(x) + pre(xp)), laws) / (normaliser * normaliser.subs(dict(zip(x, xp))))
    raw = sp.powsimp(raw, combine="exp")
    return normaliser, sp.exp(sp.expand(sp.log(raw)))


@cached_by_value(maxsize=None)
def relu_kernels(dim: int) -> tuple[sp.Expr, sp.Expr, tuple[sp.Expr, sp.Expr, sp.Expr]]:
    r"""(NNGP, NTK, (K11, K22, K12)) of the one-hidden-layer ReLU network in NTK parameterisation.

    The first-layer covariance :math:`K(x,x') = \mathbb E[h(x)h(x')]` comes from :func:`expectation`
    over :math:`W_j, b \sim \mathcal N(0,1)`.  The NTK is the sum over parameters of products of
    gradients, computed by sympy differentiation of one hidden unit's contribution
    :math:`\sigma_w v\,\mathrm{relu}(h)` (chain rule through :math:`h`) plus the output bias
    :math:`\sigma_b c`; as :math:`N \to \infty`, :math:`\frac1N\sum_i \to \mathbb E`, with ``v``
    independent of :math:`(h(x), h(x'))` and the latter a centred Gaussian pair of covariance
    :math:`K`, whose ReLU/step moments come from :func:`homogeneous_pair_moment`.
    """
    x, xp = input_symbols(dim)
    w = sp.symbols(f"W1:{dim + 1}", real=True)
    b, v, c = sp.symbols("b v c", real=True)
    standard = Normal(sp.Integer(1))
    first_layer = {**{wj: standard for wj in w}, b: standard}

    def pre(pt):  # the pre-activation h(pt) of one hidden unit
        return SIGMA_W / sp.sqrt(dim) * sp.Add(*[wj * pj for wj, pj in zip(w, pt)]) + SIGMA_B * b

    k11, k22, k12 = (expectation(pre(p) * pre(q), first_layer) for p, q in ((x, x), (xp, xp), (x, xp)))
    # det K = K11 K22 - K12^2 written as a manifest sum of squares (Lagrange's identity), checked here.
    det = (SIGMA_W**2 / dim) ** 2 * sp.Add(
        *[(x[i] * xp[j] - x[j] * xp[i]) ** 2 for i in range(dim) for j in range(i + 1, dim)]
    ) + SIGMA_W**2 * SIGMA_B**2 / dim * squared_distance(x, xp)
    if sp.expand(k11 * k22 - k12**2 - det) != 0:
        raise ArithmeticError("the sum-of-squares form of det K does not match K11 K22 - K12^2")

    h, hp = sp.symbols("h h'", real=True)  # the pre-activations h(x), h(x') as placeholders

    def unit(pre_activation):  # one hidden unit's contribution to sqrt(N) (f - sigma_b c)
        return SIGMA_W * v * sp.Max(0, pre_activation)

    output_bias = SIGMA_B * c
    hidden_params = (v, *w, b)

    def gradient(param, pt, hh):
        # d/d(param) of sigma_w v relu(h(pt)), by the chain rule through the placeholder hh.
        return sp.diff(unit(hh), param) + sp.diff(unit(hh), hh) * sp.diff(pre(pt), param)

    ntk_unit = sp.Add(*[gradient(p, x, h) * gradient(p, xp, hp) for p in hidden_params])
    ntk_bias = sp.diff(output_bias, c) ** 2
    nngp_unit = unit(h) * unit(hp)
    nngp_bias = expectation(output_bias**2, {c: standard})

    def unit_expectation(expr):
        total = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(expr)):
            coeff, dependent = term.as_independent(v, h, hp, as_Add=False)
            degree = {h: None, hp: None}
            v_power = sp.Integer(1)
            for factor in sp.Mul.make_args(dependent):
                if factor in (sp.Max(0, h), sp.Max(0, hp)):  # relu(h) = h_+^1
                    (which,) = set(factor.args) & {h, hp}
                    degree[which] = 1
                elif isinstance(factor, sp.Heaviside):  # relu'(h) = h_+^0
                    degree[factor.args[0]] = 0
                elif factor.free_symbols <= {v}:
                    v_power *= factor
                else:
                    raise ArithmeticError(f"unexpected factor {factor} in a gradient product")
            if None in degree.values():
                raise ArithmeticError(f"term {term} does not pair an activation at x with one at x'")
            total += coeff * expectation(v_power, {v: standard}) * homogeneous_pair_moment(
                degree[h], degree[hp], k11, k22, k12, det_placeholder
            )
        return total

    # det K stays a placeholder while collecting, so that its sum-of-squares form is not expanded.
    det_placeholder = sp.Symbol("det", nonnegative=True)
    nngp = _collect_angle(nngp_bias + unit_expectation(nngp_unit)).xreplace({det_placeholder: det})
    ntk = _collect_angle(ntk_bias + unit_expectation(ntk_unit)).xreplace({det_placeholder: det})
    return nngp, ntk, (k11, k22, k12)


def _collect_angle(expr: sp.Expr) -> sp.Expr:
    """``expr`` as ``c0 + c1 * theta`` with the angle ``theta = atan2(...)`` collected, c0 and c1 factored."""
    expr = sp.expand(expr)
    (angle,) = expr.atoms(sp.atan2)
    c1 = expr.coeff(angle)
    c0 = sp.expand(expr - c1 * angle)
    return sp.factor_terms(c0) + sp.factor(c1) * angle


@cached_by_value(maxsize=None)
def _derive(name: str, dim: int) -> NetworkSpec:
    """The spec with symbolic ``sigma_w`` (and ``sigma_b``)."""
    x, xp = input_symbols(dim)
    d = sp.Integer(dim)
    w_law = Normal(SIGMA_W**2 / d)
    if name in ("cosine", "cosine-literal"):
        rff = normalise_gaussian(cosine_kernel_unnormalised(dim, literal=False), x, xp)
        if name == "cosine":
            norm = rff
            kernel = _canonical_gaussian(rff.A**2 * cosine_kernel_unnormalised(dim, False), rff, x, xp)
            description = (
                r"Cosine network, random-Fourier-feature reading of (2.32): "
                r"$\phi(x) = \frac{A}{\sqrt N}\sum_{i=1}^N a_i\cos\big(\sum_{j=1}^d w_{ij}x_j + b_i\big)$, "
                r"$a_i\sim\mathcal N(0,\sigma_a^2)$, $w_{ij}\sim\mathcal N(0,\sigma_w^2/d)$, "
                r"$b_i\sim\mathcal U(-\pi,\pi)$; only $a$ trained; NTK parameterisation, $N\to\infty$."
            )
        else:
            raw = cosine_kernel_unnormalised(dim, literal=True)
            norm = normalise_gaussian(raw, x, xp)  # a Gaussian only for d = 1
            kernel = rff.A**2 * raw if norm is None else _canonical_gaussian(norm.A**2 * raw, norm, x, xp)
            description = (
                r"Cosine network, (2.32) read literally: "
                r"$\phi(x) = \frac{A}{\sqrt N}\sum_{i=1}^N\sum_{j=1}^d a_i\cos(w_{ij}x_j + b_i)$, "
                r"$a_i\sim\mathcal N(0,\sigma_a^2)$, $w_{ij}\sim\mathcal N(0,\sigma_w^2/d)$, "
                r"$b_i\sim\mathcal U(-\pi,\pi)$; only $a$ trained; NTK parameterisation, $N\to\infty$; "
                r"$A$ is that of the cosine (Fourier-feature) network."
            )
        return NetworkSpec(
            name=name, dim=dim, x=x, xp=xp, sigma_w=SIGMA_W, sigma_b=None, kernel=kernel,
            normalization_A=rff.A if norm is None else norm.A,
            width_sigma=None if norm is None else norm.sigma,
            description=description, trainable=("a",),
            laws=(("a", Normal(SIGMA_A**2)), ("w", w_law), ("b", Uniform(-sp.pi, sp.pi))),
        )
    if name == "gauss-net":
        normaliser, raw = gauss_net_parts(dim)
        norm = normalise_gaussian(raw, x, xp)
        if norm is None:
            raise ArithmeticError("the Gauss-net kernel is not a Gaussian in x - x'")
        return NetworkSpec(
            name=name, dim=dim, x=x, xp=xp, sigma_w=SIGMA_W, sigma_b=SIGMA_B,
            kernel=_canonical_gaussian(norm.A**2 * raw, norm, x, xp),
            normalization_A=norm.A, width_sigma=norm.sigma,
            description=(
                r"Gauss-net (Halverson–Maiti–Stoner 2021): "
                r"$\phi(x) = \frac{A}{\sqrt N}\sum_{i=1}^N a_i\,\frac{\exp(\sum_j w_{ij}x_j + b_i)}"
                r"{\sqrt{\mathbb E[\exp(2(w\cdot x + b))]}}$, "
                r"$a_i\sim\mathcal N(0,\sigma_a^2)$, $w_{ij}\sim\mathcal N(0,\sigma_w^2/d)$, "
                r"$b_i\sim\mathcal N(0,\sigma_b^2)$; only $a$ trained; NTK parameterisation, $N\to\infty$."
            ),
            trainable=("a",),
            laws=(("a", Normal(SIGMA_A**2)), ("w", w_law), ("b", Normal(SIGMA_B**2))),
            feature_normalizer=normaliser,
        )
    nngp, ntk, _ = relu_kernels(dim)
    standard = Normal(sp.Integer(1))
    return NetworkSpec(
        name=name, dim=dim, x=x, xp=xp, sigma_w=SIGMA_W, sigma_b=SIGMA_B, kernel=ntk,
        normalization_A=None, width_sigma=None,
        description=(
            r"One-hidden-layer ReLU network, NTK parameterisation (neural-tangents "
            r"`stax.serial(Dense(N, W_std=σ_w, b_std=σ_b), Relu(), Dense(1, W_std=σ_w, b_std=σ_b))`): "
            r"$h_i = \frac{\sigma_w}{\sqrt d}\sum_{j=1}^d W_{ij}x_j + \sigma_b b_i$, "
            r"$f(x) = \frac{\sigma_w}{\sqrt N}\sum_{i=1}^N v_i\,\mathrm{relu}(h_i) + \sigma_b c$, "
            r"$W, b, v, c \sim \mathcal N(0,1)$, all trained, $N\to\infty$."
        ),
        trainable=("W", "b", "v", "c"),
        laws=(("W", standard), ("b", standard), ("v", standard), ("c", standard)),
        nngp=nngp,
    )


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def _parameter(value, name: str) -> sp.Expr:
    """A positive parameter as an exact sympy number (floats by their shortest decimal) or positive expression."""
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be a positive number, got {value}")
    if isinstance(value, sp.Basic):
        if value.is_positive is not True:
            raise InvalidParameterError(f"{name} must be positive (a symbol must be declared positive=True), got {value}")
        return value
    if isinstance(value, (numbers.Integral, Fraction)):
        result = sp.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sp.Integer(int(value))
    elif isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise InvalidParameterError(f"{name} must be finite, got {value}")
        result = sp.Rational(repr(float(value)))
    else:
        raise InvalidParameterError(f"{name} must be a positive number, got {value}")
    if not result > 0:
        raise InvalidParameterError(f"{name} must be positive, got {value}")
    return result


def get_network(name: str, dim: int, sigma_w=None, sigma_b=None) -> NetworkSpec:
    """The spec of network ``name`` on :math:`\\mathbb R^{dim}` with its derived frozen NTK.

    Args:
        name: ``"cosine"``, ``"cosine-literal"``, ``"gauss-net"`` or ``"relu"`` (see the module docstring).
        dim: input dimension :math:`d \\ge 1`.
        sigma_w: :math:`\\sigma_w > 0`; ``None`` keeps the positive symbol ``sigma_w``.  Floats are
            read as their shortest decimal (``1.3`` -> ``13/10``).
        sigma_b: :math:`\\sigma_b > 0` for ``"gauss-net"`` and ``"relu"``; ``None`` keeps the symbol.
            The cosine networks have a uniform bias and take no ``sigma_b``.

    Raises:
        InvalidParameterError: unknown ``name``, ``dim <= 0``, a non-positive or non-finite
            ``sigma_w``/``sigma_b``, or a ``sigma_b`` for a cosine network.

    Example:
        >>> spec = get_network("cosine", 1)
        >>> spec.kernel
        sqrt(2)*sigma_w*exp(-sigma_w**2*(-x'1 + x1)**2/2)/(2*sqrt(pi))
        >>> get_network("cosine", 2, sigma_w=2).normalization_A
        sqrt(2)/sqrt(pi)
    """
    if name not in NETWORK_NAMES:
        raise InvalidParameterError(f"unknown network {name!r}; choose one of {', '.join(NETWORK_NAMES)}")
    if isinstance(dim, bool):
        raise InvalidParameterError(f"dim must be a positive integer, got {dim!r}")
    try:
        dim = operator.index(dim)
    except TypeError:
        raise InvalidParameterError(f"dim must be a positive integer, got {dim!r}") from None
    if dim < 1:
        raise InvalidParameterError(f"dim must be a positive integer, got {dim}")
    substitutions = {}
    if sigma_w is not None:
        substitutions[SIGMA_W] = _parameter(sigma_w, "sigma_w")
    if sigma_b is not None:
        if name in ("cosine", "cosine-literal"):
            raise InvalidParameterError(f"network {name!r} draws b ~ U(-pi, pi) and takes no sigma_b")
        substitutions[SIGMA_B] = _parameter(sigma_b, "sigma_b")
    spec = _derive(name, dim)
    if not substitutions:
        return spec

    def sub(expr):
        return None if expr is None else expr.xreplace(substitutions)

    return NetworkSpec(
        name=spec.name, dim=spec.dim, x=spec.x, xp=spec.xp,
        sigma_w=sub(spec.sigma_w), sigma_b=sub(spec.sigma_b), kernel=sub(spec.kernel),
        normalization_A=sub(spec.normalization_A), width_sigma=sub(spec.width_sigma),
        description=spec.description, trainable=spec.trainable,
        laws=tuple((p, _substitute_law(law, substitutions)) for p, law in spec.laws),
        nngp=sub(spec.nngp), feature_normalizer=sub(spec.feature_normalizer),
    )


def _substitute_law(law: Law, substitutions: dict) -> Law:
    if isinstance(law, Normal):
        return Normal(law.variance.xreplace(substitutions))
    return Uniform(law.low.xreplace(substitutions), law.high.xreplace(substitutions))
