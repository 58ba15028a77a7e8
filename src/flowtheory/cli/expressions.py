"""Safe, bounded parsing of user-typed sympy expressions, and the time limit of the symbolic commands.

:func:`parse_expression` accepts arithmetic (``+ - * / ** ^``), numbers (decimals become exact
rationals), brackets, the names in :data:`FUNCTIONS` and the caller's symbols; every other name
becomes a real constant :class:`sympy.Symbol` (a parameter such as a radius ``r``).  No Python
beyond building a sympy expression runs: the text is tokenised and rejected if it contains
attribute access (``.`` outside a number), strings, keywords, names starting with ``_`` or calls of
unknown functions; it is then parsed by :func:`ast.parse` and the tree is evaluated node by node
(children first, without recursion) with sympy's arithmetic, so that every size is checked before
the operation that could blow up runs.

Bounds (each breach is a :class:`~flowtheory.errors.SymbolicLimitError` naming the option and the
bound; the commands quote them in ``--help``):

* :data:`MAX_LENGTH` — at most 4000 characters of text;
* :data:`MAX_TOKENS` — at most 1000 tokens (numbers, names, operators, brackets: about the nodes of
  the expression tree; a 5000-term sum is refused here);
* :data:`MAX_DEPTH` — at most 30 levels of brackets, and of powers, calls and lists inside each other;
* :data:`MAX_LITERAL_DIGITS` — a number literal has at most 100 digits (and a decimal exponent
  ``1e...`` at most :data:`MAX_EXPONENT`);
* :data:`MAX_EXPONENT` — a rational exponent has ``|n| <= 1000`` (``x**(10**8)``, ``10**10**10``
  are refused before the power is formed);
* :data:`MAX_NUMBER_DIGITS` — every exact number formed while building the expression has at most
  1000 digits in its numerator and denominator; a power is estimated before it is computed.

:func:`time_limit` bounds the wall-clock time of symbolic work that can still grow fast (curvature of
a dense metric, a simplification, the proofs): ``signal.setitimer`` raises
:class:`~flowtheory.errors.SymbolicLimitError` naming the command and the limit.  It needs the main
thread (signals are delivered there); elsewhere it runs the work without a limit.
:func:`add_time_limit` adds the ``--time-limit SECONDS`` option and :func:`emit_within_time_limit`
runs a command's work and formats its output within the limit, printing only when all succeeded.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import keyword
import math
import signal
import sys
import threading
import time
import tokenize
from typing import Any, Callable, Iterator, Mapping

import sympy as sp

from flowtheory.cli.output import CliError, bounded_float, emit
from flowtheory.errors import SymbolicLimitError

MAX_LENGTH = 4000
MAX_TOKENS = 1000
MAX_DEPTH = 30
MAX_LITERAL_DIGITS = 100
MAX_EXPONENT = 1000
MAX_NUMBER_DIGITS = 1000
LIMITS_HELP = (
    f"at most {MAX_LENGTH} characters, {MAX_TOKENS} tokens, {MAX_DEPTH} levels of nesting, "
    f"{MAX_LITERAL_DIGITS}-digit literals, exponents |n| <= {MAX_EXPONENT}, numbers of {MAX_NUMBER_DIGITS} digits"
)
"""The bounds of :func:`parse_expression` in words, for the ``--help`` of the options that take expressions."""

MAX_TIME_LIMIT = 86400.0

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
_SKIPPED = (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)
_NUMBER_BOUND = 10**MAX_NUMBER_DIGITS
_LOG10_2 = math.log10(2)
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b}  # fmt: skip
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: +a}


def _limit(option: str, what: str, bound: str) -> SymbolicLimitError:
    return SymbolicLimitError(f"{option}: {what} exceeds the bound of {bound} (see --help)")


def _check_tokens(text: str, option: str) -> None:
    if len(text) > MAX_LENGTH:
        raise _limit(option, f"the text ({len(text)} characters)", f"{MAX_LENGTH} characters")
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in _SKIPPED]
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise CliError(f"{option}: cannot parse {text!r}: {exc}") from None
    if len(tokens) > MAX_TOKENS:
        raise _limit(option, f"the expression ({len(tokens)} tokens)", f"{MAX_TOKENS} tokens")
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NUMBER:
            _check_literal(tok.string, option)
            continue
        if tok.type == tokenize.NAME:
            if tok.string.startswith("_") or keyword.iskeyword(tok.string):
                raise CliError(f"{option}: name {tok.string!r} is not allowed in {text!r}")
            following = tokens[i + 1].string if i + 1 < len(tokens) else ""
            if following == "(" and tok.string not in FUNCTIONS:
                raise CliError(f"{option}: unknown function {tok.string!r} in {text!r}; known: {', '.join(sorted(FUNCTIONS))}")
            continue
        if tok.type == tokenize.OP and tok.string in _ALLOWED_OPS:
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(tok.string, 0)
            if depth > MAX_DEPTH:
                raise _limit(option, "the nesting of brackets", f"{MAX_DEPTH} levels")
            continue
        raise CliError(f"{option}: {tok.string!r} is not allowed in {text!r} (arithmetic, numbers, brackets and names only)")


def _check_literal(literal: str, option: str) -> None:
    """A number literal: no imaginary ``2j``, at most MAX_LITERAL_DIGITS digits, a decimal exponent within MAX_EXPONENT."""
    s = literal.lower().replace("_", "")
    if s.endswith("j"):
        raise CliError(f"{option}: imaginary literal {literal!r}; write {literal[:-1]}*I")
    mantissa, _, exponent = (s, "", "") if s[:2] in ("0x", "0o", "0b") else s.partition("e")
    if sum(c.isalnum() for c in mantissa) > MAX_LITERAL_DIGITS:
        raise _limit(option, f"a number literal of {len(mantissa)} digits", f"{MAX_LITERAL_DIGITS} digits")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise _limit(option, f"the exponent of the literal {literal[:40]!r}", f"|n| <= {MAX_EXPONENT}")


def _shown(value) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"a number of {len(text)} digits"


def _digits(value) -> float:
    """log10 of the largest numerator or denominator in ``value`` (a lower estimate of its digit
    count); ``value`` is a sympy object or nested lists of them (at most MAX_DEPTH levels)."""
    if isinstance(value, list):
        return max((_digits(v) for v in value), default=0.0)
    sizes = [max(abs(r.p), r.q).bit_length() - 1 for r in value.atoms(sp.Rational)]
    return max(sizes, default=0) * _LOG10_2


def _check_number(value, option: str) -> None:
    if isinstance(value, sp.Rational) and max(abs(value.p), value.q) >= _NUMBER_BOUND:
        raise _limit(option, "a number in the expression", f"{MAX_NUMBER_DIGITS} digits")


def _check_power(base, exponent, option: str) -> None:
    """Refuse ``base**exponent`` before it is formed: a rational exponent beyond MAX_EXPONENT, or a
    power whose numbers would have more than MAX_NUMBER_DIGITS digits."""
    if not isinstance(exponent, sp.Rational):
        return
    if abs(exponent) > MAX_EXPONENT:
        raise _limit(option, f"the exponent {_shown(exponent)}", f"|n| <= {MAX_EXPONENT}")
    if _digits(base) * abs(exponent) > MAX_NUMBER_DIGITS:
        raise _limit(option, f"a power with the exponent {exponent}", f"{MAX_NUMBER_DIGITS} digits in its numbers")


def _children(node: ast.AST, text: str, option: str) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return [node.operand]
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    if isinstance(node, ast.Call):
        if node.keywords or not isinstance(node.func, ast.Name) or not callable(FUNCTIONS.get(node.func.id)):
            known = ", ".join(sorted(name for name, f in FUNCTIONS.items() if callable(f)))
            raise CliError(f"{option}: only the functions {known} can be called, in {text!r}")
        return list(node.args)
    if isinstance(node, (ast.Name, ast.Constant)):
        return []
    raise CliError(f"{option}: {ast.get_source_segment(text, node) or type(node).__name__!r} is not allowed in {text!r}")


def _leaf(node: ast.AST, text: str, symbols: Mapping[str, sp.Symbol], option: str):
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float):
            return sp.Rational(ast.get_source_segment(text, node).replace("_", ""))
        return sp.Integer(node.value)
    if node.id in symbols:
        return symbols[node.id]
    if node.id in FUNCTIONS:
        if callable(FUNCTIONS[node.id]):
            raise CliError(f"{option}: {node.id} is a function; call it as {node.id}(...) in {text!r}")
        return FUNCTIONS[node.id]
    return sp.Symbol(node.id, real=True)


def _evaluate(tree: ast.Expression, text: str, symbols: Mapping[str, sp.Symbol], option: str):
    """Evaluate the parsed tree children first (an explicit stack: no recursion), checking every
    power before it is formed and every number formed."""
    order, stack = [], [tree.body]
    while stack:
        node = stack.pop()
        order.append((node, _children(node, text, option)))
        stack.extend(order[-1][1])
    value: dict[int, Any] = {}
    depth: dict[int, int] = {}
    for node, children in reversed(order):
        args = [value[id(c)] for c in children]
        nests = isinstance(node, (ast.Call, ast.List, ast.Tuple)) or isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
        depth[id(node)] = max((depth[id(c)] for c in children), default=0) + nests
        if depth[id(node)] > MAX_DEPTH:
            raise _limit(option, "the nesting of powers, calls and lists", f"{MAX_DEPTH} levels")
        if not children and not isinstance(node, (ast.Call, ast.List, ast.Tuple)):
            value[id(node)] = _leaf(node, text, symbols, option)
            continue
        if isinstance(node, (ast.List, ast.Tuple)):
            value[id(node)] = args
            continue
        if isinstance(node, (ast.BinOp, ast.UnaryOp)) and not all(isinstance(a, (sp.Basic, sp.MatrixBase)) for a in args):
            raise CliError(f"{option}: lists cannot take part in arithmetic in {text!r}; use Matrix(...)")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            _check_power(args[0], args[1], option)
        try:
            if isinstance(node, ast.Call):
                result = FUNCTIONS[node.func.id](*args)
            elif isinstance(node, ast.BinOp):
                result = _BINARY[type(node.op)](*args)
            else:
                result = _UNARY[type(node.op)](*args)
        except (TypeError, ValueError, AttributeError, ZeroDivisionError, sp.SympifyError) as exc:
            raise CliError(f"{option}: cannot evaluate {ast.get_source_segment(text, node)!r}: {' '.join(str(exc).split())}") from None
        _check_number(result, option)
        value[id(node)] = result
    return value[id(tree.body)]


def parse_expression(text: str, symbols: Mapping[str, sp.Symbol], option: str = "expression"):
    """Parse ``text`` into a sympy object (an expression, or nested lists / a Matrix of them).

    ``symbols`` maps names to the caller's symbols; other free names become real Symbols.
    ``option`` names the source in messages (``--metric``).  Raises :class:`CliError` on anything
    that is not a plain expression and :class:`~flowtheory.errors.SymbolicLimitError` past a bound
    of the module docstring.

    >>> x = sp.Symbol("x", real=True)
    >>> parse_expression("x^2/2 + 0.25", {"x": x})
    x**2/2 + 1/4
    >>> parse_expression("x**(10**8)", {"x": x}, "--metric")
    Traceback (most recent call last):
    flowtheory.errors.SymbolicLimitError: --metric: the exponent 100000000 exceeds the bound of |n| <= 1000 (see --help)
    """
    if not text.strip():
        raise CliError(f"{option}: empty expression")
    clash = sorted(set(symbols) & set(FUNCTIONS))
    if clash:
        raise CliError(f"coordinate names {clash} clash with function or constant names")
    _check_tokens(text, option)
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise CliError(f"{option}: cannot parse {text!r}: {exc.msg if isinstance(exc, SyntaxError) else exc}") from None
    value = _evaluate(tree, text.strip().replace("^", "**"), symbols, option)
    if _digits(value) >= MAX_NUMBER_DIGITS:
        raise _limit(option, "a number in the expression", f"{MAX_NUMBER_DIGITS} digits")
    return value


# --- the time limit of symbolic work ----------------------------------------------------------


#: Interval of the repeated SIGALRM after the time limit (see :func:`time_limit`).
RETRY_S = 0.05


class _Expired(BaseException):
    """Raised by the SIGALRM handler: a BaseException, so that no ``except Exception`` in sympy swallows it."""


def _expire(signum, frame):
    raise _Expired()


@contextlib.contextmanager
def time_limit(seconds: float | None, command: str) -> Iterator[None]:
    """Stop the body with :class:`~flowtheory.errors.SymbolicLimitError` after ``seconds`` of wall-clock time.

    ``None`` or ``0`` sets no limit, nor does a call outside the main thread (signals reach only
    that thread).  After the limit the timer keeps firing every :data:`RETRY_S` seconds until the body
    has stopped: an exception raised where Python cannot pass it on (a garbage-collection callback,
    such as JAX's, reports it as "unraisable" and drops it) is raised again at the next tick.  The
    previous SIGALRM handler is restored, and a timer that was running is re-armed with what is
    left of it.

    >>> with time_limit(0.05, "derive demo"):
    ...     while True:
    ...         pass
    Traceback (most recent call last):
    flowtheory.errors.SymbolicLimitError: derive demo: stopped at the time limit of 0.05 s (--time-limit 0.05); ask for less work or a longer --time-limit
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expire)
    started = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds, RETRY_S)
    try:
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Expired:
        raise SymbolicLimitError(
            f"{command}: stopped at the time limit of {seconds:g} s (--time-limit {seconds:g}); ask for less work or a longer --time-limit"
        ) from None
    finally:
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 1e-6))


def add_time_limit(parser: argparse.ArgumentParser, default: float) -> None:
    """Add ``--time-limit SECONDS`` (in ``(0, MAX_TIME_LIMIT]``) to a command's parser."""
    parser.add_argument(
        "--time-limit", type=bounded_float(0, MAX_TIME_LIMIT, low_open=True), default=default, metavar="SECONDS",
        help=f"stop with an error after SECONDS of work (0 < SECONDS <= {MAX_TIME_LIMIT:g}; default {default:g})",
    )


def emit_within_time_limit(seconds: float, command: str, as_json: bool, work: Callable[[], tuple[Any, Callable[[Any], None]]]) -> None:
    """Run ``work() -> (result, render)`` and format its output (JSON, or what ``render`` prints) under
    :func:`time_limit`; print only once both succeeded, so an error leaves stdout empty."""
    with time_limit(seconds, command):
        result, render = work()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            emit(as_json, result, render)
    sys.stdout.write(out.getvalue())


# --- coordinates, metrics and potentials typed on the command line ---------------------------

#: How ``--simplify`` treats printed results (see ``derive curvature --help`` for what each costs).
SIMPLIFY_MODES = ("cancel", "none", "simplify")


def simplifier(mode: str):
    """The simplifier of a ``--simplify`` mode: :func:`sympy.cancel`, ``False`` (none) or :func:`sympy.simplify`."""
    return {"simplify": sp.simplify, "cancel": sp.cancel, "none": False}[mode]


def coordinate_names(text: str, limit: int, kind: str, option: str = "--coords") -> list[str]:
    """The names of ``--coords "x y ..."``: 1 to ``limit`` distinct identifiers (``kind``: "real" or "complex").

    >>> coordinate_names("theta, phi", 8, "real")
    ['theta', 'phi']
    """
    names = text.replace(",", " ").split()
    if not names:
        raise CliError(f"{option}: at least one coordinate name is required")
    if len(names) > limit:
        raise SymbolicLimitError(f"{option}: {len(names)} {kind} coordinates exceed the bound of {limit} (see --help)")
    for name in names:
        if not name.isidentifier() or name.startswith("_"):
            raise CliError(f"{option}: {name!r} is not a valid name")
    if len(set(names)) != len(names):
        raise CliError(f"{option}: repeated name in {names}")
    return names


def square_matrix(value, text: str, option: str = "--metric") -> sp.Matrix:
    """A parsed ``--metric`` (nested lists or ``diag(...)``) as a square Matrix, or a :class:`CliError`."""
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value)
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        raise CliError(f"{option} must be a square matrix given as nested lists, e.g. [[1, 0], [0, 1]]; got {text!r}")
    width = len(value[0])
    if any(len(row) != width for row in value) or width != len(value):
        raise CliError(f"{option} must be square; got rows of lengths {[len(row) for row in value]}")
    return sp.Matrix(value)


def real_metric(names: list[str], text: str, option: str = "--metric") -> tuple[tuple[sp.Symbol, ...], sp.Matrix]:
    """Real coordinate symbols of ``names`` and the metric ``text`` in them (not yet validated)."""
    coords = tuple(sp.Symbol(n, real=True) for n in names)
    return coords, square_matrix(parse_expression(text, {s.name: s for s in coords}, option), text, option)


def kahler_potential(names: list[str], text: str, option: str = "--potential"):
    """``(z, zbar, K)``: the complex coordinates of ``names`` (conjugates ``zb``) and the scalar ``K`` of ``text``."""
    from flowtheory import kahler

    z, zbar = kahler.complex_coordinates(names)
    potential = parse_expression(text, {s.name: s for s in (*z, *zbar)}, option)
    if not isinstance(potential, sp.Expr):
        raise CliError(f"{option} must be a scalar expression, got {text!r}")
    return z, zbar, kahler.replace_conjugates(potential, z, zbar)
