"""Finite-width networks, their empirical and matrix-free metric-NTKs (2.7), Monte-Carlo width
studies of the frozen limit (2.9) and the σ → 0 limit of the Gaussian family (2.29)."""
