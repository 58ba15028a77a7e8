"""``flowtheory quintic distances`` and ``flowtheory quintic cluster``."""

import json

import jax
import numpy as np
import pytest

from flowtheory.cli import main
from numerics.cy.distance import nearest_neighbour_statistics
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.sampling import sample_points
from numerics.io.records import read_record, write_record
from flowtheory.cli.quintic_distances import DISTANCES_FORMAT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_distances_reports_statistics_of_the_recorded_sample_and_a_fit(tmp_path, capsys):
    out = run_json(capsys, ["quintic", "distances", "--n", "150,300", "--repeats", "2", "--seed", "3", "--out", str(tmp_path), "--json"])
    rows = out["samples"]
    assert [(r["n"], r["repeat"]) for r in rows] == [(150, 0), (150, 1), (300, 0), (300, 1)]
    # the reported statistics are those of the documented sample: key = fold_in(fold_in(PRNGKey(seed), n), repeat)
    pts = sample_points(fermat_quintic(), 300, jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(3), 300), 1)).points
    s = nearest_neighbour_statistics(pts)
    assert rows[3]["mean"] == pytest.approx(s.mean, abs=1e-12) and rows[3]["min"] == pytest.approx(s.min, abs=1e-12)
    for r in rows:
        assert 0 < r["min"] <= r["mean"] <= r["max"] <= np.pi / 2
    fit = out["fit"]
    assert fit["se_b"] > 0 and fit["se_a"] > 0
    assert -0.5 < fit["b"] < 0  # nearest neighbours get closer as N grows
    assert out["dimension_slope"] == pytest.approx(-1 / 6)
    assert out["run_record"]["seed"] == 3 and out["run_record"]["parameters"]["n"] == [150, 300]
    assert (tmp_path / "quintic_distances.png").read_bytes()[:8] == PNG_MAGIC
    assert json.loads((tmp_path / "quintic_distances.json").read_text())["samples"] == rows


def test_distances_resumes_from_its_record_and_refuses_edits_and_mixing(tmp_path, capsys):
    argv = ["quintic", "distances", "--seed", "5", "--out", str(tmp_path), "--json"]
    run_json(capsys, [*argv, "--n", "100"])
    path = tmp_path / "quintic_distances.json"
    stored = read_record(path, DISTANCES_FORMAT)
    # a rerun into the same folder neither mixes nor replaces the earlier run without being asked
    assert main([*argv, "--n", "100,120"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    # a hand-edited row breaks the digest: refused, naming the file and the field
    edited = json.loads(path.read_text())
    edited["samples"][0]["mean"] = 0.345678
    path.write_text(json.dumps(edited))
    assert main([*argv, "--n", "100,120", "--resume"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "'digest'" in err
    # a valid record is reused: a value only the stored file can supply survives the resume
    stored["samples"][0]["mean"] = 0.345678
    write_record(path, DISTANCES_FORMAT, {k: v for k, v in stored.items() if k not in ("format", "digest")})
    assert main([*argv, "--n", "100,120", "--resume"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["samples"][0]["mean"] == 0.345678 and out["resumed_from"]["samples_reused"] == 1
    assert out["fit"] is None  # two values: no fit with a standard error
    assert captured.err.startswith(f"flowtheory: resumed from {path}: 1 sample(s) reused")
    # another seed does not resume this run; --overwrite starts afresh
    assert main([*argv[:2], "--seed", "6", *argv[4:], "--n", "100", "--resume"]) == 2
    other = run_json(capsys, [*argv[:2], "--seed", "6", *argv[4:], "--n", "100", "--overwrite"])
    assert other["samples"][0]["mean"] != 0.345678 and other["resumed_from"] is None


def test_cluster_reports_silhouettes_and_writes_heatmaps(tmp_path, capsys):
    out = run_json(capsys, ["quintic", "cluster", "--n", "240", "--batches", "3", "--clusters", "4", "--out", str(tmp_path), "--json"])
    assert set(out["silhouette"]) == {"batched", "full", "birch_euclidean"}
    for name, value in out["silhouette"].items():
        assert -1 <= value <= 1
        sizes = out["cluster_sizes"][name]
        assert len(sizes) == 4 and sum(sizes) == 240 and min(sizes) >= 1
    assert (tmp_path / "quintic_cluster.png").read_bytes()[:8] == PNG_MAGIC
    assert json.loads((tmp_path / "quintic_cluster.json").read_text())["silhouette"] == out["silhouette"]


@pytest.mark.parametrize(
    "argv",
    [
        ["quintic", "cluster", "--n", "100", "--batches", "5", "--clusters", "30"],
        ["quintic", "cluster", "--n", "10", "--batches", "20", "--clusters", "2"],
        ["quintic", "cluster", "--n", "100", "--batches", "2", "--clusters", "1"],
    ],
)
def test_cluster_bad_input_exits_2_with_one_line(argv, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("flowtheory: error:") and "\n" not in err


@pytest.mark.parametrize("n", ["0", "5,1", "abc", "-3"])
def test_distances_bad_n_exits_2(n, capsys):
    assert main(["quintic", "distances", "--n", n]) == 2


def test_cluster_nonpositive_n_exits_2(capsys):
    assert main(["quintic", "cluster", "--n", "0", "--batches", "1", "--clusters", "2"]) == 2
