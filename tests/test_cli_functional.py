"""`flowtheory derive functional`: JSON/LaTeX output derived from the library, bad input exits 2."""

import json

import pytest
import sympy as sp

from flowtheory import functionals
from flowtheory.cli import main
from flowtheory_proofs import all_proofs


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_document_matches_the_library_and_the_proof(capsys):
    out = _json(capsys, ["derive", "functional", "ultralocal", "--json"])
    for key in ("functional", "variation", "flow", "latex", "equations", "verdict"):
        assert key in out
    assert set(out["latex"]) == {"functional", "variation", "flow"}
    assert out["equations"] == ["B.12", "B.13", "B.14", "B.21"]
    proof = next(p for p in all_proofs() if p.id == out["proof"])
    assert out["verdict"] == proof.run().verdict == "agrees after correction"
    f = functionals.ultralocal(1)
    # The printed flow is the library's flow (parsed back): φ̇ = +2(η - 1) = 2 φ_{z z̄} on the flat torus.
    parsed = sp.sympify(out["flow"]["phi"], locals={str(s): s for s in f.flow()["phi"].free_symbols})
    assert sp.simplify(parsed - f.flow()["phi"]) == 0
    assert sp.simplify(parsed - 2 * f.jet.symbol("phi", (1, 1))) == 0


def test_latex_prints_three_lines(capsys):
    assert main(["derive", "functional", "j", "--latex"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[2].startswith(r"\partial_t")


def test_text_output_names_the_verdict(capsys):
    assert main(["derive", "functional", "mabuchi"]) == 0
    text = capsys.readouterr().out
    assert "func-mabuchi-j: agrees" in text


@pytest.mark.parametrize("argv", [["--dim", "0"], ["--dim", "x"], ["--dim", "9"]])
def test_bad_dimension_exits_2(capsys, argv):
    assert main(["derive", "functional", "calabi", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("flowtheory: error:")


def test_unknown_functional_exits_2(capsys):
    assert main(["derive", "functional", "hamilton"]) == 2
