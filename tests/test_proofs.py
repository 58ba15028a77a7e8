"""Every proof in proofs/ runs and does not fail (its numeric checks pass within tolerance)."""

import pytest

from flowtheory_proofs import all_proofs

PROOFS = all_proofs()


@pytest.mark.parametrize("proof", PROOFS, ids=[p.id for p in PROOFS])
def test_proof_does_not_fail(proof):
    result = proof.run()
    failed = [c for c in result.checks if not c.passed] + [k for k, v in result.symbolic_checks.items() if not v]
    assert result.verdict != "fails", f"{proof.id}: failed checks {failed}; correction={result.correction!r}"
