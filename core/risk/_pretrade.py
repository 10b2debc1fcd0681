"""Pre-trade checks: every order gets a result per rule (pass, warn, block) with its numbers.

Conventions (``docs/RISK.md``):

* weights are |quantity × price × multiplier| / equity **after** the order, with the order's
  symbol marked at the order's expected price and equity taken as before the order (a fill
  at the expected price moves cash and position value by the same amount; costs are ignored);
* a rule's *use* is value / limit for a maximum and limit / value for a minimum; use > 1
  blocks, use ≥ ``warn_at`` warns, anything lower passes;
* an order *reduces risk* when it shrinks an existing position toward zero without crossing
  it. Such an order passes the trading-state (reducing only), drawdown and daily-loss rules,
  and no other rule blocks it (a breach it cannot fix is reported as a warning): a limit
  never stops a portfolio from getting smaller. Only ``halted`` and trading hours block it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from core.risk._errors import RiskInputError, RiskNotFound
from core.risk._limits import RiskLimits, TradingState

OUTCOMES = ("pass", "warn", "block")


@dataclass(frozen=True)
class OrderIntent:
    """An order about to be sent: ``quantity`` > 0 shares/contracts at the expected ``price``."""

    symbol: str
    side: str
    quantity: float
    price: float

    def __post_init__(self):
        side = str(self.side).strip().lower()
        if side not in ("buy", "sell"):
            raise RiskInputError(f"order side must be 'buy' or 'sell', got {self.side!r}")
        object.__setattr__(self, "side", side)
        for name in ("quantity", "price"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise RiskInputError(f"order {name} must be a finite number > 0, got {value!r}")
        if not str(self.symbol).strip():
            raise RiskInputError("order symbol is empty")

    @property
    def signed_quantity(self) -> float:
        return self.quantity if self.side == "buy" else -self.quantity


@dataclass
class PortfolioState:
    """What the checks need to know about a portfolio right now.

    equity, cash, day_turnover : currency; positions : symbol → signed quantity;
    prices : symbol → last price; multipliers : symbol → contract multiplier (default 1);
    peak_equity / day_start_equity : default to ``equity`` (no drawdown, no loss today);
    adv : symbol → average daily volume (shares); asset_class : symbol → class name;
    now : the clock trading hours are read in.
    """

    equity: float
    cash: float
    positions: dict[str, float] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=dict)
    multipliers: dict[str, float] = field(default_factory=dict)
    peak_equity: float | None = None
    day_start_equity: float | None = None
    day_turnover: float = 0.0
    adv: dict[str, float] = field(default_factory=dict)
    asset_class: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None
    trading_state: TradingState | str = TradingState.ACTIVE

    def __post_init__(self):
        for name in ("equity", "cash", "day_turnover"):
            if not math.isfinite(getattr(self, name)):
                raise RiskInputError(
                    f"portfolio state {name} must be finite, got {getattr(self, name)}"
                )
        try:
            self.trading_state = TradingState(self.trading_state)
        except ValueError:
            states = ", ".join(s.value for s in TradingState)
            raise RiskInputError(
                f"trading state must be one of {states}, got {self.trading_state!r}"
            ) from None


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict. ``used`` is the fraction of the limit used (None if not a ratio)."""

    rule: str
    outcome: str
    value: Any
    limit: Any
    message: str
    used: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "outcome": self.outcome,
            "value": self.value,
            "limit": self.limit,
            "used": self.used,
            "message": self.message,
        }


@dataclass(frozen=True)
class PreTradeReport:
    intent: OrderIntent
    results: list[RuleResult]

    @property
    def outcome(self) -> str:
        """The worst outcome of all rules."""
        return max((r.outcome for r in self.results), key=OUTCOMES.index, default="pass")

    @property
    def blocked(self) -> bool:
        return self.outcome == "block"

    @property
    def messages(self) -> list[str]:
        """Messages of the rules that warned or blocked."""
        return [f"{r.rule}: {r.message}" for r in self.results if r.outcome != "pass"]

    def result(self, rule: str) -> RuleResult:
        for r in self.results:
            if r.rule == rule:
                return r
        raise RiskNotFound(f"no result for rule {rule!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.intent.symbol,
            "side": self.intent.side,
            "quantity": self.intent.quantity,
            "price": self.intent.price,
            "outcome": self.outcome,
            "blocked": self.blocked,
            "results": [r.to_dict() for r in self.results],
        }


class _Order:
    """The order's effect on the portfolio, computed once for all rules."""

    def __init__(self, intent: OrderIntent, state: PortfolioState):
        self.intent, self.state = intent, state
        sym = intent.symbol
        self.multiplier = state.multipliers.get(sym, 1.0)
        self.before = state.positions.get(sym, 0.0)
        self.after = self.before + intent.signed_quantity
        self.notional = intent.quantity * intent.price * self.multiplier
        self.reduces = self.before != 0 and 0 <= self.after / self.before < 1
        future = str(state.asset_class.get(sym, "")).lower() == "future"  # settles variation
        paid = 0.0 if future else intent.signed_quantity * intent.price * self.multiplier
        self.cash_after = state.cash - paid
        prices, multipliers = state.prices, state.multipliers
        try:
            values = {
                s: abs(q * prices[s] * multipliers.get(s, 1.0))
                for s, q in state.positions.items()
                if q and s != sym
            }
        except KeyError as exc:
            raise RiskInputError(
                f"no price for held symbol {exc.args[0]} in the portfolio state's prices"
            ) from None
        bad = [s for s, v in values.items() if not math.isfinite(v)]
        if bad:
            raise RiskInputError(f"the price of held symbol {bad[0]} is not a finite number")
        values[sym] = abs(self.after * intent.price * self.multiplier)
        self.values = values

    def weight(self, value: float) -> float:
        return value / self.state.equity if self.state.equity > 0 else math.inf


def _use(value: float, limit: float, minimum: bool) -> float:
    """Fraction of a limit used: value / limit for a maximum, limit / value for a minimum."""
    if not minimum:
        return value / limit
    return limit / value if value > 0 else math.inf


def _verdict(used: float, warn_at: float) -> str:
    if used > 1:
        return "block"
    return "warn" if used >= warn_at else "pass"


def _ratio_result(
    rule: str,
    order: _Order,
    value: float,
    limit: float,
    limits: RiskLimits,
    text: str,
    minimum: bool = False,
) -> RuleResult:
    result = ratio_rule(rule, value, limit, limits.warn_at, text, minimum)
    if result.outcome == "block" and order.reduces:
        message = result.message + "; not blocked: the order reduces the position"
        return RuleResult(rule, "warn", value, limit, message, result.used)
    return result


def ratio_rule(
    rule: str, value: float, limit: float, warn_at: float, text: str, minimum: bool = False
) -> RuleResult:
    """The verdict of a ratio limit: ``text`` is followed by the value, limit and use."""
    used = _use(value, limit, minimum)
    outcome = _verdict(used, warn_at)
    sign = {"block": "<" if minimum else ">", "warn": "near", "pass": "within"}[outcome]
    message = f"{text} {_pct(value)} {sign} limit {_pct(limit)} (used {_pct(used)})"
    return RuleResult(rule, outcome, value, limit, message, used)


def _trading_state(order: _Order, limits: RiskLimits) -> RuleResult:
    state = order.state.trading_state
    if state is TradingState.HALTED:
        return RuleResult("trading_state", "block", state.value, None, "trading is halted")
    if state is TradingState.REDUCING_ONLY and not order.reduces:
        message = (
            f"reducing only: {order.intent.symbol} position would go from "
            f"{order.before:g} to {order.after:g}"
        )
        return RuleResult("trading_state", "block", state.value, None, message)
    return RuleResult("trading_state", "pass", state.value, None, f"trading state {state.value}")


def _position_weight(order: _Order, limits: RiskLimits) -> RuleResult | None:
    if limits.max_position_weight is None:
        return None
    i = order.intent
    value = order.values[i.symbol]
    text = (
        f"{i.symbol} position {order.after:g} × {i.price:,.2f}"
        f"{f' × {order.multiplier:g}' if order.multiplier != 1 else ''} = {value:,.2f} of "
        f"equity {order.state.equity:,.2f}: weight after the order"
    )
    weight = order.weight(value)
    return _ratio_result(
        "max_position_weight", order, weight, limits.max_position_weight, limits, text
    )


def _top3_weight(order: _Order, limits: RiskLimits) -> RuleResult | None:
    if limits.max_top3_weight is None:
        return None
    top = heapq.nlargest(3, order.values.items(), key=itemgetter(1))
    value = order.weight(sum(v for _, v in top))
    names = ", ".join(s for s, _ in top)
    text = f"largest three after the order ({names}) weigh"
    return _ratio_result("max_top3_weight", order, value, limits.max_top3_weight, limits, text)


def _min_cash(order: _Order, limits: RiskLimits) -> RuleResult | None:
    if limits.min_cash is None:
        return None
    value = order.weight(order.cash_after) if order.state.equity > 0 else -math.inf
    text = f"cash after the order {order.cash_after:,.2f} of equity {order.state.equity:,.2f} ="
    return _ratio_result("min_cash", order, value, limits.min_cash, limits, text, minimum=True)


def _turnover(order: _Order, limits: RiskLimits) -> RuleResult | None:
    if limits.max_daily_turnover is None:
        return None
    traded = order.state.day_turnover + order.notional
    value = order.weight(traded)
    text = (
        f"traded today {order.state.day_turnover:,.2f} + order {order.notional:,.2f} = "
        f"{traded:,.2f} of equity {order.state.equity:,.2f} ="
    )
    return _ratio_result(
        "max_daily_turnover", order, value, limits.max_daily_turnover, limits, text
    )


def _loss_rule(
    rule: str, order: _Order, limit: float | None, base: float | None, what: str, limits: RiskLimits
) -> RuleResult | None:
    if limit is None:
        return None
    equity = order.state.equity
    base = equity if base is None else base
    value = max(0.0, (base - equity) / base) if base > 0 else 0.0
    text = f"equity {equity:,.2f} vs {what} {base:,.2f}: loss"
    if order.reduces:
        used = value / limit
        message = f"{text} {_pct(value)}, limit {_pct(limit)}; the order reduces the position"
        return RuleResult(rule, "pass", value, limit, message, used)
    return _ratio_result(rule, order, value, limit, limits, text)


def _drawdown(order: _Order, limits: RiskLimits) -> RuleResult | None:
    return _loss_rule(
        "max_drawdown", order, limits.max_drawdown, order.state.peak_equity, "peak", limits
    )


def _daily_loss(order: _Order, limits: RiskLimits) -> RuleResult | None:
    return _loss_rule(
        "daily_loss_limit",
        order,
        limits.daily_loss_limit,
        order.state.day_start_equity,
        "day start",
        limits,
    )


def _liquidity(order: _Order, limits: RiskLimits) -> RuleResult | None:
    if limits.min_adv is None:
        return None
    sym = order.intent.symbol
    adv = order.state.adv.get(sym)
    if adv is None or not math.isfinite(adv):
        message = f"no average daily volume known for {sym}; minimum {limits.min_adv:,.0f}"
        return RuleResult("min_adv", "warn", None, limits.min_adv, message)
    used = _use(adv, limits.min_adv, minimum=True)
    outcome = _verdict(used, limits.warn_at)
    message = (
        f"{sym} average daily volume {adv:,.0f} vs minimum {limits.min_adv:,.0f} "
        f"(used {_pct(used)})"
    )
    if outcome == "block" and order.reduces:
        outcome, message = "warn", message + "; not blocked: the order reduces the position"
    return RuleResult("min_adv", outcome, adv, limits.min_adv, message, used)


def _hours(order: _Order, limits: RiskLimits) -> RuleResult | None:
    if not limits.trading_hours:
        return None
    sym, now = order.intent.symbol, order.state.now
    klass = str(order.state.asset_class.get(sym, "")).lower()
    window = limits.trading_hours.get(klass)
    if window is None:
        return RuleResult(
            "trading_hours",
            "pass",
            None,
            None,
            f"no trading hours set for {sym} (class {klass or 'unknown'})",
        )
    if now is None:
        return RuleResult(
            "trading_hours",
            "warn",
            None,
            window.label(),
            f"no clock given to check {sym} against {window.label()}",
        )
    inside = now.weekday() in window.weekdays and window.start <= now.time() < window.end
    when = f"{now:%a %Y-%m-%d %H:%M:%S}"
    message = f"{when} is {'inside' if inside else 'outside'} {klass} hours {window.label()}"
    return RuleResult("trading_hours", "pass" if inside else "block", when, window.label(), message)


RULES: tuple[Callable[[_Order, RiskLimits], RuleResult | None], ...] = (
    _trading_state,
    _hours,
    _position_weight,
    _top3_weight,
    _min_cash,
    _turnover,
    _drawdown,
    _daily_loss,
    _liquidity,
)


def check_order(
    intent: OrderIntent, state: PortfolioState, limits: RiskLimits | None = None
) -> PreTradeReport:
    """Run every configured rule on ``intent`` against ``state``; nothing is written."""
    order = _Order(intent, state)
    limits = limits if limits is not None else RiskLimits()
    results = [r for rule in RULES if (r := rule(order, limits)) is not None]
    return PreTradeReport(intent, results)


def _pct(value: float) -> str:
    return f"{value:.2%}" if math.isfinite(value) else str(value)
