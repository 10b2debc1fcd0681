"""The prices the RL lab reads: aligned opens and closes, and the observation's arithmetic.

:class:`RLMarket` holds opens and closes of N assets on common bars (close-only series trade
at their close, as in the backtester). :func:`observe` builds the observation at bar ``t``
from closes up to ``t`` alone; the environment, the evaluation, ``RLService.weights`` and
the ``rl_allocation`` strategy all build it through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from core.errors import InvalidInputError
from core.rl._settings import MOMENTUM_BARS, VOL_BARS, EnvSettings

RETURN_SCALE = 50.0  # a 2 % daily log return observes as 1
MOMENTUM_SCALE = 5.0
OBS_CLIP = 10.0


@dataclass(frozen=True)
class RLMarket:
    """Opens and closes on common bars.

    Attributes
    ----------
    index : DatetimeIndex of shape (T,)
    symbols : tuple of str, N names
    open, close : ndarray of shape (T, N), positive and finite
    """

    index: pd.DatetimeIndex
    symbols: tuple[str, ...]
    open: np.ndarray
    close: np.ndarray
    log_returns: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        close = np.asarray(self.close, dtype=float)
        opened = np.asarray(self.open, dtype=float)
        if close.ndim != 2 or close.shape != opened.shape or close.shape[1] != len(self.symbols):
            raise InvalidInputError("prices: opens and closes must be (bars, symbols) arrays")
        if not (np.isfinite(close).all() and np.isfinite(opened).all()):
            raise InvalidInputError("prices: missing or infinite values on the common bars")
        if (close <= 0).any() or (opened <= 0).any():
            raise InvalidInputError("prices: every open and close must be positive")
        returns = np.zeros_like(close)
        returns[1:] = np.log(close[1:] / close[:-1])
        object.__setattr__(self, "open", opened)
        object.__setattr__(self, "close", close)
        object.__setattr__(self, "log_returns", returns)

    @property
    def n_bars(self) -> int:
        return len(self.index)

    @property
    def n_assets(self) -> int:
        return len(self.symbols)

    @classmethod
    def from_frames(cls, opens: pd.DataFrame, closes: pd.DataFrame) -> RLMarket:
        """From aligned frames (a date index, one column per symbol); NaN opens take the close."""
        opens = opens.reindex(index=closes.index, columns=closes.columns)
        opens = opens.where(opens.notna(), closes)
        return cls(
            pd.DatetimeIndex(closes.index),
            tuple(str(c) for c in closes.columns),
            opens.to_numpy(float),
            closes.to_numpy(float),
        )

    def bar_at_or_before(self, day) -> int:
        """Index of the last bar on or before ``day`` (-1 when none)."""
        stamp = pd.Timestamp(day) + pd.Timedelta(days=1)
        return int(self.index.searchsorted(stamp, side="left")) - 1

    def slice(self, last: int) -> RLMarket:
        """The bars up to ``last`` (inclusive): what is known at its close."""
        return RLMarket(
            self.index[: last + 1], self.symbols, self.open[: last + 1], self.close[: last + 1]
        )


def read_closes_file(path: str | Path) -> pd.DataFrame:
    """Closes from a CSV (``.csv``, ``.csv.gz``) or Parquet file: a date column, one per symbol.

    Rows with a missing close are dropped (common dates only).
    """
    path = Path(path)
    where = f"data file {path.name}"
    if not path.is_file():
        raise InvalidInputError(f"{where}: no such file", field="data")
    try:
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise InvalidInputError(f"{where}: cannot be read ({exc})", field="data") from None
    if table.shape[1] < 2:
        raise InvalidInputError(f"{where}: need a date column and a symbol column", field="data")
    dates = pd.to_datetime(table.iloc[:, 0], errors="coerce")
    if dates.isna().any():
        raise InvalidInputError(f"{where}: the first column holds a non-date", field="data")
    values = table.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    values.index = pd.DatetimeIndex(dates)
    values.columns = [str(c).strip().upper() for c in values.columns]
    if not values.index.is_monotonic_increasing or values.index.has_duplicates:
        raise InvalidInputError(f"{where}: dates must increase strictly", field="data")
    return values.dropna()


def n_features(n_assets: int, settings: EnvSettings) -> int:
    """Feature values per bar: one per asset for each feature switched on."""
    return n_assets * (int(settings.vol_feature) + int(settings.momentum_feature))


def observation_size(n_assets: int, settings: EnvSettings, n_extra: int = 0) -> int:
    """Length of the observation vector."""
    return settings.window * n_assets + n_features(n_assets, settings) + n_extra + n_assets + 1


def feature_matrix(log_returns: np.ndarray, settings: EnvSettings) -> np.ndarray:
    """Scaled features at every bar, shape (T, n_features); row t uses returns up to t only.

    Rows before a feature's lookback are 0.
    """
    n_bars, n_assets = log_returns.shape
    parts = []
    if settings.vol_feature:
        vol = np.zeros((n_bars, n_assets))
        if n_bars >= VOL_BARS:
            windows = sliding_window_view(log_returns, VOL_BARS, axis=0)
            vol[VOL_BARS - 1 :] = windows.std(axis=-1, ddof=1)
        parts.append(vol * RETURN_SCALE)
    if settings.momentum_feature:
        cumulative = np.cumsum(log_returns, axis=0)
        momentum = np.zeros((n_bars, n_assets))
        momentum[MOMENTUM_BARS:] = cumulative[MOMENTUM_BARS:] - cumulative[:-MOMENTUM_BARS]
        parts.append(momentum * MOMENTUM_SCALE)
    if not parts:
        return np.zeros((n_bars, 0))
    return np.hstack(parts)


def scaled_returns(log_returns: np.ndarray) -> np.ndarray:
    """Log returns as observed: × RETURN_SCALE, clipped to ±OBS_CLIP, float32."""
    return np.clip(log_returns * RETURN_SCALE, -OBS_CLIP, OBS_CLIP).astype(np.float32)


def observe(
    closes: np.ndarray,
    held: np.ndarray,
    settings: EnvSettings,
    extra: np.ndarray | None = None,
) -> np.ndarray:
    """The observation at the last of ``closes`` (shape (L, N), L > lookback).

    Parameters
    ----------
    closes : ndarray of shape (L, N)
        Closes up to and including the decision bar.
    held : ndarray of shape (N + 1,)
        Current weights (assets, then cash) at that close.
    settings : EnvSettings
    extra : ndarray of shape (E,), optional
        Caller-given values at that bar (e.g. ML scores).

    Returns
    -------
    ndarray of float32, shape (observation_size,)
    """
    closes = np.asarray(closes, dtype=float)
    need = settings.lookback + 1
    if len(closes) < need:
        raise InvalidInputError(
            f"observation: {len(closes)} closes; the model needs at least {need}"
        )
    tail = closes[-need:]
    returns = np.zeros_like(tail)
    returns[1:] = np.log(tail[1:] / tail[:-1])
    window = scaled_returns(returns[-settings.window :]).ravel()
    features = feature_matrix(returns, settings)[-1]
    parts = [window, features]
    if extra is not None:
        parts.append(np.asarray(extra, dtype=float))
    parts.append(np.asarray(held, dtype=float))
    return np.clip(np.concatenate(parts), -OBS_CLIP, OBS_CLIP).astype(np.float32)
