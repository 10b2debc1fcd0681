"""The bars-frame convention shared by every loader."""

from __future__ import annotations

import numpy as np
import pandas as pd

BAR_COLUMNS = ("open", "high", "low", "close", "volume")


def empty_bars() -> pd.DataFrame:
    index = pd.DatetimeIndex([], name="timestamp")
    return pd.DataFrame({c: np.array([], dtype=float) for c in BAR_COLUMNS}, index=index)


def has_ohlc(bars: pd.DataFrame) -> bool:
    """True when the frame carries real open/high/low values (not a close-only series)."""
    return len(bars) > 0 and bool(bars[["open", "high", "low"]].notna().all(axis=None))
