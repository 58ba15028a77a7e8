"""Proofs of sections 2.1–2.3: metric-NTK flows, frozen and local flows, component structure,
rescaling trick and the Gaussian family with its σ→0 limit (eqs 2.1–2.31).

Each proof derives with :mod:`flowtheory.ntk`, compares with :mod:`flowtheory.printed.ntk`, and
checks numerically at random rational points (30 digits) or by quadrature (:mod:`numerics.nn.limits`).
"""

from __future__ import annotations

from itertools import product

import numpy as np
import sympy as sp

from flowtheory import ntk
from flowtheory.bridge import compiled_deviation, to_jax
from flowtheory.exact import max_deviation, random_rational_points
from flowtheory.networks import get_network
from flowtheory.printed import ntk as printed
from flowtheory.proof import Check, Outcome, proof
from numerics.nn import limits

X = sp.symbols("x1 x2", real=True)
XP = ntk.primed(X)
THETA = sp.symbols("theta1:6", real=True)


def _example_network() -> ntk.MetricNetwork:
    """A 2×2 metric network, polynomial in x (so integrals over [0,1]² are exact) and non-linear in θ."""
    x1, x2 = X
    t1, t2, t3, t4, t5 = THETA
    g11 = 1 + t1**2 * x1**2 + t2 * x2
    g12 = t3 * x1 * x2 + t1 * t4
    g22 = 2 + t4**2 + t5 * x1 * x2**2 + t2 * t3 * x2
    return ntk.MetricNetwork(sp.Matrix([[g11, g12], [g12, g22]]), X, THETA)


def _example_loss() -> ntk.PointwiseLoss:
    """l[g](x) = (1 + x1) det g + tr g²: mixes all components (δl/δg is the cofactor matrix) and depends on x."""
    return ntk.PointwiseLoss.from_function(lambda g, x: (1 + x[0]) * g.det() + (g * g).trace(), X)


def _flat(arr) -> list:
    """The entries of a matrix or N-dim array, flattened."""
    return list(sp.flatten(arr.tolist()))


def _is_zero_matrix(m) -> bool:
    return all(sp.expand(e) == 0 for e in m)


def _integrate_polynomials(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every Integral of a polynomial over a box evaluated exactly (term by term)."""

    def exact(integral: sp.Integral) -> sp.Expr:
        variables = [lim[0] for lim in integral.limits]
        value = sp.expand(integral.function)
        for v, lo, hi in integral.limits:
            primitive = sp.Poly(value, *variables).integrate(v).as_expr()
            value = sp.expand(primitive.subs(v, hi) - primitive.subs(v, lo))
        return value

    return expr.replace(lambda a: isinstance(a, sp.Integral), exact)


@proof(
    id="ntk-flows-2.5-2.8",
    title="Gradient descent pushed forward equals the metric-NTK flow (discrete and continuous)",
    equations=("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8"),
)
def flows_and_kernel_form() -> Outcome:
    net, loss = _example_network(), _example_loss()
    batch = [(sp.Rational(1, 3), sp.Rational(-1, 2)), (sp.Rational(2, 5), sp.Rational(3, 4)), (sp.Rational(-1, 7), sp.Rational(1, 5))]
    kernel = lambda a, b: ntk.metric_ntk(net, a, b).array  # noqa: E731
    variation = lambda p: loss.variation(net, p)  # noqa: E731

    # discrete batch: (2.1)+(2.2)+(2.3) by the chain rule, vs (2.5) and (2.8)
    param_route = ntk.pushforward_flow(net, ntk.batch_loss(net, loss, batch), X)
    kernel_route = ntk.flow_discrete(kernel, variation, X, batch)
    printed_2_5 = printed.eq_2_5(list(net.jacobian(X)), [list(net.jacobian(p)) for p in batch], [variation(p) for p in batch])
    printed_2_8 = printed.eq_2_8_discrete(kernel, variation, X, batch)
    ntk_xxp = ntk.metric_ntk(net, X, XP)
    printed_2_7 = printed.eq_2_7(list(net.jacobian(X)), list(net.jacobian(XP)))

    # continuous: (2.4) with dμ = (1 + x1' x2') d²x' on [0,1]², Leibniz's rule under the integral
    density = 1 + XP[0] * XP[1]
    limits = [(XP[0], 0, 1), (XP[1], 0, 1)]
    param_cont = ntk.pushforward_flow(net, ntk.integral_loss(net, loss, XP, density, limits), X)
    kernel_cont = ntk.flow_continuous(kernel, variation, X, XP, density, limits)
    printed_2_6 = printed.eq_2_6(list(net.jacobian(X)), list(net.jacobian(XP)), variation(XP), density, limits)
    printed_2_8c = printed.eq_2_8_continuous(ntk_xxp.array, variation(XP), density, limits)
    merged = lambda m: [ntk.merge_integrals(e) for e in m]  # noqa: E731

    symbolic = {
        "variation is symmetric": _is_zero_matrix(loss.variation_entries() - loss.variation_entries().T),
        "metric_ntk == printed (2.7)": all(sp.expand(a - b) == 0 for a, b in zip(_flat(ntk_xxp.array), _flat(printed_2_7))),
        "Θ_ijkl(x,x') = Θ_klij(x',x)": all(
            sp.expand(ntk_xxp[i, j, k, l] - ntk.metric_ntk(net, XP, X)[k, l, i, j]) == 0 for i, j, k, l in product(range(2), repeat=4)
        ),
        "discrete: parameter route == printed (2.5)": _is_zero_matrix(param_route - printed_2_5),
        "discrete: parameter route == kernel route (2.8)": _is_zero_matrix(param_route - kernel_route),
        "discrete: kernel route == printed (2.8)": _is_zero_matrix(kernel_route - printed_2_8),
        "continuous: parameter route == printed (2.6) (one integrand)": all(
            sp.expand(a - b) == 0 for a, b in zip(merged(param_cont), merged(printed_2_6))
        ),
        "continuous: parameter route == kernel route (2.8) (one integrand)": all(
            sp.expand(a - b) == 0 for a, b in zip(merged(param_cont), merged(kernel_cont))
        ),
        "continuous: kernel route == printed (2.8)": all(sp.expand(a - b) == 0 for a, b in zip(merged(kernel_cont), merged(printed_2_8c))),
    }
    syms = (*X, *THETA)
    for n, at in enumerate(random_rational_points(syms, 2, seed=7, low=-1.5, high=1.5)):
        symbolic[f"continuous: both routes equal after exact integration at rational point {n}"] = _is_zero_matrix(
            sp.Matrix(param_cont).subs(at).applyfunc(_integrate_polynomials) - sp.Matrix(kernel_cont).subs(at).applyfunc(_integrate_polynomials)
        )
    compiled = to_jax(param_route, syms)
    checks = (
        Check("discrete routes at random rational points (30 digits)", max_deviation(param_route, kernel_route, random_rational_points(syms, 4, seed=1, low=-1.5, high=1.5)), 1e-25),
        Check("compiled flow (JAX float64) vs sympy (30 digits)", compiled_deviation(compiled, random_rational_points(syms, 5, seed=2, low=-1.5, high=1.5)), 1e-9),
    )
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\dot g_{ij}(x)"), sp.Symbol(r"-\sum_{x'\in B}\Theta_{ijkl}(x,x')\,\delta l(x')/\delta g_{kl}(x')")),
        printed=sp.Eq(sp.Symbol(r"\dot g_{ij}(x)"), sp.Symbol(r"-\sum_{x'\in B}\Theta_{ijkl}(x,x')\,\delta l(x')/\delta g_{kl}(x')")),
        matches_print=True,
        checks=checks,
        symbolic_checks=symbolic,
    )


@proof(
    id="ntk-linearised-2.10-2.12",
    title="Linearised model: its NTK is Θ at θ0, θ-independent, and drives the frozen-kernel flow",
    equations=("2.10", "2.11", "2.12"),
    depends_on=("ntk-flows-2.5-2.8",),
)
def linearised_model() -> Outcome:
    net, loss = _example_network(), _example_loss()
    theta0 = dict(zip(THETA, (sp.Rational(1, 2), sp.Rational(-1, 3), sp.Rational(2, 7), sp.Rational(3, 5), sp.Rational(-2, 9))))
    lin = ntk.linearize(net, theta0)
    g0 = net.metric.subs(theta0)
    dg0 = [net.metric.diff(t).subs(theta0) for t in THETA]
    ntk_lin = ntk.metric_ntk(lin, X, XP)
    printed_2_11 = printed.eq_2_11(dg0, [d.subs(dict(zip(X, XP)), simultaneous=True) for d in dg0])
    ntk_net0 = ntk.metric_ntk(net, X, XP).array.subs(theta0)
    batch = [(sp.Rational(1, 3), sp.Rational(-1, 2)), (sp.Rational(2, 5), sp.Rational(3, 4))]
    frozen = lambda a, b: ntk.metric_ntk(net, a, b).array.subs(theta0)  # noqa: E731
    flow_lin = ntk.pushforward_flow(lin, ntk.batch_loss(lin, loss, batch), X)
    flow_frozen = ntk.flow_discrete(frozen, lambda p: loss.variation(lin, p), X, batch)
    printed_2_12 = printed.eq_2_12_discrete(frozen, lambda p: loss.variation(lin, p), X, batch)
    symbolic = {
        "linearize == printed (2.10)": _is_zero_matrix(lin.metric - printed.eq_2_10(g0, dg0, THETA, [theta0[t] for t in THETA])),
        "Θ^L == Θ|θ0 == printed (2.11)": all(sp.expand(a - b) == 0 for a, b in zip(_flat(ntk_lin.array), _flat(ntk_net0)))
        and all(sp.expand(a - b) == 0 for a, b in zip(_flat(ntk_lin.array), _flat(printed_2_11))),
        "Θ^L is θ-independent (frozen along the flow)": all(sp.diff(e, t) == 0 for e in _flat(ntk_lin.array) for t in THETA),
        "gradient descent of g^L == frozen-kernel flow (2.12)": _is_zero_matrix(flow_lin - flow_frozen),
        "frozen-kernel flow == printed (2.12)": _is_zero_matrix(flow_frozen - printed_2_12),
        "g^L and g agree to first order at θ0": _is_zero_matrix(sp.Matrix(lin.metric - net.metric).subs(theta0))
        and all(_is_zero_matrix(sp.Matrix(lin.metric - net.metric).diff(t).subs(theta0)) for t in THETA),
    }
    syms = (*X, *THETA)
    checks = (Check("(2.12) routes at random rational points (30 digits)", max_deviation(flow_lin, flow_frozen, random_rational_points(syms, 4, seed=3, low=-1.5, high=1.5)), 1e-25),)
    return Outcome(
        derived=sp.Symbol(r"\Theta^L_{ijkl}(x,x') = \Theta_{ijkl}(x,x')|_{\theta_0}"),
        printed=sp.Symbol(r"\Theta^L_{ijkl}(x,x') = \Theta_{ijkl}(x,x')|_{\theta_0}"),
        matches_print=True,
        checks=checks,
        symbolic_checks=symbolic,
    )


@proof(
    id="ntk-local-2.13-2.14",
    title="A δ-local, component-diagonal frozen kernel gives the local flow dg/dt = −Ω̄ δl/δg",
    equations=("2.13", "2.14"),
    depends_on=("ntk-flows-2.5-2.8",),
)
def local_flows() -> Outcome:
    rho = sp.Function("rho", positive=True)(*XP)
    omega = sp.Function("Omega")(*X)
    V = [[sp.Function(f"V_{min(k, l)}{max(k, l)}") for l in range(2)] for k in range(2)]
    variation = lambda p: sp.ImmutableMatrix(2, 2, lambda k, l: V[k][l](*p))  # noqa: E731
    kernel = ntk.local_kernel(omega, X, XP, rho)
    limits = [(a, -sp.oo, sp.oo) for a in XP]
    continuous = sp.Matrix(ntk.flow_continuous(kernel, variation, X, XP, rho, limits)).doit()
    local = ntk.local_flow(variation(X), omega)
    # discrete: δ_{x,x'} — updates only at batch points
    b1, b2 = (sp.Rational(1, 3), sp.Rational(1, 2)), (sp.Rational(-2, 5), sp.Rational(1, 7))

    def disc_kernel(a, b):
        om = omega.subs(dict(zip(X, a)), simultaneous=True)
        entries = {idx: printed.eq_2_13_discrete(*idx, a == b, om) for idx in product(range(2), repeat=4)}
        return sp.ImmutableDenseNDimArray([entries[idx] for idx in product(range(2), repeat=4)], (2, 2, 2, 2))

    in_batch = ntk.flow_discrete(disc_kernel, variation, b1, [b1, b2])
    off_batch = ntk.flow_discrete(disc_kernel, variation, (sp.Rational(1, 9), sp.Rational(1, 9)), [b1, b2])
    kernel_matches_print = all(
        sp.simplify(kernel(X, XP)[i, j, k, l] * rho - printed.eq_2_13_continuous(i, j, k, l, X, XP, omega)) == 0
        for i, j, k, l in product(range(2), repeat=4)
    )
    symbolic = {
        "δ_μ kernel × ρ == printed (2.13) (δ with respect to dμ)": kernel_matches_print,
        "continuous flow with (2.13) == local flow": _is_zero_matrix(continuous - local),
        "local flow == printed (2.14)": _is_zero_matrix(local - printed.eq_2_14(omega, variation(X))),
        "discrete (2.13), x in B: −Ω̄(x) δl(x)/δg(x)": _is_zero_matrix(in_batch - printed.eq_2_14(omega.subs(dict(zip(X, b1))), variation(b1))),
        "discrete (2.13), x not in B: no update": _is_zero_matrix(off_batch),
    }
    # numeric: the local flow of a concrete loss, compiled, vs sympy at 30 digits
    net, loss = _example_network(), _example_loss()
    om = 1 + X[0] ** 2
    conc = ntk.local_flow(loss.variation(net, X), om)
    syms = (*X, *THETA)
    checks = (Check("compiled local flow (JAX) vs sympy (30 digits)", compiled_deviation(to_jax(conc, syms), random_rational_points(syms, 4, seed=4)), 1e-9),)
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\dot g_{ij}(x)"), -omega * sp.Symbol(r"\delta l(x)/\delta g_{ij}(x)")),
        printed=sp.Eq(sp.Symbol(r"\dot g_{ij}(x)"), -omega * sp.Symbol(r"\delta l(x)/\delta g_{ij}(x)")),
        matches_print=True,
        correction=None,
        checks=checks,
        symbolic_checks=symbolic,
    )


def _integral(expr) -> sp.Integral:
    """The one Integral in ``expr``."""
    (integral,) = expr.atoms(sp.Integral)
    return integral


def _delta(a, b):
    return sp.KroneckerDelta(a, b)


@proof(
    id="ntk-components-2.19-2.23",
    title="Component structure of the metric-NTK for independent component networks",
    equations=("2.19", "2.20", "2.21", "2.22", "2.23"),
    depends_on=("ntk-flows-2.5-2.8",),
)
def component_structure() -> Outcome:
    symbolic = {}
    printed_21_holds = True
    symmetric_printed_holds = True
    for d in (1, 2, 3):
        full = ntk.component_ntk(d, "all-entries").coefficients
        sym = ntk.component_ntk(d, "symmetric").coefficients
        idx = list(product(range(d), repeat=4))
        symbolic[f"d={d}: all d² entries separate → δ_ikδ_jl (2.20)/(2.23)"] = all(
            full[i, j, k, l] == printed.eq_2_20_coefficient(i, j, k, l) == printed.eq_2_23_coefficient(i, j, k, l) for i, j, k, l in idx
        )
        symbolic[f"d={d}: symmetric, d(d+1)/2 networks → δ_ikδ_jl+δ_ilδ_jk−δ_ijδ_ikδ_il"] = all(
            sym[i, j, k, l] == _delta(i, k) * _delta(j, l) + _delta(i, l) * _delta(j, k) - _delta(i, j) * _delta(i, k) * _delta(i, l) for i, j, k, l in idx
        )
        printed_21_holds &= all(full[i, j, k, l] == printed.eq_2_21_coefficient(i, j, k, l) for i, j, k, l in idx)
        symmetric_printed_holds &= all(sym[i, j, k, l] == printed.eq_2_23_coefficient(i, j, k, l) for i, j, k, l in idx)
    symbolic["printed (2.21) δ_ikδ_il differs from the derivation for d ≥ 2 (typo)"] = not printed_21_holds
    symbolic["printed (2.23) differs from the symmetric-network derivation for d ≥ 2"] = not symmetric_printed_holds
    # flows: off-diagonal factor 2 in the symmetric reading (symmetric δl/δg convention)
    theta_bar = sp.Symbol(r"\bar\Theta")
    V = sp.Matrix(2, 2, lambda k, l: sp.Symbol(f"V_{min(k, l)}{max(k, l)}"))
    f_full = ntk.component_flow(V, theta_bar, "all-entries")
    f_sym = ntk.component_flow(V, theta_bar, "symmetric")
    symbolic["all-entries: (Θ̄·V)_ij = Θ̄ V_ij (no mixing)"] = _is_zero_matrix(f_full - theta_bar * V)
    doubled = sp.Matrix([[V[0, 0], 2 * V[0, 1]], [2 * V[0, 1], V[1, 1]]])
    symbolic["symmetric: (Θ̄·V)_ii = Θ̄ V_ii, (Θ̄·V)_ij = 2Θ̄ V_ij (i≠j)"] = _is_zero_matrix(f_sym - theta_bar * doubled)
    symbolic["all-entries: antisymmetric part g_12 − g_21 does not flow"] = sp.expand(f_full[0, 1] - f_full[1, 0]) == 0
    # finite-width check: concrete tanh networks, 3 independent components of a symmetric 2×2 metric
    a = {key: sp.symbols(f"a{key[0]}{key[1]}_1:4", real=True) for key in ((0, 0), (0, 1), (1, 1))}
    phi = lambda th, p: th[0] * sp.tanh(th[1] * p[0] + th[2] * p[1]) + 1  # noqa: E731
    g = sp.Matrix(2, 2, lambda i, j: phi(a[(min(i, j), max(i, j))], X))
    params = tuple(s for key in a for s in a[key])
    net = ntk.MetricNetwork(g, X, params)
    theta = ntk.metric_ntk(net, X, XP).array
    c = ntk.component_ntk(2, "symmetric").coefficients
    own = {key: ntk.scalar_ntk(phi(th, X), X, th, X, XP) for key, th in a.items()}  # Θ^{(ij)} of each component
    structured = sp.ImmutableDenseNDimArray(
        [c[i, j, k, l] * own[(min(i, j), max(i, j))] for i, j, k, l in product(range(2), repeat=4)], (2, 2, 2, 2)
    )
    syms = (*X, *XP, *params)
    worst = max_deviation(theta, structured, random_rational_points(syms, 3, seed=5))
    checks = (Check("finite-width tanh networks: Θ_ijkl − c_ijkl Θ^{(ij)} at rational points (30 digits)", worst, 1e-25),)
    correction = (
        "(2.21): δ_ik δ_il is a typo for δ_ik δ_jl. (2.20)/(2.23) Θ̄_ijkl = δ_ik δ_jl Θ̄ hold when all d² entries g_ij are "
        "separate networks (the partition (2.19) over ordered pairs; g then need not be symmetric, and with a symmetric "
        "δl/δg the antisymmetric part of g is frozen). For a symmetric metric with d(d+1)/2 networks (g_ji the same "
        "network as g_ij) the derivation gives Θ̄_ijkl = [{i,j}={k,l}] Θ̄ = (δ_ik δ_jl + δ_il δ_jk − δ_ij δ_ik δ_il) Θ̄, "
        "so with the sum over all (k,l) and the symmetric convention δl/δg_kl = ½(∂/∂g_kl + ∂/∂g_lk) the off-diagonal "
        "flow is dg_ij/dt = −2 Θ̄·δl/δg_ij (i≠j) — equivalently −Θ̄ ∂l/∂g_ij with the derivative taken with respect to "
        "the independent component; the diagonal flow is −Θ̄ δl/δg_ii as printed."
    )
    return Outcome(
        derived=sp.Symbol(
            r"\bar\Theta_{ijkl} = \delta_{ik}\delta_{jl}\bar\Theta\ (d^2\ \mathrm{nets});\ "
            r"(\delta_{ik}\delta_{jl}+\delta_{il}\delta_{jk}-\delta_{ij}\delta_{ik}\delta_{il})\bar\Theta\ (\mathrm{symmetric})"
        ),
        printed=sp.Symbol(r"\bar\Theta_{ijkl} = \delta_{ik}\delta_{il}\bar\Theta^{ij}\ (2.21);\ \delta_{ik}\delta_{jl}\bar\Theta\ (2.23)"),
        matches_print=False,
        correction=correction,
        checks=checks,
        symbolic_checks=symbolic,
    )


@proof(
    id="ntk-rescaling-2.15-2.18",
    title="Rescaling trick: NTK of h·φ is h(x)h(x')Θ_φ; with a δ-kernel it is δ(x−x')h²Ω",
    equations=("2.15", "2.16", "2.17", "2.18"),
    depends_on=("ntk-local-2.13-2.14",),
)
def rescaling_trick() -> Outcome:
    x, xp = (X[0],), (XP[0],)
    ps = sp.symbols("p1:4", real=True)
    phi = sp.Function("phi")(x[0], *ps)
    h = sp.Function("h")(x[0])
    h_xp = h.subs(x[0], xp[0])
    theta_phi = ntk.scalar_ntk(phi, x, ps, x, xp)
    theta_tilde = ntk.scalar_ntk(h * phi, x, ps, x, xp)
    derived = ntk.rescaled_kernel(h, theta_phi, x, xp)
    pr = printed.eq_2_16(x, xp, h, h_xp, theta_phi)
    omega = sp.Function("Omega")(x[0])
    f = sp.Function("f")
    # (2.18): the δ-function sets x' = x in h(x'); tested against a test function f(x')
    local = sp.integrate(ntk.rescaled_kernel(h, printed.eq_2_17(x, xp, omega), x, xp) * f(xp[0]), (xp[0], -sp.oo, sp.oo))
    local_printed = sp.integrate(printed.eq_2_18(x, xp, h, omega) * f(xp[0]), (xp[0], -sp.oo, sp.oo))
    bar_text = printed.text_after_2_16(x, xp, h, h_xp)
    symbolic = {
        "NTK of h·φ == h(x)h(x')Θ_φ (derived by differentiation)": sp.expand(theta_tilde - derived) == 0,
        "printed (2.16) right side == h(x)h(x')Θ_φ": sp.expand(pr.rhs - derived) == 0,
        "∫ h h' δ(x−x')Ω f(x') dx' == ∫ (2.18) f(x') dx'": sp.expand(local - local_printed) == 0,
        "(2.18) smeared == h(x)²Ω(x)f(x)": sp.expand(local - h**2 * omega * f(x[0])) == 0,
        "printed sentence after (2.16) reads Θ̄_φ̃ = h h' Θ̄_φ̃ (φ̃ on both sides)": sp.expand(bar_text.rhs - h * h_xp * bar_text.lhs) == 0,
    }
    # numeric: a concrete network and h at random rational points
    t1, t2, t3 = ps
    conc_phi = t1 * sp.tanh(t2 * x[0] + t3)
    conc_h = 1 + x[0] ** 2
    lhs = ntk.scalar_ntk(conc_h * conc_phi, x, ps, x, xp)
    rhs = conc_h * conc_h.subs(x[0], xp[0]) * ntk.scalar_ntk(conc_phi, x, ps, x, xp)
    syms = (x[0], xp[0], *ps)
    checks = (Check("Θ_{hφ} − h h' Θ_φ at rational points (30 digits)", max_deviation(lhs, rhs, random_rational_points(syms, 4, seed=6, low=-1.5, high=1.5)), 1e-25),)
    return Outcome(
        derived=sp.Eq(sp.Function(r"\Theta_{\tilde{\phi}}")(*x, *xp), derived),
        printed=pr,
        matches_print=False,
        correction=(
            "(2.16): the left side Θ_Ã should read Θ_φ̃ (φ̃ = hφ of (2.15)); the right side h(x)h(x')Θ_φ is correct. "
            "The sentence after it, 'Θ̄_φ̃(x,x') = h(x)h(x')Θ̄_φ̃(x,x')', should read Θ̄_φ̃(x,x') = h(x)h(x')Θ̄_φ(x,x'). "
            "(2.17)–(2.18) agree: δ(x−x')h(x') = δ(x−x')h(x)."
        ),
        checks=checks,
        symbolic_checks=symbolic,
    )


@proof(
    id="ntk-gaussian-2.27-2.31",
    title="Rescaled Gaussian family: kernel, flow and σ→0 limit to the local flow on a curved chart",
    equations=("2.25", "2.26", "2.27", "2.28", "2.29", "2.30", "2.31"),
    depends_on=("ntk-rescaling-2.15-2.18", "ntk-local-2.13-2.14", "kernel-cosine-normalisation"),
)
def gaussian_family() -> Outcome:
    sigma = sp.Symbol("sigma", positive=True)
    gt = sp.Function("gt", positive=True)
    ref, ref_p = gt(*X), gt(*XP)
    alpha = sp.Function("alpha")(*X, *XP)
    fam = ntk.gaussian_family(X, sigma, ref, alpha, XP)
    V = sp.Function("V")
    exp_ = ntk.local_limit(fam, V(*XP))
    exp_bare = ntk.local_limit(fam, V(*XP), rescaled=False)
    omega = printed.eq_2_29_omega(alpha, X, XP)
    derived_flow = fam.flow(V(*XP))
    printed_flow = printed.eq_2_30(X, XP, sigma, ref, ref_p, alpha, V(*XP))
    derived_local = -exp_.leading
    printed_local = printed.eq_2_31(omega, V(*XP))
    u = sp.symbols("u1 u2", real=True)
    to_u = {XP[0]: X[0] + sigma * u[0], XP[1]: X[1] + sigma * u[1]}
    shifted = fam.base_kernel.subs(to_u) * sigma**2 / alpha.subs(to_u)
    symbolic = {
        "kernel (rescaling trick, h = g̃^{-1/4}) == printed (2.28)": sp.expand(fam.kernel - printed.eq_2_28(X, XP, sigma, ref, ref_p, alpha)) == 0,
        "base kernel == printed (2.27)": sp.expand(fam.base_kernel - printed.eq_2_27(X, XP, sigma, alpha)) == 0,
        "density of dV_g̃ in d^dx' == printed (2.26) factor √g̃(x')": sp.expand(fam.density - printed.eq_2_26(XP, ref_p)) == 0,
        "x' = x + σu: σ^d N_σ(x−x') = N_1(u)": sp.simplify(shifted - sp.exp(-(u[0] ** 2 + u[1] ** 2) / 2) / (2 * sp.pi)) == 0,
        "odd order of the σ-expansion vanishes": exp_.sigma1 == 0,
        "σ→0: ∫dV_g̃ Θ̄_σ V → Ω̄(x)V(x), Ω̄ = ᾱ(x,x) (2.29)": sp.expand(exp_.leading - omega * V(*X)) == 0,
        "without (g̃g̃')^{-1/4}: limit is √g̃(x) Ω̄ V (wrong by √g̃(x))": sp.expand(exp_bare.leading - sp.sqrt(ref) * omega * V(*X)) == 0,
        "(2.30) integrand: √g̃(x')Θ̄_σ == (g̃(x')/g̃(x))^{1/4} N_σ ᾱ": sp.expand(_integral(derived_flow).function - _integral(printed_flow).function) == 0,
        "(2.30) measure: derived integrates d^dx', printed d^dx": _integral(derived_flow).variables == list(XP) and _integral(printed_flow).variables == list(X),
        "(2.31) derived local flow evaluates δl/δg at x, printed at x'": sp.expand(derived_local - printed_local) != 0
        and sp.expand(derived_local - printed_local.subs(dict(zip(XP, X)), simultaneous=True)) == 0,
    }
    # a concrete architecture in the family: the normalised cosine network of section 2.3.2 has the
    # frozen NTK (2.27) with ᾱ = 1 and σ = its width_sigma (flowtheory.networks)
    cosine = get_network("cosine", 2)
    symbolic["cosine network's frozen NTK == (2.27) with ᾱ = 1, σ = √2/σ_w"] = (
        sp.simplify(cosine.kernel / ntk.gaussian_family(cosine.x, cosine.width_sigma, ref, 1, cosine.xp).base_kernel) == 1
    )
    # numeric σ→0 on two curved charts (donut torus, stereographic round S²)
    sigmas = np.array([0.02, 0.03, 0.045, 0.07, 0.1])
    torus = limits.donut_torus(2, 1)
    (tu, tv), (tup, tvp) = torus.coords, ntk.primed(torus.coords)
    t_fam = torus.family(2 + sp.sin(tu) * sp.sin(tup) + sp.cos(tv - tvp) / 2)
    t_f = sp.cos(tup) + sp.sin(2 * tvp) + 2
    t_pts = np.array([[0.3, 0.1], [1.2, 2.0], [2.5, -1.0], [4.0, 2.6]])
    sphere = limits.round_sphere_stereographic(1)
    (y1, y2), (yp1, yp2) = sphere.coords, ntk.primed(sphere.coords)
    z = lambda a, b: (1 - a**2 - b**2) / (1 + a**2 + b**2)  # noqa: E731  (height on S²)
    s_fam = sphere.family(1 + z(y1, y2) * z(yp1, yp2) / 2)
    s_f = sp.exp(yp1 / 2) + yp2
    s_pts = np.array([[0.1, 0.2], [0.4, -0.3], [-0.8, 0.5], [1.3, 0.9]])
    checks = []
    for name, fam_n, f_n, pts in (("torus", t_fam, t_f, t_pts), ("S²", s_fam, s_f, s_pts)):
        st = limits.sigma_limit_study(fam_n, f_n, pts, sigmas)
        bare = limits.sigma_limit_study(fam_n, f_n, pts, sigmas, rescaled=False)
        checks += [
            Check(f"{name}: fitted log-log slope of |I_σ − Ω̄f| minus 2 (max over 4 points)", float(np.max(np.abs(st.slopes - 2))), 0.05),
            Check(
                f"{name}: fitted σ² coefficient vs symbolic, relative",
                float(np.max(np.abs(st.sigma2_fitted - st.sigma2_predicted) / np.abs(st.sigma2_predicted))),
                1e-2,
            ),
            Check(f"{name}: |I_σ/(Ω̄f) − 1| at σ = 0.02", float(np.max(np.abs(st.ratio - 1))), 1e-2),
            Check(f"{name}: un-rescaled kernel: |I_σ/(Ω̄f) − √g̃(x)| at σ = 0.02", float(np.max(np.abs(bare.ratio - bare.sqrt_det))), 2e-2),
        ]
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\dot g_{ij}(x)"), derived_flow),
        printed=sp.Eq(sp.Symbol(r"\dot g_{ij}(x)"), printed_flow),
        matches_print=False,
        correction=(
            "(2.30): the integral is over the integrated point, d^dx' (printed d^dx); with dμ = √g̃(x')d^dx' and the "
            "kernel (2.28) the factor (g̃(x')/g̃(x))^{1/4} is right. (2.31): the right side is evaluated at the external "
            "point, dg_ij(x)/dt = −Ω̄(x) δl(x)/δg_ij(x) (printed δl(x')/δg_ij(x')), as in (2.14). (2.27)–(2.29) agree; "
            "the approach to the limit is O(σ²) with coefficient ½Σ_a ∂²_{x'_a}[√g̃(x')(g̃(x)g̃(x'))^{-1/4}ᾱ(x,x')f(x')]_{x'=x}."
        ),
        checks=tuple(checks),
        symbolic_checks=symbolic,
    )
