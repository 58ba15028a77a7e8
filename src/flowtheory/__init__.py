"""flowtheory — the symbolic layer (pure sympy) of metric flows with neural networks.

Halverson & Ruehle, *Metric flows with neural networks*, Mach. Learn.: Sci. Technol. 5 (2024) 045020.
Equation numbers in docstrings are that paper's.

``import flowtheory`` never imports JAX or :mod:`numerics`; compiled callables come from
:func:`flowtheory.bridge.to_jax`, which imports JAX lazily.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("flowtheory")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
