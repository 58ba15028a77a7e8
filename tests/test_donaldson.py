"""Donaldson's balanced metrics (the classical baseline of section 3.3): the section basis, h = 1 at
k = 1 is Fubini–Study, and σ falls with k."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from numerics.cy.donaldson import donaldson_metric, donaldson_study, monomial_exponents
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.measure import fs_metric
from numerics.cy.metric_training import training_set
from numerics.cy.sampling import sample_points

QUINTIC = fermat_quintic()


def test_section_count_is_the_dimension_of_the_restricted_line_bundle():
    """h^0(X, O(k)) = C(k+4, 4) - C(k-1, 4) on the quintic (the sections of P^4 modulo p)."""
    for k in range(1, 8):
        assert monomial_exponents(5, k, 5).shape[0] == math.comb(k + 4, 4) - math.comb(k - 1, 4)


def test_identity_at_k_1_is_fubini_study():
    data = training_set(QUINTIC, sample_points(QUINTIC, 30, jax.random.PRNGKey(0)).points)
    g = donaldson_metric(jnp.eye(5, dtype=jnp.complex128), monomial_exponents(5, 1, 5), 1, data.chart)
    np.testing.assert_allclose(np.asarray(g), np.asarray(fs_metric(data.chart)), rtol=0, atol=1e-14)


def test_balanced_sigma_falls_with_k():
    """σ_k on 1000 validation points from 4000 train points: 0.37, 0.27, 0.20 in the literature's pattern
    (Douglas et al. 2008); asserted with margins."""
    train = training_set(QUINTIC, sample_points(QUINTIC, 4000, jax.random.PRNGKey(0)).points)
    val = training_set(QUINTIC, sample_points(QUINTIC, 1000, jax.random.PRNGKey(1)).points)
    result = donaldson_study(QUINTIC, [1, 2, 3], train, val, iterations=6)
    s1, s2, s3 = result.val_sigma
    assert 0.33 < s1 < 0.42 and s2 < 0.85 * s1 and s3 < 0.85 * s2
    assert result.n_sections == [5, 15, 35] and all(c[-1] < c[0] for c in result.changes)  # the iteration settles
