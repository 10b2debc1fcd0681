"""Out-of-sample evaluation of scores against forward returns, date by date.

Per test date: the IC (Pearson) and the Rank IC (Spearman) of the scores across symbols
against the raw forward returns. Over dates: mean, std, IR (mean / std), the hit rate (share
of dates with Rank IC > 0) and a t-statistic that accounts for overlapping labels: forward
returns over h bars on consecutive dates share h − 1 daily returns, so successive ICs are
correlated; the t-statistic divides the mean by its Newey–West standard error with h lags
(Bartlett weights). Quantiles: the mean forward return of each score quantile per date,
averaged over dates, and the top-minus-bottom spread.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import rankdata


def daily_ic(
    scores: np.ndarray, returns: np.ndarray, min_names: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """IC and Rank IC per date (rows); NaN where fewer than ``min_names`` pairs are known.

    Parameters
    ----------
    scores, returns : ndarray of shape (n_dates, n_symbols)

    Returns
    -------
    (ic, rank_ic) : two ndarrays of shape (n_dates,)
        Pearson correlation of the pairs known on each date, and of their ranks (ties
        averaged) — Spearman's coefficient.
    """
    from core.ml._features import cross_rank

    both = np.isfinite(scores) & np.isfinite(returns)
    s = np.where(both, scores, np.nan)
    r = np.where(both, returns, np.nan)
    ic, ric = _rowwise_pearson(s, r), _rowwise_pearson(cross_rank(s), cross_rank(r))
    few = both.sum(axis=1) < min_names
    ic[few], ric[few] = np.nan, np.nan
    return ic, ric


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # dates with no pair: NaN
        da = a - np.nanmean(a, axis=1, keepdims=True)
        db = b - np.nanmean(b, axis=1, keepdims=True)
        num = np.nansum(da * db, axis=1)
        den = np.sqrt(np.nansum(da * da, axis=1) * np.nansum(db * db, axis=1))
        return np.where(den > 1e-15, num / den, np.nan)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(da @ da) * float(db @ db))
    return float(da @ db / den) if den > 1e-15 else math.nan


def newey_west_tstat(x: np.ndarray, lags: int) -> float:
    """Mean of ``x`` over its Newey–West (Bartlett, ``lags`` lags) standard error."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 3:
        return math.nan
    d = x - x.mean()
    var = float(d @ d) / n
    for k in range(1, min(lags, n - 1) + 1):
        var += 2 * (1 - k / (lags + 1)) * float(d[k:] @ d[:-k]) / n
    return float(x.mean() / math.sqrt(var / n)) if var > 0 else math.nan


def ic_summary(ic: np.ndarray, rank_ic: np.ndarray, lags: int) -> dict[str, float]:
    """Mean, std, IR, hit rate and Newey–West t-statistics of the daily ICs."""
    out: dict[str, float] = {}
    for key, x in (("ic", ic), ("rank_ic", rank_ic)):
        x = x[np.isfinite(x)]
        mean = float(x.mean()) if len(x) else math.nan
        std = float(x.std(ddof=1)) if len(x) > 1 else math.nan
        out[key] = mean
        out[f"{key}_std"] = std
        out["icir" if key == "ic" else "rank_icir"] = mean / std if std and std > 0 else math.nan
        out[f"{key}_tstat"] = newey_west_tstat(x, lags)
    finite = rank_ic[np.isfinite(rank_ic)]
    # a Rank IC within rounding of 0 (ties) is no hit
    out["hit_rate"] = float((finite > 1e-12).mean()) if len(finite) else math.nan
    out["n_dates"] = len(finite)
    out["tstat_method"] = f"Newey-West, {lags} lags (Bartlett)"
    return out


def quantile_returns(scores: np.ndarray, returns: np.ndarray, q: int) -> list[float]:
    """Mean forward return of each score quantile (lowest first), averaged over dates."""
    sums, counts = np.zeros(q), np.zeros(q)
    ok = ~(np.isnan(scores) | np.isnan(returns))
    for t in np.flatnonzero(ok.sum(axis=1) >= q):
        s, r = scores[t, ok[t]], returns[t, ok[t]]
        bucket = np.minimum((rankdata(s, method="ordinal") - 1) * q // len(s), q - 1)
        for b in range(q):
            sums[b] += r[bucket == b].mean()
            counts[b] += 1
    with np.errstate(invalid="ignore"):
        return [float(v) for v in sums / counts]


def rows_rank_ic(scores: np.ndarray, target: np.ndarray, dates: np.ndarray) -> float:
    """Mean Rank IC over dates of flat rows (``dates`` sorted): the tuning's score."""
    values = []
    bounds = np.flatnonzero(np.diff(dates)) + 1
    for s, r in zip(np.split(scores, bounds), np.split(target, bounds), strict=True):
        ok = np.isfinite(s) & np.isfinite(r)
        if ok.sum() >= 3:
            values.append(_pearson(rankdata(s[ok]), rankdata(r[ok])))
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else math.nan
