"""flowtheory.kahler: Wirtinger calculus, Fubini–Study, flat tori, and the Riemannian cross-checks.

Sources of the closed forms:
- Fubini–Study K = ln(1 + Σ|z_a|²) on CP^n is Kähler–Einstein, R_{a b̄} = (n+1) g_{a b̄}
  (G. Tian, *Canonical Metrics in Kähler Geometry*, §1 example; Griffiths–Harris, *Principles of
  Algebraic Geometry*, p. 30–31);
- ds² = |dz|²/(1+|z|²)² is the round sphere of radius 1/2 (stereographic projection: the unit
  sphere is 4|dz|²/(1+|z|²)²), scalar curvature 2/(1/2)² = 8;
- a constant Hermitian metric (flat torus C^n/Λ) is Ricci-flat.
The factors between the Kähler and Riemannian quantities are not assumed: both sides are computed,
the Riemannian one with flowtheory.riemann on the real metric of to_real.
"""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtheory import kahler, riemann
from flowtheory.exact import evaluate, random_rational_points
from flowtheory.errors import (
    InvalidParameterError,
    NonFiniteError,
    NotKahlerError,
    NotPositiveDefiniteError,
    NotSymmetricError,
)

# Exact symbolic identities are asserted exactly; values at points are computed with exact
# rationals and 30 digits, rounded to complex128: TOL is far above that round-off.
TOL = 1e-12

(Z,), (ZB,) = kahler.complex_coordinates("z")
X, Y = sp.symbols("x y", real=True)


def fubini_study(n: int):
    names = " ".join(f"z{a}" for a in range(1, n + 1))
    z, zb = kahler.complex_coordinates(names)
    potential = sp.log(1 + sum(a * b for a, b in zip(z, zb)))
    return kahler.metric_from_potential(potential, z, zb), z, zb


def complex_points(z, count: int, seed: int):
    """Points ``{z_a: x + iy}`` with exact rationals x, y in [−2/5, 2/5]."""
    return random_rational_points(z, count, seed, low=-0.4, high=0.4, imaginary=True)


def real_point(x, y, point):
    return {**{a: sp.re(w) for a, w in zip(x, point)}, **{b: sp.im(w) for b, w in zip(y, point)}}


# --------------------------------------------------------------------------------------------
# Wirtinger calculus
# --------------------------------------------------------------------------------------------


@settings(max_examples=10)
@given(st.lists(st.integers(-4, 4), min_size=6, max_size=6))
def test_wirtinger_derivatives_are_half_x_minus_i_y(c):
    # For f(z, z̄), ∂f = ½(∂_x − i ∂_y) f and ∂̄f = ½(∂_x + i ∂_y) f after z = x + iy.
    f = c[0] * Z**2 * ZB + c[1] * Z * ZB**3 + c[2] * sp.exp(Z) * ZB + c[3] * Z + c[4] * ZB**2 + c[5] * sp.sin(Z * ZB)
    to_xy = {Z: X + sp.I * Y, ZB: X - sp.I * Y}
    fr = f.xreplace(to_xy)
    lhs_d = kahler.d(f, Z).xreplace(to_xy)
    lhs_db = kahler.dbar(f, ZB).xreplace(to_xy)
    assert sp.expand(lhs_d - (sp.diff(fr, X) - sp.I * sp.diff(fr, Y)) / 2) == 0
    assert sp.expand(lhs_db - (sp.diff(fr, X) + sp.I * sp.diff(fr, Y)) / 2) == 0


def test_replace_conjugates():
    potential = sp.log(1 + sp.Abs(Z) ** 2)
    g = kahler.metric_from_potential(potential, Z, ZB)
    g_ref = kahler.metric_from_potential(sp.log(1 + Z * ZB), Z, ZB)
    assert sp.simplify(g[0, 0] - g_ref[0, 0]) == 0
    # Metrics written with conjugate(z) are accepted by every function (sphere of radius 1/2: 4·2 = 8).
    fs = sp.Matrix([[1 / (1 + Z * sp.conjugate(Z)) ** 2]])
    assert sp.simplify(kahler.scalar_curvature(fs, Z, ZB)) == 2
    w, wb = sp.symbols("w wb")
    replaced = kahler.replace_conjugates(sp.re(w) + sp.im(w) + sp.conjugate(w) + sp.Abs(w), w, wb)
    assert sp.expand(replaced - ((w + wb) / 2 + (w - wb) / (2 * sp.I) + wb + sp.sqrt(w * wb))) == 0


def test_complex_coordinates_reject_colliding_names():
    with pytest.raises(InvalidParameterError):
        kahler.complex_coordinates("z zb")
    with pytest.raises(InvalidParameterError):
        kahler.complex_coordinates("")


# --------------------------------------------------------------------------------------------
# Fubini–Study and flat metrics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2])
def test_fubini_study_is_kahler_einstein(n):
    g, z, zb = fubini_study(n)
    kahler.check_kahler_metric(g, z, zb)
    ric = kahler.ricci_form(g, z, zb)
    assert (ric - (n + 1) * g).applyfunc(sp.simplify) == sp.zeros(n, n)
    assert sp.simplify(kahler.scalar_curvature(g, z, zb) - n * (n + 1)) == 0


def test_flat_torus_is_ricci_flat():
    z, zb = kahler.complex_coordinates("z w")
    # K = |z|² + 2|w|² + Re(z w̄)/2 + Im(z w̄)/3: a constant Hermitian positive-definite metric.
    zwb = z[0] * zb[1]
    potential = z[0] * zb[0] + 2 * z[1] * zb[1] + (zwb + sp.conjugate(zwb)) / 4 + (zwb - sp.conjugate(zwb)) / (6 * sp.I)
    potential = potential.subs(sp.conjugate(zwb), z[1] * zb[0])
    g = kahler.metric_from_potential(potential, z, zb)
    assert not g.free_symbols and not g.is_diagonal()
    kahler.check_kahler_metric(g, z, zb)
    assert kahler.ricci_form(g, z, zb) == sp.zeros(2, 2)
    assert kahler.scalar_curvature(g, z, zb) == 0


# --------------------------------------------------------------------------------------------
# Kähler route vs Riemannian route
# --------------------------------------------------------------------------------------------


def test_cp1_riemannian_and_kahler_routes_agree():
    g, z, zb = fubini_study(1)
    real = kahler.to_real(g, z, zb, [X], [Y], simplify=sp.cancel)
    # ds² = (dx² + dy²)/(1 + x² + y²)²: the round sphere of radius 1/2.
    assert (real - sp.eye(2) / (1 + X**2 + Y**2) ** 2).applyfunc(sp.cancel) == sp.zeros(2, 2)
    r_riem = sp.simplify(riemann.ricci_scalar(real, (X, Y)))
    assert r_riem == 8
    assert sp.simplify(r_riem - kahler.RIEMANNIAN_FACTOR["line-element"] * kahler.scalar_curvature(g, z, zb)) == 0
    ric_real = riemann.ricci_tensor(real, (X, Y))
    ric_from_form = kahler.to_real(kahler.ricci_form(g, z, zb), z, zb, [X], [Y], components="tensor")
    assert (ric_real - ric_from_form).applyfunc(sp.simplify) == sp.zeros(2, 2)
    # Tensor components: g_{zz̄} = G(∂_z, ∂_z̄) doubles the line element, halves R: factor 2.
    real_tensor = kahler.to_real(g, z, zb, [X], [Y], components="tensor", simplify=sp.cancel)
    assert sp.simplify(riemann.ricci_scalar(real_tensor, (X, Y))) == kahler.RIEMANNIAN_FACTOR["tensor"] * 2


@settings(max_examples=5)
@given(st.lists(st.integers(-3, 3), min_size=4, max_size=4))
def test_one_dimensional_random_potential_routes_agree(c):
    # K = |z|² + real polynomial perturbation; ds² = λ|dz|² with λ = ∂∂̄K.
    zz = Z * ZB
    potential = zz + sp.Rational(1, 10) * (c[0] * zz**2 + c[1] * zz**3 + c[2] * (Z**2 * ZB + Z * ZB**2) + c[3] * (Z**3 + ZB**3) * zz)
    g = kahler.metric_from_potential(potential, Z, ZB)
    real = kahler.to_real(g, Z, ZB, [X], [Y], simplify=sp.expand)
    r_riem = riemann.ricci_scalar(real, (X, Y))
    r_kahler = kahler.scalar_curvature(g, Z, ZB)
    f = Z**2 * ZB + Z * ZB**2 + sp.exp(zz)  # a real test function for the Laplacians
    lap_riem = riemann.laplacian(f.xreplace({Z: X + sp.I * Y, ZB: X - sp.I * Y}), real, (X, Y))
    lap_kahler = kahler.kahler_laplacian(f, g, Z, ZB)
    for point in complex_points((Z,), 2, seed=sum(c) + 10):
        assert abs(kahler.at_point(g, Z, ZB, point)[0, 0]) > 0.2  # metric positive there (|z| < 0.6, coefficients small)
        xy = real_point([X], [Y], [point[Z]])
        assert abs(evaluate(r_riem, xy) - 4 * kahler.at_point(r_kahler, Z, ZB, point)) < TOL
        assert abs(evaluate(lap_riem, xy) - 4 * kahler.at_point(lap_kahler, Z, ZB, point)) < TOL


def test_kahler_christoffel_symbols_are_the_levi_civita_ones():
    # Γ^a_{bc} = dz^a(∇_{∂_b} ∂_c) with ∂_b = ½(∂_x − i∂_y), dz^a = dx^a + i dy^a, from the real Γ;
    # the mixed component dz^a(∇_{∂̄_b} ∂_c) vanishes for a Kähler metric.
    g, z, zb = fubini_study(1)
    real = kahler.to_real(g, z, zb, [X], [Y], simplify=sp.cancel)
    gamma_real = riemann.christoffel(real, (X, Y))
    gamma = kahler.christoffel(g, z, zb)
    d_z = sp.Matrix([1, -sp.I]) / 2  # ∂_z in the basis (∂_x, ∂_y)
    d_zb = sp.Matrix([1, sp.I]) / 2
    dz = sp.Matrix([1, sp.I])  # dz on (∂_x, ∂_y)

    def component(u, v):
        return sum(dz[k] * u[i] * v[j] * gamma_real[k, i, j] for k in range(2) for i in range(2) for j in range(2))

    to_xy = {z[0]: X + sp.I * Y, zb[0]: X - sp.I * Y}
    assert sp.simplify(component(d_z, d_z) - gamma[0, 0, 0].xreplace(to_xy)) == 0
    assert sp.simplify(component(d_zb, d_z)) == 0
    assert sp.simplify(gamma[0, 0, 0] + 2 * zb[0] / (1 + z[0] * zb[0])) == 0


def test_inverse_metric_index_convention():
    z, zb = kahler.complex_coordinates("z w")
    g = sp.Matrix([[2, 1 + sp.I], [1 - sp.I, 3]])
    ginv = kahler.inverse_metric(g)
    # Σ_b g^{a b̄} g_{c b̄} = δ^a_c
    assert sp.Matrix(2, 2, lambda a, c: sum(ginv[a, b] * g[c, b] for b in range(2))).applyfunc(sp.expand) == sp.eye(2)


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "g, error",
    [
        (sp.Matrix([[1, 2], [0, 1]]), NotSymmetricError),  # closed (constant) but not Hermitian
        (sp.Matrix([[1, 0], [0, 1 + Z * ZB]]), NotKahlerError),  # Hermitian, d J ≠ 0: ∂_z g_{w w̄} ≠ ∂_w g_{z w̄}
        (sp.Matrix([[-1, 0], [0, 1]]), NotPositiveDefiniteError),
        (sp.Matrix([[1, 0], [0, 1 / (Z * ZB - Z * ZB)]]), NonFiniteError),
        (sp.eye(3), InvalidParameterError),  # three rows, two coordinates
    ],
)
def test_check_kahler_metric_rejects(g, error):
    z, zb = (Z, sp.Symbol("w")), (ZB, sp.Symbol("wb"))
    with pytest.raises(error):
        kahler.check_kahler_metric(g, z, zb)


def test_curvature_rejects_mismatched_coordinates():
    with pytest.raises(InvalidParameterError):
        kahler.ricci_form(sp.eye(2), (Z,), (ZB,))
    with pytest.raises(InvalidParameterError):
        kahler.ricci_form(sp.eye(1), (Z,), (Z,))
    with pytest.raises(InvalidParameterError):
        kahler.to_real(sp.eye(1), Z, ZB, [X], [Y], components="half")
