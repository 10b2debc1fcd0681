"""Information theory for research: entropy and mutual information.

Entropy and mutual information of features (or searched parameters) with forward returns (or scores)
rank what matters and flag redundant ones.

Estimators are histogram plug-ins, in nats. A variable with at most ``bins`` distinct values
(or a non-numeric one) is *discrete* and binned as it is, one bin per value; otherwise it is
*continuous* and cut into ``bins`` equal-frequency (quantile) bins by rank, ties kept in one
bin. Quantile binning makes the marginals near-uniform, so the estimate depends on the
dependence between variables, not on their scales or tails (it is invariant to monotone
transforms).

The plug-in entropy is biased low by about ``(m − 1) / (2n)`` for ``m`` occupied bins and
``n`` samples, so the plug-in mutual information of independent variables is biased *high*
by about ``(m_x − 1)(m_y − 1) / (2n)``. ``bias_correction=True`` applies the Miller–Madow
correction ``H + (m − 1) / (2n)`` to every entropy (mutual information is then
``H(X) + H(Y) − H(X, Y)`` of corrected entropies, clipped at 0). Binning also loses
information: for continuous data the estimate converges to the MI of the *binned* variables,
a lower bound on the true MI that tightens as ``bins`` grows with ``n``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.errors import InvalidInputError, NotFoundError
from core.strategies import RSI

FEATURE_COLUMNS = (
    "return_1",
    "return_5",
    "return_20",
    "return_60",
    "volatility_20",
    "zscore_20",
    "rsi_14",
    "distance_sma_50",
)
RANK_COLUMNS = (
    "mutual_information",
    "normalized_mi",
    "rank",
    "most_redundant_with",
    "redundancy",
    "redundant",
)


# --------------------------------------------------------------------------- binning
def discretize(x, bins: int = 10) -> np.ndarray:
    """Integer bin codes ``0..m-1`` of a 1-D sample (no NaN).

    Discrete data (non-numeric, or at most ``bins`` distinct values) gets one code per
    value; continuous data gets ``bins`` equal-frequency bins by rank (ties share a bin).
    """
    if bins < 1:
        raise InvalidInputError(f"bins must be at least 1, got {bins}", field="bins")
    values = np.asarray(x)
    if values.ndim != 1:
        raise InvalidInputError("expected a 1-D sample")
    codes, uniques = pd.factorize(values, sort=True)
    if len(uniques) <= bins or not np.issubdtype(values.dtype, np.number):
        return codes.astype(np.int64)
    # min-rank (0-based) of each value: ties get the same rank, hence the same bin
    first = np.searchsorted(np.sort(values, kind="mergesort"), values, side="left")
    return (first * bins // len(values)).astype(np.int64)


def _clean(*arrays) -> list[np.ndarray]:
    """Equal-length 1-D arrays with every row that has a NaN in any of them dropped."""
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if any(a.ndim != 1 or len(a) != n for a in arrays):
        raise InvalidInputError("samples must be 1-D and of equal length")
    keep = np.ones(n, dtype=bool)
    for a in arrays:
        keep &= ~pd.isna(a)
    return [a[keep] for a in arrays]


def _entropy_of_codes(codes: np.ndarray, bias_correction: bool) -> float:
    n = len(codes)
    if n == 0:
        return math.nan
    counts = np.bincount(codes)
    counts = counts[counts > 0]
    p = counts / n
    h = float(-(p * np.log(p)).sum())
    if bias_correction:
        h += (len(counts) - 1) / (2 * n)
    return max(h, 0.0)


def _joint_codes(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    return cx * (int(cy.max(initial=0)) + 1) + cy


# --------------------------------------------------------------------------- estimators
def entropy(x, bins: int = 10, *, bias_correction: bool = False) -> float:
    """Shannon entropy (nats) of a sample, histogram plug-in; NaNs are dropped.

    ``bias_correction`` adds the Miller–Madow term ``(m − 1) / (2n)``.
    """
    (x,) = _clean(x)
    return _entropy_of_codes(discretize(x, bins), bias_correction)


def mutual_information(x, y, bins: int = 10, *, bias_correction: bool = False) -> float:
    """Mutual information (nats, ≥ 0) of two paired samples from their joint histogram.

    ``I = H(X) + H(Y) − H(X, Y)`` of the binned samples; rows with a NaN are dropped.
    With ``bias_correction`` each entropy is Miller–Madow corrected and the result clipped
    at 0.
    """
    x, y = _clean(x, y)
    if len(x) == 0:
        return math.nan
    cx, cy = discretize(x, bins), discretize(y, bins)
    hx = _entropy_of_codes(cx, bias_correction)
    hy = _entropy_of_codes(cy, bias_correction)
    hxy = _entropy_of_codes(_joint_codes(cx, cy), bias_correction)
    return max(hx + hy - hxy, 0.0)


def normalized_mutual_information(x, y, bins: int = 10, *, bias_correction: bool = False) -> float:
    """``I(X; Y) / sqrt(H(X) H(Y))`` in [0, 1] (0 when either variable is constant)."""
    x, y = _clean(x, y)
    if len(x) == 0:
        return math.nan
    cx, cy = discretize(x, bins), discretize(y, bins)
    return _nmi_of_codes(cx, cy, bias_correction)


def _nmi_of_codes(cx: np.ndarray, cy: np.ndarray, bias_correction: bool) -> float:
    hx = _entropy_of_codes(cx, bias_correction)
    hy = _entropy_of_codes(cy, bias_correction)
    if hx <= 0 or hy <= 0:
        return 0.0
    hxy = _entropy_of_codes(_joint_codes(cx, cy), bias_correction)
    return float(min(max(hx + hy - hxy, 0.0) / math.sqrt(hx * hy), 1.0))


# --------------------------------------------------------------------------- ranking
def rank_features(
    features: pd.DataFrame,
    target: pd.Series,
    bins: int = 10,
    redundancy_threshold: float = 0.5,
    *,
    bias_correction: bool = False,
) -> pd.DataFrame:
    """Rank the columns of ``features`` (n, k) by mutual information with ``target`` (n,).

    Rows are aligned on the index; each pair uses the rows where both are present.

    Returns
    -------
    DataFrame indexed by feature name (index ``name``), best first, with columns
    ``mutual_information`` and ``normalized_mi`` (with the target), ``rank`` (1 = most
    informative; ties keep column order), ``most_redundant_with`` (the other feature with the
    highest normalized MI with this one, ``None`` if there is none), ``redundancy`` (that
    normalized MI) and ``redundant`` (normalized MI with some *better-ranked* feature is
    ``>= redundancy_threshold``: the information is mostly there already).
    """
    if not isinstance(features, pd.DataFrame):
        raise TypeError("features must be a DataFrame")
    names = [str(c) for c in features.columns]
    if len(set(names)) != len(names):
        raise InvalidInputError("feature names must be unique")
    target = pd.Series(target)
    if not features.index.equals(target.index):
        features, target = features.align(target, join="inner", axis=0)
    y = target.to_numpy()
    columns = [features.iloc[:, j].to_numpy() for j in range(len(names))]

    mi, nmi = [], []
    for col in columns:
        mi.append(mutual_information(col, y, bins, bias_correction=bias_correction))
        nmi.append(normalized_mutual_information(col, y, bins, bias_correction=bias_correction))
    k = len(names)
    pair = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i + 1, k):
            a, b = _clean(columns[i], columns[j])
            if len(a):
                value = _nmi_of_codes(discretize(a, bins), discretize(b, bins), bias_correction)
                pair[i, j] = pair[j, i] = value

    order = sorted(range(k), key=lambda i: (-(mi[i] if np.isfinite(mi[i]) else -np.inf), i))
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(1, k + 1)
    rows = []
    for i in range(k):
        others = [j for j in range(k) if j != i and np.isfinite(pair[i, j])]
        best = max(others, key=lambda j: (pair[i, j], -rank[j]), default=None)
        better = [j for j in others if rank[j] < rank[i]]
        rows.append(
            {
                "name": names[i],
                "mutual_information": mi[i],
                "normalized_mi": nmi[i],
                "rank": int(rank[i]),
                "most_redundant_with": None if best is None else names[best],
                "redundancy": math.nan if best is None else float(pair[i, best]),
                "redundant": any(pair[i, j] >= redundancy_threshold for j in better),
            }
        )
    frame = pd.DataFrame(rows, columns=["name", *RANK_COLUMNS]).set_index("name")
    return frame.sort_values("rank")


def parameter_relevance(
    trials: pd.DataFrame,
    score: str = "score",
    *,
    params: list[str] | None = None,
    bins: int = 10,
    redundancy_threshold: float = 0.5,
    bias_correction: bool = False,
) -> pd.DataFrame:
    """Rank searched parameters by mutual information with the score of optimisation trials.

    ``trials`` is e.g. :attr:`SearchResult.trials`. Without ``params`` the parameters are the
    columns between ``trial`` and ``score`` when both exist (the layout of search results),
    else every other column; parameters with a single value (fixed ones) are left out, and
    so are trials without a finite score. Returns the frame of :func:`rank_features`.
    """
    if score not in trials.columns:
        raise NotFoundError(f"no {score!r} column in trials", field="score")
    if params is None:
        cols = list(trials.columns)
        if "trial" in cols and cols.index("trial") < cols.index(score):
            params = cols[cols.index("trial") + 1 : cols.index(score)]
        else:
            params = [c for c in cols if c != score]
    scores = pd.to_numeric(trials[score], errors="coerce")
    finite = np.isfinite(scores.to_numpy(dtype=float))
    frame = trials.loc[finite, list(params)]
    varying = [c for c in frame.columns if frame[c].nunique(dropna=True) > 1]
    return rank_features(
        frame[varying],
        scores[finite],
        bins,
        redundancy_threshold,
        bias_correction=bias_correction,
    )


# --------------------------------------------------------------------------- features
def candidate_features(closes: pd.Series) -> pd.DataFrame:
    """Causal features of a close series: row ``t`` uses closes up to ``t`` only.

    Columns: ``return_{1,5,20,60}`` (close[t] / close[t−n] − 1), ``volatility_20`` (std,
    ddof=1, of the last 20 one-bar returns), ``zscore_20`` ((close − mean) / std of the last
    20 closes), ``rsi_14`` (Wilder) and ``distance_sma_50`` (close / SMA50 − 1). Warm-up rows
    are NaN; the index is that of ``closes``.
    """
    closes = pd.Series(closes, dtype=float)
    c = closes.dropna()
    one = c / c.shift(1) - 1
    mean20, std20 = c.rolling(20).mean(), c.rolling(20).std()
    rsi = RSI(14)
    out = pd.DataFrame(
        {
            "return_1": one,
            "return_5": c / c.shift(5) - 1,
            "return_20": c / c.shift(20) - 1,
            "return_60": c / c.shift(60) - 1,
            "volatility_20": one.rolling(20).std(),
            "zscore_20": (c - mean20) / std20,
            "rsi_14": [rsi.update(v) for v in c.to_numpy()],
            "distance_sma_50": c / c.rolling(50).mean() - 1,
        },
        index=c.index,
    )
    return out.reindex(closes.index)


def forward_returns(closes: pd.Series, horizon: int = 5) -> pd.Series:
    """The target ``close[t + h] / close[t] − 1`` at ``t`` (in the future by construction).

    The last ``horizon`` rows, which have no target, are dropped.
    """
    if horizon < 1:
        raise InvalidInputError(f"horizon must be at least 1, got {horizon}", field="horizon")
    c = pd.Series(closes, dtype=float)
    target = (c.shift(-horizon) / c - 1).dropna()
    return target.rename(f"forward_return_{horizon}")
