"""The demo portfolio a newcomer finds on first start: real bundled prices, real fills.

A $1,000,000 portfolio opened on the first trading day of 2019 buys six large US
stocks in equal dollar amounts at that day's adjusted close, rotates out of Exxon
into Microsoft after the 2020 crash, and is valued daily to the end of the bundled
history (2022-12-28). Commission: $1 per fill.

:func:`seed_demo` is given the portfolios it books on and the market it prices from; the
workstation calls it once, on first start.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.portfolio import PortfolioService

DEMO_NAME = "Demo — US large caps"
START = datetime(2019, 1, 2, 16, 0)
ROTATION = datetime(2020, 6, 1, 16, 0)
INITIAL = ("AAPL", "JNJ", "JPM", "PG", "XOM", "KO")
COMMISSION = 1.0


class PriceReader(Protocol):
    """What the demo reads of the market (``MarketDataService`` fits)."""

    def last_price(self, symbol: str, as_of: datetime | None = None) -> float | None:
        """The last close of ``symbol`` at or before ``as_of`` (None when unknown)."""
        ...


def seed_demo(portfolios: PortfolioService, market: PriceReader, name: str = DEMO_NAME) -> str:
    """Create and fill the demo portfolio in ``portfolios`` at ``market``'s closes.

    Returns its name. A portfolio of that name already there (a start that seeded it was
    interrupted before it recorded so, or a process without the start-up lock seeded it) is
    left as it is.
    """
    if name in portfolios.names():
        return name
    portfolios.create(
        name,
        1_000_000.0,
        created_at=START,
        description="Equal-weight large caps from 2019, one rotation in June 2020.",
    )
    budget = 1_000_000.0 / len(INITIAL) - COMMISSION
    for i, symbol in enumerate(INITIAL, start=1):
        price = market.last_price(symbol, as_of=START)
        qty = math.floor(budget / price)
        portfolios.trade(
            name,
            symbol,
            "buy",
            qty,
            price,
            commission=COMMISSION,
            ts=START,
            client_order_id=f"demo-{i}",
            snapshot=False,
        )
    held = portfolios.ledger(name).quantity("XOM")
    xom = market.last_price("XOM", as_of=ROTATION)
    result = portfolios.trade(
        name,
        "XOM",
        "sell",
        held,
        xom,
        commission=COMMISSION,
        ts=ROTATION,
        client_order_id="demo-7",
        snapshot=False,
    )
    msft = market.last_price("MSFT", as_of=ROTATION)
    qty = math.floor((result.cash_after - COMMISSION) / msft)
    portfolios.trade(
        name,
        "MSFT",
        "buy",
        qty,
        msft,
        commission=COMMISSION,
        ts=ROTATION,
        client_order_id="demo-8",
        snapshot=False,
    )
    portfolios.set_target_weights(
        name, {s: 1 / 6 for s in ("AAPL", "JNJ", "JPM", "PG", "KO", "MSFT")}
    )
    portfolios.revalue_history(name)
    return name
