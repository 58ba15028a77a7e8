"""``flowtheory verify``: a progress line per proof on stderr, the summary line, the table within
100 columns with each error's kind, ``--only`` by id, prefix or glob, a miss as one line, ``--list``.

The real proofs run here are two fast symbolic ones; the table's layout under long content and its
error kinds are checked with small :class:`Proof` objects built here."""

import collections
import json
import math
import re

import networkx as nx
import pytest
from rich.cells import cell_len

import flowtheory_proofs
from flowtheory.cli import main
from flowtheory.cli.verify import WIDTH
from flowtheory.errors import InvalidParameterError
from flowtheory.proof import Check, Outcome, Proof
from flowtheory_proofs import all_proofs, proof_graph

# a bare prefix and a glob
FAST = ["geom-B2", "func-et?"]
PROGRESS = re.compile(r"flowtheory: verify \[(\d+)/(\d+)\] (\S+): (agrees after correction|agrees|fails) \((\d+\.\d) s\)")
SUMMARY = re.compile(r"(\d+) proofs?: (\d+) agree, (\d+) agree after correction, (\d+) fail, (\d+) blocked")


def test_progress_lines_table_and_summary_agree_with_the_json_verdicts(capsys):
    status_json = main(["verify", "--only", *FAST, "--json"])
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert captured.err == ""  # --json: no progress lines
    assert {r["id"] for r in rows} == {"geom-B2-real-metric", "func-eta"}

    status = main(["verify", "--only", *FAST])
    out, err = capsys.readouterr()
    progress = [PROGRESS.fullmatch(line) for line in err.splitlines()]
    assert all(progress) and len(progress) == len(rows), err
    # one line per proof, numbered in the order they ran, with the verdict the JSON reports
    assert [(int(m[1]), int(m[2])) for m in progress] == [(k, len(rows)) for k in range(1, len(rows) + 1)]
    assert [(m[3], m[4]) for m in progress] == [(r["id"], r["verdict"]) for r in rows]
    assert status == status_json == (1 if any(r["verdict"] in ("fails", "blocked") for r in rows) else 0)

    lines = out.splitlines()
    assert max(map(cell_len, lines)) <= WIDTH  # terminal columns (a combining accent takes none)
    summary = SUMMARY.fullmatch(lines[-1])
    counts = collections.Counter(r["verdict"] for r in rows)
    assert summary and tuple(map(int, summary.groups())) == (
        len(rows), counts["agrees"], counts["agrees after correction"], counts["fails"], counts["blocked"],
    )


def _proof(pid: str, checks=(), equations=(), correction=None, depends_on=()) -> Proof:
    def body() -> Outcome:
        return Outcome(derived=pid, printed="printed" if correction else None, matches_print=correction is None,
                       correction=correction, checks=tuple(checks))

    return Proof(id=pid, title=pid, equations=tuple(equations), body=body, depends_on=tuple(depends_on))


def test_table_fits_100_columns_and_states_each_error_kind(monkeypatch, capsys):
    """A 34-character id, 30 equations and a long correction fit 100 columns; nothing is cut."""
    correction = "the printed normalisation " * 20 + "x" * 150  # prose and one unbreakable word
    proofs = [
        _proof("z", [Check("max |mean − exact|/SE over 10 pairs", 1.5, 4.0)]),
        _proof("rel", [Check("relative gap", 3e-3, 1e-2), Check("|a − b|", 1e-20, 1e-12)]),
        _proof("an-identifier-of-thirty-four-chars", [Check("|d − 1/2|", 2e-14, 1e-13, error_kind="absolute")],
               equations=[f"B.{k}" for k in range(30)], correction=correction),
        _proof("broken", [Check("error", math.inf, 1.0)]),
        _proof("after-broken", depends_on=["broken"]),
    ]
    monkeypatch.setattr(flowtheory_proofs, "all_proofs", lambda: proofs)
    assert main(["verify", "--json"]) == 1
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    # the check nearest its tolerance (largest error/tolerance), not the largest error
    assert rows["rel"]["worst_check"] == {"name": "relative gap", "error": 3e-3, "error_kind": "relative", "tolerance": 1e-2, "passed": True}
    assert rows["rel"]["max_error"] == 3e-3 and rows["rel"]["worst_error_to_tolerance"] == pytest.approx(0.3, rel=1e-15)
    assert [c["error_kind"] for c in rows["rel"]["checks"]] == ["relative", "absolute"]
    assert rows["broken"]["worst_check"]["error"] is None and rows["after-broken"]["worst_check"] is None
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(map(cell_len, lines)) <= WIDTH  # terminal columns (a combining accent takes none)
    cell = {row.split()[1]: row for row in lines if row.startswith("│")}
    assert "1.5 z" in cell["z"] and "0.003 rel" in cell["rel"] and "2e-14 abs" in cell["an-identifier-of-thirty-four-chars"]
    assert "".join(out.split()).count("".join(correction.split())) == 1
    assert lines[-1] == "5 proofs: 2 agree, 1 agree after correction, 1 fail, 1 blocked"


def test_a_check_states_its_error_kind_or_has_it_read_off_its_name():
    assert Check("max |Θ − c Θ'| / max|Θ|", 1e-15, 1e-14).error_kind == "relative"
    assert Check("|slope + 1/2|/SE of log RMS", 0.3, 4.0).error_kind == "z-score"
    assert Check("|slope + 1/2|/SE of log RMS", 0.3, 4.0, error_kind="absolute").error_kind == "absolute"
    with pytest.raises(InvalidParameterError, match="error_kind"):
        Check("gap", 0.0, 1.0, error_kind="percent")


def _listed(capsys, *patterns) -> list[str]:
    assert main(["verify", "--only", *patterns, "--list", "--json"]) == 0
    return [p["id"] for p in json.loads(capsys.readouterr().out)]


@pytest.mark.parametrize(
    "pattern, chosen",
    [
        ("kernel-", lambda i: i.startswith("kernel-")),
        ("ntk", lambda i: i.startswith("ntk")),  # a bare prefix: not mc-frozen-ntk-…
        ("mc-*-relu", lambda i: i.startswith("mc-") and i.endswith("-relu")),
        ("geom-B?-*", lambda i: re.fullmatch(r"geom-B.-.*", i) is not None),
        ("kernel-relu", lambda i: i == "kernel-relu"),
    ],
)
def test_only_takes_ids_prefixes_and_globs_with_their_dependencies(capsys, pattern, chosen):
    graph = proof_graph()
    picked = {i for i in graph if chosen(i)}
    assert picked
    expected = picked.union(*(nx.ancestors(graph, i) for i in picked))
    listed = _listed(capsys, pattern)
    assert set(listed) == expected and len(listed) == len(expected)


def test_only_that_matches_nothing_is_one_line_naming_the_close_ids(capsys):
    assert main(["verify", "--only", "kernel-", "relu", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("flowtheory: error: unknown proof id(s): relu;")
    assert "kernel-relu" in err and "mc-frozen-ntk-relu" in err and "--list" in err


def test_list_prints_every_id_with_its_equations_and_runs_nothing(monkeypatch, capsys):
    proofs = all_proofs()
    assert main(["verify", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [p.id for p in proofs]
    assert all(line.split(maxsplit=1)[1] == (", ".join(p.equations) or "—") for line, p in zip(lines, proofs))
    assert main(["verify", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["id"], p["equations"], p["depends_on"]) for p in listed] == [(p.id, list(p.equations), list(p.depends_on)) for p in proofs]
    # --list runs nothing: a proof that would fail is listed, not run
    monkeypatch.setattr(flowtheory_proofs, "all_proofs", lambda: [_proof("broken", [Check("error", math.inf, 1.0)])])
    assert main(["verify", "--list"]) == 0 and capsys.readouterr().out.split() == ["broken", "—"]
