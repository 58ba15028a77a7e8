"""Shared output helpers of the command line: JSON or rich tables, and input validation."""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from flowtheory.jsonable import to_jsonable


class CliError(ValueError):
    """A command-line usage error: printed as one line, exit status 2."""


def emit(as_json: bool, result: Any, render: Callable[[Any], None]) -> None:
    """Print ``result`` as one JSON document, or hand it to ``render`` for humans."""
    if as_json:
        print(json.dumps(to_jsonable(result), indent=2))
    else:
        render(result)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (bad values exit with status 2 via argparse)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value
