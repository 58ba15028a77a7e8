"""numerics — the numeric layer (JAX) of flowtheory.

Finite-width networks and empirical metric-NTKs, Monte-Carlo estimators, discretised flows and
Calabi–Yau geometry.  May import :mod:`flowtheory`; never the other way.

Importing this package switches JAX to 64-bit (``jax_enable_x64``): verification code is float64
throughout, and Calabi–Yau points must solve their equation to ~1e-12.  Code that wants float32 asks
for it explicitly with ``dtype=``.
"""

import jax

jax.config.update("jax_enable_x64", True)
