"""``flowtheory derive functional NAME [--dim D] [--time-limit SECONDS] [--latex | --json]``.

Prints a named energy functional (section 2.4, appendix B), its first variation (the gradient for
the functional's inner product, in jet variables ``g_00_xy``, ``phi_z_zb``, ...) and its gradient
flow, with the paper's equation numbers and the verdict of the proof that checks them against the
printed forms.  ``--dim`` is the real dimension for ``perelman`` and ``ricci`` (1 or 2, default 2) and
the complex dimension for the Kähler functionals (1 or 2, default 1).  It is bounded by
:data:`DIM_LIMITS`: ``calabi``, ``two-derivative`` and ``einstein-hilbert`` only in dimension 1 (their
dimension-2 derivations run for minutes; the others take seconds in either), through
``flowtheory.functionals`` for more.  ``--time-limit SECONDS`` (default 60) bounds the work
(:func:`flowtheory.cli.expressions.time_limit`).

``--json`` prints one object with keys ``name``, ``title``, ``dim``, ``coordinates``, ``functional``,
``measure``, ``variation`` (``{"g_ij": str}`` or a string), ``flow`` (``{field: str}``), ``latex``
(``functional``, ``variation``, ``flow``), ``equations``, ``proof``, ``verdict``, ``correction``.
"""

from __future__ import annotations

import argparse

from flowtheory.cli.expressions import add_time_limit, emit_within_time_limit
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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("functional", help="a named energy functional, its first variation and gradient flow")
    p.add_argument("name", choices=sorted(PROOFS), help="the functional")
    p.add_argument("--dim", type=bounded_int(1, 2), default=None,
                   help="real (perelman, ricci) or complex dimension (1 to 2; calabi, two-derivative, einstein-hilbert: 1)")
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


def derive(name: str, dim: int | None) -> dict:
    """The derivation as a plain dict (sympy objects), shared by the renderers and the tests."""
    from flowtheory import functionals
    from flowtheory.errors import InvalidParameterError, ResourceLimitError
    from flowtheory_proofs import all_proofs

    if name not in PROOFS:
        raise CliError(f"unknown functional {name!r}")
    if dim is not None and dim > DIM_LIMITS[name]:
        raise ResourceLimitError(
            f"--dim {dim}: {name} is derived here in dimension <= {DIM_LIMITS[name]} (larger ones take minutes; use flowtheory.functionals)"
        )
    try:
        f = functionals.preset(name, dim)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from None
    proof = next(p for p in all_proofs() if p.id == PROOFS[name])
    result = proof.run()
    gradient = f.gradient()
    variation = _components(gradient, [n for n in f.evolving_fields if n == "phi"])
    flow = f.flow()
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
    }


def _latex_dict(d: dict, prefix: str) -> str:
    import sympy as sp

    return r" \\ ".join(rf"{prefix}{{{k}}} = {sp.latex(v)}" for k, v in d.items())


def run(args: argparse.Namespace) -> int:
    emit_within_time_limit(args.time_limit, "derive functional", args.json, lambda: _result(args))
    return 0


def _result(args: argparse.Namespace):
    """The printed result and its renderer (``--latex``: three LaTeX lines)."""
    d = derive(args.name, args.dim)
    latex = {
        "functional": d["functional"],
        "variation": _latex_dict(d["variation"], r"\mathrm{grad}\,E_"),
        "flow": _latex_dict(d["flow"], r"\partial_t "),
    }
    result = {
        **d,
        "variation": {k: str(v) for k, v in d["variation"].items()},
        "flow": {k: str(v) for k, v in d["flow"].items()},
        "loss_scale": str(d["loss_scale"]),
        "latex": latex,
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
