"""Monte-Carlo estimators: calibration of standard errors and slope fits on laws with known answers,
and the width study of (2.9) at full size (slow)."""

import math

import jax
import numpy as np
import pytest

from flowtheory.errors import InvalidParameterError, NonFiniteError
from numerics.stats import (
    Estimate,
    assert_within,
    fit_loglog_slope,
    mean_estimate,
    over_draws,
    rms_estimate,
    z_scores,
    z_value,
)
from numerics.nn.width_study import ntk_width_study

RNG_SEED = 20240628


def test_z_value_bonferroni_identity():
    assert z_value(1e-3, 50) == pytest.approx(z_value(2e-5, 1), rel=1e-12)
    assert z_value(0.05) == pytest.approx(1.959963984540054, rel=1e-12)  # the textbook two-sided 95% quantile
    assert z_value(1e-3, 10) > z_value(1e-3, 1)


def test_standard_error_coverage():
    """The interval mean ± 1.96 SE covers the true mean in ~95% of 4000 experiments (M = 200 draws each).

    The coverage count is Binomial(4000, 0.95); the test allows 4.4 of its standard deviations
    (two-sided failure probability 1e-5).
    """
    rng = np.random.default_rng(RNG_SEED)
    samples = rng.exponential(2.0, size=(4000, 200))  # skewed law, mean 2
    est = mean_estimate(samples, axis=1)
    covered = np.mean(np.abs(est.mean - 2.0) <= 1.959964 * est.se)
    assert abs(covered - 0.95) <= z_value(1e-5) * math.sqrt(0.95 * 0.05 / 4000)


def test_rms_estimate_within_its_standard_error():
    rng = np.random.default_rng(RNG_SEED + 1)
    est = rms_estimate(rng.normal(0.0, 3.0, size=(500, 20)))
    assert_within(est, 3.0, z_value(1e-4))
    assert rms_estimate(np.zeros((4, 3))).mean == 0.0


def test_slope_fit_exact_and_calibrated():
    n = np.array([64.0, 256.0, 1024.0, 4096.0])
    exact = fit_loglog_slope(n, 3.0 * n**-0.5)
    assert exact.slope == pytest.approx(-0.5, abs=1e-12) and exact.intercept == pytest.approx(math.log(3.0), abs=1e-12)
    # weighted fit with known relative errors: the slope SE is calibrated (std over 2000 repetitions)
    rng = np.random.default_rng(RNG_SEED + 2)
    rel = np.array([0.05, 0.04, 0.03, 0.02])
    slopes, ses = [], []
    for _ in range(2000):
        y = 3.0 * n**-0.5 * np.exp(rel * rng.standard_normal(4))
        fit = fit_loglog_slope(n, y, rel * y)
        slopes.append(fit.slope)
        ses.append(fit.slope_se)
    slopes = np.array(slopes)
    # the spread of the fitted slopes matches the reported SE within 10% (sampling error of a std with 2000 draws ~1.6%)
    assert np.std(slopes, ddof=1) == pytest.approx(np.mean(ses), rel=0.1)
    assert_within(mean_estimate(slopes), -0.5, z_value(1e-4))


def test_assert_within_and_bias():
    est = Estimate(np.array([1.0, 2.0]), np.array([0.1, 0.1]), 100)
    assert assert_within(est, [1.05, 2.0], z=1.0) == pytest.approx(0.5)
    with pytest.raises(AssertionError):
        assert_within(est, [1.5, 2.0], z=3.0)
    assert assert_within(est, [1.5, 2.0], z=3.0, bias=0.3) == pytest.approx(2.0)
    np.testing.assert_allclose(z_scores(est, [1.0, 1.0]), [0.0, 10.0])


def test_over_draws_gives_independent_draws():
    draws = over_draws(lambda k: jax.random.normal(k, (3,)), jax.random.PRNGKey(0), 64, 16)
    assert draws.shape == (64, 3)
    assert len(np.unique(np.asarray(draws[:, 0]))) == 64
    assert_within(mean_estimate(np.asarray(draws).ravel()), 0.0, z_value(1e-4))


def test_bad_input():
    with pytest.raises(InvalidParameterError):
        z_value(0.0)
    with pytest.raises(InvalidParameterError):
        mean_estimate(np.ones(1))
    with pytest.raises(NonFiniteError):
        mean_estimate(np.array([1.0, np.nan]))
    with pytest.raises(InvalidParameterError):
        fit_loglog_slope([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(InvalidParameterError):
        fit_loglog_slope([1.0, 2.0], [1.0, 2.0])  # unweighted needs 3 points
    with pytest.raises(InvalidParameterError):
        over_draws(lambda k: k, jax.random.PRNGKey(0), 10, 3)
    with pytest.raises(InvalidParameterError):
        ntk_width_study("relu", d=2, widths=(8,), n_draws=4, points=np.zeros((3, 3)), key=jax.random.PRNGKey(0), batch=2)


# Full-size width study: d = 3, widths up to 4096, 256 draws. The family (4 architectures × (4
# widths × 55 pairs + slope)) is tested at a family-wise failure probability of 1e-3.
SLOW_STUDIES = {
    "cosine": dict(sigma_w=2.5),
    "cosine-literal": dict(sigma_w=2.5),
    "gauss-net": dict(sigma_w=1.0, sigma_b=0.3),
    "relu": dict(sigma_w=1.2, sigma_b=0.8),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW_STUDIES))
def test_width_study_full(name):
    d = 3
    scale = 0.35 if name == "gauss-net" else 0.6
    x = scale * jax.random.normal(jax.random.PRNGKey(31), (10, d))
    study = ntk_width_study(name, d=d, widths=(64, 256, 1024, 4096), n_draws=256, points=x, key=jax.random.PRNGKey(32), **SLOW_STUDIES[name])
    z = z_value(1e-3, len(SLOW_STUDIES) * study.n_tests)
    assert max(study.max_z) <= z, study.max_z
    assert abs(study.slope.slope + 0.5) <= z * study.slope.slope_se, study.slope
    assert study.slope.slope_se < 0.03  # the test has power: a slope of -0.4 or -0.6 would fail
