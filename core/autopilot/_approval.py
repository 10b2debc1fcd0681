"""Risk approval of a whole rebalance, then every order through the pre-trade checks.

:func:`approve` reads the account's :class:`core.risk.RiskLimits` (the issue's defaults:
max position 10 %, top three 40 %, daily turnover 30 %, drawdown stop 15 %, cash ≥ 2 %) and
the target weights, and returns them approved, scaled or rejected with the deciding numbers:

1. trading state ``halted`` (the kill switch) rejects (status ``halted``); ``reducing_only``
   caps every target at the weight held now;
2. drawdown ``(peak − equity) / peak`` above ``max_drawdown`` stops new risk, as the
   pre-trade drawdown rule does: every target is capped at the weight held now, so only
   sales toward the targets remain (status ``scaled``), or, with nothing to reduce, the
   rebalance is rejected (status ``rejected``);
3. a weight above ``max_position_weight`` is cut to it;
4. the three largest weights, above ``max_top3_weight`` together, are scaled to it;
5. invested weight above ``1 − min_cash`` is scaled to it;
6. turnover ``Σ |target − held|`` above ``max_daily_turnover`` moves only part way, sales
   first (they reduce risk): with sales ``S`` and purchases ``B`` (fractions of equity) and
   the budget ``L``, sales move ``min(1, L / S)`` of the way and purchases
   ``max(0, L − S) / B``; the rest waits for the next runs.

Each limit is applied at :data:`HEADROOM` of itself, so that orders rounded down to whole
shares and filled after slippage stay inside it when :func:`check_orders` then checks them
one by one with :func:`core.risk.check_order` (sales first; a blocked order is dropped).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from core.rebalance import PlannedOrder
from core.risk import (
    OrderIntent,
    PortfolioState,
    PreTradeReport,
    RiskLimits,
    TradingState,
    check_order,
)

HEADROOM = 0.995


@dataclass(frozen=True)
class Account:
    """What the loop knows of the account on ``as_of``: marks at that day's closes."""

    cash: float
    positions: dict[str, float]
    prices: dict[str, float]
    peak_equity: float
    trading_state: TradingState = TradingState.ACTIVE
    multipliers: dict[str, float] = field(default_factory=dict)

    @property
    def equity(self) -> float:
        """Cash plus positions at the marks."""
        return self.cash + sum(
            q * self.prices[s] * self.multipliers.get(s, 1.0) for s, q in self.positions.items()
        )

    def weights(self) -> dict[str, float]:
        """Position value over equity, by symbol held."""
        equity = self.equity
        return {
            s: q * self.prices[s] * self.multipliers.get(s, 1.0) / equity
            for s, q in self.positions.items()
            if q and equity > 0
        }


@dataclass(frozen=True)
class Approval:
    """The weights risk lets through and every check's numbers."""

    status: str  # approved | scaled | rejected | halted
    weights: dict[str, float]
    checks: list[dict[str, Any]]
    turnover: float

    @property
    def approved(self) -> bool:
        """Whether any trading may go ahead (approved or scaled)."""
        return self.status in ("approved", "scaled")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``approved``, ``status``, ``checks``, ``turnover``."""
        return {
            "approved": self.approved,
            "status": self.status,
            "checks": self.checks,
            "turnover": self.turnover,
        }


def _check(rule: str, outcome: str, value, limit, message: str) -> dict[str, Any]:
    return {"rule": rule, "outcome": outcome, "value": value, "limit": limit, "message": message}


def _turnover(target: dict[str, float], held: dict[str, float]) -> float:
    return sum(abs(target.get(s, 0.0) - held.get(s, 0.0)) for s in {*target, *held})


def approve(targets: dict[str, float], account: Account, limits: RiskLimits) -> Approval:
    """Approve, scale or reject the move from the account's weights to ``targets``.

    Parameters
    ----------
    targets : dict of str to float
        Target weights (fractions of equity, ≥ 0, summing to ≤ 1).
    account : Account
        Holdings, marks, peak equity and trading state.
    limits : RiskLimits
        The account's limits (``None`` switches a rule off).

    Returns
    -------
    Approval
    """
    held = account.weights()
    checks: list[dict[str, Any]] = []
    state = TradingState(account.trading_state)
    if state is TradingState.HALTED:
        checks.append(_check("trading_state", "block", state.value, None, "trading is halted"))
        return Approval("halted", dict(held), checks, 0.0)
    weights = {s: w for s, w in targets.items() if w > 0}
    if state is TradingState.REDUCING_ONLY:
        weights = {s: min(w, held.get(s, 0.0)) for s, w in weights.items() if held.get(s)}
        checks.append(_check("trading_state", "scaled", state.value, None, "reducing only"))
    if not _drawdown(account, limits, checks):  # no new risk: only moves that reduce
        weights = {s: min(w, held.get(s, 0.0)) for s, w in weights.items() if held.get(s)}
        if _turnover(weights, held) <= 1e-12:
            return Approval("rejected", dict(held), checks, 0.0)
    for rule in (_position, _top3, _cash):
        weights = rule(weights, limits, checks)
    weights = _limit_turnover(weights, held, limits, checks)
    status = "scaled" if any(c["outcome"] == "scaled" for c in checks) else "approved"
    return Approval(status, weights, checks, _turnover(weights, held))


def _drawdown(account: Account, limits: RiskLimits, checks: list) -> bool:
    equity, peak = account.equity, max(account.peak_equity, account.equity)
    drawdown = (peak - equity) / peak if peak > 0 else 0.0
    limit = limits.max_drawdown
    if limit is None:
        return True
    text = f"drawdown from peak {peak:,.2f} to {equity:,.2f} is {drawdown:.2%}"
    if drawdown > limit:
        text = f"{text} > {limit:.0%}: no new risk, only reductions toward the targets"
        checks.append(_check("max_drawdown", "block", drawdown, limit, text))
        return False
    checks.append(_check("max_drawdown", "pass", drawdown, limit, f"{text} ≤ {limit:.0%}"))
    return True


def _position(weights: dict, limits: RiskLimits, checks: list) -> dict:
    limit = limits.max_position_weight
    if limit is None or not weights:
        return weights
    cap = limit * HEADROOM
    largest = max(weights, key=weights.get)
    over = {s: w for s, w in weights.items() if w > cap}
    if not over:
        text = f"largest {largest} {weights[largest]:.2%} ≤ {limit:.0%}"
        checks.append(_check("max_position_weight", "pass", weights[largest], limit, text))
        return weights
    names = ", ".join(f"{s} {w:.2%}" for s, w in sorted(over.items()))
    text = f"{names} cut to {cap:.2%} (limit {limit:.0%} less headroom)"
    checks.append(_check("max_position_weight", "scaled", max(over.values()), limit, text))
    return {s: min(w, cap) for s, w in weights.items()}


def _top3(weights: dict, limits: RiskLimits, checks: list) -> dict:
    limit = limits.max_top3_weight
    if limit is None or not weights:
        return weights
    top = heapq.nlargest(3, weights.items(), key=lambda kv: (kv[1], kv[0]))
    total = sum(w for _, w in top)
    names = ", ".join(s for s, _ in top)
    if total <= limit * HEADROOM:
        text = f"largest three ({names}) {total:.2%} ≤ {limit:.0%}"
        checks.append(_check("max_top3_weight", "pass", total, limit, text))
        return weights
    factor = limit * HEADROOM / total
    text = f"largest three ({names}) {total:.2%} scaled by {factor:.4f} (limit {limit:.0%})"
    checks.append(_check("max_top3_weight", "scaled", total, limit, text))
    return {s: w * factor if s in dict(top) else w for s, w in weights.items()}


def _cash(weights: dict, limits: RiskLimits, checks: list) -> dict:
    limit = limits.min_cash
    if limit is None:
        return weights
    invested = sum(weights.values())
    most = (1.0 - limit) * HEADROOM
    if invested <= most:
        text = f"cash {1 - invested:.2%} ≥ {limit:.0%}"
        checks.append(_check("min_cash", "pass", 1 - invested, limit, text))
        return weights
    factor = most / invested
    text = f"cash {1 - invested:.2%} < {limit:.0%}: invested {invested:.2%} scaled by {factor:.4f}"
    checks.append(_check("min_cash", "scaled", 1 - invested, limit, text))
    return {s: w * factor for s, w in weights.items()}


def _limit_turnover(weights: dict, held: dict, limits: RiskLimits, checks: list) -> dict:
    limit = limits.max_daily_turnover
    turnover = _turnover(weights, held)
    if limit is None:
        return weights
    budget = limit * HEADROOM
    if turnover <= budget:
        text = f"turnover {turnover:.2%} ≤ {limit:.0%}"
        checks.append(_check("max_daily_turnover", "pass", turnover, limit, text))
        return weights
    symbols = sorted({*weights, *held})
    moves = {s: weights.get(s, 0.0) - held.get(s, 0.0) for s in symbols}
    sold = -sum(d for d in moves.values() if d < 0)
    bought = sum(d for d in moves.values() if d > 0)
    k_sell = min(1.0, budget / sold) if sold > 0 else 1.0
    k_buy = max(0.0, budget - sold) / bought if bought > 0 else 0.0
    text = (
        f"turnover {turnover:.2%} above {budget:.2%} (limit {limit:.0%} less headroom): "
        f"sales first, {k_sell:.2%} of them, then {min(k_buy, 1.0):.2%} of the purchases"
    )
    checks.append(_check("max_daily_turnover", "scaled", turnover, limit, text))
    partial = {s: held.get(s, 0.0) + d * (k_sell if d < 0 else k_buy) for s, d in moves.items()}
    return {s: w for s, w in partial.items() if w > 1e-12}


def check_orders(
    orders: list[PlannedOrder], account: Account, limits: RiskLimits
) -> tuple[list[PlannedOrder], list[PreTradeReport]]:
    """Every order (sales first) through :func:`core.risk.check_order`; the passed ones.

    The state each order sees includes the orders passed before it (filled at their
    estimated price and commission). Returns the passed orders, in booking order, and every
    order's report.
    """
    state = PortfolioState(
        equity=account.equity,
        cash=account.cash,
        positions=dict(account.positions),
        prices=dict(account.prices),
        multipliers=dict(account.multipliers),
        peak_equity=max(account.peak_equity, account.equity),
        trading_state=account.trading_state,
    )
    passed, reports = [], []
    for order in sorted(orders, key=lambda o: o.side != "sell"):
        report = check_order(
            OrderIntent(order.symbol, order.side, order.quantity, order.est_price), state, limits
        )
        reports.append(report)
        if report.blocked:
            continue
        passed.append(order)
        sign = 1 if order.side == "buy" else -1
        multiplier = account.multipliers.get(order.symbol, 1.0)
        state.positions[order.symbol] = state.positions.get(order.symbol, 0.0) + sign * (
            order.quantity
        )
        state.cash -= sign * order.quantity * order.est_price * multiplier + order.commission
        state.day_turnover += order.quantity * order.est_price * multiplier
    return passed, reports
