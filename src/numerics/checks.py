"""Input checks at the Python boundary of the public numeric functions.

Each check raises a named error of :mod:`flowtheory.errors` whose message names the argument.
Value checks run on concrete input only: inside ``jax.jit`` an argument is a tracer whose values
cannot be read, so it is passed through (shape checks are static and always run).  Hot inner code
is never checked; the public function that calls it is.

>>> import numpy as np
>>> require_weights(np.array([1.0, -2.0]), "weights")
Traceback (most recent call last):
    ...
flowtheory.errors.InvalidParameterError: weights must be >= 0, got 1 negative value(s) (min -2)
"""

from __future__ import annotations

import jax
import numpy as np

from flowtheory.errors import DegenerateInputError, EmptyInputError, InvalidParameterError, NonFiniteError

__all__ = ["is_concrete", "require_finite", "require_nonempty", "require_weights"]


def is_concrete(a) -> bool:
    """``True`` unless ``a`` is a JAX tracer (an argument inside ``jit``/``vmap``/``grad``)."""
    return not isinstance(a, jax.core.Tracer)


def require_finite(a, name: str) -> None:
    """Raise :class:`~flowtheory.errors.NonFiniteError` when concrete ``a`` holds NaN or infinity."""
    if is_concrete(a) and not np.all(np.isfinite(np.asarray(a))):
        raise NonFiniteError(f"{name} contains NaN or infinity")


def require_nonempty(n: int, name: str, what: str = "points") -> None:
    """Raise :class:`~flowtheory.errors.EmptyInputError` when ``n`` (a count of ``what``) is 0."""
    if n == 0:
        raise EmptyInputError(f"{name} is empty: need at least one of its {what}")


def require_weights(w, name: str) -> None:
    """Concrete weights must be finite and ``>= 0`` with a positive sum.

    Raises:
        NonFiniteError: NaN or infinity.
        InvalidParameterError: a negative weight (a measure has none: it would give negative volumes).
        DegenerateInputError: every weight is 0 (no normalisation exists).
    """
    if not is_concrete(w):
        return
    require_finite(w, name)
    w = np.asarray(w)
    negative = w < 0
    if np.any(negative):
        raise InvalidParameterError(f"{name} must be >= 0, got {int(negative.sum())} negative value(s) (min {w.min():.3g})")
    if w.size and not np.any(w > 0):
        raise DegenerateInputError(f"{name} are all zero: they sum to zero and cannot be normalised")
