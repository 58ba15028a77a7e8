"""Patches and local (affine) coordinates on a hypersurface, and the embedding Jacobian.

Convention (section 3.1 of the paper, ``DESIGN.md``): at a point ``z`` the **patch** is the index
``i`` of the homogeneous coordinate of largest modulus, scaled to ``z_i = 1``; the **eliminated**
coordinate is the index ``j != i`` with the largest :math:`|\\partial p/\\partial z_j|` (the smallest
:math:`|\\Omega|^2`, :math:`\\Omega = 1/(\\partial p/\\partial z_j)`).  The ``n = m - 2`` remaining
indices ``k_1 < ... < k_n`` are the **local coordinates** :math:`x^a = z_{k_a}`; ``z_j`` is the
implicit function of them defined by ``p = 0``.  On the Fermat quintic there are 5 · 4 = 20
(patch, eliminated) pairs.

The embedding :math:`x \\mapsto z(x)` (``z_i = 1``, ``z_{k_a} = x^a``, ``z_j = z_j(x)``) has the
holomorphic Jacobian

.. math::

    J_{a\\mu} = \\frac{\\partial z_\\mu}{\\partial x^a}
             = \\delta_{\\mu k_a} - \\delta_{\\mu j}\\,\\frac{\\partial_{k_a} p}{\\partial_j p},

by implicit differentiation of :math:`p(z(x)) = 0` (checked against finite differences in the tests).
Any ``(patch, eliminated)`` pair may be forced, e.g. to compare one point in two charts:
:func:`neighbour_chart` gives each point's second chart (the next-largest ``|z_i|`` as patch) and
:func:`transition_jacobian` the Jacobian of the change of chart, under which a metric transforms as
:math:`g^B = T g^A T^\\dagger` (the Fubini–Study metric does, to rounding, in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Int

from flowtheory.errors import InvalidParameterError, SingularManifoldError
from numerics.checks import is_concrete
from numerics.cy.hypersurface import Hypersurface


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Chart:
    """Points expressed in a chart.

    Attributes:
        z: ``(N, m)`` homogeneous coordinates rescaled so that ``z[patch] = 1``.
        patch: ``(N,)`` index set to 1.
        eliminated: ``(N,)`` index solved for via ``p = 0``.
        dp: ``(N, m)`` gradient of ``p`` at ``z``.

    The local coordinates and the embedding Jacobian follow from these:
    :func:`free_indices`, :func:`embedding_jacobian`.
    """

    z: Complex[Array, "N m"]
    patch: Int[Array, " N"]
    eliminated: Int[Array, " N"]
    dp: Complex[Array, "N m"]


def free_indices(c: Chart) -> Int[Array, "N n"]:
    """Indices ``k_1 < ... < k_n`` of the local coordinates ``x^a = z[k_a]`` (neither patch nor eliminated)."""
    m = c.z.shape[-1]
    taken = jax.nn.one_hot(c.patch, m, dtype=bool) | jax.nn.one_hot(c.eliminated, m, dtype=bool)
    return jnp.argsort(taken, axis=-1, stable=True)[:, : m - 2]


def embedding_jacobian(c: Chart) -> Complex[Array, "N n m"]:
    """``J_{a mu} = dz_mu/dx^a = delta_{mu k_a} - delta_{mu j} (dp/dz_{k_a})/(dp/dz_j)``, shape ``(N, n, m)``."""
    m = c.z.shape[-1]
    free = free_indices(c)
    dp_j = jnp.take_along_axis(c.dp, c.eliminated[:, None], axis=-1)
    dp_free = jnp.take_along_axis(c.dp, free, axis=-1)
    eliminated = jax.nn.one_hot(c.eliminated, m, dtype=c.z.dtype)[:, None, :]
    return jax.nn.one_hot(free, m, dtype=c.z.dtype) - (dp_free / dp_j)[..., None] * eliminated


def _argmax_except(values: Array, index: Int[Array, " N"]) -> Int[Array, " N"]:
    """``argmax_j |values_j|`` over ``j != index`` on the last axis."""
    return jnp.argmax(jnp.where(jax.nn.one_hot(index, values.shape[-1], dtype=bool), -1.0, jnp.abs(values)), axis=-1)


def default_eliminated(patch: Int[Array, " N"], dp: Complex[Array, "N m"]) -> Int[Array, " N"]:
    """The default eliminated coordinate: the ``j != patch`` of largest :math:`|\\partial p/\\partial z_j|` (traceable)."""
    return _argmax_except(dp, patch)


def neighbour_chart(surface: Hypersurface, c: Chart) -> Chart:
    """The same points in a second chart: the patch of the largest ``|z_i|`` other than ``c``'s patch
    (the second largest for default charts), the eliminated coordinate by the default rule.

    Traceable (no validation), for the transition loss; :func:`chart` with that patch forced gives the
    same chart.
    """
    patch = _argmax_except(c.z, c.patch)
    z = c.z / jnp.take_along_axis(c.z, patch[:, None], axis=-1)
    dp = surface.dp(z)
    return Chart(z, patch, default_eliminated(patch, dp), dp)


def transition_jacobian(a: Chart, b: Chart) -> Complex[Array, "N n n"]:
    r"""The Jacobian of the change from chart ``a`` (A) to chart ``b`` (B) at the same points:
    :math:`T_{ec} = \partial x_A^c/\partial x_B^e`, shape ``(N, n, n)``, so that a metric transforms
    as :math:`g^B = T g^A T^\dagger`.

    With :math:`x_A^c = z_{f_c}/z_p` (``f`` the free indices and ``p`` the patch of A) and
    ``z = z(x_B)`` the embedding of chart B (``z`` normalised there, ``z[b.patch] = 1``), the chain
    rule through its Jacobian :math:`J^B_{e\mu} = \partial z_\mu/\partial x_B^e`
    (:func:`embedding_jacobian`) gives

    .. math::

        T_{ec} = \frac{J^B_{e f_c}}{z_p} - \frac{z_{f_c}\, J^B_{e p}}{z_p^2}.
    """
    jac = embedding_jacobian(b)
    free = free_indices(a)
    z_p = jnp.take_along_axis(b.z, a.patch[:, None], axis=-1)[:, :, None]
    z_f = jnp.take_along_axis(b.z, free, axis=-1)[:, None, :]
    j_f = jnp.take_along_axis(jac, free[:, None, :], axis=-1)
    j_p = jnp.take_along_axis(jac, a.patch[:, None, None], axis=-1)
    return j_f / z_p - z_f * j_p / z_p**2


def chart(
    surface: Hypersurface,
    z: Complex[Array, "N m"],
    patch: Int[Array, " N"] | int | None = None,
    eliminated: Int[Array, " N"] | int | None = None,
    tolerance: float | None = None,
) -> Chart:
    """Express points in their chart: the default (largest ``|z_i|``, largest ``|dp_j|``) or a forced one.

    The gradient of ``p`` is evaluated once, at the patch-scaled points: it picks the default
    eliminated coordinate (``argmax`` of :math:`|\\partial p/\\partial z_j|` over ``j != patch``) and
    is the chart's ``dp``, from which the Jacobian, the metric and :math:`\\Omega` follow.
    ``tolerance`` is the on-surface test of :meth:`~numerics.cy.hypersurface.Hypersurface.validate`
    (``None``: its default; ``math.inf`` evaluates the chart's formulas at points off the surface,
    as the paper's noised test points of figure 3 left need).

    Raises:
        InvalidParameterError: ``patch == eliminated`` for some point, or an index out of range.
        SingularManifoldError: ``z_patch = 0`` or ``dp/dz_j = 0`` (the chart does not cover the point).
        OffManifoldError, NonFiniteError, InvalidParameterError: points rejected by
            :meth:`~numerics.cy.hypersurface.Hypersurface.validate`.
    """
    z = surface.validate(z) if tolerance is None else surface.validate(z, tolerance)
    n_pts, m = z.shape
    patch = jnp.argmax(jnp.abs(z), axis=-1) if patch is None else jnp.broadcast_to(jnp.asarray(patch), (n_pts,))
    if bool(jnp.any((patch < 0) | (patch >= m))):
        raise InvalidParameterError(f"patch indices must lie in [0, {m})")
    scale = jnp.take_along_axis(z, patch[:, None], axis=-1)
    if bool(jnp.any(jnp.abs(scale) == 0)):
        raise SingularManifoldError("z_patch = 0: the patch does not contain the point")
    z = z / scale
    dp = surface.dp(z)
    if eliminated is None:
        eliminated = default_eliminated(patch, dp)
    else:
        eliminated = jnp.broadcast_to(jnp.asarray(eliminated), (n_pts,))
        if bool(jnp.any((eliminated < 0) | (eliminated >= m) | (eliminated == patch))):
            raise InvalidParameterError("the eliminated index must lie in range and differ from the patch index")
    if bool(jnp.any(jnp.take_along_axis(dp, eliminated[:, None], axis=-1) == 0)):
        raise SingularManifoldError("dp/dz_j = 0: the coordinate cannot be eliminated at this point")
    return Chart(z, patch, eliminated, dp)


def pair_index(patch: Int[Array, " N"], eliminated: Int[Array, " N"], m: int) -> Int[Array, " N"]:
    """The (patch, eliminated) pair as one integer in ``[0, m (m - 1))`` (``m (m-1) = 20`` for the quintic).

    Raises:
        InvalidParameterError: concrete indices out of ``[0, m)``, or ``patch == eliminated``
            somewhere (not a chart).
    """
    if is_concrete(patch) and is_concrete(eliminated):
        p, e = np.asarray(patch), np.asarray(eliminated)
        if np.any((p < 0) | (p >= m) | (e < 0) | (e >= m) | (p == e)):
            raise InvalidParameterError(f"patch and eliminated must be distinct indices in [0, {m})")
    return patch * (m - 1) + eliminated - (eliminated > patch)
