"""``flowtheory derive ntk``: the frozen NTK of a network of section 2.3.2, derived symbolically.

``flowtheory derive ntk --network {cosine,cosine-literal,gauss-net,relu} --dim D [--sigma-w S] [--sigma-b B] [--time-limit SECONDS] [--latex | --json]``

Prints the architecture, the frozen NTK :math:`\\bar\\Theta(x, x')` (pretty and LaTeX) and, for the
Gaussian kernels, the normalisation :math:`A` and the width :math:`\\sigma` (see
:mod:`flowtheory.networks`).  ``S`` and ``B`` are exact decimals or fractions (``1.3``, ``3/2``);
without them the result is symbolic in ``sigma_w`` / ``sigma_b``.  With ``--json``: one object with
keys ``network``, ``dim``, ``sigma_w``, ``sigma_b``, ``description``, ``trainable``, ``kernel``
(sympy string), ``kernel_srepr`` (``sympy.srepr``: ``sympy.sympify`` of it restores the expression,
symbols ``x1..xd``, ``x'1..x'd`` with their assumptions included), ``latex`` (the kernel, symbols named by
:mod:`flowtheory.latex`: ``x'_{1}``, ``\\sigma_{w}``), ``normalization_A``, ``width_sigma`` (numbers when ``--sigma-w`` is
given, else sympy strings; ``null`` for ``relu``), their exact forms ``normalization_A_exact`` and
``width_sigma_exact``, and ``nngp`` (``relu`` only).  ``--latex`` prints the LaTeX lines only:
``\\bar\\Theta(x, x') = …``, then ``A = …`` and ``\\sigma = …`` where the kernel has them.

Bounds (bad values are one-line errors, exit status 2): ``--dim`` at most :data:`DIM_LIMITS` — 64 for
``cosine`` and ``gauss-net``, 16 for ``cosine-literal`` and ``relu``, whose derivations grow about
like d³ (on a 2-core machine: cosine d = 64 in 8 s, gauss-net d = 64 in 6 s, cosine-literal d = 16
in 8 s and d = 24 in 19 s, relu d = 16 in 5 s and d = 24 in 17 s); ``--sigma-w`` and ``--sigma-b``
exact numbers in :data:`SIGMA_BOUNDS` = [1/1000, 1000], within which every numeric value stays a
finite, non-zero double (a value that would not is a :class:`~flowtheory.errors.NonFiniteError`
naming its field); ``--time-limit`` seconds of work (default 60, see
:func:`flowtheory.cli.expressions.time_limit`).
"""

from __future__ import annotations

import argparse
import math
import re
from fractions import Fraction

from flowtheory.cli.expressions import add_time_limit, emit_within_time_limit
from flowtheory.cli.output import bounded_int
from flowtheory.errors import NonFiniteError, ResourceLimitError

NETWORKS = ("cosine", "cosine-literal", "gauss-net", "relu")

#: The largest input dimension derived per network (see the module docstring for the measured cost).
DIM_LIMITS = {"cosine": 64, "cosine-literal": 16, "gauss-net": 64, "relu": 16}

#: The closed interval of ``--sigma-w`` and ``--sigma-b``.
SIGMA_BOUNDS = (Fraction(1, 1000), Fraction(1000))

_EXACT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d{1,3})?|[+-]?\d+/\d+", re.IGNORECASE)


def exact_number(low: Fraction, high: Fraction):
    """argparse type: an exact decimal or fraction (``1.3``, ``3/2``, ``2e-2``) in ``[low, high]``.

    The text is matched before :class:`fractions.Fraction` reads it, so an exponent has at most three
    digits (``1e999999999`` is refused at once instead of building 10**999999999).

    >>> exact_number(Fraction(1, 1000), Fraction(1000))("3/2")
    Fraction(3, 2)
    >>> exact_number(Fraction(1, 1000), Fraction(1000))("1e200")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected an exact number such as 1.3 or 3/2 in [1/1000, 1000], got '1e200'
    """
    interval = f"[{low}, {high}]"

    def parse(text: str) -> Fraction:
        expected = f"expected an exact number such as 1.3 or 3/2 in {interval}, got {text[:40]!r}"
        if len(text) > 40 or not _EXACT.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(expected)
        try:
            value = Fraction(text.strip())
        except (ValueError, ZeroDivisionError):
            raise argparse.ArgumentTypeError(expected) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(expected)
        return value

    parse.__name__ = f"exact number in {interval}"
    return parse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ntk", help="frozen NTK of a network (cosine, cosine-literal, gauss-net, relu)")
    p.add_argument("--network", required=True, choices=NETWORKS, help="architecture (see flowtheory.networks)")
    limits = ", ".join(f"{n} {d}" for n, d in DIM_LIMITS.items())
    p.add_argument("--dim", required=True, type=bounded_int(1, max(DIM_LIMITS.values())), metavar="D",
                   help=f"input dimension (1 to {max(DIM_LIMITS.values())}; at most: {limits})")
    sigma = exact_number(*SIGMA_BOUNDS)
    bounds = f"{SIGMA_BOUNDS[0]} to {SIGMA_BOUNDS[1]}"
    p.add_argument("--sigma-w", type=sigma, metavar="S", help=f"weight scale sigma_w, exact ({bounds}; default: symbolic)")
    p.add_argument("--sigma-b", type=sigma, metavar="B", help=f"bias scale sigma_b, exact, gauss-net and relu ({bounds}; default: symbolic)")
    add_time_limit(p, 60)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX only")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def numeric_value(expr, field: str):
    """``expr`` as a JSON value: its sympy string when symbolic, else a float that must be finite and,
    for a non-zero ``expr``, non-zero (raises :class:`NonFiniteError` naming ``field``)."""
    if expr is None:
        return None
    if expr.free_symbols:
        return str(expr)
    try:
        number = float(expr)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or (number == 0 and expr != 0):
        raise NonFiniteError(f"{field}: the exact value {str(expr)[:80]} is {number} as a double; choose --sigma-w/--sigma-b nearer 1")
    return number


def run(args: argparse.Namespace) -> int:
    if args.dim > DIM_LIMITS[args.network]:
        raise ResourceLimitError(
            f"--dim {args.dim}: the {args.network} NTK is derived for d <= {DIM_LIMITS[args.network]} "
            "(its cost grows about like d^3; see --help)"
        )
    emit_within_time_limit(args.time_limit, "derive ntk", args.json, lambda: _derive(args))
    return 0


def _derive(args: argparse.Namespace):
    """The result dict and its renderer (run under the time limit)."""
    import sympy as sp

    from flowtheory.latex import latex
    from flowtheory.networks import get_network

    spec = get_network(args.network, args.dim, args.sigma_w, args.sigma_b)
    result = {
        "network": spec.name,
        "dim": spec.dim,
        "sigma_w": numeric_value(spec.sigma_w, "sigma_w"),
        "sigma_b": numeric_value(spec.sigma_b, "sigma_b"),
        "description": spec.description,
        "trainable": list(spec.trainable),
        "kernel": str(spec.kernel),
        "kernel_srepr": sp.srepr(spec.kernel),
        "latex": latex(spec.kernel),
        "normalization_A": numeric_value(spec.normalization_A, "normalization_A"),
        "width_sigma": numeric_value(spec.width_sigma, "width_sigma"),
        "normalization_A_exact": None if spec.normalization_A is None else str(spec.normalization_A),
        "width_sigma_exact": None if spec.width_sigma is None else str(spec.width_sigma),
        "nngp": None if spec.nngp is None else str(spec.nngp),
    }
    if args.latex:
        return result, lambda _: print("\n".join(latex_lines(spec)))
    return result, lambda _: _render(spec)


def latex_lines(spec) -> list[str]:
    """The kernel, and A and σ where the kernel has them, as LaTeX equations (:mod:`flowtheory.latex`)."""
    from flowtheory.latex import latex

    lines = [f"\\bar\\Theta(x, x') = {latex(spec.kernel)}"]
    for label, expr in (("A", spec.normalization_A), ("\\sigma", spec.width_sigma)):
        if expr is not None:
            lines.append(f"{label} = {latex(expr)}")
    return lines


def _render(spec) -> None:
    import sympy as sp

    from flowtheory.latex import latex

    print(spec.description)
    print()
    print(sp.pretty(sp.Eq(sp.Symbol("Θ̄(x, x')"), spec.kernel, evaluate=False), use_unicode=True))
    print(f"LaTeX: \\bar\\Theta(x, x') = {latex(spec.kernel)}")
    for label, expr in (("A", spec.normalization_A), ("σ", spec.width_sigma)):
        if expr is not None:
            print()
            print(sp.pretty(sp.Eq(sp.Symbol(label), expr, evaluate=False), use_unicode=True))
            numeric = "" if expr.free_symbols else f"{label} ≈ {float(expr):.12g};  "
            print(f"{numeric}LaTeX: {latex(expr)}")
    if spec.name == "cosine-literal" and spec.width_sigma is None:
        print("The literal reading is not a Gaussian in x − x' for d > 1: A is that of the cosine network, no width σ.")
