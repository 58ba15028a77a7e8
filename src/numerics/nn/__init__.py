"""Finite-width networks, their empirical and matrix-free metric-NTKs (2.7), Monte-Carlo width
studies of the frozen limit (2.9) and the σ → 0 limit of the Gaussian family (2.29)."""

from .networks import Network as Network
from .networks import Cosine as Cosine
from .networks import CosineLiteral as CosineLiteral
from .networks import GaussNet as GaussNet
from .networks import MLP as MLP
from .networks import relu as relu
from .networks import ComponentNetworks as ComponentNetworks
from .networks import MetricMLP as MetricMLP
from .networks import from_spec as from_spec
from .networks import apply_batch as apply_batch

from .ntk import empirical_ntk as empirical_ntk
from .ntk import dense_ntk as dense_ntk
from .ntk import ntk_vector_product as ntk_vector_product
from .ntk import contract as contract
from .ntk import flow_velocity as flow_velocity
from .ntk import flow_step as flow_step
from .ntk import parameter_gradient_step as parameter_gradient_step

from .width_study import WidthStudy as WidthStudy
from .width_study import ntk_width_study as ntk_width_study

from .limits import SurfaceChart as SurfaceChart
from .limits import donut_torus as donut_torus
from .limits import round_sphere_stereographic as round_sphere_stereographic
from .limits import quadrature_smear as quadrature_smear
from .limits import SigmaLimitStudy as SigmaLimitStudy
from .limits import sigma_limit_study as sigma_limit_study
