"""Executable, checked derivations: the data model of ``proofs/`` and of ``flowtheory verify``.

A proof derives a result symbolically, compares it with the paper's printed form (kept in
:mod:`flowtheory.printed`) and, where it can, checks it numerically.  Its verdict is one of

* ``"agrees"`` — the derivation equals the printed form and every check passes;
* ``"agrees after correction"`` — every check passes, the printed form is wrong, and the proof
  states the exact correction;
* ``"fails"`` — a check fails (or the print disagrees and no correction is stated).

A proof module in ``proofs/`` defines functions decorated with :func:`proof`; each returns an
:class:`Outcome`.  The decorator turns the function into a :class:`Proof`, which
``flowtheory verify`` and the tests discover and run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Literal

import sympy as sp

Verdict = Literal["agrees", "agrees after correction", "fails"]


@dataclass(frozen=True)
class Check:
    """One numeric check: ``error`` (a stated error measure) must not exceed ``tolerance``."""

    name: str
    error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)  # NaN fails


@dataclass(frozen=True)
class Outcome:
    """What a proof function returns.

    Attributes:
        derived: the derived result (sympy object or text).
        printed: the paper's printed form, from :mod:`flowtheory.printed` (or ``None`` if the paper
            prints none, e.g. for results we add).
        matches_print: whether ``derived`` equals ``printed`` (decided by the proof, symbolically).
        correction: the exact correction when ``matches_print`` is false.
        checks: numeric checks (Monte-Carlo, finite differences, independent routes).
        symbolic_checks: named symbolic identities the proof established (name -> holds).
    """

    derived: object
    printed: object | None
    matches_print: bool
    correction: str | None = None
    checks: tuple[Check, ...] = ()
    symbolic_checks: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class ProofResult:
    id: str
    title: str
    equations: tuple[str, ...]
    verdict: Verdict
    max_error: float
    checks: tuple[Check, ...]
    symbolic_checks: dict[str, bool]
    derived: str
    printed: str | None
    correction: str | None
    seconds: float

    @property
    def worst_ratio(self) -> float:
        """Largest error/tolerance over the checks (checks mix units: z-scores, absolute errors, ...)."""
        ratios = [c.error / c.tolerance if c.tolerance > 0 else (0.0 if c.error == 0 else math.inf) for c in self.checks]
        return max(ratios, default=0.0)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "equations": list(self.equations),
            "verdict": self.verdict,
            "max_error": self.max_error,
            "worst_error_to_tolerance": self.worst_ratio,
            "checks": [
                {"name": c.name, "error": c.error, "tolerance": c.tolerance, "passed": c.passed} for c in self.checks
            ],
            "symbolic_checks": self.symbolic_checks,
            "derived": self.derived,
            "printed": self.printed,
            "correction": self.correction,
            "seconds": self.seconds,
        }


def decide(outcome: Outcome) -> Verdict:
    """The verdict rule stated in the module docstring."""
    ok = all(c.passed for c in outcome.checks) and all(outcome.symbolic_checks.values())
    if not ok:
        return "fails"
    if outcome.printed is None or outcome.matches_print:
        return "agrees"
    return "agrees after correction" if outcome.correction else "fails"


def _text(obj: object | None) -> str | None:
    if obj is None:
        return None
    return sp.latex(obj) if isinstance(obj, sp.Basic) else str(obj)


@dataclass(frozen=True)
class Proof:
    """A registered proof: identity, the paper's equation numbers, and the function that runs it."""

    id: str
    title: str
    equations: tuple[str, ...]
    body: Callable[[], Outcome]

    def run(self) -> ProofResult:
        """Run the proof. An exception inside it is reported as a failing check, not raised."""
        start = time.perf_counter()
        try:
            outcome = self.body()
        except Exception as exc:  # a crashing proof is a failed proof; the message names the error
            outcome = Outcome(
                derived="",
                printed=None,
                matches_print=False,
                checks=(Check(name=f"raised {type(exc).__name__}: {exc}", error=math.inf, tolerance=0.0),),
            )
        errors = [c.error for c in outcome.checks]
        return ProofResult(
            id=self.id,
            title=self.title,
            equations=self.equations,
            verdict=decide(outcome),
            max_error=max(errors) if errors else 0.0,
            checks=tuple(outcome.checks),
            symbolic_checks=dict(outcome.symbolic_checks),
            derived=_text(outcome.derived) or "",
            printed=_text(outcome.printed),
            correction=outcome.correction,
            seconds=time.perf_counter() - start,
        )


def proof(*, id: str, title: str, equations: tuple[str, ...]) -> Callable[[Callable[[], Outcome]], Proof]:
    """Decorator: register a proof function (see the module docstring)."""

    def wrap(body: Callable[[], Outcome]) -> Proof:
        return Proof(id=id, title=title, equations=tuple(equations), body=body)

    return wrap
