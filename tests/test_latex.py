"""Every LaTeX string the command line prints renders, and names its symbols properly.

Rendering is checked with matplotlib's mathtext (``matplotlib.mathtext.math_to_image``; no TeX
installation is assumed — ``latex`` is absent on the test machines).  Mathtext has no matrix
environment and no line break, so a ``\\left[\\begin{matrix}…\\end{matrix}\\right]`` is rendered entry
by entry (and the equation around it with the matrix as one symbol), and lines joined by ``\\\\`` one
by one; everything else is rendered as printed.  Names: jets in comma notation (``g_{00,xy}``),
``\\varphi`` for a Kähler potential, conjugates barred (``\\bar{z}``), primed points ``{x'_{1}}`` —
never the raw names ``g_00``, ``phi_z_zb``, ``zb`` or ``x'1``.  The generic derivations of the
Riemannian and fourth-order functionals take minutes together and are in the slow tests.
"""

from __future__ import annotations

import io
import json
import re

import pytest
import sympy as sp
from matplotlib import mathtext

from flowtheory.cli import main
from flowtheory.latex import latex, name_latex

MATRIX = re.compile(r"\\left\[\\begin\{matrix\}(.*?)\\end\{matrix\}\\right\]")
RAW = re.compile(r"g_\d|\{g_|(?<![\\a-z])phi|(?<![\\a-z])zb|x'\d|_\{\d\d [a-z]")  # raw names: g_00, {g_00}, phi, zb, x'1, g_{00 xy}


def pieces(tex: str) -> list[str]:
    """``tex`` as mathtext can take it: matrix entries, then the lines around the matrices."""
    out: list[str] = []

    def entries(match: re.Match) -> str:
        for row in match.group(1).split(r"\\"):
            out.extend(row.split("&"))
        return "M"

    rest = MATRIX.sub(entries, tex)
    out.extend(rest.split(r"\\"))
    return [p.strip() for p in out if p.strip()]


def render(tex: str) -> None:
    assert not RAW.search(tex), f"raw symbol name in {tex[:200]!r}"
    for piece in pieces(tex):
        try:
            mathtext.math_to_image(f"${piece}$", io.BytesIO(), format="png")
        except ValueError as exc:
            pytest.fail(f"mathtext cannot render {piece[:200]!r}: {str(exc).splitlines()[-1]}")


def printed(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out.strip().splitlines()


def test_pieces_and_render_catch_bad_latex():
    """The checker can fail: an unbalanced brace, an unknown command and a raw name are caught."""
    assert pieces(r"A = \left[\begin{matrix}1 & x\\0 & 2\end{matrix}\right] \\ B") == ["1", "x", "0", "2", "A = M", "B"]
    for bad in (r"\frac{1}{2", r"\notacommand x", "g_00 + 1"):
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            render(bad)


def test_symbol_names_of_the_printing_helper():
    from flowtheory.variation import JetSpace, metric_field_names

    x, y = sp.symbols("x y")
    jet = JetSpace((x, y), metric_field_names(2) + ("phi",))
    expr = jet.symbol("g_01", (1, 1)) ** 2 + jet.symbol("g_00") * jet.symbol("phi", (2, 0))
    assert latex(expr, jet=jet) == r"g_{00} \phi_{,xx} + g_{01,xy}^{2}"
    z, zb = sp.symbols("z1 z1b")
    kahler = JetSpace((z, zb), ("phi",))
    tex = latex(sp.log(1 + kahler.symbol("phi", (1, 1))), jet=kahler, names={"phi": r"\varphi"}, conjugates=(zb,))
    assert r"\varphi_{,z_{1}\bar{z}_{1}}" in tex
    assert latex(sp.Symbol("x'2", real=True) ** 2) == "{x'_{2}}^{2}"  # no double superscript
    assert name_latex("theta") == r"\theta" and name_latex("sigma_w") == r"\sigma_{w}"
    for t in (latex(expr, jet=jet), tex, latex(sp.Symbol("x'2") ** 2 * sp.Symbol("x_0'"))):
        render(t)


@pytest.mark.parametrize("network", ["cosine", "cosine-literal", "gauss-net", "relu"])
def test_derive_ntk_latex_renders(capsys, network):
    lines = printed(capsys, "derive", "ntk", "--network", network, "--dim", "2", "--latex")
    assert lines[0].startswith(r"\bar\Theta(x, x') = ") and "x'_{1}}" in lines[0] and "x'_{2}}" in lines[0]
    for line in lines:
        render(line)


def test_derive_ntk_json_latex_renders(capsys):
    doc = json.loads("\n".join(printed(capsys, "derive", "ntk", "--network", "relu", "--dim", "1", "--sigma-w", "3/2", "--sigma-b", "1/2", "--json")))
    render(doc["latex"])


def test_network_notebook_latex_renders():
    from flowtheory.networks import get_network

    for block in re.findall(r"\$\$(.*?)\$\$", get_network("gauss-net", 2)._repr_latex_()):
        render(block)


@pytest.mark.parametrize(
    "argv",
    [
        ["--coords", "t r theta phi", "--metric", "diag(-(1 - 2*M/r), 1/(1 - 2*M/r), r**2, r**2*sin(theta)**2)", "--signature", "lorentzian"],
        ["--coords", "x y", "--metric", "diag(1/y^2, 1/y^2)"],
        ["--kahler", "--coords", "z", "--potential", "log(1 + z*zb)"],
    ],
)
def test_derive_curvature_latex_renders_and_matches_its_json(capsys, argv):
    lines = printed(capsys, "derive", "curvature", *argv, "--latex")
    for line in lines:
        render(line)
    doc = json.loads("\n".join(printed(capsys, "derive", "curvature", *argv, "--json")))
    assert list(doc["latex"].values()) == lines
    if "--kahler" in argv:
        assert r"\bar{z}" in lines[0] and lines[-1] == r"R_{\mathrm{Riem}} = 8"
    else:
        assert any(line.startswith(r"\Gamma^{") for line in lines)


FAST = ["kahler-ricci", "mabuchi", "j"]
SLOW = ["perelman", "ricci", "calabi", "einstein-hilbert", "ultralocal", "two-derivative"]


def _functional_latex(capsys, name):
    """The three LaTeX lines of ``derive functional NAME`` (from its JSON, which ``--latex`` prints)."""
    doc = json.loads("\n".join(printed(capsys, "derive", "functional", name, "--json")))
    lines = [doc["latex"][k] for k in ("functional", "variation", "flow")]
    for line in lines:
        render(line)
    return lines


def test_latex_option_prints_the_json_latex(capsys):
    assert printed(capsys, "derive", "functional", "j", "--latex") == _functional_latex(capsys, "j")


@pytest.mark.parametrize("name", FAST)
def test_derive_functional_latex_renders(capsys, name):
    lines = _functional_latex(capsys, name)
    assert lines[2].startswith(r"\partial_t \varphi = ") and r"\varphi_{,z\bar{z}}" in lines[1] + lines[2]


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_derive_functional_latex_renders_slow(capsys, name):
    lines = _functional_latex(capsys, name)
    if name in ("perelman", "ricci"):
        assert lines[2].startswith(r"\partial_t g_{00} = ") and r"\partial_t g_{01} = " in lines[2]
        assert "g_{00,yy}" in lines[2] and lines[1].startswith(r"(\mathrm{grad}\,E)_{00} = ")


AT_A_METRIC = [
    ["kahler-ricci", "--kahler", "--coords", "z", "--potential", "log(1 + z*zb)"],
    pytest.param(["ricci", "--coords", "theta phi", "--metric", "[[1, 0], [0, sin(theta)**2]]"], marks=pytest.mark.slow),
    pytest.param(["perelman", "--coords", "x y", "--metric", "diag(exp(x*y/5), exp(x*y/5))", "--dilaton", "x/3"], marks=pytest.mark.slow),
]


@pytest.mark.parametrize("argv", AT_A_METRIC)
def test_derive_functional_at_a_metric_latex_renders(capsys, argv):
    lines = printed(capsys, "derive", "functional", *argv, "--latex")
    for line in lines:
        render(line)
    assert lines[0].startswith(r"\partial_t g_{")
