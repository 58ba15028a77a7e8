"""Finite-width networks: parameter laws, NTK parameterisation, metric assembly, bad input."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtheory.errors import InvalidParameterError
from flowtheory.networks import SIGMA_A, Normal, Uniform
from flowtheory.networks import get_network as get_spec
from numerics.nn.networks import MLP, ComponentNetworks, Cosine, CosineLiteral, GaussNet, MetricMLP, apply_batch, from_spec, relu
from numerics.stats import assert_within, mean_estimate, z_value

# one family of moment z-tests in this module, failure probability 1e-4
Z_LAWS = z_value(1e-4, 12)


def test_frozen_feature_parameter_laws(key):
    """a ~ N(0, σ_a²), w ~ N(0, σ_w²/d), b ~ U(-π, π) (cosine) and N(0, σ_b²) (gauss-net): moments within z·SE."""
    d, width = 3, 40_000
    p = Cosine(d, width, sigma_w=2.0, sigma_a=0.7).init(key)
    for samples, mean, var in ((p["a"], 0.0, 0.49), (p["w"].ravel(), 0.0, 4.0 / d), (p["b"], 0.0, math.pi**2 / 3)):
        assert_within(mean_estimate(samples), mean, Z_LAWS, what="mean")
        assert_within(mean_estimate((samples - mean) ** 2), var, Z_LAWS, what="variance")
    assert float(jnp.min(p["b"])) >= -math.pi and float(jnp.max(p["b"])) <= math.pi
    q = GaussNet(d, width, sigma_w=1.0, sigma_b=0.3).init(key)
    assert_within(mean_estimate(q["b"] ** 2), 0.09, Z_LAWS, what="gauss-net bias variance")
    assert_within(mean_estimate(q["w"].ravel() ** 2), 1.0 / d, Z_LAWS, what="gauss-net weight variance")


def test_mlp_parameters_standard_normal(key):
    p = MLP(5, (300, 200), (4,)).init(key)
    leaves = jnp.concatenate([leaf.ravel() for leaf in jax.tree_util.tree_leaves(p)])
    assert_within(mean_estimate(leaves), 0.0, Z_LAWS)
    assert_within(mean_estimate(leaves**2), 1.0, Z_LAWS)
    assert [w.shape for w in p["W"]] == [(5, 300), (300, 200), (200, 4)]


def test_relu_network_is_the_stated_function(key):
    """f = (σ_w/√N) v·relu((σ_w/√d) W x + σ_b b) + σ_b c, written out by hand."""
    net = relu(3, 17, sigma_w=1.3, sigma_b=0.4)
    p = net.init(key)
    x = jnp.array([0.3, -1.2, 0.5])
    h = 1.3 / math.sqrt(3) * (x @ p["W"][0]) + 0.4 * p["b"][0]
    f = 1.3 / math.sqrt(17) * (jnp.maximum(h, 0) @ p["W"][1][:, 0]) + 0.4 * p["b"][1][0]
    assert net.out_shape == () and net.apply(p, x).shape == ()
    np.testing.assert_allclose(net.apply(p, x), f, rtol=1e-14)


def test_cosine_variants_are_the_stated_functions(key):
    d, N, A = 2, 11, 0.8
    x = jnp.array([0.4, -0.9])
    p = Cosine(d, N, A=A).init(key)
    rff = A / math.sqrt(N) * sum(p["a"][i] * math.cos(float(p["w"][i] @ x + p["b"][i])) for i in range(N))
    lit = A / math.sqrt(N) * sum(p["a"][i] * math.cos(float(p["w"][i, j] * x[j] + p["b"][i])) for i in range(N) for j in range(d))
    np.testing.assert_allclose(Cosine(d, N, A=A).apply(p, x), rff, rtol=1e-13)
    np.testing.assert_allclose(CosineLiteral(d, N, A=A).apply(p, x), lit, rtol=1e-13)


def test_gauss_net_normaliser_matches_symbolic_derivation(key):
    """The closed-form log normaliser in GaussNet equals log of the derived E[exp(2(w·x+b))]^(1/2)."""
    from flowtheory.bridge import to_jax
    from flowtheory.networks import get_network as get_spec

    d, sw, sb = 3, 1.3, 0.6
    spec = get_spec("gauss-net", d, sigma_w=sw, sigma_b=sb)
    normaliser = to_jax(spec.feature_normalizer, spec.x)
    net = GaussNet(d, 1, sigma_w=sw, sigma_b=sb, A=1.0)
    x = jax.random.normal(key, (20, d))
    # a width-1 network with a = 1, w = 0, b = 0 outputs exactly 1 / normaliser(x)
    p = {"a": jnp.ones(1), "w": jnp.zeros((1, d)), "b": jnp.zeros(1)}
    out = apply_batch(net, p, x)
    expected = jax.vmap(lambda xi: 1.0 / normaliser(*xi))(x)
    np.testing.assert_allclose(out, expected, rtol=1e-13)


_COMPONENTS = {v: ComponentNetworks(Cosine(2, 8), 3, v) for v in ("symmetric", "all-entries")}
_COMPONENT_FNS = {v: (jax.jit(n.init), jax.jit(n.apply)) for v, n in _COMPONENTS.items()}
_BASE_APPLY = jax.jit(jax.vmap(Cosine(2, 8).apply, in_axes=(0, None)))


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), variant=st.sampled_from(["symmetric", "all-entries"]))
def test_component_networks_assemble_components(seed, variant):
    net = _COMPONENTS[variant]
    init, apply = _COMPONENT_FNS[variant]
    p = init(jax.random.PRNGKey(seed))
    x = jnp.array([0.2, -0.4])
    g = apply(p, x)
    comps = _BASE_APPLY(p, x)
    for m, (i, j) in enumerate(net.components()):
        assert g[i, j] == comps[m]
        if variant == "symmetric":
            assert g[j, i] == comps[m]
    assert net.n_components == (6 if variant == "symmetric" else 9)


def _reference(x):
    return jnp.diag(1.0 + x[:3] ** 2)


_EPS = 1e-3
_METRIC_NETS = {f: MetricMLP(4, 3, (16, 16), form=f, eps=_EPS, reference=_reference) for f in ("symmetric", "cholesky")}
_METRIC_FNS = {f: (jax.jit(n.init), jax.jit(lambda p, x, n=n: apply_batch(n, p, x))) for f, n in _METRIC_NETS.items()}


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), form=st.sampled_from(["symmetric", "cholesky"]))
def test_metric_mlp_symmetric_and_positive(seed, form):
    """Both forms give symmetric metrics; the Cholesky form has λ_min(g) ≥ λ_min(g̃) + ε at every point."""
    init, apply = _METRIC_FNS[form]
    p = init(jax.random.PRNGKey(seed))
    x = jax.random.normal(jax.random.PRNGKey(seed + 1), (64, 4))
    g = apply(p, x)
    assert g.shape == (64, 3, 3)
    np.testing.assert_array_equal(g, jnp.swapaxes(g, 1, 2))
    if form == "cholesky":
        lam = jnp.linalg.eigvalsh(g)
        floor = jax.vmap(lambda xi: jnp.min(jnp.linalg.eigvalsh(_reference(xi))))(x) + _EPS
        assert bool(jnp.all(lam[:, 0] >= floor - 1e-12))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Cosine(0, 10),
        lambda: Cosine(2, 0),
        lambda: Cosine(2, 10, sigma_w=-1.0),
        lambda: GaussNet(2, 10, sigma_b=float("nan")),
        lambda: MLP(2, (0,), ()),
        lambda: ComponentNetworks(MLP(2, (4,), (2,)), 2),
        lambda: ComponentNetworks(Cosine(2, 4), 2, "upper"),
        lambda: MetricMLP(2, 3, (4,), form="cholesky", eps=0.0),
        lambda: MetricMLP(2, 3, (4,), form="exp"),
        lambda: from_spec(dataclasses.replace(get_spec("relu", 2, 1, 1), name="tanh"), 4),
        lambda: from_spec(get_spec("relu", 2, 1, 1), 4, sigma_a=1.0),
    ],
)
def test_bad_hyperparameters_raise(make):
    with pytest.raises(InvalidParameterError):
        make()


def test_apply_takes_one_point(key):
    net = Cosine(3, 5)
    with pytest.raises(InvalidParameterError):
        net.apply(net.init(key), jnp.zeros((4, 3)))


# ---------------------------------------------------------------- networks built from their symbolic spec

SPEC_CASES = [
    ("cosine", {"sigma_w": 2.0}),
    ("cosine-literal", {"sigma_w": 1.5}),
    ("gauss-net", {"sigma_w": 1.2, "sigma_b": 0.4}),
    ("relu", {"sigma_w": 1.5, "sigma_b": 0.5}),
]
# a second family: mean and variance of every parameter group of every case (3 + 3 + 3 + 4 groups),
# family-wise failure probability 1e-4; >= 4096 samples per group, so the plug-in SEs are accurate.
Z_SPEC_LAWS = z_value(1e-4, 2 * 13)


def _parameter_groups(net, name: str, key) -> dict[str, jax.Array]:
    """Samples of each of the spec's parameter groups, by the spec's group names."""
    if name != "relu":
        return {k: v.ravel() for k, v in net.init(key).items()}
    p = net.init(key)
    # c (the output bias) is one number per network: draw it from 4096 independent initialisations
    c = jax.vmap(from_spec(get_spec("relu", net.d_in, net.sigma_w, net.sigma_b), 1).init)(jax.random.split(key, 4096))["b"][1]
    return {"W": p["W"][0].ravel(), "b": p["b"][0], "v": p["W"][1][:, 0], "c": c.ravel()}


@pytest.mark.parametrize("name,hyper", SPEC_CASES)
def test_from_spec_draws_the_laws_of_the_spec(name, hyper, key):
    """Each parameter group of from_spec(spec, N) follows the spec's law: the sample mean and the sample
    variance agree with the law's mean and variance (σ_w²/d for w, σ_a² = 0.49 for a, π²/3 for the
    uniform bias, 1 for the ReLU groups) within z·SE; the networks carry the spec's σ_w, σ_b."""
    spec = get_spec(name, 3, **hyper)
    net = from_spec(spec, 8192, **({} if name == "relu" else {"sigma_a": 0.7}))
    groups = _parameter_groups(net, name, key)
    assert set(groups) == {group for group, _ in spec.laws}
    for group, law in spec.laws:
        mean = float(law.mean)
        variance = float(sp.sympify(law.variance).xreplace({SIGMA_A: sp.Float(0.7)}))
        samples = groups[group]
        assert_within(mean_estimate(samples), mean, Z_SPEC_LAWS, what=f"{name} {group} mean")
        assert_within(mean_estimate((samples - mean) ** 2), variance, Z_SPEC_LAWS, what=f"{name} {group} variance")
    assert net.sigma_w == hyper["sigma_w"] and getattr(net, "sigma_b", None) == hyper.get("sigma_b", None)


@pytest.mark.parametrize("name,hyper", SPEC_CASES[:3])
def test_from_spec_uses_the_normalisation_of_the_spec(name, hyper, key):
    """The A of the finite network is float(spec.normalization_A), and it scales the output: φ_A = A φ_1."""
    spec = get_spec(name, 2, **hyper)
    net = from_spec(spec, 16)
    assert net.A == float(spec.normalization_A)
    p = net.init(key)
    x = jnp.array([0.3, -0.8])
    unit = dataclasses.replace(net, A=1.0)
    np.testing.assert_allclose(net.apply(p, x), float(spec.normalization_A) * unit.apply(p, x), rtol=1e-14)


@pytest.mark.parametrize(
    "make",
    [
        lambda: from_spec(get_spec("cosine", 2), 4),  # symbolic sigma_w
        lambda: from_spec(get_spec("gauss-net", 2, sigma_w=1), 4),  # symbolic sigma_b
        lambda: from_spec(get_spec("relu", 2, sigma_w=1), 4),  # symbolic sigma_b
        lambda: from_spec(dataclasses.replace(get_spec("cosine", 2, sigma_w=1), name="tanh"), 4),
        lambda: from_spec(
            dataclasses.replace(
                get_spec("cosine", 2, sigma_w=1),
                laws=(("a", Normal(SIGMA_A**2)), ("w", Uniform(-1, 1)), ("b", Uniform(-sp.pi, sp.pi))),
            ),
            4,
        ),  # w not normal: no finite cosine network draws it
        lambda: from_spec(
            dataclasses.replace(
                get_spec("cosine", 2, sigma_w=1), laws=(("a", Normal(SIGMA_A**2)), ("w", Normal(sp.S.Half)), ("b", Normal(1)))
            ),
            4,
        ),  # the cosine bias is U(-pi, pi)
        lambda: from_spec(get_spec("cosine", 2, sigma_w=1), 4, sigma_a=-1.0),
        lambda: from_spec(get_spec("cosine", 2, sigma_w=1), 0),
    ],
)
def test_from_spec_rejects_what_it_cannot_realise(make):
    with pytest.raises(InvalidParameterError):
        make()
