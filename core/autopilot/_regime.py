"""The market regime the autopilot reads: volatility, trend, breadth and the HMM, causally.

Every value at day ``t`` uses closes up to ``t`` only (rolling windows end at ``t``; the HMM
is fitted before ``t``'s month and filtered up to ``t``), so the series computed on the whole
history equals, at ``t``, the one computed on history cut at ``t``.

Components (defaults of :class:`~core.autopilot.AutopilotConfig`):

* **volatility** — ``σ_t`` = standard deviation (ddof 1) of the last 20 log returns of the
  index × √252; its percentile ``p_t`` = share of the last 756 values of ``σ`` (``σ_t``
  included) that are ≤ ``σ_t``; bucket ``low`` (p < 0.5), ``medium`` (< 0.8), ``high``
  (< 0.95), ``extreme``.
* **trend** — ``bull`` when price > SMA50 > SMA200, ``bear`` when price < SMA50 < SMA200,
  ``sideways`` otherwise.
* **breadth** — share of the universe's stocks (those with an SMA50 on ``t``) whose close is
  above their SMA50, and the advance/decline ratio ``advancers / max(decliners, 1)`` of the
  day's close-to-close moves.
* **label** — ``{trend}_{bucket}_vol`` (``bull_low_vol``); **confidence** — the mean of three
  certainties in [0, 1]: volatility ``min(1, |p − nearest edge| / 0.1)``, trend
  ``min(1, |SMA50/SMA200 − 1| / 0.05)`` (bull, bear) or ``1 − that`` (sideways), breadth
  agreement ``share`` (bull), ``1 − share`` (bear), ``1 − 2 |share − 0.5|`` (sideways).
* **hmm** — :class:`core.regimes.RegimeHMM` fitted on the ``hmm_window`` log returns before
  the first trading day of ``t``'s month, filtered from 126 days before that day (a burn-in
  that forgets the filter's start) to ``t``: the most likely state's label and probability.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.autopilot._config import AutopilotConfig
from core.errors import InvalidInputError
from core.regimes import RegimeHMM, return_features

BUCKETS = ("low", "medium", "high", "extreme")
TREND_SCALE = 0.05  # |SMA50/SMA200 - 1| at which the trend is certain
EDGE_SCALE = 0.10  # percentile distance from a bucket edge at which the bucket is certain
HMM_BURN_IN = 126  # days the forward filter runs before the month it serves


def realized_volatility(close: pd.Series, window: int) -> pd.Series:
    """Annualised standard deviation (ddof 1) of the last ``window`` daily log returns."""
    returns = np.log(close.astype(float)).diff()
    return returns.rolling(window, min_periods=window).std(ddof=1) * math.sqrt(252)


def volatility_percentile(vol: pd.Series, history: int) -> pd.Series:
    """Share of the last ``history`` defined values (the current one included) ≤ the current.

    Undefined (NaN) until ``history`` values of ``vol`` exist.
    """
    defined = vol.dropna()
    ranks = pd.Series(np.nan, index=defined.index)
    if len(defined) >= history:
        windows = np.lib.stride_tricks.sliding_window_view(defined.to_numpy(), history)
        ranks.iloc[history - 1 :] = (windows <= windows[:, -1:]).mean(axis=1)
    return ranks.reindex(vol.index)


def volatility_bucket(percentile: float, edges: tuple[float, float, float]) -> str | None:
    """``low`` / ``medium`` / ``high`` / ``extreme`` for a percentile (None when undefined)."""
    if percentile is None or not math.isfinite(percentile):
        return None
    return BUCKETS[int(np.searchsorted(np.asarray(edges), percentile, side="right"))]


def trend_state(price: float, fast: float, slow: float) -> str | None:
    """``bull`` (price > fast > slow), ``bear`` (price < fast < slow), else ``sideways``."""
    if not all(math.isfinite(v) for v in (price, fast, slow)):
        return None
    if price > fast > slow:
        return "bull"
    if price < fast < slow:
        return "bear"
    return "sideways"


def breadth(closes: pd.DataFrame, window: int) -> pd.DataFrame:
    """Per day: ``above`` share, ``advancers``, ``decliners``, ``ad_ratio`` of ``closes``.

    ``above`` counts stocks whose close is above their own ``window``-day SMA among those
    with one; ``ad_ratio = advancers / max(decliners, 1)``.
    """
    sma = closes.rolling(window, min_periods=window).mean()
    valid = sma.notna() & closes.notna()
    above = ((closes > sma) & valid).sum(axis=1) / valid.sum(axis=1).replace(0, np.nan)
    moves = closes.diff()
    advancers = (moves > 0).sum(axis=1).astype(float)
    decliners = (moves < 0).sum(axis=1).astype(float)
    ratio = advancers / decliners.clip(lower=1)
    return pd.DataFrame(
        {"above": above, "advancers": advancers, "decliners": decliners, "ad_ratio": ratio}
    )


def _certainty(bucket_p: float, edges, trend: str, spread: float, share: float) -> float:
    c_vol = min(1.0, min(abs(bucket_p - e) for e in edges) / EDGE_SCALE)
    strength = min(1.0, abs(spread) / TREND_SCALE)
    c_trend = 1.0 - strength if trend == "sideways" else strength
    share = 0.5 if not math.isfinite(share) else share
    c_breadth = {"bull": share, "bear": 1.0 - share}.get(trend, 1.0 - 2.0 * abs(share - 0.5))
    return (c_vol + c_trend + c_breadth) / 3.0


def regime_series(
    index_close: pd.Series,
    universe: pd.DataFrame,
    config: AutopilotConfig,
    start=None,
    *,
    cache: MutableMapping | None = None,
) -> pd.DataFrame:
    """The regime of every day of ``index_close`` from ``start`` on (rows fully defined only).

    Parameters
    ----------
    index_close : Series
        The index's closes (DatetimeIndex), in time order, up to the last day wanted.
    universe : DataFrame
        The universe's closes (one column per symbol), aligned to ``index_close``'s days.
    config : AutopilotConfig
        Windows and edges.
    start : date-like, optional
        First day returned (default: the first defined one).
    cache : mutable mapping, optional
        Fitted HMMs by month, reused across calls (a model depends only on data before its
        month).

    Returns
    -------
    DataFrame
        Columns ``price, sma_fast, sma_slow, trend, volatility, vol_percentile, vol_bucket,
        breadth, advancers, decliners, ad_ratio, label, confidence, hmm, hmm_probability``.
    """
    close = _warm_tail(index_close.astype(float).dropna(), config, start)
    frame = pd.DataFrame({"price": close})
    frame["sma_fast"] = close.rolling(config.trend_fast, min_periods=config.trend_fast).mean()
    frame["sma_slow"] = close.rolling(config.trend_slow, min_periods=config.trend_slow).mean()
    frame["volatility"] = realized_volatility(close, config.vol_window)
    frame["vol_percentile"] = volatility_percentile(frame["volatility"], config.vol_history)
    wide = breadth(universe.reindex(close.index).ffill(), config.breadth_window)
    frame = frame.join(wide.rename(columns={"above": "breadth"}))
    frame = frame.dropna(subset=["sma_slow", "vol_percentile"])
    if start is not None:
        frame = frame.loc[pd.Timestamp(start) :]
    if frame.empty:
        raise InvalidInputError(
            f"regime: not enough history of {index_close.name or 'the index'} before "
            f"{pd.Timestamp(start).date() if start is not None else 'its end'} "
            f"(needs {max(config.trend_slow, config.vol_window + 60)} days)",
            "as_of",
        )
    _label(frame, config)
    hmm = hmm_regimes(index_close.astype(float).dropna(), frame.index, config, cache=cache)
    return frame.join(hmm)


def _warm_tail(close: pd.Series, config: AutopilotConfig, start) -> pd.Series:
    """``close`` from enough days before ``start`` for every rolling window to be full."""
    if start is None:
        return close
    warm = max(config.vol_history + config.vol_window, config.trend_slow, config.breadth_window)
    first = int(close.index.searchsorted(pd.Timestamp(start))) - warm - 2
    return close.iloc[max(first, 0) :]


def _label(frame: pd.DataFrame, config: AutopilotConfig) -> None:
    trends, buckets, labels, confidence = [], [], [], []
    for row in frame.itertuples():
        trend = trend_state(row.price, row.sma_fast, row.sma_slow)
        bucket = volatility_bucket(row.vol_percentile, config.vol_edges)
        spread = row.sma_fast / row.sma_slow - 1.0
        trends.append(trend)
        buckets.append(bucket)
        labels.append(f"{trend}_{bucket}_vol")
        confidence.append(
            _certainty(row.vol_percentile, config.vol_edges, trend, spread, row.breadth)
        )
    frame["trend"], frame["vol_bucket"] = trends, buckets
    frame["label"], frame["confidence"] = labels, confidence


def hmm_regimes(
    close: pd.Series, days: pd.Index, config: AutopilotConfig, *, cache: MutableMapping | None
) -> pd.DataFrame:
    """``hmm`` label and ``hmm_probability`` per day of ``days`` (None before enough history)."""
    features = return_features(close)
    X, positions = features.values, features.index
    out = pd.DataFrame({"hmm": None, "hmm_probability": np.nan}, index=days)
    months = pd.Series(days, index=days).groupby([days.year, days.month])
    for _, group in months:
        last = int(positions.searchsorted(group.iloc[-1], side="right"))
        month = close.index[close.index.to_period("M") == group.iloc[0].to_period("M")][0]
        anchor = int(positions.searchsorted(month, side="left"))
        first = anchor - config.hmm_window
        if first < 0:
            continue
        model = _fitted(X, first, anchor, month, config, cache)
        if model is None:
            continue
        begin = max(first, anchor - HMM_BURN_IN)
        filtered = model.filtered_probabilities(X[begin:last])
        rows = positions[begin:last]
        for day in group:
            k = int(rows.searchsorted(day, side="right")) - 1
            state = int(np.argmax(filtered[k]))
            out.loc[day, "hmm"] = model.labels_[state]
            out.loc[day, "hmm_probability"] = float(filtered[k, state])
    return out


def _fitted(X, first, anchor, month, config, cache) -> RegimeHMM | None:
    key = (month, first, anchor, float(X[anchor - 1, 0]), config.hmm_states, config.seed)
    if cache is not None and key in cache:
        return cache[key]
    try:
        model = RegimeHMM(config.hmm_states, 2, config.seed, n_iter=100).fit(X[first:anchor])
    except ValueError:  # a degenerate window: no HMM reading that month
        model = None
    if cache is not None:
        if len(cache) > 2048:
            cache.clear()
        cache[key] = model
    return model


@dataclass(frozen=True)
class RegimeReading:
    """One day's regime, as the JSON of a run shows it."""

    day: pd.Timestamp
    label: str
    confidence: float
    volatility: dict[str, Any]
    trend: dict[str, Any]
    breadth: dict[str, Any]
    hmm: dict[str, Any]

    @classmethod
    def from_row(cls, day, row) -> RegimeReading:
        """From a row of :func:`regime_series`."""
        probability = row["hmm_probability"]
        return cls(
            day=pd.Timestamp(day),
            label=str(row["label"]),
            confidence=float(row["confidence"]),
            volatility={
                "bucket": row["vol_bucket"],
                "value": float(row["volatility"]),
                "percentile": float(row["vol_percentile"]),
            },
            trend={
                "state": row["trend"],
                "price": float(row["price"]),
                "sma_fast": float(row["sma_fast"]),
                "sma_slow": float(row["sma_slow"]),
            },
            breadth={
                "above_share": _num(row["breadth"]),
                "advancers": int(row["advancers"]),
                "decliners": int(row["decliners"]),
                "ad_ratio": _num(row["ad_ratio"]),
            },
            hmm={
                "label": row["hmm"],
                "probability": None if pd.isna(probability) else float(probability),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "date": self.day.date().isoformat(),
            "label": self.label,
            "confidence": self.confidence,
            "volatility": self.volatility,
            "trend": self.trend,
            "breadth": self.breadth,
            "hmm": self.hmm,
        }


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
