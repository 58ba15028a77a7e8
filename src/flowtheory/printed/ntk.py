"""Sections 2.1–2.3 of the paper *as printed* (eqs 2.1–2.37) — only ever compared against.

Each function rebuilds one printed formula from the same ingredients the derivation uses, so a
proof can compare the two symbolically.  Typos are reproduced literally and flagged in the
docstring; the proofs in ``proofs/metric_ntk.py`` record the corrections.

Conventions of the arguments: ``x`` and ``xp`` are tuples of coordinate symbols (the points x and
x'); a "variation" is the d×d matrix δl/δg_kl at a point; ``dg`` arguments are lists over the
parameters θ_I of d×d matrices ∂g_ij/∂θ_I.
"""

from __future__ import annotations

from typing import Callable, Sequence

import sympy as sp

# --- 2.1 General theory and metric-NTK (eqs 2.1–2.8) -----------------------------------------


def eq_2_5(dg_x: Sequence[sp.Matrix], dg_batch: Sequence[Sequence[sp.Matrix]], variation_batch: Sequence[sp.Matrix]) -> sp.Matrix:
    r"""(2.5): dg_ij(x)/dt = -∂g_ij(x)/∂θ_I Σ_{x'∈B} ∂g_kl(x')/∂θ_I δl(x')/δg_kl(x').

    ``dg_batch[b][I]`` is ∂g/∂θ_I at the b-th batch point, ``variation_batch[b]`` δl/δg there.
    """
    d = dg_x[0].shape[0]
    out = sp.zeros(d, d)
    for I, dgI in enumerate(dg_x):
        inner = sum(
            (sum((dgb[I][k, l] * var[k, l] for k in range(d) for l in range(d)), sp.S.Zero) for dgb, var in zip(dg_batch, variation_batch)),
            sp.S.Zero,
        )
        out -= dgI * inner
    return out


def eq_2_6(dg_x: Sequence[sp.Matrix], dg_xp: Sequence[sp.Matrix], variation_xp: sp.Matrix, density: sp.Expr, limits: Sequence[tuple]) -> sp.Matrix:
    r"""(2.6): dg_ij(x)/dt = -∂g_ij(x)/∂θ_I ∫_X dμ(x') ∂g_kl(x')/∂θ_I δl(x')/δg_kl(x'), dμ = density d^dx'."""
    d = dg_x[0].shape[0]
    out = sp.zeros(d, d)
    for dgI, dgpI in zip(dg_x, dg_xp):
        integrand = density * sum((dgpI[k, l] * variation_xp[k, l] for k in range(d) for l in range(d)), sp.S.Zero)
        out -= dgI * sp.Integral(integrand, *limits)
    return out


def eq_2_7(dg_x: Sequence[sp.Matrix], dg_xp: Sequence[sp.Matrix]) -> sp.ImmutableDenseNDimArray:
    r"""(2.7): Θ_ijkl(x,x') := ∂g_ij(x)/∂θ_I ∂g_kl(x')/∂θ_I (sum over I)."""
    d = dg_x[0].shape[0]
    r = range(d)
    return sp.ImmutableDenseNDimArray(
        [[[[sum((a[i, j] * b[k, l] for a, b in zip(dg_x, dg_xp)), sp.S.Zero) for l in r] for k in r] for j in r] for i in r]
    )


def eq_2_8_discrete(kernel: Callable, variation: Callable, x: tuple, batch: Sequence[tuple]) -> sp.Matrix:
    r"""(2.8), first line: dg_ij(x)/dt = -Σ_{x'∈B} Θ_ijkl(x,x') δl(x')/δg_kl(x')."""
    d = variation(batch[0]).shape[0]
    out = sp.zeros(d, d)
    for xp in batch:
        K, V = kernel(x, xp), variation(xp)
        out -= sp.Matrix(d, d, lambda i, j: sum((K[i, j, k, l] * V[k, l] for k in range(d) for l in range(d)), sp.S.Zero))
    return out


def eq_2_8_continuous(kernel_xxp, variation_xp: sp.Matrix, density: sp.Expr, limits: Sequence[tuple]) -> sp.Matrix:
    r"""(2.8), second line: dg_ij(x)/dt = -∫_X dμ(x') Θ_ijkl(x,x') δl(x')/δg_kl(x')."""
    d = variation_xp.shape[0]
    K, V = kernel_xxp, variation_xp
    return sp.Matrix(
        d, d, lambda i, j: -sp.Integral(density * sum((K[i, j, k, l] * V[k, l] for k in range(d) for l in range(d)), sp.S.Zero), *limits)
    )


# --- 2.2 Infinite NN metric flows (eqs 2.10–2.12) --------------------------------------------


def eq_2_10(g0: sp.Matrix, dg0: Sequence[sp.Matrix], theta: Sequence[sp.Symbol], theta0: Sequence[sp.Expr]) -> sp.Matrix:
    r"""(2.10): g^L_ij(x) := g_ij(x)|_{θ0} + (θ_I − θ_{0,I}) ∂g_ij(x)/∂θ_I|_{θ0}."""
    out = sp.Matrix(g0)
    for t, t0, dg in zip(theta, theta0, dg0):
        out += (t - t0) * dg
    return out


def eq_2_11(dg0_x: Sequence[sp.Matrix], dg0_xp: Sequence[sp.Matrix]) -> sp.ImmutableDenseNDimArray:
    r"""(2.11): Θ^L_ijkl(x,x') = ∂g_ij(x)/∂θ_I|_{θ0} ∂g_kl(x')/∂θ_I|_{θ0} = Θ_ijkl(x,x')|_{θ0}."""
    return eq_2_7(dg0_x, dg0_xp)


#: (2.12) is (2.8) with the frozen kernel Θ̄ in place of Θ.
eq_2_12_discrete = eq_2_8_discrete
eq_2_12_continuous = eq_2_8_continuous


# --- 2.3 Local metric flows (eqs 2.13–2.18) --------------------------------------------------


def eq_2_13_discrete(i: int, j: int, k: int, l: int, same_point: bool, omega_x: sp.Expr) -> sp.Expr:
    r"""(2.13), first line: Θ̄_ijkl(x,x') = δ_{x,x'} δ_ik δ_jl Ω̄(x)."""
    return (1 if same_point else 0) * sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l) * omega_x


def eq_2_13_continuous(i: int, j: int, k: int, l: int, x: tuple, xp: tuple, omega_x: sp.Expr) -> sp.Expr:
    r"""(2.13), second line: Θ̄_ijkl(x,x') = δ(x−x') δ_ik δ_jl Ω̄(x) (δ with respect to dμ)."""
    dirac = sp.Mul(*[sp.DiracDelta(a - b) for a, b in zip(x, xp)])
    return dirac * sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l) * omega_x


def eq_2_14(omega_x: sp.Expr, variation_x: sp.Matrix) -> sp.Matrix:
    r"""(2.14): dg_ij(x)/dt = −Ω̄(x) δl(x)/δg_ij(x)."""
    return -omega_x * sp.Matrix(variation_x)


def eq_2_16(x: tuple, xp: tuple, h_x: sp.Expr, h_xp: sp.Expr, theta_phi: sp.Expr) -> sp.Equality:
    r"""(2.16) as printed: Θ_{Ã}(x,x') = h(x)h(x')Θ_φ(x,x').

    The left side names a network "Ã" that appears nowhere else (garbled subscript).
    """
    return sp.Eq(sp.Function(r"\Theta_{\widetilde{A}}")(*x, *xp), h_x * h_xp * theta_phi)


def text_after_2_16(x: tuple, xp: tuple, h_x: sp.Expr, h_xp: sp.Expr) -> sp.Equality:
    r"""The sentence after (2.16) as printed: Θ̄_φ̃(x,x') = h(x)h(x')Θ̄_φ̃(x,x') (φ̃ on both sides)."""
    bar_phi_tilde = sp.Function(r"\bar{\Theta}_{\tilde{\phi}}")(*x, *xp)
    return sp.Eq(bar_phi_tilde, h_x * h_xp * bar_phi_tilde, evaluate=False)


def eq_2_17(x: tuple, xp: tuple, omega_x: sp.Expr) -> sp.Expr:
    r"""(2.17): Θ_φ(x,x') = δ(x−x') Ω(x)."""
    return sp.Mul(*[sp.DiracDelta(a - b) for a, b in zip(x, xp)]) * omega_x


def eq_2_18(x: tuple, xp: tuple, h_x: sp.Expr, omega_x: sp.Expr) -> sp.Expr:
    r"""(2.18): Θ_φ̃(x,x') = δ(x−x') h²(x) Ω(x)."""
    return sp.Mul(*[sp.DiracDelta(a - b) for a, b in zip(x, xp)]) * h_x**2 * omega_x


# --- 2.3.1 Architecture design for local metric flow (eqs 2.19–2.31) -------------------------


def eq_2_20_coefficient(i: int, j: int, k: int, l: int) -> sp.Expr:
    r"""(2.20): Θ̄_ijkl = δ_ik δ_jl ∂g_ij(x)/∂θ^{ij}_I ∂g_kl(x')/∂θ^{ij}_I — the coefficient δ_ik δ_jl."""
    return sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l)


def eq_2_21_coefficient(i: int, j: int, k: int, l: int) -> sp.Expr:
    r"""(2.21) as printed: Θ̄_ijkl(x,x') = δ_ik δ_il Θ̄^{ij}(x,x') — the coefficient δ_ik δ_il."""
    return sp.KroneckerDelta(i, k) * sp.KroneckerDelta(i, l)


def eq_2_23_coefficient(i: int, j: int, k: int, l: int) -> sp.Expr:
    r"""(2.23): Θ̄_ijkl(x,x') = δ_ik δ_jl Θ̄(x,x') — the coefficient δ_ik δ_jl."""
    return sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l)


def eq_2_26(xp: tuple, ref_det_xp: sp.Expr) -> sp.Expr:
    r"""(2.26): δ_{R^d}(x−x') = √|g̃(x')| δ(x−x') — the factor √|g̃(x')|."""
    return sp.sqrt(sp.Abs(ref_det_xp))


def _gaussian(x: tuple, xp: tuple, sigma: sp.Expr) -> sp.Expr:
    d = len(x)
    r2 = sum(((a - b) ** 2 for a, b in zip(x, xp)), sp.S.Zero)
    return (2 * sp.pi * sigma**2) ** sp.Rational(-d, 2) * sp.exp(-r2 / (2 * sigma**2))


def eq_2_27(x: tuple, xp: tuple, sigma: sp.Expr, alpha: sp.Expr) -> sp.Expr:
    r"""(2.27): Θ̄_σ(x,x') = (2πσ²)^{−d/2} exp(−|x−x'|²/(2σ²)) ᾱ(x,x')."""
    return _gaussian(x, xp, sigma) * alpha


def eq_2_28(x: tuple, xp: tuple, sigma: sp.Expr, ref_det_x: sp.Expr, ref_det_xp: sp.Expr, alpha: sp.Expr) -> sp.Expr:
    r"""(2.28): Θ̄_σ(x,x') = (2πσ²)^{−d/2} (g̃(x)g̃(x'))^{−1/4} exp(−|x−x'|²/(2σ²)) ᾱ(x,x')."""
    return _gaussian(x, xp, sigma) * (ref_det_x * ref_det_xp) ** sp.Rational(-1, 4) * alpha


def eq_2_29_omega(alpha: sp.Expr, x: tuple, xp: tuple) -> sp.Expr:
    r"""(2.29): lim_{σ→0} Θ̄_σ(x,x') = δ(x−x') Ω̄(x) with Ω̄(x) = ᾱ(x,x)."""
    return alpha.subs(dict(zip(xp, x)), simultaneous=True)


def eq_2_30(x: tuple, xp: tuple, sigma: sp.Expr, ref_det_x: sp.Expr, ref_det_xp: sp.Expr, alpha: sp.Expr, variation_ij_xp: sp.Expr) -> sp.Expr:
    r"""(2.30) as printed: dg_ij(x)/dt = −∫ d^dx (g̃(x')/g̃(x))^{1/4} (2πσ²)^{−d/2} e^{−|x−x'|²/2σ²} ᾱ(x,x') δl(x')/δg_ij(x').

    The printed measure is d^dx (the external point), over the chart R^d.
    """
    integrand = (ref_det_xp / ref_det_x) ** sp.Rational(1, 4) * _gaussian(x, xp, sigma) * alpha * variation_ij_xp
    return -sp.Integral(integrand, *[(a, -sp.oo, sp.oo) for a in x])


def eq_2_31(omega_x: sp.Expr, variation_ij_xp: sp.Expr) -> sp.Expr:
    r"""(2.31) as printed: dg_ij(x)/dt = −Ω̄(x) δl(x')/δg_ij(x') (variation evaluated at x')."""
    return -omega_x * variation_ij_xp


# --- 2.3.2 Concrete architectures for local and non-local metric flows (eqs 2.32–2.37) --------


def eq_2_32(x: tuple, a: Sequence[sp.Expr], w: sp.Matrix, b: Sequence[sp.Expr], A: sp.Expr) -> sp.Expr:
    r"""(2.32) as printed: φ(x) = A/√N Σ_{i=1}^N Σ_{j=1}^d a_i cos(w_ij x_j + b_i), width N = len(a).

    Read literally, the sum over j stands outside the cosine (one cosine per input coordinate).
    ``w`` is the N×d matrix of first-layer weights.
    """
    n, d = len(a), len(x)
    return A / sp.sqrt(n) * sp.Add(*[a[i] * sp.cos(w[i, j] * x[j] + b[i]) for i in range(n) for j in range(d)])


def eq_2_32_laws(sigma_a: sp.Expr, sigma_w: sp.Expr, d: int | sp.Expr) -> dict:
    r"""(2.32) as printed: a ~ N(0, σ_a²), w ~ N(0, σ_w²/d), b ~ U(−π, π) (sympy.stats random symbols)."""
    from sympy import stats

    return {
        "a": stats.Normal("a", 0, sigma_a),
        "w": stats.Normal("w", 0, sigma_w / sp.sqrt(d)),
        "b": stats.Uniform("b", -sp.pi, sp.pi),
    }


def eq_2_33(x: tuple, xp: tuple, w: sp.Matrix, b: Sequence[sp.Expr], A: sp.Expr) -> sp.Expr:
    r"""(2.33) as printed: Θ(x,x') = A²/N Σ_{k=1}^N Σ_{j=1}^d cos(w_kj x_j + b_k) cos(w_kj x'_j + b_k).

    For the literal (2.32) this drops the cross terms j ≠ l of (Σ_j cos(w_kj x_j + b_k))(Σ_l cos(w_kl x'_l + b_k)).
    """
    n, d = len(b), len(x)
    return A**2 / n * sp.Add(*[sp.cos(w[k, j] * x[j] + b[k]) * sp.cos(w[k, j] * xp[j] + b[k]) for k in range(n) for j in range(d)])


def eq_2_34_integrand(x: tuple, xp: tuple, w_row: Sequence[sp.Expr], b: sp.Expr, A: sp.Expr) -> sp.Expr:
    r"""(2.34) as printed: Θ̄(x,x') = A² E[cos(w_kj x_j + b_k) cos(w_kj x'_j + b_k)] — the quantity under E.

    The index j is repeated inside each cosine; with the summation convention it is summed there:
    A² cos(Σ_j w_j x_j + b) cos(Σ_j w_j x'_j + b) for one unit (w_row, b).
    """
    return A**2 * sp.cos(sp.Add(*[wj * xj for wj, xj in zip(w_row, x)]) + b) * sp.cos(
        sp.Add(*[wj * xj for wj, xj in zip(w_row, xp)]) + b
    )


def eq_2_35(x: tuple, xp: tuple, A: sp.Expr, sigma_w: sp.Expr) -> sp.Expr:
    r"""(2.35) as printed: Θ̄(x,x') = A²/2 exp(−½ (σ_w²/d) |x − x'|²), d = len(x)."""
    d = len(x)
    r2 = sp.Add(*[(a - b) ** 2 for a, b in zip(x, xp)])
    return A**2 / 2 * sp.exp(-sp.Rational(1, 2) * sigma_w**2 / d * r2)


def eq_2_36(sigma_w: sp.Expr, d: int | sp.Expr) -> sp.Expr:
    r"""(2.36) as printed: A = 2^{1/4} (σ_w/√(2π d))^{d/4}."""
    return 2 ** sp.Rational(1, 4) * (sigma_w / sp.sqrt(2 * sp.pi * d)) ** (sp.sympify(d) / 4)


def eq_2_37(sigma_w: sp.Expr, d: int | sp.Expr) -> sp.Expr:
    r"""(2.37) as printed: σ = √d / σ_w."""
    return sp.sqrt(d) / sigma_w
