"""Market data: bundled history, user imports, the synthetic market, optional yfinance.

Every loader returns a *bars frame*: a ``DatetimeIndex`` named ``timestamp``
(tz-naive, strictly increasing) and float64 columns ``open, high, low, close,
volume``. Close-only series keep ``open``, ``high``, ``low`` and ``volume`` as NaN.
"""

from core.marketdata._bar_rules import TIMESTAMP_NAMES, BarsValidationError
from core.marketdata._bundled import (
    BUNDLED_SYMBOLS,
    STOCK_SYMBOLS,
    SYNTHETIC_SYMBOLS,
    load_bundled,
)
from core.marketdata._frames import BAR_COLUMNS, empty_bars, has_ohlc
from core.marketdata._importer import read_bars_file
from core.marketdata._service import (
    ImportReport,
    MarketDataConflict,
    MarketDataError,
    MarketDataInputError,
    MarketDataNotFound,
    MarketDataService,
)
from core.marketdata._synthetic_market import SyntheticMarket
from core.marketdata._synthetic_model import PRESETS, Regime, RegimeSwitchingModel, preset
from core.marketdata._yahoo import YahooAdapter, network_available

__all__ = [
    "BAR_COLUMNS",
    "BUNDLED_SYMBOLS",
    "PRESETS",
    "STOCK_SYMBOLS",
    "SYNTHETIC_SYMBOLS",
    "TIMESTAMP_NAMES",
    "BarsValidationError",
    "ImportReport",
    "MarketDataConflict",
    "MarketDataError",
    "MarketDataInputError",
    "MarketDataNotFound",
    "MarketDataService",
    "Regime",
    "RegimeSwitchingModel",
    "SyntheticMarket",
    "YahooAdapter",
    "empty_bars",
    "has_ohlc",
    "load_bundled",
    "network_available",
    "preset",
    "read_bars_file",
]
