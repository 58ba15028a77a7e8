"""Bad input at the command line, per command: ``flow run``, ``quintic sample|sigma|distances|cluster``
and the contract's general cases (closed stdout, memory, unexpected errors).

Each case asserts the contract of README "Command line": exit status 2, exactly one line on stderr
starting ``flowtheory: error:`` that names the option, file or bound at fault, nothing on stdout
(every case passes ``--json``), and no file in the output folder half-written, replaced or mixed
(the folder's files are byte-for-byte what they were).  Every case fails before any heavy work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from flowtheory.cli import main


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_rejected(argv, fragment, capsys, folder):
    before = _snapshot(folder)
    assert main([*argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowtheory: error: "), captured.err
    assert fragment in lines[0], lines[0]
    assert _snapshot(folder) == before  # nothing written, replaced or left half-done


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder with an ordinary file, an earlier flow run and an earlier distances run in it."""
    from flowtheory.cli.quintic_distances import DISTANCES_FORMAT
    from numerics.io.records import write_record

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "old_run").mkdir()
    (tmp_path / "old_run" / "summary.json").write_text("{}")
    rows = [{"n": 100, "repeat": 0, "min": 0.1, "mean": 0.3, "mean_se": 0.01, "max": 0.6}]
    record = {"samples": rows, "run_record": {"seed": 0, "parameters": {"block": 128, "threshold": 1e-8, "surface": "fermat quintic"}}}
    write_record(tmp_path / "dist" / "quintic_distances.json", DISTANCES_FORMAT, record)
    forged = tmp_path / "forged"
    forged.mkdir()
    data = json.loads((tmp_path / "dist" / "quintic_distances.json").read_text())
    data["samples"][0]["mean"] = 0.2
    (forged / "quintic_distances.json").write_text(json.dumps(data))
    (tmp_path / "truncated").mkdir()
    (tmp_path / "truncated" / "quintic_distances.json").write_text('{"format": "flowtheory.quintic.distances/1", "samp')
    return tmp_path


FLOW = ["flow", "run", "ultralocal-torus", "--grid", "8", "--steps", "4"]
FLOW_CASES = [
    (["flow", "run", "no-such-flow", "--out", "x"], "unknown flow preset"),
    ([*FLOW, "--steps", str(10**12)], "--steps: expected an integer in [1, 10000000]"),
    ([*FLOW, "--steps", "0"], "--steps"),
    ([*FLOW, "--steps", "1e3"], "--steps"),
    ([*FLOW, "--seed", str(10**23)], "--seed: expected an integer in [0, 4294967295]"),
    ([*FLOW, "--seed", "-1"], "--seed"),
    ([*FLOW, "--sigma", "1e200"], "--sigma: expected a number in [0, 10]"),
    ([*FLOW, "--sigma", "nan"], "--sigma"),
    ([*FLOW, "--dt", "inf"], "--dt"),
    ([*FLOW, "--dt", "0"], "--dt"),
    ([*FLOW, "--grid", "7"], "--grid must be an even integer"),
    ([*FLOW, "--grid", str(10**6)], "--grid: expected an integer in [4, 1024]"),
    ([*FLOW, "--save-every", "3"], "--save-every must be a positive divisor of --steps (4)"),
    ([*FLOW, "--resume", "--overwrite"], "not allowed with argument"),
    ([*FLOW, "--out", "nowhere", "--resume"], "no checkpoint at nowhere/checkpoint.npz"),
    ([*FLOW, "--out", "a_file"], "--out a_file: exists and is not a folder"),
    ([*FLOW, "--out", "/proc/flowtheory-test"], "cannot create the folder"),
    ([*FLOW, "--out", "old_run"], "already holds the results of a run (summary.json)"),
    ([*FLOW, "--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["flow"], "required"),
]

SAMPLE = ["quintic", "sample", "--n", "10", "--out", "pts.npz"]
SAMPLE_CASES = [
    (["quintic", "sample", "--n", "0", "--out", "p.npz"], "--n: expected an integer in [1, 2000000]"),
    (["quintic", "sample", "--n", str(10**15), "--out", "p.npz"], "--n"),
    ([*SAMPLE, "--psi", "1e200"], "--psi: expected |psi| <= 100"),
    ([*SAMPLE, "--psi", "nan"], "--psi"),
    ([*SAMPLE, "--psi", "1"], "singular"),
    ([*SAMPLE, "--psi", "two"], "--psi: expected a complex number"),
    ([*SAMPLE, "--seed", str(2**32)], "--seed"),
    ([*SAMPLE, "--same-patch", "--chart", "2", "2"], "--chart: the eliminated coordinate must differ"),
    ([*SAMPLE, "--same-patch", "--chart", "0", "7"], "--chart"),
    (["quintic", "sample", "--n", "10", "--out", "p.txt"], "ending in .npz"),
    (["quintic", "sample", "--n", "10", "--out", "folder.npz"], "--out folder.npz: is a folder"),
    (["quintic", "sample", "--n", "10", "--out", "garbage.npz"], "--out garbage.npz already exists; pass --overwrite"),
    (["quintic", "sample", "--n", "10", "--out", "/proc/p.npz"], "cannot write there"),
    (["quintic", "sample", "--n", "10", "--out", "a_file/p.npz"], "a_file: exists and is not a folder"),
]

SIGMA_CASES = [
    (["quintic", "sigma", "--metric", "fs", "--points", "missing.npz"], "missing.npz: not a readable point file"),
    (["quintic", "sigma", "--metric", "fs", "--points", "garbage.npz"], "garbage.npz: not a readable point file"),
    (["quintic", "sigma", "--metric", "fs", "--points", "folder.npz"], "folder.npz: not a readable point file"),
    (["quintic", "sigma", "--metric", "fs", "--points", "a_file", "--n", "5"], "not allowed with argument"),
    (["quintic", "sigma", "--metric", "ricci", "--n", "5"], "invalid choice: 'ricci'"),
    (["quintic", "sigma", "--metric", "fs", "--n", "5", "--psi", "1e200"], "--psi"),
]

DISTANCES = ["quintic", "distances", "--n", "100"]
DISTANCES_CASES = [
    (["quintic", "distances", "--n", "1"], "every N must be an integer in [2, 200000]"),
    (["quintic", "distances", "--n", str(10**9)], "every N must be"),
    (["quintic", "distances", "--n", "100,100"], "distinct"),
    (["quintic", "distances", "--n", ",".join(["5"] * 400)], "--n"),
    ([*DISTANCES, "--repeats", "0"], "--repeats"),
    ([*DISTANCES, "--block", "0"], "--block"),
    ([*DISTANCES, "--seed", str(10**23)], "--seed"),
    ([*DISTANCES, "--out", "a_file"], "--out a_file: exists and is not a folder"),
    ([*DISTANCES, "--out", "dist"], "already holds the results of a run (quintic_distances.json)"),
    ([*DISTANCES, "--out", "nothing_here", "--resume"], "--resume: no earlier run at nothing_here/quintic_distances.json"),
    ([*DISTANCES, "--out", "dist", "--resume", "--seed", "9"], "was made with --seed 0, not 9"),
    ([*DISTANCES, "--out", "dist", "--resume", "--block", "64"], "was made with block = 128"),
    ([*DISTANCES, "--out", "forged", "--resume"], "forged/quintic_distances.json: field 'digest'"),
    ([*DISTANCES, "--out", "truncated", "--resume"], "truncated/quintic_distances.json: not a readable JSON record"),
    ([*DISTANCES, "--resume", "--overwrite"], "not allowed with argument"),
]

CLUSTER = ["quintic", "cluster", "--n", "100", "--batches", "2"]
CLUSTER_CASES = [
    ([*CLUSTER, "--clusters", "1"], "--clusters"),
    (["quintic", "cluster", "--n", "10", "--batches", "20", "--clusters", "2"], "--batches 20 exceeds --n 10"),
    (["quintic", "cluster", "--n", str(10**9), "--batches", "2", "--clusters", "2"], "--n: expected an integer in [2, 50000]"),
    ([*CLUSTER, "--clusters", "2", "--out", "/proc/c"], "cannot create the folder"),
]


@pytest.mark.parametrize("argv,fragment", FLOW_CASES + SAMPLE_CASES + SIGMA_CASES + DISTANCES_CASES + CLUSTER_CASES,
                         ids=lambda v: " ".join(v)[:70] if isinstance(v, list) else None)
def test_bad_input_is_one_line_exit_2_and_leaves_files_alone(argv, fragment, work, capsys):
    assert_rejected(argv, fragment, capsys, work)


def test_help_is_not_an_error(capsys):
    assert main(["flow", "run", "--help"]) == 0
    text = capsys.readouterr().out
    assert "1 to 10000000" in text and "0 to 2**32-1" in text  # the bounds are said in --help


def test_out_of_memory_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    """MemoryError (numpy) and XLA's RESOURCE_EXHAUSTED both end as exit 2 with a hint."""
    from flowtheory.cli import quintic_points

    for error in (MemoryError(), RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 80000000000 bytes.")):
        def exhausted(args, error=error):
            raise error

        monkeypatch.setattr(quintic_points, "run_sigma", exhausted)
        assert main(["quintic", "sigma", "--metric", "fs", "--n", "5", "--json"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("flowtheory: error: out of memory")


def test_an_unexpected_failure_is_one_line_with_status_1(monkeypatch, capsys):
    from flowtheory.cli import quintic_points

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(quintic_points, "run_sigma", broken)
    monkeypatch.delenv("FLOWTHEORY_TRACEBACK", raising=False)
    assert main(["quintic", "sigma", "--metric", "fs", "--n", "5", "--json"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("flowtheory: internal error: ZeroDivisionError: division by zero")


def _cli(*argv, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "flowtheory.cli", *argv], stderr=subprocess.PIPE, **kwargs)


def test_a_closed_stdout_ends_silently(tmp_path):
    """``flowtheory ... | head -c 10``: no traceback, status 141 (128 + SIGPIPE) as for other tools."""
    proc = _cli("quintic", "sample", "--n", "200", "--out", str(tmp_path / "p.npz"), "--json", stdout=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE and err == ""
    assert (tmp_path / "p.npz").exists()  # the result file itself was written whole


def test_sigterm_stops_a_run_cleanly_and_it_resumes(tmp_path):
    """A terminated flow run exits 143 with one line, leaves no temporary and can be resumed."""
    out = tmp_path / "run"
    proc = _cli("flow", "run", "ultralocal-torus", "--grid", "8", "--dt", "0.0001", "--steps", "2000000",
                "--save-every", "1000", "--out", str(out), "--json", stdout=subprocess.DEVNULL)
    deadline = 120
    import time

    start = time.monotonic()
    while not (out / "checkpoint.npz").exists() and time.monotonic() - start < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert err.count("\n") == 1 and err.startswith("flowtheory: stopped: terminated")
    assert not list(out.glob(".*.tmp"))
    step = int(np.load(out / "checkpoint.npz")["step"])
    assert step >= 1000 and step % 1000 == 0
    env = {**os.environ}
    done = subprocess.run([sys.executable, "-m", "flowtheory.cli", "flow", "run", "ultralocal-torus", "--grid", "8", "--dt", "0.0001",
                           "--steps", str(step + 1000), "--out", str(out), "--resume", "--json"], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["resumed_from"]["step"] == step
