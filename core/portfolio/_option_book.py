"""Options of a stored portfolio: marks, Greeks, and the legs of expiry and strategy orders.

The pricing rules are in ``_options``; the service books the legs as one multi-leg order.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from core.derivatives import Strategy, implied_vol
from core.instruments import AssetClass, Instrument, OptionRight
from core.marketdata import MarketDataService
from core.portfolio._ledger import Ledger, Side
from core.portfolio._options import (
    OptionMark,
    greeks_table,
    intrinsic,
    model_mark,
    position_greeks,
    surface_of,
    years_to_expiry,
)
from core.portfolio._orders import Leg
from core.portfolio._repository import PortfolioInputError


def option_marks(
    market: MarketDataService, ledger: Ledger, as_of: datetime, symbols=None
) -> dict[str, OptionMark]:
    """The mark of each open option position among ``symbols`` (all when None)."""
    wanted = None if symbols is None else set(symbols)
    marks = {}
    for position in ledger.open_positions():
        if wanted is not None and position.symbol not in wanted:
            continue
        instrument = market.instrument(position.symbol)
        if instrument is None or instrument.asset_class is not AssetClass.OPTION:
            continue
        spot = market.last_price(instrument.underlying, as_of)
        if spot is None:
            continue  # nothing to price from: marked at cost
        price = market.last_price(position.symbol, as_of)
        marks[position.symbol] = (
            model_mark(ledger, instrument, spot, as_of)
            if price is None
            else _market_mark(ledger, instrument, price, spot, as_of)
        )
    return marks


def _market_mark(ledger, instrument: Instrument, price, spot, as_of) -> OptionMark:
    years = years_to_expiry(instrument.expiry, as_of)
    rate = surface_of(ledger).rate
    vol = math.nan
    if years > 0:
        right = str(instrument.option_right)
        vol = float(implied_vol(right, price, spot, instrument.strike, years, rate).iv)
    return OptionMark(instrument.symbol, price, "market", spot, years, vol, "market", rate)


def greeks_report(
    market: MarketDataService, ledger: Ledger, as_of: datetime, marks: dict[str, float]
) -> dict:
    """Per-position Greeks and their sums per underlying (``_options.greeks_table``)."""
    option = option_marks(market, ledger, as_of)
    rows = []
    for position in sorted(ledger.open_positions(), key=lambda p: p.symbol):
        instrument = market.instrument(position.symbol) or Instrument(symbol=position.symbol)
        if instrument.asset_class is AssetClass.OPTION:
            underlying = instrument.underlying
            spot = market.last_price(underlying, as_of)
            spot = math.nan if spot is None else spot
        else:
            underlying, spot = position.symbol, marks.get(position.symbol, position.avg_cost)
        greeks = position_greeks(position.quantity, instrument, option.get(position.symbol), spot)
        mark = option.get(position.symbol)
        rows.append(
            {
                "symbol": position.symbol,
                "underlying": underlying,
                "quantity": position.quantity,
                "spot": spot,
                **greeks,
                "mark_source": mark.source if mark else "market",
                "vol": mark.vol if mark else None,
                **_terms(instrument, mark, position.quantity),
            }
        )
    return greeks_table(rows)


def _terms(instrument: Instrument, mark: OptionMark | None, quantity: float) -> dict:
    """What a full revaluation needs (``core.whatif.spot_vol_grid``): size and option terms."""
    size = {"size": quantity * instrument.multiplier}
    if instrument.asset_class is not AssetClass.OPTION or mark is None:
        return size
    return {**size, "right": str(instrument.option_right), "strike": instrument.strike,
            "years": mark.years, "rate": mark.rate}  # fmt: skip


def expiry_legs(
    market: MarketDataService, ledger: Ledger, as_of: datetime
) -> tuple[list[Leg], list[dict]]:
    """Closing legs at intrinsic value for every option expired by ``as_of``.

    The underlying's last close on or before the expiry day fixes the value.
    """
    legs, settled = [], []
    for position in sorted(ledger.open_positions(), key=lambda p: p.symbol):
        instrument = market.instrument(position.symbol)
        if instrument is None or instrument.asset_class is not AssetClass.OPTION:
            continue
        if instrument.expiry > as_of.date():
            continue
        spot = market.last_price(instrument.underlying, as_of=instrument.expiry)
        if spot is None:
            raise PortfolioInputError(
                f"{position.symbol}: no {instrument.underlying} price on or before its expiry "
                f"{instrument.expiry}; import the underlying's bars to settle it",
                "symbol",
            )
        value = intrinsic(instrument, spot)
        side = Side.SELL if position.quantity > 0 else Side.BUY
        legs.append(Leg(position.symbol, side, abs(position.quantity), value))
        settled.append({"symbol": position.symbol, "spot": spot, "intrinsic": value,
                        "expiry": instrument.expiry.isoformat()})  # fmt: skip
    return legs, settled


def option_symbol(underlying: str, expiry, right: str, strike: float) -> str:
    """An OCC-like symbol: ``AAPL210319C150`` (underlying, yymmdd, C/P, strike)."""
    return f"{underlying}{expiry:%y%m%d}{right[0].upper()}{strike:g}"


def strategy_orders(
    strategy: Strategy, underlying: str, ts: datetime, multiplier: float = 100.0
) -> tuple[list[Instrument], list[Leg]]:
    """The option instruments and order legs of a ``core.derivatives.Strategy``.

    A leg's expiry in years becomes the date ``ts + round(years × 365)`` days; its premium
    is the price; a positive quantity buys, a negative one sells.
    """
    defined, legs = [], []
    for leg in strategy.legs:
        expiry = ts.date() + timedelta(days=round(leg.expiry * 365))
        instrument = Instrument(
            symbol=option_symbol(underlying, expiry, leg.right, leg.strike),
            asset_class=AssetClass.OPTION,
            multiplier=multiplier,
            underlying=underlying,
            strike=leg.strike,
            expiry=expiry,
            option_right=OptionRight(leg.right),
        )
        defined.append(instrument)
        side = Side.BUY if leg.quantity > 0 else Side.SELL
        legs.append(Leg(instrument.symbol, side, abs(leg.quantity), leg.premium))
    return defined, legs
