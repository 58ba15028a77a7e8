"""The ``flowtheory`` command — the app layer.

Three layers, each importing only those below it: the symbolic layer (:mod:`flowtheory`, pure
sympy), the numeric layer (:mod:`numerics`, JAX; it may import :mod:`flowtheory`) and this app
layer on top.  ``flowtheory.cli`` is the one place in :mod:`flowtheory` that imports
:mod:`numerics`, and it does so lazily, inside the command handlers, so ``flowtheory --help`` and
the symbolic commands start fast.

Sub-commands live in one module each and register themselves through ``register(subparsers)``.
Every command that prints a result accepts ``--json`` (:mod:`flowtheory.cli.output`); user-typed
expressions go through :mod:`flowtheory.cli.expressions`.

The contract (README, "Command line"): bad input — a :class:`flowtheory.errors.FlowtheoryError`,
a :class:`CliError`, an argparse rejection, an unreadable or unwritable path, a request that
exhausts memory — prints one line ``flowtheory: error: ...`` on stderr, nothing on stdout, and exits
with status 2.  An interrupted run exits 130 (SIGINT) or 143 (SIGTERM) after its temporaries are
removed; a closed stdout (``| head``) ends the command silently with 141, as for other Unix tools;
anything else is a bug, reported as one line ``flowtheory: internal error: ...`` with status 1
(``FLOWTHEORY_TRACEBACK=1`` shows the traceback).

Before a command runs (and before it imports JAX), JAX's persistent compilation cache is pointed at
the user's cache folder (:mod:`flowtheory.cli.compile_cache`; ``--no-compile-cache`` or
``FLOWTHEORY_JAX_CACHE=0`` turns it off) and the C++ and absl log lines of XLA and its libraries are
kept off stderr; ``flowtheory --version`` prints the version and those of the libraries results
depend on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from flowtheory.cli import compile_cache
from flowtheory.cli.output import CliError
from flowtheory.errors import FlowtheoryError

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
_MESSAGE_LIMIT = 600


class Parser(argparse.ArgumentParser):
    """argparse with the command line's error contract: a rejection is one line on stderr, exit 2.

    Sub-parsers inherit the class (``add_subparsers`` builds them with ``type(parent)``).
    """

    def error(self, message: str):  # noqa: D401 - argparse's hook
        _fail(f"{self.prog}: {message} (see {self.prog} --help)")
        sys.exit(EXIT_BAD_INPUT)


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _fail(message: str, kind: str = "error") -> None:
    print(f"flowtheory: {kind}: {_one_line(message)}", file=sys.stderr)


def _os_message(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else "a file"
    return f"{where}: {exc.strerror or exc}"


def _is_memory_exhaustion(exc: BaseException) -> bool:
    """XLA reports an allocation it cannot make as ``RESOURCE_EXHAUSTED`` (a ``XlaRuntimeError``)."""
    return "RESOURCE_EXHAUSTED" in str(exc)[:2000] or "Out of memory" in str(exc)[:2000]


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that atomic writers remove their temporaries."""


class _Version(argparse.Action):
    """``--version``: read from the installed packages' metadata only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kwargs.get("help"))

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit()


def version_line() -> str:
    """``flowtheory X.Y.Z (jax …, jaxlib …, sympy …, Python …)``, from the installed distributions."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    libraries = ", ".join(f"{name} {installed(name)}" for name in ("jax", "jaxlib", "sympy"))
    return f"flowtheory {installed('flowtheory')} ({libraries}, Python {sys.version.split()[0]})"


def build_parser() -> argparse.ArgumentParser:
    from flowtheory.cli import derive_curvature, derive_functional, derive_ntk, flow, quintic, reproduce, verify

    parser = Parser(
        prog="flowtheory",
        description="Metric flows with neural networks: derive, verify, run.",
    )
    parser.add_argument("--version", action=_Version, help="print the version (and those of jax, jaxlib, sympy, Python) and exit")
    parser.add_argument(
        "--no-compile-cache", dest="compile_cache", action="store_false",
        help="compile every JAX function afresh instead of loading it from the cache folder (FLOWTHEORY_JAX_CACHE=0 does the same)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    derive = sub.add_parser("derive", help="derive kernels, functionals and curvature symbolically")
    derive_sub = derive.add_subparsers(dest="what", required=True, metavar="WHAT")
    for module in (derive_ntk, derive_functional, derive_curvature):
        module.register(derive_sub)
    for module in (verify, flow, quintic, reproduce):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring for the contract)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a rejection (already reported by Parser.error)
        return int(exc.code or 0)
    previous = _on_sigterm(_raise_terminated)
    try:
        _prepare_jax(args.compile_cache)
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe surfaces here, inside the contract, not at interpreter exit
        return status
    except (CliError, FlowtheoryError) as exc:
        _fail(str(exc))
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        _fail(_os_message(exc))
    except MemoryError:
        _fail("out of memory; ask for fewer points, a smaller grid or a smaller batch")
    except RecursionError:
        _fail("expression too deeply nested for symbolic work; simplify it")
    except KeyboardInterrupt:
        _fail("interrupted; a run with checkpoints continues with --resume", kind="stopped")
        return EXIT_INTERRUPTED
    except _Terminated:
        _fail("terminated; a run with checkpoints continues with --resume", kind="stopped")
        return EXIT_TERMINATED
    except Exception as exc:  # noqa: BLE001 - the last line of the contract
        if _is_memory_exhaustion(exc):
            _fail("out of memory on the accelerator (XLA RESOURCE_EXHAUSTED); ask for a smaller grid, fewer points or a smaller batch")
            return EXIT_BAD_INPUT
        if os.environ.get("FLOWTHEORY_TRACEBACK"):
            raise
        _fail(f"{type(exc).__name__}: {exc} (set FLOWTHEORY_TRACEBACK=1 for the traceback)", kind="internal error")
        return EXIT_INTERNAL
    finally:
        _on_sigterm(previous)
    return EXIT_BAD_INPUT


def _prepare_jax(compile_cache_on: bool) -> None:
    """What JAX reads when it is imported: the compilation cache, and no log lines on stderr other
    than errors — XLA's C++ INFO and WARNING lines (``TF_CPP_MIN_LOG_LEVEL=2`` unless set) and absl's
    Python warnings (optax and chex import absl).  No TensorFlow: no command imports it (the
    ``reference`` extra is the tests' only).  A process that has imported JAX already, a test or a
    notebook calling :func:`main`, keeps its own settings."""
    if "jax" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    compile_cache.configure(compile_cache_on)


def _on_sigterm(handler):
    """Install ``handler`` for SIGTERM (main thread only); returns the previous one."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _raise_terminated(signum, frame):
    raise _Terminated()


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so that Python's exit flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
