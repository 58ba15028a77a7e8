"""Reproducibility records and atomic writes.

Every result written to disk carries :func:`run_record` — seed, parameters and library versions —
and is written atomically (temporary file + ``os.replace``) so an interrupted run never leaves a
half-written file that a resume would trust.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from flowtheory.jsonable import to_jsonable

_PACKAGES = ("flowtheory", "jax", "jaxlib", "numpy", "sympy", "scipy", "scikit-learn", "neural-tangents")


def versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on (and Python's).

    A package that is not installed — neural-tangents, say, which only the ``reference`` extra
    brings — is recorded as ``"not installed"``.
    """
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_record(seed: int | None, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The record stored next to a result: seed, parameters, versions, UTC time, host platform."""
    return {
        "seed": seed,
        "parameters": dict(parameters),
        "versions": versions(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write) -> Path:
    """Write through ``write(fh)`` into a temporary ``.NAME.*.tmp`` next to ``path``, then rename.

    The result gets the mode any other tool's output would (``0o666`` less the umask), not the
    temporary's ``0600``; on any failure or interruption the temporary is removed and the old file,
    if any, is untouched.  An unwritable place raises :class:`OSError` naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write here ({exc.strerror})", str(path)) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    data = json.dumps(to_jsonable(obj), indent=2).encode()
    return _atomic(Path(path), lambda fh: fh.write(data))


def save_npz_atomic(path: str | os.PathLike, **arrays: Any) -> Path:
    """``numpy.savez_compressed`` to ``path`` atomically (``path`` should end in ``.npz``)."""
    return _atomic(Path(path), lambda fh: np.savez_compressed(fh, **arrays))


def save_figure_atomic(path: str | os.PathLike, figure, **savefig_kwargs: Any) -> Path:
    """``figure.savefig`` to ``path`` atomically (the format follows the suffix: ``.png``, ``.pdf``, ``.svg``)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    return _atomic(path, lambda fh: figure.savefig(fh, format=fmt, **savefig_kwargs))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (reports)."""
    data = text.encode()
    return _atomic(Path(path), lambda fh: fh.write(data))
