"""Flow files: a user-described flow for ``flowtheory flow run FILE.toml`` (or ``FILE.json``).

A flow file names a functional (:data:`flowtheory.spec.PRESET_NAMES`), the coordinates, the
initial data, the kernel, the grid and the time stepping; :meth:`FlowFile.prepare` turns it into a
:class:`flowtheory.spec.FlowSpec` and a run of :func:`numerics.grid.presets.prepare_spec`.  Every
key is named here; an unknown key, a missing one, a value of the wrong type or outside its bound is
an :class:`~flowtheory.errors.InvalidFileError` naming the file and the field (``kernel.sigma``,
``metric[0][1]``).  TOML is read by :mod:`tomllib` (``tomli`` before Python 3.11), JSON by
:mod:`json`, with the same keys (tables become objects).

.. code-block:: toml

    functional = "ricci"          # ricci, kahler-ricci, calabi, ultralocal, two-derivative,
                                  # einstein-hilbert, mabuchi, j
    coordinates = ["x", "y"]      # real coordinates, one per grid axis
    metric = [["1 + cos(x)/5", "sin(x)*sin(y)/10"],
              ["sin(x)*sin(y)/10", "1 + sin(y)/5"]]   # ricci: g_ij (or one string "[[...]]")
    # potential = "cos(2*pi*x)*sin(2*pi*y)/100"  # Kähler functionals: phi in the real x, y of z = x + i y
    # parameters = { Rbar = 0 }   # constants of the functional: mabuchi Rbar, j c

    [kernel]
    type = "local"                # "local" (2.14) or "gaussian" (2.30, tori)
    # sigma = 0.1                 # gaussian: width in chart coordinates, (0, 10]

    [grid]
    manifold = "torus"            # "torus" or "sphere" (metric functionals in dimension 2)
    size = 16                     # points per axis: even, 4 to 1024 (sphere: n_theta, 2*size in phi)

    [time]
    integrator = "rk4"            # "rk4" (fixed step) or "tsit5" / "dopri5" (adaptive, dt the first step)
    dt = 0.002                    # (0, 1]
    steps = 100                   # 1 to 10^7
    # save_every = 5              # a divisor of steps (default: about steps/20)

Meaning.  A metric functional (``ricci``) flows the metric ``metric`` in ``coordinates`` on the
torus :math:`(\\mathbb{R}/2\\pi\\mathbb{Z})^d` or, with two coordinates :math:`(\\theta, \\varphi)`, on
the sphere; its entries must be periodic (torus) or smooth on S² (checked exactly at sample points).
A Kähler functional flows :math:`\\varphi` on :math:`\\mathbb{C}^n/(\\mathbb{Z}^n + i\\mathbb{Z}^n)`, with
:math:`g_{a\\bar b} = \\partial_a\\partial_{\\bar b}(\\sum|z|^2 + \\varphi)` (the reference potential and flat
Calabi–Yau density of :func:`flowtheory.functionals.kahler_setting`): ``coordinates`` are the real
coordinates ``x1, y1, x2, y2`` of :math:`z_a = x_a + iy_a` (two per complex dimension), each of period 1,
and ``potential`` is :math:`\\varphi` in them.  ``perelman`` is refused: its dilaton solves a backward
heat equation (run ``ricci``, Perelman's flow up to a diffeomorphism).  The dimension is bounded as in
``derive functional`` (:data:`flowtheory.cli.derive_functional.DIM_LIMITS`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowtheory.cli.output import CliError
from flowtheory.errors import FlowtheoryError, InvalidFileError

SUFFIXES = (".toml", ".json")
KERNELS = ("local", "gaussian")
INTEGRATORS = ("rk4", "tsit5", "dopri5")
KEYS = {
    "": ("functional", "coordinates", "metric", "potential", "parameters", "kernel", "grid", "time"),
    "kernel": ("type", "sigma"),
    "grid": ("manifold", "size"),
    "time": ("integrator", "dt", "steps", "save_every"),
}
"""The keys of a flow file, per table (``""``: the top level)."""


def is_flow_file(spec: str) -> bool:
    """Whether ``flow run SPEC`` names a flow file (by its suffix) rather than a preset."""
    return Path(spec).suffix.lower() in SUFFIXES


def _read(path: Path) -> dict:
    if not path.is_file():
        raise CliError(f"flow file {path} does not exist")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            with path.open("rb") as fh:
                data = tomllib.load(fh)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise InvalidFileError(path, f"not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidFileError(path, "expected a table (an object) at the top level")
    return data


class _Reader:
    """Typed access to the tables of one file, every failure an InvalidFileError naming the field."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.tables = {"": data}
        self._known("", data)
        for table in ("kernel", "grid", "time"):
            value = data.get(table, {})
            if not isinstance(value, dict):
                raise InvalidFileError(path, f"expected a table, got {type(value).__name__}", field=table)
            self._known(table, value)
            self.tables[table] = value

    def _known(self, table: str, values: dict) -> None:
        unknown = sorted(set(values) - set(KEYS[table]))
        if unknown:
            where = f"{table}.{unknown[0]}" if table else unknown[0]
            raise InvalidFileError(self.path, f"unknown key; {'[' + table + '] takes' if table else 'the top level takes'} {', '.join(KEYS[table])}", field=where)

    def error(self, field: str, message: str) -> InvalidFileError:
        return InvalidFileError(self.path, message, field=field)

    def get(self, table: str, key: str, default: Any = ...) -> Any:
        values = self.tables[table]
        field = f"{table}.{key}" if table else key
        if key not in values:
            if default is ...:
                raise self.error(field, "missing")
            return default
        return values[key]

    def string(self, table: str, key: str, choices: tuple[str, ...] | None = None, default: Any = ...) -> str:
        field = f"{table}.{key}" if table else key
        value = self.get(table, key, default)
        if not isinstance(value, str):
            raise self.error(field, f"expected a string, got {value!r:.60}")
        if choices is not None and value not in choices:
            raise self.error(field, f"expected one of {', '.join(choices)}, got {value!r:.60}")
        return value

    def integer(self, table: str, key: str, low: int, high: int, default: Any = ...) -> int | None:
        field = f"{table}.{key}" if table else key
        value = self.get(table, key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(field, f"expected an integer in [{low}, {high}], got {value!r:.60}")
        return value

    def number(self, table: str, key: str, low: float, high: float, *, low_open: bool = False, default: Any = ...) -> float | None:
        field = f"{table}.{key}" if table else key
        value = self.get(table, key, default)
        if value is None and default is None:
            return None
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if ok:
            ok = (value > low if low_open else value >= low) and value <= high
        if not ok:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            raise self.error(field, f"expected a number in {interval}, got {value!r:.60}")
        return float(value)


@dataclass(frozen=True)
class FlowFile:
    """A validated flow file (module docstring).  ``metric`` holds the entries as text, row by row;
    ``potential`` the text of φ; ``parameters`` the constants' values as text."""

    path: Path
    functional: str
    coordinates: tuple[str, ...]
    metric: tuple[tuple[str, ...], ...] | None
    potential: str | None
    parameters: tuple[tuple[str, str], ...]
    kernel: str
    sigma: float
    manifold: str
    size: int
    integrator: str
    dt: float
    steps: int
    save_every: int | None

    def definition(self) -> dict:
        """The flow as plain data (recorded with a run; ``--resume`` requires the same)."""
        return {
            "functional": self.functional,
            "coordinates": list(self.coordinates),
            "metric": None if self.metric is None else [list(row) for row in self.metric],
            "potential": self.potential,
            "parameters": dict(self.parameters),
            "kernel": self.kernel,
            "manifold": self.manifold,
            "integrator": self.integrator,
        }

    def prepare(self, *, size: int, sigma: float, dt: float):
        """The :class:`numerics.grid.presets.PreparedFlow` of this file on ``size`` points per axis, with the
        Gaussian kernel of width ``sigma`` (``0``: the local flow) and time step ``dt``.

        Raises:
            InvalidFileError: an expression that does not parse or breaks a bound, a metric that is not
                symmetric, initial data that :func:`numerics.grid.presets.prepare_spec` refuses (naming the file).
        """
        import sympy as sp

        from flowtheory.spec import FlowSpec, GaussianKernel
        from numerics.grid.presets import prepare_spec

        user = tuple(sp.Symbol(n, real=True) for n in self.coordinates)
        names = {s.name: s for s in user}
        f = _functional(self)
        kernel = GaussianKernel(sp.nsimplify(sigma)) if sigma else "local"
        spec = FlowSpec(f, kernel)
        if f.parameters:
            values = {}
            for key, text in self.parameters:
                values[key] = self._expression(text, {}, f"parameters.{key}")
            spec = spec.with_parameters(values)
        if f.variable == "metric":
            n = len(user)
            g = sp.Matrix(n, n, lambda i, j: self._expression(self.metric[i][j], names, f"metric[{i}][{j}]"))
            for i in range(n):
                for j in range(i + 1, n):
                    if sp.simplify(g[i, j] - g[j, i]) != 0:
                        raise InvalidFileError(self.path, f"not symmetric: metric[{i}][{j}] = {self.metric[i][j]!r} but metric[{j}][{i}] = {self.metric[j][i]!r}", field="metric")
            to_f = dict(zip(user, f.coords))
            initial = {f"g_{i}{j}": g[i, j].xreplace(to_f) for i in range(n) for j in range(i, n)}
        else:
            m = len(user) // 2
            z, zbar = f.coords[:m], f.coords[m:]
            real = {}
            for a in range(m):
                real[user[2 * a]] = (z[a] + zbar[a]) / 2
                real[user[2 * a + 1]] = (z[a] - zbar[a]) / (2 * sp.I)
            initial = {"phi": self._expression(self.potential, names, "potential").xreplace(real)}
        try:
            return prepare_spec(spec, self.manifold, size, initial, name=self.path.stem, sigma=sigma, dt=dt,
                                coordinate_names=self.coordinates)
        except FlowtheoryError as exc:
            raise InvalidFileError(self.path, str(exc)) from None

    def _expression(self, text: str, symbols: dict, field: str):
        from flowtheory.cli.expressions import parse_expression

        try:
            value = parse_expression(text, symbols, field)
        except (CliError, FlowtheoryError) as exc:
            message = str(exc)
            raise InvalidFileError(self.path, message[len(field) + 2:] if message.startswith(f"{field}: ") else message, field=field) from None
        import sympy as sp

        if not isinstance(value, sp.Expr):
            raise InvalidFileError(self.path, f"expected one expression, got {text!r:.60}", field=field)
        return value


def _functional(flow: FlowFile):
    from flowtheory import functionals
    from flowtheory.cli.derive_functional import RIEMANNIAN

    dim = len(flow.coordinates) if flow.functional in RIEMANNIAN else len(flow.coordinates) // 2
    return functionals.preset(flow.functional, dim)


def _text(value, reader: _Reader, field: str) -> str:
    """An expression given as a string or a number (TOML/JSON), as text."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise reader.error(field, f"expected an expression (a string) or a number, got {value!r:.60}")
    if isinstance(value, float) and not math.isfinite(value):
        raise reader.error(field, f"expected a finite number, got {value!r}")
    return value if isinstance(value, str) else repr(value)


def load(path: Path) -> FlowFile:
    """Read and validate the flow file ``path`` (module docstring); expressions are parsed by
    :meth:`FlowFile.prepare`, bounded as on the command line (:mod:`flowtheory.cli.expressions`).

    Raises:
        InvalidFileError: unreadable, not TOML/JSON, an unknown or missing key, a value of the wrong
            type or outside its bound (naming the field).
        CliError: no file at ``path``.
    """
    from flowtheory.cli.derive_functional import DIM_LIMITS, RIEMANNIAN
    from flowtheory.cli.expressions import FUNCTIONS
    from flowtheory.cli.flow import GRID_MAX, SIGMA_MAX, STEPS_MAX
    from flowtheory.spec import PRESET_NAMES
    from numerics.grid.presets import MANIFOLDS

    r = _Reader(path, _read(path))
    name = r.string("", "functional", tuple(PRESET_NAMES))
    if name == "perelman":
        raise r.error("functional", "perelman's dilaton solves a backward heat equation (ill-posed forward in time); run ricci, Perelman's flow up to a diffeomorphism")
    coordinates = r.get("", "coordinates")
    if not isinstance(coordinates, list) or not coordinates or not all(isinstance(c, str) for c in coordinates):
        raise r.error("coordinates", f"expected a list of names, got {coordinates!r:.60}")
    for c in coordinates:
        if not c.isidentifier() or c.startswith("_") or c in FUNCTIONS:
            raise r.error("coordinates", f"{c!r} is not a valid coordinate name (an identifier, not a function or constant name)")
    if len(set(coordinates)) != len(coordinates):
        raise r.error("coordinates", f"repeated name in {coordinates}")
    riemannian = name in RIEMANNIAN
    dim = len(coordinates) if riemannian else len(coordinates) // 2
    if not riemannian and len(coordinates) % 2:
        raise r.error("coordinates", f"{name} flows a Kähler potential: give the real coordinates x, y of each z = x + iy, got {len(coordinates)} names")
    if not 1 <= dim <= DIM_LIMITS[name]:
        unit = "real" if riemannian else "complex"
        raise r.error("coordinates", f"{name} runs in {unit} dimension 1 to {DIM_LIMITS[name]}, got {dim}")
    metric = potential = None
    if riemannian:
        if "potential" in r.tables[""]:
            raise r.error("potential", f"{name} flows a metric: give metric, not potential")
        metric = _metric(r, r.get("", "metric"), dim)
    else:
        if "metric" in r.tables[""]:
            raise r.error("metric", f"{name} flows a Kähler potential: give potential (phi), not metric")
        potential = _text(r.get("", "potential"), r, "potential")
    parameters = r.get("", "parameters", {})
    if not isinstance(parameters, dict):
        raise r.error("parameters", f"expected a table of constants, got {parameters!r:.60}")
    wanted = {"mabuchi": ("Rbar",), "j": ("c",)}.get(name, ())
    for key in parameters:
        if key not in wanted:
            raise r.error(f"parameters.{key}", f"unknown constant; {name} has {', '.join(wanted) or 'none'}")
    for key in wanted:
        if key not in parameters:
            raise r.error(f"parameters.{key}", "missing: the constant needs a value")
    kernel = r.string("kernel", "type", KERNELS, default="local")
    sigma = r.number("kernel", "sigma", 0, SIGMA_MAX, low_open=True, default=None)
    if (kernel == "gaussian") != (sigma is not None):
        raise r.error("kernel.sigma", "required with type = \"gaussian\", and only then")
    manifold = r.string("grid", "manifold", MANIFOLDS, default="torus")
    size = r.integer("grid", "size", 4, GRID_MAX)
    if size % 2:
        raise r.error("grid.size", f"expected an even integer, got {size}")
    steps = r.integer("time", "steps", 1, STEPS_MAX)
    save_every = r.integer("time", "save_every", 1, STEPS_MAX, default=None)
    return FlowFile(
        path=path,
        functional=name,
        coordinates=tuple(coordinates),
        metric=metric,
        potential=potential,
        parameters=tuple((k, _text(v, r, f"parameters.{k}")) for k, v in sorted(parameters.items())),
        kernel=kernel,
        sigma=sigma or 0.0,
        manifold=manifold,
        size=size,
        integrator=r.string("time", "integrator", INTEGRATORS, default="rk4"),
        dt=r.number("time", "dt", 0, 1, low_open=True),
        steps=steps,
        save_every=save_every,
    )


def _metric(r: _Reader, value, dim: int) -> tuple[tuple[str, ...], ...]:
    """The ``metric`` entries as text: nested lists of expressions, or one string ``"[[...], [...]]"``."""
    if isinstance(value, str):
        import sympy as sp

        from flowtheory.cli.expressions import parse_expression, square_matrix

        coords = {c: sp.Symbol(c, real=True) for c in r.tables[""]["coordinates"]}
        try:
            matrix = square_matrix(parse_expression(value, coords, "metric"), value, "metric")
        except (CliError, FlowtheoryError) as exc:
            raise r.error("metric", str(exc).removeprefix("metric: ")) from None
        value = [[sp.sstr(matrix[i, j]) for j in range(matrix.cols)] for i in range(matrix.rows)]
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise r.error("metric", f"expected nested lists of expressions, got {value!r:.60}")
    if len(value) != dim or any(len(row) != dim for row in value):
        raise r.error("metric", f"expected {dim} rows of {dim} entries (one per coordinate), got rows of lengths {[len(row) for row in value]}")
    return tuple(tuple(_text(e, r, f"metric[{i}][{j}]") for j, e in enumerate(row)) for i, row in enumerate(value))


def stepper(integrator: str):
    """The time stepper of ``[time].integrator`` with the signature of :func:`numerics.grid.integrators.rk4`.

    ``"rk4"`` is :func:`~numerics.grid.integrators.rk4` itself.  ``"tsit5"`` and ``"dopri5"`` run
    :func:`~numerics.grid.integrators.solve_adaptive` once from ``t0`` to ``t0 + n_steps * dt`` (``dt``
    its first step; the step count is nominal, the end time is what it fixes), saving at every
    ``save_every * dt``, and then hand each saved state to ``on_save`` in order (checkpoints of an
    adaptive run are written when it ends).
    """
    import numpy as np

    from numerics.grid.integrators import rk4, solve_adaptive

    if integrator == "rk4":
        return rk4

    def adaptive(rhs, y0, *, dt, n_steps, save_every=1, t0=0.0, first_step=0, diagnostics=None, min_eigenvalue=None, on_save=None):
        n_saved = n_steps // save_every
        ts = t0 + dt * save_every * np.arange(n_saved + 1)
        trajectory = solve_adaptive(rhs, y0, ts=ts, solver=integrator, dt0=dt, diagnostics=diagnostics, min_eigenvalue=min_eigenvalue)
        if on_save is not None:
            for k in range(1, n_saved + 1):
                state = {key: value[k] for key, value in trajectory.ys.items()}
                on_save(first_step + k * save_every, float(ts[k]), state, {key: float(v[k]) for key, v in trajectory.diagnostics.items()})
        return trajectory

    return adaptive
