"""``flowtheory derive curvature``: sourced closed forms through the command line, and bad input.

Closed forms: the round S² of radius r has R = 2/r² (Lee, *Riemannian Manifolds*, Prop. 8.34);
the Poincaré half-plane has Γ^x_xy = −1/y, Γ^y_xx = 1/y, Γ^y_yy = −1/y and R = −2 (sympy's
diffgeom test_hyperbolic_space.py); Fubini–Study on CP^n is Kähler–Einstein with
R_{a b̄} = (n+1) g_{a b̄}, and ds² = |dz|²/(1+|z|²)² is the sphere of radius 1/2 (R = 8).
"""

from __future__ import annotations

import json

import pytest
import sympy as sp

from flowtheory.cli import main


def derive(capsys, *argv):
    code = main(["derive", "curvature", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def derive_json(capsys, *argv):
    code, out, err = derive(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def parse(text, *names, real=True):
    return sp.sympify(text, locals={n: sp.Symbol(n, real=True) if real else sp.Symbol(n) for n in names})


def test_sphere_of_radius_r(capsys):
    doc = derive_json(capsys, "--coords", "theta phi", "--metric", "[[r**2, 0], [0, r**2*sin(theta)**2]]")
    assert sp.simplify(parse(doc["scalar"], "r", "theta") - 2 / parse("r", "r") ** 2) == 0
    th, r = sp.symbols("theta r", real=True)
    ricci = sp.Matrix([[parse(e, "r", "theta") for e in row] for row in doc["ricci"]])
    assert (ricci - sp.diag(1, sp.sin(th) ** 2)).applyfunc(sp.simplify) == sp.zeros(2, 2)
    assert len(doc["christoffel"]) == 2 and all(len(row) == 2 and all(len(c) == 2 for c in row) for row in doc["christoffel"])
    assert "R = +2" in doc["conventions"] and doc["kahler"] is False


def test_half_plane_christoffel_and_scalar(capsys):
    doc = derive_json(capsys, "--coords", "x y", "--metric", "diag(1/y^2, 1/y^2)", "--simplify", "cancel")
    y = sp.Symbol("y", real=True)
    gamma = [[[parse(e, "x", "y") for e in row] for row in block] for block in doc["christoffel"]]
    assert gamma[0][0][1] == gamma[0][1][0] == -1 / y
    assert gamma[1][0][0] == 1 / y and gamma[1][1][1] == -1 / y
    assert gamma[0][0][0] == gamma[0][1][1] == gamma[1][0][1] == 0
    assert parse(doc["scalar"], "x", "y") == -2


def test_human_output_states_conventions_and_result(capsys):
    code, out, _ = derive(capsys, "--coords", "theta phi", "--metric", "[[1, 0], [0, sin(theta)**2]]")
    assert code == 0
    assert "unit round S^2 has R = +2" in out
    scalar_line = [line for line in out.splitlines() if line.startswith("Scalar curvature R = ")]
    assert len(scalar_line) == 1 and sp.sympify(scalar_line[0].split("=", 1)[1]) == 2


@pytest.mark.parametrize(
    "source",
    [
        ("--potential", "log(1 + z*zb)"),
        ("--potential", "ln(1 + Abs(z)^2)"),
        ("--metric", "[[1/(1 + z*conjugate(z))**2]]"),
    ],
)
def test_kahler_cp1(capsys, source):
    doc = derive_json(capsys, "--kahler", "--coords", "z", *source)
    assert parse(doc["scalar"], "z", "zb", real=False) == 2  # g^{z z̄} R_{z z̄} = n(n+1)
    assert parse(doc["riemannian_scalar"], "z", "zb", real=False) == 8  # sphere of radius 1/2
    ric = parse(doc["ricci"][0][0], "z", "zb", real=False)
    g = parse(doc["metric"][0][0], "z", "zb", real=False)
    assert sp.simplify(ric - 2 * g) == 0
    assert doc["conjugates"] == ["zb"] and doc["kahler"] is True


def test_kahler_flat_torus_two_coordinates(capsys):
    # A constant, non-diagonal Hermitian metric (flat torus C²/Λ): Ricci-flat, Γ = 0.
    doc = derive_json(capsys, "--kahler", "--coords", "z w", "--metric", "[[2, 1 + I/2], [1 - I/2, 3]]")
    assert all(parse(e, "z", "w") == 0 for row in doc["ricci"] for e in row)
    assert all(parse(e, "z", "w") == 0 for block in doc["christoffel"] for row in block for e in row)
    assert parse(doc["scalar"], "z") == 0 and doc["conjugates"] == ["zb", "wb"]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--coords", "x y", "--metric", "[[1, 0], [0, 1]"], "cannot parse"),  # unbalanced
        (["--coords", "x y", "--metric", "[[1, 0], [0]]"], "square"),  # ragged
        (["--coords", "x y", "--metric", "[[1, 0, 0], [0, 1, 0]]"], "square"),  # wrong shape
        (["--coords", "x y", "--metric", "[[1, x], [0, 1]]"], "not symmetric"),
        (["--coords", "x y", "--metric", "[[1, 0], [0, -1]]"], "not positive definite"),
        (["--coords", "x y", "--metric", "[[1, 0], [0, x - 5]]"], "not positive definite"),
        (["--coords", "x y z", "--metric", "[[1, 0], [0, 1]]"], "3 coordinates"),  # count mismatch
        (["--coords", "x y", "--metric", "[[1, 0], [0, foo(x)]]"], "unknown function"),
        (["--coords", "x y", "--metric", "[[x.__class__, 0], [0, 1]]"], "not allowed"),
        (["--coords", "x y", "--metric", "[[__import__, 0], [0, 1]]"], "not allowed"),
        (["--coords", "x x", "--metric", "[[1, 0], [0, 1]]"], "repeated"),
        (["--coords", "sin y", "--metric", "[[1, 0], [0, 1]]"], "clash"),
        (["--coords", "x y", "--potential", "x*y"], "--kahler"),
        (["--kahler", "--coords", "z w", "--metric", "[[1, 0], [0, 1 + z*zb]]"], "not Kähler"),
        (["--kahler", "--coords", "z", "--metric", "[[-1]]"], "not positive definite"),
        (["--kahler", "--coords", "z", "--metric", "[[1 + I*(z - zb)/4 + 2*I]]"], "not Hermitian"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    code, out, err = derive(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowtheory: error:")
    assert fragment in lines[0]


def test_default_simplification_of_a_dense_3_metric_is_the_unsimplified_curvature(capsys):
    """The default (``cancel``) gives the same tensors as the raw index formulas of
    :mod:`flowtheory.riemann` (no simplification): compared exactly at random rational points with 30
    digits, for the metric whose ``sympy.simplify`` takes minutes."""
    from flowtheory import riemann
    from flowtheory.exact import max_deviation, random_rational_points

    text = "[[1 + x**2, x*y/3, 0], [x*y/3, exp(z), sin(x)/5], [0, sin(x)/5, 2 + y**2]]"
    fast = derive_json(capsys, "--coords", "x y z", "--metric", text)
    coords = sp.symbols("x y z", real=True)
    names = {str(c): c for c in coords}
    metric = sp.Matrix(sp.sympify(text, locals=names))
    default_gamma = sp.Array([[[sp.sympify(e, locals=names) for e in row] for row in block] for block in fast["christoffel"]])
    default_ricci = sp.Matrix([[sp.sympify(e, locals=names) for e in row] for row in fast["ricci"]])
    default_scalar = sp.sympify(fast["scalar"], locals=names)
    raw_ricci = riemann.ricci_tensor(metric, coords)
    assert default_ricci != raw_ricci  # the default did rewrite the components
    points = random_rational_points(coords, 3, seed=3, low=-0.9, high=0.9)
    assert max_deviation(default_gamma, riemann.christoffel(metric, coords), points) < 1e-25
    assert max_deviation(default_ricci, raw_ricci, points) < 1e-25
    assert max_deviation(default_scalar, riemann.ricci_scalar(metric, coords), points) < 1e-25
    assert max_deviation(default_scalar, 0, points) > 1e-2  # not vacuous
