"""``flowtheory reproduce``: the report's structure, every number finite with an error bar, the self-contained
HTML, and an interrupted run resumed after its first stage.  The default run checks two cheap stages; the
whole tiny report (every stage) runs with ``-m slow``."""

import base64
import io
import json
import math
import re
from html.parser import HTMLParser

import pytest

from flowtheory.cli import main
from flowtheory.cli.reproduce import REPRODUCE_FORMAT, STAGES
from numerics.io.records import read_record


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tables, self.open = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag not in ("meta", "br"):
            self.open.append(tag)
            self.tables += tag == "table"

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"unbalanced </{tag}>"


def check_report(folder, stages):
    """results.json, report.md and report.html of a run holding ``stages``: numbers finite with error bars, figures embedded."""
    import matplotlib.image

    results = read_record(folder / "results.json", REPRODUCE_FORMAT)
    assert list(results["stages"]) == [s for s in STAGES if s in stages]
    for name, stage in results["stages"].items():
        assert stage["headline"] and stage["claims"] and stage["seconds"] > 0
        for row in stage["headline"]:
            if isinstance(row["value"], (int, float)):
                assert math.isfinite(row["value"]), (name, row)
                assert row["error_kind"], (name, row)  # every number says what its error is
                if name != "theory" and "no error" not in row["error_kind"] and "one network" not in row["error_kind"]:
                    assert row["error"] is not None and math.isfinite(row["error"]) and row["error"] >= 0, (name, row)
    assert {c["claim"] for s in results["stages"].values() for c in s["claims"]} == {c["claim"] for c in results["summary"]}
    markdown = (folder / "report.md").read_text()
    assert markdown.startswith("# ") and "## Summary: the paper's claims" in markdown
    for name in results["stages"]:
        assert f"## Section {results['stages'][name]['section']}" in markdown
    page = _Page()
    page.feed((folder / "report.html").read_text())
    assert not page.open and page.tables >= 1 + len(stages)
    figures = [f for s in results["stages"].values() for f in s["figures"]]
    assert len(page.images) == len(figures) >= 1
    for src in page.images:  # self-contained: every image is PNG data that decodes
        assert src.startswith("data:image/png;base64,")
        image = matplotlib.image.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
        assert image.shape[0] > 100 and image.shape[1] > 100
    return results


def test_two_stages_with_an_interruption_after_the_first(tmp_path, capsys, monkeypatch):
    import flowtheory.cli.reproduce as reproduce

    argv = ["reproduce", "--scale", "tiny", "--only", "distances", "clustering", "--out", str(tmp_path)]
    real = reproduce.RUNNERS["distances"]

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setitem(reproduce.RUNNERS, "distances", interrupted)  # clustering runs first, then the run stops
    assert main(argv) == 130
    partial = read_record(tmp_path / "results.json", REPRODUCE_FORMAT)
    assert list(partial["stages"]) == ["clustering"]
    monkeypatch.setitem(reproduce.RUNNERS, "distances", real)
    capsys.readouterr()
    assert main([*argv, "--resume", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stages"]["clustering"] == partial["stages"]["clustering"]  # kept, not rerun
    results = check_report(tmp_path, ["clustering", "distances"])
    silhouettes = {h["name"]: h for h in results["stages"]["clustering"]["headline"]}
    assert all(-1 <= h["value"] <= 1 and h["error_kind"].startswith("seed spread (2 seeds)") for h in silhouettes.values())
    fit = results["stages"]["distances"]["headline"][1]
    assert fit["paper"] == -0.184 and -0.3 < fit["value"] < -0.05  # μ falls with N, near the dimension argument's −1/6
    assert main([*argv, "--resume", "--scale", "quick"]) == 2
    assert "same --scale" in capsys.readouterr().err


def test_an_existing_report_is_not_replaced_silently(tmp_path, capsys):
    (tmp_path / "results.json").write_text("{}")
    assert main(["reproduce", "--scale", "tiny", "--only", "distances", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowtheory: error:") and "--overwrite" in err and err.count("\n") == 1


@pytest.mark.slow
def test_the_whole_tiny_report(tmp_path, capsys):
    """Every stage at the tiny scale, end to end (several minutes on 2 cores)."""
    assert main(["reproduce", "--scale", "tiny", "--out", str(tmp_path), "--json"]) == 0
    results = check_report(tmp_path, STAGES)
    assert results["stages"]["theory"]["counts"]["fails"] == 0
    assert re.search(r"\d+ proofs: \d+ agree", (tmp_path / "report.md").read_text())
