r"""Empirical metric-NTK (2.7), materialised and matrix-free, and the discrete NN metric flow (2.8)/(3.5).

For a network :math:`g_\theta` with output shape ``S`` (``()`` for a scalar network, ``(d, d)`` for
a metric :math:`g_{ij}`) the metric-NTK is

.. math:: \Theta_{ijkl}(x, x') = \sum_I \frac{\partial g_{ij}(x)}{\partial\theta_I}\frac{\partial g_{kl}(x')}{\partial\theta_I}
   \qquad (2.7)

with the sum over the **trainable** parameters only (``trainable`` names dict keys of the parameter
pytree; frozen parameters keep their initial values, as in (2.33)).  Arrays are laid out as
``theta[a, b, *S, *S] = Θ_{(S)(S)}(x1[a], x2[b])`` — the layout of neural-tangents'
``empirical_ntk_fn(..., trace_axes=())``.

Three routes:

* :func:`empirical_ntk` — any network; Jacobians :math:`J(x) = \partial g(x)/\partial\theta` by
  reverse mode, contracted as one matrix product per block of ``x2`` (memory
  ``O((n1 + block)·|S|·P)``).
* :func:`dense_ntk` — networks built from dense layers (:class:`numerics.nn.networks.MLP`,
  :class:`numerics.nn.networks.MetricMLP`): with :math:`z^l = c_w h^{l-1}W^l + c_b b^l` and
  :math:`\delta^l = \partial g/\partial z^l`,
  :math:`\Theta(x,x') = \sum_l (c_w^2\, h^{l-1}\!\cdot h'^{l-1} + c_b^2)\,(\delta^l\cdot\delta'^l)`,
  which never forms the ``P``-long Jacobian (the "structured derivatives" of Novak et al. 2022).
* :func:`ntk_vector_product` — matrix-free
  :math:`(\Theta v)_{ij}(x) = \sum_{x'}\sum_{kl}\Theta_{ijkl}(x,x')v_{kl}(x') = J(x)\,[J(X')^\top v]`:
  one vector–Jacobian product over ``x_batch`` and one Jacobian–vector product over ``x_eval``,
  both in chunks, so ``10^5`` points fit in memory.

The sum over :math:`(k, l)` runs over **all ordered pairs** (both ``kl`` and ``lk``), exactly as in
(2.8): with ``v = δl/δg`` in the convention :math:`\mathrm dl = \sum_{kl} (\delta l/\delta g_{kl})\,\mathrm dg_{kl}`,
:math:`-\Theta v` is the change of ``g`` under a gradient step on the parameters (to first order).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from flowtheory.errors import InvalidParameterError
from numerics.checks import is_concrete, require_finite, require_nonempty, require_weights

__all__ = [
    "empirical_ntk",
    "dense_ntk",
    "ntk_vector_product",
    "contract",
    "flow_velocity",
    "flow_step",
    "parameter_gradient_step",
]

Params = Any


def _resolve(model, trainable):
    """``(apply, trainable)`` from a network (``.apply``, ``.trainable``) or a bare ``apply``."""
    if hasattr(model, "apply"):
        return model.apply, tuple(model.trainable) if trainable is None else tuple(trainable)
    if not callable(model):
        raise InvalidParameterError(f"model must be a network or an apply(params, x) function, got {type(model).__name__}")
    return model, None if trainable is None else tuple(trainable)


def _partition(params: Params, trainable: tuple[str, ...] | None):
    """The trainable leaves ``theta`` (a list) and ``rebuild(theta) -> params`` (others frozen)."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)

    def keys(path):
        return {getattr(k, "key", None) for k in path}

    mask = [trainable is None or bool(keys(path) & set(trainable)) for path, _ in flat]
    if not any(mask):
        raise InvalidParameterError(f"no parameter leaf is named in trainable={trainable!r}")
    theta = [leaf for (_, leaf), m in zip(flat, mask) if m]
    frozen = [leaf for (_, leaf), m in zip(flat, mask) if not m]

    def rebuild(theta):
        it, fr = iter(theta), iter(frozen)
        return jax.tree_util.tree_unflatten(treedef, [next(it) if m else next(fr) for m in mask])

    return theta, rebuild


def _restrict(apply: Callable, params: Params, trainable: tuple[str, ...] | None):
    """Trainable leaves ``theta`` and ``f(theta, x)`` with the other leaves frozen at their values."""
    theta, rebuild = _partition(params, trainable)
    return theta, lambda theta, x: apply(rebuild(theta), x)


def _check_points(x, name: str) -> None:
    """``(n, d)`` with ``n >= 1``, finite when concrete (:mod:`numerics.checks`)."""
    if jnp.ndim(x) != 2:
        raise InvalidParameterError(f"{name} must have shape (n, d), got shape {jnp.shape(x)}")
    require_nonempty(jnp.shape(x)[0], name)
    require_finite(x, name)


def _blocks(x: Array, block: int) -> tuple[Array, int]:
    """``x`` padded (with copies of its first row) to a multiple of ``block``, reshaped ``(nb, block, ...)``."""
    n = x.shape[0]
    nb = -(-n // block)
    pad = nb * block - n
    if pad:
        x = jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad, *x.shape[1:]))], axis=0)
    return x.reshape(nb, block, *x.shape[1:]), n


def _flat_jacobian(f, theta, x: Array) -> Float[Array, "n s P"]:
    jac = jax.vmap(jax.jacrev(f), in_axes=(None, 0))(theta, x)
    n = x.shape[0]
    s = math.prod(jax.eval_shape(f, theta, x[0]).shape)
    return jnp.concatenate([j.reshape(n, s, -1) for j in jac], axis=-1)


def _gram(A: Float[Array, "n s p"], B: Float[Array, "m s p"]) -> Float[Array, "n m s s"]:
    """``out[a, b, i, k] = Σ_p A[a, i, p] B[b, k, p]`` as one matrix product."""
    n, s, p = A.shape
    m = B.shape[0]
    G = A.reshape(n * s, p) @ B.reshape(m * s, p).T
    return G.reshape(n, s, m, s).transpose(0, 2, 1, 3)


def _stitch(blocks: Float[Array, "nb n1 B s s"], n2: int, out_shape) -> Array:
    nb, n1, B, s, _ = blocks.shape
    theta = blocks.transpose(1, 0, 2, 3, 4).reshape(n1, nb * B, s, s)[:, :n2]
    return theta.reshape(n1, n2, *out_shape, *out_shape)


@partial(jax.jit, static_argnames=("apply", "trainable", "block_size"))
def _empirical_ntk(apply, params, x1, x2, trainable, block_size):
    theta, f = _restrict(apply, params, trainable)
    out_shape = jax.eval_shape(f, theta, x1[0]).shape
    J1 = _flat_jacobian(f, theta, x1)
    blocks, n2 = _blocks(x2, block_size)
    per_block = jax.lax.map(lambda xb: _gram(J1, _flat_jacobian(f, theta, xb)), blocks)
    return _stitch(per_block, n2, out_shape)


def empirical_ntk(
    model,
    params: Params,
    x1: Float[Array, "n1 d"],
    x2: Float[Array, "n2 d"] | None = None,
    *,
    trainable: Sequence[str] | None = None,
    block_size: int = 256,
) -> Float[Array, "n1 n2 *S *S"]:
    r"""The empirical metric-NTK (2.7) by Jacobian contraction, in blocks of ``x2``.

    Args:
        model: a network of :mod:`numerics.nn.networks` (its ``trainable`` is the default) or a bare
            per-point ``apply(params, x)`` (default: every parameter leaf trainable).
        params: the parameters (pytree).
        x1, x2: points, shapes ``(n1, d)`` and ``(n2, d)``; ``x2=None`` means ``x1``.
        trainable: names of the trainable leaves (dict keys); overrides the model's.
        block_size: points of ``x2`` per block; peak memory ``~(n1 + block_size)·|S|·P`` floats.

    Returns:
        ``theta`` of shape ``(n1, n2, *S, *S)``, ``theta[a, b, i, j, k, l] = Θ_ijkl(x1[a], x2[b])``.

    Raises:
        InvalidParameterError: points not ``(n, d)``, ``block_size < 1``.
        EmptyInputError: ``x1`` or ``x2`` holds no point.
        NonFiniteError: NaN or infinity in concrete points.
    """
    apply, trainable = _resolve(model, trainable)
    _check_points(x1, "x1")
    x2 = x1 if x2 is None else x2
    _check_points(x2, "x2")
    if block_size < 1:
        raise InvalidParameterError(f"block_size must be positive, got {block_size}")
    return _empirical_ntk(apply, params, jnp.asarray(x1), jnp.asarray(x2), trainable, min(block_size, x2.shape[0]))


def _dense_factors(net, params, x):
    """Per point: dense-layer inputs ``h^{l-1}`` and ``δ^l = ∂g/∂z^l`` (shape ``(s, n_l)``)."""
    H = net.layer_inputs(params, x)
    zeros = [jnp.zeros(shape, dtype=jnp.result_type(float)) for shape in net.probe_shapes()]
    D = jax.jacrev(lambda probes: net.apply_probed(params, x, probes))(zeros)
    s = math.prod(net.out_shape)
    return H, [d.reshape(s, -1) for d in D]


@partial(jax.jit, static_argnames=("net", "use_w", "use_b", "block_size"))
def _dense_ntk(net, params, x1, x2, use_w, use_b, block_size):
    factors = jax.vmap(_dense_factors, in_axes=(None, None, 0))
    H1, D1 = factors(net, params, x1)
    scales = net.layer_scales()

    def block(xb):
        H2, D2 = factors(net, params, xb)
        out = 0.0
        for (cw, cb), h1, h2, d1, d2 in zip(scales, H1, H2, D1, D2):
            k = jnp.zeros((h1.shape[0], h2.shape[0]))
            if use_w:
                k = k + cw * (h1 @ h2.T)
            if use_b:
                k = k + cb
            out = out + k[:, :, None, None] * _gram(d1, d2)
        return out

    blocks, n2 = _blocks(x2, block_size)
    return _stitch(jax.lax.map(block, blocks), n2, net.out_shape)


def dense_ntk(
    net,
    params: Params,
    x1: Float[Array, "n1 d"],
    x2: Float[Array, "n2 d"] | None = None,
    *,
    trainable: Sequence[str] | None = None,
    block_size: int = 128,
) -> Float[Array, "n1 n2 *S *S"]:
    r"""The empirical metric-NTK (2.7) of a dense-layer network without forming its Jacobian.

    For :math:`z^l = c_w\,h^{l-1}W^l + c_b\,b^l` (every :math:`W^l, b^l` used once per point) and
    :math:`\delta^l_{(ij)} = \partial g_{ij}/\partial z^l` (by reverse mode through any head, e.g. the
    Cholesky assembly of :class:`numerics.nn.networks.MetricMLP`),

    .. math:: \Theta_{ijkl}(x,x') = \sum_l \big(c_w^2\, h^{l-1}(x)\cdot h^{l-1}(x') + c_b^2\big)\,
              \delta^l_{(ij)}(x)\cdot\delta^l_{(kl)}(x').

    ``net`` must provide ``apply_probed``, ``layer_inputs``, ``layer_scales`` (``(c_w², c_b²)`` per
    layer) and ``probe_shapes`` (as :class:`~numerics.nn.networks.MLP` and
    :class:`~numerics.nn.networks.MetricMLP` do); ``trainable`` ⊆ ``("W", "b")``.  Same output
    layout and values as :func:`empirical_ntk`.
    """
    for attr in ("apply_probed", "layer_inputs", "layer_scales", "probe_shapes"):
        if not hasattr(net, attr):
            raise InvalidParameterError(f"dense_ntk needs a dense-layer network (missing {attr}); use empirical_ntk")
    trainable = tuple(net.trainable if trainable is None else trainable)
    if not set(trainable) & {"W", "b"} or set(trainable) - {"W", "b"}:
        raise InvalidParameterError(f"dense_ntk: trainable must be a non-empty subset of ('W', 'b'), got {trainable!r}")
    _check_points(x1, "x1")
    x2 = x1 if x2 is None else x2
    _check_points(x2, "x2")
    if block_size < 1:
        raise InvalidParameterError(f"block_size must be positive, got {block_size}")
    return _dense_ntk(net, params, jnp.asarray(x1), jnp.asarray(x2), "W" in trainable, "b" in trainable, min(block_size, x2.shape[0]))


@partial(jax.jit, static_argnames=("apply", "trainable", "chunk"))
def _ntk_vector_product(apply, params, x_eval, x_batch, v, trainable, chunk):
    theta, f = _restrict(apply, params, trainable)
    batched = jax.vmap(f, in_axes=(None, 0))

    xb, _ = _blocks(x_batch, chunk)
    vb, _ = _blocks(v, chunk)
    n_pad = xb.shape[0] * chunk - x_batch.shape[0]
    # padded rows carry zero cotangent
    valid = (jnp.arange(xb.shape[0] * chunk) < x_batch.shape[0]).reshape(xb.shape[0], chunk)
    vb = jnp.where(valid.reshape(valid.shape + (1,) * (vb.ndim - 2)), vb, 0.0) if n_pad else vb

    def pull(acc, xv):
        xc, vc = xv
        _, vjp = jax.vjp(lambda t: batched(t, xc), theta)
        (g,) = vjp(vc)
        return jax.tree_util.tree_map(jnp.add, acc, g), None

    u, _ = jax.lax.scan(pull, jax.tree_util.tree_map(jnp.zeros_like, theta), (xb, vb))

    xe, n_eval = _blocks(x_eval, chunk)
    push = jax.lax.map(lambda xc: jax.jvp(lambda t: batched(t, xc), (theta,), (u,))[1], xe)
    return push.reshape(-1, *push.shape[2:])[:n_eval]


def ntk_vector_product(
    model,
    params: Params,
    x_eval: Float[Array, "ne d"],
    x_batch: Float[Array, "nb d"],
    v: Float[Array, "nb *S"],
    *,
    trainable: Sequence[str] | None = None,
    chunk: int = 8192,
) -> Float[Array, "ne *S"]:
    r"""Matrix-free :math:`(\Theta v)_{ij}(x) = \sum_{x'\in\text{x\_batch}}\sum_{kl}\Theta_{ijkl}(x,x')\,v_{kl}(x')` for ``x`` in ``x_eval``.

    Computed as :math:`J(x)\,u` with :math:`u = \sum_{x'} J(x')^\top v(x')`: one vector–Jacobian
    product (accumulated over chunks of ``x_batch`` with ``lax.scan``) and one Jacobian–vector
    product (``lax.map`` over chunks of ``x_eval``).  Neither the Jacobian nor Θ is formed; memory
    is that of two forward/backward passes on ``chunk`` points plus one parameter vector.

    Raises:
        InvalidParameterError: points not ``(n, d)``, ``v`` with another number of rows than
            ``x_batch``, ``chunk < 1``.
        EmptyInputError: ``x_eval`` or ``x_batch`` holds no point.
        NonFiniteError: NaN or infinity in concrete points or ``v``.
    """
    apply, trainable = _resolve(model, trainable)
    _check_points(x_eval, "x_eval")
    _check_points(x_batch, "x_batch")
    v = jnp.asarray(v)
    require_finite(v, "v")
    if v.shape[0] != x_batch.shape[0]:
        raise InvalidParameterError(f"v has {v.shape[0]} rows but x_batch has {x_batch.shape[0]} points")
    if chunk < 1:
        raise InvalidParameterError(f"chunk must be positive, got {chunk}")
    chunk = min(chunk, max(x_eval.shape[0], x_batch.shape[0]))
    return _ntk_vector_product(apply, params, jnp.asarray(x_eval), jnp.asarray(x_batch), v, trainable, chunk)


def contract(theta: Float[Array, "n1 n2 *S *S"], v: Float[Array, "n2 *S"]) -> Float[Array, "n1 *S"]:
    r"""The product of a materialised metric-NTK with a field: :math:`\sum_{b}\sum_{kl}\Theta_{ijkl}(x_a,x_b)v_{kl}(x_b)`."""
    n1, n2 = theta.shape[:2]
    S = v.shape[1:]
    s = math.prod(S)
    if theta.shape != (n1, n2, *S, *S):
        raise InvalidParameterError(f"theta of shape {theta.shape} does not match v of shape {v.shape}")
    M = theta.reshape(n1, n2, s, s).transpose(0, 2, 1, 3).reshape(n1 * s, n2 * s)
    return (M @ v.reshape(n2 * s)).reshape(n1, *S)


def _weighted(v: Array, weights: Array | None) -> Array:
    if weights is None:
        return v
    weights = jnp.asarray(weights)
    if weights.shape != v.shape[:1]:
        raise InvalidParameterError(f"weights must have shape ({v.shape[0]},), got {weights.shape}")
    require_weights(weights, "weights")
    return v * weights.reshape(-1, *([1] * (v.ndim - 1)))


def flow_velocity(
    model,
    params: Params,
    x_eval: Float[Array, "ne d"],
    x_batch: Float[Array, "nb d"],
    dl_dg: Float[Array, "nb *S"],
    *,
    weights: Float[Array, " nb"] | None = None,
    trainable: Sequence[str] | None = None,
    chunk: int = 8192,
) -> Float[Array, "ne *S"]:
    r"""The NN metric flow (2.8): :math:`\mathrm dg_{ij}(x)/\mathrm dt = -\sum_{x'}\,w(x')\,\Theta_{ijkl}(x,x')\,\delta l/\delta g_{kl}(x')`.

    ``weights=None`` is the discrete batch flow (first line of (2.8)); integration weights
    :math:`w(x')` (a quadrature of :math:`\mathrm d\mu`) give the continuous flow (second line).
    Uses the empirical kernel at ``params`` (matrix-free, :func:`ntk_vector_product`).

    Raises:
        InvalidParameterError, EmptyInputError, NonFiniteError: as :func:`ntk_vector_product`;
            also ``weights`` not ``(nb,)`` or negative (a quadrature of a measure has none).
        DegenerateInputError: weights that are all zero.
    """
    return -ntk_vector_product(model, params, x_eval, x_batch, _weighted(jnp.asarray(dl_dg), weights), trainable=trainable, chunk=chunk)


@partial(jax.jit, static_argnames=("apply",))
def _apply_batch(apply, params, x):
    return jax.vmap(apply, in_axes=(None, 0))(params, x)


def flow_step(
    model,
    params: Params,
    x_eval: Float[Array, "ne d"],
    x_batch: Float[Array, "nb d"],
    dl_dg: Float[Array, "nb *S"],
    dt: float,
    *,
    weights: Float[Array, " nb"] | None = None,
    trainable: Sequence[str] | None = None,
    chunk: int = 8192,
) -> Float[Array, "ne *S"]:
    r"""One step of the discretised flow (3.5): :math:`g^{(n+1)}(x) = g^{(n)}(x) - \Delta t\sum_{x'}\Theta(x,x')\,\delta l/\delta g^{(n)}(x')`.

    :math:`g^{(n)}` is the network at ``params``; the kernel is the empirical one at ``params``
    (frozen over the step).  To first order in ``dt`` this equals the network after
    :func:`parameter_gradient_step`.

    Raises:
        InvalidParameterError, EmptyInputError, NonFiniteError, DegenerateInputError: as
            :func:`flow_velocity`.
    """
    apply, _ = _resolve(model, trainable)
    g = _apply_batch(apply, params, jnp.asarray(x_eval))
    return g + dt * flow_velocity(model, params, x_eval, x_batch, dl_dg, weights=weights, trainable=trainable, chunk=chunk)


def parameter_gradient_step(
    model,
    params: Params,
    x_batch: Float[Array, "nb d"],
    dl_dg: Float[Array, "nb *S"],
    dt: float,
    *,
    weights: Float[Array, " nb"] | None = None,
    trainable: Sequence[str] | None = None,
) -> Params:
    r"""Gradient descent (2.2) on the parameters: :math:`\theta_I \to \theta_I - \Delta t\sum_{x'} w(x')\,\partial g_{kl}(x')/\partial\theta_I\;\delta l/\delta g_{kl}(x')`.

    Only trainable leaves move.  This is the parameter-space side of (2.5)/(2.8).

    Raises:
        InvalidParameterError: ``x_batch`` not ``(n, d)``, ``dl_dg`` or ``weights`` with another
            number of rows, a negative weight, or a ``dt`` that is not a finite number.
        EmptyInputError: no points in ``x_batch``.
        NonFiniteError: NaN or infinity in ``x_batch``, ``dl_dg`` or ``weights`` (concrete input).
        DegenerateInputError: weights that are all zero.
    """
    apply, trainable = _resolve(model, trainable)
    _check_points(x_batch, "x_batch")
    require_finite(dl_dg, "dl_dg")
    if is_concrete(dt) and not math.isfinite(float(dt)):
        raise InvalidParameterError(f"dt must be a finite number, got {dt}")
    v = _weighted(jnp.asarray(dl_dg), weights)
    if v.shape[0] != x_batch.shape[0]:
        raise InvalidParameterError(f"dl_dg has {v.shape[0]} rows but x_batch has {x_batch.shape[0]} points")
    return _parameter_gradient_step(apply, params, jnp.asarray(x_batch), v, dt, trainable)


@partial(jax.jit, static_argnames=("apply", "trainable"))
def _parameter_gradient_step(apply, params, x_batch, v, dt, trainable):
    theta, rebuild = _partition(params, trainable)
    _, vjp = jax.vjp(lambda t: jax.vmap(apply, in_axes=(None, 0))(rebuild(t), x_batch), theta)
    (grad,) = vjp(v)
    return rebuild([t - dt * g for t, g in zip(theta, grad)])
