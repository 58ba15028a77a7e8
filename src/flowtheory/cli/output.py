"""Shared output helpers of the command line: JSON or rich tables, and input validation."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from flowtheory.jsonable import to_jsonable


class CliError(ValueError):
    """A command-line usage error: printed as one line, exit status 2."""


def emit(as_json: bool, result: Any, render: Callable[[Any], None]) -> None:
    """Print ``result`` as one JSON document, or hand it to ``render`` for humans."""
    if as_json:
        print(json.dumps(to_jsonable(result), indent=2))
    else:
        render(result)


def say(message: str) -> None:
    """A status line on stderr — "resumed from ...", say — never on stdout, which holds only the result."""
    import sys

    print(f"flowtheory: {message}", file=sys.stderr)


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


# --- bounded argparse types -------------------------------------------------------------------

SEED_MAX = 2**32 - 1
"""Seeds are unsigned 32-bit integers (numpy's ``default_rng`` and ``jax.random.PRNGKey`` both accept them)."""


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """argparse type: an integer in ``[low, high]`` (the bound is said in the error and in ``--help``).

    >>> bounded_int(1, 10)("7")
    7
    >>> bounded_int(1, 10)("11")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected an integer in [1, 10], got 11
    """
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer in [{low}, {high}], got {text[:40]!r}") from None
        if not low <= value <= high:
            shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:20]}... ({len(str(value))} digits)"
            raise argparse.ArgumentTypeError(f"expected an integer in [{low}, {high}], got {shown}")
        return value

    parse.__name__ = f"integer in [{low}, {high}]"
    return parse


seed = bounded_int(0, SEED_MAX)
"""argparse type of every ``--seed``: an integer in ``[0, 2**32 - 1]``."""


def bounded_float(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``).

    >>> bounded_float(0, 100)("1e200")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected a number in [0, 100], got 1e200
    """
    import argparse

    interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text[:40]!r}") from None
        inside = (value > low if low_open else value >= low) and value <= high
        if not (math.isfinite(value) and inside):
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text[:40]}")
        return value

    parse.__name__ = f"number in {interval}"
    return parse


# --- output folders and files -----------------------------------------------------------------


def remove_stale_temporaries(folder: Path, names: Iterable[str]) -> int:
    """Delete ``.NAME.*.tmp`` files that a killed run left in ``folder``; returns how many."""
    removed = 0
    for name in names:
        for tmp in folder.glob(f".{name}.*.tmp"):
            try:
                tmp.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def _check_writable(folder: Path, flag: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CliError(f"{flag} {folder}: exists and is not a folder") from None
    except OSError as exc:
        raise CliError(f"{flag} {folder}: cannot create the folder ({exc.strerror or exc})") from None
    if not folder.is_dir():
        raise CliError(f"{flag} {folder}: exists and is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CliError(f"{flag} {folder}: cannot write there ({exc.strerror or exc})") from None


def prepare_output_folder(folder: Path, products: Iterable[str], *, overwrite: bool = False,
                          resume: bool = False, flag: str = "--out") -> str:
    """Make ``folder`` ready for a run writing ``products``; returns ``"new"``, ``"resume"`` or ``"overwrite"``.

    A folder that already holds any of ``products`` is refused unless ``resume`` (continue that run)
    or ``overwrite`` (replace it) is asked — two runs' files never mix silently.  The folder is
    created and tested for writing before any work starts, and temporaries that a killed run left
    behind are removed.

    Raises:
        OutputExistsError: results present and neither ``resume`` nor ``overwrite``.
        CliError: the path is a file, cannot be created or is not writable.
    """
    from flowtheory.errors import OutputExistsError

    products = tuple(products)
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{flag} {folder}: exists and is not a folder")
    present = [name for name in products if (folder / name).exists()]
    if present and not (resume or overwrite):
        raise OutputExistsError(
            f"{flag} {folder} already holds the results of a run ({', '.join(present)}); "
            "pass --overwrite to replace them or --resume to continue that run"
        )
    _check_writable(folder, flag)
    remove_stale_temporaries(folder, products)
    if resume:
        return "resume"
    if present:
        for name in present:
            path = folder / name
            if path.is_dir():
                raise CliError(f"{flag} {folder}: {name} is a folder, not a result file; remove it first")
            path.unlink()
        return "overwrite"
    return "new"


def prepare_output_file(path: Path, *, overwrite: bool = False, flag: str = "--out") -> None:
    """Check that ``path`` can take a new result file: not a folder, not an existing file unless
    ``overwrite``, its folder creatable and writable; stale temporaries of it are removed."""
    from flowtheory.errors import OutputExistsError

    if path.is_dir():
        raise CliError(f"{flag} {path}: is a folder; name a file")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{flag} {path} already exists; pass --overwrite to replace it")
    _check_writable(path.parent, flag)
    remove_stale_temporaries(path.parent, [path.name])


def open_checkpoint(path: Path, fmt: str, names: Iterable[str]) -> dict:
    """All arrays of the ``.npz`` checkpoint ``path`` of format ``fmt`` that must hold ``names``
    (besides the strings ``format`` and ``parameters``), or :class:`InvalidFileError` naming what is wrong.

    Raises:
        CliError: no file at ``path`` (``--resume`` without a run to continue).
    """
    import numpy as np

    from flowtheory.errors import InvalidFileError

    if not path.exists():
        raise CliError(f"--resume: no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001 - np.load's failures on damaged input span OSError, zipfile, zlib, ValueError, EOFError
        raise InvalidFileError(path, f"not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    for name in ("format", "parameters", *names):
        if name not in arrays:
            raise InvalidFileError(path, "missing", field=name)
    for name in ("format", "parameters"):
        if arrays[name].dtype.kind != "U" or arrays[name].shape != ():
            raise InvalidFileError(path, "expected a string", field=name)
    if str(arrays["format"]) != fmt:
        raise InvalidFileError(path, f"is {str(arrays['format'])[:60]!r}, expected {fmt!r}", field="format")
    return arrays


def checkpoint_parameters(path: Path, arrays: dict, field: str = "parameters") -> dict:
    """The JSON object stored as the string ``arrays[field]`` of a checkpoint, or :class:`InvalidFileError`."""
    from flowtheory.errors import InvalidFileError

    try:
        value = json.loads(str(arrays[field]))
    except (ValueError, RecursionError) as exc:
        raise InvalidFileError(path, f"not JSON ({exc})", field=field) from None
    if not isinstance(value, dict):
        raise InvalidFileError(path, "expected a JSON object", field=field)
    return value


def restore_leaves(path: Path, arrays: dict, template):
    """The pytree of ``template``'s structure from a checkpoint's arrays ``leaf_0, leaf_1, …`` (as
    ``jax.tree_util.tree_leaves`` ordered them when saved), each checked for shape and finiteness and
    cast to the template leaf's dtype; :class:`InvalidFileError` names the first bad leaf."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from flowtheory.errors import InvalidFileError

    leaves, treedef = jax.tree_util.tree_flatten(template)
    restored = []
    for i, leaf in enumerate(leaves):
        name = f"leaf_{i}"
        if name not in arrays or arrays[name].shape != np.shape(leaf) or not np.all(np.isfinite(arrays[name])):
            raise InvalidFileError(path, f"missing, of another shape than {np.shape(leaf)} or not finite", field=name)
        restored.append(jnp.asarray(arrays[name], dtype=jnp.asarray(leaf).dtype))
    return jax.tree_util.tree_unflatten(treedef, restored)


def require_same_parameters(path: Path, saved: dict, parameters: dict, *, free: Iterable[str] = ()) -> None:
    """Refuse to resume from ``path`` unless its ``saved`` parameters equal this run's (``free`` ones aside)."""
    free = set(free)
    mismatch = sorted(k for k in set(saved) | set(parameters) if k not in free and saved.get(k) != parameters.get(k))
    if mismatch:
        raise CliError(f"--resume: {path}: parameters differ in {mismatch}; rerun with the same values, or with --overwrite to start afresh")


def number_list(kind, low: float, high: float, name: str):
    """argparse type: comma-separated numbers of type ``kind``, each in ``[low, high]``; sorted, without repeats."""
    import argparse

    def parse(text: str):
        try:
            values = [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
        if not values or not all(math.isfinite(v) and low <= v <= high for v in values):
            raise argparse.ArgumentTypeError(f"each {name} must lie in [{low:g}, {high:g}], got {text!r}")
        return sorted(set(values))

    return parse
