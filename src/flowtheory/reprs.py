r"""Rich notebook output: the one HTML-table builder and LaTeX layout behind the ``_repr_html_`` and
``_repr_latex_`` methods of the library's objects.

Symbolic objects (:class:`~flowtheory.functionals.Functional`, :class:`~flowtheory.spec.FlowSpec`,
the network specs) render as LaTeX: a line of text and one displayed formula per equation
(:func:`latex_block`), each formula a single expression.  Results (proof results, σ-measures,
samples, training and flow runs in :mod:`numerics.cy`) render as HTML tables (:func:`html_table`):
summaries, never whole arrays.  Every piece of text is escaped (:func:`html.escape`), so names,
titles and error messages cannot inject markup.

This module imports only the standard library, so that ``import flowtheory`` stays free
of the numeric stack; :mod:`numerics` imports it, never the reverse.

>>> print(html_table([("σ", plus_minus(0.37512, 0.00213)), ("title", "<b>&</b>")], caption="a < b"))
<table>
<caption>a &lt; b</caption>
<tr><th scope="row">σ</th><td>0.3751 ± 0.00213</td></tr>
<tr><th scope="row">title</th><td>&lt;b&gt;&amp;&lt;/b&gt;</td></tr>
</table>
>>> print(html_table([(1, 2.5e-9, None)], header=("k", "σ_k", "seconds"), row_headers=False))
<table>
<tr><th>k</th><th>σ_k</th><th>seconds</th></tr>
<tr><td>1</td><td>2.5e-09</td><td>—</td></tr>
</table>
>>> print(latex_block("Ricci flow", [r"\partial_t g_{00} = 0"]))
Ricci flow
$$\partial_t g_{00} = 0$$
"""

from __future__ import annotations

import html
import math
from numbers import Integral, Real
from typing import Iterable, Mapping, Sequence

__all__ = ["cell_text", "history_rows", "html_table", "latex_block", "plus_minus"]

#: Significant digits of a float in a table cell.
DIGITS = 4


def cell_text(value: object) -> str:
    """The text of a table cell (not yet escaped): integers as they are, other reals with
    :data:`DIGITS` significant digits, ``None`` as an em dash, booleans as ``yes``/``no``, a complex
    number without an imaginary part as its real part, anything else as ``str``.

    >>> [cell_text(v) for v in (3, 0.123456, None, True, complex(0.5, 0), complex(0, 1), float("nan"))]
    ['3', '0.1235', '—', 'yes', '0.5', '0+1j', 'nan']
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        return f"{float(value):.{DIGITS}g}"
    if isinstance(value, complex):
        if value.imag == 0:
            return cell_text(value.real)
        return f"{value:.{DIGITS}g}"
    return str(value)


def plus_minus(value: float, stderr: float | None) -> str:
    """``value ± stderr`` (each with :data:`DIGITS` significant digits); the value alone when
    ``stderr`` is ``None`` or not finite."""
    if stderr is None or not math.isfinite(stderr):
        return cell_text(value)
    return f"{cell_text(value)} ± {cell_text(stderr)}"


def html_table(
    rows: Iterable[Sequence[object]],
    *,
    header: Sequence[object] | None = None,
    caption: str | None = None,
    row_headers: bool = True,
) -> str:
    """An HTML ``<table>``: an optional ``caption``, an optional ``header`` row, then ``rows``.

    Each cell is :func:`cell_text` of its value, escaped; with ``row_headers`` the first cell of
    every row is a row header (``<th scope="row">``), as in a two-column summary of name and value.
    """
    out = ["<table>"]
    if caption is not None:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    if header is not None:
        out.append("<tr>" + "".join(f"<th>{html.escape(cell_text(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = [html.escape(cell_text(v)) for v in row]
        first = f'<th scope="row">{cells[0]}</th>' if row_headers and cells else ""
        rest = cells[1:] if first else cells
        out.append("<tr>" + first + "".join(f"<td>{c}</td>" for c in rest) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def history_rows(histories: Mapping[str, Sequence[float]]) -> list[tuple[str, float, float, float | None]]:
    """``(name, first, last, first/last)`` for each non-empty history (for a σ history the ratio is
    the gain σ(start)/σ(end)); the ratio is ``None`` where the last value is 0.

    >>> history_rows({"σ train": [0.4, 0.2, 0.1], "empty": []})
    [('σ train', 0.4, 0.1, 4.0)]
    """
    return [(name, h[0], h[-1], h[0] / h[-1] if h[-1] != 0 else None) for name, h in histories.items() if len(h)]


def latex_block(text: str, formulas: Iterable[str]) -> str:
    """A line of ``text`` followed by each formula displayed on its own (``$$…$$``)."""
    return "\n".join([text, *(f"$${f}$$" for f in formulas)])

