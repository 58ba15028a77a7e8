"""Test configuration: float64 JAX, fixed seeds, and the hypothesis profile.

Monte-Carlo assertions take the form |estimate - exact| <= z * SE with z chosen for a stated
failure probability; every seed is fixed here or in the test (never the clock).
"""

import os

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

settings.register_profile(
    "flowtheory",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "flowtheory"))


@pytest.fixture
def key():
    """A fixed JAX key; tests that need several split it."""
    return jax.random.PRNGKey(20240628)
