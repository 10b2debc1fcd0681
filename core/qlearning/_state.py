"""The Q-learner's state at a bar: the HMM filtered regime, a volatility and a return bucket.

Everything the state needs is fitted on the training span only (:func:`fit_encoder`): the
Gaussian HMM of log returns, and the bucket edges (quantiles of the training span's rolling
volatility and recent return). :class:`StateTracker` then reads one close at a time and gives
the state from data up to that close only; training and the ``q_weights`` strategy both use
it, so a backtest, a paper session and the training see the same states.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from core.errors import InvalidInputError
from core.regimes import RegimeFilter, RegimeHMM

VOL_NAMES = {1: ("any",), 2: ("low", "high"), 3: ("low", "mid", "high")}
RET_NAMES = {1: ("any",), 2: ("down", "up"), 3: ("down", "flat", "up")}


def bucket_names(n: int, names: Mapping[int, tuple[str, ...]], prefix: str) -> tuple[str, ...]:
    """Names of ``n`` buckets (``q1``… past the named counts)."""
    return names.get(n) or tuple(f"{prefix}{i + 1}" for i in range(n))


@dataclass(frozen=True)
class StateEncoder:
    """What turns closes into states, fitted on the training span (JSON round-trips).

    Attributes
    ----------
    means, variances : list of float, one per HMM state (per-bar log return)
    transmat : list of list of float, shape (n_states, n_states)
    startprob : list of float
    labels : list of str, the regime label of each HMM state
    vol_window, return_window : int, bars of the volatility and recent-return windows
    vol_edges, return_edges : list of float, inner bucket edges (training quantiles)
    """

    means: list[float]
    variances: list[float]
    transmat: list[list[float]]
    startprob: list[float]
    labels: list[str]
    vol_window: int
    return_window: int
    vol_edges: list[float]
    return_edges: list[float]

    @property
    def states(self) -> list[str]:
        """Every state name, ``regime|vol|return``, in table order."""
        vols = bucket_names(len(self.vol_edges) + 1, VOL_NAMES, "v")
        rets = bucket_names(len(self.return_edges) + 1, RET_NAMES, "r")
        regimes = sorted(set(self.labels), key=self.labels.index)
        return [f"{g}|{v}|{r}" for g, v, r in product(regimes, vols, rets)]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StateEncoder:
        """The encoder stored in a model artifact (refused when a key is missing or extra)."""
        if set(data) != set(cls.__dataclass_fields__):
            raise InvalidInputError("qlearning model: the state encoder's keys are not as written")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def hmm(self) -> RegimeHMM:
        """The regime model rebuilt from its stored parameters."""
        return RegimeHMM.from_params(
            np.array(self.means),
            np.array(self.variances),
            np.array(self.transmat),
            np.array(self.startprob),
        )


class StateTracker:
    """The state after each close, from closes up to it only.

    ``update(close)`` returns ``None`` until a volatility window of returns exists.
    """

    def __init__(self, encoder: StateEncoder):
        self.encoder = encoder
        model = encoder.hmm()
        if list(model.labels_) != list(encoder.labels):
            raise InvalidInputError("qlearning model: the regime labels do not match its HMM")
        self._filter = RegimeFilter(model)
        self._vols = bucket_names(len(encoder.vol_edges) + 1, VOL_NAMES, "v")
        self._rets = bucket_names(len(encoder.return_edges) + 1, RET_NAMES, "r")
        self._window = deque(maxlen=max(encoder.vol_window, encoder.return_window))
        self._prev = math.nan
        self.state: str | None = None

    def update(self, close: float) -> str | None:
        """Read one close; the state now (``None`` while the windows fill)."""
        if not (close > 0 and math.isfinite(close)):
            return self.state  # no price this bar: the state stands
        prev, self._prev = self._prev, close
        if math.isnan(prev):
            return None
        r = math.log(close / prev)
        self._window.append(r)
        self._filter.update(r)
        e = self.encoder
        if len(self._window) < max(e.vol_window, e.return_window):
            return None
        vol, ret = window_features(self._window, e.vol_window, e.return_window)
        regime = self._filter.regime
        vol_name = self._vols[bisect_right(e.vol_edges, vol)]
        ret_name = self._rets[bisect_right(e.return_edges, ret)]
        self.state = f"{regime}|{vol_name}|{ret_name}"
        return self.state


def window_features(window: deque, vol_window: int, return_window: int) -> tuple[float, float]:
    """Sample std of the last ``vol_window`` log returns; sum of the last ``return_window``."""
    values = list(window)
    recent = values[-vol_window:]
    mean = sum(recent) / len(recent)
    vol = math.sqrt(sum((x - mean) ** 2 for x in recent) / (len(recent) - 1))
    return vol, sum(values[-return_window:])


def fit_encoder(
    closes: np.ndarray,
    *,
    regime_states: int,
    vol_buckets: int,
    return_buckets: int,
    vol_window: int,
    return_window: int,
    seed: int,
) -> StateEncoder:
    """Fit the HMM and the bucket edges on ``closes`` (the training span only).

    Parameters
    ----------
    closes : ndarray of shape (n_bars,)
        Training closes, positive, in time order.
    regime_states, vol_buckets, return_buckets : int
        HMM states and bucket counts.
    vol_window, return_window : int
        Bars of the rolling volatility and of the recent return.
    seed : int
        Seed of the HMM's random starts.

    Returns
    -------
    StateEncoder
    """
    closes = np.asarray(closes, dtype=float)
    closes = closes[np.isfinite(closes) & (closes > 0)]
    returns = np.diff(np.log(closes))
    need = max(vol_window, return_window) + 10 * regime_states
    if len(returns) < need:
        raise InvalidInputError(
            f"training span: {len(returns)} returns, need at least {need} for the state windows"
        )
    model = RegimeHMM(regime_states, n_starts=3, seed=seed).fit(returns.reshape(-1, 1))
    window = deque(maxlen=max(vol_window, return_window))
    vols, rets = [], []
    for r in returns.tolist():
        window.append(r)
        if len(window) == window.maxlen:
            vol, ret = window_features(window, vol_window, return_window)
            vols.append(vol)
            rets.append(ret)
    return StateEncoder(
        means=model.means_[:, 0].tolist(),
        variances=model.variances_[:, 0].tolist(),
        transmat=model.transmat_.tolist(),
        startprob=model.startprob_.tolist(),
        labels=list(model.labels_),
        vol_window=vol_window,
        return_window=return_window,
        vol_edges=_edges(vols, vol_buckets),
        return_edges=_edges(rets, return_buckets),
    )


def _edges(values: list[float], n: int) -> list[float]:
    qs = [k / n for k in range(1, n)]
    return [float(x) for x in np.quantile(np.asarray(values), qs)] if qs else []
