"""The report of ``flowtheory reproduce``: ``report.md`` and a self-contained ``report.html`` from one list of blocks.

The content (:func:`report_blocks`) is a list of ``("h1" | "h2" | "p", text)``, ``("table", (header, rows))``
and ``("figure", path)`` blocks; :func:`to_markdown` and :func:`to_html` render it (the HTML escapes
every text and embeds each figure as a base64 ``data:image/png`` URI, so the file opens anywhere on
its own).  Numbers are printed with their error and its kind (standard error, fit standard error,
seed spread, or a proof's error measure).
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

Block = tuple[str, object]


def number(value, error=None, kind: str | None = None) -> str:
    """``value ± error`` with 4 significant digits (``kind`` in parentheses); strings pass through."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:.4g}"
    if error is not None:
        text += f" ± {error:.2g}"
    return text + (f" ({kind})" if kind and error is not None else "")


def report_blocks(out: dict, folder: Path) -> list[Block]:
    """The report's content (module docstring) from ``reproduce``'s results."""
    from flowtheory.cli.reproduce import STAGES

    record = out["run_record"]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(record["versions"].items()))
    stages = out["stages"]
    blocks: list[Block] = [
        ("h1", "Metric flows with neural networks — the paper reproduced"),
        ("p", f"Scale {out['scale']}, seed {out['parameters']['seed']}; {record['platform']}; {versions}; written {record['created_utc']}. "
              "Every number is given with its error and the error's kind; the paper's printed value stands beside it."),
        ("h2", "Summary: the paper's claims"),
        ("table", (("claim", "paper", "measured", "holds"),
                   [(c["claim"], c["paper"], c["measured"], "yes" if c["holds"] else "no") for c in out["summary"]])),
        ("table", (("stage", "section", "wall time [s]"), [(s, stages[s]["section"], f"{stages[s]['seconds']:.1f}") for s in STAGES if s in stages])),
    ]
    for name in STAGES:
        if name not in stages:
            continue
        stage = stages[name]
        blocks.append(("h2", f"Section {stage['section']}"))
        if name == "theory":
            blocks.append(("p", stage["claims"][0]["measured"] + ". Error: each proof's largest check error, of the kind named."))
            blocks.append(("table", (("proof", "equations", "verdict", "correction of the print", "error"),
                                     [(r["id"], r["equations"], r["verdict"], r["correction"], number(r["error"], None) + (f" ({r['error_kind']})" if r["error_kind"] else ""))
                                      for r in stage["table"]])))
        else:
            blocks.append(("table", (("quantity", "measured", "error kind", "paper"),
                                     [(h["name"], number(h["value"], h["error"]), h["error_kind"], number(h["paper"])) for h in stage["headline"]])))
        for c in stage["claims"]:
            blocks.append(("p", f"{'Holds' if c['holds'] else 'Does not hold'}: {c['claim']} — measured {c['measured']}; paper: {c['paper']}."))
        for figure in stage["figures"]:
            if Path(figure).exists():
                blocks.append(("figure", figure))
    return blocks


def _relative(path: str, folder: Path) -> str:
    return os.path.relpath(path, folder)


def to_markdown(blocks: list[Block], folder: Path) -> str:
    lines: list[str] = []
    cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    for kind, content in blocks:
        if kind == "h1":
            lines += [f"# {content}", ""]
        elif kind == "h2":
            lines += [f"## {content}", ""]
        elif kind == "p":
            lines += [str(content), ""]
        elif kind == "table":
            header, rows = content
            lines += ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(map(cell, r)) + " |" for r in rows] + [""]
        elif kind == "figure":
            lines += [f"![{Path(content).name}]({_relative(content, folder)})", ""]
    return "\n".join(lines)


STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}"
         "th{background:#eee}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}")


def to_html(blocks: list[Block]) -> str:
    """A self-contained page: escaped text, the figures embedded as base64 PNG data."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(str(blocks[0][1]))}</title>",
             f"<style>{STYLE}</style></head><body>"]
    for kind, content in blocks:
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{e(str(content))}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{e(str(content))}</p>")
        elif kind == "table":
            header, rows = content
            parts.append("<table><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows]
            parts.append("</table>")
        elif kind == "figure":
            data = base64.b64encode(Path(content).read_bytes()).decode("ascii")
            parts.append(f'<figure><img alt="{e(Path(content).name)}" src="data:image/png;base64,{data}"></figure>')
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out: dict, folder: Path) -> None:
    """``folder/report.md`` and ``folder/report.html`` (atomically)."""
    from numerics.io.provenance import write_text_atomic

    blocks = report_blocks(out, folder)
    write_text_atomic(folder / "report.md", to_markdown(blocks, folder))
    write_text_atomic(folder / "report.html", to_html(blocks))
