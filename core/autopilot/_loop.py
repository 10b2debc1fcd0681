"""One pass of the loop on data cut at ``as_of``: regime → strategy → weights → risk → orders.

:func:`decide` is the single code path of a run and of every simulated day: it reads a
:class:`MarketCut` (closes up to ``as_of`` only), an :class:`~core.autopilot.Account` view, the
rules, the strategy in force and the models for the day, and returns a :class:`Decision`.
Nothing in it reads the clock, the database or any bar after ``as_of``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import pandas as pd

from core.autopilot._approval import Account, Approval, approve, check_orders
from core.autopilot._config import AutopilotConfig
from core.autopilot._generators import Models, Proposal, generate
from core.autopilot._regime import RegimeReading, regime_series
from core.autopilot._rules import Held, RulesTable, Selection, select
from core.errors import InvalidInputError
from core.instruments import Instrument
from core.rebalance import PlannedOrder, rebalance_orders
from core.risk import PreTradeReport, RiskLimits


class CloseReader(Protocol):
    """What the loop reads of the market (``MarketDataService`` fits)."""

    def closes(self, symbols: list[str], start=None, end=None) -> pd.DataFrame: ...


@dataclass(frozen=True)
class MarketCut:
    """Closes of the index and the symbols up to ``as_of`` (nothing later)."""

    as_of: date
    index_close: pd.Series
    closes: pd.DataFrame

    @property
    def last_bar(self) -> date:
        """The index's last bar on or before ``as_of``."""
        return self.index_close.index[-1].date()

    def prices(self) -> dict[str, float]:
        """Each symbol's last close (forward-filled) on the cut."""
        last = self.closes.ffill().iloc[-1]
        return {str(s): float(p) for s, p in last.items() if pd.notna(p) and p > 0}

    def cut(self, day: date) -> MarketCut:
        """The same data cut at an earlier ``day``."""
        end = pd.Timestamp(day)
        return MarketCut(day, self.index_close.loc[:end], self.closes.loc[:end])


def load_cut(
    market: CloseReader, config: AutopilotConfig, extra: Sequence[str], as_of
) -> MarketCut:
    """The index and universe (plus ``extra`` held symbols) closes up to ``as_of``."""
    end = pd.Timestamp(as_of)
    symbols = list(dict.fromkeys([*config.universe, *extra]))
    closes = market.closes([config.index, *symbols], end=end).loc[:end]  # never a later bar
    if config.index not in closes or closes[config.index].dropna().empty:
        raise InvalidInputError(f"as_of: no bar of {config.index} on or before {end.date()}")
    index_close = closes[config.index].dropna().rename(config.index)
    return MarketCut(end.date(), index_close, closes[symbols].loc[index_close.index[0] :])


def stale_reason(cut: MarketCut, config: AutopilotConfig) -> str | None:
    """Why the data is too old to trade on ``as_of`` (None when fresh)."""
    lag = int(np.busday_count(cut.last_bar, cut.as_of))
    if lag > config.max_stale_days:
        return (
            f"stale data: the last bar of {config.index} is {cut.last_bar}, {lag} business "
            f"days before {cut.as_of} (at most {config.max_stale_days})"
        )
    return None


def regime_on(
    cut: MarketCut, config: AutopilotConfig, cache: MutableMapping | None
) -> RegimeReading:
    """The regime on the cut's last bar."""
    frame = regime_series(cut.index_close, cut.closes, config, cut.last_bar, cache=cache)
    return RegimeReading.from_row(frame.index[-1], frame.iloc[-1])


@dataclass(frozen=True)
class Decision:
    """What the loop decided on ``as_of`` and the orders the checks let through."""

    as_of: date
    regime: RegimeReading
    selection: Selection
    proposal: Proposal
    approval: Approval
    orders: list[PlannedOrder]
    reports: list[PreTradeReport]
    account: Account
    value_after: float
    stale: str | None = None
    models: dict[str, Any] = field(default_factory=dict)

    @property
    def blocked(self) -> list[PreTradeReport]:
        """The orders a pre-trade rule blocked."""
        return [r for r in self.reports if r.blocked]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of a run (without its mode, status and fills)."""
        return {
            "as_of": self.as_of.isoformat(),
            "regime": self.regime.to_dict(),
            "strategy": self.selection.strategy,
            "confidence": self.selection.confidence,
            "selection": self.selection.to_dict(),
            "proposal": self.proposal.to_dict(),
            "target_weights": self.approval.weights,
            "current_weights": self.account.weights(),
            "trades": [o.to_dict() for o in self.orders],
            "risk": {
                **self.approval.to_dict(),
                "orders": [_order_check(r) for r in self.reports],
            },
            "value_before": self.account.equity,
            "value_after": self.value_after,
            "n_buys": sum(o.side == "buy" for o in self.orders),
            "n_sells": sum(o.side == "sell" for o in self.orders),
            "turnover": _traded(self.orders) / self.account.equity if self.account.equity else 0.0,
            "stale": self.stale,
            "models": self.models,
        }


def _order_check(report: PreTradeReport) -> dict[str, Any]:
    return {
        "symbol": report.intent.symbol,
        "side": report.intent.side,
        "quantity": report.intent.quantity,
        "outcome": report.outcome,
        "messages": report.messages,
    }


def _traded(orders: Sequence[PlannedOrder]) -> float:
    return float(sum(o.quantity * o.est_price for o in orders))


def plan_orders(
    account: Account,
    weights: Mapping[str, float],
    instruments: Mapping[str, Instrument],
    config: AutopilotConfig,
) -> list[PlannedOrder]:
    """Orders from the holdings to ``weights``, sized on equity less their own cost.

    Symbols in alphabetical order (targets, then holdings without one), so a run and the
    simulation list and book them alike.
    """
    positions = dict(sorted(account.positions.items()))
    weights = dict(sorted(weights.items()))
    args = (positions, account.prices, account.equity, weights, instruments)
    costs = (config.commission, config.slippage)
    plan = rebalance_orders(*args, *costs)
    if plan.total_cost:
        equity = account.equity - plan.total_cost
        plan = rebalance_orders(positions, account.prices, equity, *args[3:], *costs)
    return list(plan.orders)


def value_after(account: Account, orders: Sequence[PlannedOrder]) -> float:
    """Equity at the marks once ``orders`` fill at their estimated prices and commissions."""
    cash = account.cash
    positions = dict(account.positions)
    for o in orders:
        sign = 1 if o.side == "buy" else -1
        multiplier = account.multipliers.get(o.symbol, 1.0)
        cash -= sign * o.quantity * o.est_price * multiplier + o.commission
        positions[o.symbol] = positions.get(o.symbol, 0.0) + sign * o.quantity
    marks = account.prices
    return cash + sum(q * marks[s] * account.multipliers.get(s, 1.0) for s, q in positions.items())


def decide(
    cut: MarketCut,
    account: Account,
    rules: RulesTable,
    held: Held | None,
    models: Models,
    config: AutopilotConfig,
    limits: RiskLimits,
    instruments: Mapping[str, Instrument],
    *,
    cache: MutableMapping | None = None,
) -> Decision:
    """Run the loop once on ``cut`` (see the module doc); no side effect."""
    regime = regime_on(cut, config, cache)
    selection = select(rules, regime, held, cut.as_of)
    universe = cut.closes[[s for s in config.universe if s in cut.closes]]
    proposal = generate(selection.strategy, universe, cut.as_of, config, models)
    notes = {"ids": models.ids, "ml": models.scorer_note, "rl": models.weighter_note}
    stale = stale_reason(cut, config)
    approval = approve(proposal.weights, account, limits)
    orders, reports = [], []
    if approval.approved and stale is None:
        planned = plan_orders(account, approval.weights, instruments, config)
        orders, reports = check_orders(planned, account, limits)
    return Decision(
        cut.as_of,
        regime,
        selection,
        proposal,
        approval,
        orders,
        reports,
        account,
        value_after(account, orders),
        stale,
        notes,
    )
