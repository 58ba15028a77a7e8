"""``flowtheory derive ntk``: JSON and text output carry the derived kernel, A and σ; bad input exits 2."""

from __future__ import annotations

import json
import math

import pytest
import sympy as sp

from flowtheory.cli import main
from flowtheory.latex import latex


def _json(capsys, *argv: str) -> dict:
    assert main(["derive", "ntk", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("dim", [1, 3])
def test_cosine_json_gives_normalised_gaussian(capsys, dim):
    sigma_w = 2.5
    out = _json(capsys, "--network", "cosine", "--dim", str(dim), "--sigma-w", "2.5")
    # A^2/2 = (σ_w/√(2πd))^d and σ = √d/σ_w make Θ̄ the normalised Gaussian (proof kernel-cosine-normalisation).
    assert math.isclose(out["normalization_A"] ** 2 / 2, (sigma_w / math.sqrt(2 * math.pi * dim)) ** dim, rel_tol=1e-14)
    assert math.isclose(out["width_sigma"], math.sqrt(dim) / sigma_w, rel_tol=1e-14)
    kernel = sp.sympify(out["kernel_srepr"])
    x = sorted(kernel.free_symbols, key=str)
    assert len(x) == 2 * dim
    at_diagonal = float(kernel.subs({s: 0 for s in x}))
    assert math.isclose(at_diagonal, (2 * math.pi * out["width_sigma"] ** 2) ** (-dim / 2), rel_tol=1e-14)
    assert out["latex"] == latex(kernel)  # the project's symbol names: x'_{1}, not x'1
    assert "x'_{1}" in out["latex"] and "x'1" not in out["latex"]


def test_symbolic_json_gives_sympy_strings(capsys):
    out = _json(capsys, "--network", "gauss-net", "--dim", "2")
    sigma_w = sp.Symbol("sigma_w", positive=True)
    assert sp.simplify(sp.sympify(out["width_sigma"], locals={"sigma_w": sigma_w}) - sp.sqrt(2) / sigma_w) == 0
    assert sp.simplify(sp.sympify(out["normalization_A"], locals={"sigma_w": sigma_w}) ** 2 - sigma_w**2 / (4 * sp.pi)) == 0
    assert out["sigma_w"] == "sigma_w" and out["sigma_b"] == "sigma_b"


def test_relu_json_has_no_normalisation_and_its_kernel_at_zero(capsys):
    out = _json(capsys, "--network", "relu", "--dim", "2", "--sigma-w", "3/2", "--sigma-b", "0.5")
    assert out["normalization_A"] is None and out["width_sigma"] is None and out["nngp"]
    kernel = sp.sympify(out["kernel_srepr"])
    # x = x' = 0: h = σ_b b, Θ̄ = σ_b² + σ_w² σ_b²/2 + σ_w² σ_b²/2  (relu² and step² moments of N(0, σ_b²) are σ_b²/2, 1/2)
    assert math.isclose(float(kernel.subs({s: 0 for s in kernel.free_symbols})), 0.25 + 2.25 * 0.25, rel_tol=1e-14)


def test_text_output_shows_kernel_and_values(capsys):
    assert main(["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "3"]) == 0
    text = capsys.readouterr().out
    assert "Θ̄(x, x')" in text and "LaTeX:" in text
    a_line = next(line for line in text.splitlines() if line.startswith("A ≈"))
    assert math.isclose(float(a_line.split("≈")[1].split(";")[0]), math.sqrt(2) * 3 / math.sqrt(4 * math.pi), rel_tol=1e-11)


@pytest.mark.parametrize(
    "argv",
    [
        ["--network", "cosine", "--dim", "0"],
        ["--network", "cosine", "--dim", "-3"],
        ["--network", "cosine", "--dim", "2", "--sigma-w", "0"],
        ["--network", "relu", "--dim", "2", "--sigma-w", "-1.5"],
        ["--network", "relu", "--dim", "2", "--sigma-w", "1", "--sigma-b", "-1"],
        ["--network", "gauss-net", "--dim", "2", "--sigma-w", "abc"],
        ["--network", "cosine", "--dim", "2", "--sigma-b", "1"],
    ],
)
def test_bad_input_is_one_line_error_with_status_2(capsys, argv):
    assert main(["derive", "ntk", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and captured.err.startswith("flowtheory: error:")


def test_unknown_network_exits_2():
    assert main(["derive", "ntk", "--network", "tanh", "--dim", "2"]) == 2
