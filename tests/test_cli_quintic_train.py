"""``flowtheory quintic train``: end to end on a small set, resume, damaged checkpoints, bad input."""

import json

import numpy as np
import pytest

from flowtheory.cli import main
from flowtheory.cli.quintic_train import TRAIN_FORMAT
from numerics.io.records import read_record

SMALL = ["--width", "16", "--depth", "2", "--n-train", "600", "--n-val", "300", "--seed", "4", "--json"]


def run(capsys, *argv):
    assert main(["quintic", "train", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_resume_equals_the_uninterrupted_run(tmp_path, capsys):
    whole = run(capsys, *SMALL, "--epochs", "3", "--out", str(tmp_path / "w"))
    assert len(whole["val_sigma"]) == len(whole["train_sigma"]) == 4 and len(whole["seconds_per_epoch"]) == 3
    assert whole["val_gain"] == pytest.approx(whole["val_sigma"][0] / whole["val_sigma"][-1])
    run(capsys, *SMALL, "--epochs", "1", "--out", str(tmp_path / "r"))
    resumed = run(capsys, *SMALL, "--epochs", "3", "--out", str(tmp_path / "r"), "--resume")
    assert resumed["val_sigma"] == whole["val_sigma"] and resumed["resumed_from"]["epoch"] == 1
    assert read_record(tmp_path / "w" / "quintic_train.json", TRAIN_FORMAT)["parameters"]["width"] == 16
    assert main(["quintic", "train", *SMALL, "--epochs", "3", "--lr", "0.01", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "differ in ['lr']" in capsys.readouterr().err


def test_a_damaged_checkpoint_is_refused(tmp_path, capsys):
    run(capsys, *SMALL, "--epochs", "1", "--out", str(tmp_path))
    path = tmp_path / "quintic_train.checkpoint.npz"
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["leaf_0"] = arrays["leaf_0"][:1]
    np.savez(path, **arrays)
    assert main(["quintic", "train", *SMALL, "--epochs", "2", "--out", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "leaf_0" in err and err.count("\n") == 1


def test_the_dwork_quintic_with_the_transition_term(tmp_path, capsys, monkeypatch):
    """--psi 0.5 (the Dwork quintic) with the mult model: validation σ falls, psi and the loss weights
    are recorded (a changed weight refuses --resume), the transition term is reported and positive,
    and the Ricci term (weight 0 by default) is never evaluated."""
    from numerics.cy import metric_training

    def refuse(*args, **kwargs):
        raise AssertionError("the Ricci loss was evaluated at weight 0")

    monkeypatch.setattr(metric_training, "ricci_loss", refuse)
    argv = [*SMALL, "--psi", "0.5", "--model", "mult", "--transition-weight", "2", "--kahler-weight", "0", "--epochs", "2", "--lr", "0.005", "--out", str(tmp_path)]
    out = run(capsys, *argv)
    p = out["parameters"]
    assert p["psi"] == [0.5, 0.0] and p["transition_weight"] == 2.0 and p["ricci_weight"] == 0.0
    assert out["val_sigma"][-1] < 0.9 * out["val_sigma"][0]
    assert min(out["loss_terms"]["transition"]) > 0 and out["loss_terms"]["ricci"] == [0.0, 0.0]
    assert main(["quintic", "train", *argv, "--ricci-weight", "1", "--resume"]) == 2
    assert "differ in ['ricci_weight']" in capsys.readouterr().err


@pytest.mark.parametrize("argv,fragment", [(["--batch", "1000"], "--batch 1000 exceeds"), (["--model", "cnn"], "invalid choice"),
                                           (["--width", "0"], "--width"), (["--lr", "0"], "--lr"),
                                           (["--transition-weight", "-1"], "--transition-weight"), (["--ricci-weight", "nan"], "--ricci-weight"),
                                           (["--psi", "1"], "singular"), (["--psi", "200"], "--psi"),
                                           (["--psi", "0.5", "--manifold", "cubic"], "needs --manifold quintic")])
def test_bad_input_is_one_line(argv, fragment, tmp_path, capsys):
    assert main(["quintic", "train", *SMALL, *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowtheory: error:") and err.count("\n") == 1 and fragment in err
