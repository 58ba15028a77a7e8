"""Figure 3 of the paper on our kernel flows: noised test points off and on the quintic, μ(N) on one
chart, the extrapolation; and the ``quintic noise-analysis`` command."""

import json
import math

import jax
import numpy as np
import pytest

from flowtheory.cli import main
from flowtheory.errors import InvalidParameterError
from numerics.cy.distance import fs_distance
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.kernel_flow import FlowSettings, point_set
from numerics.cy.kernels import DeltaKernel, GaussianKernel
from numerics.cy.noise_analysis import (NoiseCurve, add_noise, distance_for_gain, noise_analysis, points_for_distance,
                                        project_to_surface)
from numerics.cy.sampling import sample_in_chart
from numerics.stats import fit_loglog_slope

SURFACE = fermat_quintic()
LEVELS = [0.0, 1e-3, 1e-2, 0.1]


@pytest.fixture(scope="module")
def train():
    sample = sample_in_chart(SURFACE, 200, jax.random.PRNGKey(4), 0, 1)
    return point_set(SURFACE, sample.points, sample.line_ids)


def test_projection_lands_on_the_quintic_next_to_the_noised_point(train):
    noised = add_noise(train.z, 0.01, jax.random.PRNGKey(1))
    assert float(np.max(np.asarray(SURFACE.residual(noised)))) > 1e-4  # noise leaves the surface
    projected, ok = project_to_surface(SURFACE, noised)
    assert ok.all() and float(np.max(np.asarray(SURFACE.residual(projected)))) < 1e-14
    moved = np.asarray(fs_distance(projected, noised))
    to_train = np.asarray(fs_distance(noised, train.z))
    assert np.all(moved <= 2 * to_train + 1e-12)  # Newton moves a point by about its distance off the surface


@pytest.mark.parametrize("kernel", [DeltaKernel(), GaussianKernel(30.0, "inverse")], ids=["delta", "gaussian"])
def test_gain_falls_from_the_train_gain_as_test_points_move_away(train, kernel):
    result = noise_analysis(SURFACE, kernel, FlowSettings(lr=0.03), train, noise_levels=LEVELS, n_noised=120, steps=15,
                            key=jax.random.PRNGKey(2))
    assert result.rejected_steps == 0 and result.train_gain > 100
    for variant, curve in result.curves.items():
        assert curve.noise == LEVELS and curve.mean_distance[0] < 1e-7
        # ε = 0: the test points are the first 120 train points, so the gain is the train gain on them (not all 200)
        assert curve.gain[0] > 100 and curve.gain[-1] < 3
        assert curve.mean_distance == sorted(curve.mean_distance)
        assert curve.gain[1] > curve.gain[-1] * 10
    on, off = result.curves["on"], result.curves["off"]
    assert on.gain[0] == pytest.approx(off.gain[0], rel=1e-12)  # both variants at ε = 0 are the train points


def test_level_zero_gain_is_the_train_gain_for_delta(train):
    result = noise_analysis(SURFACE, DeltaKernel(), FlowSettings(lr=0.03), train, noise_levels=[0.0, 0.1], n_noised=10_000,
                            steps=5, key=jax.random.PRNGKey(2), variants=("off",))
    assert result.curves["off"].gain[0] == pytest.approx(result.train_gain, rel=1e-10)


def test_extrapolation_inverts_a_power_law_and_the_fit():
    d = [1e-4, 1e-3, 1e-2, 1e-1]
    curve = NoiseCurve("on", [0, 1, 2, 3], d, [0] * 4, [1 / x for x in d], [10] * 4, [0] * 4)
    assert distance_for_gain(curve, 300.0) == pytest.approx(1 / 300.0, rel=1e-12)
    assert distance_for_gain(curve, 1e6) is None
    n = np.array([100.0, 1000.0, 10000.0])
    fit = fit_loglog_slope(n, 1.2 * n**-0.2)
    assert points_for_distance(1.2 * 5e4**-0.2, fit) == pytest.approx(5e4, rel=1e-9)


def test_bad_noise_levels_are_named(train):
    with pytest.raises(InvalidParameterError, match="noise levels"):
        noise_analysis(SURFACE, DeltaKernel(), FlowSettings(lr=0.03), train, noise_levels=[-1.0], n_noised=10, steps=1, key=jax.random.PRNGKey(0))
    with pytest.raises(InvalidParameterError, match="variants"):
        noise_analysis(SURFACE, DeltaKernel(), FlowSettings(lr=0.03), train, noise_levels=[0.1], n_noised=10, steps=1,
                       key=jax.random.PRNGKey(0), variants=("sideways",))


def test_noise_command_end_to_end_and_resume(tmp_path, capsys):
    argv = ["quintic", "noise-analysis", "--n-train", "150", "--n-noised", "40", "--noise", "0,0.001,0.01,0.1", "--steps", "4",
            "--sizes", "100,150,200", "--repeats", "1", "--target-gain", "2", "--json", "--out", str(tmp_path)]
    assert main([*argv, "--kernels", "delta"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*argv, "--kernels", "delta,gaussian", "--resume"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kernels"]["delta"] == first["kernels"]["delta"] and set(out["kernels"]) == {"delta", "gaussian"}
    for result in out["kernels"].values():
        for curve in result["curves"].values():
            assert all(math.isfinite(g) and g > 0 for g in curve["gain"]) and len(curve["mean_distance_se"]) == 4
    assert out["distances"]["sizes"] == [100, 150, 200] and out["distances"]["fit"]["exponent"] < 0
    assert set(out["extrapolation"]["delta"]) == {"off", "on"}
    report = (tmp_path / "quintic_noise.md").read_text()
    assert "| delta |" in report and "1e+08" in report and "N^(" in report
    assert (tmp_path / "quintic_noise.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("extra,fragment", [(["--sizes", "100"], "at least two distinct sizes"), (["--kernels", "cosine"], "--kernels"),
                                            (["--noise", "-1"], "--noise"), (["--n-noised", "1"], "--n-noised")])
def test_noise_command_bad_input(extra, fragment, tmp_path, capsys):
    assert main(["quintic", "noise-analysis", *extra, "--out", str(tmp_path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowtheory: error:") and err.count("\n") == 1 and fragment in err
