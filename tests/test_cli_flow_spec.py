"""``flowtheory flow run FILE.toml``: user-described flows, checked against closed forms, and bad files.

The shipped examples run here: ``docs/examples/kahler_ricci_torus.toml`` in the default tests,
``docs/examples/ricci_torus.toml`` in the slow ones (its Ricci flow is derived through Perelman's
functional, about 15 s, and compiled, as long again).  Closed forms: the unit round S² is Einstein, R_ij = g_ij, so Ricci flow (2.39) starts at ∂_t g = −2g; Gauss–Bonnet gives ∫R dV = 4πχ: 0 on the torus, 8π on the sphere.  The
right-hand side of the example file is compared with −2R_ij of its metric computed by
:mod:`flowtheory.riemann` and evaluated pointwise — a route that shares nothing with the jets, the
variation engine and the spectral derivatives of the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from flowtheory.cli import flow_spec, main

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
EXAMPLE = EXAMPLES / "ricci_torus.toml"

KAHLER = """
functional = "kahler-ricci"
coordinates = ["x", "y"]
potential = "cos(2*pi*x)*cos(2*pi*y)/(20*pi**2)"
[grid]
size = 8
[time]
integrator = "{integrator}"
dt = 0.002
steps = 20
save_every = 10
"""


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("flowtheory: error: "), captured.err
    return lines[0]


def test_kahler_example_runs_descends_and_documents_its_trajectory(tmp_path, capsys):
    """The Kähler–Ricci example: the entropy ∫η ln η falls at every saved step, φ keeps its mean
    (the right-hand side is made mean-free: the additive constant does not move g), and
    trajectory.npz holds the unit torus's coordinates and a description of every key."""
    out = tmp_path / "kr"
    assert main(["flow", "run", str(EXAMPLES / "kahler_ricci_torus.toml"), "--steps", "20", "--grid", "8", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 20 and summary["energy_monotone"] is True and summary["expected_monotone"] == "decreasing"
    assert summary["energy_final"] < summary["energy_initial"] and summary["spread_final"] < summary["spread_initial"]
    assert summary["run_record"]["parameters"]["definition"]["potential"] == "cos(2*pi*x)*cos(2*pi*y)/(20*pi**2)"
    assert summary["run_record"]["parameters"]["grid"] == [8, 8]
    with np.load(out / "trajectory.npz") as data:
        keys = set(data.files)
        description = json.loads(str(data["description"]))
        phi = data["phi"]
        assert phi.shape == (3, 8, 8) and data["ts"].shape == (3,)
        assert data["coordinates"].shape == (2, 8, 8) and list(data["coordinate_names"]) == ["x", "y"]
        assert np.allclose(data["coordinates"][1][0], np.arange(8) / 8, atol=1e-15)  # period 1
    assert np.max(np.abs(phi.mean(axis=(1, 2)))) < 1e-15
    assert np.max(np.abs(phi[-1] - phi[0])) > 1e-4  # it moved
    assert keys - {"phi"} == set(description) - {"FIELD"} and "FIELD" in description


def test_adaptive_stepper_saves_where_rk4_does():
    """``integrator = "tsit5"``: one adaptive solve, each saved state handed on in order at the steps
    and times RK4 would save them; dy/dt = −y gives e^{−t} to 1e-9."""
    import jax.numpy as jnp

    saved = []
    flow_spec.stepper("tsit5")(lambda t, y: {"y": -y["y"]}, {"y": jnp.ones(3)}, dt=0.01, n_steps=40, save_every=10, t0=0.5,
                               first_step=50, on_save=lambda step, t, y, d: saved.append((step, t, float(y["y"][0]))))
    assert [s for s, _, _ in saved] == [60, 70, 80, 90]
    assert np.allclose([t for _, t, _ in saved], [0.6, 0.7, 0.8, 0.9], atol=1e-15)
    assert np.max(np.abs(np.array([v for _, _, v in saved]) - np.exp(-np.array([0.1, 0.2, 0.3, 0.4])))) < 1e-9
    from numerics.grid.integrators import rk4

    assert flow_spec.stepper("rk4") is rk4


@pytest.mark.slow
def test_example_file_right_hand_side_is_minus_twice_ricci():
    """The example's compiled flow at t = 0 equals −2R_ij of its metric (riemann, evaluated pointwise) to 1e-12,
    and its functional ∫R dV is 0 (Gauss–Bonnet on T²) to spectral accuracy."""
    flow = flow_spec.load(EXAMPLE)
    prepared = flow.prepare(size=flow.size, sigma=0.0, dt=flow.dt)
    from flowtheory import riemann

    x, y = sp.symbols("x y", real=True)
    g = sp.Matrix([[sp.sympify(e, locals={"x": x, "y": y}) for e in row] for row in flow.metric])
    exact = sp.lambdify((x, y), -2 * riemann.ricci_tensor(g, (x, y)), "numpy")
    X, Y = prepared.coordinates()
    want = np.asarray(exact(X, Y), dtype=float)  # (2, 2, n, n)
    rhs = prepared.flow(0.0, prepared.initial)
    for i, j in ((0, 0), (0, 1), (1, 1)):
        assert np.max(np.abs(np.asarray(rhs[f"g_{i}{j}"]) - want[i, j])) < 1e-12
    assert abs(float(prepared.energy(prepared.initial))) < 1e-9
    assert prepared.coordinate_names == ("x", "y") and X.shape == (16, 16)


@pytest.mark.slow
def test_example_file_runs_and_documents_its_trajectory(tmp_path, capsys):
    out = tmp_path / "ricci"
    assert main(["flow", "run", str(EXAMPLE), "--steps", "10", "--save-every", "5", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 10 and summary["t_final"] == pytest.approx(10 * 0.002, rel=1e-12)
    assert summary["run_record"]["parameters"]["definition"]["functional"] == "ricci"
    # Gauss–Bonnet: ∫R dV = 0 along the flow; the metric moves towards flat, the spread of R falls
    assert max(abs(summary["energy_initial"]), abs(summary["energy_final"])) < 1e-8
    assert summary["spread_final"] < summary["spread_initial"]
    with np.load(out / "trajectory.npz") as data:
        keys = set(data.files)
        description = json.loads(str(data["description"]))
        assert data["g_01"].shape == (3, 16, 16) and data["ts"].shape == (3,)
        assert data["coordinates"].shape == (2, 16, 16) and list(data["coordinate_names"]) == ["x", "y"]
        assert np.allclose(data["coordinates"][0][:, 0], 2 * np.pi * np.arange(16) / 16, atol=1e-15)
    fields = {"g_00", "g_01", "g_11"}
    assert keys - fields == set(description) - {"FIELD"} and "FIELD" in description


@pytest.mark.slow
def test_round_sphere_from_a_json_file_starts_at_minus_two_g(tmp_path):
    """S² in (θ, φ), JSON: ∂_t g = −2g on the round metric to 1e-10 (the pole-free grid's nodes), ∫R dV = 8π."""
    path = tmp_path / "sphere.json"
    path.write_text(json.dumps({
        "functional": "ricci", "coordinates": ["theta", "phi"], "metric": "[[1, 0], [0, sin(theta)**2]]",
        "grid": {"manifold": "sphere", "size": 8}, "time": {"dt": 1e-4, "steps": 4},
    }))
    flow = flow_spec.load(path)
    prepared = flow.prepare(size=8, sigma=0.0, dt=flow.dt)
    theta = prepared.coordinates()[0]
    rhs = prepared.flow(0.0, prepared.initial)
    assert np.max(np.abs(np.asarray(rhs["g_00"]) + 2)) < 1e-10
    assert np.max(np.abs(np.asarray(rhs["g_01"]))) < 1e-10
    assert np.max(np.abs(np.asarray(rhs["g_11"]) + 2 * np.sin(theta) ** 2)) < 1e-10
    assert float(prepared.energy(prepared.initial)) == pytest.approx(8 * np.pi, rel=1e-10)


@pytest.mark.slow
def test_adaptive_and_fixed_steps_agree_on_a_kahler_flow(tmp_path, capsys):
    """Kähler–Ricci flow from a file, RK4 (dt = 0.002) against Tsit5 (rtol 1e-8): the same φ at t = 0.04 to 1e-8,
    and the entropy ∫η ln η decreasing at every saved step."""
    finals = {}
    for integrator in ("rk4", "tsit5"):
        path = tmp_path / f"{integrator}.toml"
        path.write_text(KAHLER.format(integrator=integrator))
        assert main(["flow", "run", str(path), "--out", str(tmp_path / integrator), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["energy_monotone"] is True and summary["energy_final"] < summary["energy_initial"]
        with np.load(tmp_path / integrator / "trajectory.npz") as data:
            finals[integrator] = data["phi"][-1]
            assert np.allclose(data["ts"], [0.0, 0.02, 0.04], atol=1e-15)
    assert np.max(np.abs(finals["rk4"] - finals["tsit5"])) < 1e-8
    assert np.max(np.abs(finals["rk4"])) > 1e-3  # φ moved: the comparison is not of two zeros


@pytest.mark.parametrize(
    "text, field, fragment",
    [
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\ncolour = 1\n[grid]\nsize = 8\n[time]\ndt = 0.1\nsteps = 1',
         "colour", "unknown key"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\n[grid]\nsize = 8\nshape = 1\n[time]\ndt = 0.1\nsteps = 1',
         "grid.shape", "unknown key"),
        ('coordinates = ["x", "y"]\n[grid]\nsize = 8', "functional", "missing"),
        ('functional = "perelman"\ncoordinates = ["x", "y"]', "functional", "backward heat equation"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\n[grid]\nsize = 7\n[time]\ndt = 0.1\nsteps = 1',
         "grid.size", "even"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\n[grid]\nsize = "8"\n[time]\ndt = 0.1\nsteps = 1',
         "grid.size", "expected an integer in [4, 1024]"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\n[grid]\nsize = 8\n[time]\ndt = 2\nsteps = 1',
         "time.dt", "(0, 1]"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\n[kernel]\nsigma = 0.1\n[grid]\nsize = 8\n[time]\ndt = 0.1\nsteps = 1',
         "kernel.sigma", "gaussian"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = [["1", "0"]]\n[grid]\nsize = 8\n[time]\ndt = 0.1\nsteps = 1',
         "metric", "2 rows of 2 entries"),
        ('functional = "ricci"\ncoordinates = ["x", "sin"]\nmetric = "[[1, 0], [0, 1]]"', "coordinates", "not a valid coordinate name"),
        ('functional = "ricci"\ncoordinates = ["x", "y", "w"]\nmetric = "[[1, 0], [0, 1]]"', "coordinates", "dimension 1 to 2"),
        ('functional = "mabuchi"\ncoordinates = ["x", "y"]\npotential = "0"\n[grid]\nsize = 8\n[time]\ndt = 0.1\nsteps = 1',
         "parameters.Rbar", "needs a value"),
        ('functional = "kahler-ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1]]"', "metric", "not metric"),
        ('functional = "ricci"\ncoordinates = ["x", "y"]\nmetric = "[[1, 0], [0, 1]]"\n[grid]\nsize = 8\n[time]\ndt = 0.1\nsteps = 1\n[time.x]',
         "time.x", "unknown key"),
        ('functional = "ricci"\ncoordinates = [', None, "not valid TOML"),
    ],
)
def test_bad_file_names_the_file_and_the_field(tmp_path, capsys, text, field, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    line = _one_line_error(capsys, ["flow", "run", str(path), "--out", str(tmp_path / "o")])
    assert str(path) in line and fragment in line
    if field is not None:
        assert f"field {field!r}" in line


@pytest.mark.parametrize(
    "potential, fragment",
    [("x/10", "not periodic in x with period 1"), ("2*cos(2*pi*x)/pi**2", "not positive definite"), ("a*cos(2*pi*x)", "give them values")],
)
def test_initial_data_that_is_not_a_metric_on_the_torus_is_refused(tmp_path, capsys, potential, fragment):
    """A potential that is not periodic, one with g = 1 + ∂∂̄φ = 1 + Δφ/4 = 1 − 2cos(2πx) < 0 somewhere,
    and one with a free constant."""
    path = tmp_path / "k.toml"
    path.write_text(KAHLER.format(integrator="rk4").replace("cos(2*pi*x)*cos(2*pi*y)/(20*pi**2)", potential))
    line = _one_line_error(capsys, ["flow", "run", str(path), "--out", str(tmp_path / "o")])
    assert str(path) in line and fragment in line
