"""Reading a posterior: summary table, plateau of near-best scores, mass per grid cell."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.optimize._diagnostics import rank_normalized_split_rhat, split_rhat
from core.optimize._space import Dimension, SearchSpace


@dataclass(frozen=True)
class Plateau:
    """The posterior draws whose score is within ``eps`` of the best score seen.

    Attributes
    ----------
    eps : float
        Tolerance in score units.
    threshold : float
        ``best_score - eps``.
    share : float
        Posterior mass (share of kept draws) with ``score >= threshold``: near 1 when the
        posterior sits on a wide plateau of near-best scores, near 0 for a lone peak.
    bounds : dict of str to (float, float)
        Per dimension, the smallest and largest value of those draws (value coordinates).
    centre : dict or None
        Parameters at the per-dimension medians of those draws: a choice in the middle of
        the plateau rather than at its edge (not checked against the model's validators).
    """

    eps: float
    threshold: float
    share: float
    bounds: dict[str, tuple[float, float]]
    centre: dict[str, Any] | None


def summarize(space: SearchSpace, kept: np.ndarray, level: float, best) -> pd.DataFrame:
    rows = []
    for j, d in enumerate(space.dimensions):
        draws = kept[:, :, j]
        pooled = draws.ravel()
        lower, median, upper = _quantiles(pooled, [(1 - level) / 2, 0.5, (1 + level) / 2], d)
        rows.append(
            {
                "mean": pooled.mean() if pooled.size else math.nan,
                "sd": pooled.std(ddof=1) if pooled.size > 1 else math.nan,
                "lower": lower,
                "median": median,
                "upper": upper,
                "rhat": rank_normalized_split_rhat(draws),
                "rhat_basic": split_rhat(draws),
                "best": math.nan if best is None else float(best[j]),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(space.names, name="parameter"))


def _quantiles(values: np.ndarray, qs: list[float], dim: Dimension) -> list[float]:
    if not values.size:
        return [math.nan] * len(qs)
    method = "inverted_cdf" if dim.discrete else "linear"
    return [float(v) for v in np.quantile(values, qs, method=method)]


def plateau_of(space, kept, kept_scores, best_score, eps) -> Plateau:
    threshold = best_score - eps
    flat = kept.reshape(-1, space.n_dims)
    near = flat[kept_scores.ravel() >= threshold]
    share = len(near) / len(flat) if len(flat) else math.nan
    if not len(near):
        return Plateau(eps, threshold, share, {}, None)
    bounds = {
        d.name: (float(near[:, j].min()), float(near[:, j].max()))
        for j, d in enumerate(space.dimensions)
    }
    centre = [_quantiles(near[:, j], [0.5], d)[0] for j, d in enumerate(space.dimensions)]
    return Plateau(eps, threshold, share, bounds, space.to_params(space.round(np.array(centre))))


def posterior_cells(
    samples: np.ndarray,
    scores: np.ndarray,
    dimensions: Sequence[Dimension],
    *,
    names: Sequence[str] | None = None,
    bins: int = 10,
) -> pd.DataFrame:
    """Posterior mass, mean and best score per cell of a grid over some dimensions.

    A dimension with at most ``bins`` allowed values gets one cell per value; any other
    is cut into ``bins`` equal-width cells over its range. A wide region of cells with
    similar mass and score is a robust plateau; a single heavy cell is a lone peak.

    Parameters
    ----------
    samples : ndarray of shape (n_draws, n_dims)
        Posterior draws in value coordinates.
    scores : ndarray of shape (n_draws,)
    dimensions : sequence of Dimension
        The dimensions of the columns of ``samples``.
    names : sequence of str, optional
        The dimensions to grid (default all; one or two make readable tables and heatmaps).
    bins : int, default 10

    Returns
    -------
    DataFrame of shape (n_cells, 3 * len(names) + 5)
        Per non-empty cell: ``<name>`` (cell centre), ``<name>_low``, ``<name>_high`` for
        each gridded dimension, ``n`` (draws), ``share`` (posterior mass), ``relative``
        (share / largest share), ``mean_score`` and ``max_score``; ordered by cell.
    """
    by_name = {d.name: j for j, d in enumerate(dimensions)}
    names = list(by_name) if names is None else list(names)
    table: dict[str, Any] = {}
    for name in names:
        dim, values = dimensions[by_name[name]], samples[:, by_name[name]]
        low, high = _cell_edges(dim, values, bins)
        table.update({name: (low + high) / 2, f"{name}_low": low, f"{name}_high": high})
    table["score"] = scores
    frame = pd.DataFrame(table)
    keys = [c for n in names for c in (n, f"{n}_low", f"{n}_high")]
    grouped = frame.groupby(keys, sort=True)["score"]
    cells = grouped.agg(n="size", mean_score="mean", max_score="max").reset_index()
    cells.insert(len(keys) + 1, "share", cells["n"] / max(1, len(samples)))
    cells.insert(len(keys) + 2, "relative", cells["share"] / cells["share"].max())
    return cells


def _cell_edges(dim: Dimension, values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    if dim.discrete and dim.n_values <= bins:
        return values, values
    edges = np.linspace(dim.low, dim.top, bins + 1)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    return edges[index], edges[index + 1]
