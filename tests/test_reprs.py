"""Rich notebook output (:mod:`flowtheory.reprs`): escaped, well-formed HTML tables that state the
objects' numbers, LaTeX that renders, and sample summaries that never hold the points."""

import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.mathtext import math_to_image

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
    assert [(c[0], float(c[1]), float(c[2]), c[3]) for c in checks] == [("a <b> check", 0.5, 1.0, "yes"), ("a failing check", 2.0, 1.0, "no")]
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
