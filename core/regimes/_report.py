"""A regime analysis of one price history, shared by the Regimes page and scripts.

The full-sample fit describes history; decisions must use :func:`causal_regimes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.regimes._features import return_features
from core.regimes._hmm import RegimeHMM


@dataclass(frozen=True)
class RegimeAnalysis:
    model: RegimeHMM
    states: pd.DataFrame  # one row per state: label, annualised mean and vol, duration, share
    filtered: pd.DataFrame  # (n_bars, n_states) filtered probabilities, columns = labels
    viterbi: pd.Series  # label per bar (uses the whole sample: for reports only)
    periods_per_year: float

    @property
    def current(self) -> str:
        return str(self.filtered.iloc[-1].idxmax())

    @property
    def transition(self) -> pd.DataFrame:
        labels = self.model.labels_
        return pd.DataFrame(self.model.transmat_, index=labels, columns=labels)


def analyze(
    closes: pd.Series,
    *,
    n_states: int = 3,
    seed: int = 0,
    n_starts: int = 5,
    periods_per_year: float = 252.0,
) -> RegimeAnalysis:
    """Fit a Gaussian HMM on the log returns of ``closes`` and tabulate its states."""
    features = return_features(closes)
    model = RegimeHMM(n_states=n_states, n_starts=n_starts, seed=seed).fit(features.values)
    labels = list(model.labels_)
    filtered = pd.DataFrame(
        model.filtered_probabilities(features.values), index=features.index, columns=labels
    )
    path = model.viterbi(features.values)
    viterbi = pd.Series(np.asarray(labels, dtype=object)[path], index=features.index, name="regime")
    shares = model.state_shares(features.values)
    means = np.asarray(model.means_)[:, 0]
    vols = np.sqrt(np.asarray(model.variances_)[:, 0])
    states = pd.DataFrame(
        {
            "label": labels,
            "mean_annual": means * periods_per_year,
            "vol_annual": vols * math.sqrt(periods_per_year),
            "expected_duration": np.asarray(model.expected_durations_),
            "share": shares,
        }
    )
    return RegimeAnalysis(model, states, filtered, viterbi, periods_per_year)


def performance_by_regime(
    returns: pd.Series, regimes: pd.Series, periods_per_year: float = 252.0
) -> pd.DataFrame:
    """Per regime label.

    Bars, annualised mean and volatility, Sharpe and compounded return of a strategy's period
    ``returns`` (aligned on the index of ``regimes``).
    """
    joined = pd.concat({"r": returns, "regime": regimes}, axis=1, join="inner").dropna()
    rows = []
    for label, group in joined.groupby("regime", sort=False):
        r = group["r"].to_numpy(float)
        sd = r.std(ddof=1) if len(r) > 1 else math.nan
        rows.append(
            {
                "regime": label,
                "bars": len(r),
                "mean_annual": r.mean() * periods_per_year,
                "vol_annual": sd * math.sqrt(periods_per_year),
                "sharpe": r.mean() / sd * math.sqrt(periods_per_year)
                if sd and sd > 0
                else math.nan,
                "total_return": float(np.prod(1 + r) - 1),
            }
        )
    return pd.DataFrame(rows)
