"""flowtheory — the symbolic layer (pure sympy) of metric flows with neural networks.

Halverson & Ruehle, *Metric flows with neural networks*, Mach. Learn.: Sci. Technol. 5 (2024) 045020.
Equation numbers in docstrings are that paper's.

``import flowtheory`` never imports JAX or :mod:`numerics`; compiled callables come from
:func:`flowtheory.bridge.to_jax`, which imports JAX lazily.

The public API, re-exported here (each module is also a namespace: ``flowtheory.riemann``, ...):

* geometry — :mod:`~flowtheory.riemann` (curvature of a metric), :mod:`~flowtheory.kahler`
  (Wirtinger calculus, metrics from potentials, the Ricci form (B.3));
* functionals and flows — :mod:`~flowtheory.variation` (first variations on jets),
  :mod:`~flowtheory.functionals` (:class:`Functional`, the presets of section 2.4 and appendix B),
  :mod:`~flowtheory.spec` (:class:`FlowSpec`, a flow as data);
* networks — :mod:`~flowtheory.networks` (:func:`get_network`: laws and frozen NTKs),
  :mod:`~flowtheory.ntk` (metric-NTK flows (2.1)–(2.31));
* tools — :mod:`~flowtheory.exact` (random rational points, 30-digit values and deviations: the
  second route of every identity), :mod:`~flowtheory.bridge` (sympy → JAX),
  :mod:`~flowtheory.caching` (the cache by value), :mod:`~flowtheory.proof` (the proof data model),
  :mod:`~flowtheory.errors` (named errors), :mod:`~flowtheory.printed` (the paper's printed forms).

Values are immutable and hashable (frozen dataclasses over immutable sympy objects); quantities
derived from them are pure functions cached by value (:mod:`~flowtheory.caching`).

>>> import flowtheory
>>> spec = flowtheory.get_network("cosine", dim=1, sigma_w=2)
>>> spec.width_sigma
1/2
>>> flowtheory.FlowSpec.preset("ricci", 2).fields
('g_00', 'g_01', 'g_11')
>>> import dataclasses
>>> volume = flowtheory.functionals.volume(2)
>>> volume.flow()["g_00"], dataclasses.replace(volume, loss_scale=5).flow()["g_00"]
(-g_00/2, -5*g_00/2)
>>> volume == flowtheory.functionals.volume(2) and len({volume, flowtheory.functionals.volume(2)}) == 1
True
"""

from importlib.metadata import PackageNotFoundError, version as _version

from . import bridge as bridge
from . import caching as caching
from . import errors as errors
from . import exact as exact
from . import functionals as functionals
from . import kahler as kahler
from . import networks as networks
from . import ntk as ntk
from . import printed as printed
from . import proof as proof
from . import riemann as riemann
from . import sigma_loss as sigma_loss
from . import spec as spec
from . import variation as variation
from .errors import FlowtheoryError as FlowtheoryError
from .exact import max_deviation as max_deviation
from .exact import random_rational_points as random_rational_points
from .functionals import Functional as Functional
from .networks import NetworkSpec as NetworkSpec
from .networks import get_network as get_network
from .ntk import MetricNetwork as MetricNetwork
from .spec import FlowSpec as FlowSpec
from .spec import GaussianKernel as GaussianKernel
from .variation import JetSpace as JetSpace

try:
    __version__ = _version("flowtheory")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
