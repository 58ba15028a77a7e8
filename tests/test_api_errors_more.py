"""Empty or degenerate input to the symbolic functionals, kernels, networks, the bridge and the
numeric networks, smearing and grids raises a named error of :mod:`flowtheory.errors`.

Never a raw ``ShapeError`` / ``IndexError`` / ``KeyError`` / ``TypeError`` from inside, never a
``zoo``, ``nan`` or a silently wrong number.  Each case states the error class and a fragment of the
message naming the argument.
"""

import numpy as np
import pytest
import sympy as sp

from flowtheory import bridge, functionals, networks, ntk, spec, variation
from flowtheory.errors import (
    DegenerateInputError,
    EmptyInputError,
    InvalidParameterError,
    NonFiniteError,
    NotPositiveDefiniteError,
)
from numerics.grid import grids, presets
from numerics.nn import limits
from numerics.nn import networks as nn

x, y, xp, yp = sp.symbols("x y xp yp")
a = sp.Symbol("a")
s = sp.Symbol("s", positive=True)
JET = variation.JetSpace((x, y), ("f",))
NAN = float("nan")
X2 = sp.eye(2)

SYMBOLIC = [
    ("volume(True)", lambda: functionals.volume(True), InvalidParameterError, "dimension"),
    ("kahler_setting(w=0)", lambda: functionals.kahler_setting(1, w=0), DegenerateInputError, "w is identically zero"),
    ("kahler_setting(w=nan)", lambda: functionals.kahler_setting(1, w=sp.nan), NonFiniteError, "w = nan"),
    ("kahler_setting(K0=0)", lambda: functionals.kahler_setting(1, K0=0), DegenerateInputError, "K0 = 0"),
    ("mixed_discriminant([])", lambda: functionals.mixed_discriminant([]), EmptyInputError, "matrices"),
    ("mixed_discriminant(2x2, 3x3)", lambda: functionals.mixed_discriminant([X2, sp.eye(3)]), InvalidParameterError, r"matrices\[1\]"),
    ("check_convex(nan)", lambda: functionals.check_convex(sp.nan * sp.Symbol("eta"), sp.Symbol("eta")), NonFiniteError, "F = nan"),
    ("ultralocal(rule)", lambda: functionals.ultralocal(1, rule="zz"), InvalidParameterError, "rule"),
    ("j_functional(chi=0)", lambda: functionals.j_functional(1, chi=sp.zeros(1, 1)), DegenerateInputError, "chi"),
    ("j_functional(chi 2x2, n=1)", lambda: functionals.j_functional(1, chi=X2), InvalidParameterError, "chi has shape"),
    ("total_derivative(q)", lambda: JET.total_derivative(JET.symbol("f"), sp.Symbol("q")), InvalidParameterError, "coord q"),
    ("euler_operator(unknown)", lambda: variation.euler_operator(JET.symbol("f") ** 2, "zz", JET), InvalidParameterError, "field name 'zz'"),
    ("euler_operator(weight 0)", lambda: variation.euler_operator(JET.symbol("f") ** 2, "f", JET, weight=0), DegenerateInputError, "weight"),
    ("random_jet_points(x range reversed)", lambda: variation.random_jet_points(JET.symbol("f"), JET, 2, 0, ranges={x: (1, -1)}), InvalidParameterError, "high"),
    ("covariant_gradient(0 metric)", lambda: variation.covariant_gradient(X2, sp.zeros(2, 2), 1), DegenerateInputError, "det g = 0"),
    ("covariant_gradient(shapes)", lambda: variation.covariant_gradient(X2, sp.eye(3), 1), InvalidParameterError, "variation_density"),
    ("covariant_gradient(measure 0)", lambda: variation.covariant_gradient(X2, X2, 0), DegenerateInputError, "measure_density"),
    ("covariant_gradient(0x0)", lambda: variation.covariant_gradient(sp.zeros(0, 0), sp.zeros(0, 0), 1), EmptyInputError, "metric"),
    ("first_variation_integrand({})", lambda: variation.first_variation_integrand(x, {}), EmptyInputError, "perturbations"),
    ("scalar_ntk(no params)", lambda: ntk.scalar_ntk(a * x, (x,), (), (x,), (xp,)), EmptyInputError, "params"),
    ("scalar_ntk(x too long)", lambda: ntk.scalar_ntk(a * x, (x,), (a,), (x, y), (xp,)), InvalidParameterError, "x has 2"),
    ("batch_loss([])", lambda: ntk.batch_loss(None, None, []), EmptyInputError, "batch"),
    ("local_flow(1x2)", lambda: ntk.local_flow(sp.Matrix([[1, 2]])), InvalidParameterError, "variation must be a square"),
    ("local_flow(0x0)", lambda: ntk.local_flow(sp.zeros(0, 0)), EmptyInputError, "variation"),
    ("component_flow(1x2)", lambda: ntk.component_flow(sp.Matrix([[1, 2]]), 1), InvalidParameterError, "variation"),
    ("gaussian(sigma 0)", lambda: ntk.gaussian((x,), (xp,), 0), InvalidParameterError, "sigma must be positive"),
    ("gaussian(sigma -1)", lambda: ntk.gaussian((x,), (xp,), -1), InvalidParameterError, "sigma"),
    ("gaussian(sigma nan)", lambda: ntk.gaussian((x,), (xp,), NAN), NonFiniteError, "sigma"),
    ("gaussian(xp too long)", lambda: ntk.gaussian((x,), (xp, yp), 1), InvalidParameterError, "xp"),
    ("gaussian([])", lambda: ntk.gaussian((), (), 1), EmptyInputError, "x is empty"),
    ("gaussian_family(det 0)", lambda: ntk.gaussian_family((x,), s, 0, 1), InvalidParameterError, "ref_metric_det"),
    ("gaussian_family(det -1)", lambda: ntk.gaussian_family((x,), s, -1, 1), InvalidParameterError, "ref_metric_det"),
    ("gaussian_family([])", lambda: ntk.gaussian_family((), s, 1, 1), EmptyInputError, "x"),
    ("rescaled_kernel(h 0)", lambda: ntk.rescaled_kernel(0, 1, (x,), (xp,)), DegenerateInputError, "h is identically zero"),
    ("smearing_expansion(xp)", lambda: ntk.smearing_expansion(x, (x, y), (xp,)), InvalidParameterError, "xp"),
    ("local_kernel(xp)", lambda: ntk.local_kernel(1, (x, y), (xp,)), InvalidParameterError, "xp"),
    ("Normal(0)", lambda: networks.Normal(0), InvalidParameterError, "variance"),
    ("Normal(-1)", lambda: networks.Normal(-1), InvalidParameterError, "variance"),
    ("Normal(nan)", lambda: networks.Normal(sp.nan), NonFiniteError, "variance"),
    ("Uniform(1, 0)", lambda: networks.Uniform(1, 0), InvalidParameterError, "high - low"),
    ("homogeneous_pair_moment(k=-1)", lambda: networks.homogeneous_pair_moment(-1, 0, 1, 1, 0), InvalidParameterError, "k must"),
    ("homogeneous_pair_moment(k11=0)", lambda: networks.homogeneous_pair_moment(1, 1, 0, 1, 0), InvalidParameterError, "k11"),
    ("homogeneous_pair_moment(det<0)", lambda: networks.homogeneous_pair_moment(1, 1, 1, 1, 2), NotPositiveDefiniteError, "det = -3"),
    ("input_symbols(0)", lambda: networks.input_symbols(0), InvalidParameterError, "dim"),
    ("squared_distance(lengths)", lambda: networks.squared_distance((x, y), (xp,)), InvalidParameterError, "xp has 1"),
    ("normalised_gaussian(sigma 0)", lambda: networks.normalised_gaussian(0, (x,), (xp,)), InvalidParameterError, "sigma"),
    ("FlowSpec.preset(sigma nan)", lambda: spec.FlowSpec.preset("calabi", sigma=NAN), NonFiniteError, "sigma"),
    ("FlowSpec(omega 0)", lambda: spec.FlowSpec(functionals.volume(2), omega=0), DegenerateInputError, "omega"),
    ("FlowSpec(omega nan)", lambda: spec.FlowSpec(functionals.volume(2), omega=sp.nan), NonFiniteError, "omega"),
    ("FlowSpec.arguments(zz)", lambda: spec.FlowSpec.preset("calabi").arguments("zz"), InvalidParameterError, "field name 'zz'"),
    ("to_jax(args [1])", lambda: bridge.to_jax(x, [1]), InvalidParameterError, "args"),
    ("to_jax(missing y)", lambda: bridge.to_jax(x * y, [x]), InvalidParameterError, "args"),
    ("to_jax(args x, x)", lambda: bridge.to_jax(x, [x, x]), InvalidParameterError, "args has a repeated"),
    ("to_jax(nan)", lambda: bridge.to_jax(sp.nan * x, [x]), NonFiniteError, "expr"),
    ("compiled_deviation([])", lambda: bridge.compiled_deviation(bridge.to_jax(x**2, [x]), []), EmptyInputError, "points"),
    ("compiled_deviation(2 values)", lambda: bridge.compiled_deviation(bridge.to_jax(x**2, [x]), [(1, 2)]), InvalidParameterError, r"points\[0\]"),
    ("compiled_deviation(no x)", lambda: bridge.compiled_deviation(bridge.to_jax(x**2, [x]), [{y: 1}]), InvalidParameterError, r"points\[0\]"),
    ("JaxFunction(2 values)", lambda: bridge.to_jax(x**2, [x])(1.0, 2.0), InvalidParameterError, "values"),
]


@pytest.mark.parametrize("name, call, error, match", SYMBOLIC, ids=[c[0] for c in SYMBOLIC])
def test_symbolic_bad_input_is_named(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def _relu():
    import jax

    net = nn.relu(2, 4)
    return net, net.init(jax.random.PRNGKey(0))


FAMILY = limits.donut_torus().family(sp.S.One)
PT = np.array([[0.3, 0.4]])

NUMERIC = [
    ("apply_batch(no points)", lambda: nn.apply_batch(*_relu(), np.zeros((0, 2))), EmptyInputError, "x is empty"),
    ("apply_batch(d 3)", lambda: nn.apply_batch(*_relu(), np.zeros((3, 3))), InvalidParameterError, r"x must have shape \(n, 2\)"),
    ("apply_batch(1d)", lambda: nn.apply_batch(*_relu(), np.zeros(2)), InvalidParameterError, "x must have shape"),
    ("apply_batch(nan)", lambda: nn.apply_batch(*_relu(), np.full((3, 2), NAN)), NonFiniteError, "x contains NaN"),
    ("quadrature_smear(half_width nan)", lambda: limits.quadrature_smear(FAMILY, sp.S.One, PT, 0.1, half_width=NAN), InvalidParameterError, "half_width"),
    ("quadrature_smear(no points)", lambda: limits.quadrature_smear(FAMILY, sp.S.One, np.zeros((0, 2)), 0.1), EmptyInputError, "points"),
    ("quadrature_smear(d 3)", lambda: limits.quadrature_smear(FAMILY, sp.S.One, np.zeros((1, 3)), 0.1), InvalidParameterError, "points must have shape"),
    ("quadrature_smear(1d)", lambda: limits.quadrature_smear(FAMILY, sp.S.One, np.zeros(2), 0.1), InvalidParameterError, "points"),
    ("quadrature_smear(nan point)", lambda: limits.quadrature_smear(FAMILY, sp.S.One, np.full((1, 2), NAN), 0.1), NonFiniteError, "points"),
    ("quadrature_smear(f of q)", lambda: limits.quadrature_smear(FAMILY, sp.Symbol("q"), PT, 0.1), InvalidParameterError, "args"),
    ("sigma_limit_study(no sigmas)", lambda: limits.sigma_limit_study(FAMILY, sp.S.One, PT, np.array([])), EmptyInputError, "sigmas"),
    ("PeriodicGrid(8.5)", lambda: grids.PeriodicGrid((8.5,)), InvalidParameterError, "grid sizes"),
    ("PeriodicGrid.integrate(shape)", lambda: grids.PeriodicGrid.cube(8, 2).integrate(np.ones((4, 4))), InvalidParameterError, "f has shape"),
    ("SphereGrid.integrate(shape)", lambda: grids.SphereGrid(8, 8).integrate(np.ones((4, 4))), InvalidParameterError, "f has shape"),
    ("prepare(grid 0)", lambda: presets.prepare("ricci-t2", grid=0), InvalidParameterError, "grid"),
    ("prepare(grid 8.5)", lambda: presets.prepare("ricci-t2", grid=8.5), InvalidParameterError, "grid"),
    ("prepare(seed -1)", lambda: presets.prepare("ricci-t2", seed=-1), InvalidParameterError, "seed"),
]


@pytest.mark.parametrize("name, call, error, match", NUMERIC, ids=[c[0] for c in NUMERIC])
def test_numeric_bad_input_is_named(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_degenerate_but_valid_inputs_still_work():
    """Parallel inputs (det K = 0, the kernel's diagonal) are a valid covariance: E[relu(u)^2] = K11/2."""
    assert networks.homogeneous_pair_moment(1, 1, 1, 1, 1) == sp.Rational(1, 2)
    assert networks.normalised_gaussian(1, (x,), (xp,)) == ntk.gaussian((x,), (xp,), 1)
