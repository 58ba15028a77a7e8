r"""LaTeX of the symbolic layer's expressions: sympy's printer with the project's symbol names.

Symbols keep their plain names (``g_00``, ``phi_z_zb``, ``x'1``, ``sigma_w``): equality, caching,
:mod:`flowtheory.bridge` and the ``--json`` output depend on them.  They get their LaTeX names only
when printed, through ``sympy.latex(..., symbol_names=...)`` (:func:`latex`), the one place that
decides how a name looks:

* jet symbols of a :class:`~flowtheory.variation.JetSpace` in comma notation for partial
  derivatives: ``g_00`` → ``g_{00}``, ``g_01_xy`` → ``g_{01,xy}``, ``phi_z_zb`` → ``\varphi_{,z\bar{z}}``
  (with ``names={"phi": r"\varphi"}``, the Kähler potential), ``phi_x`` → ``\phi_{,x}`` (Perelman's dilaton);
* conjugate coordinates named in ``conjugates``: ``zb`` → ``\bar{z}``, ``z1b`` → ``\bar{z}_{1}``;
* primed points: ``x'1`` → ``{x'_{1}}``, ``x_0'`` → ``{x'_{0}}``, ``h'`` → ``{h'}`` (braced: the prime is a superscript,
  so a power ``{x'_{1}}^{2}`` is not a double superscript);
* every other name as sympy prints it (``sigma_w`` → ``\sigma_{w}``, ``x1`` → ``x_{1}``,
  ``Rbar`` → ``\bar{R}``, ``theta`` → ``\theta``), unless ``names`` gives it.

>>> import sympy as sp
>>> latex(sp.Symbol("x'1") * sp.Symbol("sigma_w"))
"\\sigma_{w} {x'_{1}}"
>>> from flowtheory.variation import JetSpace
>>> z, zb = sp.symbols("z zb")
>>> jet = JetSpace((z, zb), ("phi",))
>>> latex(sp.log(1 + jet.symbol("phi", (1, 1))), jet=jet, names={"phi": r"\varphi"}, conjugates=(zb,))
'\\log{\\left(\\varphi_{,z\\bar{z}} + 1 \\right)}'
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

import sympy as sp

__all__ = ["latex", "name_latex", "symbol_names"]

_PRIMED = (re.compile(r"([A-Za-z]+)'(\d+)"), re.compile(r"([A-Za-z]+)_(\w+)'"))
_INDEXED = re.compile(r"([A-Za-z]+)_(\d+)")


def name_latex(name: str, *, names: Mapping[str, str] | None = None, conjugates: Iterable[str] = ()) -> str:
    r"""The LaTeX of one symbol name (module docstring); ``conjugates`` are names such as ``"zb"``.

    >>> name_latex("zb", conjugates=["zb"]), name_latex("z1b", conjugates=["z1b"]), name_latex("x_0'")
    ('\\bar{z}', '\\bar{z}_{1}', "{x'_{0}}")
    """
    names = names or {}
    if name in names:
        return names[name]
    if name in set(conjugates) and name.endswith("b") and len(name) > 1:
        base = name[:-1]
        indexed = re.fullmatch(r"([A-Za-z]+)(\d+)", base)
        if indexed:
            return rf"\bar{{{name_latex(indexed.group(1), names=names)}}}_{{{indexed.group(2)}}}"
        return rf"\bar{{{name_latex(base, names=names)}}}"
    for pattern in _PRIMED:
        match = pattern.fullmatch(name)
        if match:
            return f"{{{name_latex(match.group(1), names=names)}'_{{{match.group(2)}}}}}"
    if name.endswith("'") and len(name) > 1:
        return f"{{{name_latex(name[:-1], names=names)}'}}"
    return sp.latex(sp.Symbol(name))


def _jet_latex(field: str, derivatives: list[str], names: Mapping[str, str]) -> str:
    """``g_{01,xy}`` / ``\\varphi_{,z\\bar{z}}`` for ``field`` differentiated by ``derivatives`` (LaTeX)."""
    if not derivatives:
        return name_latex(field, names=names)
    indexed = _INDEXED.fullmatch(field)
    if indexed and field not in names:
        return f"{name_latex(indexed.group(1), names=names)}_{{{indexed.group(2)},{''.join(derivatives)}}}"
    return f"{name_latex(field, names=names)}_{{,{''.join(derivatives)}}}"


def symbol_names(expr, *, jet=None, names: Mapping[str, str] | None = None, conjugates: Iterable[sp.Symbol | str] = ()) -> dict:
    """``{Symbol: LaTeX}`` for every free symbol of ``expr`` (a sympy object, or nested lists of them)."""
    names = dict(names or {})
    conj = {str(c) for c in conjugates}
    symbols: set = set()
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (sp.Basic, sp.MatrixBase)):
            symbols |= item.free_symbols
    coord_latex = {}
    if jet is not None:
        coord_latex = {c: name_latex(str(c), names=names, conjugates=conj) for c in jet.coords}
    out = {}
    for s in symbols:
        decoded = jet.decode(s) if jet is not None else None
        if decoded is None:
            out[s] = name_latex(s.name, names=names, conjugates=conj)
        else:
            field, orders = decoded
            derivatives = [coord_latex[c] for c, k in zip(jet.coords, orders) for _ in range(k)]
            out[s] = _jet_latex(field, derivatives, names)
    return out


def latex(expr, *, jet=None, names: Mapping[str, str] | None = None, conjugates: Iterable[sp.Symbol | str] = (), **options) -> str:
    """``sympy.latex(expr, **options)`` with the symbol names of :func:`symbol_names`."""
    conjugates = tuple(conjugates)
    return sp.latex(expr, symbol_names=symbol_names(expr, jet=jet, names=names, conjugates=conjugates), **options)
