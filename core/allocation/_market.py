"""Where allocations meet the rest of the workstation: market closes in, target weights out.

:class:`AllocationService` is given the market it reads closes from and the portfolios it
writes target weights to; :func:`load_prices` and :func:`apply_to_portfolio` are the same
steps as plain functions.
"""

from __future__ import annotations

import pandas as pd

from core.allocation._allocate import allocate
from core.allocation._spec import AllocationError, AllocationResult, AllocationSpec
from core.marketdata import MarketDataService
from core.portfolio import PortfolioService


def load_prices(market: MarketDataService, symbols, start=None, end=None) -> pd.DataFrame:
    """Closes of ``symbols`` between ``start`` and ``end`` (inclusive) on their common dates.

    Dates before every symbol has a close are dropped (``closes`` forward-fills after that).
    """
    symbols = [s.strip().upper() for s in symbols if s.strip()]
    if not symbols:
        raise AllocationError("choose at least one symbol", "symbols")
    duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
    if duplicates:
        raise AllocationError(f"{', '.join(duplicates)} listed twice", "symbols")
    unknown = [s for s in symbols if not market.has_symbol(s)]
    if unknown:
        raise AllocationError(
            f"unknown symbol {', '.join(unknown)}: neither bundled nor imported", "symbols"
        )
    start = pd.Timestamp(start) if start else None
    end = pd.Timestamp(end) + pd.Timedelta(days=1, microseconds=-1) if end else None
    closes = market.closes(symbols, start, end)
    empty = [s for s in symbols if s not in closes or closes[s].isna().all()]
    if empty:
        raise AllocationError(
            f"no closes of {', '.join(empty)} between {_day(start)} and {_day(end)}", "start"
        )
    return closes[symbols].dropna()


def apply_to_portfolio(
    portfolios: PortfolioService, name: str, result: AllocationResult
) -> dict[str, float]:
    """Make ``result``'s weights the target weights of portfolio ``name``; returns them."""
    weights = {s: round(w, 12) for s, w in result.weights.items()}
    total = sum(weights.values())
    if total > 1:  # rounding can push the sum a hair over one
        weights = {s: w / total for s, w in weights.items()}
    portfolios.set_target_weights(name, weights)
    return weights


class AllocationService:
    """Allocate over stored or bundled closes and make the result a portfolio's targets."""

    def __init__(self, market: MarketDataService, portfolios: PortfolioService):
        self._market = market
        self._portfolios = portfolios

    def prices(self, symbols, start=None, end=None) -> pd.DataFrame:
        """The closes an allocation reads; see :func:`load_prices`."""
        return load_prices(self._market, symbols, start, end)

    def allocate(self, symbols, spec: AllocationSpec, start=None, end=None) -> AllocationResult:
        """``spec``'s weights over the closes of ``symbols`` between ``start`` and ``end``."""
        return allocate(self.prices(symbols, start, end), spec)

    def apply(self, name: str, result: AllocationResult) -> dict[str, float]:
        """Make ``result``'s weights the target weights of ``name``.

        See :func:`apply_to_portfolio`.
        """
        return apply_to_portfolio(self._portfolios, name, result)


def _day(ts: pd.Timestamp | None) -> str:
    return "the first date" if ts is None else f"{ts:%Y-%m-%d}"
