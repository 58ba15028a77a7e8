"""``flowtheory derive ntk``: the frozen NTK of a network of section 2.3.2, derived symbolically.

``flowtheory derive ntk --network {cosine,cosine-literal,gauss-net,relu} --dim D [--sigma-w S] [--sigma-b B] [--json]``

Prints the architecture, the frozen NTK :math:`\\bar\\Theta(x, x')` (pretty and LaTeX) and, for the
Gaussian kernels, the normalisation :math:`A` and the width :math:`\\sigma` (see
:mod:`flowtheory.networks`).  ``S`` and ``B`` are exact decimals or fractions (``1.3``, ``3/2``);
without them the result is symbolic in ``sigma_w`` / ``sigma_b``.  With ``--json``: one object with
keys ``network``, ``dim``, ``sigma_w``, ``sigma_b``, ``description``, ``trainable``, ``kernel``
(sympy string), ``kernel_srepr`` (``sympy.srepr``: ``sympy.sympify`` of it restores the expression,
symbols ``x1..xd``, ``x'1..x'd`` with their assumptions included), ``latex``, ``normalization_A``, ``width_sigma`` (numbers when ``--sigma-w`` is
given, else sympy strings; ``null`` for ``relu``), their exact forms ``normalization_A_exact`` and
``width_sigma_exact``, and ``nngp`` (``relu`` only).
"""

from __future__ import annotations

import argparse
from fractions import Fraction

from flowtheory.cli.output import CliError, emit

NETWORKS = ("cosine", "cosine-literal", "gauss-net", "relu")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ntk", help="frozen NTK of a network (cosine, cosine-literal, gauss-net, relu)")
    p.add_argument("--network", required=True, choices=NETWORKS, help="architecture (see flowtheory.networks)")
    p.add_argument("--dim", required=True, type=int, metavar="D", help="input dimension d >= 1")
    p.add_argument("--sigma-w", metavar="S", help="weight scale sigma_w > 0 (default: symbolic)")
    p.add_argument("--sigma-b", metavar="B", help="bias scale sigma_b > 0, gauss-net and relu (default: symbolic)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def _number(text: str | None, flag: str) -> Fraction | None:
    if text is None:
        return None
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise CliError(f"{flag}: expected a finite number such as 1.3 or 3/2, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    import sympy as sp

    from flowtheory.networks import get_network

    spec = get_network(args.network, args.dim, _number(args.sigma_w, "--sigma-w"), _number(args.sigma_b, "--sigma-b"))

    def value(expr):
        if expr is None:
            return None
        return float(expr) if not expr.free_symbols else str(expr)

    result = {
        "network": spec.name,
        "dim": spec.dim,
        "sigma_w": value(spec.sigma_w),
        "sigma_b": value(spec.sigma_b),
        "description": spec.description,
        "trainable": list(spec.trainable),
        "kernel": str(spec.kernel),
        "kernel_srepr": sp.srepr(spec.kernel),
        "latex": sp.latex(spec.kernel),
        "normalization_A": value(spec.normalization_A),
        "width_sigma": value(spec.width_sigma),
        "normalization_A_exact": None if spec.normalization_A is None else str(spec.normalization_A),
        "width_sigma_exact": None if spec.width_sigma is None else str(spec.width_sigma),
        "nngp": None if spec.nngp is None else str(spec.nngp),
    }
    emit(args.json, result, lambda _: _render(spec))
    return 0


def _render(spec) -> None:
    import sympy as sp

    print(spec.description)
    print()
    print(sp.pretty(sp.Eq(sp.Symbol("Θ̄(x, x')"), spec.kernel, evaluate=False), use_unicode=True))
    print(f"LaTeX: \\bar\\Theta(x, x') = {sp.latex(spec.kernel)}")
    for label, expr in (("A", spec.normalization_A), ("σ", spec.width_sigma)):
        if expr is not None:
            print()
            print(sp.pretty(sp.Eq(sp.Symbol(label), expr, evaluate=False), use_unicode=True))
            numeric = "" if expr.free_symbols else f"{label} ≈ {float(expr):.12g};  "
            print(f"{numeric}LaTeX: {sp.latex(expr)}")
    if spec.name == "cosine-literal" and spec.width_sigma is None:
        print("The literal reading is not a Gaussian in x − x' for d > 1: A is that of the cosine network, no width σ.")
