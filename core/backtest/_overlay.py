"""The risk overlay's gate: drawdown scaling, then the pre-trade checks, for each new order.

A backtest puts one :class:`RiskGate` on its engine's broker; a paper session puts one on
its portfolio (all strategies' orders go through it). Either way the same code scales and
vets an order, from the same readings: the equity at the last close (for the drawdown and
the checks), the positions held now, the last known closes.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime

from core.backtest._config import RiskOverlay
from core.execution import OrderIntent, floor_to_step
from core.instruments import Instrument
from core.portfolio import Ledger, Side
from core.risk import (
    DrawdownController,
    DrawdownStatus,
    PortfolioState,
    PreTradeReport,
    RiskLimits,
    TradingState,
    check_order,
)
from core.risk import OrderIntent as CheckedOrder


class RiskGate:
    """Scales and vets orders as ``overlay`` says; also measures the drawdown for display.

    Parameters
    ----------
    overlay : RiskOverlay
    instruments : dict of symbol → Instrument
    cash : float
        The starting equity (the first peak).
    limits : RiskLimits, optional
        Limits to check against (a paper portfolio's own); default: ``overlay.limits``,
        else the default limits when ``overlay.pre_trade`` is on, else none.
    trading_state : str
        The portfolio's trading state (``active``, ``reducing_only``, ``halted``).
    """

    def __init__(
        self,
        overlay: RiskOverlay,
        instruments: dict[str, Instrument],
        *,
        cash: float,
        limits: RiskLimits | None = None,
        trading_state: str = TradingState.ACTIVE.value,
    ):
        self.overlay = overlay
        self.instruments = instruments
        self.multipliers = {s: i.multiplier for s, i in instruments.items()}
        self.asset_class = {s: i.asset_class.value for s, i in instruments.items()}
        self.controller = DrawdownController(
            warning=overlay.drawdown_warning,
            critical=overlay.drawdown_critical,
            critical_scale=overlay.critical_scale,
        )
        self.status: DrawdownStatus = self.controller.update(cash)
        self.set_limits(limits, trading_state)
        self.day = None
        self.day_start_equity = cash
        self.day_turnover = 0.0
        self.report: PreTradeReport | None = None  # the last order's checks

    def set_limits(self, limits: RiskLimits | None, trading_state: str) -> None:
        limits = limits or self.overlay.limits
        if self.overlay.pre_trade and limits is None:
            limits = RiskLimits()
        self.limits, self.trading_state = limits, str(trading_state)

    @property
    def scale(self) -> float:
        """What new positions are multiplied by now (1 with the controller off)."""
        return self.status.scale if self.overlay.drawdown else 1.0

    # -- readings -------------------------------------------------------------------------
    def new_bar(self, ts: datetime, equity: float) -> None:
        """A bar begins; ``equity`` is the last close's (a new day starts the loss count)."""
        day = ts.date()
        if day != self.day:
            self.day, self.day_start_equity, self.day_turnover = day, equity, 0.0

    def on_fill(self, quantity: float, price: float, symbol: str) -> None:
        self.day_turnover += quantity * price * self.multipliers[symbol]

    def update(self, equity: float) -> str | None:
        """Equity at a close; the previous level when the drawdown level changed."""
        previous = self.status.level
        self.status = self.controller.update(equity)
        return previous if self.status.level != previous and self.overlay.drawdown else None

    # -- the gate -------------------------------------------------------------------------
    def vet(
        self,
        intent: OrderIntent,
        engine,
        *,
        ledger: Ledger,
        equity: float,
        cash: float,
        marks: dict[str, float],
        now: datetime | None,
    ) -> tuple[OrderIntent, str]:
        """The intent to place (maybe scaled down) and why it is refused ("" to accept it).

        ``engine`` is the strategy's engine (it sizes target orders); ``ledger`` holds the
        portfolio's positions now; ``equity`` and ``cash`` are the last close's.
        """
        self.report = None
        symbol = intent.symbol
        held = ledger.quantity(symbol)
        price = engine.marks().get(symbol, math.nan)
        if intent.target is not None:
            if intent.target == 0:
                quantity = abs(engine.ledger.quantity(symbol))
            else:
                quantity = engine.broker.units(symbol, price) if price == price else 0.0
                quantity *= intent.scale
        else:
            quantity = float(intent.quantity or 0.0)
        signed = quantity if intent.side is Side.BUY else -quantity
        increases = abs(held + signed) > abs(held) + 1e-12
        scale = self.scale
        if increases and scale < 1:
            intent = self._scaled(intent, quantity, scale)
            if intent.target is None and intent.quantity <= 0:
                return intent, f"drawdown {self.status.level}: scaled to nothing"
            quantity *= scale
        if self.limits is None and self.trading_state == TradingState.ACTIVE.value:
            return intent, ""
        if not (price == price and quantity > 0):
            return intent, ""
        return intent, self._check(intent, quantity, price, ledger, equity, cash, marks, now)

    def _scaled(self, intent: OrderIntent, quantity: float, scale: float) -> OrderIntent:
        if intent.target is not None:
            return dataclasses.replace(intent, scale=intent.scale * scale)
        step = self.instruments[intent.symbol].quantity_step
        return dataclasses.replace(intent, quantity=floor_to_step(quantity * scale, step))

    def _check(self, intent, quantity, price, ledger, equity, cash, marks, now) -> str:
        """The pre-trade checks on the portfolio (their report stays in ``self.report``)."""
        state = PortfolioState(
            equity=equity,
            cash=cash,
            positions={s: p.quantity for s, p in ledger.positions.items() if p.quantity},
            prices=marks,
            multipliers=self.multipliers,
            peak_equity=self.status.peak,
            day_start_equity=self.day_start_equity,
            day_turnover=self.day_turnover,
            asset_class=self.asset_class,
            now=now,
            trading_state=self.trading_state,
        )
        self.report = check_order(
            CheckedOrder(intent.symbol, intent.side.value, quantity, price),
            state,
            self.limits or RiskLimits(),
        )
        if self.report.blocked:
            reasons = "; ".join(r.message for r in self.report.results if r.outcome == "block")
            return f"blocked by pre-trade checks: {reasons}"
        return ""


def last_marks(engine) -> dict[str, float]:
    """The last known close of every instrument of ``engine`` up to its current bar.

    A held instrument may have no bar now; see :meth:`BacktestEngine.last_marks`.
    """
    return engine.last_marks()
