"""The one caching scheme of the symbolic layer: derived quantities cached by the value of their inputs.

Values in :mod:`flowtheory` are immutable and hashable — frozen dataclasses over immutable sympy
objects (``ImmutableMatrix``, ``ImmutableDenseNDimArray``, expressions, tuples) — and equal exactly
when their data are equal.  A derived quantity (Christoffel symbols of a metric, the flow of a
:class:`~flowtheory.functionals.Functional`, the right-hand side of a
:class:`~flowtheory.spec.FlowSpec`, a frozen NTK) is a pure function of such values, and
:func:`cached_by_value` caches it on them: the key is the tuple of arguments, compared by ``==``
and ``hash``, so equal data share one result and different data never do.  Nothing is cached on
an instance, and no cache is keyed on a name or on a subset of the data.

Cached results are shared between callers, so they are immutable as well (an ``ImmutableMatrix``,
a tuple of pairs); a function that hands out a ``dict`` or a mutable ``Matrix`` copies the cached
value.  :func:`clear_caches` empties every cache (memory, or timing a cold computation).

>>> import sympy as sp
>>> @cached_by_value()
... def double(m):
...     return 2 * m
>>> a, b = sp.ImmutableMatrix([[1, 2]]), sp.ImmutableMatrix([[1, 2]])
>>> double(a) is double(b)  # equal values, one cached result
True
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

__all__ = ["cached_by_value", "clear_caches"]

F = TypeVar("F", bound=Callable)

_CACHED: list = []


def cached_by_value(maxsize: int | None = 128) -> Callable[[F], F]:
    """Decorator: cache a pure function of hashable values on the value of its arguments.

    ``maxsize`` bounds the number of results kept (least recently used dropped first); ``None``
    for functions of a few small keys (a network name and a dimension).  Arguments must be
    hashable values; a mutable ``sympy.Matrix`` raises ``TypeError`` (pass an ``ImmutableMatrix``).
    """

    def decorate(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _CACHED.append(cached)
        return cached

    return decorate


def clear_caches() -> None:
    """Empty every cache made by :func:`cached_by_value`."""
    for cached in _CACHED:
        cached.cache_clear()
