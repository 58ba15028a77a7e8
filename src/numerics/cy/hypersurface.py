"""Calabi–Yau hypersurfaces of Fermat/Dwork type in projective space.

A :class:`Hypersurface` is the zero set in :math:`\\mathbb{P}^{m-1}` (``m = n_ambient`` homogeneous
coordinates) of the Dwork polynomial

.. math::

    p(z) = \\sum_{i=0}^{m-1} z_i^{d} - d\\,\\psi \\prod_{i=0}^{m-1} z_i ,

with ``d = degree``.  The product term is only defined for ``d == m`` (the Calabi–Yau case, where
the hypersurface is anticanonical); for ``psi = 0`` every degree is allowed.  The paper's Fermat
quintic (3.1) is ``fermat_quintic()`` (``m = d = 5``, ``psi = 0``).  The member is singular exactly
when :math:`\\psi^d = 1` (then :math:`z_i = \\psi^{1/d}`-type points solve ``p = dp = 0``), and the
constructors raise :class:`~flowtheory.errors.SingularManifoldError` there.

A :class:`Hypersurface` is a JAX pytree whose only leaf is ``psi``: jitted code that takes it as an
argument is compiled once per ``(n_ambient, degree, name)`` and whether ``psi`` is zero, not once
per value of ``psi``.

``p`` and ``dp`` act on the last axis of a complex array of homogeneous coordinates, so they
broadcast over any leading batch shape; both are homogeneous of degree ``d`` and ``d - 1``.
"""

from __future__ import annotations

import cmath
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from flowtheory.errors import InvalidParameterError, NonFiniteError, OffManifoldError, SingularManifoldError
from numerics.checks import require_nonempty

#: Relative distance of psi**degree from 1 below which a member counts as singular.
SINGULAR_TOLERANCE = 1e-10
#: Default bound on the relative residual (:meth:`Hypersurface.residual`) of a point on the hypersurface.
ON_SURFACE_TOLERANCE = 1e-10


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True)
class Hypersurface:
    """The hypersurface ``p(z) = sum z_i^d - d psi prod z_i = 0`` in ``P^(n_ambient - 1)``.

    Attributes:
        n_ambient: number of homogeneous coordinates ``m`` (the ambient space is ``P^(m-1)``).
        degree: degree ``d`` of ``p``; ``d == m`` is the Calabi–Yau case.
        psi: the complex-structure parameter of the Dwork family (needs ``d == m`` unless 0).
        name: a label for records and file metadata.
        deformed: ``psi != 0`` (derived): whether ``p`` has the Dwork term; static under ``jit``.
    """

    n_ambient: int
    degree: int
    psi: complex = 0.0
    name: str = "fermat"
    deformed: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.n_ambient, int) and self.n_ambient >= 3):
            raise InvalidParameterError(f"n_ambient must be an integer >= 3 (a hypersurface of dimension >= 1), got {self.n_ambient!r}")
        if not (isinstance(self.degree, int) and self.degree >= 2):
            raise InvalidParameterError(f"degree must be an integer >= 2, got {self.degree!r}")
        psi = complex(self.psi)
        if not cmath.isfinite(psi):
            raise InvalidParameterError(f"psi must be finite, got {self.psi!r}")
        object.__setattr__(self, "psi", psi)
        object.__setattr__(self, "deformed", psi != 0)
        if psi != 0 and self.degree != self.n_ambient:
            raise InvalidParameterError("the Dwork deformation psi*prod(z) needs degree == n_ambient")
        if abs(psi) < 2 and abs(psi**self.degree - 1) < SINGULAR_TOLERANCE:
            raise SingularManifoldError(f"psi = {psi} has psi^{self.degree} = 1: this member of the family is singular")

    def tree_flatten(self):
        return (self.psi,), (self.n_ambient, self.degree, self.name, self.deformed)

    @classmethod
    def tree_unflatten(cls, aux, children):
        """Rebuild without validation: ``psi`` may be a tracer inside ``jit``."""
        surface = object.__new__(cls)
        for attribute, value in zip(("n_ambient", "degree", "name"), aux[:3]):
            object.__setattr__(surface, attribute, value)
        object.__setattr__(surface, "psi", children[0])
        object.__setattr__(surface, "deformed", aux[3])
        return surface

    @property
    def dim(self) -> int:
        """Complex dimension of the hypersurface, ``n_ambient - 2``."""
        return self.n_ambient - 2

    @property
    def is_calabi_yau(self) -> bool:
        """``degree == n_ambient``: the anticanonical (Calabi–Yau) case."""
        return self.degree == self.n_ambient

    def p(self, z: Complex[Array, "*batch m"]) -> Complex[Array, "*batch"]:
        """The defining polynomial at homogeneous coordinates ``z`` (last axis)."""
        value = jnp.sum(z**self.degree, axis=-1)
        if self.deformed:
            value = value - self.degree * self.psi * jnp.prod(z, axis=-1)
        return value

    def dp(self, z: Complex[Array, "*batch m"]) -> Complex[Array, "*batch m"]:
        """The gradient ``dp/dz_i = d z_i^(d-1) - d psi prod_{j != i} z_j`` (no division by z_i)."""
        grad = self.degree * z ** (self.degree - 1)
        if self.deformed:
            grad = grad - self.degree * self.psi * _prod_except(z)
        return grad

    def residual(self, z: Complex[Array, "*batch m"]) -> Float[Array, "*batch"]:
        """``|p(z)| / (|z|^d (1 + d|psi|))``: the scale-invariant measure of how well ``z`` solves ``p = 0``.

        The factor ``1 + d|psi|`` bounds the coefficients of ``p`` (it is 1 on the Fermat member), so
        this is a relative residual also for large ``|psi|``.
        """
        return jnp.abs(self.p(z)) / (jnp.linalg.norm(z, axis=-1) ** self.degree * (1.0 + self.degree * jnp.abs(self.psi)))

    def validate(self, z, tolerance: float = ON_SURFACE_TOLERANCE) -> Complex[Array, "N m"]:
        """Check a batch of homogeneous coordinates and return it as a complex128 ``(N, m)`` array.

        Raises:
            InvalidParameterError: wrong shape, or a zero vector (not a point of P^(m-1)).
            EmptyInputError: no points (``N = 0``).
            NonFiniteError: a NaN or infinite coordinate.
            OffManifoldError: :meth:`residual` above ``tolerance`` for some point.
        """
        z = jnp.asarray(z, dtype=jnp.complex128)
        if z.ndim != 2 or z.shape[-1] != self.n_ambient:
            raise InvalidParameterError(f"points must have shape (N >= 1, {self.n_ambient}), got {z.shape}")
        require_nonempty(z.shape[0], "points")
        if not bool(jnp.all(jnp.isfinite(z.real) & jnp.isfinite(z.imag))):
            raise NonFiniteError("non-finite homogeneous coordinates")
        zero = jnp.all(z == 0, axis=-1)
        if bool(jnp.any(zero)):
            raise InvalidParameterError(f"{int(jnp.sum(zero))} zero vector(s): not points of projective space")
        residual = self.residual(z)
        worst = float(jnp.max(residual))
        if not worst <= tolerance:
            bad = int(jnp.sum(~(residual <= tolerance)))
            raise OffManifoldError(f"{bad} point(s) off {self.name}: max relative residual |p(z)|/(|z|^{self.degree}(1+{self.degree}|psi|)) = {worst:.3g} > {tolerance:.3g}")
        return z


def _prod_except(z: Complex[Array, "*batch m"]) -> Complex[Array, "*batch m"]:
    """``prod_{j != i} z_j`` for every ``i``, from prefix and suffix products (exact at z_i = 0)."""
    ones = jnp.ones_like(z[..., :1])
    prefix = jnp.cumprod(jnp.concatenate([ones, z[..., :-1]], axis=-1), axis=-1)
    suffix = jnp.flip(jnp.cumprod(jnp.flip(jnp.concatenate([z[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    return prefix * suffix


def fermat(n: int, psi: complex = 0.0) -> Hypersurface:
    """The Fermat (Dwork, for ``psi != 0``) Calabi–Yau hypersurface of degree ``n + 1`` in ``P^n``."""
    if not (isinstance(n, int) and n >= 2):
        raise InvalidParameterError(f"fermat(n) needs an integer n >= 2 (P^n), got {n!r}")
    names = {2: "fermat_cubic", 3: "fermat_quartic", 4: "fermat_quintic"}
    name = names.get(n, f"fermat_P{n}") if complex(psi) == 0 else f"dwork_P{n}"
    return Hypersurface(n_ambient=n + 1, degree=n + 1, psi=psi, name=name)


def fermat_quintic() -> Hypersurface:
    """The Fermat quintic (3.1): ``sum_{i=0}^4 z_i^5 = 0`` in ``P^4``, a Calabi–Yau threefold."""
    return fermat(4)


def quintic_family(psi: complex) -> Hypersurface:
    """The Dwork quintic ``sum z_i^5 - 5 psi prod z_i = 0``; singular for ``psi^5 = 1``."""
    return fermat(4, psi)


def fermat_cubic() -> Hypersurface:
    """The Fermat cubic curve ``z_0^3 + z_1^3 + z_2^3 = 0`` in ``P^2``: an elliptic curve (flat torus)."""
    return fermat(2)


def fermat_quartic() -> Hypersurface:
    """The Fermat quartic ``sum z_i^4 = 0`` in ``P^3``: a K3 surface."""
    return fermat(3)
