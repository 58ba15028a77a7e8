r"""Bayesian search of the kernel-flow hyper-parameters (section 3.2.4), as the paper does it.

The paper tunes Δt, the Gaussian width and the ReLU NTK's σ_w, σ_b with the Python package
*bayesian-optimization* [30] (Gaussian-process regression with an upper-confidence-bound
acquisition), drawing a fresh point set for every trial ("otherwise the optimizer tunes the
hyperparameters to the specific point set"), then iterates (3.5) for 50 steps at the best
parameters.  We use the same package (3.x): it is the paper's tool, it is small (scikit-learn and
scipy, already our dependencies), and it works on box bounds, so every scale parameter is searched
as its ``log10`` (:data:`SPACES`).

Trial ``i`` (0-based) of a search with seed ``s``:

- points: ``n_train`` train and ``n_test`` test points in chart (0, 1) drawn with
  ``jax.random.fold_in(PRNGKey(s), i)``; the final run uses index ``trials`` (points no trial saw);
- parameters: for ``i < init_points`` uniform in the box from ``numpy.random.default_rng([s, i])``;
  after that the suggestion of a fresh ``BayesianOptimization(random_state=s + i)`` with every
  earlier trial registered.  Each suggestion is a function of the seed and the history only, so a
  search resumed from its trial list continues exactly as the uninterrupted one would;
- objective: ``log10`` of the gain (σ at step 0 over σ at the last step) on the ``objective`` set
  (``"train"`` by default: the paper's optimiser preferred narrow kernels and its Table 1 step
  sizes sit where the train gain is largest, see ``proofs/cy_kernel_flow.py``); a trial in which
  any step had to be halved to keep the metrics positive definite (``rejected_steps > 0``) or that
  could not be completed scores :data:`FAILED_SCORE`, below doing nothing: the back-off of
  :func:`numerics.cy.kernel_flow.run_flow` would otherwise let a too-large Δt pass as a smaller one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import jax
import numpy as np

from flowtheory.errors import InvalidParameterError, NotPositiveDefiniteError
from numerics.cy import kernels
from numerics.cy.kernel_flow import FlowResult, FlowSettings, kernel_apply, point_set, run_flow

SPACES: dict[str, dict[str, tuple[float, float]]] = {
    "gaussian": {"log10_lr": (-2.0, 1.0), "log10_width": (-1.0, 3.0)},
    "delta": {"log10_lr": (-2.0, 1.0)},
    "relu-ntk": {"log10_lr": (-10.0, 0.0), "log10_sigma_w": (-1.0, 2.0), "log10_sigma_b": (-3.0, 2.5)},
}
"""Search boxes per kernel, in ``log10`` of Δt, the Gaussian width σ (in the chosen reading) and
the ReLU NTK's σ_w, σ_b.  They contain Table 1's values (Δt 0.1 to 0.32, σ = 30, σ_w = 5.716,
σ_b = 80.52).  The ReLU NTK grows as σ_w^4 at small σ_b, a scale Δt can absorb, so its box
reaches far in Δt and σ_w."""

FAILED_SCORE = -1.0
"""Objective of a trial with a halved step or no result: a tenth of doing nothing (``log10`` 1 = 0)."""

OBJECTIVES = ("train", "test")


def parameters_of(point: dict[str, float]) -> dict[str, float]:
    """Flow and kernel parameters (``lr``, ``width``, ``sigma_w``, ``sigma_b``) of a point of :data:`SPACES`."""
    return {name.removeprefix("log10_"): float(10.0 ** value) for name, value in point.items()}


def flow_on_fresh_points(surface, kernel, settings: FlowSettings, *, n_train: int, n_test: int, steps: int,
                         key: jax.Array, clusters: tuple[int, int] | None = None, block: int = 1024,
                         on_step: Callable | None = None) -> FlowResult:
    """Draw train and test points in chart (0, 1) with ``key`` and run the flow (3.5) on them."""
    from numerics.cy.sampling import sample_in_chart

    train_sample = sample_in_chart(surface, n_train, jax.random.fold_in(key, 0), 0, 1, progress=False)
    test_sample = sample_in_chart(surface, n_test, jax.random.fold_in(key, 1), 0, 1, progress=False)
    train = point_set(surface, train_sample.points, train_sample.line_ids)
    test = point_set(surface, test_sample.points, test_sample.line_ids)
    apply = kernel_apply(kernel, train, test, clusters=clusters, block=block)
    return run_flow(apply, train, test, settings, steps, on_step=on_step)


@dataclass(frozen=True)
class SearchSettings:
    """What a search explores and how each trial runs.

    Attributes:
        kernel: ``"gaussian"``, ``"delta"`` or ``"relu-ntk"``.
        trials: number of trials (>= 1), the first ``init_points`` of them random.
        n_train, n_test: points per trial (>= 2).
        trial_steps: flow steps per trial.
        objective: the set whose gain is maximised (:data:`OBJECTIVES`).
        reading: the Gaussian's reading (:data:`numerics.cy.kernels.READINGS`).
        loss, kappa, normalisation: the flow's (:class:`numerics.cy.kernel_flow.FlowSettings`).
        seed: the search's seed (module docstring).
    """

    kernel: str
    trials: int
    n_train: int
    n_test: int
    trial_steps: int = 50
    init_points: int = 5
    objective: str = "train"
    reading: str = "inverse"
    loss: str = "l2"
    kappa: str = "recomputed"
    normalisation: str = "mean"
    seed: int = 0

    def __post_init__(self):
        if self.kernel not in SPACES:
            raise InvalidParameterError(f"unknown kernel {self.kernel!r}; choose one of {tuple(SPACES)}")
        if self.objective not in OBJECTIVES:
            raise InvalidParameterError(f"unknown objective {self.objective!r}; choose one of {OBJECTIVES}")
        for name, low in (("trials", 1), ("n_train", 2), ("n_test", 2), ("trial_steps", 1), ("init_points", 1)):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= low):
                raise InvalidParameterError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.reading not in kernels.READINGS:
            raise InvalidParameterError(f"unknown reading {self.reading!r}; choose one of {kernels.READINGS}")
        FlowSettings(lr=1.0, loss=self.loss, kappa=self.kappa, normalisation=self.normalisation)

    def flow_settings(self, lr: float, max_backoff: int = 30) -> FlowSettings:
        return FlowSettings(lr=lr, loss=self.loss, kappa=self.kappa, normalisation=self.normalisation, max_backoff=max_backoff)

    def kernel_of(self, parameters: dict[str, float]):
        return kernels.kernel_from(self.kernel, reading=self.reading, **{k: v for k, v in parameters.items() if k != "lr"})


def run_trial(surface, settings: SearchSettings, index: int, point: dict[str, float], *, block: int = 1024) -> dict[str, Any]:
    """Trial ``index`` at ``point`` (log10 coordinates): a record with the point, gains and score."""
    parameters = parameters_of(point)
    key = jax.random.fold_in(jax.random.PRNGKey(settings.seed), index)
    record: dict[str, Any] = {"trial": index, "point": dict(point), "parameters": parameters}
    try:
        result = flow_on_fresh_points(
            surface, settings.kernel_of(parameters), settings.flow_settings(parameters["lr"], max_backoff=0),
            n_train=settings.n_train, n_test=settings.n_test, steps=settings.trial_steps, key=key, block=block,
        )
    except NotPositiveDefiniteError as exc:
        return {**record, "status": "failed", "reason": str(exc), "score": FAILED_SCORE}
    gain = result.train_gain if settings.objective == "train" else result.test_gain
    return {**record, "status": "completed", "train_gain": result.train_gain, "test_gain": result.test_gain,
            "rejected_steps": result.rejected_steps, "score": math.log10(gain)}


def suggest(settings: SearchSettings, history: list[dict[str, Any]]) -> dict[str, float]:
    """The point of trial ``len(history)`` (module docstring)."""
    space = SPACES[settings.kernel]
    index = len(history)
    if index < settings.init_points:
        rng = np.random.default_rng([settings.seed, index])
        return {name: float(rng.uniform(low, high)) for name, (low, high) in space.items()}
    from bayes_opt import BayesianOptimization

    optimizer = BayesianOptimization(f=None, pbounds=space, random_state=settings.seed + index, verbose=0, allow_duplicate_points=True)
    for trial in history:
        optimizer.register(params=trial["point"], target=trial["score"])
    return {name: float(value) for name, value in optimizer.suggest().items()}


def best_trial(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The trial of highest score (the first of equals)."""
    if not history:
        raise InvalidParameterError("no trials to choose from")
    return max(history, key=lambda trial: trial["score"])


def search_hyperparameters(surface, settings: SearchSettings, *, history: list[dict[str, Any]] | None = None, block: int = 1024,
           on_trial: Callable[[list[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """Run the trials of ``settings`` not yet in ``history``; ``on_trial(history)`` after each (checkpoints).

    Returns:
        The trial records, trial 0 first (:func:`run_trial`).
    """
    history = list(history or [])
    if len(history) > settings.trials:
        raise InvalidParameterError(f"the history holds {len(history)} trials, more than the {settings.trials} asked for")
    while len(history) < settings.trials:
        history.append(run_trial(surface, settings, len(history), suggest(settings, history), block=block))
        if on_trial is not None:
            on_trial(history)
    return history
