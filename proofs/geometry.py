"""Proofs of the Kähler geometry of appendix B: the real metric of (B.2), the Ricci form (B.3), and
Fubini–Study as a Kähler–Einstein metric (with the factors between Kähler and Riemannian curvature).

The Riemannian side is computed with :mod:`flowtheory.riemann` on the real metric
:func:`flowtheory.kahler.to_real`; the Kähler side with :mod:`flowtheory.kahler`.  Nothing is
assumed about the factors of 2 between them: they are derived here.
"""

from __future__ import annotations

import sympy as sp

from flowtheory import kahler, riemann
from flowtheory.exact import max_deviation, random_rational_points
from flowtheory.printed import flows as printed
from flowtheory.proof import Check, Outcome, proof

# Values compared at exact rational points, evaluated with 30 significant digits.
TOL_30_DIGITS = 1e-20


def _ddbar(z, zbar):
    return lambda f: sp.Matrix(len(z), len(z), lambda a, b: sp.diff(f, z[a], zbar[b]))


def _real_coordinates(n: int):
    return sp.symbols(f"x1:{n + 1}", real=True), sp.symbols(f"y1:{n + 1}", real=True)


def _two_form_matrix(coefficients: sp.MatrixBase, n: int) -> sp.Matrix:
    """Σ_ab C_ab dz^a ∧ dz̄^b as the antisymmetric matrix W_ij = ω(e_i, e_j) in the basis (∂_x, ∂_y)."""
    dz = [sp.Matrix([1 if i == a else 0 for i in range(n)] + [sp.I if i == a else 0 for i in range(n)]) for a in range(n)]
    dzb = [v.conjugate() for v in dz]
    out = sp.zeros(2 * n, 2 * n)
    for a in range(n):
        for b in range(n):
            out += coefficients[a, b] * (dz[a] * dzb[b].T - dzb[b] * dz[a].T)
    return out.applyfunc(sp.expand)


@proof(
    id="geom-B2-real-metric",
    title="The Riemannian metric of the Kähler form (B.2) is ds² = g_{ab̄} dz^a dz̄^b",
    equations=("B.2",),
)
def real_metric_of_kahler_form() -> Outcome:
    n = 2
    z, zbar = kahler.complex_coordinates("z w")
    x, y = _real_coordinates(n)
    a11, a22, p, q = sp.symbols("a11 a22 p q", real=True)
    g = sp.Matrix([[a11, p + sp.I * q], [p - sp.I * q, a22]])  # a generic Hermitian matrix
    # Complex structure J ∂_x = ∂_y, J ∂_y = −∂_x; Kähler form ω(X, Y) = G(JX, Y).
    J = sp.zeros(2 * n, 2 * n)
    for a in range(n):
        J[n + a, a], J[a, n + a] = 1, -1
    printed_form = _two_form_matrix(printed.eq_B_2(g), n)
    symbolic = {}
    for components, factor in (("line-element", 1), ("tensor", 2)):
        G = kahler.to_real(g, z, zbar, x, y, components=components)
        omega = (J.T * G).applyfunc(sp.expand)  # ω_ij = G(J e_i, e_j)
        symbolic[f"to_real({components}): G symmetric, J-invariant"] = (G - G.T).is_zero_matrix and (J.T * G * J - G).applyfunc(sp.expand).is_zero_matrix
        symbolic[f"Kähler form of to_real({components}) = {factor} × (B.2)"] = (omega - factor * printed_form).applyfunc(sp.expand).is_zero_matrix
    return Outcome(
        derived=sp.Symbol(r"ds^2 = g_{a\bar b}\,dz^a d\bar z^b \;\Leftrightarrow\; J = \tfrac{i}{2} g_{a\bar b}\,dz^a\wedge d\bar z^b"),
        printed=sp.Symbol(r"J = \tfrac{i}{2} g_{a\bar b}\,dz^a\wedge d\bar z^b"),
        matches_print=True,
        symbolic_checks=symbolic,
    )


@proof(
    id="geom-B3-ricci-form",
    title="Ricci form R_{ab̄} = −∂_a∂̄_b ln det g equals the Riemannian Ricci tensor of the real metric",
    equations=("B.3",),
    depends_on=("geom-B2-real-metric",),
)
def ricci_form_is_riemannian_ricci() -> Outcome:
    symbolic = {}
    # 1. (B.3) as printed is the formula kahler.ricci_form implements (generic 2x2 metric).
    z, zbar = kahler.complex_coordinates("z w")
    entries = [sp.Function(f"h{a}{b}")(*z, *zbar) for a in range(2) for b in range(2)]
    generic = sp.Matrix(2, 2, entries)
    symbolic["(B.3) printed = kahler.ricci_form"] = (
        printed.eq_B_3(generic, _ddbar(z, zbar)) - kahler.ricci_form(generic, z, zbar)
    ).applyfunc(sp.expand).is_zero_matrix

    # 2. Complex dimension 1, a generic metric λ(x, y)|dz|²: Riemannian Ricci = Ric(∂_z, ∂̄_z) in real form.
    #    With ∂ = ½(∂_x − i∂_y), ∂̄ = ½(∂_x + i∂_y):  −∂∂̄ ln λ = −¼ Δ₀ ln λ, real tensor form 2·Re.
    xr, yr = sp.symbols("x y", real=True)
    lam = sp.Function("lam", positive=True)(xr, yr)
    ln_lam = sp.log(lam)
    wirtinger = (sp.diff(ln_lam, xr, 2) + sp.diff(ln_lam, yr, 2)) / 4
    ric_real = riemann.ricci_tensor(lam * sp.eye(2), (xr, yr))
    symbolic["n = 1, generic λ: Ric(λδ) = 2·(−∂∂̄ ln λ)·δ"] = (ric_real - 2 * (-wirtinger) * sp.eye(2)).applyfunc(sp.simplify).is_zero_matrix

    # 3. CP^1 (Fubini–Study), exactly.
    (z1,), (zb1,) = kahler.complex_coordinates("z")
    x1, y1 = _real_coordinates(1)
    g1 = kahler.metric_from_potential(sp.log(1 + z1 * zb1), z1, zb1)
    G1 = kahler.to_real(g1, z1, zb1, x1, y1, simplify=sp.cancel)
    R1 = kahler.to_real(kahler.ricci_form(g1, z1, zb1), z1, zb1, x1, y1, components="tensor")
    symbolic["CP^1: Ric(to_real g) = to_real(R_{ab̄}, tensor)"] = (riemann.ricci_tensor(G1, x1 + y1) - R1).applyfunc(sp.simplify).is_zero_matrix

    # 4. Complex dimension 2, a polynomial potential without symmetry (g_{zw̄} complex, non-constant).
    zz, ww = z[0] * zbar[0], z[1] * zbar[1]
    K = zz + ww + zz * ww / 3 + (z[0] ** 2 * zbar[1] + zbar[0] ** 2 * z[1]) / 5
    g2 = kahler.metric_from_potential(K, z, zbar)
    x2, y2 = _real_coordinates(2)
    G2 = kahler.to_real(g2, z, zbar, x2, y2, simplify=sp.expand)
    R2 = kahler.to_real(kahler.ricci_form(g2, z, zbar), z, zbar, x2, y2, components="tensor")
    riem2 = riemann.ricci_tensor(G2, x2 + y2)
    (point,) = random_rational_points(x2 + y2, 1, seed=20240628, low=-0.4, high=0.4)
    kahler.check_kahler_metric(g2, z, zbar, sample_points=[{z[0]: point[x2[0]] + sp.I * point[y2[0]], z[1]: point[x2[1]] + sp.I * point[y2[1]]}])
    deviation = max_deviation(riem2, R2, [point])
    size = max_deviation(R2, 0, [point])
    symbolic["n = 2 check is not vacuous (|Ric| > 1e-3 at the point)"] = size > 1e-3
    return Outcome(
        derived=sp.Symbol(r"\mathrm{Ric}(\partial_a, \bar\partial_{\bar b}) = -\partial_a\bar\partial_{\bar b}\ln\det g_{c\bar d}"),
        printed=sp.Symbol(r"R_{a\bar b} = -\partial_a\bar\partial_{\bar b}\ln g"),
        matches_print=True,
        checks=(Check("n = 2 potential: Riemannian Ricci vs (B.3), one rational point, 30 digits", deviation, TOL_30_DIGITS),),
        symbolic_checks=symbolic,
    )


@proof(
    id="geom-fubini-study-KE",
    title="Fubini–Study is Kähler–Einstein, R_{ab̄} = (n+1) g_{ab̄}; Riemannian scalar = 4 g^{ab̄}R_{ab̄}",
    equations=("B.3", "B.8"),
    depends_on=("geom-B3-ricci-form",),
)
def fubini_study_kahler_einstein() -> Outcome:
    symbolic = {}
    for n in (1, 2):
        z, zbar = kahler.complex_coordinates(" ".join(f"z{a}" for a in range(1, n + 1)))
        g = kahler.metric_from_potential(sp.log(1 + sum(a * b for a, b in zip(z, zbar))), z, zbar)
        ric = kahler.ricci_form(g, z, zbar)
        symbolic[f"CP^{n}: R_ab̄ = {n + 1} g_ab̄"] = (ric - (n + 1) * g).applyfunc(sp.cancel).is_zero_matrix
        symbolic[f"CP^{n}: g^ab̄ R_ab̄ = {n * (n + 1)}"] = sp.cancel(kahler.scalar_curvature(g, z, zbar)) == n * (n + 1)
    # The Riemannian route on CP^1: ds² = |dz|²/(1+|z|²)² is the sphere of radius 1/2.
    (z1,), (zb1,) = kahler.complex_coordinates("z")
    x, y = _real_coordinates(1)
    g1 = kahler.metric_from_potential(sp.log(1 + z1 * zb1), z1, zb1)
    trace = kahler.scalar_curvature(g1, z1, zb1)
    for components, expected in (("line-element", 8), ("tensor", 4)):
        G = kahler.to_real(g1, z1, zb1, x, y, components=components, simplify=sp.cancel)
        r_riem = sp.simplify(riemann.ricci_scalar(G, x + y))
        factor = sp.simplify(r_riem / trace)
        symbolic[f"CP^1 ({components}): Riemannian R = {expected}"] = r_riem == expected
        symbolic[f"CP^1 ({components}): R_Riem / g^ab̄R_ab̄ = RIEMANNIAN_FACTOR = {kahler.RIEMANNIAN_FACTOR[components]}"] = (
            factor == kahler.RIEMANNIAN_FACTOR[components]
        )
    line = kahler.to_real(g1, z1, zb1, x, y, simplify=sp.cancel)
    symbolic["CP^1: to_real(g) = δ/(1 + x² + y²)² (radius 1/2)"] = (line - sp.eye(2) / (1 + x[0] ** 2 + y[0] ** 2) ** 2).applyfunc(sp.cancel).is_zero_matrix
    return Outcome(
        derived=sp.Symbol(r"R_{a\bar b} = (n+1)\,g_{a\bar b},\quad R_{\mathrm{Riem}} = 4\,g^{a\bar b}R_{a\bar b} = 4n(n+1)"),
        printed=None,
        matches_print=True,
        symbolic_checks=symbolic,
    )
