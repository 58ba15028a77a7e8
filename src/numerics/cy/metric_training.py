r"""Training the metric networks of :mod:`numerics.cy.metric_models` on the σ-loss (section 3.3), with optax.

Loss of a mini batch (weights ``w``, :math:`r = \det g/|\Omega|^2`): the σ-measure (B.11) itself,
:math:`\ell_\sigma = \sum w|1 - r/\kappa|/\sum w` with :math:`\kappa = \sum w r/\sum w` of the batch
(cymetric's sigma loss, invariant under :math:`g \to cg`), plus the weighted terms of cymetric's
models, each reported separately in :attr:`TrainingResult.loss_terms` (:data:`LOSS_TERMS`):

- Kähler (``kahler_weight``, direct models):
  :math:`\ell_K = \langle |\partial_c g_{a\bar b} - \partial_a g_{c\bar b}|^2\rangle`.  The holomorphic
  derivative along the surface is :math:`\partial_c = J_{c\mu}\partial_\mu` (the embedding Jacobian
  times the ambient Wirtinger derivative, ``jax.jacfwd``);
  :func:`numerics.cy.metric_models.kahler_defect` checks it through the chart's own coordinates.
- transition (``transition_weight``, direct models):
  :math:`\ell_T = \langle \|g_B - T g_A T^\dagger\|_F^2\rangle`, the model in each point's chart A
  against the model in a second chart B of the same point (the patch of the next-largest
  :math:`|z_i|`), :math:`T_{ec} = \partial x_A^c/\partial x_B^e`
  (:func:`numerics.cy.patches.transition_jacobian`; Fubini–Study transforms so to rounding).  A
  direct model's components are those of one chart, so nothing makes them transform: this term
  asks for it.  The φ-model is a global potential: both terms vanish for it and are not computed.
- Ricci (``ricci_weight``, every model; default 0, and then not computed):
  :math:`\ell_R = \sum w|R|/\sum w`, ``R`` the Ricci scalar
  :math:`g^{\bar b a}R_{a\bar b}`, :math:`R_{a\bar b} = -\partial_a\bar\partial_b\ln\det g`
  (:func:`numerics.cy.metric_models.ricci_tensor`).  It needs third derivatives of a direct model's
  network and fourth of φ: it costs far more than the σ-loss (compilation included).  ``R`` scales
  as :math:`1/c` under :math:`g \to cg`: the φ-model's Kähler class is fixed, but a direct model can
  lower this term by growing (κ rose from 0.55 to 0.79 in 3 epochs on the torus); cymetric's volume
  loss, which would pin the class, is not built.

Optimiser: optax Adam (``lr``, default 10^-3) after clipping the gradient to global norm 5
(cymetric's notebook settings).  One epoch is a ``lax.scan`` over the mini batches of a fresh
permutation (``fold_in(key, epoch)``) — jit-compiled end to end; points beyond the last whole batch
wait for a later permutation.  σ of train and validation sets (the validation set is never seen by
the optimiser) is recorded before training (epoch 0) and after every epoch.  A non-finite loss or
a validation metric that is not positive definite stops training with a named error giving the
epoch and the number of points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from flowtheory.errors import InvalidParameterError, NonFiniteError, NotPositiveDefiniteError
from flowtheory.reprs import history_rows, html_table
from numerics.cy.kernel_flow import sigma_of
from numerics.cy.measure import point_data
from numerics.cy.metric_models import MetricNetwork, Params, ricci_scalar
from numerics.cy.patches import Chart, embedding_jacobian, neighbour_chart, transition_jacobian


INITS = ("fs", "standard")
#: The names of :attr:`TrainingResult.loss_terms`: the weighted total, then each term.
LOSS_TERMS = ("total", "sigma", "kahler", "transition", "ricci")


@dataclass(frozen=True)
class TrainSettings:
    """Attributes: ``epochs`` (>= 1), ``batch`` points per step, ``lr`` Adam's step, ``clip`` the
    global gradient norm (0: none), ``kahler_weight`` of the Kähler loss and ``transition_weight`` of
    the transition loss (direct models), ``ricci_weight`` of the Ricci loss (0: not computed), ``init``
    ``"fs"`` (the output layer zero: training starts at g_FS; the default, it learns faster) or
    ``"standard"`` (every layer LeCun normal, the initialisation the NTK theory of section 2.2 is about)."""

    epochs: int = 50
    batch: int = 64
    lr: float = 1e-3
    clip: float = 5.0
    kahler_weight: float = 1.0
    init: str = "fs"
    transition_weight: float = 1.0
    ricci_weight: float = 0.0

    def __post_init__(self):
        if not (isinstance(self.epochs, int) and self.epochs >= 1) or not (isinstance(self.batch, int) and self.batch >= 2):
            raise InvalidParameterError(f"epochs must be >= 1 and batch >= 2 (integers), got {self.epochs!r}, {self.batch!r}")
        if not (np.isfinite(self.lr) and self.lr > 0) or not (np.isfinite(self.clip) and self.clip >= 0):
            raise InvalidParameterError(f"lr must be positive and clip non-negative, got {self.lr!r}, {self.clip!r}")
        for name in ("kahler_weight", "transition_weight", "ricci_weight"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise InvalidParameterError(f"{name} must be non-negative, got {value!r}")
        if self.init not in INITS:
            raise InvalidParameterError(f"init must be one of {INITS}, got {self.init!r}")

    def initial_parameters(self, net: MetricNetwork, key: jax.Array) -> Params:
        """The network's parameters at epoch 0 (``fold_in(key, 0)``, as :func:`train` draws them)."""
        return net.init(jax.random.fold_in(key, 0), zero_output=self.init == "fs")

    def optimizer(self):
        adam = optax.adam(self.lr)
        return optax.chain(optax.clip_by_global_norm(self.clip), adam) if self.clip > 0 else adam


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class TrainingSet:
    """Points in their charts with the σ-loss data: :class:`Chart`, weights, :math:`|\\Omega|^2`."""

    chart: Chart
    weights: jax.Array
    omega2: jax.Array

    @property
    def size(self) -> int:
        return int(self.weights.shape[0])


def training_set(surface, z) -> TrainingSet:
    """The :class:`TrainingSet` of points ``z`` on ``surface`` (each in its default chart)."""
    data = point_data(surface, z)
    return TrainingSet(data.chart, data.weights, data.omega2)


def _take(data: TrainingSet, idx) -> TrainingSet:
    return jax.tree_util.tree_map(lambda a: a[idx], data)


@partial(jax.jit, static_argnames=("net", "surface"))
def kahler_loss(net: MetricNetwork, params: Params, surface, c: Chart) -> jax.Array:
    r"""Mean of :math:`|\partial_c g_{a\bar b} - \partial_a g_{c\bar b}|^2` over the points of ``c``
    (module docstring); 0 for the φ-model up to rounding."""

    def one(z, patch, elim):
        def g_of(v):
            w = v[: z.size] + 1j * v[z.size :]
            single = Chart(w[None], patch[None], elim[None], surface.dp(w)[None])
            return net.metric(params, single)[0]

        d = jax.jacfwd(g_of)(jnp.concatenate([z.real, z.imag]))
        ambient = (d[..., : z.size] - 1j * d[..., z.size :]) / 2  # ∂_μ g_{ab̄}
        jac = embedding_jacobian(Chart(z[None], patch[None], elim[None], surface.dp(z)[None]))[0]
        holo = jnp.einsum("abm,cm->abc", ambient, jac)  # ∂_c g_{ab̄}
        return jnp.sum(jnp.abs(holo - jnp.transpose(holo, (2, 1, 0))) ** 2)

    return jnp.mean(jax.vmap(one)(c.z, c.patch, c.eliminated))


@partial(jax.jit, static_argnames=("net", "surface"))
def transition_loss(net: MetricNetwork, params: Params, surface, c: Chart) -> jax.Array:
    r"""Mean of :math:`\|g_B - T g_A T^\dagger\|_F^2` over the points of ``c`` (module docstring): the
    model's metric in each point's chart A against the same model in a second chart B of the point
    (:func:`numerics.cy.patches.neighbour_chart`), ``T`` the Jacobian of the chart change
    (:func:`numerics.cy.patches.transition_jacobian`); 0 for the φ-model up to rounding."""
    b = neighbour_chart(surface, c)
    t = transition_jacobian(c, b)
    moved = t @ net.metric(params, c) @ jnp.conj(jnp.swapaxes(t, 1, 2))
    return jnp.mean(jnp.sum(jnp.abs(net.metric(params, b) - moved) ** 2, axis=(1, 2)))


@partial(jax.jit, static_argnames=("net", "surface"))
def ricci_loss(net: MetricNetwork, params: Params, surface, data: TrainingSet) -> jax.Array:
    r"""The :math:`|\Omega|^2`-weighted mean of :math:`|R|` over ``data``, ``R`` the Ricci scalar
    (:func:`numerics.cy.metric_models.ricci_scalar`): 0 for the Ricci-flat metric."""
    r = ricci_scalar(partial(net.metric, params), surface, data.chart)
    return jnp.sum(data.weights * jnp.abs(r)) / jnp.sum(data.weights)


@dataclass
class TrainingResult:
    """σ per epoch on both sets (epoch 0 first), the loss terms per epoch, timing and the final state."""

    train_sigma: list[float]
    val_sigma: list[float]
    loss_terms: dict[str, list[float]]
    seconds_per_epoch: list[float]
    params: Params
    opt_state: Any = None

    @property
    def val_gain(self) -> float:
        return self.val_sigma[0] / self.val_sigma[-1]

    @property
    def train_gain(self) -> float:
        return self.train_sigma[0] / self.train_sigma[-1]

    def _repr_html_(self) -> str:
        """Notebook display (:mod:`flowtheory.reprs`): σ on both sets at epoch 0 and at the end with
        the gains, the loss terms at the first and last epoch, and the time; never the parameters."""
        e = len(self.seconds_per_epoch)
        sigma = html_table(history_rows({"σ train (B.11)": self.train_sigma, "σ validation": self.val_sigma}),
                           header=("", "epoch 0", f"epoch {e}", "gain σ(0)/σ(end)"), caption=f"metric network training: {e} epoch{'s' * (e != 1)}")
        parts = [sigma]
        if e:
            parts.append(html_table(history_rows({f"loss: {k}": v for k, v in self.loss_terms.items()}),
                                    header=("", "epoch 1", f"epoch {e}", "first / last")))
            parts.append(html_table([("seconds", sum(self.seconds_per_epoch)), ("seconds per epoch (last)", self.seconds_per_epoch[-1])]))
        return "\n".join(parts)


def metric_on(net: MetricNetwork, params: Params, data: TrainingSet, chunk: int = 8192) -> jax.Array:
    """The model's metric ``(N, n, n)`` at the points of ``data``, computed in chunks of ``chunk`` points."""
    return jnp.concatenate([_metric_jit(net, params, _take(data, slice(start, start + chunk)).chart) for start in range(0, data.size, chunk)])


def evaluate_sigma(net: MetricNetwork, params: Params, data: TrainingSet, chunk: int = 8192) -> tuple[float, int]:
    """σ of the model's metric on ``data`` (in chunks) and the number of points where it is not positive definite."""
    g = metric_on(net, params, data, chunk)
    bad = int(jnp.sum(~(jnp.linalg.eigvalsh(g)[:, 0] > 0)))
    return float(sigma_of(g, data.weights, data.omega2)), bad


@partial(jax.jit, static_argnames="net")
def _metric_jit(net, params, c):
    return net.metric(params, c)


def _epoch_function(net: MetricNetwork, surface, settings: TrainSettings, n_batches: int, devices: tuple):
    """The optimiser and the jit-compiled epoch (a ``lax.scan`` over mini batches) of one configuration
    (cached on everything but the number of epochs)."""
    from dataclasses import replace

    return _cached_epoch_function(net, surface, replace(settings, epochs=1), n_batches, devices)


@lru_cache(maxsize=16)
def _cached_epoch_function(net: MetricNetwork, surface, settings: TrainSettings, n_batches: int, devices: tuple):
    optimizer = settings.optimizer()
    points = NamedSharding(Mesh(np.array(devices), ("points",)), PartitionSpec("points"))
    direct = net.model != "phi"
    kahler = direct and settings.kahler_weight > 0
    transition = direct and settings.transition_weight > 0
    ricci = settings.ricci_weight > 0

    def loss_fn(params, batch: TrainingSet):
        g = net.metric(params, batch.chart)
        sigma = sigma_of(g, batch.weights, batch.omega2)  # σ (B.11) of the batch, κ from the batch
        k = kahler_loss(net, params, surface, batch.chart) if kahler else jnp.zeros(())
        t = transition_loss(net, params, surface, batch.chart) if transition else jnp.zeros(())
        r = ricci_loss(net, params, surface, batch) if ricci else jnp.zeros(())
        total = sigma + settings.kahler_weight * k + settings.transition_weight * t + settings.ricci_weight * r
        return total, (sigma, k, t, r)

    @jax.jit
    def epoch(params, opt_state, perm, train_set: TrainingSet):
        def step(carry, idx):
            params, opt_state = carry
            batch = jax.tree_util.tree_map(lambda a: jax.lax.with_sharding_constraint(a, points), _take(train_set, idx))
            (total, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, batch)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), (total, *terms)

        batches = perm[: n_batches * settings.batch].reshape(n_batches, -1)
        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), batches)
        return params, opt_state, tuple(jnp.mean(x) for x in losses)

    return optimizer, epoch


def train(net: MetricNetwork, surface, train_set: TrainingSet, val_set: TrainingSet, settings: TrainSettings, key: jax.Array, *,
          resume_from: TrainingResult | None = None, on_epoch: Callable[[TrainingResult], None] | None = None,
          devices=None) -> TrainingResult:
    """Train ``net`` for ``settings.epochs`` epochs in total (module docstring).

    Args:
        key: initialises the network (``fold_in(key, 0)``) and draws epoch ``e``'s permutation
            (``fold_in(key, e)``).
        resume_from: the result after ``k`` epochs of the same run (a checkpoint): training continues
            from its parameters, optimiser state and histories.
        on_epoch: called with the result so far after every epoch (checkpoints, progress).
        devices: the devices each mini batch is split over (data parallel, ``jax.sharding``: the
            batch is constrained to a one-axis ``"points"`` mesh and XLA sums the gradients);
            ``None``: all of ``jax.devices()``.  One code path for one device or many.

    Raises:
        NonFiniteError: a non-finite loss in an epoch.
        NotPositiveDefiniteError: validation metrics that are not positive definite after an epoch.
        InvalidParameterError: a batch larger than the train set or not a multiple of the device
            count; a direct model on points of several charts.
    """
    if settings.batch > train_set.size:
        raise InvalidParameterError(f"batch {settings.batch} exceeds the {train_set.size} train points")
    if net.model != "phi":
        for data, name in ((train_set, "train"), (val_set, "validation")):
            pairs = np.unique(np.stack([np.asarray(data.chart.patch), np.asarray(data.chart.eliminated)], axis=1), axis=0)
            if len(pairs) != 1:
                raise InvalidParameterError(f"the {net.model} model's components live in one chart; the {name} points lie in {len(pairs)} (sample_in_chart)")
    devices = tuple(jax.devices()) if devices is None else tuple(devices)
    if not devices or settings.batch % len(devices):
        raise InvalidParameterError(f"batch {settings.batch} must be a multiple of the {len(devices)} devices it is split over")
    optimizer, epoch = _epoch_function(net, surface, settings, train_set.size // settings.batch, devices)
    if resume_from is None:
        params = settings.initial_parameters(net, key)
        opt_state = optimizer.init(params)
        s_train, _ = evaluate_sigma(net, params, train_set)
        s_val, _ = evaluate_sigma(net, params, val_set)
        result = TrainingResult([s_train], [s_val], {name: [] for name in LOSS_TERMS}, [], params, opt_state)
    else:
        result = resume_from
        params, opt_state = result.params, result.opt_state
    for e in range(len(result.seconds_per_epoch) + 1, settings.epochs + 1):
        start = time.perf_counter()
        perm = jax.random.permutation(jax.random.fold_in(key, e), train_set.size)
        params, opt_state, terms = epoch(params, opt_state, perm, train_set)
        # plain arrays again, without the mesh in their type (a copy through the host; the parameters are
        # small): the next epoch, σ and every later use of them see the signature of the initial ones,
        # so nothing is compiled twice
        params, opt_state = jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a)), (params, opt_state))
        total = float(terms[0])
        seconds = time.perf_counter() - start
        if not np.isfinite(total):
            raise NonFiniteError(f"epoch {e}: the loss is {total} (lower lr, or check the inputs)")
        s_train, _ = evaluate_sigma(net, params, train_set)
        s_val, bad = evaluate_sigma(net, params, val_set)
        if bad:
            raise NotPositiveDefiniteError(f"epoch {e}: the metric is not positive definite at {bad} of {val_set.size} validation points")
        result.train_sigma.append(s_train)
        result.val_sigma.append(s_val)
        for name, value in zip(LOSS_TERMS, terms):
            result.loss_terms[name].append(float(value))
        result.seconds_per_epoch.append(seconds)
        result.params, result.opt_state = params, opt_state
        if on_epoch is not None:
            on_epoch(result)
    return result
