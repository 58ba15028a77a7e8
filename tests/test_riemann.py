"""flowtheory.riemann against sourced closed forms and identities that a wrong implementation breaks.

Closed forms used (conventions R^a_{bcd} = ∂_c Γ^a_{db} − ..., R_{bd} = R^a_{bad}):
- round S^n of radius r: R_{ij} = (n−1)/r² g_{ij}, R = n(n−1)/r²
  (J. M. Lee, *Introduction to Riemannian Manifolds*, 2nd ed., Prop. 8.34 / Cor. 11.20);
- Poincaré half-plane (dx² + dy²)/y²: Γ and R^a_{bcd} as in sympy's
  ``sympy/diffgeom/tests/test_hyperbolic_space.py`` (test_H2), R = −2 (Gauss curvature −1);
- 2D conformal metric e^{2u}δ: R = −2 e^{−2u} Δ₀u (Gauss curvature K = −e^{−2u}Δ₀u,
  Lee, Thm 7.30 / Besse, *Einstein Manifolds*, 1.159);
- flat metrics (constant, or flat space in polar coordinates): R^a_{bcd} = 0;
- contracted Bianchi identity ∇^i(R_ij − ½ R g_ij) = 0 and the algebraic symmetries of R_{abcd}
  (Lee, Prop. 7.12), checked at random rational points with 30-digit arithmetic.
"""

from __future__ import annotations

import itertools
import random

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtheory.exact import evaluate, max_deviation, random_rational_points
from flowtheory.errors import InvalidParameterError, NonFiniteError, NotPositiveDefiniteError, NotSymmetricError
from flowtheory.riemann import (
    check_metric,
    christoffel,
    grad_norm_sq,
    hessian,
    inverse_metric,
    laplacian,
    ricci_scalar,
    ricci_tensor,
    riemann_tensor,
    volume_density,
)

x, y, z = sp.symbols("x y z", real=True)
th, ph, ch = sp.symbols("theta phi chi", real=True)
r = sp.Symbol("r", positive=True)

# Symbolic identities are asserted exactly; identities at points are evaluated with 30 digits
# (flowtheory.exact) and, where numpy combines them, rounded to float64: TOL is far above that
# round-off and far below the O(1) error of a wrong formula.
TOL = 1e-12


def round_sphere(n: int, radius):
    """Round S^n of the given radius in hyperspherical angles (angles[0] is the outermost)."""
    angles = sp.symbols(f"a0:{n}", real=True)
    entries, factor = [], sp.Integer(1)
    for angle in angles:
        entries.append(radius**2 * factor)
        factor *= sp.sin(angle) ** 2
    return sp.diag(*entries), angles


def random_metric(coords, seed: int, scale=sp.Rational(1, 5), degree: int = 2):
    """δ + scale·(M + Mᵀ) with M of random polynomials: positive definite near the origin."""
    rng = random.Random(seed)
    n = len(coords)
    monomials = [sp.Integer(1), *coords]
    if degree == 2:
        monomials += [a * b for a, b in itertools.combinations_with_replacement(coords, 2)]

    def poly():
        return sum(sp.Rational(rng.randint(-9, 9), 10) * m for m in monomials)

    m = sp.Matrix(n, n, lambda i, j: poly())
    return sp.eye(n) + scale * (m + m.T)


def points(coords, n_points: int, seed: int):
    """Random rational points with coordinates in [−3/10, 3/10] (where the random metrics are positive)."""
    return random_rational_points(coords, n_points, seed, low=-0.3, high=0.3)


# --------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------


def test_unit_sphere_components():
    g = sp.diag(1, sp.sin(th) ** 2)
    gamma = christoffel(g, (th, ph))
    assert sp.simplify(gamma[0, 1, 1] + sp.sin(th) * sp.cos(th)) == 0
    assert sp.simplify(gamma[1, 0, 1] - sp.cos(th) / sp.sin(th)) == 0
    assert gamma[1, 0, 1] == gamma[1, 1, 0]
    assert gamma[0, 0, 0] == gamma[0, 0, 1] == gamma[1, 0, 0] == gamma[1, 1, 1] == 0
    riem = riemann_tensor(g, (th, ph))
    assert sp.simplify(riem[0, 1, 0, 1] - sp.sin(th) ** 2) == 0  # R^θ_{φθφ} = K g_φφ, K = 1
    assert sp.simplify(ricci_scalar(g, (th, ph))) == 2


@pytest.mark.parametrize("n", [2, 3])
def test_round_sphere_of_radius_r(n):
    g, angles = round_sphere(n, r)
    ric = ricci_tensor(g, angles, simplify=True)
    assert (ric - (n - 1) / r**2 * g).applyfunc(sp.simplify) == sp.zeros(n, n)
    assert sp.simplify(ricci_scalar(g, angles, simplify=True) - n * (n - 1) / r**2) == 0


def test_poincare_half_plane_matches_sympy_diffgeom_test_H2():
    g = sp.diag(1 / y**2, 1 / y**2)
    gamma = christoffel(g, (x, y))
    assert gamma[0, 0, 1] == gamma[0, 1, 0] == -1 / y
    assert gamma[1, 0, 0] == 1 / y
    assert gamma[1, 1, 1] == -1 / y
    assert gamma[0, 0, 0] == gamma[0, 1, 1] == gamma[1, 0, 1] == 0
    riem = riemann_tensor(g, (x, y)).applyfunc(sp.simplify)
    assert riem[0, 1, 0, 1] == -(y**-2) and riem[0, 1, 1, 0] == y**-2
    assert riem[1, 0, 0, 1] == y**-2 and riem[1, 0, 1, 0] == -(y**-2)
    assert sp.simplify(ricci_tensor(g, (x, y))[0, 0]) == -(y**-2)
    assert sp.simplify(ricci_scalar(g, (x, y))) == -2


def test_agrees_with_sympy_diffgeom_on_a_random_metric():
    from sympy.diffgeom import TensorProduct, metric_to_Riemann_components
    from sympy.diffgeom.rn import R2

    u, v, du, dv = R2.x, R2.y, R2.dx, R2.dy
    p, q = sp.symbols("p q")  # names distinct from the symbols inside sympy's R2 coordinate system
    g = random_metric((p, q), seed=3, degree=1)
    form = sum(g[i, j].subs({p: u, q: v}) * TensorProduct(a, b) for i, a in enumerate((du, dv)) for j, b in enumerate((du, dv)))
    theirs = metric_to_Riemann_components(form)
    ours = riemann_tensor(g, (p, q))
    for point in points((p, q), 1, seed=4):
        for idx in itertools.product(range(2), repeat=4):
            their = theirs[idx].subs({u: point[p], v: point[q]})
            assert max_deviation(ours[idx], their, [point]) < TOL


@pytest.mark.parametrize(
    "g, coords",
    [
        (sp.Matrix([[2, 1], [1, 3]]), (x, y)),  # flat torus R²/Λ with a constant, non-diagonal metric
        (sp.diag(1, x**2), (x, y)),  # the flat plane in polar coordinates (ρ = x, angle = y)
        (sp.diag(1, x**2, x**2 * sp.sin(y) ** 2), (x, y, z)),  # flat R³ in spherical coordinates
    ],
)
def test_flat_metrics_have_zero_curvature(g, coords):
    riem = riemann_tensor(g, coords).applyfunc(sp.simplify)
    assert set(sp.flatten(riem.tolist())) == {0}
    if g.free_symbols:
        assert set(sp.flatten(christoffel(g, coords).tolist())) != {0}  # the test is not vacuous


def test_product_metric_is_block_diagonal():
    # S²(r) × H²: Ricci is the direct sum and R adds: 2/r² − 2.
    g = sp.diag(r**2, r**2 * sp.sin(th) ** 2, 1 / y**2, 1 / y**2)
    coords = (th, ph, x, y)
    ric = ricci_tensor(g, coords, simplify=True)
    expected = sp.diag(1, sp.sin(th) ** 2, -(y**-2), -(y**-2))
    assert (ric - expected).applyfunc(sp.simplify) == sp.zeros(4, 4)
    assert sp.simplify(ricci_scalar(g, coords) - (2 / r**2 - 2)) == 0


@settings(max_examples=6)
@given(st.lists(st.integers(-3, 3), min_size=6, max_size=6))
def test_conformal_metric_in_two_dimensions(c):
    # g = e^{2u} δ  =>  R = −2 e^{−2u} (u_xx + u_yy).
    u = c[0] * x + c[1] * y + c[2] * x**2 + c[3] * x * y + c[4] * y**2 + c[5] * x**3 * y
    g = sp.exp(2 * u) * sp.eye(2)
    expected = -2 * sp.exp(-2 * u) * (sp.diff(u, x, 2) + sp.diff(u, y, 2))
    assert sp.simplify(ricci_scalar(g, (x, y)) - expected) == 0


@settings(max_examples=3)
@given(st.integers(1, 5), st.integers(1, 5))
def test_scalar_curvature_scales_as_inverse_square(p, q):
    c = sp.Rational(p, q)
    g = random_metric((x, y), seed=p * 7 + q)
    pts = points((x, y), 1, seed=p + q)
    assert max_deviation(ricci_scalar(c**2 * g, (x, y)), ricci_scalar(g, (x, y)) / c**2, pts) < TOL
    assert max_deviation(ricci_scalar(g, (x, y)), 0, pts) > 1e-3  # not vacuous


# --------------------------------------------------------------------------------------------
# identities on random metrics
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def random3():
    coords = (x, y, z)
    return random_metric(coords, seed=11, degree=1), coords


def test_riemann_symmetries_and_ricci_contraction(random3):
    import numpy as np

    g, coords = random3
    riem = riemann_tensor(g, coords)
    ric = ricci_tensor(g, coords)
    for point in points(coords, 2, seed=5):
        up = evaluate(riem, point)  # R^a_{bcd}
        low = np.einsum("ae,ebcd->abcd", evaluate(g, point), up)  # R_{abcd}
        assert np.max(np.abs(low)) > 1e-3  # not vacuous
        assert np.max(np.abs(low + low.transpose(1, 0, 2, 3))) < TOL
        assert np.max(np.abs(low - low.transpose(2, 3, 0, 1))) < TOL
        first_bianchi = up + up.transpose(0, 2, 3, 1) + up.transpose(0, 3, 1, 2)  # R^a_{bcd} + R^a_{cdb} + R^a_{dbc}
        assert np.max(np.abs(first_bianchi)) < TOL
        ric_p = evaluate(ric, point)
        assert np.max(np.abs(ric_p - np.einsum("abad->bd", up))) < TOL
        assert np.max(np.abs(ric_p - ric_p.T)) < TOL


@pytest.mark.slow  # a minute of sympy on a random 3-metric; the symmetries and the Ricci contraction stay in the default run
def test_contracted_bianchi_identity(random3):
    # ∇^i(R_ij − ½ R g_ij) = 0  ⇔  g^{ki} ∇_k R_ij = ½ ∂_j R   (∇g = 0), with
    # ∇_k R_ij = ∂_k R_ij − Γ^l_{ki} R_lj − Γ^l_{kj} R_il.
    import numpy as np

    g, coords = random3
    n = 3
    gamma = christoffel(g, coords)
    ric = ricci_tensor(g, coords)
    scalar = ricci_scalar(g, coords)
    d_ric = sp.Array([[[sp.diff(ric[i, j], coords[k]) for j in range(n)] for i in range(n)] for k in range(n)])  # [k,i,j]
    d_scalar = sp.Matrix([sp.diff(scalar, c) for c in coords])
    for point in points(coords, 1, seed=6):
        G, Rc, dR = evaluate(gamma, point), evaluate(ric, point), evaluate(d_ric, point)
        ginv = np.linalg.inv(evaluate(g, point))
        cov = dR - np.einsum("lki,lj->kij", G, Rc) - np.einsum("lkj,il->kij", G, Rc)
        divergence = np.einsum("ki,kij->j", ginv, cov)
        half_dR = evaluate(d_scalar, point)[:, 0] / 2
        assert np.max(np.abs(half_dR)) > 1e-3  # not vacuous
        assert np.max(np.abs(divergence - half_dR)) < TOL


def test_hessian_laplacian_gradient(random3):
    g, coords = random3
    n = 3
    f = sp.sin(x) * y + z**3 * x + sp.exp(y * z)
    hess = hessian(f, g, coords)
    lap = laplacian(f, g, coords)
    ginv = inverse_metric(g)
    sqrtg = volume_density(g, coords)
    divergence_form = sum(sp.diff(sqrtg * ginv[i, j] * sp.diff(f, coords[j]), coords[i]) for i in range(n) for j in range(n)) / sqrtg
    trace = sum(ginv[i, j] * hess[i, j] for i in range(n) for j in range(n))
    # Δ(f²) = 2 f Δf + 2 |∇f|²
    product_rule = laplacian(f**2, g, coords) - 2 * f * lap - 2 * grad_norm_sq(f, g, coords)
    pts = points(coords, 2, seed=7)
    assert max_deviation(hess, hess.T, pts) < TOL
    assert max_deviation(lap, divergence_form, pts) < TOL
    assert max_deviation(lap, trace, pts) < TOL
    assert max_deviation(product_rule, 0, pts) < TOL


def test_sphere_laplacian_eigenfunction_and_volume():
    g = r**2 * sp.diag(1, sp.sin(th) ** 2)
    # Y_1^0 = cos θ has Δ Y = −l(l+1)/r² Y with l = 1.
    assert sp.simplify(laplacian(sp.cos(th), g, (th, ph)) + 2 * sp.cos(th) / r**2) == 0
    assert sp.simplify(grad_norm_sq(sp.cos(th), g, (th, ph)) - sp.sin(th) ** 2 / r**2) == 0
    density = volume_density(g, (th, ph))
    area = sp.integrate(sp.integrate(density.subs(sp.Abs(sp.sin(th)), sp.sin(th)), (th, 0, sp.pi)), (ph, 0, 2 * sp.pi))
    assert sp.simplify(sp.refine(area, sp.Q.positive(r)) - 4 * sp.pi * r**2) == 0


def test_inverse_metric():
    g = random_metric((x, y), seed=2)
    assert (inverse_metric(g) * g).applyfunc(sp.cancel) == sp.eye(2)
    assert inverse_metric(sp.diag(1, sp.sin(th) ** 2)) == sp.diag(1, sp.sin(th) ** -2)


def test_simplify_keyword():
    g, angles = round_sphere(3, r)
    assert ricci_scalar(g, angles, simplify=True) == 6 / r**2
    assert ricci_scalar(g, angles, simplify=sp.trigsimp) == 6 / r**2
    with pytest.raises(InvalidParameterError):
        ricci_scalar(g, angles, simplify="yes")


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def test_check_metric_accepts_valid_metrics():
    check_metric(sp.diag(1, sp.sin(th) ** 2), (th, ph))
    check_metric(r**2 * sp.diag(1, sp.sin(th) ** 2), (th, ph))  # r drawn with the coordinates
    check_metric(sp.diag(1 / y**2, 1 / y**2), (x, y), sample_points=[(0, 1), (5, sp.Rational(1, 3))])


@pytest.mark.parametrize(
    "g, coords, points_, error",
    [
        (sp.Matrix([[1, x], [0, 1]]), (x, y), None, NotSymmetricError),
        (sp.diag(1, -1), (x, y), None, NotPositiveDefiniteError),  # Lorentzian
        (sp.Matrix([[1, 2], [2, 1]]), (x, y), None, NotPositiveDefiniteError),  # indefinite, symmetric
        (sp.diag(1, x - 2), (x, y), None, NotPositiveDefiniteError),  # negative on the default points
        (sp.diag(1, sp.sqrt(x - 2)), (x, y), None, NotPositiveDefiniteError),  # complex
        (sp.diag(1 / y**2, 1 / y**2), (x, y), [(1, 0)], NonFiniteError),  # boundary of the half-plane
        (sp.diag(1, 1), (x, y, z), None, InvalidParameterError),  # coordinate count mismatch
        (sp.Matrix([[1, 0, 0], [0, 1, 0]]), (x, y), None, InvalidParameterError),  # not square
        (r * sp.eye(2), (x, y), [(1, 1)], InvalidParameterError),  # r left unassigned
        (sp.eye(2), (x, y), [(1,)], InvalidParameterError),  # short sample point
    ],
)
def test_check_metric_rejects(g, coords, points_, error):
    with pytest.raises(error):
        check_metric(g, coords, sample_points=points_)


def test_curvature_functions_reject_asymmetric_or_misshaped_input():
    with pytest.raises(NotSymmetricError):
        ricci_scalar(sp.Matrix([[1, x], [y, 1]]), (x, y))
    with pytest.raises(NotSymmetricError):
        hessian(x * y, sp.Matrix([[1, x], [y, 1]]), (x, y))
    with pytest.raises(InvalidParameterError):
        christoffel(sp.eye(3), (x, y))
    with pytest.raises(InvalidParameterError):
        ricci_tensor(sp.eye(2), (x, x))
