"""The σ-loss gradient of :mod:`flowtheory.sigma_loss`: the closed form against direct differentiation."""

import random

import pytest
import sympy as sp

from flowtheory import sigma_loss
from flowtheory.errors import InvalidParameterError


@pytest.mark.parametrize("loss", sigma_loss.POINT_LOSSES)
@pytest.mark.parametrize("kappa", sigma_loss.KAPPA_RULES)
def test_closed_form_equals_direct_derivative(loss, kappa):
    """∂ℓ/∂r_j of the explicit 4-point loss equals w_j/(Wκ)(φ'(η_j) − A) at 20 random points with
    η on both sides of 1 (the |·| of B.11 changes branch there)."""
    derived = sigma_loss.derive_point_gradient(loss, kappa, n_points=4)
    symbols = sorted(set().union(*(e.free_symbols for e in derived.values())), key=str)
    rng = random.Random(5)
    worst = 0.0
    for _ in range(20):
        values = {s: sp.Float(rng.uniform(0.2, 3.0)) for s in symbols}
        for j in range(4):
            direct = complex(derived[f"direct_{j}"].subs(values))
            worst = max(worst, abs(direct - complex(derived[f"closed_{j}"].subs(values))) / max(1.0, abs(direct)))
    assert worst < 1e-13


@pytest.mark.parametrize("n", [1, 2, 3])
def test_determinant_gradient_is_det_times_inverse(n):
    assert sigma_loss.determinant_gradient(n) == sp.zeros(n, n)


def test_recomputed_kappa_makes_the_gradient_orthogonal_to_scaling():
    """Σ_j tr(g_j ∇_{g_j} ℓ) = Σ c_j n = 0 when κ follows g: ℓ(c g) = ℓ(g)."""
    point = sigma_loss.gradient_coefficient("l2", "recomputed")
    rng = random.Random(2)
    ws, es = [rng.uniform(0.1, 2) for _ in range(6)], [rng.uniform(0.5, 1.5) for _ in range(6)]
    total = sum(ws)
    es = [e * total / sum(wi * ei for wi, ei in zip(ws, es)) for e in es]  # weighted mean of η is 1
    a = sum(float(point.batch_term.subs({sigma_loss.w: wi, sigma_loss.eta: ei})) for wi, ei in zip(ws, es)) / total
    cs = [float(point.coefficient.subs({sigma_loss.w: wi, sigma_loss.eta: ei, sigma_loss.W: total, sigma_loss.A: a})) for wi, ei in zip(ws, es)]
    assert abs(sum(cs)) < 1e-14 * max(map(abs, cs))


def test_unknown_names_are_named_errors():
    with pytest.raises(InvalidParameterError, match="point loss"):
        sigma_loss.phi("l3")
    with pytest.raises(InvalidParameterError, match="kappa rule"):
        sigma_loss.gradient_coefficient("l1", "floating")
