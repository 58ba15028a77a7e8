r"""Donaldson's balanced metrics on a Fermat hypersurface: the classical baseline of section 3.3.

For an integer ``k`` the sections :math:`s_\alpha` of :math:`\mathcal O(k)` restricted to the
degree-``d`` Fermat hypersurface are the degree-``k`` monomials in :math:`z_0..z_{m-1}` whose
exponent of :math:`z_0` is below ``d`` (on the surface :math:`z_0^d = -\sum_{i>0} z_i^d`, so the
others are combinations of these: they form a basis of the restriction).  A Hermitian matrix
:math:`h^{\alpha\bar\beta} > 0` gives the Kähler potential and metric

.. math:: K_h = \frac{s}{k}\ln\big(\bar s_{\bar\beta} h^{\alpha\bar\beta} s_\alpha\big)\ (\text{our } s = 1/2\pi),\qquad
          g_h = J\,\big(\partial\bar\partial K_h\big)\,J^\dagger,

in the class of :math:`g_{FS}` (``h = 1`` at ``k = 1`` is Fubini–Study).  Donaldson's T-operator,
by Monte Carlo over points :math:`x_i` with weights :math:`w_i` of the measure
:math:`|\Omega|^2` (:mod:`numerics.cy.measure`),

.. math:: T(h)_{\alpha\bar\beta} = \frac{N_k}{\sum_i w_i}\sum_i w_i\,
          \frac{s_\alpha(x_i)\,\bar s_\beta(x_i)}{\bar s h s\,(x_i)},

and the iteration :math:`h \leftarrow T(h)^{-1}` (normalised to unit trace, which leaves the
metric unchanged) converges to the balanced metric, whose σ falls as k grows (Donaldson 2005;
Douglas, Karp, Lukic & Reinbacher 2008).  ``∂∂̄`` is :func:`numerics.cy.metric_models.wirtinger_hessian`
of the potential, by autodiff.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError
from flowtheory.reprs import html_table, plus_minus
from numerics.cy.measure import FS_SCALE
from numerics.cy.metric_models import wirtinger_hessian
from numerics.cy.patches import Chart, embedding_jacobian


def monomial_exponents(n_ambient: int, k: int, degree: int) -> np.ndarray:
    """Exponents ``(N_k, m)`` of the section basis (module docstring), in lexicographic order."""
    if not (isinstance(k, int) and k >= 1):
        raise InvalidParameterError(f"k must be a positive integer, got {k!r}")
    rows = [e for e in itertools.product(range(k + 1), repeat=n_ambient) if sum(e) == k and e[0] < degree]
    return np.array(sorted(rows, reverse=True), dtype=np.int64)


def sections(z: jax.Array, exponents: np.ndarray) -> jax.Array:
    """:math:`s_\\alpha(z) = \\prod_i z_i^{e_{\\alpha i}}` at one point or a batch (last axis ``m``)."""
    return jnp.prod(z[..., None, :] ** jnp.asarray(exponents), axis=-1)


def potential(h: jax.Array, exponents: np.ndarray, k: int, z: jax.Array) -> jax.Array:
    """:math:`K_h(z)` at one point (module docstring)."""
    s = sections(z, exponents)
    return FS_SCALE / k * jnp.log(jnp.real(jnp.conj(s) @ h @ s))


@jax.jit
def _t_operator(h, s, weights):
    norm = jnp.real(jnp.einsum("na,ab,nb->n", jnp.conj(s), h, s))
    t = jnp.einsum("n,na,nb->ab", weights / norm, s, jnp.conj(s))
    return s.shape[1] * t / jnp.sum(weights)


def balanced_metric_matrix(z, weights, exponents: np.ndarray, iterations: int = 10) -> tuple[np.ndarray, list[float]]:
    """Iterate :math:`h \\leftarrow T(h)^{-1}` from ``h = 1`` on points ``z`` with weights ``weights``.

    Returns:
        ``(h, changes)``: the final matrix (unit trace) and the relative change of ``h`` at each iteration.
    """
    s = sections(jnp.asarray(z), exponents)
    w = jnp.asarray(weights)
    if s.shape[0] < s.shape[1]:
        raise InvalidParameterError(f"{s.shape[0]} points cannot fix {s.shape[1]} sections: T would be singular (use >= 10 N_k points)")
    h = jnp.eye(s.shape[1], dtype=jnp.complex128) / s.shape[1]
    changes = []
    for _ in range(iterations):
        t = _t_operator(h, s, w)
        new = jnp.linalg.inv(t)
        new = (new + jnp.conj(new.T)) / 2
        new = new / jnp.real(jnp.trace(new))
        changes.append(float(jnp.linalg.norm(new - h) / jnp.linalg.norm(h)))
        h = new
    return np.asarray(h), changes


def donaldson_metric(h, exponents: np.ndarray, k: int, c: Chart) -> jax.Array:
    """The metric :math:`g_h` (``(N, n, n)``) at the points of chart ``c``."""
    hess = jax.vmap(lambda z: wirtinger_hessian(lambda w: potential(jnp.asarray(h), exponents, k, w), z))(c.z)
    jac = embedding_jacobian(c)
    return jnp.einsum("nam,nmk,nbk->nab", jac, hess, jnp.conj(jac))


@dataclass
class DonaldsonResult:
    """σ of the balanced metric on validation points for each ``k``, with sizes and times."""

    k: list[int]
    n_sections: list[int]
    val_sigma: list[float]
    val_sigma_stderr: list[float]
    seconds: list[float]
    changes: list[list[float]]

    def _repr_html_(self) -> str:
        """Notebook display (:mod:`flowtheory.reprs`): one row per ``k`` — sections, σ_k on the
        validation points with its standard error, the last relative change of the T-iteration,
        seconds."""
        rows = [(k, n, plus_minus(s, se), c[-1] if c else None, t)
                for k, n, s, se, c, t in zip(self.k, self.n_sections, self.val_sigma, self.val_sigma_stderr, self.changes, self.seconds)]
        return html_table(rows, header=("k", "sections", "σ_k (validation)", "last ‖Δh‖/‖h‖", "seconds"),
                          caption="Donaldson's balanced metrics", row_headers=False)


def donaldson_study(surface, ks, train, val, *, iterations: int = 10, on_degree=None) -> DonaldsonResult:
    """Balanced metrics for each ``k`` of ``ks`` from the points of ``train`` (a
    :class:`numerics.cy.metric_training.TrainingSet`), σ on ``val`` with its standard error;
    ``on_degree(result)`` is called after each ``k`` (progress, checkpoints)."""
    from numerics.cy.kernel_flow import sigma_with_error

    out = DonaldsonResult([], [], [], [], [], [])
    for k in ks:
        start = time.perf_counter()
        exps = monomial_exponents(surface.n_ambient, int(k), surface.degree)
        h, changes = balanced_metric_matrix(train.chart.z, train.weights, exps, iterations)
        g = donaldson_metric(h, exps, int(k), val.chart)
        out.k.append(int(k))
        out.n_sections.append(int(exps.shape[0]))
        sigma, stderr = sigma_with_error(g, val.weights, val.omega2)
        out.val_sigma.append(sigma)
        out.val_sigma_stderr.append(stderr)
        out.seconds.append(time.perf_counter() - start)
        out.changes.append(changes)
        if on_degree is not None:
            on_degree(out)
    return out
