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
import os
from pathlib import Path
from typing import Any

import numpy as np

from flowtheory.errors import InvalidParameterError
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


def load_points(path: str | os.PathLike) -> tuple[PointSample, dict[str, Any]]:
    """Read a point file; returns the validated sample and its metadata.

    Raises:
        InvalidParameterError: not a point file of this format, or inconsistent arrays.
        OffManifoldError, NonFiniteError: points that do not lie on the recorded hypersurface.
        SingularManifoldError: the recorded member of the family is singular.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            points, line_ids, metadata = data["points"], data["line_ids"], json.loads(str(data["metadata"]))
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidParameterError(f"{path}: not a readable point file ({exc})") from None
    if metadata.get("format") != FORMAT:
        raise InvalidParameterError(f"{path}: format {metadata.get('format')!r}, expected {FORMAT!r}")
    surface = Hypersurface(
        n_ambient=int(metadata["n_ambient"]),
        degree=int(metadata["degree"]),
        psi=complex(*metadata["psi"]),
        name=str(metadata["manifold"]),
    )
    points = np.asarray(surface.validate(points))
    if line_ids.shape != points.shape[:1]:
        raise InvalidParameterError(f"{path}: {line_ids.shape[0]} line ids for {points.shape[0]} points")
    chart = None if metadata["chart"] is None else tuple(int(i) for i in metadata["chart"])
    if chart is not None:
        from numerics.cy.patches import chart as in_chart

        c = in_chart(surface, points)
        outside = int(np.sum(~np.asarray((c.patch == chart[0]) & (c.eliminated == chart[1]))))
        if outside:
            raise InvalidParameterError(f"{path}: {outside} point(s) not in the recorded chart {chart}")
    sample = PointSample(surface, points, line_ids.astype(np.int64), int(metadata["n_lines"]), int(metadata["n_rejected_lines"]), chart, metadata["n_candidates"])
    return sample, metadata
