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
    """The paper's finding (section 3.2.4) at small size: a large train gain, a test gain near 1."""
    out = run(capsys, "--kernel", "delta", *SMALL, "--out", str(tmp_path))
    assert len(out["train_sigma"]) == len(out["test_sigma"]) == 9 and out["rejected_steps"] == 0
    assert out["train_gain"] == pytest.approx(out["train_sigma"][0] / out["train_sigma"][-1])
    assert out["train_gain"] > 50 and out["train_gain"] > 20 * out["test_gain"]
    assert 0.5 < out["test_gain"] < 3
    stored = read_record(tmp_path / "quintic_flow.json", FLOW_FORMAT)
    assert stored["train_sigma"] == out["train_sigma"] and stored["run_record"]["seed"] == 3
    assert (tmp_path / "quintic_flow.png").read_bytes()[:8] == PNG_MAGIC


def test_one_cluster_is_the_exact_flow(tmp_path, capsys):
    """--clustered with one batch and one cluster applies the kernel over all points: the exact flow."""
    common = ["--kernel", "gaussian", "--width", "0.3", *SMALL]
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
        (["--kernel", "gaussian", "--n-train", "10", "--n-test", "5", "--width", "-1"], "--width"),
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
