"""Flows on grids: periodic tori, a pole-free S² and complex tori; compiled fields and energies;
RK4 and diffrax time stepping; the Gaussian non-local smearing (2.30); the ``flow run`` presets."""

from .grids import PeriodicGrid as PeriodicGrid
from .grids import SphereGrid as SphereGrid
from .grids import ComplexTorus as ComplexTorus

from .fields import CompiledField as CompiledField
from .fields import Jet as Jet
from .fields import compile_field_expression as compile_field_expression
from .fields import compile_jet_expression as compile_jet_expression

from .energies import DiscreteFunctional as DiscreteFunctional

from .flows import GridFlow as GridFlow

from .integrators import rk4 as rk4
from .integrators import rk4_step as rk4_step
from .integrators import solve_adaptive as solve_adaptive
from .integrators import Trajectory as Trajectory
from .integrators import RK4_ORDER as RK4_ORDER

from .smearing import gaussian_spectrum as gaussian_spectrum
from .smearing import periodised_gaussian as periodised_gaussian
from .smearing import gaussian_smear as gaussian_smear

from .random_fields import trigonometric_field as trigonometric_field
from .random_fields import random_torus_metric as random_torus_metric
from .random_fields import sphere_polynomial as sphere_polynomial
from .random_fields import perturbed_round_metric as perturbed_round_metric
from .random_fields import SPHERE_PARITIES as SPHERE_PARITIES

from .presets import PRESETS as PRESETS
from .presets import PreparedFlow as PreparedFlow
from .presets import prepare as prepare
