r"""Fubini–Study distances, their threshold, nearest-neighbour scaling and batched clustering
(section 3.1 and figure 3 right of the paper).

* ``cyd-fs-distance`` (3.2): (3.2) is the geodesic distance of the FS metric
  :math:`g = \partial\bar\partial\log|z|^2` (``ds^2 = g_{a\bar b}dz^a d\bar z^b``) and equals the
  well-conditioned form :math:`\operatorname{atan2}(|z\wedge z'|, |z^\dagger z'|)` used by
  :mod:`numerics.cy.distance` (Lagrange's identity); float64 values against a 50-digit mpmath
  reference, the CP^1 Bloch half-angle, the infinitesimal form (the FS norm of a tangent vector),
  symmetry, scale invariance, the triangle inequality and the diameter pi/2.
* ``cyd-threshold`` (3.4): the series of arccos(1 - eps); the size of the printed route's
  float64 noise; the numeric example printed after (3.4).
* ``cyd-nn-scaling`` (3.7): the dimension argument made quantitative (Poisson law with the FS
  volume of the quintic) against a measurement with our Shiffman–Zelditch sampler, and the
  printed fit .968 N^-.184.
* ``cyd-nn-scaling-chart`` (3.7, a finding): why the print's fit differs from the all-manifold law.
  The experiments' point sets are those of one chart (section 3.1: "sample about 20 times more
  points than needed and then use rejection sampling"), a region of 1/20 of the quintic's volume
  by its S_5 x Z_5^4 symmetry.  N points there are 20 times denser, so the asymptotic prefactor is
  Γ(7/6)(V/20)^{1/6}/V_6^{1/6} = 1.2131 · 20^{-1/6} = 0.7426, and points near the region's boundary
  lack neighbours beyond it, an excess over the Poisson law that dies out as N grows and so steepens
  the slope at these N beyond -1/6.  Measured on chart-(0, 1) samples of 10^3 to 10^4 points:
  a fit that reproduces the print's .968 N^-.184 (prefactor within 10 %, slope within 0.015) and its
  read-offs μ ≈ .3 at 10^3 and ≈ .1 at 10^5.
* ``cyd-batched-clustering`` (3.3): what the printed set formula must mean, and a planted-cluster
  check of the implementation.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from flowtheory.printed import cy as printed
from flowtheory.proof import Check, Outcome, proof

SEED = 20240628


def _random_points(rng, n, dim=5):
    return rng.normal(size=(n, dim)) + 1j * rng.normal(size=(n, dim))


def _lagrange_identity_holds(n: int) -> bool:
    """|z|^2|w|^2 - |z^dagger w|^2 == sum_{i<j} |z_i w_j - z_j w_i|^2 for z, w in C^n (real and imaginary parts)."""
    re = sp.symbols(f"a0:{n}", real=True), sp.symbols(f"b0:{n}", real=True)
    rw = sp.symbols(f"c0:{n}", real=True), sp.symbols(f"e0:{n}", real=True)
    z = [re[0][i] + sp.I * re[1][i] for i in range(n)]
    w = [rw[0][i] + sp.I * rw[1][i] for i in range(n)]

    def abs2(x):
        return sp.expand(x * sp.conjugate(x))

    dot = sum(sp.conjugate(z[i]) * w[i] for i in range(n))
    lhs = sum(abs2(x) for x in z) * sum(abs2(x) for x in w) - abs2(dot)
    rhs = sum(abs2(z[i] * w[j] - z[j] * w[i]) for i in range(n) for j in range(i + 1, n))
    return sp.expand(lhs - rhs) == 0


@proof(id="cyd-fs-distance", title="Fubini–Study geodesic distance and its stable form", equations=("3.2",))
def fs_distance_proof() -> Outcome:
    from numerics.cy.distance import fs_distance, fs_distance_matrix, fs_distance_reference

    # -- symbolic: Lagrange's identity (n = 2..5) makes atan2(|z^w|, |z^dagger w|) equal to (3.2) --
    s, c, T = sp.symbols("s c T", positive=True)
    same_angle = sp.simplify(sp.cos(sp.atan(s / c)) - c / sp.sqrt(s**2 + c**2)) == 0
    # -- symbolic: (3.2) is the FS geodesic distance: along the ray w = (t, 0) of the chart
    #    z = (1, w1, w2) the metric d_a d_bbar log(1 + |w|^2) has g_{1 1bar} = 1/(1+t^2)^2, so the
    #    length from 0 to T is atan(T); (3.2) between (1,0,0) and (1,T,0) is acos(1/sqrt(1+T^2)). --
    w1, w2, w1b, w2b, t = sp.symbols("w1 w2 w1b w2b t")
    K = sp.log(1 + w1 * w1b + w2 * w2b)
    g = sp.Matrix(2, 2, lambda a, b: sp.diff(K, (w1, w2)[a], (w1b, w2b)[b]))
    g_on_ray = sp.simplify(g.subs({w1: t, w1b: t, w2: 0, w2b: 0}))
    length = sp.integrate(sp.sqrt(g_on_ray[0, 0]), (t, 0, T))
    zs = sp.symbols("z0:3")
    zps = sp.symbols("zp0:3")
    d_printed = printed.eq_3_2(zs, zps).subs({zs[0]: 1, zs[1]: 0, zs[2]: 0, zps[0]: 1, zps[1]: T, zps[2]: 0})
    geodesic = sp.simplify(length - sp.atan(T)) == 0 and sp.simplify(sp.cos(sp.atan(T)) - sp.cos(d_printed)) == 0
    metric_ok = sp.simplify(g_on_ray - sp.diag(1 / (1 + t**2) ** 2, 1 / (1 + t**2))) == sp.zeros(2, 2)

    # -- numeric: float64 implementation against 50 digits --
    rng = np.random.default_rng(SEED)
    z, w = _random_points(rng, 80), _random_points(rng, 80)
    w[:30] = z[:30] + (10.0 ** -rng.uniform(1, 9, 30))[:, None] * w[:30]
    d = np.asarray(fs_distance(z, w, threshold=0.0))
    ref = np.array([fs_distance_reference(a, b) for a, b in zip(z, w)])
    err_ref = float(np.max(np.abs(d - ref)))
    lam = rng.normal(size=(80, 1)) + 1j * rng.normal(size=(80, 1))
    err_scale = float(np.max(np.asarray(fs_distance(z, lam * z, threshold=0.0))))
    err_scale_w = float(np.max(np.abs(np.asarray(fs_distance(lam * z, w, threshold=0.0)) - d)))
    # CP^1: d = theta/2, theta the angle of the Bloch vectors
    p, q = _random_points(rng, 200, 2), _random_points(rng, 200, 2)

    def bloch(v):
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        x = np.conj(v[:, 0]) * v[:, 1]
        return np.stack([2 * x.real, 2 * x.imag, np.abs(v[:, 0]) ** 2 - np.abs(v[:, 1]) ** 2], axis=1)

    cos_theta = np.sum(bloch(p) * bloch(q), axis=1)
    ok = np.abs(cos_theta) < 0.99
    err_bloch = float(np.max(np.abs(np.asarray(fs_distance(p, q, threshold=0.0))[ok] - np.arccos(cos_theta[ok]) / 2)))
    # metric axioms on a 120-point sample: symmetry, triangle inequality, range [0, pi/2]
    x = _random_points(rng, 120)
    D = np.asarray(fs_distance_matrix(x, threshold=0.0))
    pairs = np.asarray(fs_distance(x[:, None, :], x[None, :, :], threshold=0.0))
    err_sym = float(np.max(np.abs(pairs - pairs.T)))
    triangle = float(np.max(D[:, None, :] - D[:, :, None] - D[None, :, :]))  # d(a,c) - d(a,b) - d(b,c)
    over_diameter = float(max(np.max(D) - math.pi / 2, 0.0))
    qmat, _ = np.linalg.qr(_random_points(rng, 5))
    Dq = np.asarray(fs_distance_matrix(qmat.T))
    err_diam = float(np.max(np.abs(Dq[~np.eye(5, dtype=bool)] - math.pi / 2)))

    # infinitesimal form at random points and directions: d(z, z + t v)/t -> |v_perp|/|z|, the FS
    # norm (|v|^2|z|^2 - |z^dagger v|^2)^(1/2) / |z|^2 of ds^2 = g dz dzbar (error O(t) + O(eps/t))
    zz, vv, step = _random_points(rng, 50), _random_points(rng, 50), 1e-6
    fs_norm = np.sqrt(np.linalg.norm(vv, axis=1) ** 2 * np.linalg.norm(zz, axis=1) ** 2 - np.abs(np.sum(np.conj(zz) * vv, axis=1)) ** 2)
    fs_norm /= np.linalg.norm(zz, axis=1) ** 2
    err_local = float(np.max(np.abs(np.asarray(fs_distance(zz, zz + step * vv, threshold=0.0)) / step / fs_norm - 1.0)))

    zsym, wsym = sp.symbols("z0:5"), sp.symbols("w0:5")
    wedge = sp.sqrt(sum(sp.Abs(zsym[i] * wsym[j] - zsym[j] * wsym[i]) ** 2 for i in range(5) for j in range(i + 1, 5)))
    derived = sp.atan2(wedge, sp.Abs(sum(sp.conjugate(a) * b for a, b in zip(zsym, wsym))))
    return Outcome(
        derived=derived,
        printed=printed.eq_3_2(zsym, wsym),
        matches_print=True,
        checks=(
            Check("|float64 - 50-digit (3.2)|, d in [1e-9, pi/2]", err_ref, 1e-13),
            Check("d(z, lambda z) without threshold", err_scale, 1e-15),
            Check("|d(lambda z, w) - d(z, w)|", err_scale_w, 1e-14),
            Check("CP^1: |d - theta_Bloch/2|", err_bloch, 1e-13),
            Check("symmetry |d(z,w) - d(w,z)|", err_sym, 1e-15),
            Check("triangle inequality violation", max(triangle, 0.0), 1e-14),
            Check("d above the diameter pi/2", over_diameter, 0.0),
            Check("orthonormal points at distance pi/2", err_diam, 1e-15),
            Check("|d(z, z + t v) / (t |v|_FS) - 1|, t = 1e-6", err_local, 1e-5),
        ),
        symbolic_checks={
            **{f"Lagrange identity |z|^2|w|^2-|z^+w|^2 = |z^w|^2, n={n}": _lagrange_identity_holds(n) for n in range(2, 6)},
            "cos atan2(s, c) = c / sqrt(s^2 + c^2) for s, c >= 0": same_angle,
            "FS metric on the ray: g = diag(1/(1+t^2)^2, 1/(1+t^2))": metric_ok,
            "ray length atan(T) equals (3.2) between (1,0,0) and (1,T,0)": geodesic,
        },
    )


@proof(id="cyd-threshold", title="Small-distance threshold: arccos(1 - eps) ~ sqrt(2 eps)", equations=("3.4",), depends_on=("cyd-fs-distance",))
def threshold_proof() -> Outcome:
    from numerics.cy.distance import default_threshold, fs_distance

    eps = sp.symbols("epsilon", positive=True)
    lhs, rhs = printed.eq_3_4(eps)
    series = sp.series(lhs / rhs, eps, 0, 3).removeO()
    derived_series = 1 + eps / 12 + 3 * eps**2 / 160
    leading = sp.limit(lhs / rhs, eps, 0) == 1
    series_ok = sp.simplify(series - derived_series) == 0
    example = printed.EQ_3_4_EXAMPLE
    example_value = float(rhs.subs(eps, example["eps"]))  # 4.47e-4
    # float64 noise of the printed route for identical points up to scaling, and of ours
    rng = np.random.default_rng(SEED + 1)
    z = _random_points(rng, 20000)
    lam = rng.normal(size=(20000, 1)) + 1j * rng.normal(size=(20000, 1))
    w = lam * z
    cos = np.abs(np.sum(np.conj(z) * w, axis=1)) / (np.linalg.norm(z, axis=1) * np.linalg.norm(w, axis=1))
    printed_noise = float(np.max(np.arccos(np.minimum(cos, 1.0))))
    ours = float(np.max(np.asarray(fs_distance(z, w, threshold=0.0))))
    t = default_threshold()
    return Outcome(
        derived=sp.sqrt(2 * eps) * derived_series,
        printed=sp.Eq(lhs, rhs),
        matches_print=False,
        correction=(
            "(3.4) itself is right: arccos(1-eps) = sqrt(2 eps) (1 + eps/12 + 3 eps^2/160 + O(eps^3)). "
            f"The example printed after it is not: eps = 1e-7 gives sqrt(2e-7) = {example_value:.2e}, not .0003 "
            "(.0003 needs eps = 4.5e-8). In float64 the printed route leaves noise up to "
            f"{printed_noise:.1e} on identical points (cos off by a few ulp), above sqrt(2 eps) = {t:.1e}; "
            f"the atan2 form used here leaves {ours:.0e}, so the default threshold sqrt(2 eps) removes all of it."
        ),
        checks=(
            Check("atan2 form on identical points up to scale", ours, 1e-15),
            Check("printed-route noise is of order sqrt(2 eps) (ratio - 1, bound 3)", printed_noise / t - 1.0, 3.0),
        ),
        symbolic_checks={"lim arccos(1-eps)/sqrt(2 eps) = 1": leading, "series to O(eps^2)": series_ok},
    )


#: Sample sizes and repeats of the (3.7) measurement run by the proof (the full measurement to
#: 10^5 points is ``flowtheory quintic distances``; see its notes).
NN_SIZES = (1000, 2000, 4000)
NN_REPEATS = 2


@proof(id="cyd-nn-scaling", title="Mean nearest-neighbour FS distance on the Fermat quintic vs N", equations=("3.7",), depends_on=("cyd-fs-distance",))
def nn_scaling_proof() -> Outcome:
    import jax

    from numerics.cy.distance import nearest_neighbour_statistics, poisson_mean_nn_distance
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.sampling import sample_points
    from numerics.stats import fit_loglog_slope

    # derived: mu ~ Gamma(1+1/d) (V/V_d)^(1/d) N^(-1/d), d = 6, V = 5 pi^3/3! (degree x vol P^3 line class)
    N = sp.symbols("N", positive=True)
    d = 6
    volume = 5 * sp.pi**3 / sp.factorial(3)
    ball = sp.pi ** sp.Rational(d, 2) / sp.gamma(sp.Rational(d, 2) + 1)
    prefactor = sp.simplify(sp.gamma(1 + sp.Rational(1, d)) * (volume / ball) ** sp.Rational(1, d))
    prefactor_ok = sp.simplify(prefactor - sp.gamma(sp.Rational(7, 6)) * 5 ** sp.Rational(1, 6)) == 0
    a_inf = float(prefactor)
    numeric_prefactor_ok = abs(float(poisson_mean_nn_distance(1, 6, 5 * math.pi**3 / 6)) - a_inf) < 1e-13

    # one sample, split into NN_REPEATS independent halves; size n uses the first n points of a half
    # (nested subsets: independent across repeats, correlated across n within a repeat)
    largest_n = NN_SIZES[-1]
    sample = sample_points(fermat_quintic(), NN_REPEATS * largest_n, jax.random.PRNGKey(SEED)).points
    ns, means = [], []
    for n in NN_SIZES:
        for r in range(NN_REPEATS):
            means.append(nearest_neighbour_statistics(sample[r * largest_n : r * largest_n + n]).mean)
            ns.append(n)
    ns, means = np.array(ns), np.array(means)
    fit = fit_loglog_slope(ns, means)
    a_fit = math.exp(fit.intercept)
    largest = ns == NN_SIZES[-1]
    ratio_largest = float(np.mean(means[largest]) / poisson_mean_nn_distance(NN_SIZES[-1], 6, 5 * math.pi**3 / 6))
    mu_1e3 = float(np.mean(means[ns == 1000]))
    paper_at_1e3 = float(printed.eq_3_7(sp.Integer(1000)))
    # the paper's remark: mean segment length in the unit 6-cube is .969 (box line picking), checked by MC
    rng = np.random.default_rng(SEED + 2)
    seg = np.linalg.norm(rng.uniform(size=(400000, 6)) - rng.uniform(size=(400000, 6)), axis=1)
    seg_err = abs(seg.mean() - 0.969) - 0.0005  # .969 printed to 3 digits
    seg_z = max(seg_err, 0.0) / (seg.std(ddof=1) / math.sqrt(seg.size))
    return Outcome(
        derived=prefactor * N ** sp.Rational(-1, 6),
        printed=printed.eq_3_7(N),
        matches_print=False,
        correction=(
            f"For Shiffman-Zelditch (FS-volume distributed) points and the FS distance (3.2), mu(N) -> "
            f"Gamma(7/6) 5^(1/6) N^(-1/6) = {a_inf:.4f} N^(-1/6) (Poisson law, vol X = 5 pi^3/6), approached "
            f"from below (mu N^(1/6) / {a_inf:.4f} = {ratio_largest:.3f} at N = {NN_SIZES[-1]}). Measured here: "
            f"a = {a_fit:.3f} +- {a_fit * fit.intercept_se:.3f}, b = {fit.slope:.4f} +- {fit.slope_se:.4f} "
            f"(N = {NN_SIZES[0]}..{NN_SIZES[-1]}, OLS SE; pre-asymptotic curvature makes b shallower than -1/6); "
            f"mu(1000) = {mu_1e3:.3f} against the printed fit's {paper_at_1e3:.3f} (the text reads "
            f"{float(printed.EQ_3_7_CLAIMS['mu_1e3']):.1f} at 10^3 and {float(printed.EQ_3_7_CLAIMS['mu_1e5']):.1f} at 10^5; "
            f"the law gives {float(poisson_mean_nn_distance(100000, 6, 5 * math.pi**3 / 6)):.3f} at 10^5, which the slow test "
            "tests/test_cy_distance.py checks to 1%). The printed a = .968, "
            "b = -.184 is not reproduced; the printed b is steeper than -1/6, ours shallower. The .969 mean "
            "segment length of the unit 6-cube quoted for the prefactor is a correct value of an unrelated "
            "quantity (mean distance of two random points, not nearest-neighbour spacing)."
        ),
        checks=(
            Check(f"|mu N^(1/6) / Poisson prefactor - 1| at N={NN_SIZES[-1]} (finite-N bound 0.03)", abs(ratio_largest - 1.0), 0.03),
            Check("|b_fit + 1/6| (pre-asymptotic bound 0.02)", abs(fit.slope + 1 / 6), 0.02),
            Check("MC mean segment length of the 6-cube vs .969, in SE", seg_z, 4.0),
        ),
        symbolic_checks={"prefactor = Gamma(7/6) 5^(1/6)": prefactor_ok, "numeric prefactor": numeric_prefactor_ok},
    )


#: Sizes of the one-chart (3.7) measurement (two independent nested samples each).
CHART_NN_SIZES = (1000, 3000, 10000)


@proof(id="cyd-nn-scaling-chart", title="(3.7) is the nearest-neighbour law of one chart's point set", equations=("3.7",),
       depends_on=("cyd-nn-scaling",))
def nn_scaling_chart_proof() -> Outcome:
    import jax

    from numerics.cy.distance import poisson_mean_nn_distance
    from numerics.cy.hypersurface import fermat_quintic
    from numerics.cy.noise_analysis import nn_scaling_in_chart

    n_charts = 20  # (patch, eliminated) pairs of P^4: 5 x 4, permuted into each other by the symmetry
    N = sp.symbols("N", positive=True)
    prefactor = sp.gamma(sp.Rational(7, 6)) * (sp.Integer(5) / n_charts) ** sp.Rational(1, 6)
    volume = 5 * math.pi**3 / 6 / n_charts
    prefactor_ok = abs(float(poisson_mean_nn_distance(1, 6, volume)) - float(prefactor)) < 1e-13
    largest = CHART_NN_SIZES[-1]
    with jax.experimental.enable_x64():
        ns, stats, fit = nn_scaling_in_chart(fermat_quintic(), CHART_NN_SIZES, jax.random.PRNGKey(SEED + 7))
    means = np.array([s.mean for s in stats])
    a_fit = math.exp(fit.intercept)
    printed_a, printed_b = 0.968, -0.184
    excess = [float(np.mean(means[ns == n]) / poisson_mean_nn_distance(n, 6, volume)) for n in CHART_NN_SIZES]
    mu_1e3 = float(np.mean(means[ns == 1000]))
    mu_1e5 = a_fit * 1e5**fit.slope
    return Outcome(
        derived=sp.Float(a_fit, 4) * N ** sp.Float(fit.slope, 4),
        printed=printed.eq_3_7(N),
        matches_print=True,
        checks=(
            Check(f"|b_fit - (-0.184)| on one chart, N = {CHART_NN_SIZES[0]}..{largest} (fit {fit.slope:.4f} +- {fit.slope_se:.4f})",
                  abs(fit.slope - printed_b), 0.015),
            Check(f"|a_fit / .968 - 1| (fit a = {a_fit:.3f})", abs(a_fit / printed_a - 1), 0.10),
            Check(f"|mu(10^3) - .3| read off figure 3 right (mu = {mu_1e3:.3f})", abs(mu_1e3 - 0.3), 0.05),
            Check(f"|mu(10^5) - .1| from the fit (mu = {mu_1e5:.3f})", abs(mu_1e5 - 0.1), 0.03),
            Check(f"boundary excess mu / Poisson(V/20) falls with N ({', '.join(f'{e:.3f}' for e in excess)}): rise", max(0.0, excess[-1] - excess[0]), 0.0),
        ),
        symbolic_checks={"one-chart prefactor Gamma(7/6) (5/20)^(1/6) = poisson_mean_nn_distance(1, 6, V/20)": prefactor_ok},
    )


@proof(id="cyd-batched-clustering", title="Batched agglomerative clustering on FS distances", equations=("3.3",), depends_on=("cyd-fs-distance",))
def batched_clustering_proof() -> Outcome:
    from sklearn.metrics import adjusted_rand_score

    from numerics.cy.cluster import batched_agglomerative_clustering

    rng = np.random.default_rng(SEED + 3)
    n_clusters, n = 4, 300
    centres = _random_points(rng, n_clusters)
    truth = rng.integers(0, n_clusters, n)
    z = centres[truth] + 0.1 * _random_points(rng, n)
    z *= rng.uniform(0.3, 3.0, (n, 1)) * np.exp(2j * np.pi * rng.uniform(size=(n, 1)))
    res = batched_agglomerative_clustering(z, n_batches=3, n_clusters=n_clusters)
    ari = adjusted_rand_score(truth, res.labels)
    not_permutation = sum(sorted(row) != list(range(n_clusters)) for row in res.assignment)
    derived = (
        r"c_\alpha = c^1_\alpha \cup \bigcup_{I \ge 2} c^I_{\pi_I(\alpha)}, \quad "
        r"\pi_I = \arg\min_{\pi \in S_C} \sum_\alpha \mathrm{mean}_{x \in c^1_\alpha, y \in c^I_{\pi(\alpha)}} d_{FS}(x, y)"
    )
    return Outcome(
        derived=derived,
        printed=printed.EQ_3_3,
        matches_print=False,
        correction=(
            "(3.3) takes a min of a mean distance (a number) where a cluster is meant: read argmin over the "
            "batch-I clusters beta, with the mean over pairs x in c^1_alpha, y in c^I_beta. Taken literally per "
            "alpha (greedy) two alpha can claim the same beta and some beta none, leaving points unlabelled; "
            "we make it one-to-one (linear_sum_assignment over the C x C mean-distance matrix), always "
            "against the batch-1 clusters c^1_alpha, as (3.3) writes."
        ),
        checks=(
            Check("1 - ARI on 4 planted clusters (300 points, 3 batches)", 1.0 - ari, 0.01),
            Check("batches whose assignment is not a permutation", float(not_permutation), 0.0),
        ),
    )
