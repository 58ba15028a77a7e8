"""``flowtheory derive functional NAME``: a named energy functional, its variation and flow — generic, or at a metric.

``flowtheory derive functional NAME [--dim D] [--time-limit SECONDS] [--latex | --json]``
``flowtheory derive functional {perelman,ricci} --coords "x y" --metric "[[...]]" [--dilaton PHI] [--simplify MODE] [--latex | --json]``
``flowtheory derive functional KAHLER-NAME --kahler --coords "z" --potential K [--simplify MODE] [--latex | --json]``

Generic (no ``--metric`` / ``--potential``): prints the functional (section 2.4, appendix B), its
first variation (the gradient for the functional's inner product, in jet variables ``g_00_xy``,
``phi_z_zb``, ...) and its gradient flow, with the paper's equation numbers and the verdict of the
proof that checks them against the printed forms.  ``--dim`` is the real dimension for ``perelman``
and ``ricci`` (1 or 2, default 2) and the complex dimension for the Kähler functionals (1 or 2,
default 1).  It is bounded by :data:`DIM_LIMITS`: ``calabi``, ``two-derivative`` and
``einstein-hilbert`` only in dimension 1 (their dimension-2 derivations run for minutes; the others
take seconds in either), through ``flowtheory.functionals`` for more.

At a metric: the same derived flow with the jets of a concrete metric substituted
(:meth:`flowtheory.functionals.Functional.flow_at`), each component simplified by ``--simplify``
(``cancel`` by default — :func:`sympy.cancel` of every sub-expression, function arguments included —,
``simplify`` or ``none``; see ``derive curvature``), and ∂_t g printed as a matrix.  The tool then names the result in covariant form where one is on record
(:data:`COVARIANT_FORMS`) and says whether it holds, decided by sympy: the difference is reduced by
:func:`sympy.cancel` and, where that leaves something, :func:`sympy.simplify`, and the form holds
when it reaches 0 — for ``ricci`` ∂_t g = −2R_ij (2.39) of that metric, for ``perelman``
∂_t g = −2(R_ij + ∇_i∇_jφ) and ∂_tφ = −Δφ − R (2.40), for ``kahler-ricci`` φ̇ = ln det g and
∂_t g_{ab̄} = −R_{ab̄} (B.4), ``ultralocal`` φ̇ = 2(det g − 1) (B.21 corrected), ``mabuchi``
φ̇ = R − R̄ (B.8), ``j`` φ̇ = c − tr_g ω₀.

* ``perelman``, ``ricci``: ``--metric`` g_ij in the real ``--coords`` (constants allowed, as in
  ``derive curvature``), validated (symmetric, positive definite at sample points); ``--dilaton``
  Perelman's φ (``perelman`` only; default 0).
* Kähler functionals (``--kahler``): ``--potential K`` in the complex ``--coords`` (conjugate of
  ``z`` written ``zb``), g_{ab̄} = ∂_a∂̄_b K.  The functionals are those of
  :func:`flowtheory.functionals.kahler_setting`'s default chart — reference potential K₀ = Σ z z̄,
  Calabi–Yau density w = 1 — so the flowing potential is φ = K − K₀ and η = det g.  The constants
  ``Rbar`` (``mabuchi``) and ``c`` (``j``) stay symbols.

``--time-limit SECONDS`` (default 60) bounds the work (:func:`flowtheory.cli.expressions.time_limit`);
coordinates are bounded by :data:`DIM_LIMITS` as ``--dim`` is.

``--latex`` prints LaTeX (symbol names of :mod:`flowtheory.latex`: ``g_{00,xy}``, ``\\varphi_{,z\\bar{z}}``):
generic, three lines (functional, variation, flow, components separated by ``\\\\``); at a metric,
one equation per flowing field ending in its covariant form.  ``--json`` prints one object; generic:
keys ``name``, ``title``, ``dim``, ``coordinates``, ``functional``, ``measure``, ``variation``
(``{"g_ij": str}`` or a string), ``flow`` (``{field: str}``), ``latex`` (``functional``,
``variation``, ``flow``), ``equations``, ``proof``, ``verdict``, ``correction``; at a metric:
``name``, ``title``, ``equations``, ``proof``, ``coordinates``, ``conjugates`` (Kähler), ``metric``
or ``potential`` (and ``reference_potential``), ``dilaton`` (perelman), ``simplify``, ``flow``
(``{field: str}``), ``flow_matrix`` (∂_t g as nested lists of strings), ``identified`` (a list of
``{"field", "form", "latex", "holds"}``), ``latex`` (``{field: str}``).
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
)
from flowtheory.cli.output import CliError, bounded_int

#: The proof that checks each preset against the paper's printed equations.
PROOFS = {
    "perelman": "func-perelman",
    "ricci": "func-ricci-flow",
    "kahler-ricci": "func-kahler-ricci",
    "calabi": "func-calabi",
    "ultralocal": "func-ultralocal",
    "two-derivative": "func-two-derivative",
    "einstein-hilbert": "func-einstein-hilbert",
    "mabuchi": "func-mabuchi-j",
    "j": "func-mabuchi-j",
}

#: The largest ``--dim`` per functional: beyond it the derivation runs for minutes.
DIM_LIMITS = {name: 1 if name in ("calabi", "two-derivative", "einstein-hilbert") else 2 for name in PROOFS}

#: The functionals of a Riemannian metric; the others flow a Kähler potential.
RIEMANNIAN = ("perelman", "ricci")

#: The covariant forms the flow at a metric is compared with: ``{name: (field, text, LaTeX), ...}``
#: (field ``g`` is the matrix ∂_t g), computed by :func:`_covariant_forms`.
COVARIANT_FORMS = {
    "ricci": (("g", "-2 R_ij", r"-2R_{ij}"),),
    "perelman": (("g", "-2 (R_ij + nabla_i nabla_j phi)", r"-2\left(R_{ij} + \nabla_i\nabla_j\phi\right)"),
                 ("phi", "-Delta phi - R", r"-\Delta\phi - R")),
    "kahler-ricci": (("phi", "ln det g", r"\ln\det g"), ("g", "-R_{a bbar}", r"-R_{a\bar{b}}")),
    "ultralocal": (("phi", "2 (det g - 1)", r"2\left(\det g - 1\right)"),),
    "mabuchi": (("phi", "R - Rbar", r"R - \bar{R}"),),
    "j": (("phi", "c - tr_g omega_0", r"c - \mathrm{tr}_g\,\omega_0"),),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("functional", help="a named energy functional, its first variation and gradient flow (generic, or at a metric)")
    p.add_argument("name", choices=sorted(PROOFS), help="the functional")
    p.add_argument("--dim", type=bounded_int(1, 2), default=None,
                   help="real (perelman, ricci) or complex dimension (1 to 2; calabi, two-derivative, einstein-hilbert: 1)")
    p.add_argument("--coords", metavar='"x y ..."',
                   help="coordinates of --metric (real) or of --potential (complex, with --kahler; conjugate of z is zb); "
                        "as many as --dim allows")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--metric", metavar="MATRIX", help=f"the flow at this metric g_ij (perelman, ricci), e.g. \"[[1, 0], [0, sin(x)**2]]\" ({LIMITS_HELP})")
    source.add_argument("--potential", metavar="K", help=f"the flow at the Kähler potential K (Kähler functionals, with --kahler), e.g. \"log(1 + z*zb)\" ({LIMITS_HELP})")
    p.add_argument("--kahler", action="store_true", help="complex --coords for --potential")
    p.add_argument("--dilaton", metavar="PHI", help="Perelman's dilaton phi with --metric (perelman; default 0)")
    p.add_argument("--simplify", choices=SIMPLIFY_MODES, default="cancel",
                   help="simplification of the flow at a metric: cancel (default), none, simplify (unbounded; see derive curvature --help)")
    add_time_limit(p, 60)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--latex", action="store_true", help="print LaTeX")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def _components(expr, fields) -> dict:
    import sympy as sp

    if isinstance(expr, sp.MatrixBase):
        n = expr.rows
        return {f"g_{i}{j}": expr[i, j] for i in range(n) for j in range(i, n)}
    return {fields[0] if fields else "phi": expr}


def _check_dim(name: str, dim: int | None, option: str = "--dim") -> None:
    from flowtheory.errors import ResourceLimitError

    if name not in PROOFS:
        raise CliError(f"unknown functional {name!r}")
    if dim is not None and dim > DIM_LIMITS[name]:
        raise ResourceLimitError(
            f"{option} {dim}: {name} is derived here in dimension <= {DIM_LIMITS[name]} (larger ones take minutes; use flowtheory.functionals)"
        )


def _preset(name: str, dim: int | None):
    from flowtheory import functionals
    from flowtheory.errors import InvalidParameterError

    try:
        return functionals.preset(name, dim)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from None


def derive(name: str, dim: int | None) -> dict:
    """The derivation as a plain dict (sympy objects), shared by the renderers and the tests."""
    from flowtheory_proofs import all_proofs

    _check_dim(name, dim)
    f = _preset(name, dim)
    proof = next(p for p in all_proofs() if p.id == PROOFS[name])
    result = proof.run()
    gradient = f.gradient()
    variation = _components(gradient, [n for n in f.evolving_fields if n == "phi"])
    flow = f.flow()
    options = f.latex_options()
    return {
        "name": name,
        "title": f.title,
        "dim": f.jet.dim if f.variable == "metric" else f.jet.dim // 2,
        "coordinates": [str(c) for c in f.coords],
        "functional": f.formula,
        "measure": f.measure_label,
        "variation": variation,
        "flow": flow,
        "equations": list(f.equations),
        "proof": proof.id,
        "verdict": result.verdict,
        "correction": result.correction,
        "loss_scale": f.loss_scale,
        "flow_rule": f.flow_rule,
        "inner_product": f"L2({f.measure_label})" if f.variable == "metric" else r"L2(\omega_\varphi^n)",
        "latex": {
            "functional": f.formula,
            "variation": _latex_dict(variation, _gradient_lhs, options),
            "flow": _latex_dict(flow, lambda k: rf"\partial_t {field_latex(k, options)}", options),
        },
    }


def field_latex(field: str, options: dict) -> str:
    """``g_{01}``, ``\\varphi``, ``\\phi``: the LaTeX of an evolving field's name."""
    from flowtheory.latex import name_latex

    return name_latex(field, names=options.get("names"))


def _latex_dict(d: dict, lhs, options: dict) -> str:
    from flowtheory.latex import latex

    return r" \\ ".join(f"{lhs(k)} = {latex(v, **options)}" for k, v in d.items())


def _gradient_lhs(field: str) -> str:
    """``(\\mathrm{grad}\\,E)_{01}`` for a metric component, ``\\mathrm{grad}\\,E`` for a scalar."""
    return rf"(\mathrm{{grad}}\,E)_{{{field[2:]}}}" if field.startswith("g_") else r"\mathrm{grad}\,E"


def run(args: argparse.Namespace) -> int:
    emit_within_time_limit(args.time_limit, "derive functional", args.json, lambda: _result(args))
    return 0


def _result(args: argparse.Namespace):
    """The printed result and its renderer (``--latex``: three LaTeX lines)."""
    if args.metric is not None or args.potential is not None:
        return _result_at(args)
    for option, value in (("--coords", args.coords), ("--dilaton", args.dilaton), ("--kahler", args.kahler or None)):
        if value is not None:
            raise CliError(f"{option} goes with --metric or --potential")
    d = derive(args.name, args.dim)
    result = {
        **d,
        "variation": {k: str(v) for k, v in d["variation"].items()},
        "flow": {k: str(v) for k, v in d["flow"].items()},
        "loss_scale": str(d["loss_scale"]),
    }
    return result, _render_latex if args.latex else _render


def _render_latex(r: dict) -> None:
    print(r["latex"]["functional"])
    print(r["latex"]["variation"])
    print(r["latex"]["flow"])


def _render(r: dict) -> None:
    print(f"{r['title']} (dim {r['dim']}; coordinates {', '.join(r['coordinates'])})")
    print(f"functional: {r['functional']}")
    print(f"gradient for the {r['inner_product']} inner product (flow: descent of the loss {r['loss_scale']}*E, rule {r['flow_rule']}):")
    for k, v in r["variation"].items():
        print(f"  grad[{k}] = {v}")
    print("flow:")
    for k, v in r["flow"].items():
        print(f"  d{k}/dt = {v}")
    print(f"equations {', '.join(r['equations']) or '-'}; proof {r['proof']}: {r['verdict']}")
    if r["correction"]:
        print(f"correction: {r['correction']}")


# --- the flow at a concrete metric or potential -------------------------------------------------


def _holds(expr, form) -> bool:
    """Whether ``expr == form``, decided by sympy: :func:`sympy.cancel` of the difference, then :func:`sympy.simplify`."""
    import sympy as sp

    difference = sp.cancel(expr - form)
    return difference == 0 or sp.simplify(difference) == 0


def _covariant_forms(name: str, data: dict) -> dict:
    """``{field: expression}`` of :data:`COVARIANT_FORMS` for ``name`` at the data of :func:`derive_at`."""
    import sympy as sp

    if name in RIEMANNIAN:
        from flowtheory import riemann

        g, coords, phi = data["metric"], data["coords"], data["dilaton"]
        ricci = riemann.ricci_tensor(g, coords)
        if name == "ricci":
            return {"g": -2 * ricci}
        return {"g": -2 * (ricci + riemann.hessian(phi, g, coords)),
                "phi": -riemann.laplacian(phi, g, coords) - riemann.ricci_scalar(g, coords)}
    from flowtheory import kahler

    g, z, zbar = data["metric"], data["z"], data["zbar"]
    if name == "kahler-ricci":
        return {"phi": sp.log(g.det(method="berkowitz")), "g": -kahler.ricci_form(g, z, zbar)}
    if name == "ultralocal":
        return {"phi": 2 * (g.det(method="berkowitz") - 1)}
    rbar_or_c = {str(p): p for p in data["parameters"]}
    if name == "mabuchi":
        return {"phi": kahler.scalar_curvature(g, z, zbar) - rbar_or_c["Rbar"]}
    if name == "j":
        return {"phi": rbar_or_c["c"] - kahler.inverse_metric(g).trace()}
    return {}


def _simplifier(mode: str):
    """``--simplify`` at a metric: ``cancel`` also inside the arguments of functions (``log(1/(1 + z zb)**2)``)."""
    import sympy as sp
    from sympy.core.traversal import bottom_up

    if mode == "cancel":
        return lambda e: bottom_up(e, sp.cancel)
    return simplifier(mode) or (lambda e: e)


def derive_at(name: str, coords: str, *, metric: str | None = None, potential: str | None = None, kahler: bool = False,
              dilaton: str | None = None, simplify: str = "cancel") -> dict:
    """The flow of the functional ``name`` at a concrete metric (``perelman``, ``ricci``) or Kähler
    potential (the others, ``kahler=True``), as a plain dict of sympy objects (module docstring)."""
    import sympy as sp

    from flowtheory import riemann
    from flowtheory.cli.derive_curvature import MAX_COORDS

    if name not in PROOFS:
        raise CliError(f"unknown functional {name!r}")
    if coords is None:
        raise CliError("--metric and --potential need --coords")
    simp = _simplifier(simplify)
    data: dict = {}
    if name in RIEMANNIAN:
        if metric is None or kahler:
            raise CliError(f"{name} flows a Riemannian metric: give --metric in real --coords (no --kahler, no --potential)")
        names = coordinate_names(coords, MAX_COORDS["real"], "real")
        _check_dim(name, len(names), "--coords: dimension")
        user, g = real_metric(names, metric)
        symbols = {s.name: s for s in user}
        if dilaton is not None and name != "perelman":
            raise CliError("--dilaton goes with perelman (Ricci flow has no dilaton)")
        phi = sp.S.Zero if dilaton is None else parse_expression(dilaton, symbols, "--dilaton")
        if not isinstance(phi, sp.Expr):
            raise CliError(f"--dilaton must be a scalar expression, got {dilaton!r}")
        riemann.check_metric(g, user)
        f = _preset(name, len(names))
        to_f = dict(zip(user, f.coords))
        flow = f.flow_at({"phi": phi.xreplace(to_f)}, metric=g.xreplace(to_f))
        data.update(metric=g, coords=user, dilaton=phi)
        conjugates: tuple = ()
        inputs = {"metric": [[str(g[i, j]) for j in range(g.cols)] for i in range(g.rows)]}
        if name == "perelman":
            inputs["dilaton"] = str(phi)
    else:
        from flowtheory import functionals
        from flowtheory import kahler as kahler_geometry

        if potential is None or not kahler:
            raise CliError(f"{name} flows a Kähler potential: give --kahler and --potential K in complex --coords")
        if dilaton is not None:
            raise CliError("--dilaton goes with perelman")
        names = coordinate_names(coords, MAX_COORDS["complex"], "complex")
        _check_dim(name, len(names), "--coords: dimension")
        z, zbar, K = kahler_potential(names, potential)
        g = kahler_geometry.metric_from_potential(K, z, zbar)
        kahler_geometry.check_kahler_metric(g, z, zbar)
        f = _preset(name, len(names))
        n = len(names)
        to_f = dict(zip(z + zbar, f.coords))
        K0 = functionals.kahler_setting(n).K0
        flow = f.flow_at({"phi": K.xreplace(to_f) - K0})
        user = z
        conjugates = zbar
        data.update(metric=g, z=z, zbar=zbar, parameters=f.parameters)
        inputs = {"potential": str(K), "reference_potential": str(K0.xreplace({v: k for k, v in to_f.items()}))}
    back = {v: k for k, v in to_f.items()}
    flow = {k: simp(v.xreplace(back)) for k, v in flow.items()}
    n = len(user)
    if name in RIEMANNIAN:
        matrix = sp.Matrix(n, n, lambda i, j: flow[f"g_{min(i, j)}{max(i, j)}"])
    else:
        matrix = sp.Matrix(n, n, lambda a, b: simp(sp.diff(flow["phi"], z[a], zbar[b])))
    forms = _covariant_forms(name, data)
    identified = []
    for field, text, tex in COVARIANT_FORMS.get(name, ()):
        value = matrix if field == "g" else flow[field]
        form = forms[field]
        holds = all(_holds(a, b) for a, b in zip(value, form)) if field == "g" else _holds(value, form)
        identified.append({"field": field, "form": text, "latex": tex, "holds": holds})
    return {
        "name": name,
        "title": f.title,
        "equations": list(f.equations),
        "proof": PROOFS[name],
        "coordinates": names,
        "conjugates": [str(b) for b in conjugates],
        "inputs": inputs,
        "simplify": simplify,
        "flow": flow,
        "flow_matrix": matrix,
        "identified": identified,
        "latex_options": {"conjugates": conjugates, "names": {"phi": r"\phi" if name in RIEMANNIAN else r"\varphi"}},
        "kahler": name not in RIEMANNIAN,
    }


def _latex_at(d: dict) -> dict[str, str]:
    """One LaTeX equation per flowing field, the covariant form appended where it holds."""
    from flowtheory.latex import latex, name_latex

    options = d["latex_options"]
    said = {i["field"]: i for i in d["identified"]}

    def tail(field: str) -> str:
        found = said.get(field)
        return f" = {found['latex']}" if found and found["holds"] else ""

    if d["kahler"]:
        lhs = {"phi": r"\partial_t \varphi", "g": r"\partial_t g_{a\bar{b}} = \partial_a\bar\partial_b\,\partial_t\varphi"}
    else:
        lhs = {"phi": r"\partial_t \phi", "g": r"\partial_t g_{ij}"}
    out = {"g": f"{lhs['g']} = {latex(d['flow_matrix'], **options)}{tail('g')}"}
    for field, value in d["flow"].items():
        if not field.startswith("g_"):
            left = lhs.get(field) or rf"\partial_t {name_latex(field)}"
            out[field] = f"{left} = {latex(value, **options)}{tail(field)}"
    return out


def _result_at(args: argparse.Namespace):
    if args.dim is not None:
        raise CliError("--dim goes without --metric/--potential: at a metric the dimension is the number of --coords")
    d = derive_at(args.name, args.coords, metric=args.metric, potential=args.potential, kahler=args.kahler,
                  dilaton=args.dilaton, simplify=args.simplify)
    latex = _latex_at(d)
    m = d["flow_matrix"]
    result = {
        "name": d["name"],
        "title": d["title"],
        "equations": d["equations"],
        "proof": d["proof"],
        "coordinates": d["coordinates"],
        **({"conjugates": d["conjugates"]} if d["kahler"] else {}),
        **d["inputs"],
        "simplify": d["simplify"],
        "flow": {k: str(v) for k, v in d["flow"].items()},
        "flow_matrix": [[str(m[i, j]) for j in range(m.cols)] for i in range(m.rows)],
        "identified": d["identified"],
        "latex": latex,
    }
    if args.latex:
        return result, lambda r: print("\n".join(r["latex"].values()))
    return result, lambda r: _render_at(r, d)


def _render_at(r: dict, d: dict) -> None:
    import sympy as sp

    coords = ", ".join(r["coordinates"] + r.get("conjugates", []))
    eqs = f" ({', '.join(r['equations'])})" if r["equations"] else ""
    if d["kahler"]:
        print(f"{r['title']}{eqs} at K = {r['potential']} in ({coords}): phi = K - ({r['reference_potential']})")
    else:
        dilaton = f", phi = {r['dilaton']}" if "dilaton" in r else ""
        print(f"{r['title']}{eqs} at the metric g_ij in ({coords}){dilaton}:")
        print(sp.pretty(sp.Matrix(r["metric"]), use_unicode=True))
    print()
    said = {i["field"]: i for i in r["identified"]}

    def verdict(field: str) -> str:
        found = said.get(field)
        if found is None:
            return "  (no covariant form on record)"
        relation = "=" if found["holds"] else "differs from"
        return f"  {relation} {found['form']} (sympy: cancel, then simplify, of the difference {'is' if found['holds'] else 'is not'} 0)"

    print("d/dt g_{a bbar} = d_a dbar_b (dphi/dt):" if d["kahler"] else "d/dt g_ij:")
    print(sp.pretty(d["flow_matrix"], use_unicode=True))
    print(verdict("g"))
    for field, value in d["flow"].items():
        if not field.startswith("g_"):
            print(f"d{field}/dt = {sp.sstr(value)}")
            print(verdict(field))
    print(f"proof of the generic derivation: {r['proof']} (flowtheory verify --only {r['proof']})")
