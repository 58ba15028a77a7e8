"""The executable proofs (importable as ``flowtheory_proofs``).

Each module here holds one or more :class:`flowtheory.proof.Proof` objects (functions decorated
with :func:`flowtheory.proof.proof`).  :func:`all_proofs` discovers them; ``flowtheory verify``
and ``tests/test_proofs.py`` run them, in the dependency order of :func:`proof_graph`.  Proof ids
are unique, and every ``depends_on`` names a proof here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from flowtheory.proof import Proof, dependency_graph

if TYPE_CHECKING:
    import networkx as nx


def all_proofs() -> list[Proof]:
    """Every proof in this package, ordered by module name then definition order.

    Raises :class:`flowtheory.errors.ProofGraphError` for a duplicate id, a dependency that names
    no proof, or a cycle of dependencies.
    """
    found: list[Proof] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(v for v in vars(module).values() if isinstance(v, Proof))
    dependency_graph(found)
    return found


def proof_graph() -> nx.DiGraph:
    """The dependency graph of :func:`all_proofs` (:func:`flowtheory.proof.dependency_graph`)."""
    return dependency_graph(all_proofs())
