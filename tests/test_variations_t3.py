"""The first variation of Perelman's F (2.41) on a random metric on T³, in covariant form.

:math:`\\mathcal{F}[g,\\phi] = \\int (R + |\\nabla\\phi|^2)e^{-\\phi}\\,dV`, varied at fixed
:math:`\\mathrm{d}m = e^{-\\phi}dV` (the dilaton slaved, :math:`\\delta\\phi = \\tfrac12 g^{ij}h_{ij}`), is

.. math:: \\delta\\mathcal{F} = \\int \\langle G, h\\rangle\\,\\mathrm{d}m, \\qquad
   G_{ij} = -(R_{ij} + \\nabla_i\\nabla_j\\phi), \\quad \\langle G, h\\rangle = g^{ik}g^{jl}G_{ij}h_{kl}.

The generic 3-D Euler-operator derivation of :meth:`Functional.variation` (six metric jet fields)
is too slow for a test, so here the variation is the covariant expression the functionals proof
derives in 2-D, built from :func:`flowtheory.riemann.ricci_tensor` and :func:`~flowtheory.riemann.hessian`,
and this test confirms it in 3-D:

* left side: :math:`\\frac{d}{d\\varepsilon}\\mathcal{F}[g + \\varepsilon h, \\phi_\\varepsilon]` by ``jax.jvp``
  of the discretised functional (density of :func:`flowtheory.functionals.perelman` compiled on a
  spectral :class:`~numerics.grid.grids.PeriodicGrid`), the dilaton slaved numerically by
  :meth:`numerics.grid.energies.DiscreteFunctional.tangent` (jvp of the compiled measure density);
* right side: :meth:`~numerics.grid.energies.DiscreteFunctional.pairing` with
  :math:`V^{ij}/\\rho = g^{ik}G_{kl}g^{lj}`, :math:`\\rho = e^{-\\phi}\\sqrt{\\det g}`.

The two differ only by the discretisation of the integrations by parts hidden in the covariant
form, which falls exponentially with the grid; a wrong variation leaves an O(1) gap.
"""

from functools import lru_cache

import jax
import jax.numpy as jnp
import pytest

from flowtheory import functionals, riemann
from flowtheory.bridge import JaxFunction, to_jax
from numerics.grid.energies import DiscreteFunctional
from numerics.grid.fields import CompiledField, compile_jet_expression
from numerics.grid.grids import PeriodicGrid
from numerics.grid.random_fields import random_torus_metric, trigonometric_field


@lru_cache(maxsize=None)
def perelman_t3_parts() -> tuple[functionals.Functional, CompiledField, CompiledField, CompiledField]:
    """``(functional, density, variation, measure)`` for Perelman's F in three dimensions.

    ``variation`` is :math:`V^{ij}/\\rho = -g^{ik}(R_{kl} + \\nabla_k\\nabla_l\\phi)g^{lj}`.  It is
    compiled as the per-point product of the compiled :math:`G_{ij}` and :math:`g^{ij}` (``expr`` records
    the symbolic product): lambdifying the product as one matrix is about eight times slower to
    evaluate on a grid than its factors, and thirty times slower to jit.
    """
    f = functionals.perelman(3)
    g, coords, phi = f.metric, f.coords, f.jet.function("phi")
    lower = compile_jet_expression(f.jet.to_jet(-(riemann.ricci_tensor(g, coords) + riemann.hessian(phi, g, coords))), f.jet)
    g_inv = riemann.inverse_metric(g)
    inverse = to_jax(f.jet.to_jet(g_inv), lower.compiled.args)

    def raised(*values):
        a = inverse.fn(*values)
        return a @ lower.compiled.fn(*values) @ a

    upper = JaxFunction(expr=g_inv * lower.compiled.expr * g_inv, args=lower.compiled.args, fn=raised, shape=(3, 3))
    variation = CompiledField(compiled=upper, jets=lower.jets, fields=lower.fields)
    return f, compile_jet_expression(f.density, f.jet), variation, compile_jet_expression(f.fixed_measure, f.jet)


def perelman_on(grid: PeriodicGrid) -> DiscreteFunctional:
    """Perelman's F on ``grid`` with the covariant variation in place of the Euler-operator one."""
    f, density, variation, measure = perelman_t3_parts()
    assert f.weight == f.fixed_measure  # the variation is taken w.r.t. the fixed measure e^{-φ}dV
    return DiscreteFunctional(f, grid, density, variation, measure, measure, {})


def random_perelman_data(key, grid: PeriodicGrid):
    """g = 1 + 0.2 s(x) (modes |m|∞ <= 1; positive definite by Gershgorin), φ of modulus <= 0.5,
    and h the trigonometric part of an independent such metric."""
    k_g, k_phi, k_h = jax.random.split(key, 3)
    fields = {**random_torus_metric(k_g, grid, 1, 0.2), "phi": trigonometric_field(k_phi, grid, 1, 0.5)}
    h = {k: v - (1.0 if k[2] == k[3] else 0.0) for k, v in random_torus_metric(k_h, grid, 1, 0.2).items()}
    return fields, h


def matrix_field(components) -> jax.Array:
    """The ``(3, 3, *grid)`` symmetric matrix of ``{"g_ij": field}`` (``i <= j``)."""
    return jnp.stack([jnp.stack([components[f"g_{min(i, j)}{max(i, j)}"] for j in range(3)]) for i in range(3)])


def inverse_field(m: jax.Array) -> jax.Array:
    """Pointwise inverse of a ``(3, 3, *grid)`` matrix field."""
    return jnp.moveaxis(jnp.linalg.inv(jnp.moveaxis(m, (0, 1), (-2, -1))), (-2, -1), (0, 1))


@pytest.mark.slow  # about a minute: the variation compiled on 8³ and 12³ grids; the dilaton and the dropped-Hessian checks stay in the default run
def test_perelman_variation_on_a_random_three_torus_metric(key):
    """Relative gap between jvp and the covariant pairing: < 1e-6 on 8³, < 1e-12 on 12³, and
    falling by at least 10⁴ between them (spectral convergence)."""
    gaps = []
    for n in (8, 12):
        grid = PeriodicGrid.cube(n, 3)
        discrete = perelman_on(grid)
        fields, h = random_perelman_data(key, grid)
        a = float(jax.jit(discrete.directional_derivative)(fields, h))
        b = float(discrete.pairing(fields, h))
        gaps.append(abs(a - b) / abs(a))
    assert gaps[0] < 1e-6 and gaps[1] < 1e-12, gaps
    assert gaps[1] <= max(1e-4 * gaps[0], 1e-14), gaps


def test_the_slaved_dilaton_perturbation_is_half_the_trace(key):
    """The numerically slaved δφ (jvp of e^{-φ}√det g) is ½ g^{ij}h_ij, the fixed-measure convention."""
    grid = PeriodicGrid.cube(6, 3)
    fields, h = random_perelman_data(key, grid)
    discrete = perelman_on(grid)
    expected = 0.5 * jnp.einsum("ij...,ij...->...", inverse_field(matrix_field(fields)), matrix_field(h))
    assert float(jnp.max(jnp.abs(discrete.slaved_perturbation(fields, h) - expected))) < 1e-13


def test_dropping_the_hessian_term_breaks_the_agreement(key):
    """Control: the variation without ∇_i∇_jφ (the Einstein–Hilbert-like part alone) misses by O(1)
    on the same data, so the agreement above is a statement about the full covariant form."""
    grid = PeriodicGrid.cube(8, 3)
    fields, h = random_perelman_data(key, grid)
    discrete = perelman_on(grid)
    f = discrete.functional
    g, coords, phi = f.metric, f.coords, f.jet.function("phi")
    hess = compile_jet_expression(f.jet.to_jet(riemann.hessian(phi, g, coords)), f.jet).evaluate(grid, fields)
    g_inv = inverse_field(matrix_field(fields))
    rho = discrete.weight.evaluate(grid, fields)
    hessian_part = grid.integrate(-jnp.einsum("ik...,kl...,lj...,ij...->...", g_inv, hess, g_inv, matrix_field(h)) * rho)
    a = float(jax.jit(discrete.directional_derivative)(fields, h))
    b = float(discrete.pairing(fields, h))
    assert abs(a - (b - float(hessian_part))) > 1e-2 * abs(a)
    assert abs(a - b) < 1e-6 * abs(a)

