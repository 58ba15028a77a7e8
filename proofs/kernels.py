r"""Frozen NTKs of the concrete architectures of section 2.3.2 (eqs 2.32–2.37) and of a ReLU network.

* ``kernel-cosine-rff`` (2.32)–(2.35): with the sum over :math:`j` *inside* the cosine (random
  Fourier features; the reading (2.34) implies by the summation convention) the frozen NTK is the
  printed Gaussian (2.35).  This is the reading of (2.32) that gives (2.35).
* ``kernel-cosine-literal`` (2.32)–(2.33): (2.32) read literally (sum over :math:`j` outside the
  cosine).  Its NTK keeps cross terms :math:`j \ne l` that the printed (2.33) drops, and its
  :math:`N\to\infty` limit is not a Gaussian in :math:`x - x'` for :math:`d > 1`.
* ``kernel-cosine-normalisation`` (2.36)–(2.37): the normalisation :math:`A` and width
  :math:`\sigma` that make (2.35) the normalised Gaussian (2.27).  The printed :math:`A` is the
  square root of the correct one.
* ``kernel-gauss-net`` (text after 2.37): the exponential (Gauss-net) network, its feature
  normaliser, :math:`A` and :math:`\sigma`.
* ``kernel-relu``: the one-hidden-layer ReLU NTK and NNGP against the closed-form arc-cosine
  kernels of Cho & Saul (2009) and the NTK recursion of Jacot et al. (2018), written out in numpy
  (``tests/test_networks.py`` compares the same kernels with neural-tangents' ``kernel_fn``).

Every Monte-Carlo check samples one hidden unit's parameters (``N_SAMPLES`` i.i.d. draws, fixed
``jax.random`` key) and tests :math:`|\hat\mu - \bar\Theta/A^2| \le z\,\mathrm{SE}` at every point
pair, :math:`z` Bonferroni-corrected for a failure probability of :data:`FAILURE_PROBABILITY` per
proof.  The unit terms are bounded (cosines) or log-normal with log-variance below 1 (Gauss-net at
the chosen points), so with ``N_SAMPLES = 200_000`` the mean is normal to high accuracy.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from flowtheory.exact import evaluate, max_deviation, random_rational_points
from flowtheory.networks import (
    SIGMA_B,
    SIGMA_W,
    Normal,
    Uniform,
    cosine_kernel_unnormalised,
    expectation,
    gauss_net_parts,
    get_network,
    input_symbols,
    normalise_gaussian,
    relu_kernels,
)
from flowtheory.printed import ntk as printed
from flowtheory.proof import Check, Outcome, proof

FAILURE_PROBABILITY = 1e-3
N_SAMPLES = 200_000
DIMS = (1, 2, 3, 4)
JAX_TOLERANCE = 1e-12  # float64 JAX vs 30-digit sympy, kernels of order 1
A = sp.Symbol("A", positive=True)


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    """Symbolic equality of two expressions (difference simplifies to 0, or their ratio's log does)."""
    if sp.simplify(a - b) == 0:
        return True
    return sp.simplify(sp.expand(sp.expand_log(sp.log(a) - sp.log(b), force=True))) == 0


def _jax_check(name: str, dim: int, seed: int, **params) -> Check:
    from flowtheory.bridge import compiled_deviation

    compiled = get_network(name, dim, **params).kernel_jax()
    points = random_rational_points(compiled.args, 12, seed=seed, low=-1.5, high=1.5)
    return Check(f"{name}, d={dim}, {params}: |JAX float64 − sympy (30 digits)| at 12 rational points",
                 compiled_deviation(compiled, points), JAX_TOLERANCE)


def _pairs(dim: int, n: int, scale: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((n, dim)), scale * rng.standard_normal((n, dim))


def _mc_check(label: str, unit_products: np.ndarray, exact: np.ndarray) -> Check:
    """``unit_products``: (N_SAMPLES, n_pairs) i.i.d. draws of the unit term; ``exact``: (n_pairs,)."""
    from numerics.stats import mean_estimate, z_scores, z_value

    estimate = mean_estimate(unit_products)
    z = z_value(FAILURE_PROBABILITY, exact.size)
    worst = float(np.max(z_scores(estimate, exact)))
    return Check(f"{label}: max |MC mean − derived|/SE over {exact.size} pairs ({N_SAMPLES} draws)", worst, z)


def _evaluate(expr: sp.Expr, x, xp, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    fn = sp.lambdify(x + xp, expr, modules="numpy")
    return np.array([float(fn(*a, *b)) for a, b in zip(X, Y)])


def _cosine_unit_parameters(key, dim: int, sigma_w: float) -> tuple[np.ndarray, np.ndarray]:
    """N_SAMPLES draws of one cosine unit's (w, b): w ~ N(0, σ_w²/d) per component, b ~ U(−π, π)."""
    import jax

    kw, kb = jax.random.split(key)
    w = np.asarray(jax.random.normal(kw, (N_SAMPLES, dim))) * sigma_w / np.sqrt(dim)
    b = np.asarray(jax.random.uniform(kb, (N_SAMPLES,), minval=-np.pi, maxval=np.pi))
    return w, b


def _quadrature_check(name: str, dim: int, **params) -> Check:
    r"""|∫ Θ̄(x, x') d^dx' − 1| by the trapezoid rule on a uniform grid of ±12σ around x (spectrally
    accurate for a smooth, rapidly decaying integrand), x a fixed off-centre point."""
    import jax
    import jax.numpy as jnp

    spec = get_network(name, dim, **params)
    sigma = float(spec.width_sigma)
    fn = spec.kernel_jax().fn
    x = np.linspace(0.3, -0.2, dim)
    grids = [np.linspace(c - 12 * sigma, c + 12 * sigma, 401) for c in x]
    mesh = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, dim)
    values = jax.jit(jax.vmap(lambda y: fn(*x, *y)))(jnp.asarray(mesh))
    h = np.prod([g[1] - g[0] for g in grids])
    integral = float(jnp.sum(values)) * h  # end points are ~exp(-72): trapezoid = plain sum
    return Check(f"{name}, d={dim}, {params}: |∫ Θ̄(x,x') d^dx' − 1| (trapezoid, 401^{dim} nodes)", abs(integral - 1), 1e-10)


# --------------------------------------------------------------------------------------------


@proof(
    id="kernel-cosine-rff",
    title="Cosine network, Fourier-feature reading of (2.32): the frozen NTK is the Gaussian (2.35)",
    equations=("2.32", "2.34", "2.35"),
)
def cosine_rff() -> Outcome:
    import jax

    from sympy import stats

    symbolic = {}
    for d in DIMS:
        spec_laws = dict(get_network("cosine", d).laws)
        printed_laws = printed.eq_2_32_laws(sp.Symbol("sigma_a", positive=True), SIGMA_W, d)
        symbolic[f"d={d}: the spec's laws of a, w, b are those printed with (2.32)"] = all(
            sp.simplify(stats.E(printed_laws[p]) - spec_laws[p].mean) == 0
            and sp.simplify(stats.variance(printed_laws[p]) - spec_laws[p].variance) == 0
            for p in ("a", "w", "b")
        )
        x, xp = input_symbols(d)
        derived = A**2 * cosine_kernel_unnormalised(d, literal=False)
        symbolic[f"d={d}: A² E[cos(w·x+b) cos(w·x'+b)] = printed (2.35)"] = _same(derived, printed.eq_2_35(x, xp, A, SIGMA_W))
        if d == 4:
            continue  # the (2.34) reading below is shown for d <= 3
        w = sp.symbols(f"w1:{d + 1}", real=True)
        b = sp.Symbol("b", real=True)
        laws = {**{wj: Normal(SIGMA_W**2 / d) for wj in w}, b: Uniform(-sp.pi, sp.pi)}
        symbolic[f"d={d}: printed (2.34), j summed inside the cosine, has the same expectation"] = _same(
            expectation(printed.eq_2_34_integrand(x, xp, w, b, A), laws), derived
        )
    d, sigma_w = 3, 1.7
    x, xp = input_symbols(d)
    X, Y = _pairs(d, 6, 0.8, seed=11)
    w, b = _cosine_unit_parameters(jax.random.PRNGKey(1), d, sigma_w)
    products = np.cos(w @ X.T + b[:, None]) * np.cos(w @ Y.T + b[:, None])
    exact = _evaluate(cosine_kernel_unnormalised(d, False).subs(SIGMA_W, sp.Rational("1.7")), x, xp, X, Y)
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\bar\Theta(x,x')"), A**2 * cosine_kernel_unnormalised(d, False)),
        printed=printed.eq_2_35(x, xp, A, SIGMA_W),
        matches_print=all(symbolic.values()),
        checks=(
            _mc_check(f"E[cos(w·x+b)cos(w·x'+b)], d={d}, σ_w={sigma_w}", products, exact),
            _jax_check("cosine", 2, seed=1, sigma_w=sp.Rational(3, 2)),
            _jax_check("cosine", 4, seed=2, sigma_w=3),
        ),
        symbolic_checks=symbolic,
    )


def _literal_closed_form(x, xp) -> sp.Expr:
    r""":math:`\frac12[\sum_j e^{-s(x_j-x'_j)^2} + \sum_{j\ne l} e^{-s(x_j^2+x_l'^2)}]`, :math:`s = \sigma_w^2/(2d)`."""
    d = len(x)
    s = SIGMA_W**2 / (2 * d)
    diagonal = sp.Add(*[sp.exp(-s * (x[j] - xp[j]) ** 2) for j in range(d)])
    cross = sp.Add(*[sp.exp(-s * (x[j] ** 2 + xp[l] ** 2)) for j in range(d) for l in range(d) if j != l])
    return (diagonal + cross) / 2


@proof(
    id="kernel-cosine-literal",
    title="Cosine network, (2.32) read literally: (2.33) drops cross terms; the limit is not (2.35) for d > 1",
    equations=("2.32", "2.33", "2.35"),
)
def cosine_literal() -> Outcome:
    import jax

    n, d = 2, 2
    x, xp = input_symbols(d)
    a = sp.symbols(f"a1:{n + 1}", real=True)
    bs = sp.symbols(f"b1:{n + 1}", real=True)
    w = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"w{i + 1}{j + 1}", real=True))
    phi_x, phi_xp = printed.eq_2_32(x, a, w, bs, A), printed.eq_2_32(xp, a, w, bs, A)
    finite_ntk = sp.expand(sp.Add(*[sp.diff(phi_x, ak) * sp.diff(phi_xp, ak) for ak in a]))
    printed_ntk = sp.expand(printed.eq_2_33(x, xp, w, bs, A))
    cross = sp.expand(A**2 / n * sp.Add(*[
        sp.cos(w[k, j] * x[j] + bs[k]) * sp.cos(w[k, l] * xp[l] + bs[k]) for k in range(n) for j in range(d) for l in range(d) if j != l
    ]))
    symbolic = {
        "N=2, d=2: Σ_k ∂φ/∂a_k(x) ∂φ/∂a_k(x') − printed (2.33) = the cross terms j ≠ l": sp.expand(finite_ntk - printed_ntk - cross) == 0,
        "the cross terms are not identically zero": cross != 0,
    }
    for dd in (1, 2, 3):
        xd, xpd = input_symbols(dd)
        literal = cosine_kernel_unnormalised(dd, literal=True)
        symbolic[f"d={dd}: E[Σ_j cos(w_j x_j+b) Σ_l cos(w_l x'_l+b)] = closed form with cross terms"] = _same(literal, _literal_closed_form(xd, xpd))
        is_gaussian = normalise_gaussian(literal, xd, xpd) is not None
        symbolic[f"d={dd}: the literal kernel is a Gaussian in x − x' exactly when d = 1"] = is_gaussian == (dd == 1)
    x1, xp1 = input_symbols(1)
    symbolic["d=1: literal and Fourier-feature readings coincide"] = _same(
        cosine_kernel_unnormalised(1, True), cosine_kernel_unnormalised(1, False)
    )
    # The N -> oo limit of the printed (2.33) itself: A^2/2 Σ_j exp(-s (x_j - x'_j)^2), a sum, not (2.35).
    wr = sp.symbols(f"w1:{d + 1}", real=True)
    b = sp.Symbol("b", real=True)
    laws = {**{wj: Normal(SIGMA_W**2 / d) for wj in wr}, b: Uniform(-sp.pi, sp.pi)}
    printed_limit = expectation(A**2 * sp.Add(*[sp.cos(wr[j] * x[j] + b) * sp.cos(wr[j] * xp[j] + b) for j in range(d)]), laws)
    symbolic["d=2: the N→∞ limit of printed (2.33) is not (2.35) either"] = not _same(printed_limit, printed.eq_2_35(x, xp, A, SIGMA_W))

    sigma_w = 2.0
    X, Y = _pairs(d, 6, 0.7, seed=12)
    wv, bv = _cosine_unit_parameters(jax.random.PRNGKey(2), d, sigma_w)
    def feature(P):  # Σ_j cos(w_j x_j + b) per draw and point: (N_SAMPLES, n_pairs)
        return np.cos(wv[:, None, :] * P[None, :, :] + bv[:, None, None]).sum(axis=-1)

    products = feature(X) * feature(Y)
    exact = _evaluate(cosine_kernel_unnormalised(d, True).subs(SIGMA_W, 2), x, xp, X, Y)
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\bar\Theta(x,x')"), A**2 * cosine_kernel_unnormalised(2, True)),
        printed=printed_ntk,
        matches_print=False,
        correction=(
            "For (2.32) read literally, φ = A/√N Σ_i a_i Σ_j cos(w_ij x_j + b_i), (2.33) must read "
            "Θ = A²/N Σ_k Σ_j Σ_l cos(w_kj x_j + b_k) cos(w_kl x'_l + b_k): the printed form drops the terms j ≠ l. "
            "Its N→∞ limit is Θ̄ = A²/2 [Σ_j exp(−σ_w²(x_j − x'_j)²/(2d)) + Σ_{j≠l} exp(−σ_w²(x_j² + x'_l²)/(2d))], "
            "which is not a Gaussian in x − x' (nor translation invariant) for d > 1 and equals (2.35) only for d = 1. "
            "(2.35) holds for the reading with the sum inside the cosine, φ = A/√N Σ_i a_i cos(Σ_j w_ij x_j + b_i), "
            "for which (2.33) reads A²/N Σ_k cos(Σ_j w_kj x_j + b_k) cos(Σ_j w_kj x'_j + b_k)."
        ),
        checks=(
            _mc_check(f"E[Σ_j cos(w_j x_j+b) Σ_l cos(w_l x'_l+b)], d={d}, σ_w={sigma_w}", products, exact),
            _jax_check("cosine-literal", 2, seed=3, sigma_w=2),
            _jax_check("cosine-literal", 3, seed=4, sigma_w=sp.Rational(1, 2)),
        ),
        symbolic_checks=symbolic,
    )


@proof(
    id="kernel-cosine-normalisation",
    title="Normalisation A and width σ of the Gaussian cosine NTK: printed (2.36) is the square root of A",
    equations=("2.35", "2.36", "2.37"),
    depends_on=("kernel-cosine-rff",),
)
def cosine_normalisation() -> Outcome:
    symbolic = {}
    derived_a = {}
    for d in DIMS:
        spec = get_network("cosine", d)
        derived_a[d] = spec.normalization_A
        printed_a, printed_sigma = printed.eq_2_36(SIGMA_W, d), printed.eq_2_37(SIGMA_W, d)
        symbolic[f"d={d}: derived σ = printed (2.37)"] = _same(spec.width_sigma, printed_sigma)
        symbolic[f"d={d}: derived A = (printed A)², i.e. (2.36) solves A⁴/2 = (σ_w/√(2πd))^d"] = _same(spec.normalization_A, printed_a**2)
        symbolic[f"d={d}: A²/2 = (σ_w/√(2πd))^d"] = _same(spec.normalization_A**2 / 2, (SIGMA_W / sp.sqrt(2 * sp.pi * d)) ** d)
        x, xp = input_symbols(d)
        symbolic[f"d={d}: (2.35) with the derived A is the normalised Gaussian (2.27) of width (2.37), ᾱ = 1"] = _same(
            printed.eq_2_35(x, xp, spec.normalization_A, SIGMA_W), printed.eq_2_27(x, xp, printed_sigma, 1)
        )
    # The printed A does not normalise: with it, ∫ Θ̄ d^dx' = (printed A)²/A² = 1/(printed A).
    printed_mass = sp.simplify(printed.eq_2_36(SIGMA_W, 2) ** 2 / derived_a[2] ** 2)
    symbolic[f"d=2: with printed (2.36), ∫ Θ̄ d^dx' = {printed_mass} ≠ 1 (at σ_w = 3: {float(printed_mass.subs(SIGMA_W, 3)):.4f})"] = bool(
        abs(float(printed_mass.subs(SIGMA_W, 3)) - 1) > 0.1
    )
    a_general = sp.sqrt(2) * (SIGMA_W / sp.sqrt(2 * sp.pi * sp.Symbol("d"))) ** (sp.Symbol("d") / 2)
    return Outcome(
        derived=sp.Eq(sp.Symbol("A"), a_general),
        printed=sp.Eq(sp.Symbol("A"), printed.eq_2_36(SIGMA_W, sp.Symbol("d"))),
        matches_print=False,
        correction=(
            "(2.36) must read A = √2 (σ_w/√(2πd))^{d/2}, the square of the printed value (the print solves "
            "A⁴/2 = (σ_w/√(2πd))^d instead of A²/2 = (σ_w/√(2πd))^d). Then Θ̄ = (2πσ²)^{-d/2} exp(−|x−x'|²/(2σ²)) "
            "with σ = √d/σ_w as printed in (2.37)."
        ),
        checks=(
            _quadrature_check("cosine", 1, sigma_w=3),
            _quadrature_check("cosine", 2, sigma_w=sp.Rational(5, 2)),
        ),
        symbolic_checks=symbolic,
    )


@proof(
    id="kernel-gauss-net",
    title="Gauss-net (exponential network after 2.37): a normalised Gaussian NTK of width √d/σ_w, independent of σ_b",
    equations=("2.27", "2.37"),
)
def gauss_net() -> Outcome:
    import jax

    symbolic = {}
    for d in DIMS:
        x, xp = input_symbols(d)
        spec = get_network("gauss-net", d)
        normaliser, raw = gauss_net_parts(d)
        r2 = sp.Add(*[xi**2 for xi in x])
        symbolic[f"d={d}: D(x) = sqrt(E[exp(2(w·x+b))]) = exp(σ_b² + σ_w²|x|²/d)"] = _same(normaliser, sp.exp(SIGMA_B**2 + SIGMA_W**2 * r2 / d))
        symbolic[f"d={d}: Θ̄/A² = exp(−σ_w²|x−x'|²/(2d)), independent of σ_b"] = SIGMA_B not in raw.free_symbols and _same(
            raw, sp.exp(-(SIGMA_W**2) * sp.Add(*[(a - b) ** 2 for a, b in zip(x, xp)]) / (2 * d))
        )
        symbolic[f"d={d}: A² = (σ_w/√(2πd))^d (half the cosine network's A²)"] = _same(
            spec.normalization_A**2, (SIGMA_W / sp.sqrt(2 * sp.pi * d)) ** d
        )
        symbolic[f"d={d}: σ = √d/σ_w, as (2.37)"] = _same(spec.width_sigma, printed.eq_2_37(SIGMA_W, d))
        symbolic[f"d={d}: Θ̄ is the normalised Gaussian (2.27), ᾱ = 1"] = _same(spec.kernel, printed.eq_2_27(x, xp, spec.width_sigma, 1))

    d, sigma_w, sigma_b = 2, 1.0, 0.3
    x, xp = input_symbols(d)
    X, Y = _pairs(d, 6, 0.4, seed=13)
    kw, kb = jax.random.split(jax.random.PRNGKey(3))
    wv = np.asarray(jax.random.normal(kw, (N_SAMPLES, d))) * sigma_w / np.sqrt(d)
    bv = np.asarray(jax.random.normal(kb, (N_SAMPLES,))) * sigma_b
    normaliser, raw = gauss_net_parts(d)
    values = {SIGMA_W: 1, SIGMA_B: sp.Rational(3, 10)}
    D = sp.lambdify(x, normaliser.subs(values), modules="numpy")
    DX, DY = (np.array([D(*p) for p in P]) for P in (X, Y))
    products = np.exp(wv @ X.T + bv[:, None]) / DX * np.exp(wv @ Y.T + bv[:, None]) / DY
    exact = _evaluate(raw.subs(values), x, xp, X, Y)
    second_moment = np.exp(2 * (wv @ X.T + bv[:, None])) / DX**2
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\bar\Theta(x,x')"), get_network("gauss-net", 2).kernel),
        printed=None,
        matches_print=True,
        checks=(
            _mc_check(f"E[e^(w·x+b) e^(w·x'+b)]/(D(x)D(x')), d={d}, σ_w={sigma_w}, σ_b={sigma_b}", products, exact),
            _mc_check(f"E[e^(2(w·x+b))]/D(x)² = 1, d={d}", second_moment, np.ones(len(X))),
            _quadrature_check("gauss-net", 1, sigma_w=2, sigma_b=1),
            _quadrature_check("gauss-net", 2, sigma_w=sp.Rational(3, 2), sigma_b=sp.Rational(1, 2)),
            _jax_check("gauss-net", 3, seed=5, sigma_w=2, sigma_b=1),
        ),
        symbolic_checks=symbolic,
    )


RELU_CASES = ((1.3, 0.7, 1), (0.5, 2.0, 2), (2.0, 0.1, 3), (1.0, 1.0, 4))
NEAR_DIAGONAL = (1e-3, 1e-5, 1e-7)


def arccos_kernels(X: np.ndarray, Y: np.ndarray, sigma_w: float, sigma_b: float) -> tuple[np.ndarray, np.ndarray]:
    r"""NNGP and NTK Gram matrices of ``Dense(σ_w, σ_b) → ReLU → Dense(1, σ_w, σ_b)`` in closed form.

    An independent numpy route to the kernels that :func:`flowtheory.networks.relu_kernels` derives:
    with :math:`K(x,x') = \sigma_w^2\,x\cdot x'/d + \sigma_b^2` and the angle
    :math:`	heta = rccosig(K(x,x')/\sqrt{K(x,x)K(x',x')}ig)`, the arc-cosine kernels of
    Cho & Saul (2009) give :math:`\mathbb E[\mathrm{relu}(u)\mathrm{relu}(v)] =
    \sqrt{K(x,x)K(x',x')}\,(\sin	heta + (\pi-	heta)\cos	heta)/(2\pi)` and
    :math:`\mathbb E[\mathrm{step}(u)\mathrm{step}(v)] = (\pi-	heta)/(2\pi)`, and the NTK recursion of
    Jacot et al. (2018) gives NNGP :math:`= \sigma_w^2\,\mathbb E[\mathrm{relu}\,\mathrm{relu}] + \sigma_b^2`
    and NTK :math:`=` NNGP :math:`+ \sigma_w^2\,\mathbb E[\mathrm{step}\,\mathrm{step}]\,K(x,x')`.
    Identical inputs get :math:`	heta = 0` exactly (``arccos`` of a rounded 1 would not).

    >>> nngp, ntk = arccos_kernels(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), 1.0, 0.0)
    >>> np.allclose(nngp, [[1 / 4, 1 / (4 * np.pi)]]), np.allclose(ntk, [[1 / 2, 1 / (4 * np.pi)]])
    (True, True)
    """
    d = X.shape[1]
    k12 = sigma_w**2 * (X @ Y.T) / d + sigma_b**2
    k11 = sigma_w**2 * np.sum(X * X, axis=1) / d + sigma_b**2
    k22 = sigma_w**2 * np.sum(Y * Y, axis=1) / d + sigma_b**2
    norms = np.sqrt(np.outer(k11, k22))
    same = np.all(X[:, None, :] == Y[None, :, :], axis=-1)
    theta = np.where(same, 0.0, np.arccos(np.clip(k12 / norms, -1.0, 1.0)))
    relu_moment = norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
    step_moment = (np.pi - theta) / (2 * np.pi)
    nngp = sigma_w**2 * relu_moment + sigma_b**2
    return nngp, nngp + sigma_w**2 * step_moment * k12


@proof(
    id="kernel-relu",
    title="One-hidden-layer ReLU network (NTK parameterisation): derived NTK and NNGP = closed-form arc-cosine kernels",
    equations=("2.9",),
)
def relu() -> Outcome:
    r"""Random inputs and x' = x are compared with :func:`arccos_kernels` at 1e-12 on the scale
    √(Θ(x,x)Θ(x',x')) (the kernel changes sign, so |Θ(x,x')| itself is no scale).  Nearly parallel
    inputs x' = (1 + ε)x are compared with 30-digit sympy instead: there ``arccos`` of a rounded
    cosine loses digits (relative error ~ 1e-16/√ε), while the derived kernel enters the angle as
    atan2(√det K, K12) with det K a manifest sum of squares and stays at rounding level."""
    import jax
    import jax.numpy as jnp

    from flowtheory.bridge import to_jax

    checks = []
    for sigma_w, sigma_b, d in RELU_CASES:
        spec = get_network("relu", d, sigma_w, sigma_b)
        rng = np.random.default_rng(d)
        X = rng.standard_normal((6, d))
        Y = np.concatenate([rng.standard_normal((5, d)), X[:2]])  # includes x' = x
        ref_nngp, ref_ntk = arccos_kernels(X, Y, sigma_w, sigma_b)
        for label, expr, ref in (("NTK", spec.kernel, ref_ntk), ("NNGP", spec.nngp, ref_nngp)):
            fn = to_jax(expr, spec.x + spec.xp).fn
            ours = jax.vmap(lambda a: jax.vmap(lambda b: fn(*a, *b))(jnp.asarray(Y)))(jnp.asarray(X))
            diag_x, diag_y = (jax.vmap(lambda a: fn(*a, *a))(jnp.asarray(P)) for P in (X, Y))
            scale = np.sqrt(np.outer(diag_x, diag_y))  # bounds |Θ(x,x')| (Cauchy–Schwarz)
            err = float(np.max(np.abs(np.asarray(ours) - np.asarray(ref)) / scale))
            checks.append(Check(f"{label} vs closed-form arc-cosine kernel, σ_w={sigma_w}, σ_b={sigma_b}, d={d}: max |Δ|/√(Θ(x,x)Θ(x',x'))", err, 1e-12))
        if d == 3:
            fn = spec.kernel_jax()
            worst = 0.0
            for eps in NEAR_DIAGONAL:
                point = [sp.Float(v, 40) for v in (*X[0], *(X[0] * (1 + eps)))]
                exact = evaluate(spec.kernel, dict(zip(spec.x + spec.xp, point))).real
                worst = max(worst, abs(float(fn(*map(float, point))) - exact) / abs(exact))
            checks.append(Check(f"NTK at x' = (1+ε)x, ε ∈ {NEAR_DIAGONAL}, d={d}: max rel. error vs 30-digit sympy", worst, 1e-14))

    # The angle: atan2(sqrt(det K), K12) = arccos(K12/sqrt(K11 K22)) (30-digit sympy at random rational points).
    d = 2
    nngp, ntk, (k11, k22, k12) = relu_kernels(d)
    (angle,) = ntk.atoms(sp.atan2)
    x, xp = input_symbols(d)
    gap = angle - sp.acos(k12 / sp.sqrt(k11 * k22))
    # inputs in [−0.9, 1], σ_w and σ_b in [0.1, 2] (away from σ = 0)
    points = random_rational_points((*x, *xp, SIGMA_W, SIGMA_B), 8, seed=7, low=0.1, high=2.0, ranges={s: (-0.9, 1.0) for s in x + xp})
    worst = max_deviation(gap, 0, points)
    checks.append(Check("|atan2(√det K, K12) − arccos(K12/√(K11K22))| at 8 rational points (30 digits)", worst, 1e-25))
    symbolic = {
        "d=2: NTK = NNGP + σ_w² (π − θ)/(2π) K(x,x') (the NTK recursion with the arc-cosine step moment)": sp.simplify(
            ntk - nngp - SIGMA_W**2 * (sp.pi - angle) / (2 * sp.pi) * k12
        ) == 0,
    }
    return Outcome(
        derived=sp.Eq(sp.Symbol(r"\bar\Theta(x,x')"), get_network("relu", 2).kernel),
        printed=None,
        matches_print=True,
        checks=tuple(checks),
        symbolic_checks=symbolic,
    )
