"""The paper's equations *as printed* — only ever compared against, never used to compute.

One module per part of the paper: :mod:`.ntk` (sections 2.1–2.3), :mod:`.flows` (section 2.4 and
appendix B), :mod:`.cy` (section 3).  Each entry reproduces the printed formula literally, typos
included; ``proofs/`` derive the correct form and record the difference.
"""
