"""``flowtheory quintic …``: the Calabi–Yau experiments of section 3 of the paper.

``sample`` and ``sigma`` live in :mod:`.quintic_points`; ``distances`` and ``cluster`` in
:mod:`.quintic_distances`; the kernel flow ``flow`` in :mod:`.quintic_flow`; its hyper-parameter ``search`` in
:mod:`.quintic_search`; figure 3 and the extrapolation, ``noise-analysis``, in :mod:`.quintic_noise`; the metric
networks of section 3.3, ``train``, in :mod:`.quintic_train` and their kernels, ``ntk-evolution``, in
:mod:`.quintic_ntk`; the balanced metrics, ``donaldson``, in :mod:`.quintic_donaldson`; and the learners side by
side, ``compare``, in :mod:`.quintic_compare`.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from flowtheory.cli import quintic_compare, quintic_distances, quintic_donaldson, quintic_flow, quintic_noise, quintic_ntk, quintic_points, quintic_search, quintic_train

    p = sub.add_parser("quintic", help="points, measures, distances and clustering on the Fermat quintic")
    quintic_sub = p.add_subparsers(dest="quintic_command", required=True, metavar="QUINTIC_COMMAND")
    quintic_points.register(quintic_sub)
    quintic_distances.register(quintic_sub)
    quintic_flow.register(quintic_sub)
    quintic_search.register(quintic_sub)
    quintic_noise.register(quintic_sub)
    quintic_train.register(quintic_sub)
    quintic_ntk.register(quintic_sub)
    quintic_donaldson.register(quintic_sub)
    quintic_compare.register(quintic_sub)
