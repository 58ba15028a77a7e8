"""Section 3 of the paper *as printed* (eqs 3.1–3.7) — only ever compared against.

Each entry reproduces one printed formula literally; the proofs in ``proofs/`` derive the correct
form and record any difference.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp

# --- 3.1 Clustering and preprocessing: distances (eqs 3.2–3.4) -------------------------------


def eq_3_2(z: Sequence[sp.Expr], zp: Sequence[sp.Expr]) -> sp.Expr:
    r"""(3.2): d(z,z') = arccos sqrt( (z†·z')(z'†·z) / (|z|^2 |z'|^2) ), flat dot products."""
    dot = sum((sp.conjugate(a) * b for a, b in zip(z, zp)), sp.S.Zero)
    dot_back = sum((sp.conjugate(b) * a for a, b in zip(z, zp)), sp.S.Zero)
    norm2 = sum((sp.conjugate(a) * a for a in z), sp.S.Zero)
    norm2_p = sum((sp.conjugate(b) * b for b in zp), sp.S.Zero)
    return sp.acos(sp.sqrt(dot * dot_back / (norm2 * norm2_p)))


#: (3.3) as printed: the final clusters of the batched clustering (a ``min`` where a set is meant).
EQ_3_3 = r"c_\alpha = \bigcup_{\text{mini batches } I} \min\left[\text{mean}_{\text{clusters } \beta}\left(d_{FS}(c^1_\alpha, c^I_\beta)\right)\right]"


def eq_3_4(eps: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    r"""(3.4): arccos(1 - ε) ≃ sqrt(2ε) for 0 < ε ≪ 1, as the pair (left side, right side)."""
    return sp.acos(1 - eps), sp.sqrt(2 * eps)


#: The numeric example printed after (3.4): ε ~ 1e-7 "would still have a sizable distance (.0003)".
EQ_3_4_EXAMPLE = {"eps": sp.Float("1e-7"), "distance": sp.Float(".0003")}


def eq_3_7(n_pts: sp.Expr) -> sp.Expr:
    r"""(3.7): mean nearest-neighbour FS distance μ = .968 × N_pts^(-0.184) (a fit to figure 3 right)."""
    return sp.Float(".968") * n_pts ** sp.Float("-0.184")


#: Claims printed with (3.7): the dimension argument's exponent -1/d with d = 6 ("-0.167"), and the
#: read-offs of figure 3 right, μ ≈ .3 at 10^3 and ≈ .1 at 10^5 points.
EQ_3_7_CLAIMS = {"exponent_dimension_argument": sp.Float("-0.167"), "mu_1e3": sp.Float(".3"), "mu_1e5": sp.Float(".1")}


# --- The σ-measure of section 3 (appendix B text around (B.10)) -------------------------------


def mu_cy_prefactor(n: sp.Expr) -> sp.Expr:
    r"""Text before (B.10): "μ_CY = (−i)^n Ω ∧ Ω̄" — the prefactor of Ω∧Ω̄ in the volume form."""
    return (-sp.I) ** n


#: Text before (B.10): "μ_J = J^n/n!", then (B.10) "J^n = κ|Ω|²" and (B.11) "η = f^n/(κ|Ω|²)"
#: (the entries ``eq_B_10`` and ``eq_B_11`` of :mod:`flowtheory.printed.flows`).
MU_J = r"\mu_J = J^n / n!"

#: Table 1 as printed: points, learning rate Δt and kernel parameters per kernel (σ of (3.6) for the
#: Gaussian; σ_w, σ_b of the ReLU network); the gains of figure 3 and section 3.2.4 beside them.
TABLE_1 = {
    "relu-ntk": {"n_points": 2500, "lr": 0.1, "sigma_w": 5.716, "sigma_b": 80.52, "train_gain": 5.0, "test_gain": 5.0},
    "gaussian": {"n_points": 2500, "lr": 0.1583, "width": 30.0, "train_gain": 1e6, "test_gain": 5.0},
    "delta": {"n_points": 1000, "lr": 0.3162, "train_gain": 1e6, "test_gain": 5.0},
}

#: Section 3.2.4's extrapolation: the mean distance a test gain of ~100 needs per kernel, and the
#: points that (3.7) says that takes.
EXTRAPOLATION = {
    "gaussian": {"test_gain": 100.0, "mean_distance": 5e-3, "n_points": 1e12},
    "delta": {"test_gain": 100.0, "mean_distance": 5e-2, "n_points": 1e8},
}
