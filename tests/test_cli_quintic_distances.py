"""``flowtheory quintic distances`` and ``flowtheory quintic cluster``."""

import json

import jax
import numpy as np
import pytest

from flowtheory.cli import main
from numerics.cy.cluster import birch_euclidean_labels
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


def silhouette(d: np.ndarray, labels: np.ndarray) -> float:
    """Rousseeuw's mean silhouette from a distance matrix, written out: s_i = (b_i - a_i)/max(a_i, b_i)
    with a_i the mean distance to the rest of i's cluster, b_i the least mean distance to another
    cluster, and s_i = 0 in a cluster of one."""
    s = np.zeros(len(labels))
    for i, own in enumerate(labels):
        mates = (labels == own) & (np.arange(len(labels)) != i)
        if not mates.any():
            continue
        a = d[i, mates].mean()
        b = min(d[i, labels == other].mean() for other in np.unique(labels) if other != own)
        s[i] = (b - a) / max(a, b)
    return float(s.mean())


def test_cluster_reports_silhouettes_of_birch_on_the_sample_in_both_metrics_and_writes_heatmaps(tmp_path, capsys):
    """The Birch baseline's two silhouettes, recomputed from the documented sample (key PRNGKey(seed))
    by the definition on distances computed independently: FS as arccos(|z†w|/|z||w|) (3.2), Euclidean on
    [Re z, Im z].  Each clustering scores higher in the metric it clusters by: batched average linkage
    on FS distances, Birch on Euclidean features.  On 12 seeds at these sizes the FS margin was
    0.008 to 0.039 (0.039 at seed 0) and the Euclidean one 0.08 to 0.11; the margins asserted are
    for this seed."""
    out = run_json(capsys, ["quintic", "cluster", "--n", "240", "--batches", "3", "--clusters", "4", "--seed", "0",
                            "--out", str(tmp_path), "--json"])
    assert set(out["silhouette"]) == set(out["silhouette_euclidean"]) == {"batched", "full", "birch_euclidean"}
    for name, value in out["silhouette"].items():
        assert -1 <= value <= 1 and -1 <= out["silhouette_euclidean"][name] <= 1
        sizes = out["cluster_sizes"][name]
        assert len(sizes) == 4 and sum(sizes) == 240 and min(sizes) >= 1
    assert (tmp_path / "quintic_cluster.png").read_bytes()[:8] == PNG_MAGIC
    assert json.loads((tmp_path / "quintic_cluster.json").read_text())["silhouette"] == out["silhouette"]
    z = np.asarray(sample_points(fermat_quintic(), 240, jax.random.PRNGKey(0)).points)
    birch = birch_euclidean_labels(z, 4)
    assert np.bincount(birch, minlength=4).tolist() == out["cluster_sizes"]["birch_euclidean"]
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    d_fs = np.arccos(np.clip(np.abs(zn.conj() @ zn.T), 0.0, 1.0))
    x = np.concatenate([z.real, z.imag], axis=1)
    d_euclid = np.linalg.norm(x[:, None] - x[None], axis=-1)
    # arccos loses ~1e-8 near d = 0 (the diagonal); the silhouette is a mean of ratios of such distances
    assert out["silhouette"]["birch_euclidean"] == pytest.approx(silhouette(d_fs, birch), abs=1e-6)
    assert out["silhouette_euclidean"]["birch_euclidean"] == pytest.approx(silhouette(d_euclid, birch), abs=1e-12)
    fs, euclid = out["silhouette"], out["silhouette_euclidean"]
    assert fs["batched"] - fs["birch_euclidean"] > 0.01
    assert euclid["birch_euclidean"] - euclid["batched"] > 0.05


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
