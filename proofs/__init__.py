"""The executable proofs (importable as ``flowtheory_proofs``).

Each module here holds one or more :class:`flowtheory.proof.Proof` objects (functions decorated
with :func:`flowtheory.proof.proof`).  :func:`all_proofs` discovers them; ``flowtheory verify``
and ``tests/test_proofs.py`` run them.  Proof ids are unique.
"""

from __future__ import annotations

import importlib
import pkgutil

from flowtheory.proof import Proof


def all_proofs() -> list[Proof]:
    """Every proof in this package, ordered by module name then definition order."""
    found: list[Proof] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(v for v in vars(module).values() if isinstance(v, Proof))
    ids = [p.id for p in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate proof ids: {duplicates}")
    return found
