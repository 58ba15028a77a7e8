"""Rich notebook output (:mod:`flowtheory.reprs`): escaped, well-formed HTML tables that state the
objects' numbers, LaTeX that renders, and sample summaries that never hold the points.

The last tests run the library in a Jupyter notebook: a notebook built here (nbformat) and executed
in a fresh kernel (nbclient, ipykernel: this interpreter) displays a functional, a flow spec, a proof
result, a point sample, its σ-measure and the results of a kernel flow, a training run and
Donaldson's construction.  Each display must carry its rich MIME type — LaTeX for the symbolic
objects, HTML for the results — the HTML must parse with every tag closed, its numbers must be the
objects' (to the 4 significant digits shown), and every formula of the LaTeX must typeset with
matplotlib's mathtext."""

import io
import json
import re
from html.parser import HTMLParser

import nbformat
import numpy as np
import pytest
from matplotlib.mathtext import math_to_image
from nbclient import NotebookClient

from flowtheory import functionals
from flowtheory.proof import Check, Outcome, Proof
from flowtheory.reprs import html_table
from flowtheory.spec import FlowSpec
from numerics.cy.hypersurface import fermat_cubic
from numerics.cy.measure import fs_sigma
from numerics.cy.sampling import PointSample

VOID = {"br", "hr", "img", "meta", "link", "input"}


class Tables(HTMLParser):
    """Parses HTML strictly enough for a test: every tag closed in order; collects the rows of
    each table as lists of cell texts, and the tag names seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.tables, self.cell = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def parse(text: str) -> Tables:
    p = Tables()
    p.feed(text)
    p.close()
    assert not p.stack, f"unclosed tags {p.stack}"
    return p


def summary(text: str) -> dict[str, str]:
    """The first table of a two-column summary as {row header: value}."""
    return {row[0]: row[1] for row in parse(text).tables[0] if len(row) == 2}


def formulas(latex: str) -> list[str]:
    """The display ($$…$$) and inline ($…$) formulas of a LaTeX repr."""
    display = re.findall(r"\$\$(.+?)\$\$", latex, flags=re.S)
    inline = re.findall(r"(?<!\$)\$([^$]+)\$(?!\$)", re.sub(r"\$\$.+?\$\$", "", latex, flags=re.S))
    return display + inline


def renders(formula: str) -> bool:
    """matplotlib's mathtext typesets the formula (``\\displaystyle`` is MathJax-only layout)."""
    math_to_image("$" + formula.replace(r"\displaystyle", "") + "$", io.BytesIO(), format="png")
    return True


def test_html_table_escapes_markup_and_is_well_formed():
    hostile = "<script>alert('x')</script> & <b>"
    text = html_table([(hostile, 1.0), ("n", 3)], caption=hostile, header=("<th>", "value"))
    p = parse(text)
    assert "script" not in p.tags and "b" not in p.tags
    assert p.tables == [[["<th>", "value"], [hostile, "1"], ["n", "3"]]]


def test_proof_result_table_states_verdict_and_every_check():
    body = lambda: Outcome(derived="x", printed=None, matches_print=True,  # noqa: E731
                           checks=(Check("a <b> check", 0.5, 1.0), Check("a failing check", 2.0, 1.0)),
                           symbolic_checks={"x = x": True})
    result = Proof("demo-<i>", "a title with <tags> & ampersands", ("2.1",), body).run()
    p = parse(result._repr_html_())
    assert p.tables[0][0] == ["verdict", result.verdict] and result.verdict == "fails"
    # worst error/tolerance is 2.0/1.0, shown to 4 significant digits
    assert float(dict(map(tuple, p.tables[0]))["worst error / tolerance"]) == pytest.approx(result.worst_ratio, rel=1e-4)
    checks = p.tables[1][1:]
    assert [(c[0], float(c[1]), float(c[2]), c[4]) for c in checks] == [("a <b> check", 0.5, 1.0, "yes"), ("a failing check", 2.0, 1.0, "no")]
    assert [c[3] for c in checks] == [c.error_kind for c in result.checks]
    assert p.tables[2][1:] == [["x = x", "yes"]]
    assert "i" not in p.tags


@pytest.mark.parametrize("spec", [FlowSpec.preset("kahler-ricci", 1), FlowSpec.preset("kahler-ricci", 1, sigma=0.25),
                                  FlowSpec(functionals.volume(2))])
def test_flow_spec_latex_has_one_rendering_equation_per_field(spec):
    latex = spec._repr_latex_()
    display = re.findall(r"\$\$(.+?)\$\$", latex, flags=re.S)
    assert len(display) == len(spec.fields)
    for name, formula in zip(spec.fields, display):
        assert formula.startswith(r"\partial_t ") and ("N_{\\sigma} \\ast" in formula) == (spec.kernel != "local")
    assert all(renders(f) for f in formulas(latex))


@pytest.mark.parametrize("name", ["perelman", "ricci", "kahler-ricci", "ultralocal", "mabuchi", "j"])
def test_functional_latex_renders(name):
    f = functionals.preset(name)
    latex = f._repr_latex_()
    assert latex.splitlines()[0].startswith(f.title) and f"$${f.formula}$$" in latex
    assert all(renders(x) for x in formulas(latex))


def _cubic_sample(n: int, seed: int) -> PointSample:
    """Points on the Fermat cubic z0³ + z1³ + z2³ = 0 (z2 a cube root), patch-scaled; one line each."""
    rng = np.random.default_rng(seed)
    z01 = rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))
    z2 = (-(z01**3).sum(axis=1)) ** (1 / 3)
    z = np.concatenate([z01, z2[:, None]], axis=1)
    z = z / z[np.arange(n), np.abs(z).argmax(axis=1)][:, None]
    return PointSample(fermat_cubic(), z, np.arange(n), n_lines=n, n_rejected_lines=0)


def test_point_sample_summary_counts_patches_and_never_holds_the_points():
    small, large = _cubic_sample(40, 0), _cubic_sample(4000, 1)
    for sample in (small, large):
        s = summary(sample._repr_html_())
        per_patch = [int(k) for k in s["points per patch 0…2"].split(", ")]
        assert per_patch == np.bincount(np.abs(sample.points).argmax(axis=1), minlength=3).tolist()
        assert sum(per_patch) == int(s["points"]) == len(sample)
        used, total = map(int, s["charts used (patch, eliminated)"].split(" of "))
        assert total == 6 and 1 <= used <= 6
    # a summary: 100 times the points, (almost) the same length
    assert abs(len(large._repr_html_()) - len(small._repr_html_())) < 40


def test_sigma_result_table_states_sigma_with_its_standard_error():
    sample = _cubic_sample(300, 2)
    result = fs_sigma(sample)
    s = summary(result._repr_html_())
    sigma, se = (float(x) for x in s["σ (B.11), dimensionless"].split(" ± "))
    assert sigma == pytest.approx(result.sigma, rel=1e-3) and se == pytest.approx(result.sigma_stderr, rel=1e-3)
    assert int(s["points"]) == 300


# --- in a notebook ------------------------------------------------------------------------------

SETUP = """\
import json
import jax
import numpy as np
import numerics
from flowtheory import functionals
from flowtheory.spec import FlowSpec
from flowtheory_proofs.functionals_kahler import eta_definition
from numerics.cy.donaldson import DonaldsonResult
from numerics.cy.hypersurface import fermat_quintic
from numerics.cy.kernel_flow import FlowResult
from numerics.cy.measure import fs_sigma
from numerics.cy.metric_training import TrainingResult
from numerics.cy.sampling import sample_points

sample = sample_points(fermat_quintic(), 200, jax.random.PRNGKey(0))
sigma = fs_sigma(sample)
flow = FlowResult([0.37, 0.2, 0.09], [0.38, 0.36, 0.35], 1, [0.4, 0.2], np.zeros((5, 3, 3)), np.zeros((4, 3, 3)), {"kernel": "<delta>"})
training = TrainingResult([0.38, 0.1, 0.05], [0.39, 0.12, 0.07], {"total": [0.3, 0.1], "sigma": [0.2, 0.06], "kahler": [0.1, 0.04]},
                          [1.5, 1.25], params=None)
donaldson = DonaldsonResult([1, 2], [5, 15], [0.37, 0.2], [0.01, 0.008], [0.5, 2.0], [[0.1, 1e-3], [0.2, 1e-4]])
print(json.dumps({"n": len(sample), "sigma": sigma.sigma, "sigma_stderr": sigma.sigma_stderr}))
"""

#: (expression displayed by a cell, the MIME type it must carry)
DISPLAYS = [
    ('functionals.preset("perelman", 2)', "text/latex"),
    ('FlowSpec.preset("kahler-ricci", 1, sigma=0.5)', "text/latex"),
    ("eta_definition.run()", "text/html"),
    ("sample", "text/html"),
    ("sigma", "text/html"),
    ("flow", "text/html"),
    ("training", "text/html"),
    ("donaldson", "text/html"),
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(expr) for expr, _ in DISPLAYS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}}).execute()
    nbformat.validate(nb)
    return nb


def _data(cell) -> dict:
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, cell.outputs
    return results[0].data


@pytest.mark.parametrize("index", range(len(DISPLAYS)), ids=[expr for expr, _ in DISPLAYS])
def test_each_display_carries_its_rich_type_and_renders(executed, index):
    expr, mime = DISPLAYS[index]
    data = _data(executed.cells[1 + index])
    assert mime in data and "text/plain" in data
    if mime == "text/latex":
        found = formulas(data[mime])
        assert found and all(renders(f) for f in found)
    else:
        p = parse(data[mime])
        assert p.tables and all(len(t) >= 1 for t in p.tables)


def test_the_displayed_numbers_are_the_objects(executed):
    printed = json.loads(next(o.text for o in executed.cells[0].outputs if o.output_type == "stream"))
    cells = {expr: _data(executed.cells[1 + i]) for i, (expr, _) in enumerate(DISPLAYS)}
    sample = summary(cells["sample"]["text/html"])
    assert int(sample["points"]) == printed["n"] == sum(int(k) for k in sample["points per patch 0…4"].split(", "))
    assert sample["charts used (patch, eliminated)"].endswith(" of 20")
    sigma, se = (float(x) for x in summary(cells["sigma"]["text/html"])["σ (B.11), dimensionless"].split(" ± "))
    assert sigma == pytest.approx(printed["sigma"], rel=1e-3) and se == pytest.approx(printed["sigma_stderr"], rel=1e-3)
    # the flow's gains are σ(step 0)/σ(step n): 0.37/0.09 and 0.38/0.35; its parameter is escaped text
    flow = parse(cells["flow"]["text/html"])
    assert [(r[0], float(r[3])) for r in flow.tables[0][1:]] == [("σ train (B.11)", pytest.approx(0.37 / 0.09, rel=1e-3)),
                                                                ("σ test", pytest.approx(0.38 / 0.35, rel=1e-3))]
    assert ["kernel", "<delta>"] in flow.tables[1] and "delta" not in flow.tags
    training = parse(cells["training"]["text/html"])
    assert float(training.tables[0][2][3]) == pytest.approx(0.39 / 0.07, rel=1e-3)
    assert ["seconds", "2.75"] in training.tables[2]
    rows = parse(cells["donaldson"]["text/html"]).tables[0][1:]
    assert [(int(r[0]), r[2]) for r in rows] == [(1, "0.37 ± 0.01"), (2, "0.2 ± 0.008")]
    proof = summary(cells["eta_definition.run()"]["text/html"])
    assert proof["verdict"] == "agrees after correction" and re.search(r"\(B\.11\)", proof["correction of the print"])
