"""Clustering of points of :math:`\\mathbb{P}^n` by Fubini–Study distance (paper section 3.1, eq. 3.3,
figure 2).

The paper clusters ``N`` sample points into ``C`` clusters without forming the ``N x N``
distance matrix ("batched agglomerative clustering"):

1. split the points, in their given order, into ``B`` mini batches of (nearly) equal size ``M``
   (``numpy.array_split``; the sample order is random for sampled points — shuffle first
   otherwise);
2. cluster each mini batch independently: agglomerative clustering with average linkage on the
   FS distances (3.2) (``sklearn.cluster.AgglomerativeClustering(metric="precomputed",
   linkage="average")``), giving clusters :math:`c^I_\\beta`, ``beta = 1..C``, of batch ``I``;
3. keep the clusters :math:`c^1_\\alpha` of batch 1 as the final cluster labels;
4. merge every later batch ``I`` into them by a **one-to-one assignment**: with the cost

   .. math::

       K^I_{\\alpha\\beta} = \\operatorname{mean}_{x \\in c^1_\\alpha,\\, y \\in c^I_\\beta} d_{FS}(x, y)

   (the average-linkage distance between the batch-1 cluster and the batch-``I`` cluster),
   cluster :math:`c^I_{\\pi_I(\\alpha)}` joins :math:`c_\\alpha`, where the permutation
   :math:`\\pi_I` minimises :math:`\\sum_\\alpha K^I_{\\alpha\\pi_I(\\alpha)}`
   (``scipy.optimize.linear_sum_assignment``).

So :math:`c_\\alpha = c^1_\\alpha \\cup \\bigcup_{I \\ge 2} c^I_{\\pi_I(\\alpha)}`.  This is our reading of
(3.3), which prints ``min`` of a mean (a number) where a set is meant, and leaves open whether two
batch-1 clusters may claim the same batch-``I`` cluster.  The literal greedy reading of step 4 of
the paper ("the cluster of batch 2 whose mean distance to cluster 1 of batch 1 is smallest is
merged into it", for each batch-1 cluster in turn) can give one batch-``I`` cluster to two
batch-1 clusters and leave others unassigned, so points would lose their label; the assignment
gives every point exactly one label and every final cluster exactly one cluster per batch.
Costs are always measured against the batch-1 clusters :math:`c^1_\\alpha`, not the growing
unions, exactly as (3.3) writes, so the result does not depend on the order of batches 2..B.
Memory is ``O(M^2)``: one batch's distance matrix, or one batch-1 x batch-``I`` block.

Quality is measured by the silhouette score on FS distances (``sklearn.metrics.silhouette_score``,
``metric="precomputed"``) — for the batched labels, for full (unbatched) agglomerative labels,
and for a Euclidean Birch baseline on the real features ``[Re z, Im z]`` of the homogeneous
coordinates as given (not projectively invariant: that is the point of the baseline).  The
Euclidean silhouette on those features (:func:`euclidean_silhouette_score`) scores each clustering
in Birch's metric instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Array, Complex, Float, Int

from flowtheory.errors import InvalidParameterError
from numerics.checks import require_finite, require_nonempty

__all__ = [
    "BatchedClustering",
    "agglomerative_fs_labels",
    "batched_agglomerative_clustering",
    "birch_euclidean_labels",
    "cluster_order",
    "euclidean_features",
    "euclidean_silhouette_score",
    "fs_silhouette_score",
]


def _check_counts(n_points: int, n_batches: int, n_clusters: int) -> None:
    for name, value in (("n_batches", n_batches), ("n_clusters", n_clusters)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")
    require_nonempty(n_points, "points")
    if n_batches > n_points:
        raise InvalidParameterError(f"{n_batches} batches for {n_points} points: a batch would be empty")
    smallest = n_points // n_batches
    if n_clusters > smallest:
        raise InvalidParameterError(
            f"{n_clusters} clusters but the smallest batch has {smallest} points ({n_points} points in {n_batches} batches): "
            "every batch must hold at least one point per cluster"
        )


def agglomerative_fs_labels(distances: Float[Array, "M M"], n_clusters: int) -> Int[Array, " M"]:
    """Average-linkage agglomerative clustering on a precomputed FS distance matrix (step 2).

    Returns labels in ``0..n_clusters-1``; every label is used.

    Raises:
        InvalidParameterError: not a square matrix, negative distances, or ``n_clusters`` not in
            ``1..M``.
        EmptyInputError: an empty matrix (no points).
        NonFiniteError: NaN or infinity in ``distances``.
    """
    from sklearn.cluster import AgglomerativeClustering

    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise InvalidParameterError(f"expected a square distance matrix, got shape {d.shape}")
    _check_counts(d.shape[0], 1, n_clusters)
    require_finite(d, "distances")
    if np.any(d < 0):
        raise InvalidParameterError(f"distances must be >= 0, got min {d.min():.3g}")
    model = AgglomerativeClustering(n_clusters=int(n_clusters), metric="precomputed", linkage="average")
    return model.fit_predict(d).astype(np.int64)


@dataclass(frozen=True)
class BatchedClustering:
    """Result of :func:`batched_agglomerative_clustering`.

    Attributes:
        labels: ``(N,)`` final cluster ``alpha`` of every point, in ``0..C-1``.
        batch: ``(N,)`` the mini batch ``I`` (0-based) every point belongs to.
        assignment: ``(B, C)``: ``assignment[I, beta] = alpha``, the final cluster that cluster
            ``beta`` of batch ``I`` joined (row 0 is the identity).
        merge_cost: ``(B, C)``: the mean FS distance ``K^I`` of each merged pair (row 0: 0).
    """

    labels: np.ndarray
    batch: np.ndarray
    assignment: np.ndarray
    merge_cost: np.ndarray


def batched_agglomerative_clustering(
    points: Complex[Array, "N n"],
    *,
    n_batches: int,
    n_clusters: int,
    threshold: float | None = None,
    progress: bool = False,
) -> BatchedClustering:
    """Batched average-linkage clustering on FS distances, merged by one-to-one assignment (eq. 3.3).

    See the module docstring for the exact algorithm.  ``n_batches=1`` is plain (full)
    agglomerative clustering.

    Args:
        points: ``(N, n)`` homogeneous coordinates.
        n_batches: number of mini batches ``B``; batch sizes differ by at most one.
        n_clusters: number of clusters ``C``; every batch must hold at least ``C`` points.
        threshold: the small-distance threshold (3.4) of the FS distances.
        progress: show a progress bar over the batches.

    Raises:
        InvalidParameterError: ``C`` or ``B`` not positive, ``B > N``, or ``C`` larger than the
            smallest batch.
        EmptyInputError: no points.
        NonFiniteError: NaN or infinity in ``points`` (via :func:`numerics.cy.distance.fs_distance_matrix`).
    """
    from scipy.optimize import linear_sum_assignment

    from numerics.cy.distance import fs_distance_matrix
    from numerics.io.progress import track

    z = np.asarray(points)
    if z.ndim != 2:
        raise InvalidParameterError(f"points must have shape (N, n), got {z.shape}")
    _check_counts(z.shape[0], n_batches, n_clusters)
    batches = np.array_split(np.arange(z.shape[0]), n_batches)
    labels = np.empty(z.shape[0], dtype=np.int64)
    batch_of = np.empty(z.shape[0], dtype=np.int64)
    assignment = np.empty((n_batches, n_clusters), dtype=np.int64)
    merge_cost = np.zeros((n_batches, n_clusters))
    first = batches[0]
    first_labels = agglomerative_fs_labels(fs_distance_matrix(z[first], threshold=threshold), n_clusters)
    labels[first], batch_of[first], assignment[0] = first_labels, 0, np.arange(n_clusters)
    mean_over_first = _mean_operator(first_labels, n_clusters)
    for i in track(range(1, n_batches), "batched clustering", total=n_batches - 1, enabled=progress):
        idx = batches[i]
        batch_labels = agglomerative_fs_labels(fs_distance_matrix(z[idx], threshold=threshold), n_clusters)
        cross = np.asarray(fs_distance_matrix(z[first], z[idx], threshold=threshold))
        cost = mean_over_first @ cross @ _mean_operator(batch_labels, n_clusters).T  # K[alpha, beta]
        alpha, beta = linear_sum_assignment(cost)
        assignment[i, beta] = alpha
        merge_cost[i, beta] = cost[alpha, beta]
        labels[idx], batch_of[idx] = assignment[i, batch_labels], i
    return BatchedClustering(labels=labels, batch=batch_of, assignment=assignment, merge_cost=merge_cost)


def _mean_operator(labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """``(C, M)`` matrix whose row ``alpha`` averages over the points with label ``alpha``."""
    onehot = (labels[None, :] == np.arange(n_clusters)[:, None]).astype(np.float64)
    return onehot / onehot.sum(axis=1, keepdims=True)


def birch_euclidean_labels(
    points: Complex[Array, "N n"], n_clusters: int, *, birch_threshold: float = 0.5, max_subclusters: int = 4096
) -> Int[Array, " N"]:
    """The Euclidean baseline of figure 2: ``sklearn.cluster.Birch`` on ``[Re z, Im z]``.

    Features are the homogeneous coordinates exactly as given (not projectively invariant).
    ``birch_threshold`` is Birch's subcluster radius (sklearn's default 0.5).  Birch's global step
    (Ward agglomerative clustering of the subcluster centres into ``n_clusters``) needs memory
    quadratic in the number of subclusters, so while a fit leaves more than ``max_subclusters``
    of them the radius is multiplied by 1.5 and Birch refitted (at 10^5 quintic points radius 0.5
    leaves ~19000 subclusters).

    Raises:
        InvalidParameterError: ``points`` not ``(N, n)``, ``n_clusters`` not in ``1..N``, a
            non-positive ``birch_threshold`` or ``max_subclusters < n_clusters``.
        EmptyInputError: no points.
        NonFiniteError: NaN or infinity in ``points``.
    """
    from sklearn.cluster import Birch

    z = np.asarray(points)
    if z.ndim != 2:
        raise InvalidParameterError(f"points must have shape (N, n), got {z.shape}")
    _check_counts(z.shape[0], 1, n_clusters)
    require_finite(z, "points")
    if not (birch_threshold > 0 and max_subclusters >= n_clusters):
        raise InvalidParameterError(f"need birch_threshold > 0 and max_subclusters >= n_clusters, got {birch_threshold}, {max_subclusters}")
    features = euclidean_features(z)
    radius = birch_threshold
    while len(Birch(n_clusters=None, threshold=radius).fit(features).subcluster_centers_) > max_subclusters:
        radius *= 1.5
    return Birch(n_clusters=int(n_clusters), threshold=radius).fit_predict(features).astype(np.int64)


def euclidean_features(points: Complex[Array, "N n"]) -> Float[Array, "N 2n"]:
    """The real features ``[Re z, Im z]`` of homogeneous coordinates as given (Birch's space)."""
    z = np.asarray(points)
    return np.concatenate([z.real, z.imag], axis=1)


def _silhouette_sample(points, labels, sample_size: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated points and labels, subsampled to ``sample_size`` (see :func:`fs_silhouette_score`)."""
    z, lab = np.asarray(points), np.asarray(labels)
    if z.ndim != 2 or lab.shape != (z.shape[0],):
        raise InvalidParameterError(f"need points (N, n) and labels (N,), got {z.shape} and {lab.shape}")
    require_nonempty(z.shape[0], "points")
    require_finite(z, "points")
    if sample_size is not None and z.shape[0] > sample_size:
        idx = np.sort(np.random.default_rng(seed).choice(z.shape[0], size=sample_size, replace=False))
        z, lab = z[idx], lab[idx]
    k = np.unique(lab).size
    if not 2 <= k <= z.shape[0] - 1:
        raise InvalidParameterError(f"silhouette needs 2 <= #labels <= #points - 1, got {k} labels for {z.shape[0]} points")
    return z, lab


def fs_silhouette_score(
    points: Complex[Array, "N n"],
    labels: Int[Array, " N"],
    *,
    sample_size: int | None = 4000,
    seed: int = 0,
    threshold: float | None = None,
) -> float:
    """Silhouette score of ``labels`` with FS distances (``metric="precomputed"``), in ``[-1, 1]``.

    For ``N > sample_size`` the score is that of a uniformly random subsample of ``sample_size``
    points (drawn with ``numpy.random.default_rng(seed)``; sklearn's ``sample_size`` convention),
    so only a ``sample_size``-square matrix is formed; ``sample_size=None`` uses every point.

    Raises:
        InvalidParameterError: fewer than 2 or more than ``N - 1`` distinct labels (silhouette
            undefined), or mismatched shapes.
        EmptyInputError: no points.
        NonFiniteError: NaN or infinity in ``points``.
    """
    from sklearn.metrics import silhouette_score

    from numerics.cy.distance import fs_distance_matrix

    z, lab = _silhouette_sample(points, labels, sample_size, seed)
    return float(silhouette_score(np.asarray(fs_distance_matrix(z, threshold=threshold)), lab, metric="precomputed"))


def euclidean_silhouette_score(
    points: Complex[Array, "N n"], labels: Int[Array, " N"], *, sample_size: int | None = 4000, seed: int = 0
) -> float:
    """Silhouette score of ``labels`` with Euclidean distances of :func:`euclidean_features` — the
    metric Birch clusters by — on the same subsample as :func:`fs_silhouette_score`.

    Raises:
        The errors of :func:`fs_silhouette_score`.
    """
    from sklearn.metrics import silhouette_score

    z, lab = _silhouette_sample(points, labels, sample_size, seed)
    return float(silhouette_score(euclidean_features(z), lab, metric="euclidean"))


def cluster_order(labels: Int[Array, " N"]) -> Int[Array, " N"]:
    """The permutation that groups points by label (stable, labels ascending): figure 2's ordering.

    Raises:
        InvalidParameterError: ``labels`` not 1-d integers.
        EmptyInputError: no labels.
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
        raise InvalidParameterError(f"labels must be 1-d integers, got {lab.dtype} of shape {lab.shape}")
    require_nonempty(lab.shape[0], "labels", "entries")
    return np.argsort(lab, kind="stable")
