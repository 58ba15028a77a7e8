"""Kernels of the kernel flow (3.5): Gaussian (3.6) with the threshold (3.4), Delta, ReLU NTK (Table 1),
and their matrix-free tiled application against the dense direct computation."""

import math

import jax
import numpy as np
import pytest

from flowtheory.errors import EmptyInputError, InvalidParameterError, NonFiniteError
from numerics.cy import fermat_quintic, sample_points
from numerics.cy.distance import fs_distance_matrix
from numerics.cy.kernels import (
    READINGS,
    SKIP_BELOW,
    DeltaKernel,
    GaussianKernel,
    ReluNtkKernel,
    apply_kernel,
    dense_reference,
    nearest_indices,
    spatial_order,
)

SEED = 20240628


@pytest.fixture(scope="module")
def quintic():
    """750 points on the Fermat quintic: 250 'test' points and 500 'train' points."""
    z = sample_points(fermat_quintic(), 750, jax.random.PRNGKey(SEED)).points
    return z[:250], z[250:]


@pytest.fixture(scope="module")
def gradients():
    """Hermitian (500, 3, 3) values, as the metric gradients of (3.5)."""
    rng = np.random.default_rng(SEED)
    a = rng.normal(size=(500, 3, 3)) + 1j * rng.normal(size=(500, 3, 3))
    return a + np.conj(np.swapaxes(a, 1, 2))


def assert_tiled_matches_dense(kernel, z_out, z_in, values, **kw):
    """|tiled - dense| <= 1e-12 sum_x' K|v| + SKIP_BELOW sum_x' |v| entrywise (the documented bound:
    relative accuracy on what the kernel carries, plus the dropped pairs with K < SKIP_BELOW)."""
    ref = dense_reference(kernel, z_out, z_in, values)
    out = apply_kernel(kernel, z_out, z_in, values, **kw)
    k = np.abs(kernel.pairwise(z_out, None if kw.get("same_points") else z_in))
    a = np.abs(values).reshape(values.shape[0], -1)
    bound = 1e-12 * (k @ a) + SKIP_BELOW * a.sum(axis=0)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert np.all(np.abs(out - ref).reshape(out.shape[0], -1) <= bound)


# ------------------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("reading", "expected"),
    [("d", lambda s, d: math.exp(-d / (2 * s))), ("d2", lambda s, d: math.exp(-(d**2) / (2 * s**2))), ("inverse", lambda s, d: math.exp(-s * d**2 / 2))],
)
def test_gaussian_readings_at_hand_computable_points(reading, expected):
    """e_0 and e_0 + i e_1 are at FS distance pi/4 (3.2); e_0 and e_1 at pi/2; K(x, x) = 1."""
    z = np.array([[1, 0, 0, 0, 0], [1, 1j, 0, 0, 0], [0, 1, 0, 0, 0]], dtype=complex)
    for sigma in (0.3, 1.0, 30.0):
        k = GaussianKernel(sigma, reading).pairwise(z)
        np.testing.assert_allclose(np.diag(k), 1.0, rtol=0, atol=1e-15)
        assert k[0, 1] == pytest.approx(expected(sigma, math.pi / 4), rel=1e-14)
        assert k[0, 2] == pytest.approx(expected(sigma, math.pi / 2), rel=1e-14)
        assert k[1, 2] == pytest.approx(expected(sigma, math.pi / 4), rel=1e-14)


def test_gaussian_threshold_34_sets_tiny_distances_to_zero():
    """(3.4): a pair closer than the threshold counts as d = 0 (K = 1); threshold=0 keeps the cusp of exp(-d/2σ)."""
    z = np.array([[1, 0.3, 0, 0, 0]], dtype=complex)
    w = z + np.array([[0, 1e-9, 0, 0, 0]])
    assert GaussianKernel(0.01, "d").pairwise(z, w)[0, 0] == 1.0
    d = float(fs_distance_matrix(z, w, threshold=0)[0, 0])
    assert 0 < d < 2e-8
    assert GaussianKernel(0.01, "d", threshold=0).pairwise(z, w)[0, 0] == pytest.approx(math.exp(-d / 0.02), rel=1e-12)
    assert apply_kernel(GaussianKernel(0.01, "d", threshold=0), z, w, np.ones(1))[0] == pytest.approx(math.exp(-d / 0.02), rel=1e-9)


def test_paper_table_1_parameters():
    """Table 1: Gaussian σ = 30 (the printed reading of 3.6), ReLU σ_w = 5.716, σ_b = 80.52."""
    assert GaussianKernel.paper() == GaussianKernel(30.0, "d")
    assert ReluNtkKernel.paper() == ReluNtkKernel(5.716, 80.52)


@pytest.mark.parametrize("kernel", [GaussianKernel(0.3, "d2"), GaussianKernel(30.0, "d"), ReluNtkKernel.paper()], ids=repr)
def test_kernel_matrices_are_symmetric(quintic, kernel):
    z = quintic[1][:100]
    k = kernel.pairwise(z)
    np.testing.assert_allclose(k, k.T, rtol=1e-14, atol=0)


@pytest.mark.parametrize("kernel", [GaussianKernel(0.1, "d2"), GaussianKernel(0.3, "d2"), ReluNtkKernel.paper(), ReluNtkKernel(1.0, 0.0)], ids=repr)
def test_gram_matrices_are_positive_semidefinite(quintic, kernel):
    """A narrow Gaussian of d^2 and the NTK: the Gram matrix of 100 points has eigenvalues >= -1e-10 max."""
    eig = np.linalg.eigvalsh(kernel.pairwise(quintic[1][:100]))
    assert eig.min() >= -1e-10 * eig.max()


def test_wide_geodesic_gaussian_is_not_positive_semidefinite(quintic):
    """exp(-d^2/(2σ^2)) of a geodesic distance is PSD for every σ only on flat spaces (Feragen, Lauze &
    Hauberg, CVPR 2015); on P^4 at σ = 1 the Gram matrix of 100 quintic points has a clearly negative
    eigenvalue, so a wide Gaussian is not the NTK of any network."""
    eig = np.linalg.eigvalsh(GaussianKernel(1.0, "d2").pairwise(quintic[1][:100]))
    assert eig.min() < -1e-3 * eig.max()


@pytest.mark.parametrize("kernel", [GaussianKernel(0.3, "d"), GaussianKernel(0.1, "d2"), GaussianKernel(5.0, "inverse"), DeltaKernel()], ids=repr)
def test_fs_kernels_are_functions_of_projective_points(quintic, kernel):
    """K(λz, μw) = K(z, w) for complex λ, μ != 0: the FS distance (3.2) sees only the points of P^4."""
    z_out, z_in = quintic[0][:60], quintic[1][:80]
    rng = np.random.default_rng(SEED)
    lam = (rng.normal(size=(60, 1)) + 1j * rng.normal(size=(60, 1))) * 10.0 ** rng.uniform(-3, 3, size=(60, 1))
    mu = (rng.normal(size=(80, 1)) + 1j * rng.normal(size=(80, 1))) * 10.0 ** rng.uniform(-3, 3, size=(80, 1))
    np.testing.assert_allclose(kernel.pairwise(lam * z_out, mu * z_in), kernel.pairwise(z_out, z_in), rtol=1e-12, atol=1e-14)
    v = rng.normal(size=(80, 2))
    np.testing.assert_allclose(apply_kernel(kernel, lam * z_out, mu * z_in, v), apply_kernel(kernel, z_out, z_in, v), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------- tiled vs dense


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("width", [0.05, 0.3, 30.0])
def test_tiled_gaussian_matches_dense_reference(quintic, gradients, reading, width):
    """apply_kernel (series instead of arccos, vectorised exp, skipped tiles) == dense direct formula,
    test on train and train on train, narrow to wide widths."""
    z_out, z_in = quintic
    kernel = GaussianKernel(width, reading)
    assert_tiled_matches_dense(kernel, z_out, z_in, gradients, block=64)
    assert_tiled_matches_dense(kernel, z_in, z_in, gradients, block=64, same_points=True)


def test_tiled_gaussian_narrow_with_spatial_order_and_ragged_blocks(quintic, gradients):
    """σ = 0.02 (most tiles skipped), points sorted spatially, N not a multiple of the block."""
    z_out, z_in = quintic
    for kernel in (GaussianKernel(0.02, "d2"), GaussianKernel(0.01, "d")):
        assert_tiled_matches_dense(kernel, z_out[:201], z_in[:333], gradients[:333], block=48, order="spatial")
        assert_tiled_matches_dense(kernel, z_in, z_in, gradients, block=48, same_points=True, order="spatial")


def test_tiled_relu_ntk_matches_dense_reference(quintic, gradients):
    z_out, z_in = quintic
    kernel = ReluNtkKernel.paper()
    assert_tiled_matches_dense(kernel, z_out, z_in, gradients, block=100)
    assert_tiled_matches_dense(kernel, z_in, z_in, gradients, block=100, same_points=True)


def test_real_values_and_shapes_are_kept(quintic):
    z_out, z_in = quintic
    v = np.random.default_rng(SEED).normal(size=(500,))
    out = apply_kernel(GaussianKernel(0.3, "d2"), z_out, z_in, v)
    assert out.shape == (250,) and out.dtype == np.float64
    np.testing.assert_allclose(out, GaussianKernel(0.3, "d2").pairwise(z_out, z_in) @ v, rtol=1e-12)


def test_spatial_order_is_a_permutation_with_coherent_runs(quintic):
    """Runs of 16 consecutive points after spatial_order(leaf=16) have a mean pairwise FS distance
    below 0.85 times that of runs of the unsorted sample (in 6 real dimensions leaves stay wide)."""
    z = quintic[1]
    order = spatial_order(z, leaf=16)
    assert np.array_equal(np.sort(order), np.arange(500))
    d = np.asarray(fs_distance_matrix(z))

    def mean_run_distance(perm):
        runs = perm[:496].reshape(-1, 16)
        return np.mean([d[np.ix_(r, r)].sum() / (16 * 15) for r in runs])

    assert mean_run_distance(order) < 0.85 * mean_run_distance(np.arange(500))


# ----------------------------------------------------------------------------------------- Delta


def test_delta_takes_the_nearest_train_point(quintic, gradients):
    """Nearest neighbours (blockwise overlaps, near-ties decided exactly) == brute-force argmin of d."""
    z_out, z_in = quintic
    brute = np.argmin(np.asarray(fs_distance_matrix(z_out, z_in, threshold=0)), axis=1)
    assert np.array_equal(nearest_indices(z_out, z_in, block=37), brute)
    np.testing.assert_array_equal(apply_kernel(DeltaKernel(), z_out, z_in, gradients), gradients[brute])
    np.testing.assert_array_equal(dense_reference(DeltaKernel(), z_out, z_in, gradients), gradients[brute])


def test_delta_is_the_identity_on_train_points_even_with_duplicates(quintic, gradients):
    """K(x_i, x_j) = δ_ij on the train set; a test point on a duplicated train point takes the first copy."""
    z_in = quintic[1].copy()
    z_in[7] = (2 - 1j) * z_in[3]  # the same point of P^4 twice
    np.testing.assert_array_equal(apply_kernel(DeltaKernel(), z_in, z_in, gradients, same_points=True), gradients)
    np.testing.assert_array_equal(DeltaKernel().pairwise(z_in), np.eye(500))
    assert np.array_equal(nearest_indices(z_in[[7, 3]], z_in), [3, 3])
    noised = z_in[:50] + 1e-6 * np.random.default_rng(SEED).normal(size=(50, 5))
    expected = np.arange(50)
    expected[7] = 3  # equidistant from the two copies: the first wins
    assert np.array_equal(nearest_indices(noised, z_in), expected)


# ------------------------------------------------------------------------------- neural tangents


@pytest.fixture(scope="module")
def stax():
    return pytest.importorskip("neural_tangents").stax


@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(5.716, 80.52), (1.3, 0.2), (2.0, 0.0)])
def test_relu_ntk_agrees_with_neural_tangents(quintic, stax, sigma_w, sigma_b):
    """The closed form == neural_tangents' kernel_fn(x1, x2, 'ntk') of Dense-Relu-Dense (NTK
    parameterisation) on the 10 real inputs, to 1e-10 relative (of each entry at Table 1's values,
    where every entry is ~σ_b^2; of the largest entry otherwise, where entries cross zero).  The
    diagonal is compared on distinct sets only: there neural_tangents' arccos of a cosine rounded
    to 1 - ulp is off by ~1e-8 relative, which the half-angle form avoids."""
    kernel = ReluNtkKernel(sigma_w, sigma_b)
    _, _, kernel_fn = stax.serial(stax.Dense(512, W_std=sigma_w, b_std=sigma_b), stax.Relu(), stax.Dense(1, W_std=sigma_w, b_std=sigma_b))
    z_out, z_in = quintic[0][:120], quintic[1][:150]
    ours = kernel.pairwise(z_out, z_in)
    nt = np.asarray(kernel_fn(kernel.features(z_out), kernel.features(z_in), "ntk"))
    scale = np.abs(nt) if sigma_b > 10 else np.abs(nt).max()
    assert np.all(np.abs(ours - nt) <= 1e-10 * scale)


def test_relu_ntk_diagonal_is_exact(quintic):
    """On x = x' the half-angle form gives θ = 0 exactly: Θ(x, x) = σ_w^2 |X|^2 + σ_b^2 (sin 0 + 2π cos 0 = 2π)."""
    kernel = ReluNtkKernel(1.0, 0.0)
    z = quintic[1][:50]
    x = kernel.features(z)
    np.testing.assert_allclose(np.diag(kernel.pairwise(z)), np.sum(x * x, axis=1) / 10, rtol=1e-15)


# ----------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("width", [0, -1.0, math.nan, math.inf, True, "1"])
def test_bad_width_is_named(width):
    with pytest.raises(InvalidParameterError, match="width"):
        GaussianKernel(width, "d2")


def test_bad_kernel_parameters_are_named():
    with pytest.raises(InvalidParameterError, match="reading"):
        GaussianKernel(1.0, "sigma")
    with pytest.raises(InvalidParameterError, match="threshold"):
        GaussianKernel(1.0, "d", threshold=-1.0)
    with pytest.raises(InvalidParameterError, match="sigma_w"):
        ReluNtkKernel(0.0, 1.0)
    with pytest.raises(InvalidParameterError, match="sigma_b"):
        ReluNtkKernel(1.0, math.nan)


def test_bad_inputs_to_apply_are_named(quintic, gradients):
    z_out, z_in = quintic
    k = GaussianKernel(0.3, "d2")
    with pytest.raises(EmptyInputError, match="z_out"):
        apply_kernel(k, np.zeros((0, 5), complex), z_in, gradients)
    with pytest.raises(EmptyInputError, match="z_in"):
        apply_kernel(k, z_out, np.zeros((0, 5), complex), gradients[:0])
    with pytest.raises(EmptyInputError, match="values"):
        apply_kernel(k, z_out, z_in, np.zeros((500, 0)))
    bad = z_in.copy()
    bad[4, 2] = np.nan
    with pytest.raises(NonFiniteError, match="z_in"):
        apply_kernel(k, z_out, bad, gradients)
    badv = gradients.copy()
    badv[1, 0, 0] = np.inf
    with pytest.raises(NonFiniteError, match="values"):
        apply_kernel(k, z_out, z_in, badv)
    with pytest.raises(InvalidParameterError, match="values must have shape"):
        apply_kernel(k, z_out, z_in, gradients[:499])
    with pytest.raises(InvalidParameterError, match="coordinates"):
        apply_kernel(k, z_out[:, :4], z_in, gradients)
    with pytest.raises(InvalidParameterError, match=r"\(N, n\)"):
        apply_kernel(k, z_out[0], z_in, gradients)
    with pytest.raises(InvalidParameterError, match="zero vector"):
        apply_kernel(k, np.zeros((2, 5), complex), z_in, gradients)
    for block in (0, -3, 2.5, True):
        with pytest.raises(InvalidParameterError, match="block"):
            apply_kernel(k, z_out, z_in, gradients, block=block)
    with pytest.raises(InvalidParameterError, match="order"):
        apply_kernel(k, z_out, z_in, gradients, order="random")
    with pytest.raises(InvalidParameterError, match="same_points"):
        apply_kernel(DeltaKernel(), z_in[::-1], z_in, gradients, same_points=True)
    with pytest.raises(InvalidParameterError, match="kernel"):
        apply_kernel(lambda a, b: 1.0, z_out, z_in, gradients)
    with pytest.raises(InvalidParameterError, match="10 real inputs"):
        apply_kernel(ReluNtkKernel.paper(), z_out[:, :3], z_in[:, :3], gradients)
    with pytest.raises(InvalidParameterError, match="leaf"):
        spatial_order(z_in, leaf=0)


def test_a_profile_kernel_of_a_sympy_expression_is_the_same_gaussian(quintic):
    """Any frozen kernel f(d) of the symbolic layer runs through the same tiles: the profile
    exp(-d^2/(2 0.3^2)) equals GaussianKernel(0.3, "d2"), tiled and dense, on and off the train set."""
    import sympy as sp

    from numerics.cy.kernels import ProfileKernel

    d = sp.Symbol("d")
    profile = ProfileKernel(sp.exp(-d**2 / (2 * sp.Rational(3, 10) ** 2)))
    assert ProfileKernel("exp(-d**2/(2*(3/10)**2))") == profile  # text and sympy give one kernel
    gaussian = GaussianKernel(0.3, "d2")
    w, z = quintic[0][:70], quintic[1][:120]
    values = np.random.default_rng(3).standard_normal((120, 3, 3))
    for out, same in ((z, True), (w, False)):
        ours = apply_kernel(profile, out, z, values, block=32, same_points=same)
        ref = apply_kernel(gaussian, out, z, values, block=32, same_points=same)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12 * np.max(np.abs(ref)))
    np.testing.assert_allclose(profile.pairwise(z, w), gaussian.pairwise(z, w), rtol=0, atol=1e-13)


def test_a_profile_with_other_symbols_is_refused():
    from numerics.cy.kernels import ProfileKernel

    with pytest.raises(InvalidParameterError, match="d only"):
        ProfileKernel("exp(-d/s)")
    with pytest.raises(InvalidParameterError, match="cannot read"):
        ProfileKernel("exp(-d/")
