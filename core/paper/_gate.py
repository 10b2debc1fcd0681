"""The worker's gate for new orders: drawdown scaling and the portfolio's pre-trade checks."""

from __future__ import annotations

import math

from core.execution import Order
from core.paper._sleeve import Sleeve
from core.paper._store import utcnow
from core.portfolio import Side
from core.risk import (
    OrderIntent,
    PortfolioState,
    RiskLimits,
    TradingState,
    check_order,
)


class RiskGateMixin:
    """Part of :class:`~core.paper._worker.PaperWorker`."""

    # -- risk ------------------------------------------------------------------------------
    def _pre_trade(self, sleeve: Sleeve, order: Order) -> str:
        """Scale by the drawdown controller, then the portfolio's pre-trade checks."""
        symbol, engine = order.symbol, sleeve.engine
        held = self.ledger.quantity(symbol)
        price = engine.marks().get(symbol, math.nan)
        if order.target is not None:
            if order.target == 0:
                quantity = abs(engine.ledger.quantity(symbol))
            else:
                quantity = engine.broker._units(symbol, price) if price == price else 0.0
                quantity *= order.scale
        else:
            quantity = float(order.quantity or 0.0)
        signed = quantity if order.side is Side.BUY else -quantity
        increases = abs(held + signed) > abs(held) + 1e-12
        scale = self.dd_status.scale
        if increases and scale < 1:
            if order.target is not None:
                order.scale *= scale
            else:
                step = self.feed.instruments[symbol].quantity_step
                order.quantity = math.floor(quantity * scale / step + 1e-9) * step
                if order.quantity <= 0:
                    return f"drawdown {self.dd_status.level}: scaled to nothing"
            quantity *= scale
        if self.limits is None and self.trading_state == TradingState.ACTIVE.value:
            return ""
        if not (price == price and quantity > 0):
            return ""
        intent = OrderIntent(symbol, order.side.value, quantity, price)
        state = PortfolioState(
            equity=self.equity,
            cash=self.cash,
            positions={s: p.quantity for s, p in self.ledger.positions.items() if p.quantity},
            prices=self._marks(),
            multipliers=self.multipliers,
            peak_equity=self.dd_status.peak,
            day_start_equity=self.day_start_equity,
            day_turnover=self.day_turnover,
            asset_class={s: i.asset_class.value for s, i in self.feed.instruments.items()},
            now=self.ts,
            trading_state=self.trading_state,
        )
        report = check_order(intent, state, self.limits or RiskLimits())
        if self.live:  # every check is logged; the compliance report counts the breaches
            self.pending.audit.append(
                ("pretrade_check", {"strategy": sleeve.key, **report.to_dict()})
            )
        for result in report.results:
            if result.outcome in ("warn", "block"):
                self._alert(
                    result.outcome,
                    result.rule,
                    f"{sleeve.key} {symbol}: {result.message}",
                    audit=False,
                )
        if report.blocked:
            reasons = "; ".join(r.message for r in report.results if r.outcome == "block")
            return f"blocked by pre-trade checks: {reasons}"
        return ""

    def _marks(self) -> dict[str, float]:
        """The last known close of every instrument (held ones may have no bar now)."""
        closes = self.sleeves[0].engine._C
        marks = {}
        for j, symbol in enumerate(self.symbols):
            column = closes[j]
            k = len(column) - 1
            while k >= 0 and column[k] != column[k]:
                k -= 1
            if k >= 0:
                marks[symbol] = column[k]
        return marks

    def _alert(self, level: str, rule: str, message: str, audit: bool = True) -> None:
        if not self.live:
            return
        self.pending.alerts.append(
            {
                "session_id": self.session_id,
                "seq": self.seq,
                "ts": self.ts or utcnow(),
                "level": level,
                "rule": rule,
                "message": message,
            }
        )
        if audit and level in ("warn", "block", "critical"):
            self.pending.audit.append(
                (
                    "limit_breach",
                    {"session": self.session_id, "level": level, "rule": rule, "message": message},
                )
            )
