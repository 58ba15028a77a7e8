r"""Finite-width networks in JAX: the architectures of sections 2.3.2 and 3.2.1, and metric networks.

Every network is a small frozen dataclass (its hyperparameters) with two pure methods:

* ``init(key) -> params`` draws the parameters from the stated laws with an explicit
  ``jax.random`` key; ``params`` is a dict pytree (float64 when :mod:`numerics` is imported);
* ``apply(params, x) -> out`` evaluates the network at **one** point ``x`` of shape ``(d_in,)`` and
  returns an array of shape ``out_shape`` (``()`` for scalar networks, ``(dim, dim)`` for metrics).
  Batch with ``jax.vmap(net.apply, in_axes=(None, 0))``; :func:`apply_batch` does exactly that.

``trainable`` names the parameter leaves (dict keys) that gradient descent updates; the empirical
NTK of :mod:`numerics.nn.ntk` differentiates with respect to those only (the other leaves stay frozen
at initialisation, as in the frozen-feature architectures of (2.32)–(2.33)).

All networks use the NTK parameterisation: every parameter is drawn with a width-independent law
and the ``1/\sqrt{\text{fan-in}}`` factor sits in the forward pass, so the empirical NTK (2.7) has a
deterministic limit (2.9) as the width ``N -> infinity``.  The infinite-width kernels themselves are
derived symbolically in :mod:`flowtheory.networks`; this module only samples and evaluates.

Scalar architectures (names as in :func:`flowtheory.networks.get_network`; :func:`from_spec` builds
the one a symbolic spec describes, with its laws and normalisation):

``"cosine"``  (:class:`Cosine`)
    .. math:: \phi(x) = \frac{A}{\sqrt N}\sum_{i=1}^N a_i \cos\Big(\sum_j w_{ij}x_j + b_i\Big)
    with :math:`a\sim\mathcal N(0,\sigma_a^2)`, :math:`w\sim\mathcal N(0,\sigma_w^2/d)`,
    :math:`b\sim\mathcal U(-\pi,\pi)`; only ``a`` trainable.
``"cosine-literal"``  (:class:`CosineLiteral`)
    (2.32) as printed, :math:`\phi(x) = \frac{A}{\sqrt N}\sum_i\sum_j a_i\cos(w_{ij}x_j+b_i)`, same
    laws; only ``a`` trainable.
``"gauss-net"``  (:class:`GaussNet`)
    .. math:: \phi(x) = \frac{A}{\sqrt N}\sum_i a_i \frac{\exp(w_i\cdot x + b_i)}{\sqrt{\mathbb E[\exp(2(w\cdot x+b))]}}
    with :math:`w\sim\mathcal N(0,\sigma_w^2/d)`, :math:`b\sim\mathcal N(0,\sigma_b^2)`; only ``a``
    trainable.  The normaliser is the log-normal moment
    :math:`\mathbb E[e^{2(w\cdot x+b)}] = \exp(2\sigma_b^2 + 2\sigma_w^2|x|^2/d)` (a deterministic
    function of ``x``: the rescaling trick (2.15)); it is checked by the Monte-Carlo tests, whose
    limit kernel comes from the symbolic derivation.
``"relu"``  (:func:`relu`, an :class:`MLP` with one hidden layer)
    :math:`h = (\sigma_w/\sqrt d)\,W x + \sigma_b b`, :math:`f = (\sigma_w/\sqrt N)\, v\cdot
    \mathrm{relu}(h) + \sigma_b c`, all parameters :math:`\mathcal N(0,1)` and trainable — the same
    function as neural-tangents' ``stax.serial(Dense(N, σ_w, σ_b), Relu(), Dense(1, σ_w, σ_b))``.

Metric networks (``apply`` returns a ``(dim, dim)`` matrix :math:`g_{ij}(x)`):

:class:`ComponentNetworks`
    one independent scalar network of the same architecture per independent component (2.19):
    ``variant="symmetric"`` — ``dim(dim+1)/2`` networks, :math:`g_{ij}=g_{ji}=\phi^{(\{ij\})}`;
    ``variant="all-entries"`` — ``dim²`` networks, :math:`g_{ij}=\phi^{(ij)}` (not symmetric; this is
    the architecture for which (2.23), :math:`\Theta_{ijkl}=\delta_{ik}\delta_{jl}\Theta`, holds
    literally).
:class:`MetricMLP`
    one deep ReLU MLP with ``dim(dim+1)/2`` outputs ``u`` assembled into a symmetric matrix
    ``S(u)`` (``form="symmetric"``: :math:`g = S(u)`), or into a lower-triangular ``L(u)`` with
    :math:`g = L L^\top + \epsilon\,\mathbb 1` (``form="cholesky"``: positive definite for every
    parameter value, with smallest eigenvalue ≥ ε); an optional deterministic ``reference`` metric
    :math:`\tilde g(x)` is added, :math:`g = \tilde g + S(u)` or :math:`\tilde g + LL^\top + \epsilon`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Protocol

import jax
import jax.numpy as jnp
import sympy as sp
from jaxtyping import Array, Float

from flowtheory.errors import InvalidParameterError
from numerics.checks import require_finite, require_nonempty
from flowtheory.networks import SIGMA_A, NetworkSpec, Normal, Uniform

Params = dict[str, Any]

__all__ = [
    "Network",
    "Cosine",
    "CosineLiteral",
    "GaussNet",
    "MLP",
    "relu",
    "ComponentNetworks",
    "MetricMLP",
    "from_spec",
    "apply_batch",
]


class Network(Protocol):
    """What every network here provides (see the module docstring)."""

    d_in: int
    out_shape: tuple[int, ...]
    trainable: tuple[str, ...]

    def init(self, key: Array) -> Params: ...

    def apply(self, params: Params, x: Float[Array, " d"]) -> Array: ...


def _positive_int(name: str, value: int) -> None:
    if not isinstance(value, (int,)) or isinstance(value, bool) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InvalidParameterError(f"{name} must be a positive finite number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise InvalidParameterError(f"{name} must be a non-negative finite number, got {value!r}")


def _check_point(x: Array, d_in: int) -> None:
    if jnp.shape(x) != (d_in,):
        raise InvalidParameterError(f"apply takes one point of shape ({d_in},), got shape {jnp.shape(x)}; batch with vmap")


def apply_batch(net: Network, params: Params, x: Float[Array, "n d"]) -> Array:
    """``net.apply`` over a batch of points: shape ``(n, *net.out_shape)``.

    Raises:
        InvalidParameterError: ``x`` not of shape ``(n, d_in)``.
        EmptyInputError: ``n = 0`` points.
        NonFiniteError: concrete ``x`` with NaN or infinity.
    """
    if jnp.ndim(x) != 2 or jnp.shape(x)[1] != net.d_in:
        raise InvalidParameterError(f"x must have shape (n, {net.d_in}), got shape {jnp.shape(x)}")
    require_nonempty(jnp.shape(x)[0], "x")
    require_finite(x, "x")
    return jax.vmap(net.apply, in_axes=(None, 0))(params, x)


@dataclass(frozen=True)
class _FrozenFeatures:
    """Shared hyperparameters of the frozen-feature architectures (only ``a`` trainable)."""

    d_in: int
    width: int
    sigma_w: float = 1.0
    sigma_a: float = 1.0
    A: float = 1.0
    trainable: tuple[str, ...] = ("a",)
    out_shape: tuple[int, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        _positive_int("d_in", self.d_in)
        _positive_int("width", self.width)
        _positive("sigma_w", self.sigma_w)
        _positive("sigma_a", self.sigma_a)
        _positive("A", self.A)

    def _draw_a_w(self, key: Array) -> tuple[Array, Array]:
        ka, kw = jax.random.split(key)
        a = self.sigma_a * jax.random.normal(ka, (self.width,))
        w = self.sigma_w / math.sqrt(self.d_in) * jax.random.normal(kw, (self.width, self.d_in))
        return a, w


@dataclass(frozen=True)
class Cosine(_FrozenFeatures):
    r"""Cosine network with inner products: :math:`\phi(x) = \frac{A}{\sqrt N}\sum_i a_i\cos(w_i\cdot x + b_i)`.

    Laws: :math:`a_i\sim\mathcal N(0,\sigma_a^2)`, :math:`w_{ij}\sim\mathcal N(0,\sigma_w^2/d)`,
    :math:`b_i\sim\mathcal U(-\pi,\pi)`.  Params ``{"a": (N,), "w": (N, d), "b": (N,)}``.
    """

    def init(self, key: Array) -> Params:
        k1, kb = jax.random.split(key)
        a, w = self._draw_a_w(k1)
        b = jax.random.uniform(kb, (self.width,), minval=-jnp.pi, maxval=jnp.pi)
        return {"a": a, "w": w, "b": b}

    def apply(self, params: Params, x: Float[Array, " d"]) -> Float[Array, ""]:
        _check_point(x, self.d_in)
        features = jnp.cos(params["w"] @ x + params["b"])
        return self.A / math.sqrt(self.width) * (params["a"] @ features)


@dataclass(frozen=True)
class CosineLiteral(Cosine):
    r"""(2.32) as printed: :math:`\phi(x) = \frac{A}{\sqrt N}\sum_i\sum_j a_i\cos(w_{ij}x_j + b_i)`.

    Same laws and params as :class:`Cosine`; the cosine acts on each coordinate separately.
    """

    def apply(self, params: Params, x: Float[Array, " d"]) -> Float[Array, ""]:
        _check_point(x, self.d_in)
        features = jnp.cos(params["w"] * x[None, :] + params["b"][:, None]).sum(axis=1)
        return self.A / math.sqrt(self.width) * (params["a"] @ features)


@dataclass(frozen=True)
class GaussNet(_FrozenFeatures):
    r"""Gauss-net: :math:`\phi(x) = \frac{A}{\sqrt N}\sum_i a_i\,e^{w_i\cdot x + b_i}/\sqrt{\mathbb E[e^{2(w\cdot x+b)}]}`.

    Laws: :math:`a\sim\mathcal N(0,\sigma_a^2)`, :math:`w\sim\mathcal N(0,\sigma_w^2/d)`,
    :math:`b\sim\mathcal N(0,\sigma_b^2)`.  The normaliser
    :math:`\log\mathbb E[e^{2(w\cdot x+b)}] = 2\sigma_b^2 + 2\sigma_w^2|x|^2/d` is applied in the
    exponent (no overflow).  Params ``{"a": (N,), "w": (N, d), "b": (N,)}``.
    """

    sigma_b: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive("sigma_b", self.sigma_b)

    def init(self, key: Array) -> Params:
        k1, kb = jax.random.split(key)
        a, w = self._draw_a_w(k1)
        b = self.sigma_b * jax.random.normal(kb, (self.width,))
        return {"a": a, "w": w, "b": b}

    def apply(self, params: Params, x: Float[Array, " d"]) -> Float[Array, ""]:
        _check_point(x, self.d_in)
        half_log_norm = self.sigma_b**2 + self.sigma_w**2 * (x @ x) / self.d_in
        features = jnp.exp(params["w"] @ x + params["b"] - half_log_norm)
        return self.A / math.sqrt(self.width) * (params["a"] @ features)


@dataclass(frozen=True)
class MLP:
    r"""Fully connected ReLU network in the NTK parameterisation (Jacot et al. 2018; neural-tangents ``Dense``).

    Layers :math:`l = 1..L` with widths ``(d_in, *hidden, prod(out_shape))``:

    .. math:: z^l = \frac{\sigma_w}{\sqrt{n_{l-1}}}\, h^{l-1} W^l + \sigma_b\, b^l,\qquad
              h^l = \mathrm{relu}(z^l),\qquad h^0 = x,\qquad f = z^L

    with every entry of :math:`W^l` (shape ``(n_{l-1}, n_l)``) and :math:`b^l` drawn
    :math:`\mathcal N(0,1)`.  ``out_shape=()`` gives a scalar network.  Params
    ``{"W": [W^1..W^L], "b": [b^1..b^L]}``; ``trainable`` defaults to both.

    :meth:`apply_probed` adds probes :math:`\epsilon^l` to the pre-activations :math:`z^l`;
    :meth:`layer_inputs` returns the :math:`h^{l-1}`.  :func:`numerics.nn.ntk.dense_ntk` uses them.
    """

    d_in: int
    hidden: tuple[int, ...]
    out_shape: tuple[int, ...] = ()
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    trainable: tuple[str, ...] = ("W", "b")

    def __post_init__(self) -> None:
        _positive_int("d_in", self.d_in)
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "out_shape", tuple(self.out_shape))
        for n in (*self.hidden, *self.out_shape):
            _positive_int("layer width", n)
        _positive("sigma_w", self.sigma_w)
        _non_negative("sigma_b", self.sigma_b)

    @property
    def widths(self) -> tuple[int, ...]:
        """``(d_in, *hidden, n_out)`` with ``n_out = prod(out_shape)``."""
        return (self.d_in, *self.hidden, math.prod(self.out_shape))

    def init(self, key: Array) -> Params:
        keys = jax.random.split(key, 2 * (len(self.widths) - 1))
        pairs = list(zip(self.widths[:-1], self.widths[1:]))
        W = [jax.random.normal(keys[2 * l], (n_in, n_out)) for l, (n_in, n_out) in enumerate(pairs)]
        b = [jax.random.normal(keys[2 * l + 1], (n_out,)) for l, (_, n_out) in enumerate(pairs)]
        return {"W": W, "b": b}

    def layer_scales(self) -> list[tuple[float, float]]:
        """Per layer ``(σ_w²/n_{l-1}, σ_b²)``: the factors multiplying ``h·h'`` and ``1`` in the NTK."""
        return [(self.sigma_w**2 / n_in, self.sigma_b**2) for n_in in self.widths[:-1]]

    def apply_probed(self, params: Params, x: Float[Array, " d"], probes: list[Array] | None) -> Array:
        """The network with ``probes[l]`` added to the pre-activation ``z^{l+1}`` (``None``: no probes)."""
        _check_point(x, self.d_in)
        h = x
        L = len(params["W"])
        for l, (W, b) in enumerate(zip(params["W"], params["b"])):
            z = self.sigma_w / math.sqrt(W.shape[0]) * (h @ W) + self.sigma_b * b
            if probes is not None:
                z = z + probes[l]
            h = jax.nn.relu(z) if l < L - 1 else z
        return h.reshape(self.out_shape)

    def apply(self, params: Params, x: Float[Array, " d"]) -> Array:
        return self.apply_probed(params, x, None)

    def layer_inputs(self, params: Params, x: Float[Array, " d"]) -> list[Array]:
        """The inputs ``h^{l-1}`` of every dense layer at one point."""
        _check_point(x, self.d_in)
        h, out = x, []
        for W, b in zip(params["W"][:-1], params["b"][:-1]):
            out.append(h)
            h = jax.nn.relu(self.sigma_w / math.sqrt(W.shape[0]) * (h @ W) + self.sigma_b * b)
        out.append(h)
        return out

    def probe_shapes(self) -> list[tuple[int]]:
        return [(n,) for n in self.widths[1:]]


def relu(d_in: int, width: int, sigma_w: float = 1.0, sigma_b: float = 1.0) -> MLP:
    """The one-hidden-layer scalar ReLU network ``"relu"`` (all parameters trainable).

    The symbolic spec's parameter groups ``W, b, v, c`` are ``params["W"][0]``, ``params["b"][0]``,
    ``params["W"][1][:, 0]`` and ``params["b"][1][0]`` here.
    """
    return MLP(d_in=d_in, hidden=(width,), out_shape=(), sigma_w=sigma_w, sigma_b=sigma_b)


def _upper_pairs(dim: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(dim) for j in range(i, dim)]


def _symmetric_from_upper(u: Float[Array, " m"], dim: int) -> Float[Array, "dim dim"]:
    """Symmetric matrix with upper triangle (row-major, i <= j) ``u``."""
    iu, ju = jnp.triu_indices(dim)
    S = jnp.zeros((dim, dim), dtype=u.dtype).at[iu, ju].set(u)
    return S + jnp.triu(S, 1).T


def _lower_from_vector(u: Float[Array, " m"], dim: int) -> Float[Array, "dim dim"]:
    """Lower-triangular matrix with lower triangle (row-major, j <= i) ``u``."""
    il, jl = jnp.tril_indices(dim)
    return jnp.zeros((dim, dim), dtype=u.dtype).at[il, jl].set(u)


@dataclass(frozen=True)
class ComponentNetworks:
    r"""A metric with one independent network of the architecture ``base`` per component (2.19).

    ``variant="symmetric"``: ``dim(dim+1)/2`` networks, one per :math:`i\le j` (row-major), and
    :math:`g_{ij} = g_{ji}`.  Its metric-NTK is
    :math:`\Theta_{ijkl} = [\{i,j\}=\{k,l\}]\;\Theta^{(\{ij\})}`, i.e.
    :math:`(\delta_{ik}\delta_{jl}+\delta_{il}\delta_{jk}-\delta_{ij}\delta_{jk}\delta_{kl})\Theta^{(\{ij\})}`.

    ``variant="all-entries"``: ``dim²`` networks, :math:`g_{ij}=\phi^{(ij)}` (not symmetric), with
    :math:`\Theta_{ijkl} = \delta_{ik}\delta_{jl}\Theta^{(ij)}` exactly as in (2.20)–(2.23).

    Params: those of ``base`` with a leading component axis (row-major component order);
    ``base`` must be scalar-valued.
    """

    base: Any
    dim: int
    variant: Literal["symmetric", "all-entries"] = "symmetric"

    def __post_init__(self) -> None:
        _positive_int("dim", self.dim)
        if tuple(self.base.out_shape) != ():
            raise InvalidParameterError(f"component networks need a scalar base network, got out_shape {self.base.out_shape}")
        if self.variant not in ("symmetric", "all-entries"):
            raise InvalidParameterError(f"variant must be 'symmetric' or 'all-entries', got {self.variant!r}")

    @property
    def d_in(self) -> int:
        return self.base.d_in

    @property
    def out_shape(self) -> tuple[int, int]:
        return (self.dim, self.dim)

    @property
    def trainable(self) -> tuple[str, ...]:
        return tuple(self.base.trainable)

    @property
    def n_components(self) -> int:
        return self.dim * (self.dim + 1) // 2 if self.variant == "symmetric" else self.dim**2

    def components(self) -> list[tuple[int, int]]:
        """The ``(i, j)`` of each component network, in parameter order."""
        if self.variant == "symmetric":
            return _upper_pairs(self.dim)
        return [(i, j) for i in range(self.dim) for j in range(self.dim)]

    def init(self, key: Array) -> Params:
        return jax.vmap(self.base.init)(jax.random.split(key, self.n_components))

    def apply(self, params: Params, x: Float[Array, " d"]) -> Float[Array, "dim dim"]:
        u = jax.vmap(self.base.apply, in_axes=(0, None))(params, x)
        if self.variant == "symmetric":
            return _symmetric_from_upper(u, self.dim)
        return u.reshape(self.dim, self.dim)


@dataclass(frozen=True)
class MetricMLP:
    r"""One ReLU MLP (NTK parameterisation) whose ``dim(dim+1)/2`` outputs ``u(x)`` assemble a metric.

    * ``form="symmetric"``: :math:`g = \tilde g + S(u)`, ``S`` the symmetric matrix with upper
      triangle ``u`` (row-major).  Not positive definite in general.
    * ``form="cholesky"``: :math:`g = \tilde g + L(u)L(u)^\top + \epsilon\mathbb 1`, ``L`` lower
      triangular with lower triangle ``u`` (row-major).  Positive definite for every parameter
      value with :math:`\lambda_{\min}(g)\ge\lambda_{\min}(\tilde g)+\epsilon` (``eps > 0``).

    :math:`\tilde g` is ``reference(x)`` (a deterministic ``(dim, dim)`` symmetric function of the
    point; ``None`` means zero).  Params are those of :attr:`core`.
    """

    d_in: int
    dim: int
    hidden: tuple[int, ...]
    sigma_w: float = 1.0
    sigma_b: float = 1.0
    form: Literal["symmetric", "cholesky"] = "cholesky"
    eps: float = 1e-3
    reference: Callable[[Array], Array] | None = None
    trainable: tuple[str, ...] = ("W", "b")

    def __post_init__(self) -> None:
        _positive_int("dim", self.dim)
        if self.form not in ("symmetric", "cholesky"):
            raise InvalidParameterError(f"form must be 'symmetric' or 'cholesky', got {self.form!r}")
        if self.form == "cholesky":
            _positive("eps", self.eps)
        object.__setattr__(self, "hidden", tuple(self.hidden))

    @property
    def core(self) -> MLP:
        """The MLP producing the ``dim(dim+1)/2`` raw outputs."""
        m = self.dim * (self.dim + 1) // 2
        return MLP(self.d_in, self.hidden, (m,), self.sigma_w, self.sigma_b, self.trainable)

    @property
    def out_shape(self) -> tuple[int, int]:
        return (self.dim, self.dim)

    def init(self, key: Array) -> Params:
        return self.core.init(key)

    def assemble(self, u: Float[Array, " m"], x: Float[Array, " d"]) -> Float[Array, "dim dim"]:
        """The metric from the raw outputs ``u`` at the point ``x``."""
        if self.form == "symmetric":
            g = _symmetric_from_upper(u, self.dim)
        else:
            L = _lower_from_vector(u, self.dim)
            g = L @ L.T + self.eps * jnp.eye(self.dim, dtype=u.dtype)
        if self.reference is not None:
            g = g + self.reference(x)
        return g

    def apply_probed(self, params: Params, x: Float[Array, " d"], probes: list[Array] | None) -> Array:
        return self.assemble(self.core.apply_probed(params, x, probes), x)

    def apply(self, params: Params, x: Float[Array, " d"]) -> Float[Array, "dim dim"]:
        return self.apply_probed(params, x, None)

    def layer_inputs(self, params: Params, x: Float[Array, " d"]) -> list[Array]:
        return self.core.layer_inputs(params, x)

    def layer_scales(self) -> list[tuple[float, float]]:
        return self.core.layer_scales()

    def probe_shapes(self) -> list[tuple[int]]:
        return self.core.probe_shapes()


# architecture name -> (finite network, family of its bias law)
_FROZEN_FEATURES = {"cosine": (Cosine, Uniform), "cosine-literal": (CosineLiteral, Uniform), "gauss-net": (GaussNet, Normal)}


def from_spec(spec: NetworkSpec, width: int, *, sigma_a: float | None = None) -> Network:
    r"""The width-``width`` finite network that realises the symbolic ``spec``.

    ``spec`` is a :class:`flowtheory.networks.NetworkSpec` (:func:`flowtheory.networks.get_network`
    with numeric ``sigma_w``/``sigma_b``).  Everything is read from it: the input dimension, the
    parameter laws (``w ~ N(0, σ_w²/d)`` gives ``sigma_w``, the Gauss-net bias law
    ``N(0, σ_b²)`` gives ``sigma_b``, the ReLU laws must be ``N(0, 1)`` with ``σ_w, σ_b`` from
    the spec) and the normalisation :math:`A` (``spec.normalization_A``) of the frozen-feature
    networks, so that the empirical NTK (2.7) of the result tends to ``spec.kernel`` (2.9).

    Args:
        spec: the symbolic network.
        width: the number of hidden units :math:`N`.
        sigma_a: :math:`\sigma_a` of the readout law :math:`a\sim\mathcal N(0,\sigma_a^2)`, which the
            spec keeps symbolic (it does not enter the frozen NTK); default 1.  The ReLU network has
            no such law and takes none.

    Raises:
        InvalidParameterError: ``sigma_w``/``sigma_b`` (or ``A``) still symbolic in the spec; a spec
            no finite network here realises (an unknown name, or parameter laws other than those
            the architecture draws); a ``sigma_a`` for ``"relu"``; a bad ``width`` or ``sigma_a``.

    Example:
        >>> from flowtheory.networks import get_network
        >>> spec = get_network("cosine", 2, sigma_w=2)
        >>> net = from_spec(spec, 64)
        >>> type(net).__name__, net.d_in, net.width, net.sigma_w
        ('Cosine', 2, 64, 2.0)
        >>> net.A == float(spec.normalization_A)
        True
    """
    laws = dict(spec.laws)
    if sigma_a is not None:
        _positive("sigma_a", sigma_a)
    readout = {SIGMA_A: sp.Integer(1) if sigma_a is None else sp.Float(sigma_a)}

    def number(expr, what: str) -> float:
        value = sp.sympify(expr).xreplace(readout)
        if value.free_symbols:
            raise InvalidParameterError(
                f"{what} of network {spec.name!r} is symbolic ({value}); pass numeric sigma_w/sigma_b "
                "to flowtheory.networks.get_network"
            )
        return float(value)

    def unrealisable(why: str) -> InvalidParameterError:
        return InvalidParameterError(f"no finite network realises the spec {spec.name!r}: {why}")

    if spec.name == "relu":
        if sigma_a is not None:
            raise InvalidParameterError("the ReLU network has no readout law N(0, sigma_a^2) and takes no sigma_a")
        if set(laws) != {"W", "b", "v", "c"} or any(law != Normal(sp.Integer(1)) for law in laws.values()):
            raise unrealisable(f"its laws {', '.join(f'{k} ~ {v}' for k, v in spec.laws)} are not all N(0, 1)")
        return relu(spec.dim, width, sigma_w=number(spec.sigma_w, "sigma_w"), sigma_b=number(spec.sigma_b, "sigma_b"))
    if spec.name not in _FROZEN_FEATURES:
        raise unrealisable(f"known architectures are {', '.join(['relu', *_FROZEN_FEATURES])}")
    cls, bias_law = _FROZEN_FEATURES[spec.name]
    if set(laws) != {"a", "w", "b"} or not all(isinstance(laws[k], Normal) for k in ("a", "w")):
        raise unrealisable("the frozen-feature networks draw a and w from centred normal laws, and b")
    if not isinstance(laws["b"], bias_law) or (bias_law is Uniform and (laws["b"].low, laws["b"].high) != (-sp.pi, sp.pi)):
        raise unrealisable(f"its bias law {laws['b']} is not the architecture's {'U(-pi, pi)' if bias_law is Uniform else 'N(0, sigma_b^2)'}")
    hyper = {
        "sigma_w": number(sp.sqrt(laws["w"].variance * spec.dim), "sigma_w"),
        "sigma_a": number(sp.sqrt(laws["a"].variance), "sigma_a"),
        "A": number(spec.normalization_A, "the normalisation A"),
    }
    if bias_law is Normal:
        hyper["sigma_b"] = number(sp.sqrt(laws["b"].variance), "sigma_b")
    return cls(spec.dim, width, **hyper)

