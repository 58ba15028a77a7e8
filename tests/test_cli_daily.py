"""Daily use of the command: ``--version``; no TensorFlow or absl log lines on stderr; JAX's
persistent compilation cache (a warm cache gives the cold result bit for bit, a damaged one is
recompiled silently with the same result, an unwritable folder turns it off with one line).

The commands run in subprocesses, as a user runs them: the cache and the log settings are made
when the command starts, before JAX is imported."""

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version

import pytest

from flowtheory.cli import build_parser, compile_cache, main

# absl's Python and C++ line formats, tsl's (XLA, TensorFlow), and the names themselves
NOISE = re.compile(r"^[IWEF]\d{4} |^\d{4}-\d\d-\d\d [\d:.]+: [IWEF] |tensorflow|absl|cuda", re.M | re.I)
SIGMA = ["quintic", "sigma", "--metric", "fs", "--n", "2000", "--seed", "1", "--json"]


def flowtheory(*argv: str, cache, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "TF_CPP", "XLA_"))}
    environ.update({compile_cache.ENV: str(cache), **env})
    return subprocess.run([sys.executable, "-m", "flowtheory.cli", *argv], capture_output=True, text=True, env=environ, timeout=600)


def result_of(done: subprocess.CompletedProcess) -> dict:
    """The command's JSON without the clock time of its run record."""
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    del result["run_record"]["created_utc"]
    return result


def test_version_names_the_installed_release(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"flowtheory {version('flowtheory')} (jax {version('jax')}, ") and out.count("\n") == 1


def test_commands_print_no_log_lines_and_a_jax_command_fills_the_cache(tmp_path):
    """A symbolic and a JAX command: stderr empty (no absl, XLA or TensorFlow lines); the cache is on
    by default and the sampler's executable lands in it."""
    cache = tmp_path / "jax"
    for argv in (["derive", "ntk", "--network", "relu", "--dim", "1"], ["quintic", "sigma", "--metric", "fs", "--n", "300", "--seed", "2"]):
        done = flowtheory(*argv, cache=cache)
        assert done.returncode == 0 and done.stdout and not NOISE.search(done.stdout)
        assert done.stderr == ""
    assert any("sample_block" in p.name for p in cache.iterdir())


@pytest.mark.slow  # three runs of a JAX command in fresh interpreters: about 30 s of CPU
def test_warm_and_damaged_caches_give_the_cold_result_bit_for_bit(tmp_path):
    """σ of 2000 quintic points: computed with an empty cache (which the run fills), again with the
    cache (its executables loaded: JAX logs each hit when JAX_LOG_COMPILES is set), and again after
    every cache file is overwritten with garbage or truncated (JAX recompiles).  The three JSON
    results are identical, floats included; stderr is empty (no absl/XLA/TensorFlow lines, no
    warning about the damaged entries)."""
    cache = tmp_path / "jax"
    cold = flowtheory(*SIGMA, cache=cache)
    entries = sorted(cache.iterdir())
    assert any("sample_block" in p.name for p in entries), entries
    warm = flowtheory(*SIGMA, cache=cache, JAX_LOG_COMPILES="1")
    assert re.search(r"Persistent compilation cache hit for 'jit__sample_block'", warm.stderr), warm.stderr[-2000:]
    for k, path in enumerate(sorted(cache.iterdir())):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if k % 2 else os.urandom(len(data)))
    damaged = flowtheory(*SIGMA, cache=cache)
    assert result_of(cold) == result_of(warm) == result_of(damaged)
    assert cold.stderr == damaged.stderr == ""
    assert not NOISE.search(warm.stderr)


def test_unwritable_cache_folder_turns_the_cache_off_with_one_line(tmp_path, monkeypatch, capsys):
    """What the command does before importing JAX (here in-process, on a patched environment)."""
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_ENABLE_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"):
        monkeypatch.delenv(name, raising=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(compile_cache.ENV, str(blocker / "jax"))
    assert compile_cache.configure() is None and os.environ["JAX_ENABLE_COMPILATION_CACHE"] == "false"
    assert capsys.readouterr().err == (
        f"flowtheory: compilation cache off: cannot write to {blocker / 'jax'} (set {compile_cache.ENV}=0 to turn it off, or to another folder)\n"
    )
    # --no-compile-cache: off without looking at the folder
    assert build_parser().parse_args(["--no-compile-cache", "verify", "--list"]).compile_cache is False
    monkeypatch.delenv("JAX_ENABLE_COMPILATION_CACHE")
    assert compile_cache.configure(False) is None and os.environ["JAX_ENABLE_COMPILATION_CACHE"] == "false"
    assert capsys.readouterr().err == ""
    # a writable folder: JAX is pointed at it, compilations from 0.05 s on are kept
    monkeypatch.setenv(compile_cache.ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("JAX_ENABLE_COMPILATION_CACHE")
    assert compile_cache.configure() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "cache") and "JAX_ENABLE_COMPILATION_CACHE" not in os.environ
    assert float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) == compile_cache.MIN_COMPILE_SECONDS
