"""Batched agglomerative clustering on Fubini–Study distances (eq. 3.3, figure 2)."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from flowtheory.errors import InvalidParameterError
from numerics.cy.cluster import (
    agglomerative_fs_labels,
    batched_agglomerative_clustering,
    birch_euclidean_labels,
    cluster_order,
    fs_silhouette_score,
)
from numerics.cy.distance import fs_distance_matrix

SEED = 20240628


def planted(rng, n=600, n_clusters=5, spread=0.1, dim=5):
    """Points of P^(dim-1) near ``n_clusters`` random centres, each with a random complex scale.

    The random scales (modulus in [0.3, 3], any phase) leave the projective points unchanged but
    scramble the Euclidean geometry of the homogeneous coordinates.
    """
    centres = rng.normal(size=(n_clusters, dim)) + 1j * rng.normal(size=(n_clusters, dim))
    truth = rng.integers(0, n_clusters, n)
    z = centres[truth] + spread * (rng.normal(size=(n, dim)) + 1j * rng.normal(size=(n, dim)))
    scale = rng.uniform(0.3, 3.0, (n, 1)) * np.exp(2j * np.pi * rng.uniform(size=(n, 1)))
    return z * scale, truth


@pytest.fixture(scope="module")
def data():
    return planted(np.random.default_rng(SEED))


@pytest.fixture(scope="module")
def batched(data):
    z, _ = data
    return batched_agglomerative_clustering(z, n_batches=4, n_clusters=5)


def test_batched_clustering_recovers_planted_clusters(data, batched):
    z, truth = data
    assert adjusted_rand_score(truth, batched.labels) >= 0.99
    full = batched_agglomerative_clustering(z, n_batches=1, n_clusters=5).labels
    assert adjusted_rand_score(truth, full) >= 0.99


def test_every_point_gets_one_of_c_labels_and_each_cluster_one_cluster_per_batch(data, batched):
    z, _ = data
    assert batched.labels.shape == (z.shape[0],)
    assert set(np.unique(batched.labels)) == set(range(5))
    assert batched.assignment.shape == (4, 5)
    for row in batched.assignment:  # one-to-one: every row is a permutation of 0..C-1
        assert sorted(row) == list(range(5))
    assert np.array_equal(np.bincount(batched.batch), [150, 150, 150, 150])
    assert np.all(batched.merge_cost[0] == 0) and np.all(batched.merge_cost[1:] > 0)


def test_merge_cost_is_mean_fs_distance_between_matched_clusters(data, batched):
    """K[alpha, beta] = mean d_FS over c^1_alpha x c^I_beta, recomputed by brute force."""
    z, _ = data
    first = batched.batch == 0
    for i in (1, 3):
        other = batched.batch == i
        for beta in range(5):
            alpha = batched.assignment[i, beta]
            a = z[first & (batched.labels == alpha)]
            b = z[other & (batched.labels == alpha)]
            assert np.mean(np.asarray(fs_distance_matrix(a, b))) == pytest.approx(batched.merge_cost[i, beta], rel=1e-12)


def test_batches_after_the_first_do_not_depend_on_order(data, batched):
    """Costs refer to the batch-1 clusters only (3.3), so swapping batches 2 and 4 changes nothing."""
    z, _ = data
    perm = np.concatenate([np.arange(0, 150), np.arange(450, 600), np.arange(300, 450), np.arange(150, 300)])
    swapped = batched_agglomerative_clustering(z[perm], n_batches=4, n_clusters=5)
    assert np.array_equal(swapped.labels, batched.labels[perm])


def test_labels_are_projectively_invariant(data, batched):
    z, _ = data
    rng = np.random.default_rng(SEED + 1)
    lam = rng.normal(size=(z.shape[0], 1)) + 1j * rng.normal(size=(z.shape[0], 1))
    again = batched_agglomerative_clustering(lam * z, n_batches=4, n_clusters=5)
    assert adjusted_rand_score(again.labels, batched.labels) == 1.0


def test_silhouette_orders_fs_clusterings_above_euclidean_birch(data, batched):
    z, truth = data
    full = agglomerative_fs_labels(fs_distance_matrix(z), 5)
    birch = birch_euclidean_labels(z, 5)
    s_batched, s_full, s_birch = (fs_silhouette_score(z, lab) for lab in (batched.labels, full, birch))
    s_truth = fs_silhouette_score(z, truth)
    assert s_batched == pytest.approx(s_truth, abs=1e-12) and s_full == pytest.approx(s_truth, abs=1e-12)
    assert s_truth >= 0.5
    assert s_birch <= s_batched - 0.3
    assert adjusted_rand_score(truth, birch) <= 0.5


def test_silhouette_subsample_is_the_silhouette_of_the_subsample(data, batched):
    z, _ = data
    full = fs_silhouette_score(z, batched.labels, sample_size=None)
    assert fs_silhouette_score(z, batched.labels, sample_size=600) == full
    rng = np.random.default_rng(7)
    idx = np.sort(rng.choice(600, size=200, replace=False))
    sub = fs_silhouette_score(z[idx], batched.labels[idx], sample_size=None)
    assert fs_silhouette_score(z, batched.labels, sample_size=200, seed=7) == pytest.approx(sub, abs=1e-15)


def test_cluster_order_groups_labels():
    labels = np.array([2, 0, 1, 0, 2, 1])
    order = cluster_order(labels)
    assert np.all(np.diff(labels[order]) >= 0)
    assert sorted(order) == list(range(6))


def test_uneven_batches_assign_every_point():
    z, _ = planted(np.random.default_rng(SEED + 2), n=103, n_clusters=3)
    res = batched_agglomerative_clustering(z, n_batches=3, n_clusters=3)
    assert np.array_equal(np.bincount(res.batch), [35, 34, 34])
    assert set(np.unique(res.labels)) == {0, 1, 2}


def test_bad_input_raises_named_errors():
    z, _ = planted(np.random.default_rng(SEED + 3), n=40, n_clusters=2)
    with pytest.raises(InvalidParameterError):
        batched_agglomerative_clustering(z, n_batches=5, n_clusters=9)  # 8 points per batch < 9 clusters
    with pytest.raises(InvalidParameterError):
        batched_agglomerative_clustering(z, n_batches=41, n_clusters=1)
    with pytest.raises(InvalidParameterError):
        batched_agglomerative_clustering(z, n_batches=2, n_clusters=0)
    with pytest.raises(InvalidParameterError):
        fs_silhouette_score(z, np.zeros(40, dtype=int))
    with pytest.raises(InvalidParameterError):
        birch_euclidean_labels(z, 41)
