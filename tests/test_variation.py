"""The Euler-Lagrange engine (flowtheory.variation): jets, total derivatives, Euler operators,
the symmetric-metric convention, weights, fixed measures, and the direct first variation."""

import sympy as sp
import pytest
from hypothesis import given, strategies as st
from sympy.calculus.euler import euler_equations

from flowtheory import functionals, riemann
from flowtheory.errors import InvalidParameterError, UnsupportedOrderError
from flowtheory.exact import max_deviation
from flowtheory.variation import (
    JetSpace,
    canonical_zero,
    euler_operator,
    first_variation_integrand,
    fixed_measure_metric_variation,
    is_null_lagrangian,
    metric_field_names,
    metric_variation,
    random_jet_points,
    symmetric_metric,
)
from flowtheory_proofs.functionals_support import concrete, torus_integral

X, Y = sp.symbols("x y")
TOL = 1e-20  # exact identities evaluated with 30 digits
JET2 = JetSpace((X, Y), ("u", "h"))


def test_jet_round_trip_and_names():
    u = JET2.function("u")
    expr = sp.sin(X) * sp.Derivative(u, X, Y) + sp.Derivative(u, (X, 2)) ** 2 + u
    j = JET2.to_jet(expr)
    assert {str(s) for s in j.free_symbols} == {"x", "u", "u_xy", "u_xx"}
    assert JET2.decode(sp.Symbol("u_xy")) == ("u", (1, 1))
    assert sp.simplify(JET2.from_jet(j).doit() - expr.doit()) == 0


def test_total_derivative_is_the_chain_rule():
    u = JET2.function("u")
    expr = sp.exp(X) * sp.Derivative(u, X) ** 2 * sp.Derivative(u, X, Y) / (1 + u**2)
    lhs = JET2.total_derivative(JET2.to_jet(expr), Y)
    rhs = JET2.to_jet(sp.diff(expr, Y))
    assert canonical_zero(lhs - rhs)


def test_euler_operator_matches_sympy_euler_equations():
    """A second-order Lagrangian with mixed derivatives and explicit x: two routes agree exactly."""
    u = JET2.function("u")
    L = sp.Derivative(u, X, Y) ** 2 + u * sp.Derivative(u, X) ** 2 * sp.sin(X) + sp.Derivative(u, (Y, 2)) * u**3
    ours = euler_operator(JET2.to_jet(L), "u", JET2)
    theirs = JET2.to_jet(euler_equations(L, [u], [X, Y])[0].lhs)
    assert canonical_zero(ours - theirs)


@given(st.lists(st.integers(-5, 5), min_size=6, max_size=6), st.sampled_from([X, Y]))
def test_total_divergences_are_null_lagrangians(coeffs, axis):
    """Property: E_u(D_i P) = 0 for every jet polynomial P."""
    s = [JET2.symbol("u"), JET2.symbol("u", (1, 0)), JET2.symbol("u", (0, 1)), JET2.symbol("u", (1, 1)), X, Y]
    P = sum(c * m for c, m in zip(coeffs, [s[0] ** 3, s[1] * s[2], s[3] * s[0], s[1] ** 2 * s[4], s[2] * s[5] ** 2, s[3] ** 2]))
    assert is_null_lagrangian(JET2.total_derivative(P, axis), JET2)


def test_unsupported_order_and_bad_constraint():
    u5 = JET2.symbol("u", (5, 0))
    with pytest.raises(UnsupportedOrderError):
        euler_operator(u5**2, "u", JET2)
    jet = JetSpace((X, Y), metric_field_names(2) + ("phi",))
    with pytest.raises(InvalidParameterError):  # the measure does not involve phi
        fixed_measure_metric_variation(jet.symbol("g_00"), jet.symbol("g_00") * jet.symbol("g_11"), "phi", jet)
    with pytest.raises(InvalidParameterError):
        JetSpace((X, X), ("u",))
    with pytest.raises(InvalidParameterError):
        metric_field_names(0)


def test_volume_variation_and_symmetric_convention():
    """δ∫√g = ∫ ½ g^ij √g h_ij with V symmetric and the sum over all (i, j); weighted = unweighted/√g."""
    jet = JetSpace((X, Y), metric_field_names(2))
    g = symmetric_metric(jet)
    vol = jet.to_jet(riemann.volume_density(g, (X, Y)))
    V = metric_variation(vol, jet)
    assert canonical_zero(V - vol * jet.to_jet(g).inv() / 2)
    Vw = metric_variation(sp.S.One, jet, weight=vol)
    assert canonical_zero(Vw - jet.to_jet(g).inv() / 2)
    # The direct variation d/de √det(g + e h) equals V^ij h_ij summed over all (i, j).
    h = sp.Matrix([[sp.Symbol("a"), sp.Symbol("b")], [sp.Symbol("b"), sp.Symbol("c")]])
    eps = sp.Symbol("e")
    gj = jet.to_jet(g)
    direct = sp.diff(sp.sqrt((gj + eps * h).det()), eps).subs(eps, 0)
    assert canonical_zero(direct - sum(V[i, j] * h[i, j] for i in range(2) for j in range(2)))


def test_einstein_hilbert_three_dimensions():
    """δ∫R√g = -∫(R^ij - ½ R g^ij)√g h_ij for a diagonal 3-metric (diagonal components), 30 digits."""
    W = sp.Symbol("w")
    jet = JetSpace((X, Y, W), ("a", "b", "c"))
    g = sp.diag(*[jet.function(n) for n in ("a", "b", "c")])
    R = jet.to_jet(riemann.ricci_scalar(g, (X, Y, W)))
    vol = jet.to_jet(riemann.volume_density(g, (X, Y, W)))
    gi = jet.to_jet(g).inv()
    ric = jet.to_jet(riemann.ricci_tensor(g, (X, Y, W)))
    einstein = gi * ric * gi - R * gi / 2
    diffs = sp.Matrix([euler_operator(sp.cancel(R), n, jet, weight=vol) + einstein[k, k] for k, n in enumerate(("a", "b", "c"))])
    pts = random_jet_points(diffs, jet, 2, seed=1, metric_prefix=None, ranges={jet.symbol(n): (1, 2) for n in "abc"})
    assert max_deviation(diffs, 0, pts) <= TOL


@pytest.mark.parametrize("name", ["volume", "einstein-hilbert-metric", "dirichlet"])
def test_variation_against_direct_first_variation_on_the_torus(name):
    """∫ d/dε L[g + εh] (no integration by parts) = ∫ V^ij h_ij on T², trapezoidal rule (spectral)."""
    if name == "dirichlet":
        jet = JetSpace((X, Y), metric_field_names(2) + ("f",))
        g = symmetric_metric(jet)
        f = jet.function("f")
        lag = sp.cancel(jet.to_jet(riemann.grad_norm_sq(f, g, (X, Y))))
        weight = jet.to_jet(riemann.volume_density(g, (X, Y)))
    else:
        fn = functionals.volume(2) if name == "volume" else functionals.einstein_hilbert_metric(2)
        jet, lag, weight = fn.jet, fn.lagrangian, fn.weight
    fields = {"g_00": 2 + sp.sin(X) / 2, "g_01": sp.cos(X + Y) / 4, "g_11": sp.Rational(3, 2) + sp.sin(X - 2 * Y) / 3, "f": sp.cos(X) * sp.sin(2 * Y)}
    pert = {"g_00": sp.cos(2 * Y), "g_01": sp.sin(X) / 3, "g_11": sp.cos(X + Y), "f": sp.sin(X + Y)}
    eps = sp.Symbol("e")
    shifted = {k: v + eps * pert[k] for k, v in fields.items() if k in jet.fields}
    direct = torus_integral(sp.diff(concrete(lag * weight, jet, shifted), eps).subs(eps, 0), JetSpace((X, Y), ()), {})
    V = metric_variation(lag, jet, weight=weight)
    engine_density = sum(V[i, j] * pert[f"g_{min(i, j)}{max(i, j)}"] for i in range(2) for j in range(2)) * weight
    if "f" in jet.fields:
        engine_density += euler_operator(lag, "f", jet, weight=weight) * weight * pert["f"]
    engine = torus_integral(engine_density, jet, {k: v for k, v in fields.items() if k in jet.fields})
    assert abs(direct - engine) <= 1e-10 * max(1.0, abs(direct))
    if name == "einstein-hilbert-metric":
        assert abs(direct) <= 1e-10  # Gauss-Bonnet: the 2-D Einstein-Hilbert action is topological


def test_first_variation_integrand_minus_euler_is_a_divergence():
    """Pointwise, d/dε L[u + εh] - E_u(L) h is a total divergence (h a second field)."""
    u, h = JET2.function("u"), JET2.function("h")
    L = sp.Derivative(u, X) ** 2 * (1 + u**2) + sp.Derivative(u, X, Y) * sp.sin(Y) * u
    direct = JET2.to_jet(first_variation_integrand(L, {u: h}))
    rest = direct - euler_operator(JET2.to_jet(L), "u", JET2) * JET2.symbol("h")
    assert is_null_lagrangian(rest, JET2)
