"""``flowtheory quintic flow``: the kernel flow (3.5) end to end, exact and clustered, and its bad input."""

import json

import pytest

from flowtheory.cli import main
from flowtheory.cli.quintic_flow import FLOW_FORMAT
from numerics.io.records import read_record

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = ["--n-train", "240", "--n-test", "160", "--steps", "8", "--seed", "3", "--json"]


def run(capsys, *argv):
    assert main(["quintic", "flow", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_delta_kernel_learns_the_train_set_far_better_than_the_test_set(tmp_path, capsys):
    """The paper's finding (section 3.2.4) at small size: a large train gain, a test gain near 1.
    (The mean loss's per-point gradient scales as 1/N: Δt 0.25 on 1000 points is 0.06 on 240.)"""
    out = run(capsys, "--kernel", "delta", *SMALL, "--lr", "0.06", "--out", str(tmp_path))
    assert len(out["train_sigma"]) == len(out["test_sigma"]) == 9 and out["rejected_steps"] == 0
    assert out["train_gain"] == pytest.approx(out["train_sigma"][0] / out["train_sigma"][-1])
    assert out["train_gain"] > 50 and out["train_gain"] > 20 * out["test_gain"]
    assert 0.5 < out["test_gain"] < 3
    stored = read_record(tmp_path / "quintic_flow.json", FLOW_FORMAT)
    assert stored["train_sigma"] == out["train_sigma"] and stored["run_record"]["seed"] == 3
    assert (tmp_path / "quintic_flow.png").read_bytes()[:8] == PNG_MAGIC


def test_one_cluster_is_the_exact_flow(tmp_path, capsys):
    """--clustered with one batch and one cluster applies the kernel over all points: the exact flow."""
    common = ["--kernel", "gaussian", "--sigma", "0.3", *SMALL]
    exact = run(capsys, *common, "--out", str(tmp_path / "e"))
    one = run(capsys, *common, "--clustered", "--batches", "1", "--clusters", "1", "--out", str(tmp_path / "c"))
    for key in ("train_sigma", "test_sigma"):
        assert max(abs(a - b) for a, b in zip(exact[key], one[key])) < 1e-10


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["--kernel", "delta", "--n-train", "1", "--n-test", "5"], "--n-train"),
        (["--kernel", "cosine", "--n-train", "10", "--n-test", "5"], "invalid choice"),
        (["--kernel", "gaussian", "--n-train", "10", "--n-test", "5", "--lr", "0"], "--lr"),
        (["--kernel", "gaussian", "--n-train", "10", "--n-test", "5", "--sigma", "-1"], "--sigma"),
        (["--kernel", "gaussian", "--n-train", "10", "--n-test", "5", "--steps", "100000"], "--steps"),
        (["--kernel", "delta", "--n-train", "20", "--n-test", "5", "--clustered", "--batches", "4", "--clusters", "6"], "--clusters 6 exceeds"),
        (["--kernel", "delta", "--n-train", "20", "--n-test", "5", "--exact", "--clustered"], "not allowed with"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, fragment, tmp_path, capsys):
    assert main(["quintic", "flow", *argv, "--out", str(tmp_path / "x"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("flowtheory: error:")
    assert fragment in captured.err


def test_a_resumed_run_equals_the_uninterrupted_one(tmp_path, capsys):
    """--resume continues from the per-step checkpoint: 3 steps, then 8 in all, is the 8-step run."""
    common = ["--kernel", "gaussian", "--sigma", "30", "--n-train", "240", "--n-test", "160", "--seed", "3", "--json"]
    whole = run(capsys, *common, "--steps", "8", "--out", str(tmp_path / "w"))
    run(capsys, *common, "--steps", "3", "--out", str(tmp_path / "r"))
    resumed = run(capsys, *common, "--steps", "8", "--out", str(tmp_path / "r"), "--resume")
    assert resumed["resumed_from"]["step"] == 3 and whole["resumed_from"] is None
    for key in ("train_sigma", "test_sigma", "step_sizes"):
        assert max(abs(a - b) for a, b in zip(whole[key], resumed[key])) < 1e-12 and len(whole[key]) == len(resumed[key])
    assert main(["quintic", "flow", *common, "--steps", "8", "--lr", "0.1", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "differ in ['lr']" in capsys.readouterr().err
    assert main(["quintic", "flow", *common, "--steps", "2", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "beyond --steps 2" in capsys.readouterr().err


def test_a_damaged_checkpoint_is_refused_naming_the_field(tmp_path, capsys):
    import numpy as np

    common = ["--kernel", "delta", "--n-train", "60", "--n-test", "40", "--json", "--out", str(tmp_path)]
    run(capsys, *common, "--steps", "2")
    path = tmp_path / "quintic_flow.checkpoint.npz"
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["g_train"][0] = -arrays["g_train"][0]
    np.savez(path, **arrays)
    assert main(["quintic", "flow", *common, "--steps", "4", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "g_train" in err and "positive definite" in err and err.count("\n") == 1


def test_compare_exact_reports_what_clustering_costs(tmp_path, capsys):
    """Cutting a wide kernel at cluster boundaries changes the flow; one cluster costs nothing."""
    common = ["--kernel", "gaussian", "--sigma", "0.5", "--reading", "d2", "--lr", "0.02", *SMALL, "--clustered", "--compare-exact"]
    many = run(capsys, *common, "--batches", "2", "--clusters", "6", "--out", str(tmp_path / "m"))
    one = run(capsys, *common, "--batches", "1", "--clusters", "1", "--out", str(tmp_path / "o"))
    assert one["comparison"]["sigma_ratio_clustered_to_exact"]["train"] == pytest.approx(1.0, abs=1e-10)
    assert abs(many["comparison"]["sigma_ratio_clustered_to_exact"]["train"] - 1.0) > 1e-3
    assert many["comparison"]["exact"]["train_sigma"] == one["comparison"]["exact"]["train_sigma"]
    assert main(["quintic", "flow", "--kernel", "delta", "--compare-exact", "--out", str(tmp_path / "x"), "--json"]) == 2
    assert "add --clustered" in capsys.readouterr().err
