"""numerics.nn.limits: the σ→0 limit (2.29) of the rescaled Gaussian family on curved charts.

The rescaled kernel (2.28) integrated against f dV_g̃ converges to Ω̄(x)f(x) at the rate σ²
(fitted log-log slope 2 ± 0.05) with the σ² coefficient predicted by flowtheory.ntk.local_limit;
without the (g̃g̃')^{-1/4} factors the limit is √g̃(x)Ω̄(x)f(x) and the check fails.
"""

import numpy as np
import pytest
import sympy as sp

from flowtheory import ntk
from flowtheory.errors import InvalidParameterError
from numerics.nn import limits

SIGMAS = np.array([0.02, 0.03, 0.045, 0.07, 0.1])


def _torus_family():
    chart = limits.donut_torus(3, 1)
    (u, v), (up, vp) = chart.coords, ntk.primed(chart.coords)
    fam = chart.family(1 + sp.cos(u - up) / 3 + sp.sin(v) * sp.sin(vp) / 2)
    f = 1 + sp.sin(up) * sp.cos(vp) + sp.cos(2 * vp) / 2
    return fam, f


def _sphere_family(radius=2):
    chart = limits.round_sphere_stereographic(radius)
    (y1, y2), (p1, p2) = chart.coords, ntk.primed(chart.coords)
    fam = chart.family(sp.exp((y1 * p1 + y2 * p2) / 4))
    f = sp.cos(p1) + p2**2
    return fam, f


@pytest.mark.parametrize("make", [_torus_family, _sphere_family], ids=["donut-torus", "round-S2"])
def test_rescaled_family_converges_at_rate_sigma_squared(make):
    """|I_σ − Ω̄f| ~ C σ²: fitted slope 2 ± 0.05 at each of three points; C matches the symbolic σ² coefficient to 1%."""
    fam, f = make()
    pts = np.array([[0.4, 0.9], [-0.7, 0.2], [1.1, -0.6]])
    study = limits.sigma_limit_study(fam, f, pts, SIGMAS)
    assert np.all(np.abs(study.slopes - 2) <= 0.05), study.slopes
    assert np.all(np.abs(study.sigma2_fitted - study.sigma2_predicted) <= 1e-2 * np.abs(study.sigma2_predicted))
    assert np.all(np.abs(study.ratio - 1) <= 1e-2)


def test_without_the_reference_factors_the_limit_is_off_by_sqrt_det():
    """The un-rescaled kernel (2.27) tends to √g̃(x)Ω̄f, not Ω̄f: the limit check fails by a factor √g̃(x) ≠ 1."""
    fam, f = _sphere_family()
    pts = np.array([[0.2, 0.1], [0.5, 0.3]])  # √g̃ = 4a²/(1+|y|²)² = 14.5 and 8.9 for a = 2
    bare = limits.sigma_limit_study(fam, f, pts, SIGMAS, rescaled=False)
    assert np.all(np.abs(bare.ratio - bare.sqrt_det) <= 1e-2 * bare.sqrt_det)
    assert np.all(np.abs(bare.ratio - 1) > 1.0)  # the rescaled family's check |ratio − 1| ≤ 1e-2 fails


@pytest.mark.parametrize("d", [1, 3])
def test_limit_in_other_dimensions(d):
    """d = 1 and d = 3 with a conformally flat g̃ = (1 + |x|²/4)^{-2} δ: slope 2 ± 0.05."""
    x = tuple(sp.Symbol(f"x{a}", real=True) for a in range(d))
    xp = ntk.primed(x)
    r2 = sum(s**2 for s in x)
    fam = ntk.gaussian_family(x, sp.Symbol("sigma", positive=True), (1 + r2 / 4) ** (-2 * d), 2 + sp.cos(sum(x) - sum(xp)))
    f = sp.exp(sum(xp) / 3)
    pts = np.full((2, d), 0.3)
    pts[1] = -0.5
    study = limits.sigma_limit_study(fam, f, pts, SIGMAS, n=64 if d == 1 else 24)
    assert np.all(np.abs(study.slopes - 2) <= 0.05), study.slopes


def test_quadrature_error_is_far_below_the_sigma_effect():
    """Doubling the quadrature points per axis changes I_σ by < 1e-13 at σ = 0.02, where |I_σ − Ω̄f| ~ 1e-3."""
    fam, f = _torus_family()
    pts = np.array([[0.4, 0.9]])
    coarse = np.asarray(limits.quadrature_smear(fam, f, pts, 0.02, n=48))
    fine = np.asarray(limits.quadrature_smear(fam, f, pts, 0.02, n=96))
    wide = np.asarray(limits.quadrature_smear(fam, f, pts, 0.02, n=96, half_width=14.0))
    assert np.max(np.abs(coarse - fine)) <= 1e-13
    assert np.max(np.abs(wide - fine)) <= 1e-13


def test_bad_quadrature_input_raises():
    fam, f = _torus_family()
    with pytest.raises(InvalidParameterError):
        limits.quadrature_smear(fam, f, np.zeros((1, 2)), 0.0)
    with pytest.raises(InvalidParameterError):
        limits.quadrature_smear(fam, f, np.zeros((1, 2)), 0.1, n=4)
    with pytest.raises(InvalidParameterError):
        limits.quadrature_smear(fam, f, np.zeros((1, 2)), 0.1, half_width=2.0)
