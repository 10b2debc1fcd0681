"""Hierarchical risk parity (López de Prado, 2016) in its classic form.

1. Distance ``d_ij = sqrt((1 − ρ_ij)/2)`` from the correlation of daily returns.
2. Single-linkage clustering of ``d``; the assets ordered as the dendrogram's leaves
   (quasi-diagonalisation, no optimal leaf reordering).
3. Recursive bisection of that ordered list into halves: each half's variance is taken at
   its inverse-variance weights and the parent's weight is split ``1 − V_L/(V_L + V_R)`` to
   the left half, the rest to the right.

Per-asset caps clip each split so that neither half is given more than the sum of its
members' caps (the rule skfolio uses), which keeps every asset under its cap.
"""

from __future__ import annotations

import numpy as np
import scipy.cluster.hierarchy as sch
from scipy.spatial.distance import squareform


def correlation_distance(cov: np.ndarray) -> np.ndarray:
    """``sqrt((1 − ρ)/2)``, shape (n_assets, n_assets), zero diagonal."""
    sd = np.sqrt(np.diag(cov))
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    distance = np.sqrt((1.0 - corr) / 2.0)
    np.fill_diagonal(distance, 0.0)
    return distance


def quasi_diagonal_order(cov: np.ndarray) -> np.ndarray:
    """Asset indices in the leaf order of the single-linkage dendrogram."""
    if len(cov) == 1:
        return np.zeros(1, dtype=int)
    condensed = squareform(correlation_distance(cov), checks=False)
    return sch.leaves_list(sch.linkage(condensed, method="single"))


def hrp_weights(cov: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
    """HRP weights for the covariance ``cov`` (any scale), capped at ``upper``."""
    n = len(cov)
    upper = np.ones(n) if upper is None else upper
    weights = np.ones(n)
    clusters = [quasi_diagonal_order(cov)]
    while clusters:
        halves = []
        for cluster in clusters:
            if len(cluster) < 2:
                continue
            left, right = cluster[: len(cluster) // 2], cluster[len(cluster) // 2 :]
            alpha = 1.0 - _ivp_variance(cov, left) / (
                _ivp_variance(cov, left) + _ivp_variance(cov, right)
            )
            parent = weights[cluster[0]]
            alpha = min(alpha, upper[left].sum() / parent)
            alpha = 1.0 - min(1.0 - alpha, upper[right].sum() / parent)
            weights[left] *= alpha
            weights[right] *= 1.0 - alpha
            halves += [left, right]
        clusters = halves
    return weights


def _ivp_variance(cov: np.ndarray, items: np.ndarray) -> float:
    """Variance of the inverse-variance portfolio of ``items``."""
    sub = cov[np.ix_(items, items)]
    ivp = 1.0 / np.diag(sub)
    ivp /= ivp.sum()
    return float(ivp @ sub @ ivp)
