"""The ``flowtheory`` command — the app layer.

Three layers, each importing only those below it: the symbolic layer (:mod:`flowtheory`, pure
sympy), the numeric layer (:mod:`numerics`, JAX; it may import :mod:`flowtheory`) and this app
layer on top.  ``flowtheory.cli`` is the one place in :mod:`flowtheory` that imports
:mod:`numerics`, and it does so lazily, inside the command handlers, so ``flowtheory --help`` and
the symbolic commands start fast.

Sub-commands live in one module each and register themselves through ``register(subparsers)``.
Every command that prints a result accepts ``--json`` (:mod:`flowtheory.cli.output`); user-typed
expressions go through :mod:`flowtheory.cli.expressions`.

Bad input — a :class:`flowtheory.errors.FlowtheoryError` or a :class:`CliError` — prints one line
``flowtheory: error: ...`` on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

from flowtheory.cli.output import CliError
from flowtheory.errors import FlowtheoryError


def build_parser() -> argparse.ArgumentParser:
    from flowtheory.cli import derive_curvature, derive_functional, derive_ntk, flow, quintic, verify

    parser = argparse.ArgumentParser(
        prog="flowtheory",
        description="Metric flows with neural networks: derive, verify, run.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    derive = sub.add_parser("derive", help="derive kernels, functionals and curvature symbolically")
    derive_sub = derive.add_subparsers(dest="what", required=True, metavar="WHAT")
    for module in (derive_ntk, derive_functional, derive_curvature):
        module.register(derive_sub)
    for module in (verify, flow, quintic):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (CliError, FlowtheoryError) as exc:
        message = " ".join(str(exc).split())
        print(f"flowtheory: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
