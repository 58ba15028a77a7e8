"""numerics — the numeric layer (JAX) of flowtheory.

Finite-width networks and empirical metric-NTKs, Monte-Carlo estimators, discretised flows and
Calabi–Yau geometry.  May import :mod:`flowtheory`; never the other way.

Rooms: :mod:`numerics.nn` (finite networks, empirical NTKs, width studies, the σ → 0 limit),
:mod:`numerics.grid` (grids, compiled fields and energies, grid flows, time stepping, presets),
:mod:`numerics.cy` (Calabi–Yau hypersurfaces: sampling, charts, measures, distances, clustering),
:mod:`numerics.io` (run records, atomic writes, progress) and :mod:`numerics.stats` (Monte-Carlo
estimators, slope fits, z-tests).  Each room re-exports its public names, and the most used ones are
re-exported here: ``numerics.from_spec``, ``numerics.rk4``, ``numerics.fs_distance``, ...

Float64: this ``__init__`` is the one place that switches JAX to 64-bit (``jax_enable_x64``), before
any numeric module loads, and importing any ``numerics.*`` module runs it, so no caller needs a
side-effect ``import numerics``.  Verification code is float64 throughout, and Calabi–Yau points must
solve their equation to ~1e-12.  Code that wants float32 asks for it explicitly with ``dtype=``.
The switch is process-wide (a JAX flag): arrays created before the first ``numerics`` import keep
their dtype.
"""

import jax

jax.config.update("jax_enable_x64", True)

from . import cy as cy  # noqa: E402  (after the switch: every numeric module is float64)
from . import grid as grid  # noqa: E402
from . import io as io  # noqa: E402
from . import nn as nn  # noqa: E402
from . import stats as stats  # noqa: E402
from .cy.distance import fs_distance as fs_distance  # noqa: E402
from .cy.hypersurface import fermat_quintic as fermat_quintic  # noqa: E402
from .cy.hypersurface import quintic_family as quintic_family  # noqa: E402
from .cy.measure import fs_sigma as fs_sigma  # noqa: E402
from .cy.measure import point_data as point_data  # noqa: E402
from .cy.sampling import sample_points as sample_points  # noqa: E402
from .grid.flows import GridFlow as GridFlow  # noqa: E402
from .grid.grids import ComplexTorus as ComplexTorus  # noqa: E402
from .grid.grids import PeriodicGrid as PeriodicGrid  # noqa: E402
from .grid.grids import SphereGrid as SphereGrid  # noqa: E402
from .grid.integrators import Trajectory as Trajectory  # noqa: E402
from .grid.integrators import rk4 as rk4  # noqa: E402
from .grid.integrators import solve_adaptive as solve_adaptive  # noqa: E402
from .grid.presets import prepare as prepare  # noqa: E402
from .nn.networks import ComponentNetworks as ComponentNetworks  # noqa: E402
from .nn.networks import MLP as MLP  # noqa: E402
from .nn.networks import MetricMLP as MetricMLP  # noqa: E402
from .nn.networks import from_spec as from_spec  # noqa: E402
from .nn.ntk import empirical_ntk as empirical_ntk  # noqa: E402
from .nn.width_study import ntk_width_study as ntk_width_study  # noqa: E402
from .stats import fit_loglog_slope as fit_loglog_slope  # noqa: E402
from .stats import mean_estimate as mean_estimate  # noqa: E402
from .stats import z_value as z_value  # noqa: E402
