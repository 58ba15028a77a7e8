"""The Bayesian hyper-parameter search of the kernel flows (section 3.2.4): fresh points per trial,
suggestions that depend on the seed and history only (so a resumed search is the uninterrupted one),
failed trials scored below doing nothing; and its command."""

import json

import pytest

from flowtheory.cli import main
from flowtheory.errors import InvalidParameterError
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.kernel_search import FAILED_SCORE, SPACES, SearchSettings, best_trial, parameters_of, run_trial, search_hyperparameters, suggest

TINY = dict(kernel="delta", trials=5, n_train=60, n_test=40, trial_steps=4, init_points=2, seed=7)


def test_a_resumed_search_is_the_uninterrupted_search():
    surface = fermat_quintic()
    whole = search_hyperparameters(surface, SearchSettings(**TINY))
    first = search_hyperparameters(surface, SearchSettings(**{**TINY, "trials": 3}))
    resumed = search_hyperparameters(surface, SearchSettings(**TINY), history=first)
    assert resumed == whole and [t["trial"] for t in whole] == list(range(5))
    low, high = SPACES["delta"]["log10_lr"]
    assert all(low <= t["point"]["log10_lr"] <= high for t in whole)
    assert best_trial(whole)["score"] == max(t["score"] for t in whole)


def test_every_trial_draws_fresh_points():
    """The same parameters on trials 0 and 1 give different σ (other points), on trial 0 twice the same."""
    surface, settings = fermat_quintic(), SearchSettings(**TINY)
    point = {"log10_lr": -2.0}
    a, b, c = (run_trial(surface, settings, i, point) for i in (0, 0, 1))
    assert a["status"] == c["status"] == "completed"
    assert a == b and a["train_gain"] != c["train_gain"]


def test_a_step_too_large_scores_below_doing_nothing():
    trial = run_trial(fermat_quintic(), SearchSettings(**TINY), 0, {"log10_lr": 3.0})
    assert trial["status"] == "failed" and trial["score"] == FAILED_SCORE and "positive definite" in trial["reason"]


def test_suggestions_lie_in_the_box_and_map_to_parameters():
    settings = SearchSettings(**{**TINY, "kernel": "relu-ntk"})
    history = [{"trial": i, "point": suggest(settings, []), "score": float(i)} for i in range(3)]
    point = suggest(settings, history)
    assert set(point) == set(SPACES["relu-ntk"])
    assert all(SPACES["relu-ntk"][k][0] <= v <= SPACES["relu-ntk"][k][1] for k, v in point.items())
    assert parameters_of({"log10_lr": -1.0, "log10_sigma_b": 2.0}) == pytest.approx({"lr": 0.1, "sigma_b": 100.0})


@pytest.mark.parametrize("change,fragment", [({"kernel": "cosine"}, "kernel"), ({"trials": 0}, "trials"),
                                             ({"objective": "both"}, "objective"), ({"reading": "x"}, "reading")])
def test_bad_settings_are_named(change, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        SearchSettings(**{**TINY, **change})


def test_search_command_writes_table_1_beside_the_paper_and_resumes(tmp_path, capsys):
    argv = ["quintic", "search", "--kernel", "delta", "--init-points", "2", "--trial-steps", "4", "--steps", "6",
            "--n-train", "60", "--n-test", "40", "--seed", "7", "--json", "--out", str(tmp_path)]
    assert main([*argv, "--trials", "3"]) == 0
    capsys.readouterr()
    assert main([*argv, "--trials", "5", "--resume"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [t["score"] for t in out["trials"]] == [t["score"] for t in search_hyperparameters(fermat_quintic(), SearchSettings(**TINY))]
    assert out["paper"]["lr"] == 0.3162 and len(out["final"]["train_sigma"]) == 7
    assert out["final"]["parameters"] == out["best"]["parameters"]
    report = (tmp_path / "quintic_search.md").read_text()
    assert "| learning rate Δt |" in report and "0.3162" in report
    assert main([*argv, "--trials", "5", "--resume", "--objective", "test"]) == 2
    assert "differ in ['objective']" in capsys.readouterr().err
    assert main([*argv, "--trials", "2", "--init-points", "3", "--overwrite"]) == 2
    assert "--init-points 3 exceeds --trials 2" in capsys.readouterr().err
