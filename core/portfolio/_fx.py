"""Exchange rates from FX bars (bundled or imported), for valuing a portfolio in its base.

A pair ``XXXYYY`` (EURUSD) is quoted as units of ``YYY`` per unit of ``XXX``. The rate of a
currency ``C`` in the base ``B`` is the close of ``CB``, else ``1 / close`` of ``BC``, else
the cross through USD (``C→USD × USD→B``), else unknown (the ledger then refuses to value
the holdings, naming the missing pair).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.marketdata import MarketDataService

CROSS = "USD"


def rate_from(price_of: Callable[[str], float | None], currency: str, base: str) -> float | None:
    """Base units per unit of ``currency`` from ``price_of(pair symbol)``; None if unknown."""
    if currency == base:
        return 1.0
    direct = price_of(currency + base)
    if direct is not None and direct > 0:
        return float(direct)
    inverse = price_of(base + currency)
    if inverse is not None and inverse > 0:
        return 1.0 / float(inverse)
    if CROSS in (currency, base):
        return None
    leg, other = rate_from(price_of, currency, CROSS), rate_from(price_of, CROSS, base)
    return None if leg is None or other is None else leg * other


def fx_rates(market: MarketDataService, currencies, base: str, as_of=None) -> dict[str, float]:
    """Currency → rate in ``base`` at the last FX close at or before ``as_of``.

    Currencies without a known rate are left out.
    """
    cache: dict[str, float | None] = {}

    def price_of(symbol: str) -> float | None:
        if symbol not in cache:
            cache[symbol] = market.last_price(symbol, as_of) if market.has_symbol(symbol) else None
        return cache[symbol]

    rates = {c: rate_from(price_of, c, base) for c in currencies if c != base}
    return {c: r for c, r in rates.items() if r is not None}


def fx_rate_frame(
    market: MarketDataService, currencies, base: str, index: pd.DatetimeIndex
) -> pd.DataFrame:
    """Daily rates in ``base`` on ``index`` (forward-filled closes; NaN before the first).

    One column per currency of ``currencies``; a currency without any pair is all NaN.
    """
    wanted = [c for c in currencies if c != base]
    symbols = {f"{a}{b}" for c in wanted for a, b in _legs(c, base)}
    known = sorted(s for s in symbols if market.has_symbol(s))
    closes = market.closes(known) if known else pd.DataFrame(index=index)
    closes = closes.reindex(closes.index.union(index)).ffill().reindex(index)
    columns = {}
    for currency in wanted:

        def price_of(symbol: str, _c=closes) -> np.ndarray | None:
            return _c[symbol].to_numpy() if symbol in _c else None

        columns[currency] = _rate_series(price_of, currency, base, len(index))
    return pd.DataFrame(columns, index=index)


def _legs(currency: str, base: str) -> list[tuple[str, str]]:
    legs = [(currency, base), (base, currency)]
    if CROSS not in (currency, base):
        legs += [(currency, CROSS), (CROSS, currency), (CROSS, base), (base, CROSS)]
    return legs


def _rate_series(price_of, currency: str, base: str, n: int) -> np.ndarray:
    """``rate_from`` applied to whole columns (NaN where a close is missing)."""
    if currency == base:
        return np.ones(n)
    direct = price_of(currency + base)
    if direct is not None:
        return direct
    inverse = price_of(base + currency)
    if inverse is not None:
        return 1.0 / inverse
    if CROSS in (currency, base):
        return np.full(n, np.nan)
    return _rate_series(price_of, currency, CROSS, n) * _rate_series(price_of, CROSS, base, n)
