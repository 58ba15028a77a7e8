r"""The gradient of the σ-loss with respect to point metrics, which the kernel flow (3.5) applies.

* ``cy-sigma-loss-gradient`` (3.5 with B.11): for ℓ = Σ w φ(η)/Σ w with η = det g/(κ|Ω|²),
  :math:`\nabla_{g_j}\ell = c_j g_j^{-1}`, :math:`c_j = (w_j\eta_j/W)(\varphi'(\eta_j) - A)`,
  :math:`A = \sum_i w_i\varphi'(\eta_i)\eta_i/W` when κ is recomputed from g (0 when fixed).  The
  paper prints no formula for δℓ/δg.  Symbolic: the chain rule against direct differentiation of the
  4-point loss at 20 random points for both φ and both κ rules (|·| on both branches), and
  :math:`\nabla\det g = \det g\, g^{-1}` over Hermitian 3×3 matrices.  Numeric: the compiled
  gradient of :mod:`numerics.cy.kernel_flow` against ``jax.grad`` of the discrete loss on 200 points
  of one chart of the Fermat quintic (relative 1e-12).
"""

from __future__ import annotations

import random

import sympy as sp

from flowtheory import sigma_loss
from flowtheory.proof import Check, Outcome, proof

TOL = 1e-12


def _chain_rule_deviation() -> float:
    worst = 0.0
    rng = random.Random(20240628)
    for loss in sigma_loss.POINT_LOSSES:
        for kappa in sigma_loss.KAPPA_RULES:
            derived = sigma_loss.derive_point_gradient(loss, kappa, n_points=4)
            symbols = sorted(set().union(*(e.free_symbols for e in derived.values())), key=str)
            for _ in range(20):
                values = {s: sp.Float(rng.uniform(0.2, 3.0), 30) for s in symbols}
                for j in range(4):
                    direct = complex(derived[f"direct_{j}"].subs(values))
                    worst = max(worst, abs(direct - complex(derived[f"closed_{j}"].subs(values))) / max(1.0, abs(direct)))
    return worst


def _jax_deviation() -> float:
    import jax
    import jax.numpy as jnp

    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.kernel_flow import FlowSettings, loss_gradient, loss_of, point_set
    from numerics.cy.sampling import sample_in_chart

    with jax.experimental.enable_x64():
        surface = fermat_quintic()
        sample = sample_in_chart(surface, 200, jax.random.PRNGKey(3), 0, 1)
        pts = point_set(surface, sample.points, sample.line_ids)
        g = pts.g_fs * (1 + 0.2 * jnp.linspace(0, 1, pts.g_fs.shape[0]))[:, None, None]
        worst = 0.0
        for loss in sigma_loss.POINT_LOSSES:
            for kappa in sigma_loss.KAPPA_RULES:
                settings = FlowSettings(lr=1.0, loss=loss, kappa=kappa, normalisation="mean")
                kappa0 = 1.1 * jnp.mean(jnp.real(jnp.linalg.det(g)) / pts.omega2)
                derived = loss_gradient(g, pts.weights, pts.omega2, settings, kappa0)
                auto = jnp.conj(jax.grad(lambda m: loss_of(m, pts.weights, pts.omega2, settings, kappa0))(g))
                worst = max(worst, float(jnp.max(jnp.abs(derived - auto)) / jnp.max(jnp.abs(auto))))
    return worst


@proof(id="cy-sigma-loss-gradient", title="Gradient of the σ-loss with respect to the point metrics (3.5, B.11)",
       equations=("3.5", "B.11"), depends_on=("cy-sigma-measure",))
def sigma_loss_gradient() -> Outcome:
    symbolic = {f"grad det g = det g g^-1 on Hermitian {n}x{n}": sigma_loss.determinant_gradient(n) == sp.zeros(n, n) for n in (2, 3)}
    point = sigma_loss.gradient_coefficient("l1", "recomputed")
    return Outcome(
        derived=sp.Eq(sp.Symbol("c_j"), point.coefficient),
        printed=None,
        matches_print=True,
        checks=(
            Check("closed-form chain rule vs direct differentiation (4 points, 20 draws, 4 variants)", _chain_rule_deviation(), TOL),
            Check("compiled gradient vs jax.grad of the discrete loss (200 points, 4 variants)", _jax_deviation(), TOL),
        ),
        symbolic_checks=symbolic,
    )
