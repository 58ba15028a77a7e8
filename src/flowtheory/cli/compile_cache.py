"""JAX's persistent compilation cache for the ``flowtheory`` command.

Every command that runs JAX compiles its functions with XLA when it starts (seconds on a CPU:
the σ-measure of 10^5 quintic points compiles for longer than it computes).  The command line
keeps the compiled executables in a folder, so that the next command with the same shapes loads
them instead: ``$FLOWTHEORY_JAX_CACHE`` if set, else JAX's own ``$JAX_COMPILATION_CACHE_DIR`` if
set, else ``$XDG_CACHE_HOME/flowtheory/jax`` (``~/.cache/flowtheory/jax``).
``FLOWTHEORY_JAX_CACHE=0`` or ``flowtheory --no-compile-cache COMMAND`` turns it off.

Only the command does this, when it starts and before it imports JAX; ``import flowtheory`` or
``import numerics`` never touch JAX's settings (nor does :func:`flowtheory.cli.main` called in a
process that has imported JAX already, a test or a notebook).

Why a cached executable cannot change a result: JAX looks an entry up by a SHA-256 key of the
lowered program (its HLO), the compile options, the devices and the versions of jax and jaxlib, so
a changed function, shape, dtype, flag or upgrade misses the entry and compiles afresh, and a hit
is the executable XLA would build again.  An entry is zlib-compressed with a checksum: a damaged
or truncated file fails to decompress, JAX warns and compiles the function again (the warning is
silenced here: the run is correct, only slower).  A folder that cannot be created or written turns
the cache off for that command, with one status line.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from flowtheory.cli.output import say

ENV = "FLOWTHEORY_JAX_CACHE"
OFF = ("0", "off", "no", "false", "")
MIN_COMPILE_SECONDS = 0.05
"""Compilations at least this long are cached (JAX's default, 1 s, keeps none of the quintic
pipeline's: each of its dozens of functions compiles in 0.05 to 0.6 s on a CPU); shorter ones cost
less to compile than to load."""


def cache_folder(environ: dict[str, str] = os.environ) -> Path | None:
    """The cache folder the environment asks for (module docstring), or ``None`` when it is off.

    >>> cache_folder({"HOME": "/home/ada"})
    PosixPath('/home/ada/.cache/flowtheory/jax')
    >>> cache_folder({"XDG_CACHE_HOME": "/var/cache/ada", "JAX_COMPILATION_CACHE_DIR": "/jax"})
    PosixPath('/jax')
    >>> cache_folder({"FLOWTHEORY_JAX_CACHE": "/scratch/jax", "JAX_COMPILATION_CACHE_DIR": "/jax"})
    PosixPath('/scratch/jax')
    >>> cache_folder({"FLOWTHEORY_JAX_CACHE": "0"}) is None
    True
    """
    chosen = environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in OFF else Path(chosen).expanduser()
    if environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(environ["JAX_COMPILATION_CACHE_DIR"]).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    home = Path(xdg) if os.path.isabs(xdg) else Path(environ.get("HOME", "~")).expanduser() / ".cache"
    return home / "flowtheory" / "jax"


def configure(enabled: bool = True) -> Path | None:
    """Point JAX at the cache folder (or turn the cache off); call it before JAX is imported.

    Returns the folder in use, or ``None`` when the cache is off, also when the folder cannot be
    written (one status line).
    """
    folder = cache_folder() if enabled else None
    if folder is not None and not _writable(folder):
        say(f"compilation cache off: cannot write to {folder} (set {ENV}=0 to turn it off, or to another folder)")
        folder = None
    if folder is None:
        os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"
        return None
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(folder)
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = str(MIN_COMPILE_SECONDS)
    # a damaged entry: JAX recompiles and warns; the result is the same, so the warning is noise
    warnings.filterwarnings("ignore", message="Error (reading|writing) persistent compilation cache entry")
    return folder


def _writable(folder: Path) -> bool:
    """Whether ``folder`` exists (or can be made) and takes a new file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
