r"""Section 2.4 and appendix B of the paper *as printed* (eqs 2.38–2.42, B.1–B.21) — only compared against.

Each function rebuilds one printed formula from the ingredients the derivation uses (curvature
matrices, a ``ddbar`` operator, the potential), reproducing typos literally; the docstring quotes the
print and flags what is odd.  The proofs in ``proofs/functionals*.py`` derive the correct forms and
record the corrections.

Argument conventions: Riemannian tensors are ``n x n`` matrices (``ric`` = :math:`R_{ij}`, ``hess`` =
:math:`\nabla_i\nabla_j\phi`); Kähler tensors are ``n x n`` matrices indexed :math:`[a, \bar b]`;
``ddbar(f)`` returns the matrix :math:`\partial_a\partial_{\bar b}f`; ``ginv`` is the inverse of the
matrix :math:`g_{a\bar b}`, so :math:`g^{a\bar b}X_{a\bar b} = \mathrm{tr}(g^{-1}X)`.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

Matrix = sp.MatrixBase
DDbar = Callable[[sp.Expr], sp.MatrixBase]


def _tr(ginv: Matrix, X: Matrix) -> sp.Expr:
    return (ginv * X).trace()


# --- section 2.4 ------------------------------------------------------------------------------


def eq_2_38(u: Matrix) -> Matrix:
    r"""(2.38): dg_ij(x)/dt = −u_ij(x)."""
    return -u


def eq_2_39(ric: Matrix) -> Matrix:
    r"""(2.39) Ricci flow: dg_ij(x)/dt = −2R_ij(x)."""
    return -2 * ric


def eq_2_40(ric: Matrix, hess: Matrix) -> dict:
    r"""(2.40): dg_ij/dt = δF[φ,g]/δg_ii(x) = −2[R_ij + ∇_i∇_j φ].

    Printed with the index typo ``δg_ii``; it states both that the variation δF/δg equals
    −2[R + ∇∇φ] and that the flow equals that variation.
    """
    value = -2 * (ric + hess)
    return {"variation": value, "flow": value}


def eq_2_41(R: sp.Expr, grad_phi_sq: sp.Expr, phi: sp.Expr, volume_density: sp.Expr) -> sp.Expr:
    r"""(2.41): F[φ,g] = ∫_X (R + |∇φ|²) e^{−φ} dV — returned as the density in dⁿx."""
    return (R + grad_phi_sq) * sp.exp(-phi) * volume_density


def eq_2_42(F: sp.Expr, omega_bar: sp.Expr) -> sp.Expr:
    r"""(2.42): l(x) = −F[φ,g]/Ω̄(x) (a pointwise loss written with the functional F)."""
    return -F / omega_bar


# --- appendix B -------------------------------------------------------------------------------


def eq_B_1(K: sp.Expr, ddbar: DDbar) -> Matrix:
    r"""(B.1): g_{a b̄} = ∂_a ∂̄_b̄ K."""
    return ddbar(K)


def eq_B_2(g: Matrix) -> Matrix:
    r"""(B.2): J = (i/2) g_{a b̄} dz^a ∧ dz̄^b̄ — returned as the coefficient matrix of dz^a ∧ dz̄^b."""
    return sp.I / 2 * g


def eq_B_3(g: Matrix, ddbar: DDbar) -> Matrix:
    r"""(B.3): R_{a b̄} = −∂_a ∂̄_b̄ ln g, g = det(g_{a b̄})."""
    return -ddbar(sp.log(g.det()))


def eq_B_4(g: Matrix, ddbar: DDbar) -> Matrix:
    r"""(B.4): dg_{a b̄}/dt = ∂_a ∂̄_b̄ ln g ("inserting (B.3) in Hamilton's formulation")."""
    return ddbar(sp.log(g.det()))


def eq_B_6(g0: Matrix, K0: sp.Expr, phi: sp.Expr, ddbar: DDbar) -> dict:
    r"""(B.6): g_{a b̄}(t) = g_{0,a b̄} + (i/2π) ∂∂̄φ(t) = ∂_a ∂̄_b̄ (K_0 + (i/2π) φ(t))."""
    return {"first": g0 + sp.I / (2 * sp.pi) * ddbar(phi), "second": ddbar(K0 + sp.I / (2 * sp.pi) * phi)}


def eq_B_7(R: sp.Expr, Jn: sp.Expr) -> sp.Expr:
    r"""(B.7): E_Calabi = ∫_X R² J^n — density."""
    return R**2 * Jn


def eq_B_8(g: Matrix, ginv: Matrix, ric: Matrix, R: sp.Expr, ddbar: DDbar) -> dict:
    r"""(B.8): dg_{a b̄}/dt = ∂_a ∂̄_b̄ R,  R = g^{a b̄} R_{a b̄} = g^{a b̄} ∂_a ∂̄_b̄ ln g."""
    return {
        "flow": ddbar(R),
        "R_trace": _tr(ginv, ric),
        "R_printed": _tr(ginv, ddbar(sp.log(g.det()))),
    }


def eq_B_9(g: Matrix, ginv: Matrix, ddbar: DDbar) -> dict:
    r"""(B.9): dφ/dt = g^{a b̄} ∂_a ∂̄_b̄ ln g = Δ ln[det(g_{0,c d̄} + ∂_c ∂̄_d̄ φ)]."""
    value = _tr(ginv, ddbar(sp.log(g.det())))
    return {"flow": value, "laplacian_form": value}


def eq_B_10(kappa: sp.Expr, abs_omega_sq: sp.Expr) -> sp.Expr:
    r"""(B.10): J^n = κ|Ω|²."""
    return kappa * abs_omega_sq


def eq_B_11(fn: sp.Expr, kappa: sp.Expr, abs_omega_sq: sp.Expr) -> dict:
    r"""(B.11): σ := |1 − η|, η = f^n / (κ|Ω|²) — printed with ``f^n`` where (B.10) has ``J^n``."""
    eta = fn / (kappa * abs_omega_sq)
    return {"eta": eta, "sigma": sp.Abs(1 - eta)}


def eq_B_12(F: sp.Expr, mu_cy: sp.Expr) -> sp.Expr:
    r"""(B.12): E_ultra = ∫_X F(η) μ_CY — density."""
    return F * mu_cy


def eq_B_13(mu_J: sp.Expr, riemannian_laplacian_Fprime: sp.Expr, delta_phi: sp.Expr) -> sp.Expr:
    r"""(B.13): δE_ultra = ½ ∫_X μ_J ∇²F'(η) φ — integrand (the variation δφ printed as φ)."""
    return sp.Rational(1, 2) * mu_J * riemannian_laplacian_Fprime * delta_phi


def eq_B_14(eta: sp.Expr) -> sp.Expr:
    r"""(B.14): F(η) = (η − 1)²."""
    return (eta - 1) ** 2


def eq_B_15(mu_cy: sp.Expr, ginv: Matrix, d_eta: Matrix) -> sp.Expr:
    r"""(B.15): E_2deriv = ∫_X μ_CY g^{a b̄} ∂_a η ∂̄_b̄ η — density; ``d_eta[a, b] = ∂_a η ∂̄_b η``."""
    return mu_cy * _tr(ginv, d_eta)


def eq_B_16(mu_cy: sp.Expr, eta: sp.Expr, ginv: Matrix, psi: sp.Expr, ddbar: DDbar) -> sp.Expr:
    r"""(B.16): δE_2deriv = 4 ∫_X μ_CY η^{1/2} ∂^a ∂̄^b φ ∂_a ∂̄_b̄ η^{−1/2} — integrand.

    The variation δφ is printed as φ (here ``psi``); indices are raised with g:
    ∂^a∂̄^b ψ = g^{a c̄} g^{d b̄} ∂_d ∂̄_c̄ ψ, contracted with ∂_a∂̄_b̄ η^{−1/2}.
    """
    X = ddbar(psi)
    Y = ddbar(eta ** sp.Rational(-1, 2))
    return 4 * mu_cy * eta ** sp.Rational(1, 2) * (ginv * X * ginv * Y).trace()


def eq_B_17(mu_cy: sp.Expr, R: sp.Expr) -> sp.Expr:
    r"""(B.17): E_EH = −½ ∫_X μ_CY R — density."""
    return -sp.Rational(1, 2) * mu_cy * R


def eq_B_18(mu_cy: sp.Expr, R: sp.Expr, grad_ln_eta_sq: sp.Expr) -> sp.Expr:
    r"""(B.18): F = −∫_Y μ_CY (R + g^{ab} ∂_a ln η ∂_b ln η) — density (printed with unbarred g^{ab})."""
    return -mu_cy * (R + grad_ln_eta_sq)


def eq_B_19(eta: sp.Expr, ddbar: DDbar) -> Matrix:
    r"""(B.19): dg_{a b̄}/dt = −∂_a ∂̄_b̄ η^{−1/2}."""
    return -ddbar(eta ** sp.Rational(-1, 2))


def eq_B_20(det_g: sp.Expr, mu_cy: sp.Expr) -> sp.Expr:
    r"""(B.20): dφ/dt = −(det(g_{0,a b̄} + ∂_a ∂̄_b̄ φ)/μ_CY)^{−1/2}."""
    return -((det_g / mu_cy) ** sp.Rational(-1, 2))


def eq_B_21(eta: sp.Expr, det_g: sp.Expr, mu_cy: sp.Expr) -> dict:
    r"""(B.21): dφ/dt = −2(η − 1) = −2(det(g_{0,a b̄} + ∂_a ∂̄_b̄ φ)/μ_CY)."""
    return {"first": -2 * (eta - 1), "second": -2 * (det_g / mu_cy)}
