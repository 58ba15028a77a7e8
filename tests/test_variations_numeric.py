"""Every derived first variation, checked numerically: d/dε E[f + εh] (jax.jvp of the discretised
functional) against ∫⟨δE/δf, h⟩ (the symbolic variation of flowtheory.functionals, compiled through
the bridge), on random trigonometric metrics and potentials.

The two sides differ only by the discretisation of the integration by parts inside the Euler
operator; with spectral derivatives and the trapezoidal / Fejér rules that error falls
exponentially with the grid.  Each test asserts the relative difference on a fine grid (a stated
bound) *and* its decrease from a coarse grid, so a wrong variation (an O(1) mismatch that does not
shrink) fails.
"""

import jax
import numpy as np
import pytest
import sympy as sp

from flowtheory import functionals
from numerics.grid.energies import DiscreteFunctional
from numerics.grid.grids import ComplexTorus, PeriodicGrid, SphereGrid
from numerics.grid.random_fields import (
    SPHERE_PARITIES,
    perturbed_round_metric,
    random_torus_metric,
    sphere_polynomial,
    trigonometric_field,
)


def relative_gap(discrete: DiscreteFunctional, fields, h) -> float:
    a = float(discrete.directional_derivative(fields, h))
    b = float(discrete.pairing(fields, h))
    return abs(a - b) / abs(a)


# Potential functionals on C/(Z+iZ): φ of modulus <= 0.015 in the modes |m|∞ <= 1 keeps
# |∂∂̄φ| <= (2π)²·2/4·0.015 < 0.3, so g = 1 + ∂∂̄φ stays positive.
POTENTIAL_CASES = [
    ("kahler-ricci", {}),
    ("ultralocal", {}),
    ("two-derivative", {}),
    ("einstein-hilbert", {}),
    ("calabi", {}),
    ("mabuchi", {"Rbar": 0.7}),
    ("j", {"c": 1.3}),
]


@pytest.mark.parametrize("name,parameters", POTENTIAL_CASES, ids=[c[0] for c in POTENTIAL_CASES])
def test_potential_variation_on_the_complex_torus(name, parameters, key):
    functional = functionals.preset(name, 1)
    values = {sp.Symbol(k): v for k, v in parameters.items()}
    k_phi, k_h = jax.random.split(key)
    gaps = []
    for n in (12, 24):
        torus = ComplexTorus(1, n)
        discrete = DiscreteFunctional.compile(functional, torus, values)
        phi = trigonometric_field(k_phi, torus.grid, 1, 0.015)
        h = {"phi": trigonometric_field(k_h, torus.grid, 2, 1.0)}
        gaps.append(relative_gap(discrete, {"phi": phi}, h))
    assert gaps[1] < 1e-11, gaps
    assert gaps[1] <= max(1e-3 * gaps[0], 1e-14), gaps


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kahler-ricci", "mabuchi"])
def test_potential_variation_in_complex_dimension_two(name, key):
    """C²/(Z²+iZ²) on 4⁴ and 8⁴ grids: g_{ab̄} = δ + ∂_a∂̄_bφ, Hermitian 2x2."""
    functional = functionals.preset(name, 2)
    values = {p: 0.4 for p in functional.parameters}
    k_phi, k_h = jax.random.split(key)
    gaps = []
    for n in (4, 8):
        torus = ComplexTorus(2, n)
        discrete = DiscreteFunctional.compile(functional, torus, values)
        phi = trigonometric_field(k_phi, torus.grid, 1, 0.004)
        h = {"phi": trigonometric_field(k_h, torus.grid, 1, 1.0)}
        gaps.append(relative_gap(discrete, {"phi": phi}, h))
    assert gaps[1] < 1e-11 and gaps[1] <= max(1e-3 * gaps[0], 1e-14), gaps


@pytest.mark.slow  # the 16² point is also proof nflow-variation-perelman (default run)
def test_perelman_variation_on_a_random_torus_metric(key):
    """Perelman's F (2.41) at fixed e^{-φ}dV: δφ slaved numerically (jvp of the measure)."""
    functional = functionals.preset("perelman", 2)
    k_g, k_phi, k_h = jax.random.split(key, 3)
    gaps = []
    for n in (8, 16):
        grid = PeriodicGrid.cube(n, 2)
        discrete = DiscreteFunctional.compile(functional, grid)
        fields = {**random_torus_metric(k_g, grid, 2, 0.3), "phi": trigonometric_field(k_phi, grid, 2, 0.5)}
        h = {k: v - (1.0 if k[2] == k[3] else 0.0) for k, v in random_torus_metric(k_h, grid, 2, 0.3).items()}
        gaps.append(relative_gap(discrete, fields, h))
    assert gaps[1] < 1e-4 and gaps[1] < 1e-2 * gaps[0], gaps


@pytest.mark.slow
def test_perelman_variation_on_a_perturbed_round_sphere(key):
    """Perelman's F on S² with g = e^{2u}g_round + df⊗df (double-Fourier grid, g_θφ odd)."""
    functional = functionals.preset("perelman", 2)
    k_g, k_phi, k_h = jax.random.split(key, 3)
    gaps = []
    for n in (10, 16):
        grid = SphereGrid(n, 2 * n)
        discrete = DiscreteFunctional.compile(functional, grid, parities=SPHERE_PARITIES)
        fields = {**perturbed_round_metric(k_g, grid, 3, 0.2), "phi": sphere_polynomial(k_phi, grid, 3, 0.5)}
        bent, flat = perturbed_round_metric(k_h, grid, 3, 0.3), perturbed_round_metric(k_h, grid, 3, 0.0)
        h = {k: bent[k] - flat[k] for k in bent}
        gaps.append(relative_gap(discrete, fields, h))
    assert gaps[1] < 1e-4 and gaps[1] < 1e-2 * gaps[0], gaps


def test_volume_variation_on_a_random_three_torus(key):
    """d Vol = ∫ ½ g^{ij} h_ij dV on T³ (the measure variation every metric functional uses)."""
    functional = functionals.volume(3)
    k_g, k_h = jax.random.split(key)
    grid = PeriodicGrid.cube(8, 3)
    discrete = DiscreteFunctional.compile(functional, grid)
    fields = random_torus_metric(k_g, grid, 2, 0.3)
    h = {k: v - (1.0 if k[2] == k[3] else 0.0) for k, v in random_torus_metric(k_h, grid, 2, 0.3).items()}
    assert relative_gap(discrete, fields, h) < 1e-13


def test_einstein_hilbert_is_topological_in_two_dimensions(key):
    """Gauss–Bonnet: ∫R dV is constant on T², so jvp of the discretised action vanishes (to the
    spectral error), and the derived variation is identically zero."""
    functional = functionals.einstein_hilbert_metric(2)
    k_g, k_h = jax.random.split(key)
    grid = PeriodicGrid.cube(24, 2)
    discrete = DiscreteFunctional.compile(functional, grid)
    fields = random_torus_metric(k_g, grid, 2, 0.3)
    h = {k: v - (1.0 if k[2] == k[3] else 0.0) for k, v in random_torus_metric(k_h, grid, 2, 0.3).items()}
    assert abs(float(discrete.energy(fields))) < 1e-10  # χ(T²) = 0
    assert abs(float(discrete.directional_derivative(fields, h))) < 1e-10
    assert abs(float(discrete.pairing(fields, h))) < 1e-12
    assert np.isfinite(float(discrete.pairing(fields, h)))
