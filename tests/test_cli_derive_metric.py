"""``derive functional NAME --coords --metric/--potential``: flows of concrete metrics against closed forms;
``derive curvature --signature``: indefinite metrics.

Closed forms.  Ricci flow ∂_t g = −2R_ij (2.39): the Ricci tensor is invariant under constant
rescaling, and the round S² of radius r has R_ij = g_ij/r² (Lee, *Riemannian Manifolds*, Prop. 8.34),
so the flow at r²(dθ² + sin²θ dφ²) is −2(dθ² + sin²θ dφ²) for every r; flat metrics — constant
ones and the plane in polar coordinates dr² + r²dθ² — do not move.  Fubini–Study K = ln(1 + |z|²) on
CP¹ has det g = (1 + |z|²)⁻², R_{zz̄} = 2g_{zz̄} and g^{zz̄}R_{zz̄} = 2 (Kähler–Einstein), so the
Kähler–Ricci flow (B.4) φ̇ = ln det g is −2 ln(1 + |z|²) with ∂_t g = −2g, and the Calabi flow
φ̇ = R − R̄ (B.8) is 2 − R̄.  Lorentzian (mostly-plus signs, Wald; Carroll): Schwarzschild is
Ricci-flat; de Sitter in 1+1 dimensions, −dt² + e^{2t}dx², has R = 2H² = 2.
"""

from __future__ import annotations

import json

import pytest
import sympy as sp

from flowtheory import riemann
from flowtheory.cli import main
from flowtheory.errors import InvalidParameterError, NotPositiveDefiniteError, SignatureError


def _json(capsys, *argv):
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("flowtheory: error: "), captured.err
    return lines[0]


def _matrix(rows, names, real=True):
    symbols = {n: sp.Symbol(n, real=real) for n in names}
    return sp.Matrix([[sp.sympify(e, locals=symbols) for e in row] for row in rows]), symbols


def test_ricci_flow_of_the_round_sphere_of_radius_r_is_minus_twice_the_unit_metric(capsys):
    doc = _json(capsys, "derive", "functional", "ricci", "--coords", "theta phi", "--metric", "[[r**2, 0], [0, r**2*sin(theta)**2]]")
    flow, s = _matrix(doc["flow_matrix"], ("theta", "phi", "r"))
    assert (flow + 2 * sp.diag(1, sp.sin(s["theta"]) ** 2)).applyfunc(sp.simplify) == sp.zeros(2, 2)
    assert doc["identified"] == [{"field": "g", "form": "-2 R_ij", "latex": r"-2R_{ij}", "holds": True}]
    assert doc["coordinates"] == ["theta", "phi"] and doc["metric"][1][1] == "r**2*sin(theta)**2"


@pytest.mark.parametrize("coords, metric", [("x y", "[[2, 1], [1, 3]]"), ("r theta", "diag(1, r**2)")])
def test_flat_metrics_do_not_move(capsys, coords, metric):
    doc = _json(capsys, "derive", "functional", "ricci", "--coords", coords, "--metric", metric)
    flow, _ = _matrix(doc["flow_matrix"], coords.split())
    assert flow == sp.zeros(2, 2) and doc["identified"][0]["holds"] is True


def test_perelman_flow_with_a_dilaton_is_ricci_plus_hessian(capsys):
    """(2.40) at a curved metric e^{2u}δ with a dilaton: the flow from the variation engine equals
    −2(R_ij + ∇_i∇_jφ) and −Δφ − R computed by :mod:`flowtheory.riemann` (compared here exactly)."""
    doc = _json(capsys, "derive", "functional", "perelman", "--coords", "x y", "--metric", "diag(exp(x*y/5), exp(x*y/5))",
                "--dilaton", "x/3 + y**2/7")
    g, s = _matrix([["exp(x*y/5)", "0"], ["0", "exp(x*y/5)"]], ("x", "y"))
    x, y = s["x"], s["y"]
    phi = x / 3 + y**2 / 7
    flow, _ = _matrix(doc["flow_matrix"], ("x", "y"))
    expected = -2 * (riemann.ricci_tensor(g, (x, y)) + riemann.hessian(phi, g, (x, y)))
    assert (flow - expected).applyfunc(sp.simplify) == sp.zeros(2, 2)
    dphi = sp.sympify(doc["flow"]["phi"], locals=s)
    assert sp.simplify(dphi - (-riemann.laplacian(phi, g, (x, y)) - riemann.ricci_scalar(g, (x, y)))) == 0
    assert expected != sp.zeros(2, 2)  # not vacuous
    assert [i["holds"] for i in doc["identified"]] == [True, True]


def test_kahler_ricci_and_calabi_flows_of_fubini_study(capsys):
    doc = _json(capsys, "derive", "functional", "kahler-ricci", "--kahler", "--coords", "z", "--potential", "log(1 + z*zb)")
    z, zb = sp.symbols("z zb")
    dphi = sp.sympify(doc["flow"]["phi"], locals={"z": z, "zb": zb})
    assert sp.simplify(sp.exp(dphi) - (1 + z * zb) ** -2) == 0  # φ̇ = ln det g = −2 ln(1 + |z|²)
    g = 1 / (1 + z * zb) ** 2
    assert sp.simplify(sp.sympify(doc["flow_matrix"][0][0], locals={"z": z, "zb": zb}) + 2 * g) == 0  # −R = −2g
    assert [(i["form"], i["holds"]) for i in doc["identified"]] == [("ln det g", True), ("-R_{a bbar}", True)]
    assert doc["conjugates"] == ["zb"] and doc["reference_potential"] == "z*zb"
    calabi = _json(capsys, "derive", "functional", "mabuchi", "--kahler", "--coords", "w", "--potential", "log(1 + w*wb)")
    assert sp.simplify(sp.sympify(calabi["flow"]["phi"]) - (2 - sp.Symbol("Rbar"))) == 0
    assert calabi["identified"] == [{"field": "phi", "form": "R - Rbar", "latex": r"R - \bar{R}", "holds": True}]


def test_latex_at_a_metric_ends_in_the_covariant_form(capsys):
    assert main(["derive", "functional", "ricci", "--coords", "theta phi", "--metric", "[[1, 0], [0, sin(theta)**2]]", "--latex"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(r"\partial_t g_{ij} = \left[\begin{matrix}-2 & 0") and line.endswith(r"\end{matrix}\right] = -2R_{ij}")
    assert r"\sin^{2}{\left(\theta \right)}" in line


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["ricci", "--coords", "x y w", "--metric", "diag(1, 1, 1)"], "ricci is derived here in dimension <= 2"),
        (["ricci", "--metric", "diag(1, 1)"], "need --coords"),
        (["ricci", "--coords", "x y", "--metric", "diag(1, -1)"], "not positive definite"),
        (["ricci", "--coords", "x y", "--metric", "diag(1, 1)", "--dim", "2"], "--dim goes without --metric"),
        (["ricci", "--coords", "x y", "--metric", "diag(1, 1)", "--dilaton", "x"], "--dilaton goes with perelman"),
        (["ricci", "--coords", "z", "--kahler", "--potential", "z*zb"], "give --metric in real --coords"),
        (["kahler-ricci", "--coords", "x y", "--metric", "diag(1, 1)"], "give --kahler and --potential"),
        (["kahler-ricci", "--kahler", "--coords", "z", "--potential=-z*zb"], "not positive definite"),
        (["calabi", "--kahler", "--coords", "z w", "--potential", "z*zb + w*wb"], "calabi is derived here in dimension <= 1"),
        (["ricci", "--coords", "x y"], "--coords goes with --metric or --potential"),
    ],
)
def test_bad_input_at_a_metric_is_one_line(capsys, argv, fragment):
    assert fragment in _error(capsys, "derive", "functional", *argv)


# --- indefinite metrics -------------------------------------------------------------------------

SCHWARZSCHILD = "diag(-(1 - 2*M/r), 1/(1 - 2*M/r), r**2, r**2*sin(theta)**2)"


@pytest.mark.parametrize("signature", ["lorentzian", "-+++", "+-++"])
def test_schwarzschild_is_ricci_flat(capsys, signature):
    # a value starting with "-" is attached with "=" (argparse would read it as an option)
    doc = _json(capsys, "derive", "curvature", "--coords", "t r theta phi", "--metric", SCHWARZSCHILD, f"--signature={signature}")
    assert all(sp.sympify(e) == 0 for row in doc["ricci"] for e in row) and sp.sympify(doc["scalar"]) == 0
    gamma, s = _matrix(doc["christoffel"][1], ("t", "r", "theta", "phi", "M"))
    r, M = s["r"], s["M"]
    assert sp.simplify(gamma[0, 0] - M * (r - 2 * M) / r**3) == 0  # Γ^r_tt = M(r − 2M)/r³ (Carroll 5.15)
    assert doc["signature"] == [3, 1]


def test_de_sitter_in_two_dimensions_has_r_two(capsys):
    doc = _json(capsys, "derive", "curvature", "--coords", "t x", "--metric", "diag(-1, exp(2*t))", "--signature", "lorentzian")
    assert sp.sympify(doc["scalar"]) == 2 and doc["signature"] == [1, 1]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--metric", SCHWARZSCHILD], "an indefinite metric needs --signature"),
        (["--metric", "diag(-1, 1, 1, 1)"], "an indefinite metric needs --signature"),
        (["--metric", "diag(1, 1, 1, 1)", "--signature", "lorentzian"], "has signature (4, 0)"),
        (["--metric", "diag(-1, -1, 1, 1)", "--signature=-+++"], "has signature (2, 2)"),
        (["--metric", SCHWARZSCHILD, "--signature=-++"], '4 signs such as "-+++"'),
        (["--metric", SCHWARZSCHILD, "--signature", "minkowski"], "--signature"),
    ],
)
def test_indefinite_metrics_need_the_flag_and_the_right_signs(capsys, argv, fragment):
    line = _error(capsys, "derive", "curvature", "--coords", "t r theta phi", *argv)
    assert fragment in line


def test_signature_of_a_metric_of_numbers_is_decided_exactly():
    """Descartes' rule of signs on the characteristic polynomial: exact for symmetric matrices (real roots),
    including irrational entries whose eigenvalues a float would blur."""
    assert riemann.inertia(sp.diag(-1, 1, 1, 1)) == (3, 1)
    assert riemann.inertia(sp.Matrix([[1, 2], [2, 1]])) == (1, 1)  # eigenvalues 3, −1
    eps = sp.Rational(1, 10**30)
    assert riemann.inertia(sp.Matrix([[1, 1], [1, 1 + eps]])) == (2, 0)  # det = 10⁻³⁰ > 0
    assert riemann.inertia(sp.Matrix([[1, 1], [1, 1 - eps]])) == (1, 1)
    assert riemann.inertia(sp.Matrix([[sp.sqrt(2), 1], [1, 1 / sp.sqrt(2)]]) + sp.eye(2) * eps) == (2, 0)
    t, x = sp.symbols("t x", real=True)
    minkowski = sp.diag(-1, 1)
    assert riemann.ricci_scalar(minkowski, (t, x), signature=(1, 1)) == 0
    with pytest.raises(NotPositiveDefiniteError):
        riemann.christoffel(minkowski, (t, x))
    with pytest.raises(SignatureError):
        riemann.christoffel(sp.eye(2), (t, x), signature=(1, 1))
    with pytest.raises(InvalidParameterError):
        riemann.check_metric(minkowski, (t, x), signature=(2, 1))
