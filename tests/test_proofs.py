"""Every proof in proofs/ runs and does not fail (its numeric checks pass within tolerance), without
neural-tangents; the proofs' own closed-form references agree with neural-tangents."""

import numpy as np
import pytest

from flowtheory_proofs import all_proofs
from flowtheory_proofs.kernels import RELU_CASES, arccos_kernels

PROOFS = all_proofs()
REFERENCE_ONLY = ("neural_tangents", "tf2jax", "tensorflow")


@pytest.mark.parametrize("proof", PROOFS, ids=[p.id for p in PROOFS])
def test_proof_does_not_fail(proof, monkeypatch):
    for name in REFERENCE_ONLY:  # `flowtheory verify` must not need the reference extra: importing these fails here
        monkeypatch.setitem(__import__("sys").modules, name, None)
    result = proof.run()
    failed = [c for c in result.checks if not c.passed] + [k for k, v in result.symbolic_checks.items() if not v]
    assert result.verdict != "fails", f"{proof.id}: failed checks {failed}; correction={result.correction!r}"


@pytest.mark.parametrize("sigma_w, sigma_b, d", RELU_CASES)
def test_arccos_reference_of_the_relu_proof_equals_neural_tangents(sigma_w, sigma_b, d):
    """kernel-relu checks the derived kernels against :func:`arccos_kernels`; that reference is
    neural-tangents' ``kernel_fn`` (at x' = x too: both set the angle to 0 there)."""
    from neural_tangents import stax

    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=sigma_w, b_std=sigma_b), stax.Relu(), stax.Dense(1, W_std=sigma_w, b_std=sigma_b))
    rng = np.random.default_rng(d)
    X = rng.standard_normal((6, d))
    Y = np.concatenate([rng.standard_normal((5, d)), X[:2]])
    reference = kernel_fn(X, Y, ("nngp", "ntk"))
    for ours, theirs in zip(arccos_kernels(X, Y, sigma_w, sigma_b), (reference.nngp, reference.ntk)):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12, atol=1e-12 * np.max(np.abs(ours)))
