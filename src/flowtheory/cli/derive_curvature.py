"""``flowtheory derive curvature``: Christoffel symbols, Ricci tensor and scalar curvature of a metric.

``flowtheory derive curvature --coords "x y" --metric "[[...], [...]]" [--signature SIGNS] [--simplify MODE] [--time-limit SECONDS] [--latex | --json]``
``flowtheory derive curvature --kahler --coords "z w" (--metric "[[...]]" | --potential K) [--latex | --json]``

Riemannian (default): ``--metric`` is the matrix g_ij in the named coordinates (nested lists, or
``diag(...)``); coordinates are real symbols, any other name is a real constant (a radius ``r``).
Conventions of :mod:`flowtheory.riemann`: Γ^k_ij = ½ g^{kl}(∂_i g_jl + ∂_j g_il − ∂_l g_ij),
R^a_bcd = ∂_c Γ^a_db − ∂_d Γ^a_cb + Γ^a_ce Γ^e_db − Γ^a_de Γ^e_cb, R_bd = R^a_bad, R = g^{bd} R_bd —
the unit round S² has R = +2.  ``--signature lorentzian`` (or one sign per coordinate, ``--signature=-+++``)
accepts an indefinite metric with that many negative eigenvalues (the signs of the mostly-plus
convention: Schwarzschild is Ricci-flat, −dt² + e^{2t}dx² has R = +2); without it an indefinite
metric is refused with a one-line error that names the flag.

Kähler (``--kahler``): the names in ``--coords`` are complex coordinates; the conjugate of ``z`` is
written ``zb`` (``conjugate(z)``, ``Abs(z)``, ``re(z)``, ``im(z)`` are also accepted).  ``--metric``
is g_{a b̄} (row a, column b) or ``--potential`` a Kähler potential K with g_{a b̄} = ∂_a ∂̄_b K (B.1).
Prints Γ^a_bc = g^{a d̄} ∂_b g_{c d̄}, the Ricci form R_{a b̄} = −∂_a ∂̄_b ln det g (B.3), the trace
g^{a b̄} R_{a b̄} (the paper's R in (B.8)) and the Riemannian scalar curvature of the real metric
ds² = g_{a b̄} dz^a dz̄^b of (B.2), which is 4 g^{a b̄} R_{a b̄} (see :mod:`flowtheory.kahler`).

The metric is validated first (symmetric / Hermitian, Kähler, positive definite at fixed sample
points: real coordinates and constants in [1/10, 9/10], complex ones x + iy with x, y in
[−1/2, 1/2]); bad input is a one-line error with exit status 2.  ``--simplify`` chooses how results
are simplified, and what that costs:

* ``cancel`` (default) — each component in the canonical form of :func:`sympy.cancel` (one fraction of
  expanded polynomials in the coordinates and the functions of them): seconds for a dense 3-metric
  with ``exp`` and ``sin`` entries (about 7 s on a 2-core machine, against 1 s for ``none``);
* ``none`` — the components as the index formulas produce them: fastest, longest output;
* ``simplify`` — :func:`sympy.simplify` on every component: the shortest forms, but its cost has no
  bound (minutes for that same 3-metric); opt in for small or highly symmetric metrics.

Bounds: at most :data:`MAX_COORDS` coordinates (8 real, 4 complex: diagonal metrics of that size take
seconds, while a dense 4-metric already takes minutes with ``cancel``), ``--metric`` and
``--potential`` within the limits of :mod:`flowtheory.cli.expressions` (length, tokens, nesting,
digits, exponents |n| <= 1000), and ``--time-limit SECONDS`` (default 60) on all the work, including
formatting the output; each breach is a one-line :class:`~flowtheory.errors.SymbolicLimitError`.

``--latex`` prints one LaTeX equation a line (:mod:`flowtheory.latex`: ``g_{ij} = \\left[\\begin{matrix}…``,
``\\Gamma^{\\theta}_{\\phi \\phi} = …`` for each non-zero Γ with i <= j, ``R_{ij} = …``, ``R = …``).
``--json`` prints one object: ``coords``, ``kahler``, ``signature`` ([positive, negative] eigenvalue
counts), ``metric`` (nested lists of sympy strings), ``christoffel`` (the full array, nested lists
indexed [k][i][j]), ``ricci`` (nested lists), ``scalar`` (sympy string), ``latex`` (the equations
of ``--latex`` by name), ``conventions`` (text); with ``--kahler`` also ``conjugates`` and
``riemannian_scalar``.
"""

from __future__ import annotations

import argparse

from flowtheory.cli.expressions import (
    LIMITS_HELP,
    SIMPLIFY_MODES,
    add_time_limit,
    coordinate_names,
    emit_within_time_limit,
    kahler_potential,
    parse_expression,
    real_metric,
    simplifier,
    square_matrix,
)
from flowtheory.cli.output import CliError

#: The most coordinates per kind (``--kahler``: complex ones).
MAX_COORDS = {"real": 8, "complex": 4}

RIEMANN_CONVENTIONS = (
    "Gamma^k_ij = 1/2 g^kl (d_i g_jl + d_j g_il - d_l g_ij), christoffel[k][i][j]; "
    "R^a_bcd = d_c Gamma^a_db - d_d Gamma^a_cb + Gamma^a_ce Gamma^e_db - Gamma^a_de Gamma^e_cb; "
    "R_bd = R^a_bad; R = g^bd R_bd (unit round S^2 has R = +2)"
)
KAHLER_CONVENTIONS = (
    "g[a][b] = g_{a bbar}, line element ds^2 = g_{a bbar} dz^a dzbar^b, Kahler form J = (i/2) g_{a bbar} dz^a ^ dzbar^b (B.2); "
    "christoffel[a][b][c] = Gamma^a_bc = g^{a dbar} d_b g_{c dbar}; "
    "ricci[a][b] = R_{a bbar} = -d_a dbar_b ln det g (B.3); scalar = g^{a bbar} R_{a bbar}; "
    "riemannian_scalar = 4 * scalar, the scalar curvature of ds^2 (unit round S^2 has +2; K = ln(1+|z|^2) gives 8)"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("curvature", help="Christoffel symbols, Ricci tensor and scalar curvature of a metric")
    p.add_argument("--coords", required=True, metavar='"x y ..."',
                   help=f"coordinate names, space separated (1 to {MAX_COORDS['real']}; with --kahler 1 to {MAX_COORDS['complex']})")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--metric", metavar="MATRIX", help=f'metric components, e.g. "[[1, 0], [0, sin(x)**2]]" ({LIMITS_HELP})')
    source.add_argument("--potential", metavar="K", help=f"Kähler potential (with --kahler), e.g. \"log(1 + z*zb)\" ({LIMITS_HELP})")
    p.add_argument("--kahler", action="store_true", help="complex coordinates; conjugate of z is zb; metric is g_{a bbar}")
    p.add_argument("--signature", metavar="SIGNS",
                   help='accept an indefinite real metric: "lorentzian" (one negative eigenvalue, -+++ convention), '
                        'or one sign per coordinate, attached with "=": --signature=-+++ (only the numbers of + and - count); default: positive definite')
    p.add_argument("--simplify", choices=SIMPLIFY_MODES, default="cancel",
                   help="simplification of results: cancel (default; rational normal form, seconds for a dense 3-metric), "
                        "none (raw index formulas, fastest), simplify (sympy.simplify per component, unbounded: minutes for a dense 3-metric, "
                        "past the default --time-limit)")
    add_time_limit(p, 60)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX, one equation a line")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def signature(text: str | None, n: int) -> tuple[int, int] | None:
    """``(positive, negative)`` eigenvalue counts of ``--signature`` for ``n`` coordinates; ``None``: positive definite.

    >>> signature("lorentzian", 4), signature("-+++", 4), signature("riemannian", 3)
    ((3, 1), (3, 1), None)
    """
    if text is None or text.strip().lower() in ("riemannian", "+" * n):
        return None
    text = text.strip().lower()
    if text == "lorentzian":
        if n < 2:
            raise CliError("--signature lorentzian needs at least 2 coordinates")
        return n - 1, 1
    if set(text) <= {"+", "-"} and len(text) == n:
        return text.count("+"), text.count("-")
    raise CliError(f'--signature: expected "lorentzian", "riemannian" or {n} signs such as "{"-" + "+" * (n - 1)}", got {text[:40]!r}')


def run(args: argparse.Namespace) -> int:
    emit_within_time_limit(args.time_limit, "derive curvature", args.json, lambda: _result(args))
    return 0


def _result(args: argparse.Namespace):
    """The result dict and its renderer (run under the time limit)."""
    import sympy as sp

    from flowtheory.errors import NotPositiveDefiniteError

    names = coordinate_names(args.coords, MAX_COORDS["complex" if args.kahler else "real"], "complex" if args.kahler else "real")
    simplify = simplifier(args.simplify)
    if args.kahler:
        from flowtheory import kahler

        if args.signature is not None:
            raise CliError("--signature applies to real metrics; a Kähler metric is positive definite")
        if args.potential is not None:
            z, zbar, potential = kahler_potential(names, args.potential)
            g = kahler.metric_from_potential(potential, z, zbar)
        else:
            z, zbar = kahler.complex_coordinates(names)
            symbols = {s.name: s for s in (*z, *zbar)}
            g = kahler.replace_conjugates(square_matrix(parse_expression(args.metric, symbols, "--metric"), args.metric), z, zbar)
        kahler.check_kahler_metric(g, z, zbar)
        gamma = kahler.christoffel(g, z, zbar)
        ricci = kahler.ricci_form(g, z, zbar)
        scalar = kahler.scalar_curvature(g, z, zbar)
        coords, conjugates, sig = z, zbar, None
        conventions = KAHLER_CONVENTIONS
    else:
        if args.potential is not None:
            raise CliError("--potential needs --kahler")
        from flowtheory import riemann

        coords, g = real_metric(names, args.metric)
        sig = signature(args.signature, len(names))
        try:
            riemann.check_metric(g, coords, signature=sig)
        except NotPositiveDefiniteError as exc:
            if "not positive definite" not in str(exc):
                raise
            raise NotPositiveDefiniteError(f"{exc}; an indefinite metric needs --signature (e.g. --signature lorentzian)") from None
        gamma = riemann.christoffel(g, coords, signature=sig)
        ricci = riemann.ricci_tensor(g, coords, signature=sig)
        scalar = riemann.ricci_scalar(g, coords, signature=sig)
        conjugates = ()
        conventions = RIEMANN_CONVENTIONS
    if simplify:
        # Only the printed results are simplified (simplifying intermediate Γ first gives worse forms).
        g, gamma, ricci = (m.applyfunc(simplify) for m in (g, gamma, ricci))
        scalar = simplify(scalar)
    extra = {}
    if args.kahler:
        from flowtheory.kahler import RIEMANNIAN_FACTOR

        extra = {"conjugates": [str(b) for b in conjugates], "riemannian_scalar": str(RIEMANNIAN_FACTOR["line-element"] * scalar)}
    n = len(coords)
    latex = _latex(g, gamma, ricci, scalar, coords, conjugates)
    result = {
        "coords": names,
        "kahler": bool(args.kahler),
        "signature": list(sig) if sig else [n, 0],
        "metric": [[str(g[i, j]) for j in range(n)] for i in range(n)],
        "christoffel": [[[str(gamma[k, i, j]) for j in range(n)] for i in range(n)] for k in range(n)],
        "ricci": [[str(ricci[i, j]) for j in range(n)] for i in range(n)],
        "scalar": str(scalar),
        **extra,
        "latex": latex,
        "conventions": conventions,
    }
    if args.latex:
        return result, lambda r: print("\n".join(r["latex"].values()))
    return result, lambda _: _render(g, gamma, ricci, scalar, names, args.kahler, extra, conventions)


def _latex(g, gamma, ricci, scalar, coords, conjugates) -> dict[str, str]:
    """The results as LaTeX equations (:func:`flowtheory.latex.latex`): metric, the non-zero Γ (i <= j), Ricci, scalar."""
    from flowtheory.latex import latex, name_latex

    def tex(expr) -> str:
        return latex(expr, conjugates=conjugates)

    kahler = bool(conjugates)
    n = len(coords)
    index = [name_latex(str(c)) for c in coords]
    bar = (lambda a: rf"\bar{{{a}}}") if kahler else (lambda a: a)
    out = {"metric": rf"g_{{a{bar('b')}}} = {tex(g)}" if kahler else rf"g_{{ij}} = {tex(g)}"}
    for k in range(n):
        for i in range(n):
            for j in range(i, n):
                if gamma[k, i, j] != 0:
                    out[f"christoffel[{k}][{i}][{j}]"] = rf"\Gamma^{{{index[k]}}}_{{{index[i]} {index[j]}}} = {tex(gamma[k, i, j])}"
    if kahler:
        from flowtheory.kahler import RIEMANNIAN_FACTOR

        out["ricci"] = rf"R_{{a\bar{{b}}}} = -\partial_a\bar\partial_b \ln\det g = {tex(ricci)}"
        out["scalar"] = rf"g^{{a\bar{{b}}}}R_{{a\bar{{b}}}} = {tex(scalar)}"
        out["riemannian_scalar"] = rf"R_{{\mathrm{{Riem}}}} = {tex(RIEMANNIAN_FACTOR['line-element'] * scalar)}"
    else:
        out["ricci"] = rf"R_{{ij}} = {tex(ricci)}"
        out["scalar"] = rf"R = {tex(scalar)}"
    return out


def _render(g, gamma, ricci, scalar, names: list[str], kahler: bool, extra: dict, conventions: str) -> None:
    import sympy as sp

    n = len(names)
    print("Conventions: " + conventions)
    print()
    print(("Metric g_{a b̄}:" if kahler else "Metric g_ij:"))
    print(sp.pretty(g, use_unicode=True))
    print()
    print("Christoffel symbols (non-zero; symmetric in the lower indices):")
    nonzero = [
        (k, i, j) for k in range(n) for i in range(n) for j in range(i, n) if gamma[k, i, j] != 0
    ]
    if not nonzero:
        print("  all zero")
    for k, i, j in nonzero:
        print(f"  Γ^{names[k]}_{{{names[i]} {names[j]}}} = {sp.sstr(gamma[k, i, j])}")
    print()
    print("Ricci form R_{a b̄} = −∂_a ∂̄_b ln det g:" if kahler else "Ricci tensor R_ij:")
    print(sp.pretty(ricci, use_unicode=True))
    print()
    print(("g^{a b̄} R_{a b̄} = " if kahler else "Scalar curvature R = ") + sp.sstr(scalar))
    if kahler:
        print("Riemannian scalar curvature of ds² = g_{a b̄} dz^a dz̄^b: " + extra["riemannian_scalar"])
