"""Daily use of the command: ``--version``; no TensorFlow or absl log lines on stderr; JAX's
persistent compilation cache (a warm cache gives the cold result bit for bit, a damaged one is
recompiled silently with the same result, an unwritable folder turns it off with one line);
``flow run`` printing the fitted decay rate beside the theory's.

The cache and log tests run the command in subprocesses, as a user does: the cache and the log
settings are made when the command starts, before JAX is imported."""

import json
import math
import os
import re
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest

from flowtheory.cli import build_parser, compile_cache, main
from numerics.grid.presets import DEFAULT_STEPS, RATE_WINDOW

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
    """A symbolic command and one that imports every proof module and runs JAX (the Fubini-Study
    distance proof): stderr empty (no absl, XLA or TensorFlow lines); the cache is on by default and
    the compiled distance lands in it."""
    cache = tmp_path / "jax"
    for argv in (["derive", "ntk", "--network", "relu", "--dim", "1"], ["verify", "--only", "cyd-fs-distance", "--json"]):
        done = flowtheory(*argv, cache=cache)
        assert done.returncode == 0 and done.stdout and not NOISE.search(done.stdout)
        assert done.stderr == ""
    assert any("fs_distance" in p.name for p in cache.iterdir())


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


def _flow(capsys, tmp_path, preset: str) -> tuple[dict, str]:
    """``flow run PRESET`` at its defaults: the summary and what it printed (whitespace collapsed)."""
    out = tmp_path / preset
    assert main(["flow", "run", preset, "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    return json.loads((out / "summary.json").read_text()), printed


def test_flow_run_prints_the_fitted_decay_rate_beside_the_theory(tmp_path, capsys):
    """Calabi flow at its defaults (6000 RK4 steps on 12², to t = 0.028): the spread's decay rate,
    fitted over the last quarter of the run, is π⁴ — the (1, 0) modes of φ̇ ≈ -(¼Δ)²φ — within 0.1 %
    (measured 0.03 %).  Fitted over the whole run it is 10 % high or more: early on the (1, 1) modes,
    decaying at 4π⁴, still count."""
    summary, printed = _flow(capsys, tmp_path, "calabi-torus")
    rate, theory = summary["spread_decay_rate"], summary["spread_decay_rate_theory"]
    assert summary["steps"] == DEFAULT_STEPS["calabi-torus"] and theory == pytest.approx(math.pi**4, rel=1e-14)
    assert abs(rate / theory - 1) < 1e-3
    t0, t1 = summary["spread_decay_fit_t"]
    assert t1 == summary["t_final"] and RATE_WINDOW * t1 <= t0 < t1
    assert f"decay rate: fitted {rate:#.4g} (theory {theory:#.4g}, π⁴" in printed
    data = np.load(tmp_path / "calabi-torus" / "trajectory.npz")
    whole = -np.polyfit(data["ts"], np.log(data["spread"]), 1)[0]
    assert whole / theory - 1 > 0.1


@pytest.mark.slow  # the five presets at their defaults: about a minute of CPU
@pytest.mark.parametrize("preset", sorted(DEFAULT_STEPS))
def test_every_preset_fits_its_theory_rate_at_the_defaults(tmp_path, capsys, preset):
    """Within 0.1 % (measured 0.02 % ricci-t2, 0.08 % ricci-s2, 1e-8 kahler-ricci-torus, 0.03 %
    calabi-torus, 0.04 % ultralocal-torus): each default run is long enough for the slowest mode of
    the linearised flow to rule its last quarter."""
    summary, printed = _flow(capsys, tmp_path, preset)
    rate, theory = summary["spread_decay_rate"], summary["spread_decay_rate_theory"]
    assert abs(rate / theory - 1) < 1e-3, (rate, theory)
    assert f"decay rate: fitted {rate:#.4g} (theory {theory:#.4g}" in printed
