r"""Metric networks on a Calabi–Yau hypersurface (section 3.3), in the conventions of cymetric.

Three models of the metric :math:`g_{a\bar b}` at a point, each a network :math:`N_\theta` (an MLP,
by default the paper's 3 hidden layers × 64, GELU or ReLU, standard parameterisation with LeCun
normal weights):

- ``"phi"`` (cymetric's PhiFS): :math:`g = g_{FS} + \partial\bar\partial\varphi_\theta`, with
  :math:`\varphi_\theta = s\,N_\theta(u)` a function on :math:`\mathbb{P}^{m-1}` of the projectively
  invariant inputs :math:`u = (z_\mu\bar z_\nu/|z|^2)` (real and imaginary parts, :func:`invariant_features`)
  and ``s`` = :data:`numerics.cy.measure.FS_SCALE` (the normalisation of the FS potential, so that
  φ and ln|z|² enter alike).  The ambient Wirtinger Hessian
  :math:`H_{\mu\bar\nu} = \partial_\mu\bar\partial_\nu\varphi = \tfrac14[A + D + i(B - B^T)]` from the
  real Hessian blocks :math:`A = \partial_x\partial_x\varphi`, :math:`B = \partial_x\partial_y\varphi`,
  :math:`D = \partial_y\partial_y\varphi` of ``z = x + iy`` (``jax.hessian``), pulled back with the
  embedding Jacobian: :math:`g = J(G_{FS} + H)J^\dagger`.  Since ``z(x)`` is holomorphic in the
  local coordinates this is :math:`\partial_a\bar\partial_b` of the potential in the chart: Kähler
  by construction, in every chart alike;
- ``"mult"`` (cymetric's MultFS): :math:`g = g_{FS} + g_{FS}\circ H(N_\theta)`, the Hadamard product
  with the Hermitian matrix :math:`H(m) = (m + m^T)/2 + i(m - m^T)/2` of the network's ``n × n`` output;
- ``"free"``: :math:`g = g_{FS} + H(N_\theta)`.

The direct models are not Kähler by construction; :func:`kahler_defect` measures
:math:`\partial_c g_{a\bar b} - \partial_a g_{c\bar b}` through the chart's holomorphic coordinates
(the Kähler loss).  Their components live in the chart of each point, and nothing makes them
transform as a tensor to another chart (the transition loss of :mod:`numerics.cy.metric_training`);
every point of a training set for them must lie in one chart
(:func:`numerics.cy.sampling.sample_in_chart`), while the φ-model takes points in all charts.

:func:`ricci_tensor` and :func:`ricci_scalar` give the curvature of any of them,
:math:`R_{a\bar b} = -\partial_a\bar\partial_b\ln\det g` by the same ambient route (the Wirtinger
Hessian of :math:`\ln\det g` pulled back with the embedding Jacobian; checked against the chart's
own coordinates, and :math:`\int_X R\,d\mathrm{vol} = 0` on a Calabi–Yau in the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from flowtheory.errors import InvalidParameterError
from numerics.cy.kernel_flow import hermitian_from_real
from numerics.cy.measure import FS_SCALE, fs_metric
from numerics.cy.patches import Chart, embedding_jacobian, free_indices

MODELS = ("phi", "mult", "free")
ACTIVATIONS = {"gelu": jax.nn.gelu, "relu": jax.nn.relu}

Params = list[tuple[jax.Array, jax.Array]]


def invariant_features(z: jax.Array) -> jax.Array:
    r"""Projectively invariant real inputs of points ``z`` (``(..., m)``): the real parts of
    :math:`z_\mu\bar z_\nu/|z|^2` for :math:`\mu \le \nu` and the imaginary parts for
    :math:`\mu < \nu` (``m^2`` numbers, invariant under :math:`z \to \lambda z`)."""
    m = z.shape[-1]
    p = z[..., :, None] * jnp.conj(z[..., None, :]) / jnp.sum(jnp.abs(z) ** 2, axis=-1)[..., None, None]
    upper, strict = np.triu_indices(m), np.triu_indices(m, 1)
    return jnp.concatenate([p.real[..., upper[0], upper[1]], p.imag[..., strict[0], strict[1]]], axis=-1)


@dataclass(frozen=True)
class MetricNetwork:
    """A metric model (module docstring) on a hypersurface in :math:`\\mathbb{P}^{m-1}` of dimension ``n = m - 2``.

    Attributes:
        n_ambient: ``m``, homogeneous coordinates (5 for the quintic).
        model: one of :data:`MODELS`.
        width, depth: hidden layers (paper and cymetric: 64 × 3).
        activation: ``"gelu"`` (cymetric's default) or ``"relu"`` (the paper's finite networks).
    """

    n_ambient: int
    model: str = "phi"
    width: int = 64
    depth: int = 3
    activation: str = "gelu"

    def __post_init__(self):
        if self.model not in MODELS:
            raise InvalidParameterError(f"unknown model {self.model!r}; choose one of {MODELS}")
        if self.activation not in ACTIVATIONS:
            raise InvalidParameterError(f"unknown activation {self.activation!r}; choose one of {tuple(ACTIVATIONS)}")
        for name, value, low in (("n_ambient", self.n_ambient, 3), ("width", self.width, 1), ("depth", self.depth, 1)):
            if not (isinstance(value, int) and value >= low):
                raise InvalidParameterError(f"{name} must be an integer >= {low}, got {value!r}")

    @property
    def dim(self) -> int:
        """Complex dimension ``n`` of the hypersurface."""
        return self.n_ambient - 2

    @property
    def sizes(self) -> tuple[int, ...]:
        out = 1 if self.model == "phi" else self.dim**2
        return (self.n_ambient**2, *([self.width] * self.depth), out)

    def init(self, key: jax.Array, *, zero_output: bool = False) -> Params:
        """LeCun-normal weights (variance 1/fan-in), zero biases — the standard parameterisation
        neural-tangents calls ``parameterization="standard"``, and Keras' default scale.
        ``zero_output=True`` zeroes the last layer, so that the model starts exactly at g_FS (its
        metric-NTK at initialisation then holds the last layer's features only)."""
        params = []
        sizes = self.sizes
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            key, sub = jax.random.split(key)
            w = jax.random.normal(sub, (a, b), dtype=jnp.float64) / math.sqrt(a)
            params.append((jnp.zeros((a, b)) if zero_output and i == len(sizes) - 2 else w, jnp.zeros(b)))
        return params

    def network(self, params: Params, u: jax.Array) -> jax.Array:
        """The MLP on the invariant features ``u`` of one point."""
        act = ACTIVATIONS[self.activation]
        h = u
        for w, b in params[:-1]:
            h = act(h @ w + b)
        w, b = params[-1]
        return h @ w + b

    def phi(self, params: Params, z: jax.Array) -> jax.Array:
        """φ_θ(z) = FS_SCALE · N_θ(u(z)) at one point (``"phi"`` model)."""
        return FS_SCALE * self.network(params, invariant_features(z))[0]

    def metric(self, params: Params, c: Chart) -> jax.Array:
        """The metric ``(N, n, n)`` at the points of chart ``c`` (module docstring)."""
        g_fs = fs_metric(c)
        if self.model == "phi":
            jac = embedding_jacobian(c)
            hess = jax.vmap(lambda z: wirtinger_hessian(lambda w: self.phi(params, w), z))(c.z)
            return g_fs + jnp.einsum("nam,nmk,nbk->nab", jac, hess, jnp.conj(jac))
        m = jax.vmap(lambda z: self.network(params, invariant_features(z)))(c.z).reshape(-1, self.dim, self.dim)
        h = hermitian_from_real(m)
        return g_fs + (g_fs * h if self.model == "mult" else h)


def wirtinger_hessian(f, z: jax.Array) -> jax.Array:
    r""":math:`\partial_\mu\bar\partial_\nu f` (``(m, m)`` complex) of a real function ``f`` of complex ``z``
    at one point, from the real Hessian in ``(x, y) = (Re z, Im z)`` (module docstring)."""
    m = z.shape[-1]
    real = jax.hessian(lambda v: f(v[:m] + 1j * v[m:]))(jnp.concatenate([z.real, z.imag]))
    a, b, d = real[:m, :m], real[:m, m:], real[m:, m:]
    return (a + d + 1j * (b - b.T)) / 4


def local_chart_metric(model: MetricNetwork, params: Params, surface, c: Chart, newton_steps: int = 40):
    """``g(x)`` as a function of the holomorphic local coordinates of one point's chart.

    Returns ``(x0, metric_at)``: the local coordinates of the first point of ``c`` and a function of
    ``(Re x, Im x)`` giving the metric at the point of the surface with those coordinates (the
    eliminated coordinate solved by Newton's method, differentiable), for :func:`kahler_defect`.
    """
    free = np.asarray(free_indices(c))[0]
    patch, elim = int(c.patch[0]), int(c.eliminated[0])
    z0 = c.z[0]
    n = free.size

    def point(v):
        x = v[:n] + 1j * v[n:]
        z = z0.at[free].set(x)

        def newton(z, _):
            return z.at[elim].add(-surface.p(z) / surface.dp(z)[elim]), None

        return jax.lax.scan(newton, z, None, length=newton_steps)[0]

    def metric_at(v):
        z = point(v)
        dp = surface.dp(z)
        single = Chart(z[None], jnp.array([patch]), jnp.array([elim]), dp[None])
        return model.metric(params, single)[0]

    x0 = z0[free]
    return jnp.concatenate([x0.real, x0.imag]), metric_at


def kahler_defect(model: MetricNetwork, params: Params, surface, c: Chart) -> float:
    r"""Largest :math:`|\partial_c g_{a\bar b} - \partial_a g_{c\bar b}|` over ``a, b, c`` at the first
    point of ``c``, relative to the largest :math:`|\partial g|`: zero for a Kähler metric (dJ = 0)."""
    v0, metric_at = local_chart_metric(model, params, surface, c)
    n = v0.size // 2
    jac = jax.jit(jax.jacfwd(metric_at))(v0)  # (n, n, 2n): d g_ab / d(Re x_c), d(Im x_c)
    holo = (jac[..., :n] - 1j * jac[..., n:]) / 2  # ∂_c g_{a b̄}, index order (a, b, c)
    defect = holo - jnp.transpose(holo, (2, 1, 0))
    return float(jnp.max(jnp.abs(defect)) / jnp.max(jnp.abs(holo)))


def ricci_tensor(metric: Callable[[Chart], jax.Array], surface, c: Chart) -> jax.Array:
    r"""The Ricci curvature :math:`R_{a\bar b} = -\partial_a\bar\partial_b \ln\det g` (``(N, n, n)``) of the
    metric ``metric(chart)`` (e.g. ``partial(net.metric, params)``) at the points of ``c``, in their charts.

    For a smooth function ``F`` on the ambient space, :math:`\partial_a\bar\partial_b(F|_X) =
    J_{a\mu}\,\partial_\mu\bar\partial_\nu F\,\bar J_{b\nu}` (``z(x)`` is holomorphic, so
    :math:`\bar\partial_b z = 0` and :math:`\bar\partial_b J = 0`), and the right side is the
    Wirtinger Hessian of :math:`t \mapsto F(z + t^a J_a)` at ``t = 0`` (``n`` complex variables instead
    of ``m``; :func:`wirtinger_hessian`).  Here :math:`F(w) = \ln\det g(w)` with ``g(w)`` the metric at
    a single-point chart built from ``w`` (its ``dp(w)``, and so its Jacobian, included: they are
    holomorphic in ``w``); on X it is :math:`\ln\det g` of the chart, whose directions :math:`J_a`
    keep ``z[patch] = 1``.  For a Kähler metric this is the Ricci form (B.3); for the direct models,
    the Chern–Ricci form of the Hermitian metric.
    """

    def one(z, patch, elim, jac):
        def log_det(t):
            w = z + t @ jac
            return jnp.linalg.slogdet(metric(Chart(w[None], patch[None], elim[None], surface.dp(w)[None]))[0])[1]

        return -wirtinger_hessian(log_det, jnp.zeros(jac.shape[0], dtype=z.dtype))

    return jax.vmap(one)(c.z, c.patch, c.eliminated, embedding_jacobian(c))


def ricci_scalar(metric: Callable[[Chart], jax.Array], surface, c: Chart) -> jax.Array:
    r"""The Ricci scalar :math:`R = g^{\bar b a} R_{a\bar b}` (``(N,)``, real) of :func:`ricci_tensor`;
    positive on :math:`\mathbb{P}^n` with Fubini–Study, zero for a Ricci-flat metric, and with
    :math:`\int_X R\, d\mathrm{vol}_g = 0` for every Kähler metric on a Calabi–Yau (:math:`c_1 = 0`)."""
    g = metric(c)
    return jnp.real(jnp.einsum("nba,nab->n", jnp.linalg.inv(g), ricci_tensor(metric, surface, c)))


def count_parameters(params: Any) -> int:
    return int(sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(params)))


@dataclass(frozen=True, eq=False)
class LinearisedNetwork:
    r"""The first-order Taylor model of ``base`` around ``params0``: :math:`g_{lin}(\theta) = g(\theta_0) +
    \partial_\theta g(\theta_0)\,(\theta - \theta_0)` (one ``jax.jvp``).  Its metric-NTK is that of
    ``base`` at :math:`\theta_0` at every θ: training it is the frozen-kernel (infinite-width-like)
    flow of the same architecture.  ``init`` returns ``params0``; compared by identity."""

    base: MetricNetwork
    params0: Any

    @property
    def model(self) -> str:
        return self.base.model

    @property
    def n_ambient(self) -> int:
        return self.base.n_ambient

    @property
    def dim(self) -> int:
        return self.base.dim

    def init(self, key: jax.Array, *, zero_output: bool = False) -> Params:
        return self.params0

    def metric(self, params: Params, c: Chart) -> jax.Array:
        shift = jax.tree_util.tree_map(lambda a, b: a - b, params, self.params0)
        g0, dg = jax.jvp(lambda p: self.base.metric(p, c), (self.params0,), (shift,))
        return g0 + dg
