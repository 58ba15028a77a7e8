"""Hostile input to the symbolic commands (``derive ntk``, ``derive functional``, ``derive curvature``,
``verify``): every bad argv exits 2 with exactly one line ``flowtheory: error: ...`` on stderr that
names the offending option or bound, nothing on stdout with ``--json`` — and fast, because each
bound is checked before the work that it protects (``10**10**10`` is never evaluated)."""

from __future__ import annotations

import json
import math
import signal
import threading
import time

import pytest
import sympy as sp

from flowtheory.cli import main
from flowtheory.cli.derive_ntk import numeric_value
from flowtheory.cli.expressions import MAX_DEPTH, MAX_EXPONENT, MAX_TOKENS, parse_expression, time_limit
from flowtheory.errors import NonFiniteError, SymbolicLimitError

CURVATURE = ["derive", "curvature", "--coords", "x y"]


def _metric(entry: str) -> list[str]:
    return [*CURVATURE, "--metric", f"[[{entry}, 0], [0, 1]]"]


BAD = [
    # derive ntk: argparse rejections (unknown option, bad type, choices, missing)
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--bogus"], "unrecognized arguments: --bogus"),
    (["derive", "ntk", "--network", "tanh", "--dim", "2"], "--network"),
    (["derive", "ntk", "--dim", "2"], "--network"),
    (["derive", "ntk", "--network", "cosine", "--dim", "two"], "--dim"),
    # --dim: the argparse bound, then the per-network bound
    (["derive", "ntk", "--network", "cosine", "--dim", "1000"], "[1, 64]"),
    (["derive", "ntk", "--network", "cosine", "--dim", "9" * 40], "[1, 64]"),
    (["derive", "ntk", "--network", "cosine", "--dim", "0"], "[1, 64]"),
    (["derive", "ntk", "--network", "relu", "--dim", "17"], "--dim 17: the relu NTK is derived for d <= 16"),
    (["derive", "ntk", "--network", "cosine-literal", "--dim", "64"], "d <= 16"),
    # --sigma-w / --sigma-b: exact numbers in [1/1000, 1000]
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "1e200"], "--sigma-w"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "1e999999999"], "[1/1000, 1000]"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "1e-4"], "[1/1000, 1000]"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "nan"], "--sigma-w"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "inf"], "--sigma-w"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "1/0"], "--sigma-w"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-w", "1" * 41], "--sigma-w"),
    (["derive", "ntk", "--network", "relu", "--dim", "2", "--sigma-w", "1", "--sigma-b", "2000"], "--sigma-b"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--sigma-b", "1"], "sigma_b"),
    # --time-limit: (0, 86400]
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--time-limit", "0"], "--time-limit"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--time-limit", "1e9"], "(0, 86400]"),
    (["derive", "ntk", "--network", "cosine", "--dim", "2", "--time-limit", "nan"], "--time-limit"),
    # derive functional
    (["derive", "functional", "hamilton"], "invalid choice"),
    (["derive", "functional", "calabi", "--dim", "3"], "[1, 2]"),
    (["derive", "functional", "calabi", "--dim", "2"], "--dim 2: calabi is derived here in dimension <= 1"),
    (["derive", "functional", "einstein-hilbert", "--dim", "2"], "dimension <= 1"),
    (["derive", "functional", "ricci", "--dim", "-1"], "--dim"),
    (["derive", "functional", "ricci", "--time-limit", "-5"], "--time-limit"),
    (["derive", "functional", "ricci", "--latex", "--json"], "not allowed with argument"),
    (["derive", "functional", "ricci", "--frobnicate"], "unrecognized arguments"),
    # derive curvature: expressions are bounded before they are evaluated
    (_metric("10**10**10"), f"--metric: the exponent 10000000000 exceeds the bound of |n| <= {MAX_EXPONENT}"),
    (_metric("x**(10**8)"), "--metric: the exponent 100000000"),
    (_metric("x**(y*0 + 10**8)"), "--metric: the exponent 100000000"),
    (_metric("(10**999)**2"), "1000 digits"),
    (_metric("10**1000"), "--metric: a number in the expression exceeds the bound of 1000 digits"),
    (_metric("(x*10**500)**3"), "1000 digits"),
    (_metric("*".join(["x"] + ["10**999"] * 3)), "--metric: a number in the expression exceeds the bound of 1000 digits"),
    (_metric("1e999999999"), "--metric: the exponent of the literal"),
    (_metric("1" * 150), "--metric: a number literal of 150 digits exceeds the bound of 100 digits"),
    (_metric("+".join(["x"] * 5000)), "--metric: the text (10014 characters) exceeds the bound of 4000 characters"),
    (_metric("+".join(["x"] * 1500)), f"exceeds the bound of {MAX_TOKENS} tokens"),
    (_metric("(" * 40 + "x" + ")" * 40), f"--metric: the nesting of brackets exceeds the bound of {MAX_DEPTH} levels"),
    (_metric("**".join(["x"] * 40)), f"--metric: the nesting of powers, calls and lists exceeds the bound of {MAX_DEPTH} levels"),
    (_metric("2j"), "--metric: imaginary literal"),
    (_metric("[1] + [2]"), "--metric: lists cannot take part in arithmetic"),
    (_metric("sin"), "--metric: sin is a function"),
    (["derive", "curvature", "--kahler", "--coords", "z", "--potential", "(z*zb)**(10**6)"], "--potential: the exponent 1000000"),
    (["derive", "curvature", "--coords", " ".join(f"x{i}" for i in range(9)), "--metric", "diag(1)"], "--coords: 9 real coordinates exceed the bound of 8"),
    (["derive", "curvature", "--kahler", "--coords", "a b c d e", "--potential", "a*ab"], "--coords: 5 complex coordinates exceed the bound of 4"),
    ([*CURVATURE, "--metric", "[[1, 0], [0, 1]]", "--simplify", "full"], "--simplify"),
    ([*CURVATURE, "--metric", "[[1, 0], [0, 1]]", "--time-limit", "abc"], "--time-limit"),
    (CURVATURE, "one of the arguments --metric --potential is required"),
    # verify
    (["verify", "--only", "no-such-proof"], "unknown proof id(s): no-such-proof"),
    (["verify", "--graph", "--out", "graph.svg"], "the graph is drawn as a PNG"),
    (["verify", "--out", "graph.png"], "--out draws the dependency graph: add --graph"),
    (["verify", "--time-limit", "0"], "--time-limit"),
    (["verify", "--time-limit", "1e400"], "--time-limit"),
    (["verify", "--bogus"], "unrecognized arguments: --bogus"),
]


def _one_error_line(capsys, argv: list[str]) -> str:
    started = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - started < 5, "a bound must be checked before the work it protects"
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowtheory: error:"), captured.err
    if "--json" in argv:
        assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize("argv, fragment", BAD, ids=lambda v: " ".join(v)[:70] if isinstance(v, list) else None)
def test_bad_argv_is_one_named_error_line(capsys, argv, fragment):
    """Exit 2, one ``flowtheory: error:`` line naming the option or the bound."""
    assert fragment in _one_error_line(capsys, argv)


@pytest.mark.parametrize("argv, fragment", [c for c in BAD if c[0][0] != "verify" and "--latex" not in c[0]][::3])
def test_bad_argv_with_json_prints_nothing_on_stdout(capsys, argv, fragment):
    """The same rejections with ``--json``: stdout stays empty."""
    assert fragment in _one_error_line(capsys, [*argv, "--json"])


def test_time_limit_stops_a_long_derivation_with_the_named_error(capsys):
    """The curvature of a dense 4-metric takes minutes with ``cancel``: ``--time-limit 1`` stops it after
    about one second with a SymbolicLimitError naming the command and the limit, stdout empty."""
    n = 4
    rows = [[f"2 + x{i}**2" if i == j else f"x{min(i, j)}*x{max(i, j)}/40" for j in range(n)] for i in range(n)]
    metric = "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"
    argv = ["derive", "curvature", "--coords", " ".join(f"x{i}" for i in range(n)), "--metric", metric, "--time-limit", "1", "--json"]
    started = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - started < 10
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "flowtheory: error: derive curvature: stopped at the time limit of 1 s (--time-limit 1); ask for less work or a longer --time-limit"
    )


def test_time_limit_stops_verify_with_the_named_error(capsys):
    """``geom-B3-ricci-form`` takes over ten seconds (also when sympy's caches are warm):
    ``verify --time-limit 0.5`` stops it with the error naming ``verify`` and the limit, stdout empty."""
    assert main(["verify", "--only", "geom-B3-ricci-form", "--time-limit", "0.5", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "flowtheory: error: verify: stopped at the time limit of 0.5 s (--time-limit 0.5); ask for less work or a longer --time-limit"
    )


def test_time_limit_restores_the_previous_alarm_and_needs_the_main_thread():
    """After the body the previous SIGALRM handler is back and a running timer keeps what was left of
    it; outside the main thread the body runs without a limit."""
    def outer_handler(signum, frame):
        raise AssertionError("the outer timer must not fire during the test")

    previous = signal.signal(signal.SIGALRM, outer_handler)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with time_limit(5, "derive demo"):
            pass
        assert signal.getsignal(signal.SIGALRM) is outer_handler
        assert 25 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    done = []

    def worker():
        with time_limit(0.01, "derive demo"):
            time.sleep(0.05)
        done.append(True)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert done == [True]


def test_an_exponent_that_only_cancellation_reveals_is_refused_before_the_power():
    """``2**(x - x + 10**10)``: the exponent is checked after it is evaluated (to 10**10) and before the
    power is formed, so the refusal takes milliseconds."""
    x = sp.Symbol("x", real=True)
    started = time.monotonic()
    with pytest.raises(SymbolicLimitError, match=r"--metric: the exponent 10000000000"):
        parse_expression("2**(x - x + 10**10)", {"x": x}, "--metric")
    assert time.monotonic() - started < 1
    assert parse_expression("2**(x - x + 1000)", {"x": x}) == 2**1000


@pytest.mark.parametrize("network", ["cosine", "cosine-literal", "gauss-net", "relu"])
@pytest.mark.parametrize("sigma", ["1/1000", "1000"])
def test_numbers_at_the_sigma_bounds_are_finite(capsys, network, sigma):
    """At both ends of [1/1000, 1000] every numeric JSON value of ``derive ntk`` is a finite, non-zero double."""
    argv = ["derive", "ntk", "--network", network, "--dim", "2", "--sigma-w", sigma, "--json"]
    if network in ("gauss-net", "relu"):
        argv += ["--sigma-b", sigma]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    numbers = [v for v in out.values() if isinstance(v, float)]
    assert numbers and all(math.isfinite(v) and v != 0 for v in numbers)


@pytest.mark.parametrize("expr", [sp.exp(1000), sp.exp(-1000), sp.nan])
def test_a_value_that_is_no_finite_double_is_a_named_error(expr):
    """An exact value that overflows, underflows to 0.0 or is NaN never reaches the JSON as a wrong number."""
    with pytest.raises(NonFiniteError, match="^normalization_A: the exact value"):
        numeric_value(expr, "normalization_A")
