r"""The σ-loss (B.11) of metric values at sample points and its gradient, derived for the kernel flow (3.5).

Setting.  A metric is known by its values :math:`g_j` (Hermitian positive definite
:math:`n\times n`) at sample points :math:`j = 1..N` with weights :math:`w_j > 0` and
:math:`|\Omega|^2_j`.  With :math:`r_j = \det g_j/|\Omega|^2_j`, :math:`W = \sum_j w_j`,

.. math::
    \kappa = \frac{1}{W}\sum_j w_j r_j, \qquad \eta_j = r_j/\kappa, \qquad
    \ell = \frac{1}{W}\sum_j w_j\, \varphi(\eta_j),

with :math:`\varphi(\eta) = |1-\eta|` the σ-measure of (B.11) (``"l1"``) or :math:`(1-\eta)^2`
(``"l2"``).  κ is either recomputed from the current metric (``kappa="recomputed"``: ℓ is then
invariant under :math:`g \to c\,g` and its gradient is orthogonal to that direction) or held at
its value of step 0 (``kappa="fixed"``).

Derived here (sympy, :func:`derive_point_gradient`, checked against direct differentiation in the
proof ``cy-sigma-loss-gradient``):

.. math::
    \frac{\partial \ell}{\partial r_j} = \frac{w_j}{W\kappa}\big(\varphi'(\eta_j) - A\big),\qquad
    A = \frac{1}{W}\sum_i w_i\,\varphi'(\eta_i)\,\eta_i \quad(A = 0 \text{ for fixed } \kappa),

and, with :math:`d\det g = \det g\;\mathrm{tr}(g^{-1}dg)`, the gradient with respect to the
Hermitian matrix :math:`g_j` in the real inner product :math:`\langle A, B\rangle =
\mathrm{Re\,tr}(A^\dagger B)` (the one for which :math:`g \leftarrow g - \Delta t\,\nabla\ell`
is steepest descent and stays Hermitian) is

.. math::
    \nabla_{g_j}\ell = c_j\, g_j^{-1}, \qquad c_j = \frac{w_j\,\eta_j}{W}\big(\varphi'(\eta_j) - A\big).

:func:`gradient_coefficient` returns :math:`c_j` as a sympy expression in per-point symbols and
the batch sum ``A``; :mod:`numerics.cy.kernel_flow` compiles it with ``sympy.lambdify``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sympy as sp

from flowtheory.errors import InvalidParameterError

PointLoss = Literal["l1", "l2"]
KappaRule = Literal["recomputed", "fixed"]
POINT_LOSSES: tuple[str, ...] = ("l1", "l2")
KAPPA_RULES: tuple[str, ...] = ("recomputed", "fixed")

eta, w, W, A = sp.symbols("eta w W A", positive=True)
"""Per-point η and weight, the weight total W and the batch sum A (module docstring)."""


def phi(loss: PointLoss, x: sp.Expr = eta) -> sp.Expr:
    """The per-point deviation φ(η): ``|1 - η|`` (B.11) or ``(1 - η)^2``."""
    if loss == "l1":
        return sp.Abs(1 - x)
    if loss == "l2":
        return (1 - x) ** 2
    raise InvalidParameterError(f"unknown point loss {loss!r}; choose one of {POINT_LOSSES}")


def phi_prime(loss: PointLoss, x: sp.Expr = eta) -> sp.Expr:
    """φ'(η) for real η (``-sign(1 - η)`` for the σ-measure)."""
    y = sp.Symbol("y", real=True)
    return sp.diff(phi(loss, y), y).subs(y, x).rewrite(sp.sign)


@dataclass(frozen=True)
class PointGradient:
    """The gradient of ℓ with respect to one point's metric: ``coefficient * g^{-1}``.

    Attributes:
        coefficient: :math:`c_j` in the symbols ``eta, w, W, A``.
        batch_term: the summand of ``A`` (``w φ'(η) η``, divided by W after summing), or 0 for a
            fixed κ.
    """

    coefficient: sp.Expr
    batch_term: sp.Expr


def gradient_coefficient(loss: PointLoss, kappa: KappaRule) -> PointGradient:
    """:math:`c_j` and the summand of :math:`A` (module docstring) for a loss and a κ rule."""
    if kappa not in KAPPA_RULES:
        raise InvalidParameterError(f"unknown kappa rule {kappa!r}; choose one of {KAPPA_RULES}")
    d = phi_prime(loss)
    batch = w * d * eta if kappa == "recomputed" else sp.Integer(0)
    shift = A if kappa == "recomputed" else sp.Integer(0)
    return PointGradient(coefficient=w * eta / W * (d - shift), batch_term=batch)


def derive_point_gradient(loss: PointLoss, kappa: KappaRule, n_points: int = 3) -> dict[str, sp.Expr]:
    r"""Differentiate ℓ directly for ``n_points`` symbolic points and compare with the closed form.

    Returns ``{"direct_j": ∂ℓ/∂r_j, "closed_j": w_j/(Wκ)(φ'(η_j) - A), "difference_j": …}`` for each
    ``j``; every difference simplifies to 0 where the signs are fixed (the proof substitutes
    values with ``η_j`` on both sides of 1).
    """
    if n_points < 1:
        raise InvalidParameterError(f"n_points must be >= 1, got {n_points}")
    ws = sp.symbols(f"w0:{n_points}", positive=True)
    rs = sp.symbols(f"r0:{n_points}", positive=True)
    total = sum(ws)
    k0 = sp.Symbol("kappa0", positive=True)
    kap = sum(wi * ri for wi, ri in zip(ws, rs)) / total if kappa == "recomputed" else k0
    etas = [ri / kap for ri in rs]
    ell = sum(wi * phi(loss, e) for wi, e in zip(ws, etas)) / total
    point = gradient_coefficient(loss, kappa)
    batch = sum(point.batch_term.subs({w: wi, eta: e}) for wi, e in zip(ws, etas)) / total
    out = {}
    for j in range(n_points):
        direct = sp.diff(ell, rs[j])
        # ∂ℓ/∂r_j = c_j / r_j (since ∇_g ℓ = (∂ℓ/∂r) r g^{-1} = c g^{-1})
        closed = point.coefficient.subs({w: ws[j], eta: etas[j], W: total, A: batch}) / rs[j]
        out[f"direct_{j}"], out[f"closed_{j}"] = direct, closed
        out[f"difference_{j}"] = direct - closed
    return out


def determinant_gradient(n: int = 3) -> sp.Matrix:
    r"""The gradient of :math:`\det g` over Hermitian ``n×n`` matrices minus :math:`\det g\, g^{-1}`.

    ``g = X + iY`` with ``X`` real symmetric and ``Y`` real antisymmetric; the gradient in
    :math:`\mathrm{Re\,tr}(A^\dagger B)` has entries
    :math:`\partial_{X_{ab}} + i\,\partial_{Y_{ab}}` (halved off the diagonal, where each free
    parameter appears twice).  Returns the difference, which is the zero matrix.
    """
    x = {(a, b): sp.Symbol(f"x{min(a, b)}{max(a, b)}", real=True) for a in range(n) for b in range(n)}
    y = {(a, b): sp.Symbol(f"y{a}{b}", real=True) for a in range(n) for b in range(a + 1, n)}
    g = sp.Matrix(n, n, lambda a, b: x[a, b] + sp.I * (y[a, b] if a < b else (-y[b, a] if a > b else 0)))
    det = sp.expand(g.det())
    grad = sp.zeros(n, n)
    for a in range(n):
        for b in range(n):
            if a == b:
                grad[a, b] = sp.diff(det, x[a, a])
            elif a < b:
                grad[a, b] = (sp.diff(det, x[a, b]) + sp.I * sp.diff(det, y[a, b])) / 2
            else:
                grad[a, b] = (sp.diff(det, x[b, a]) - sp.I * sp.diff(det, y[b, a])) / 2
    return sp.simplify(grad - det * g.inv())
