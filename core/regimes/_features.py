"""Return features for regime models: log returns and, optionally, rolling volatility.

Every feature at bar ``t`` uses closes up to ``t`` only, so a model or a filter fed
with rows ``≤ t`` never sees later prices. Rows whose features are not yet defined
(the first bar; the first ``vol_window`` bars with a volatility column) are dropped,
and the index of the kept rows is returned with the values.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from core.errors import InvalidInputError


class Features(NamedTuple):
    """Feature rows aligned to the bars they belong to.

    Attributes
    ----------
    values : ndarray of shape (n_observations, n_features)
        Float64 features; column 0 is always the log return.
    index : Index of length n_observations
        The bar (timestamp) of each row: the close that ends the return.
    columns : tuple of str
        Feature names, ``("log_return",)`` or ``("log_return", "volatility")``.
    """

    values: np.ndarray
    index: pd.Index
    columns: tuple[str, ...]


def log_returns(closes: pd.Series | pd.DataFrame | np.ndarray) -> pd.Series:
    """Log returns ``log(close_t / close_{t-1})``, indexed by the later bar.

    Parameters
    ----------
    closes : Series, bars DataFrame (its ``close`` column) or 1-D array
        Positive, finite prices in time order.

    Returns
    -------
    Series of length n - 1
    """
    series = _close_series(closes)
    return np.log(series).diff().iloc[1:].rename("log_return")


def return_features(
    closes: pd.Series | pd.DataFrame | np.ndarray, *, vol_window: int | None = None
) -> Features:
    """Feature matrix of log returns and, with ``vol_window``, their rolling volatility.

    Parameters
    ----------
    closes : Series, bars DataFrame (its ``close`` column) or 1-D array
        Positive, finite prices in time order.
    vol_window : int, optional
        Adds a second column: the sample standard deviation of the last
        ``vol_window`` log returns (bars ``t - vol_window + 1 .. t``), per bar,
        not annualised; ≥ 2.

    Returns
    -------
    Features
        ``values`` of shape (n - 1, 1) without ``vol_window``, else
        (n - vol_window, 2), with the matching ``index``.
    """
    returns = log_returns(closes)
    if vol_window is None:
        return Features(returns.to_numpy()[:, None], returns.index, ("log_return",))
    if int(vol_window) != vol_window or vol_window < 2:
        raise InvalidInputError(f"vol_window must be an integer ≥ 2, got {vol_window}")
    volatility = returns.rolling(int(vol_window)).std().rename("volatility")
    frame = pd.concat([returns, volatility], axis=1).iloc[int(vol_window) - 1 :]
    if frame.empty:
        raise InvalidInputError(f"need more than {vol_window} closes for vol_window={vol_window}")
    values = np.ascontiguousarray(frame.to_numpy(dtype=float))
    return Features(values, frame.index, ("log_return", "volatility"))


def _close_series(closes: pd.Series | pd.DataFrame | np.ndarray) -> pd.Series:
    if isinstance(closes, pd.DataFrame):
        if "close" not in closes.columns:
            raise InvalidInputError("a DataFrame of bars needs a 'close' column")
        closes = closes["close"]
    series = closes if isinstance(closes, pd.Series) else pd.Series(np.asarray(closes))
    series = series.astype(float)
    values = series.to_numpy()
    if values.ndim != 1 or len(values) < 2:
        raise InvalidInputError("need at least two closes")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InvalidInputError("closes must be positive and finite")
    return series
