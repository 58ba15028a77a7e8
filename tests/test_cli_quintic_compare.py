"""``flowtheory quintic compare`` and ``quintic donaldson``: the learners of section 3.3 side by side on a
tiny set — facts that tie the stages together, an interrupted run resumed stage by stage, bad input."""

import json

import numpy as np
import pytest

from flowtheory.cli import main
from flowtheory.cli.quintic_compare import COMPARE_FORMAT
from flowtheory.cli.quintic_donaldson import DONALDSON_FORMAT
from numerics.io.records import read_record

TINY = ["--width", "4", "--depth", "1", "--epochs", "1", "--n-train", "128", "--batch", "64", "--n-val", "128",
        "--flow-points", "30", "--flow-steps", "3", "--k", "1", "--seed", "3", "--json"]


def run(capsys, *argv):
    assert main(["quintic", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_compare_ties_the_learners_together_and_resumes_stage_by_stage(tmp_path, capsys, monkeypatch):
    whole = run(capsys, "compare", *TINY, "--out", str(tmp_path / "w"))
    s = whole["stages"]
    finite, linear, flows, balanced = s["finite"], s["linearised"], s["kernel_flow"], s["donaldson"]
    # the linearised twin is the same network at epoch 0, and both train for the epochs asked
    assert linear["val_sigma"][0] == pytest.approx(finite["val_sigma"][0], rel=1e-12) and len(finite["val_sigma"]) == len(linear["val_sigma"]) == 2
    assert finite["val_sigma_final"] == pytest.approx(finite["val_sigma"][-1], rel=1e-12)
    # both kernel flows start from Fubini–Study on the same points
    assert flows["initial"]["test_sigma"][0] == flows["learned"]["test_sigma"][0]
    assert all(len(f["test_sigma"]) == 4 for f in flows.values())
    # every final σ carries a positive standard error, and k = 1 has the 5 sections of O(1)
    assert balanced["n_sections"] == [5] and all(x > 0 for x in (finite["val_sigma_final_stderr"], *balanced["val_sigma_stderr"]))
    assert {r["claim"] for r in whole["summary"]} >= {"finite network learns the metric", "a frozen kernel generalises poorly"}
    for name in ("quintic_compare.png", "quintic_compare.md", "quintic_compare.params.npz"):
        assert (tmp_path / "w" / name).stat().st_size > 0
    assert "| Donaldson balanced metric, k = 1 |" in (tmp_path / "w" / "quintic_compare.md").read_text()

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("numerics.cy.donaldson.donaldson_study", interrupt)  # the last stage is interrupted
    assert main(["quintic", "compare", *TINY, "--out", str(tmp_path / "r")]) == 130
    partial = read_record(tmp_path / "r" / "quintic_compare.json", COMPARE_FORMAT)
    assert set(partial["stages"]) == {"finite", "linearised", "kernel_flow"}
    monkeypatch.undo()
    capsys.readouterr()
    resumed = run(capsys, "compare", *TINY, "--out", str(tmp_path / "r"), "--resume")
    for stage in ("finite", "linearised", "kernel_flow", "donaldson"):
        a, b = whole["stages"][stage], resumed["stages"][stage]
        for key in ("val_sigma", "test_sigma", "train_sigma"):
            if key in a:
                np.testing.assert_allclose(b[key], a[key], rtol=1e-12)
    assert main(["quintic", "compare", *TINY, "--lr", "0.01", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "differ in" in capsys.readouterr().err


def test_donaldson_command_keeps_degrees_done_and_k1_is_fubini_study(tmp_path, capsys):
    """At k = 1 on the Fermat quintic the symmetry makes h ∝ 1 balanced (T(1) ∝ 1 in expectation): σ_1 equals
    Fubini–Study's σ within 3 standard errors of their difference's scale; σ_2 < σ_1."""
    argv = ["--n-train", "800", "--n-val", "400", "--iterations", "4", "--seed", "2", "--json", "--out", str(tmp_path)]
    first = run(capsys, "donaldson", "--k", "1", *argv)
    assert abs(first["val_sigma"][0] - first["fs_sigma"]) < 3 * first["fs_sigma_stderr"]
    both = run(capsys, "donaldson", "--k", "1,2", *argv, "--resume")
    assert both["k"] == [1, 2] and both["val_sigma"][0] == first["val_sigma"][0] and both["val_sigma"][1] < both["val_sigma"][0]
    assert both["n_sections"] == [5, 15]
    assert read_record(tmp_path / "quintic_donaldson.json", DONALDSON_FORMAT)["parameters"]["psi"] == [0.0, 0.0]


@pytest.mark.parametrize("command,argv,fragment", [
    ("compare", ["--manifold", "cubic", "--psi", "0.5"], "--psi 0.5 needs --manifold quintic"),
    ("compare", ["--k", "4", "--n-train", "200"], "below 10 points per section"),
    ("compare", ["--k", "0"], "--k"),
    ("donaldson", ["--k", "9"], "--k"),
    ("donaldson", ["--psi", "1"], "singular"),
])
def test_bad_input_is_one_line(command, argv, fragment, tmp_path, capsys):
    assert main(["quintic", command, *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowtheory: error:") and err.count("\n") == 1 and fragment in err
