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


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/sympy scalars and arrays, tuples and paths into JSON-ready values.

    Dicts get string keys, tuples become lists, numpy arrays nested lists, numpy integers ``int``
    and floats ``float``; anything else that JSON cannot hold (sympy expressions, paths) becomes its
    ``str``.  Non-finite floats become ``None`` (JSON has no NaN); callers must have rejected or
    counted them.

    >>> import sympy as sp
    >>> to_jsonable({"x": (1, 2.5, float("nan")), 3: sp.Rational(1, 3)})
    {'x': [1, 2.5, None], '3': '1/3'}
    >>> import numpy as np
    >>> to_jsonable(np.array([[1.0, np.inf]])), to_jsonable(np.int64(7))
    ([[1.0, None]], 7)
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    np = sys.modules.get("numpy")  # loaded iff obj can be a numpy object
    if np is not None:
        if isinstance(obj, np.ndarray):
            return to_jsonable(obj.tolist())
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            obj = float(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)
