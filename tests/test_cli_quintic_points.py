"""``flowtheory quintic sample`` and ``flowtheory quintic sigma`` through the command line."""

import json
import math

import numpy as np
import pytest

from flowtheory.cli import main


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_sample_writes_valid_points_and_sigma_reads_them(tmp_path, capsys):
    from numerics.cy.hypersurface import quintic_family
    from numerics.cy.io import load_points

    out = tmp_path / "pts.npz"
    result = _json(capsys, ["quintic", "sample", "--n", "3000", "--psi", "0.2+0.1j", "--seed", "5", "--out", str(out), "--json"])
    assert result["n_points"] == 3000 and result["max_residual"] < 1e-13
    assert result["run_record"]["seed"] == 5
    sample, metadata = load_points(out)
    assert sample.surface == quintic_family(0.2 + 0.1j) and metadata["seed"] == 5
    sigma = _json(capsys, ["quintic", "sigma", "--metric", "fs", "--points", str(out), "--json"])
    assert sigma["n_points"] == 3000
    assert abs(sigma["volume"] - 5) < 1e-9  # int J^3 of FS over all of X
    for key in ("sigma", "sigma_stderr", "kappa", "volume", "run_record"):
        assert key in sigma


def test_same_patch_sample_reports_acceptance_and_region_volume(tmp_path, capsys):
    out = tmp_path / "chart.npz"
    result = _json(capsys, ["quintic", "sample", "--n", "1500", "--same-patch", "--chart", "4", "2", "--out", str(out), "--json"])
    rate = result["acceptance_rate"]
    assert result["chart"] == [4, 2]
    assert abs(rate - 1 / 20) <= 4.5 * math.sqrt(5 * rate * (1 - rate) / result["n_candidates"])
    sigma = _json(capsys, ["quintic", "sigma", "--metric", "fs", "--points", str(out), "--json"])
    # the chart region holds 1/20 of int J^3 = 5
    assert abs(sigma["volume"] - 5 / 20) <= 4.5 * sigma["volume_stderr"]


def test_sigma_of_fresh_points(capsys):
    r = _json(capsys, ["quintic", "sigma", "--metric", "fs", "--n", "40000", "--seed", "2", "--json"])
    assert r["n_points"] == 40000
    assert 0.37 - 4.5 * r["sigma_stderr"] <= r["sigma"] <= 0.38 + 4.5 * r["sigma_stderr"]
    assert np.isfinite(r["kappa"]) and r["kappa"] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["quintic", "sample", "--n", "10", "--psi", "1", "--out", "x.npz"],
        ["quintic", "sample", "--n", "10", "--out", "x.txt"],
        ["quintic", "sample", "--n", "10", "--same-patch", "--chart", "1", "1", "--out", "x.npz"],
        ["quintic", "sigma", "--metric", "fs", "--points", "does-not-exist.npz"],
    ],
)
def test_bad_input_is_a_one_line_error(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowtheory: error:") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["quintic", "sample", "--n", "0", "--out", "x.npz"], ["quintic", "sigma", "--metric", "ricci", "--n", "5"]])
def test_argparse_rejects_bad_values(argv):
    assert main(argv) == 2
