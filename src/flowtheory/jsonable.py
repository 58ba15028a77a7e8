"""JSON-ready values: the one conversion used by the command line's ``--json`` output and by the
files the numeric layer writes (:func:`numerics.io.write_json_atomic`).

This module imports neither numpy nor JAX: numpy scalars and arrays are recognised only when numpy
is already loaded (an object cannot be a numpy array otherwise), so the symbolic layer stays free
of the numeric stack.
"""

from __future__ import annotations

import math
import sys
from typing import Any


def to_jsonable(obj: Any, where: str = "result") -> Any:
    """Convert numpy/sympy scalars and arrays, tuples and paths into JSON-ready values.

    Dicts get string keys, tuples become lists, numpy arrays nested lists, numpy integers ``int``
    and floats ``float``; anything else that JSON cannot hold (sympy expressions, paths) becomes its
    ``str``.  JSON has no NaN and a result with one is wrong, never ``null``: a non-finite float
    raises :class:`~flowtheory.errors.NonFiniteError` naming where it sits (``where`` is the name of
    ``obj`` in that message).

    >>> import sympy as sp
    >>> to_jsonable({"x": (1, 2.5, None), 3: sp.Rational(1, 3)})
    {'x': [1, 2.5, None], '3': '1/3'}
    >>> import numpy as np
    >>> to_jsonable(np.array([[1.0, 2.0]])), to_jsonable(np.int64(7))
    ([[1.0, 2.0]], 7)
    >>> to_jsonable({"fit": {"slope": float("nan")}})
    Traceback (most recent call last):
    flowtheory.errors.NonFiniteError: result["fit"]["slope"] is nan, not a finite number
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, f"{where}[{str(k)!r}]".replace("'", '"')) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    np = sys.modules.get("numpy")  # loaded iff obj can be a numpy object
    if np is not None:
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind in "fc" and not np.all(np.isfinite(obj)):
                first = tuple(int(i) for i in np.argwhere(~np.isfinite(obj))[0])
                raise _non_finite(f"{where}{list(first)}", obj[first])
            return obj.tolist() if obj.dtype.kind in "biuf" else to_jsonable(obj.tolist(), where)
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.floating):
            obj = float(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise _non_finite(where, obj)
        return obj
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)


def _non_finite(where: str, value) -> Exception:
    from flowtheory.errors import NonFiniteError

    return NonFiniteError(f"{where} is {value}, not a finite number")
