"""flowtheory.ntk: metric-NTK flows (2.1)–(2.8), linearisation (2.10)–(2.12), local flows
(2.13)–(2.14), component structure (2.19)–(2.23), rescaling (2.15)–(2.18), Gaussian family (2.27)–(2.31).

Identities are checked in canonical form (expanded difference is 0) and at random rational points
with 30 digits; hypothesis draws dimensions 1..3, metrics, parameters and losses.
"""

from itertools import product

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtheory import ntk
from flowtheory.bridge import compiled_deviation, to_jax
from flowtheory.errors import InvalidParameterError, NotSymmetricError
from flowtheory.exact import max_deviation, random_rational_points


def _coords(d):
    return tuple(sp.Symbol(f"x{a}", real=True) for a in range(1, d + 1))


def _zero(m) -> bool:
    return all(sp.expand(e) == 0 for e in sp.flatten(m.tolist()))


@st.composite
def networks(draw, max_dim=3, n_params=3):
    """A symmetric d×d metric network: entries c0 + c1 θ_a x_b + c2 θ_a θ_b + c3 θ_a² x_b² with small integer c."""
    d = draw(st.integers(1, max_dim))
    x = _coords(d)
    th = sp.symbols(f"t1:{n_params + 1}", real=True)
    small = st.integers(-2, 2)
    idx = st.integers(0, n_params - 1)
    cx = st.integers(0, d - 1)
    entries = {}
    for i in range(d):
        for j in range(i, d):
            a, b, c = draw(idx), draw(idx), draw(cx)
            entries[(i, j)] = (
                (2 if i == j else 0)
                + draw(small) * th[a] * x[c]
                + draw(small) * th[a] * th[b]
                + draw(small) * th[b] ** 2 * x[draw(cx)] ** 2
                + draw(small) * th[draw(idx)]
            )
    g = sp.Matrix(d, d, lambda i, j: entries[(min(i, j), max(i, j))])
    return ntk.MetricNetwork(g, x, th)


@st.composite
def losses(draw, d):
    """l = a det g + b tr(g²) + c x1 g_00 + e g_{0,d-1}², small integers a..e."""
    a, b, c, e = (draw(st.integers(-2, 2)) for _ in range(4))
    return ntk.PointwiseLoss.from_function(lambda g, x: a * g.det() + b * (g * g).trace() + c * x[0] * g[0, 0] + e * g[0, d - 1] ** 2, _coords(d))


def _batch(d, n, seed):
    return [tuple(p.values()) for p in random_rational_points(_coords(d), n, seed)]


@settings(max_examples=4)
@given(data=st.data())
def test_gradient_descent_pushed_forward_is_the_metric_ntk_flow_discrete(data):
    """(2.1)–(2.3) by the chain rule == (2.8) with the metric-NTK (2.7), canonically and at 30 digits."""
    net = data.draw(networks())
    loss = data.draw(losses(net.dim))
    batch = _batch(net.dim, 2, seed=net.dim)
    param = ntk.pushforward_flow(net, ntk.batch_loss(net, loss, batch), net.coords)
    kern = ntk.flow_discrete(lambda a, b: ntk.metric_ntk(net, a, b).array, lambda p: loss.variation(net, p), net.coords, batch)
    assert _zero(param - kern)
    syms = (*net.coords, *net.params)
    assert max_deviation(param, kern, random_rational_points(syms, 1, seed=11, low=-2, high=2)) <= 1e-25


@settings(max_examples=4)
@given(data=st.data())
def test_gradient_descent_pushed_forward_is_the_metric_ntk_flow_continuous(data):
    """(2.4) with dμ = (1 + x'²) dx' on [0,1] (d = 1): Leibniz under the integral == (2.8), merged and integrated exactly."""
    net = data.draw(networks(max_dim=1))
    loss = data.draw(losses(1))
    (x,) = net.coords
    xp = ntk.primed(net.coords)
    density = 1 + xp[0] ** 2
    limits = [(xp[0], 0, 1)]
    param = ntk.pushforward_flow(net, ntk.integral_loss(net, loss, xp, density, limits), net.coords)
    kern = ntk.flow_continuous(lambda a, b: ntk.metric_ntk(net, a, b).array, lambda p: loss.variation(net, p), net.coords, xp, density, limits)
    assert sp.expand(ntk.merge_integrals(param[0, 0]) - ntk.merge_integrals(kern[0, 0])).doit() == 0
    (point,) = random_rational_points((x, *net.params), 1, seed=3)
    assert sp.expand(param[0, 0].subs(point).doit() - kern[0, 0].subs(point).doit()) == 0


@settings(max_examples=5)
@given(data=st.data())
def test_variation_convention_gives_the_chain_rule_over_all_pairs(data):
    """dl(g(θ))/dθ = Σ_{k,l} δl/δg_kl ∂g_kl/∂θ (all d² pairs); δl/δg is symmetric; ∂l/∂g_01 (independent) = 2 δl/δg_01."""
    net = data.draw(networks())
    loss = data.draw(losses(net.dim))
    d = net.dim
    V = loss.variation(net, net.coords)
    assert _zero(V - V.T)
    for t in net.params:
        lhs = sp.diff(loss.at(net, net.coords), t)
        rhs = sum((V[k, l] * sp.diff(net.metric[k, l], t) for k in range(d) for l in range(d)), sp.S.Zero)
        assert sp.expand(lhs - rhs) == 0
    if d >= 2:
        s = sp.Symbol("s")
        bumped = net.metric + sp.Matrix(d, d, lambda i, j: s if {i, j} == {0, 1} else 0)
        bumped_net = ntk.MetricNetwork(bumped, net.coords, net.params)
        indep = sp.diff(loss.at(bumped_net, net.coords), s).subs(s, 0)
        assert sp.expand(indep - 2 * V[0, 1]) == 0


@settings(max_examples=6)
@given(data=st.data())
def test_metric_ntk_index_symmetries(data):
    """Θ_ijkl(x,x') = Θ_klij(x',x) (2.7) and, for symmetric g, Θ_ijkl = Θ_jikl."""
    net = data.draw(networks())
    x, xp = net.coords, ntk.primed(net.coords)
    a, b = ntk.metric_ntk(net, x, xp), ntk.metric_ntk(net, xp, x)
    r = range(net.dim)
    for i, j, k, l in product(r, r, r, r):
        assert sp.expand(a[i, j, k, l] - b[k, l, i, j]) == 0
        assert sp.expand(a[i, j, k, l] - a[j, i, k, l]) == 0


@settings(max_examples=6)
@given(data=st.data(), seed=st.integers(0, 100))
def test_linearised_model_ntk_is_the_frozen_ntk(data, seed):
    """(2.10)–(2.11): Θ^L = Θ|θ0, independent of θ; g^L = g and ∂g^L/∂θ = ∂g/∂θ at θ0."""
    net = data.draw(networks())
    (theta0,) = random_rational_points(net.params, 1, seed)
    lin = ntk.linearize(net, theta0)
    x, xp = net.coords, ntk.primed(net.coords)
    a = ntk.metric_ntk(lin, x, xp).array
    b = ntk.metric_ntk(net, x, xp).array.subs(theta0)
    assert all(sp.expand(u - v) == 0 for u, v in zip(sp.flatten(a.tolist()), sp.flatten(b.tolist())))
    assert all(sp.diff(u, t) == 0 for u in sp.flatten(a.tolist()) for t in net.params)
    assert _zero((lin.metric - net.metric).subs(theta0))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_component_ntk_closed_forms(d):
    """(2.19)–(2.23): δ_ikδ_jl for d² separate networks; δ_ikδ_jl + δ_ilδ_jk − δ_ijδ_ikδ_il for d(d+1)/2 (symmetric)."""
    full = ntk.component_ntk(d, "all-entries").coefficients
    sym = ntk.component_ntk(d, "symmetric").coefficients
    delta = sp.KroneckerDelta
    for i, j, k, l in product(range(d), repeat=4):
        assert full[i, j, k, l] == delta(i, k) * delta(j, l)
        assert sym[i, j, k, l] == delta(i, k) * delta(j, l) + delta(i, l) * delta(j, k) - delta(i, j) * delta(i, k) * delta(i, l)
    kernel = sp.Symbol("K")
    assert all(u == kernel * v for u, v in zip(sp.flatten(ntk.component_ntk(d, "symmetric").kernel(kernel).tolist()), sp.flatten(sym.tolist())))
    # the symmetric reading differs from (2.23) exactly on the (ij, ji) off-diagonal entries
    differ = {(i, j, k, l) for i, j, k, l in product(range(d), repeat=4) if sym[i, j, k, l] != full[i, j, k, l]}
    assert differ == {(i, j, j, i) for i in range(d) for j in range(d) if i != j}


@pytest.mark.parametrize("parameterisation", ["all-entries", "symmetric"])
def test_local_flow_equals_gradient_descent_of_tabular_component_networks(parameterisation):
    """Networks with one parameter per batch point and component (Lagrange basis: Θ = c_ijkl δ_{x,x'}) realise (2.13);
    gradient descent pushed forward at a batch point is local_flow(δl/δg, Ω̄ = 1) with the same parameterisation."""
    d = 2
    x = _coords(d)
    points = [(sp.Rational(-1, 2), sp.Rational(1, 3)), (sp.Rational(1, 4), sp.Rational(-2, 3)), (sp.Rational(3, 4), sp.Rational(1, 5))]
    basis = [sp.Mul(*[(x[0] - q[0]) / (p[0] - q[0]) for q in points if q is not p]) for p in points]
    keys = [(i, j) for i in range(d) for j in range(d) if parameterisation == "all-entries" or i <= j]
    theta = {(key, b): sp.Symbol(f"t_{key[0]}{key[1]}_{b}", real=True) for key in keys for b in range(len(points))}

    def entry(i, j):
        key = (i, j) if parameterisation == "all-entries" else (min(i, j), max(i, j))
        return (2 if i == j else 0) + sum((theta[(key, b)] * basis[b] for b in range(len(points))), sp.S.Zero)

    net = ntk.MetricNetwork(sp.Matrix(d, d, entry), x, tuple(theta.values()), symmetric=(parameterisation == "symmetric"))
    loss = ntk.PointwiseLoss.from_function(lambda g, y: g.det() * (1 + y[1]) + (g * g).trace(), x)
    flow = ntk.pushforward_flow(net, ntk.batch_loss(net, loss, points), x)
    for p in points:
        local = ntk.local_flow(loss.variation(net, p), sp.S.One, parameterisation=parameterisation)
        assert _zero(flow.subs(dict(zip(x, p))) - local)
    V = sp.Matrix(2, 2, sp.symbols("a b b c"))
    factor = 2 if parameterisation == "symmetric" else 1
    assert _zero(ntk.local_flow(V, sp.Symbol("w"), parameterisation=parameterisation) + sp.Symbol("w") * sp.Matrix([[V[0, 0], factor * V[0, 1]], [factor * V[1, 0], V[1, 1]]]))


@settings(max_examples=10)
@given(c=st.lists(st.integers(-3, 3), min_size=3, max_size=3))
def test_rescaled_kernel_is_the_ntk_of_the_rescaled_network(c):
    """(2.15)–(2.16): Θ_{hφ}(x,x') = h(x)h(x')Θ_φ(x,x') for φ = t1 tanh(t2 x + t3) and polynomial h."""
    (x,) = _coords(1)
    (xp,) = ntk.primed((x,))
    t = sp.symbols("t1:4", real=True)
    phi = t[0] * sp.tanh(t[1] * x + t[2])
    h = 1 + c[0] * x + c[1] * x**2 + c[2] * x**3
    lhs = ntk.scalar_ntk(h * phi, (x,), t, (x,), (xp,))
    rhs = ntk.rescaled_kernel(h, ntk.scalar_ntk(phi, (x,), t, (x,), (xp,)), (x,), (xp,))
    assert sp.expand(lhs - rhs) == 0


@pytest.mark.parametrize("degree", [1, 3])
def test_smearing_expansion_against_exact_gaussian_integrals(degree):
    """For polynomial F of degree ≤ 3 the expansion F + σ²/2 F'' is exact; sympy integrates the Gaussian directly."""
    (x,) = _coords(1)
    (xp,) = ntk.primed((x,))
    sigma = sp.Symbol("sigma", positive=True)
    F = sum((sp.Rational(k + 1, 3) * xp**k * (1 + x) ** (degree - k) for k in range(degree + 1)), sp.S.Zero)
    shift = sp.Symbol("s", real=True)  # x' = x + s
    exact = sp.integrate(sp.expand(ntk.gaussian((x,), (x + shift,), sigma) * F.subs(xp, x + shift)), (shift, -sp.oo, sp.oo))
    e = ntk.smearing_expansion(F, (x,), (xp,))
    assert e.sigma1 == 0
    assert sp.expand(exact - (e.leading + sigma**2 * e.sigma2)) == 0


def test_gaussian_family_limit_and_flow_factors():
    """(2.28) = rescaled (2.27); the σ→0 leading term is ᾱ(x,x)f(x) w.r.t. dV_g̃, and √g̃(x)ᾱ(x,x)f(x) without the rescaling."""
    x = _coords(2)
    xp = ntk.primed(x)
    sigma = sp.Symbol("sigma", positive=True)
    gt = sp.Function("gt", positive=True)
    alpha = sp.Function("alpha")(*x, *xp)
    f = sp.Function("f")(*xp)
    fam = ntk.gaussian_family(x, sigma, gt(*x), alpha)
    assert sp.expand(fam.kernel - (gt(*x) * gt(*xp)) ** sp.Rational(-1, 4) * fam.base_kernel) == 0
    assert sp.expand(fam.density * fam.kernel / fam.base_kernel - (gt(*xp) / gt(*x)) ** sp.Rational(1, 4)) == 0
    omega_f = alpha.subs(dict(zip(xp, x)), simultaneous=True) * f.subs(dict(zip(xp, x)), simultaneous=True)
    assert sp.expand(ntk.local_limit(fam, f).leading - omega_f) == 0
    assert sp.expand(ntk.local_limit(fam, f, rescaled=False).leading - sp.sqrt(gt(*x)) * omega_f) == 0
    (integral,) = fam.flow(f).atoms(sp.Integral)
    assert integral.variables == list(xp)


def test_compiled_flow_matches_sympy_at_30_digits():
    """The bridge: the discrete metric-NTK flow compiled to JAX agrees with sympy at 30 digits to float64 accuracy."""
    x = _coords(2)
    t = sp.symbols("t1:4", real=True)
    g = sp.Matrix([[1 + t[0] ** 2 * x[0] ** 2, t[1] * sp.sin(x[1])], [t[1] * sp.sin(x[1]), 2 + sp.tanh(t[2] * x[0])]])
    net = ntk.MetricNetwork(g, x, t)
    loss = ntk.PointwiseLoss.from_function(lambda m, y: sp.log(m.det()) + m.trace() * y[0], x)
    batch = _batch(2, 2, seed=5)
    flow = ntk.flow_discrete(lambda a, b: ntk.metric_ntk(net, a, b).array, lambda p: loss.variation(net, p), x, batch)
    compiled = to_jax(flow, (*x, *t))
    assert compiled_deviation(compiled, random_rational_points(compiled.args, 4, seed=9, low=-0.8, high=0.8)) <= 1e-10


def test_bad_input_raises_named_errors():
    x = _coords(2)
    t = sp.symbols("t1:3")
    with pytest.raises(NotSymmetricError):
        ntk.MetricNetwork(sp.Matrix([[1, t[0]], [t[1], 1]]), x, t)
    with pytest.raises(InvalidParameterError):
        ntk.MetricNetwork(sp.Matrix([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), x, t)
    with pytest.raises(InvalidParameterError):
        ntk.MetricNetwork(sp.eye(2), x, ())
    net = ntk.MetricNetwork(sp.Matrix([[1 + t[0], 0], [0, 1 + t[1]]]), x, t)
    with pytest.raises(InvalidParameterError):
        ntk.linearize(net, {t[0]: 0})
    with pytest.raises(InvalidParameterError):
        ntk.metric_ntk(net, x[:1], x)
    with pytest.raises(InvalidParameterError):
        ntk.flow_discrete(lambda a, b: None, lambda p: None, x, [])
    with pytest.raises(InvalidParameterError):
        ntk.component_ntk(0)
    with pytest.raises(InvalidParameterError):
        ntk.component_ntk(2, "upper")
    with pytest.raises(InvalidParameterError):
        ntk.gaussian_family(x, -1, 1, 1)


def test_dataclasses_render_latex():
    x = _coords(1)
    t = sp.Symbol("t1")
    net = ntk.MetricNetwork(sp.Matrix([[1 + t * x[0]]]), x, (t,))
    assert net._repr_latex_().startswith("$") and sp.latex(net.metric) in net._repr_latex_()
    comp = ntk.component_ntk(2, "symmetric")
    assert sp.latex(comp.coefficients) in comp._repr_latex_()
