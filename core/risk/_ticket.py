"""Manual orders through the pre-trade checks.

The Portfolio Lab's ticket and ``python -m core portfolio trade`` book a trade only after every rule
has passed or warned.

The kill switch (trading state) always applies; the limits apply once they have been saved
for the portfolio (Risk page, ``risk limits --set``): a fresh lab portfolio is not held to the
example defaults it has never been given. Every check is logged in the audit chain
(``pretrade_check``), a blocked one too; a blocked order writes nothing else. A repeated
client order id returns the original fill without a new check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.errors import BlockedByRiskError
from core.portfolio import get_row, naive_utc
from core.risk._errors import RiskInputError
from core.risk._limits import LIMIT_KEYS, RiskLimits
from core.risk._pretrade import OrderIntent, PreTradeReport, check_order
from core.risk._report import portfolio_state
from core.risk._store import LIMITS_KEY, load_limits, record_check

NO_LIMITS = RiskLimits(**{k: None for k in LIMIT_KEYS if k not in ("warn_at", "trading_hours")})


class OrderBlocked(BlockedByRiskError, ValueError):
    """A pre-trade rule blocked the order; ``report`` holds every rule's result."""

    def __init__(self, report: PreTradeReport):
        reasons = "; ".join(r.message for r in report.results if r.outcome == "block")
        super().__init__(f"blocked by pre-trade checks: {reasons}")
        self.report = report
        self.field = "quantity"


def check_manual_order(
    ws,
    name: str,
    symbol: str,
    side: str,
    quantity: float,
    price: float | None = None,
    ts: datetime | None = None,
) -> PreTradeReport:
    """Every rule's result for this order against the portfolio now (logged)."""
    symbol = symbol.strip().upper()
    if price is None:
        price = ws.market.last_price(symbol, ts)
        if price is None:
            raise RiskInputError(f"no known price for {symbol}: give one")
    with ws.sessions() as session:
        saved = LIMITS_KEY in (get_row(session, name).meta or {})
        limits = load_limits(session, name) if saved else NO_LIMITS
    state = portfolio_state(ws, name, now=ts)
    if symbol not in state.prices:
        state.prices[symbol] = float(price)
    report = check_order(
        OrderIntent(symbol, str(side).lower(), float(quantity), float(price)), state, limits
    )
    with ws.sessions.begin() as session:
        record_check(session, name, report, actor="user")
    return report


def checked_trade(
    ws,
    name: str,
    symbol: str,
    side: str,
    quantity: float,
    price: float | None = None,
    **trade: Any,
):
    """Check, then book with :meth:`PortfolioService.trade`.

    ``OrderBlocked`` when a rule blocks (nothing is booked). Returns the trade result and the report
    (its warnings).
    """
    order_id = trade.get("client_order_id")
    if order_id and ws.portfolios.has_order(name, order_id):
        return ws.portfolios.trade(name, symbol, side, quantity, price, **trade), None
    # a malformed order (unknown symbol, bad price or quantity, back-dated, more than the
    # rules allow) is refused first by the ledger's own checks, naming the field at fault
    ws.portfolios.validate_trade(name, symbol, side, quantity, price, **trade)
    ts = trade.get("ts")
    report = check_manual_order(
        ws, name, symbol, side, quantity, price, None if ts is None else naive_utc(ts)
    )
    if report.blocked:
        raise OrderBlocked(report)
    result = ws.portfolios.trade(name, symbol, side, quantity, price, **trade)
    return result, report
