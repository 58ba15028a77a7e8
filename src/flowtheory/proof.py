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

A proof may rely on what other proofs establish (the proof of the Gaussian flow (2.30) uses the
Gaussian family (2.27)): it names them in ``depends_on``.  :func:`dependency_graph` turns a set of
proofs into a directed acyclic graph (an edge ``a → b`` when ``b`` depends on ``a``), and
:func:`run_proofs` runs them in that order: a proof whose dependency fails, or is itself blocked,
is not run and gets the fourth status ``"blocked"``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Literal

import sympy as sp

from flowtheory.errors import InvalidParameterError, ProofGraphError
from flowtheory.reprs import html_table

if TYPE_CHECKING:
    import networkx

Verdict = Literal["agrees", "agrees after correction", "fails"]
#: What ``flowtheory verify`` reports for a proof: its verdict, or ``"blocked"`` (not run).
Status = Literal[Verdict, Literal["blocked"]]


ErrorKind = Literal["z-score", "relative", "absolute"]
#: What a check's error measures: a deviation in standard errors of a Monte-Carlo estimate, a
#: deviation divided by the size of the quantity (or a ratio's distance from 1), or a deviation,
#: shortfall or count in the quantity's own units.
ERROR_KINDS: tuple[ErrorKind, ...] = ("z-score", "relative", "absolute")
_Z_SCORE = re.compile(r"/\s*SE\b|\bin SE\b|z-score")
_RELATIVE = re.compile(r"\brelative\b|\brel\.|[-−]\s*1\s*\||\bratio\b|/\s*max\s*\||/\s*√")


def error_kind_of(name: str) -> ErrorKind:
    """The kind of error a check's ``name`` describes, when the check does not state it.

    ``/SE`` or ``in SE`` is a z-score; ``relative``, ``rel.``, ``ratio``, ``|x/y − 1|`` or a deviation
    divided by ``max|…|`` or by ``√…`` is relative; anything else is absolute (a check whose
    *tolerance* is some standard errors, ``tol 4 SE``, still measures an absolute error).

    >>> error_kind_of("max |MC mean − derived|/SE over 36 pairs (4000 draws)")
    'z-score'
    >>> error_kind_of("|a_fit / .968 - 1| (fit a = 0.971)")
    'relative'
    >>> error_kind_of("T² 16²: relative gap jvp vs ∫V·h")
    'relative'
    >>> error_kind_of("quintic: |int |Ω|^2 (lines + weights) - polydisc| (tol 4 SE)")
    'absolute'
    """
    if _Z_SCORE.search(name):
        return "z-score"
    return "relative" if _RELATIVE.search(name) else "absolute"


@dataclass(frozen=True)
class Check:
    """One numeric check: ``error`` (a stated error measure) must not exceed ``tolerance``.

    ``error_kind`` (one of :data:`ERROR_KINDS`) says what ``error`` measures; left out, it is read
    off ``name`` (:func:`error_kind_of`).
    """

    name: str
    error: float
    tolerance: float
    error_kind: ErrorKind | None = None

    def __post_init__(self) -> None:
        kind = error_kind_of(self.name) if self.error_kind is None else self.error_kind
        if kind not in ERROR_KINDS:
            raise InvalidParameterError(f"error_kind must be one of {ERROR_KINDS}, got {kind!r}")
        object.__setattr__(self, "error_kind", kind)

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
    verdict: Status
    max_error: float
    checks: tuple[Check, ...]
    symbolic_checks: dict[str, bool]
    derived: str
    printed: str | None
    correction: str | None
    seconds: float
    depends_on: tuple[str, ...] = ()
    #: the dependencies that failed or were blocked, when ``verdict == "blocked"``
    blocked_by: tuple[str, ...] = ()

    @property
    def worst_ratio(self) -> float:
        """Largest error/tolerance over the checks (checks mix kinds: z-scores, absolute errors, ...)."""
        return max(map(_ratio, self.checks), default=0.0)

    @property
    def worst_check(self) -> Check | None:
        """The check with the largest error/tolerance (the first of equals), ``None`` without checks."""
        return max(self.checks, key=_ratio, default=None)

    def to_json(self) -> dict:
        """The result as JSON values.  ``max_error``, ``worst_error_to_tolerance`` and a check's
        ``error`` are ``null`` exactly where no number was measured — a blocked proof (not run) or a
        check that raised (its name says what) — and the verdict then says why; a measured error is
        always a finite number.  Each check states its ``error_kind``; ``max_error`` is the largest
        error over checks of possibly different kinds, ``worst_check`` the check nearest its
        tolerance (largest error/tolerance; ``null`` without checks)."""
        measured = lambda x: x if math.isfinite(x) else None  # noqa: E731
        check_json = lambda c: {  # noqa: E731
            "name": c.name, "error": measured(c.error), "error_kind": c.error_kind, "tolerance": c.tolerance, "passed": c.passed,
        }
        worst = self.worst_check
        return {
            "id": self.id,
            "title": self.title,
            "equations": list(self.equations),
            "verdict": self.verdict,
            "max_error": measured(self.max_error),
            "worst_error_to_tolerance": measured(self.worst_ratio),
            "worst_check": None if worst is None else check_json(worst),
            "checks": [check_json(c) for c in self.checks],
            "symbolic_checks": self.symbolic_checks,
            "derived": self.derived,
            "printed": self.printed,
            "correction": self.correction,
            "seconds": self.seconds,
            "depends_on": list(self.depends_on),
            "blocked_by": list(self.blocked_by),
        }

    def _repr_html_(self) -> str:
        """Notebook display (:mod:`flowtheory.reprs`): the verdict and its numbers, then one row per
        numeric check (with its :data:`ERROR_KINDS` kind) and per symbolic identity.  The derived and
        printed forms are the attributes ``derived`` and ``printed``."""
        summary = [
            ("verdict", self.verdict),
            ("equations", ", ".join(self.equations) or None),
            ("worst error / tolerance", self.worst_ratio if self.checks else None),
            ("correction of the print", self.correction),
            ("depends on", ", ".join(self.depends_on) or None),
            ("blocked by", ", ".join(self.blocked_by) or None),
            ("seconds", self.seconds),
        ]
        parts = [html_table([(name, value) for name, value in summary if value is not None], caption=f"proof {self.id}: {self.title}")]
        if self.checks:
            rows = [(c.name, c.error, c.tolerance, c.error_kind, c.passed) for c in self.checks]
            parts.append(html_table(rows, header=("numeric check", "error", "tolerance", "kind of error", "passed")))
        if self.symbolic_checks:
            parts.append(html_table(self.symbolic_checks.items(), header=("symbolic identity", "holds")))
        return "\n".join(parts)


def _ratio(check: Check) -> float:
    if check.tolerance > 0:
        return check.error / check.tolerance
    return 0.0 if check.error == 0 else math.inf


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
    """A registered proof: identity, the paper's equation numbers, the function that runs it, and
    the ids of the proofs it relies on."""

    id: str
    title: str
    equations: tuple[str, ...]
    body: Callable[[], Outcome]
    depends_on: tuple[str, ...] = ()

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
                checks=(Check(name=f"raised {type(exc).__name__}: {exc}", error=math.inf, tolerance=0.0, error_kind="absolute"),),
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
            depends_on=self.depends_on,
        )

    def blocked(self, by: tuple[str, ...]) -> ProofResult:
        """The result of not running this proof because its dependencies ``by`` did not pass."""
        return ProofResult(
            id=self.id,
            title=self.title,
            equations=self.equations,
            verdict="blocked",
            max_error=math.nan,
            checks=(),
            symbolic_checks={},
            derived="",
            printed=None,
            correction=None,
            seconds=0.0,
            depends_on=self.depends_on,
            blocked_by=tuple(by),
        )


def proof(
    *, id: str, title: str, equations: tuple[str, ...], depends_on: tuple[str, ...] = ()
) -> Callable[[Callable[[], Outcome]], Proof]:
    """Decorator: register a proof function (see the module docstring).

    ``depends_on`` names the ids of the proofs whose results this one uses.
    """

    def wrap(body: Callable[[], Outcome]) -> Proof:
        return Proof(id=id, title=title, equations=tuple(equations), body=body, depends_on=tuple(depends_on))

    return wrap


def dependency_graph(proofs: Iterable[Proof]) -> networkx.DiGraph:
    """The proofs as a directed acyclic graph: one node per id (node attribute ``proof``), an edge
    ``a → b`` when ``b`` depends on ``a``.  Nodes keep the order of ``proofs``.

    Raises:
        ProofGraphError: two proofs share an id, a dependency names no proof among ``proofs``, or
            the dependencies form a cycle.

    >>> ok = lambda: Outcome(derived="", printed=None, matches_print=True)
    >>> a = Proof("a", "A", (), ok)
    >>> b = Proof("b", "B", (), ok, depends_on=("a",))
    >>> sorted(dependency_graph([b, a]).edges)
    [('a', 'b')]
    >>> dependency_graph([b])
    Traceback (most recent call last):
    ...
    flowtheory.errors.ProofGraphError: proof 'b' depends on 'a', which is not a proof here
    """
    import networkx as nx

    proofs = list(proofs)
    graph = nx.DiGraph()
    for p in proofs:
        if p.id in graph:
            raise ProofGraphError(f"duplicate proof id {p.id!r}")
        graph.add_node(p.id, proof=p)
    for p in proofs:
        for dep in p.depends_on:
            if dep not in graph:
                raise ProofGraphError(f"proof {p.id!r} depends on {dep!r}, which is not a proof here")
            graph.add_edge(dep, p.id)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [u for u, _ in nx.find_cycle(graph)]
        raise ProofGraphError(f"proof dependencies form a cycle: {' -> '.join(cycle + cycle[:1])}")
    return graph


def dependency_order(graph: networkx.DiGraph) -> list[Proof]:
    """The proofs of :func:`dependency_graph` in topological order, each after everything it depends
    on; ties keep the order in which the proofs were given."""
    import networkx as nx

    position = {node: i for i, node in enumerate(graph.nodes)}
    return [graph.nodes[node]["proof"] for node in nx.lexicographical_topological_sort(graph, key=position.__getitem__)]


def run_proofs(proofs: Iterable[Proof], on_result: Callable[[ProofResult], None] | None = None) -> list[ProofResult]:
    """Run ``proofs`` in dependency order.

    A proof one of whose dependencies fails or is blocked is not run: its result is
    :meth:`Proof.blocked`.  Every dependency must be among ``proofs`` (:class:`ProofGraphError`
    otherwise).  Results come in the order they were run; ``on_result`` (a progress report, say)
    is called with each as soon as it is known.
    """
    results: dict[str, ProofResult] = {}
    for p in dependency_order(dependency_graph(proofs)):
        unmet = tuple(d for d in p.depends_on if results[d].verdict in ("fails", "blocked"))
        results[p.id] = p.blocked(unmet) if unmet else p.run()
        if on_result is not None:
            on_result(results[p.id])
    return list(results.values())
