"""The proof dependency graph: a DAG with the declared edges, named errors for broken graphs,
dependency order, blocked dependents of a failing proof, and ``flowtheory verify --graph``.

Failing proofs are small :class:`Proof` objects built here; no real proof is made to fail."""

import json
import math
import subprocess
import sys

import networkx as nx
import pytest

import flowtheory_proofs
from flowtheory.cli import main
from flowtheory.errors import ProofGraphError
from flowtheory.proof import Check, Outcome, Proof, dependency_graph, dependency_order, run_proofs
from flowtheory_proofs import all_proofs, proof_graph


def _fake(pid: str, depends_on=(), passes=True, calls=None) -> Proof:
    def body() -> Outcome:
        if calls is not None:
            calls.append(pid)
        check = Check("error", 0.0 if passes else math.inf, 1.0)
        return Outcome(derived=pid, printed=None, matches_print=True, checks=(check,))

    return Proof(id=pid, title=pid, equations=(), body=body, depends_on=tuple(depends_on))


def test_graph_of_all_proofs_is_a_dag_with_exactly_the_declared_edges():
    proofs = all_proofs()
    graph = proof_graph()
    assert nx.is_directed_acyclic_graph(graph)
    assert set(graph) == {p.id for p in proofs}
    assert set(graph.edges) == {(dep, p.id) for p in proofs for dep in p.depends_on}
    # (2.30)'s numeric limit uses the Gaussian family (2.27)
    assert ("ntk-gaussian-2.27-2.31", "nflow-nonlocal-limit") in graph.edges
    position = {p.id: n for n, p in enumerate(dependency_order(graph))}
    assert all(position[a] < position[b] for a, b in graph.edges)


def test_broken_graphs_raise_a_named_error():
    with pytest.raises(ProofGraphError, match="'b' depends on 'missing'"):
        dependency_graph([_fake("b", ["missing"])])
    with pytest.raises(ProofGraphError, match="cycle"):
        dependency_graph([_fake("a", ["c"]), _fake("b", ["a"]), _fake("c", ["b"])])
    with pytest.raises(ProofGraphError, match="duplicate"):
        dependency_graph([_fake("a"), _fake("a")])


def test_dependents_of_a_failing_proof_are_blocked_and_not_run():
    calls = []
    proofs = [
        _fake("c", ["b"], calls=calls),
        _fake("b", ["a"], calls=calls),
        _fake("a", passes=False, calls=calls),
        _fake("d", calls=calls),
        _fake("e", ["d", "a"], calls=calls),
        _fake("f", ["d"], calls=calls),
    ]
    results = {r.id: r for r in run_proofs(proofs)}
    assert calls == ["a", "d", "f"]  # dependencies first; blocked proofs never run
    assert {i: r.verdict for i, r in results.items()} == {
        "a": "fails", "b": "blocked", "c": "blocked", "d": "agrees", "e": "blocked", "f": "agrees",
    }  # fmt: skip
    assert results["b"].blocked_by == ("a",) and results["c"].blocked_by == ("b",) and results["e"].blocked_by == ("a",)
    assert results["c"].to_json()["blocked_by"] == ["b"] and results["c"].checks == ()


@pytest.fixture
def fake_proofs(monkeypatch):
    calls = []
    proofs = [_fake("root", passes=False, calls=calls), _fake("leaf", ["root"], calls=calls), _fake("free", calls=calls)]
    monkeypatch.setattr(flowtheory_proofs, "all_proofs", lambda: proofs)
    return calls


def test_verify_reports_blocked_in_json_and_table_with_exit_status_1(fake_proofs, capsys):
    assert main(["verify", "--json"]) == 1
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["leaf"]["verdict"] == "blocked" and rows["leaf"]["blocked_by"] == ["root"]
    assert rows["root"]["verdict"] == "fails" and rows["free"]["verdict"] == "agrees"
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert "blocked" in out and "leaf: blocked, not run: it depends on root" in out


def test_verify_only_runs_the_dependencies_first(fake_proofs, capsys):
    assert main(["verify", "--only", "leaf", "--json"]) == 1
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["root", "leaf"]
    assert fake_proofs == ["root"]


def test_verify_graph_prints_every_edge_and_draws_a_png(tmp_path, capsys):
    graph = proof_graph()
    assert main(["verify", "--graph"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {a} -> {b}\n" in out for a, b in graph.edges)
    png = tmp_path / "proofs.png"
    assert main(["verify", "--graph", "--out", str(png), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {tuple(e) for e in result["edges"]} == set(graph.edges)
    assert [n["id"] for n in result["nodes"]] == result["order"] and set(result["order"]) == set(graph)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and result["png"] == str(png)
    # an existing --out file is refused, as for every command, unless --overwrite
    assert main(["verify", "--graph", "--out", str(png)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert main(["verify", "--graph", "--out", str(png), "--overwrite", "--json"]) == 0


def test_verify_graph_of_one_proof_holds_its_dependencies(capsys):
    assert main(["verify", "--only", "nflow-nonlocal-limit", "--graph", "--json"]) == 0
    order = json.loads(capsys.readouterr().out)["order"]
    assert order[-1] == "nflow-nonlocal-limit"
    assert set(order) == {"nflow-nonlocal-limit"} | nx.ancestors(proof_graph(), "nflow-nonlocal-limit")


def test_commands_and_proof_modules_import_no_tensorflow():
    """neural-tangents (and tensorflow through tf2jax) is the tests' reference only (the
    ``reference`` extra): the command line and the proofs never import it."""
    code = (
        "import sys\n"
        "from flowtheory.cli import build_parser\n"
        "from flowtheory.cli import derive_curvature, derive_functional, derive_ntk, flow, quintic, quintic_distances, quintic_points, verify\n"
        "import numerics, numerics.nn, numerics.grid, numerics.cy, numerics.io\n"
        "from flowtheory_proofs import all_proofs\n"
        "build_parser(); all_proofs()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf2jax', 'neural_tangents')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
