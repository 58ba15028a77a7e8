"""Safe parsing of user-typed sympy expressions for the command line.

:func:`parse_expression` accepts arithmetic (``+ - * / ** ^``), numbers (decimals become exact rationals), brackets, the names in
:data:`FUNCTIONS` and the caller's symbols; every other name becomes a real constant
:class:`sympy.Symbol` (a parameter such as a radius ``r``).  Before anything is evaluated the text
is tokenised and rejected if it contains attribute access (``.`` outside a number), strings,
keywords, names starting with ``_`` or calls of unknown functions, so no Python beyond building a
sympy expression can run.  Parsing uses :func:`sympy.parsing.sympy_parser.parse_expr` with an
explicit global dictionary.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from typing import Mapping

import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, rationalize, standard_transformations

from flowtheory.cli.output import CliError

#: Functions and constants a user may write.
FUNCTIONS: dict[str, object] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "atan2": sp.atan2,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "coth": sp.coth,
    "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt, "Abs": sp.Abs,
    "conjugate": sp.conjugate, "re": sp.re, "im": sp.im,
    "Rational": sp.Rational, "diag": sp.diag, "Matrix": sp.Matrix,
    "pi": sp.pi, "E": sp.E, "I": sp.I,
}  # fmt: skip

_ALLOWED_OPS = set("+-*/^()[],") | {"**"}


def _check_tokens(text: str) -> None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise CliError(f"cannot parse {text!r}: {exc}") from None
    for i, tok in enumerate(tokens):
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if tok.type == tokenize.NUMBER:
            continue
        if tok.type == tokenize.NAME:
            if tok.string.startswith("_") or keyword.iskeyword(tok.string):
                raise CliError(f"name {tok.string!r} is not allowed in {text!r}")
            following = tokens[i + 1].string if i + 1 < len(tokens) else ""
            if following == "(" and tok.string not in FUNCTIONS:
                raise CliError(f"unknown function {tok.string!r} in {text!r}; known: {', '.join(sorted(FUNCTIONS))}")
            continue
        if tok.type == tokenize.OP and tok.string in _ALLOWED_OPS:
            continue
        raise CliError(f"{tok.string!r} is not allowed in {text!r} (arithmetic, numbers, brackets and names only)")


def parse_expression(text: str, symbols: Mapping[str, sp.Symbol]):
    """Parse ``text`` into a sympy object (an expression, or nested lists / a Matrix of them).

    ``symbols`` maps names to the caller's symbols; other free names become real Symbols.
    Raises :class:`CliError` on anything that is not a plain expression.
    """
    if not text.strip():
        raise CliError("empty expression")
    clash = sorted(set(symbols) & set(FUNCTIONS))
    if clash:
        raise CliError(f"coordinate names {clash} clash with function or constant names")
    _check_tokens(text)
    global_dict = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol, **FUNCTIONS}
    try:
        value = parse_expr(
            text,
            local_dict=dict(symbols),
            global_dict=global_dict,
            transformations=standard_transformations + (convert_xor, rationalize),
        )
    except (SyntaxError, TypeError, ValueError, sp.SympifyError, ZeroDivisionError) as exc:
        raise CliError(f"cannot parse {text!r}: {' '.join(str(exc).split())}") from None
    return _realify(value, symbols)


def _realify(value, symbols: Mapping[str, sp.Symbol]):
    """Replace auto-created parameter Symbols by real ones (coordinates keep their own symbols)."""
    if isinstance(value, (list, tuple)):
        return [_realify(v, symbols) for v in value]
    if not isinstance(value, (sp.Basic, sp.MatrixBase)):
        try:
            value = sp.sympify(value)
        except sp.SympifyError as exc:
            raise CliError(f"not an expression: {value!r}") from exc
    own = set(symbols.values())
    rules = {s: sp.Symbol(s.name, real=True) for s in value.free_symbols if s not in own}
    return value.xreplace(rules) if rules else value
