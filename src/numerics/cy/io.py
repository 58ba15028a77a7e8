"""Point sets on disk: ``.npz`` with the points, their line ids and a JSON metadata record.

The file holds ``points`` (complex128, patch-scaled), ``line_ids`` (int64) and ``metadata`` (a JSON
string): format version, the hypersurface (name, n_ambient, degree, psi), the seed, the chart of a
chart-selected sample, line counts and the :func:`numerics.io.provenance.run_record`.  Files are
written atomically.  Loading rebuilds the :class:`~numerics.cy.sampling.PointSample` and validates
it: the format version, the hypersurface's parameters (a singular member is refused) and every point
(:meth:`~numerics.cy.hypersurface.Hypersurface.validate`: on the hypersurface, finite, non-zero).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from flowtheory.errors import FlowtheoryError, InvalidFileError
from numerics.cy.hypersurface import Hypersurface
from numerics.cy.sampling import PointSample
from numerics.io.provenance import run_record, save_npz_atomic

FORMAT = "flowtheory.cy.points/1"


def save_points(path: str | os.PathLike, sample: PointSample, seed: int | None, parameters: dict[str, Any] | None = None) -> Path:
    """Write ``sample`` to ``path`` (``.npz``) atomically, with its metadata; returns the path."""
    surface = sample.surface
    metadata = {
        "format": FORMAT,
        "manifold": surface.name,
        "n_ambient": surface.n_ambient,
        "degree": surface.degree,
        "psi": [surface.psi.real, surface.psi.imag],
        "seed": seed,
        "chart": None if sample.chart is None else list(sample.chart),
        "n_candidates": sample.n_candidates,
        "n_lines": sample.n_lines,
        "n_rejected_lines": sample.n_rejected_lines,
        "run_record": run_record(seed, parameters or {}),
    }
    return save_npz_atomic(path, points=sample.points, line_ids=sample.line_ids, metadata=np.array(json.dumps(metadata)))


MAX_METADATA_CHARS = 1_000_000


def _metadata_schema(path, metadata: Any, n_points: int) -> dict[str, Any]:
    """Check every metadata field's type and range; returns the metadata.

    The fields and their rules (``flowtheory.cy.points/1``): ``manifold`` a string; ``n_ambient``
    an integer in [2, 10] and ``degree`` in [1, 20]; ``psi`` two finite numbers; ``seed`` an
    integer >= 0 or null; ``chart`` null or two different coordinates in ``range(n_ambient)``;
    ``n_lines`` >= 1 and ``0 <= n_rejected_lines <= n_lines``; ``n_candidates`` null without a
    chart, else an integer >= the number of points (it is the denominator of the acceptance rate
    and of the chart's volume fraction); ``run_record`` an object.
    """

    def bad(field: str, message: str) -> InvalidFileError:
        return InvalidFileError(path, message, field=f"metadata.{field}")

    def integer(field: str, low: int, high: int | None = None, *, nullable: bool = False) -> None:
        value = metadata.get(field)
        if value is None and nullable:
            return
        if type(value) is not int or value < low or (high is not None and value > high):
            bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
            raise bad(field, f"expected an integer {bound}, got {value!r}")

    if not isinstance(metadata, dict):
        raise InvalidFileError(path, f"a JSON {type(metadata).__name__}, not an object", field="metadata")
    missing = [k for k in ("format", "manifold", "n_ambient", "degree", "psi", "seed", "chart", "n_candidates", "n_lines", "n_rejected_lines", "run_record") if k not in metadata]
    if missing:
        raise InvalidFileError(path, f"missing {', '.join(missing)}", field="metadata")
    if metadata["format"] != FORMAT:
        raise bad("format", f"is {metadata['format']!r}, expected {FORMAT!r}")
    if not isinstance(metadata["manifold"], str) or len(metadata["manifold"]) > 200:
        raise bad("manifold", f"expected a name, got {str(metadata['manifold'])[:60]!r}")
    integer("n_ambient", 2, 10)
    integer("degree", 1, 20)
    psi = metadata["psi"]
    if not (isinstance(psi, list) and len(psi) == 2 and all(type(v) in (int, float) and math.isfinite(v) for v in psi)):
        raise bad("psi", f"expected [real, imaginary] finite numbers, got {str(psi)[:60]}")
    integer("seed", 0, nullable=True)
    chart = metadata["chart"]
    if chart is not None:
        n = metadata["n_ambient"]
        if not (isinstance(chart, list) and len(chart) == 2 and all(type(i) is int and 0 <= i < n for i in chart) and chart[0] != chart[1]):
            raise bad("chart", f"expected null or two different coordinates in 0..{n - 1}, got {str(chart)[:60]}")
        integer("n_candidates", n_points)
    elif metadata["n_candidates"] is not None:
        raise bad("n_candidates", f"expected null for a sample without a chart, got {metadata['n_candidates']!r}")
    integer("n_lines", 1)
    integer("n_rejected_lines", 0, metadata["n_lines"])
    if not isinstance(metadata["run_record"], dict):
        raise bad("run_record", "expected an object")
    return metadata


def load_points(path: str | os.PathLike) -> tuple[PointSample, dict[str, Any]]:
    """Read a point file; returns the validated sample and its metadata.

    Every field is checked before it is used (see :func:`_metadata_schema`); the arrays must be
    ``points`` complex ``(N >= 1, n_ambient)``, patch-scaled (max ``|z_i| = 1``) and on the recorded
    hypersurface, and ``line_ids`` integers ``(N,)`` in ``[0, n_lines)``.

    Raises:
        InvalidFileError: unreadable or damaged (truncated, bit-flipped, not an npz), another
            format, a missing or ill-typed field, inconsistent arrays — naming the file and field.
        OffManifoldError, NonFiniteError: points that do not lie on the recorded hypersurface.
        SingularManifoldError: the recorded member of the family is singular.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("points", "line_ids", "metadata") if k not in data.files]
            if missing:
                raise InvalidFileError(path, f"not a point file: no {', '.join(missing)}")
            points, line_ids, text = data["points"], data["line_ids"], data["metadata"]
    except InvalidFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - np.load's failures on damaged input span OSError, zipfile, zlib, ValueError, EOFError
        raise InvalidFileError(path, f"not a readable point file ({type(exc).__name__}: {exc})") from None
    if text.dtype.kind != "U" or text.shape != () or len(str(text)) > MAX_METADATA_CHARS:
        raise InvalidFileError(path, "expected one JSON string", field="metadata")
    try:
        metadata = json.loads(str(text))
    except (ValueError, RecursionError) as exc:
        raise InvalidFileError(path, f"not JSON ({exc})", field="metadata") from None
    if points.dtype.kind != "c" or points.ndim != 2 or points.shape[0] == 0:
        raise InvalidFileError(path, f"expected complex points of shape (N >= 1, n), got {points.dtype} {points.shape}", field="points")
    _metadata_schema(path, metadata, points.shape[0])
    if points.shape[1] != metadata["n_ambient"]:
        raise InvalidFileError(path, f"{points.shape[1]} coordinates for n_ambient = {metadata['n_ambient']}", field="points")
    if line_ids.dtype.kind not in "iu" or line_ids.shape != points.shape[:1]:
        raise InvalidFileError(path, f"expected {points.shape[0]} integer line ids, got {line_ids.dtype} {line_ids.shape}", field="line_ids")
    if line_ids.size and not (0 <= line_ids.min() and line_ids.max() < metadata["n_lines"]):
        raise InvalidFileError(path, f"line ids must lie in [0, n_lines = {metadata['n_lines']})", field="line_ids")
    try:
        surface = Hypersurface(n_ambient=metadata["n_ambient"], degree=metadata["degree"], psi=complex(*metadata["psi"]), name=metadata["manifold"])
    except FlowtheoryError as exc:
        raise type(exc)(f"{path}: field 'metadata.psi': {exc}") from None
    try:
        points = np.asarray(surface.validate(points))
    except FlowtheoryError as exc:
        raise type(exc)(f"{path}: field 'points': {exc}") from None
    scale = np.max(np.abs(points), axis=1)
    if not np.all(np.abs(scale - 1) <= 1e-9):
        raise InvalidFileError(path, f"{int(np.sum(np.abs(scale - 1) > 1e-9))} point(s) not patch-scaled (max |z_i| = 1)", field="points")
    chart = None if metadata["chart"] is None else tuple(metadata["chart"])
    if chart is not None:
        from numerics.cy.patches import chart as in_chart

        c = in_chart(surface, points)
        outside = int(np.sum(~np.asarray((c.patch == chart[0]) & (c.eliminated == chart[1]))))
        if outside:
            raise InvalidFileError(path, f"{outside} point(s) not in the recorded chart {chart}", field="points")
    sample = PointSample(surface, points, line_ids.astype(np.int64), metadata["n_lines"], metadata["n_rejected_lines"], chart, metadata["n_candidates"])
    return sample, metadata
