"""flowtheory.networks: derived frozen NTKs (sec. 2.3.2) — bridge agreement, symmetry, positivity,
normalisation, neural-tangents agreement, the expectation engines, and bad input."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from flowtheory.bridge import compiled_deviation
from flowtheory.errors import InvalidParameterError
from flowtheory.exact import evaluate, max_deviation, random_rational_points
from flowtheory.networks import (
    NETWORK_NAMES,
    Normal,
    Uniform,
    expectation,
    get_network,
    homogeneous_pair_moment,
)

# float64 JAX vs 30-digit sympy; with σ ≤ 3 and |x_j| ≤ 2 every kernel here is below ~400 in size,
# so this is 10–100 ulp of the largest values.
BRIDGE_TOLERANCE = 1e-12
DIMS = st.integers(min_value=1, max_value=4)
SIGMAS = st.fractions(min_value=Fraction(1, 4), max_value=Fraction(3), max_denominator=20)


def _params(name: str, sigma_w, sigma_b):
    return {"sigma_w": sigma_w} | ({} if name.startswith("cosine") else {"sigma_b": sigma_b})


def _gram(spec, points: np.ndarray) -> np.ndarray:
    fn = spec.kernel_jax().fn
    rows = jax.vmap(lambda a: jax.vmap(lambda b: fn(*a, *b))(jnp.asarray(points)))(jnp.asarray(points))
    return np.asarray(rows)


# --- the compiled kernel is the derived kernel ----------------------------------------------------


@settings(max_examples=16)
@given(name=st.sampled_from(NETWORK_NAMES), dim=DIMS, sigma_w=SIGMAS, sigma_b=SIGMAS, seed=st.integers(0, 10**6))
def test_jax_kernel_agrees_with_sympy(name, dim, sigma_w, sigma_b, seed):
    spec = get_network(name, dim, **_params(name, sigma_w, sigma_b))
    compiled = spec.kernel_jax()
    points = random_rational_points(compiled.args, 3, seed=seed, low=-2.0, high=2.0)
    assert compiled_deviation(compiled, points) <= BRIDGE_TOLERANCE


def test_kernel_at_coincident_and_nearly_parallel_inputs_is_accurate():
    """x' = x and x' = (1 + 1e-9) x: the ReLU angle enters through atan2 of a sum of squares, no NaN."""
    spec = get_network("relu", 3, 2, Fraction(1, 10))
    x = [sp.Rational(3, 7), sp.Rational(-5, 11), sp.Rational(2, 3)]
    for scale in (sp.Integer(1), 1 + sp.Rational(1, 10**9)):
        point = tuple(x) + tuple(scale * v for v in x)
        exact = evaluate(spec.kernel, dict(zip(spec.x + spec.xp, point))).real
        assert compiled_deviation(spec.kernel_jax(), [point]) <= 1e-15 * abs(exact)


# --- symmetry and positive semi-definiteness --------------------------------------------------------


@pytest.mark.parametrize("name", NETWORK_NAMES)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_kernel_is_symmetric(name, dim):
    spec = get_network(name, dim)
    swapped = spec.kernel.xreplace({**dict(zip(spec.x, spec.xp)), **dict(zip(spec.xp, spec.x))})
    if name == "relu":  # Abs/atan2/sqrt: exact check at rational points with 30 digits
        points = random_rational_points(spec.x + spec.xp + (spec.sigma_w, spec.sigma_b), 4, seed=dim, low=0.1, high=2.0)
        assert max_deviation(spec.kernel, swapped, points) <= 1e-28
    else:
        assert sp.simplify(sp.expand(spec.kernel - swapped)) == 0


@settings(max_examples=12)
@given(name=st.sampled_from(NETWORK_NAMES), dim=DIMS, sigma_w=SIGMAS, sigma_b=SIGMAS, seed=st.integers(0, 2**31 - 1))
def test_gram_matrix_is_positive_semidefinite(name, dim, sigma_w, sigma_b, seed):
    spec = get_network(name, dim, **_params(name, sigma_w, sigma_b))
    points = np.random.default_rng(seed).uniform(-2, 2, size=(16, dim))
    gram = _gram(spec, points)
    np.testing.assert_allclose(gram, gram.T, rtol=1e-13, atol=1e-15)
    eigenvalues = np.linalg.eigvalsh(gram)
    assert eigenvalues.min() >= -1e-12 * max(1.0, eigenvalues.max())


# --- normalised Gaussians ----------------------------------------------------------------------------


@settings(max_examples=6)
@given(name=st.sampled_from(["cosine", "gauss-net", "cosine-literal"]), sigma_w=SIGMAS, x=st.floats(-1, 1))
def test_normalised_gaussian_integrates_to_one_in_1d(name, sigma_w, x):
    spec = get_network(name, 1, sigma_w=sigma_w)
    fn = sp.lambdify(spec.x + spec.xp, spec.kernel, modules="math")
    value, error = integrate.quad(lambda y: fn(x, y), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13)
    assert abs(value - 1) <= 1e-10
    sigma = float(spec.width_sigma)
    assert math.isclose(fn(x, x), (2 * math.pi * sigma**2) ** -0.5, rel_tol=1e-13)


@pytest.mark.parametrize("name, sigma_w", [("cosine", Fraction(3, 2)), ("gauss-net", Fraction(5, 2))])
def test_normalised_gaussian_integrates_to_one_in_2d(name, sigma_w):
    spec = get_network(name, 2, sigma_w=sigma_w)
    fn = sp.lambdify(spec.x + spec.xp, spec.kernel, modules="math")
    x = (0.3, -0.7)
    value, _ = integrate.dblquad(lambda y2, y1: fn(*x, y1, y2), -np.inf, np.inf, -np.inf, np.inf, epsabs=1e-12, epsrel=1e-12)
    assert abs(value - 1) <= 1e-9
    # width: Θ̄(x, x + σ e1) / Θ̄(x, x) = exp(-1/2)
    sigma = float(spec.width_sigma)
    assert math.isclose(fn(*x, x[0] + sigma, x[1]) / fn(*x, *x), math.exp(-0.5), rel_tol=1e-13)


def test_cosine_literal_is_not_normalisable_beyond_one_dimension():
    """d = 2: the literal kernel tends to a positive constant along x'_2 -> oo (cross terms die, the
    j = 1 diagonal term does not): its integral over x' diverges, so there is no width."""
    spec = get_network("cosine-literal", 2, sigma_w=2)
    assert spec.width_sigma is None
    fn = sp.lambdify(spec.x + spec.xp, spec.kernel, modules="math")
    far = [fn(0.2, 0.1, 0.2, t) for t in (10.0, 100.0)]
    assert far[0] == pytest.approx(far[1], rel=1e-12) and far[1] > 0.01


def test_gauss_net_kernel_does_not_depend_on_sigma_b():
    a = get_network("gauss-net", 2, sigma_w=Fraction(3, 2), sigma_b=Fraction(1, 5))
    b = get_network("gauss-net", 2, sigma_w=Fraction(3, 2), sigma_b=3)
    assert sp.simplify(a.kernel - b.kernel) == 0
    assert a.feature_normalizer != b.feature_normalizer


def test_gauss_net_feature_normalizer_is_root_second_moment_by_quadrature():
    """d = 1: D(x)^2 = E[exp(2(w x + b))], w ~ N(0, σ_w²), b ~ N(0, σ_b²), by 2-D quadrature."""
    sw, sb, x = 0.8, 0.5, 0.7
    spec = get_network("gauss-net", 1, sigma_w=Fraction("0.8"), sigma_b=Fraction("0.5"))
    density = lambda w, b: np.exp(-(w**2) / (2 * sw**2) - b**2 / (2 * sb**2)) / (2 * np.pi * sw * sb)  # noqa: E731
    second, _ = integrate.dblquad(lambda b, w: np.exp(2 * (w * x + b)) * density(w, b), -12, 12, -8, 8, epsabs=1e-12)
    assert math.isclose(float(spec.feature_normalizer.subs(spec.x[0], x)) ** 2, second, rel_tol=1e-8)


# --- ReLU vs neural-tangents ------------------------------------------------------------------------


@settings(max_examples=5)
@given(dim=DIMS, sigma_w=SIGMAS, sigma_b=SIGMAS, seed=st.integers(0, 2**31 - 1))
def test_relu_ntk_and_nngp_match_neural_tangents(dim, sigma_w, sigma_b, seed):
    from neural_tangents import stax

    spec = get_network("relu", dim, sigma_w, sigma_b)
    sw, sb = float(sigma_w), float(sigma_b)
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=sw, b_std=sb), stax.Relu(), stax.Dense(1, W_std=sw, b_std=sb))
    points = np.random.default_rng(seed).normal(size=(7, dim))
    reference = kernel_fn(points, points, ("nngp", "ntk"))
    for ours, ref in ((spec, reference.ntk), (dataclasses.replace(spec, kernel=spec.nngp), reference.nngp)):
        gram = _gram(ours, points)
        scale = np.sqrt(np.outer(np.diag(gram), np.diag(gram)))  # bounds |Θ(x,x')|; Θ changes sign
        deviation = np.abs(gram - np.asarray(ref)) / scale
        off_diagonal = ~np.eye(len(points), dtype=bool)
        assert np.max(deviation[off_diagonal]) <= 1e-12
        # On the diagonal neural-tangents evaluates arccos(1 - O(eps)), which is only good to
        # sqrt(2 eps) ~ 2e-8 relative (eq. 3.4); our atan2 form is exact there.
        assert np.max(np.diag(deviation)) <= 1e-7


# --- the expectation engines -------------------------------------------------------------------------


def test_expectation_reproduces_textbook_moments():
    w, b = sp.symbols("w b", real=True)
    s = sp.Symbol("s", positive=True)
    t = sp.Symbol("t", real=True)
    assert sp.simplify(expectation(w**4, {w: Normal(s**2)}) - 3 * s**4) == 0
    assert sp.simplify(expectation(sp.cos(t * w), {w: Normal(s**2)}) - sp.exp(-(s**2) * t**2 / 2)) == 0
    assert expectation(sp.cos(t + b), {b: Uniform(-sp.pi, sp.pi)}) == 0
    assert sp.simplify(expectation(b**2, {b: Uniform(-sp.pi, sp.pi)}) - sp.pi**2 / 3) == 0


def test_expectation_rejects_non_exponential_forms():
    w = sp.Symbol("w", real=True)
    with pytest.raises(ValueError):
        expectation(sp.exp(w**2), {w: Normal(sp.Integer(1))})
    with pytest.raises(ValueError):
        expectation(sp.Max(0, w), {w: Normal(sp.Integer(1))})


@pytest.mark.parametrize("k, l", [(1, 1), (0, 0), (1, 0)])
@pytest.mark.parametrize("k11, k22, k12", [(1.0, 1.0, 0.3), (2.0, 0.5, -0.8), (1.5, 3.0, 1.9)])
def test_homogeneous_pair_moment_matches_quadrature(k, l, k11, k22, k12):
    """E[u_+^k v_+^l] over the positive quadrant of the bivariate normal density (scipy dblquad)."""
    derived = float(homogeneous_pair_moment(k, l, sp.Float(k11), sp.Float(k22), sp.Float(k12)))
    det = k11 * k22 - k12**2
    density = lambda u, v: np.exp(-(k22 * u**2 - 2 * k12 * u * v + k11 * v**2) / (2 * det)) / (2 * np.pi * np.sqrt(det))  # noqa: E731
    reference, _ = integrate.dblquad(lambda v, u: u**k * v**l * density(u, v), 0, 15, 0, 15, epsabs=1e-12, epsrel=1e-11)
    assert math.isclose(derived, reference, rel_tol=1e-8)


# --- the spec --------------------------------------------------------------------------------------


def test_spec_symbols_and_contract():
    spec = get_network("relu", 3)
    assert [str(s) for s in spec.x] == ["x1", "x2", "x3"] and [str(s) for s in spec.xp] == ["x'1", "x'2", "x'3"]
    assert all(s.is_real for s in spec.x + spec.xp) and spec.sigma_w.is_positive and spec.sigma_b.is_positive
    assert spec.kernel.free_symbols == set(spec.x + spec.xp) | {spec.sigma_w, spec.sigma_b}
    assert spec.trainable == ("W", "b", "v", "c") and spec.normalization_A is None and spec.width_sigma is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.dim = 4  # type: ignore[misc]
    from flowtheory.latex import latex

    assert latex(spec.kernel) in spec._repr_latex_() and "{x'_{1}}" in spec._repr_latex_()


def test_numeric_parameters_equal_substituted_symbolic_kernel():
    symbolic = get_network("cosine", 2)
    numeric = get_network("cosine", 2, sigma_w=1.3)
    assert numeric.sigma_w == sp.Rational(13, 10)
    assert sp.simplify(numeric.kernel - symbolic.kernel.subs(symbolic.sigma_w, sp.Rational(13, 10))) == 0


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, -1, 1.5, True, "2"])
def test_bad_dimension_raises(dim):
    with pytest.raises(InvalidParameterError):
        get_network("cosine", dim)


@pytest.mark.parametrize("sigma_w", [0, -1, -0.5, float("nan"), float("inf"), sp.Symbol("s"), sp.Integer(-2), "1"])
def test_bad_sigma_w_raises(sigma_w):
    with pytest.raises(InvalidParameterError):
        get_network("gauss-net", 2, sigma_w=sigma_w)


@pytest.mark.parametrize("sigma_b", [0, -1, float("nan")])
def test_bad_sigma_b_raises(sigma_b):
    with pytest.raises(InvalidParameterError):
        get_network("relu", 2, sigma_w=1, sigma_b=sigma_b)


def test_unknown_network_and_sigma_b_for_cosine_raise():
    with pytest.raises(InvalidParameterError):
        get_network("tanh", 2)
    with pytest.raises(InvalidParameterError):
        get_network("cosine", 2, sigma_w=1, sigma_b=1)


def test_kernel_jax_with_symbolic_parameters_raises():
    with pytest.raises(InvalidParameterError):
        get_network("cosine", 2).kernel_jax()
