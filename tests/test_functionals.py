"""Functionals as data (flowtheory.functionals) and flows as data (flowtheory.spec)."""

import dataclasses

import pytest
import sympy as sp

from flowtheory import functionals, kahler
from flowtheory.bridge import compiled_deviation
from flowtheory.caching import clear_caches
from flowtheory.errors import InvalidParameterError, NonConvexError, NotPositiveDefiniteError, NotSymmetricError
from flowtheory.exact import evaluate, max_deviation
from flowtheory.spec import PRESET_NAMES, FlowSpec, GaussianKernel
from flowtheory.variation import random_jet_points

TOL = 1e-20
ETA = sp.Symbol("eta")


def test_presets_are_the_cli_names():
    assert set(PRESET_NAMES) == {"perelman", "ricci", "kahler-ricci", "calabi", "ultralocal", "two-derivative", "einstein-hilbert", "mabuchi", "j"}
    with pytest.raises(InvalidParameterError):
        functionals.preset("hamilton")
    with pytest.raises(InvalidParameterError):
        functionals.perelman(7)
    with pytest.raises(InvalidParameterError):
        functionals.kahler_setting(0)


@pytest.mark.parametrize("F", [(ETA - 1) ** 2, ETA * sp.log(ETA), ETA**2 - 3 * ETA, sp.exp(ETA)])
def test_convex_F_accepted(F):
    f = functionals.ultralocal(1, F, ETA)
    assert f.flow_rule == "h1"


@pytest.mark.parametrize("F", [-(ETA**2), sp.sin(ETA), ETA**3 - 5 * ETA**2, sp.sqrt(ETA)])
def test_non_convex_F_rejected(F):
    with pytest.raises(NonConvexError):
        functionals.ultralocal(1, F, ETA)


def test_ricci_flow_on_the_round_sphere():
    """Ricci flow (2.39) at the unit S² is -2 g (R_ij = g_ij); Perelman's flow with φ = 0 agrees."""
    th, ph = functionals.ricci(2).coords
    g = sp.diag(1, sp.sin(th) ** 2)
    for name in ("ricci", "perelman"):
        flow = functionals.preset(name, 2).flow_at(metric=g)
        assert sp.simplify(flow["g_00"] + 2) == 0
        assert sp.simplify(flow["g_01"]) == 0
        assert sp.simplify(flow["g_11"] + 2 * sp.sin(th) ** 2) == 0
    # Perelman's slaved dilaton: dφ/dt = -Δφ - R = -2 at φ = 0.
    assert sp.simplify(functionals.perelman(2).flow_at(metric=g)["phi"] + 2) == 0


def test_bad_metrics_are_rejected():
    f = functionals.ricci(2)
    x, y = f.coords
    with pytest.raises(NotSymmetricError):
        f.flow_at(metric=sp.Matrix([[1, x], [0, 1]]))
    with pytest.raises(NotPositiveDefiniteError):
        f.flow_at(metric=sp.Matrix([[1, 2], [2, 1]]))
    u = functionals.ultralocal(1)
    (z,), (zb,) = u.coords[:1], u.coords[1:]
    with pytest.raises(NotPositiveDefiniteError):
        u.flow_at({"phi": -2 * z * zb})  # g = 1 - 2 < 0


def test_kahler_flows_at_the_flat_metric_are_stationary():
    """φ = 0 on the flat torus is Calabi-Yau (η = 1, R = 0): every φ-flow vanishes there."""
    for name in ("kahler-ricci", "calabi", "ultralocal", "two-derivative", "einstein-hilbert"):
        flow = functionals.preset(name).flow_at({"phi": sp.S.Zero})
        assert sp.simplify(flow["phi"]) == 0, name


def test_kahler_ricci_potential_flow_is_minus_ricci_form():
    """∂∂̄ of the φ-flow ln η is -R_{ab̄} on a chart with holomorphic |Ω|² (random rational points)."""
    (z,), (zb,) = kahler.complex_coordinates("z")
    s = functionals.kahler_setting(1, w=(2 + z) * (2 + zb))
    f = functionals.kahler_ricci(1, setting=s)
    lhs = s.jet.to_jet(s.ddbar(s.jet.from_jet(f.flow()["phi"]))[0, 0] + s.ricci_form()[0, 0])
    pts = random_jet_points(lhs, s.jet, 3, seed=2, metric_prefix=None, ranges={s.jet.symbol("phi", (1, 1)): (-0.5, 0.5)})
    assert max_deviation(lhs, 0, pts) <= TOL


def test_mixed_discriminant():
    A = sp.Matrix([[2, 1], [1, 3]])
    B = sp.Matrix([[1, 0], [0, 4]])
    assert functionals.mixed_discriminant([A, A]) == A.det()
    assert sp.simplify(functionals.mixed_discriminant([B, A]) - (A.inv() * B).trace() * A.det() / 2) == 0


@pytest.mark.parametrize("name", ["ultralocal", "kahler-ricci", "j"])
def test_compiled_rhs_matches_sympy(name):
    """FlowSpec.compile (JAX float64) vs the sympy right-hand side at 30 digits."""
    spec = FlowSpec.preset(name)
    if spec.functional.parameters:
        spec = spec.with_parameters({str(p): sp.Rational(1, 2) for p in spec.functional.parameters})
    compiled = spec.compile()["phi"]
    pts = random_jet_points(compiled.expr, spec.jet, 4, seed=3, metric_prefix=None, ranges={spec.jet.symbol("phi", (1, 1)): (-0.5, 0.5)})
    scale = max(abs(evaluate(compiled.expr, p)) for p in pts)
    assert compiled_deviation(compiled, pts) <= 1e-12 * max(1.0, scale)


def test_spec_field_form_and_kernels():
    spec = FlowSpec.preset("ultralocal")
    rhs = spec.rhs()["phi"]
    assert rhs.has(sp.Derivative) and not any(str(s).startswith("phi_") for s in rhs.free_symbols)
    assert sp.simplify(spec.jet.to_jet(rhs) - spec.rhs_jet()["phi"]) == 0
    omega = 1 + spec.coords[0] * spec.coords[1]
    scaled = FlowSpec(spec.functional, "local", omega)
    assert sp.simplify(scaled.rhs_jet()["phi"] - omega * spec.rhs_jet()["phi"]) == 0
    gauss = FlowSpec.preset("ultralocal", sigma=sp.Rational(1, 10))
    assert gauss.rhs_jet() == spec.rhs_jet()  # the local force, smeared by N_sigma numerically
    x, xp = sp.symbols("x xp")
    assert sp.integrate(gauss.kernel.expr((x,), (xp,)), (xp, -sp.oo, sp.oo)) == 1
    with pytest.raises(InvalidParameterError):
        GaussianKernel(-1)
    with pytest.raises(InvalidParameterError):
        FlowSpec(spec.functional, "semi-local")
    with pytest.raises(InvalidParameterError):
        spec.with_parameters({"kappa": 1})


def test_perelman_spec_metric_components_go_through_the_local_kernel():
    """FlowSpec (2.14) with Ω̄ = 1 reproduces the functional's own flow, metric and dilaton."""
    spec = FlowSpec.preset("perelman", 2)
    flow = spec.functional.flow()
    assert set(spec.rhs_jet()) == {"g_00", "g_01", "g_11", "phi"}
    for k, v in spec.rhs_jet().items():
        d = v - flow[k]
        assert max_deviation(d, 0, random_jet_points(sp.Matrix([v, flow[k]]), spec.jet, 1, seed=4)) <= TOL


def test_j_in_complex_dimension_two():
    """The mixed-discriminant formula varies into tr χ - c in n = 2 (30 digits)."""
    (z1, z2), (z1b, z2b) = kahler.complex_coordinates(["z1", "z2"])
    s = functionals.kahler_setting(2, K0=z1 * z1b + z2 * z2b + (z1 * z1b) ** 2 / 4)
    Rbar, c = sp.Symbol("Rbar"), sp.Symbol("c")
    f = functionals.j_functional(2, setting=s)
    d = f.gradient() - (s.jet.to_jet(s.trace(s.ddbar(s.K0))) - c)
    ranges = {s.jet.symbol("phi", o): (-0.2, 0.2) for o in [(1, 0, 1, 0), (0, 1, 0, 1), (1, 0, 0, 1), (0, 1, 1, 0)]}
    ranges.update({sym: (0.1, 0.3) for sym in s.jet.coords})
    pts = random_jet_points(d, s.jet, 2, seed=5, metric_prefix=None, extra=(Rbar, c), ranges=ranges)
    assert max_deviation(d, 0, pts) <= 1e-18


# -- values, not objects: equality, hashing and caches by value ---------------------------------


def test_replaced_loss_scale_gives_its_own_flow():
    base = functionals.volume(2)
    scaled = dataclasses.replace(base, loss_scale=5)
    # the flow is the descent of L = sE, linear in s
    for name, rate in base.flow().items():
        assert sp.simplify(scaled.flow()[name] - 5 * rate) == 0
    assert scaled != base and hash(scaled) != hash(base)


def test_replaced_loss_scale_flow_equals_a_fresh_build():
    base = functionals.volume(2)
    base.flow()  # the unscaled flow is cached first: the scaled one must not be served from it
    scaled = dataclasses.replace(base, loss_scale=5)
    served = scaled.flow()
    assert served != base.flow()
    clear_caches()
    fresh = functionals.Functional(**{**vars(functionals.volume(2)), "loss_scale": sp.Integer(5)}).flow()
    assert served == fresh


def test_kahler_settings_are_values():
    a, b = functionals.kahler_setting(1), functionals.kahler_setting(1)
    assert a == b and hash(a) == hash(b)
    assert functionals.kahler_setting(1, w=2) != a
    assert functionals.mabuchi(1, setting=a) == functionals.mabuchi(1, setting=b)


def test_replaced_slaved_field_and_metric_are_part_of_the_value():
    perelman = functionals.perelman(2)
    assert dataclasses.replace(perelman, slaved=None) != perelman
    other_metric = dataclasses.replace(perelman, metric=2 * perelman.metric)
    assert other_metric != perelman
    # the gradient is built from the metric: a different metric gives a different gradient
    assert other_metric.gradient() != perelman.gradient()


def test_functionals_are_hashable_immutable_values():
    a, b = functionals.volume(2), functionals.volume(2)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert isinstance(a.metric, sp.ImmutableMatrix)
    with pytest.raises(TypeError):
        a.metric[0, 0] = 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.loss_scale = 3


def test_with_parameters_returns_a_different_value_with_its_own_rhs():
    spec = FlowSpec.preset("mabuchi")
    (rbar,) = spec.functional.parameters
    given = spec.with_parameters({"Rbar": 3})
    assert given != spec and hash(given) != hash(spec)
    assert given.parameter_values == ((rbar, sp.Integer(3)),)
    for name, expr in spec.rhs_jet().items():
        assert given.rhs_jet()[name] == expr.xreplace({rbar: 3})
    assert rbar in spec.rhs_jet()["phi"].free_symbols and rbar not in given.rhs_jet()["phi"].free_symbols
    # equal data, equal values (built either way)
    assert given == FlowSpec(spec.functional, spec.kernel, spec.omega, ((rbar, 3),))
    assert given.with_parameters({"Rbar": 4}) == spec.with_parameters({"Rbar": 4})
    assert spec.rhs_jet() == FlowSpec.preset("mabuchi").rhs_jet()


def test_a_spec_has_no_mutable_state():
    spec = FlowSpec.preset("ricci", 2)
    assert not any(isinstance(v, (dict, list, set)) for v in vars(spec).values())
    spec.rhs_jet()["g_00"] = sp.Integer(0)  # a returned dict is the caller's own copy
    assert spec.rhs_jet()["g_00"] != 0
