"""Rebalancing a stored portfolio now: plan from its targets, book the orders, read history.

Targets are the weights the Allocation page stored (``PortfolioService.set_target_weights``);
weights now are positions at the last known prices over equity. Each executed rebalance books
one trade per order (sales first) and then one ``rebalance`` audit event, which is also the
history: its time, reasons, drifts, orders, costs, drawdown level and volatility.

:class:`RebalanceService` is given what it reads and writes: the portfolios (targets, ledger,
equity curve, trades), the market (last prices, instruments) and the sessions (the audit
events). It never sees the workstation. :func:`plan_portfolio_rebalance`, :func:`execute_plan`
and :func:`rebalance_history` are the module-level doors of old: they take anything that has a
``rebalance`` service (the workstation) and delegate to it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from core.audit import append_event, query_events
from core.execution import CommissionModel, SlippageModel
from core.portfolio import PortfolioConflict, PortfolioInputError, PortfolioSummary
from core.rebalance._orders import OrderPlan, rebalance_orders
from core.rebalance._policy import Decision, RebalancePolicy, check_rebalance, scaled_targets
from core.risk import drawdown_series

EVENT = "rebalance"
VOL_WINDOW = 20  # equity snapshots' returns in the volatility trigger
HISTORY_COLUMNS = ["ts", "actor", "reasons", "n_orders", "total_cost", "drifts", "plan_id"]


@dataclass(frozen=True)
class PortfolioPlan:
    """A rebalance of a stored portfolio, planned at ``ts`` (naive UTC).

    weights, targets : symbol → fraction of equity (targets after any drawdown scaling)
    held : symbol → quantity when planned (execution refuses if it changed)
    """

    portfolio: str
    ts: datetime
    equity: float
    cash: float
    weights: dict[str, float]
    targets: dict[str, float]
    held: dict[str, float]
    decision: Decision
    orders: OrderPlan
    drawdown_level: str
    volatility: float | None
    last_rebalance: datetime | None
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def plan_id(self) -> str:
        content = json.dumps(
            [self.portfolio, self.ts.isoformat(), self.orders.to_dicts()], sort_keys=True
        )
        return hashlib.sha256(content.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {
            "portfolio": self.portfolio,
            "ts": self.ts,
            "plan_id": self.plan_id,
            **self.decision.to_dict(),
            "orders": self.orders.to_dicts(),
            "total_cost": self.orders.total_cost,
            "equity": self.equity,
            "cash": self.cash,
            "weights": self.weights,
            "targets": self.targets,
            "drawdown_level": self.drawdown_level,
            "volatility": self.volatility,
            "last_rebalance": self.last_rebalance,
            "policy": self.policy,
        }


@dataclass(frozen=True)
class RebalanceExecution:
    """What executing a plan booked; also the payload of its ``rebalance`` audit event.

    Attributes
    ----------
    plan_id : str
        The plan's content id (its trades' order ids derive from it).
    reasons : list of str
        Why it rebalanced (``manual: not due by the policy`` when the policy did not ask).
    drifts : dict of str to float
        Weight minus target by symbol, before the trades.
    orders : list of dict
        The planned orders (:meth:`core.rebalance.OrderPlan.to_dicts`).
    n_orders : int
        How many orders were booked.
    total_cost : float
        Estimated commission and slippage, in the portfolio's currency.
    drawdown_level : str
        The drawdown controller's level when planned.
    volatility : float or None
        Annualised volatility of the equity snapshots when planned.
    fills : list of str
        The fill ids booked, sales first.
    """

    plan_id: str
    reasons: list[str]
    drifts: dict[str, float]
    orders: list[dict[str, Any]]
    n_orders: int
    total_cost: float
    drawdown_level: str
    volatility: float | None
    fills: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The keys of the audit payload, in its order."""
        return {
            "plan_id": self.plan_id,
            "reasons": self.reasons,
            "drifts": self.drifts,
            "orders": self.orders,
            "n_orders": self.n_orders,
            "total_cost": self.total_cost,
            "drawdown_level": self.drawdown_level,
            "volatility": self.volatility,
            "fills": self.fills,
        }


class PortfolioBook(Protocol):
    """What rebalancing reads and books on the portfolios (``PortfolioService`` fits)."""

    def summary(self, name: str) -> PortfolioSummary: ...

    def ledger(self, name: str) -> Any: ...

    def equity_curve(self, name: str) -> pd.DataFrame: ...

    def trade(self, name: str, symbol: str, side: str, quantity: float, price, **options): ...


class PriceReader(Protocol):
    """What rebalancing reads of the market (``MarketDataService`` fits)."""

    def last_prices(self, symbols) -> dict[str, float]: ...

    def instruments(self) -> list: ...


class RebalanceService:
    """Plan, execute and list the rebalances of stored portfolios."""

    def __init__(
        self, portfolios: PortfolioBook, market: PriceReader, sessions: sessionmaker[Session]
    ):
        self._portfolios = portfolios
        self._market = market
        self._sessions = sessions

    def plan(
        self,
        name: str,
        policy: RebalancePolicy | None = None,
        *,
        commission: CommissionModel | None = None,
        slippage: SlippageModel | None = None,
        now: datetime | None = None,
    ) -> PortfolioPlan:
        """Whether ``name`` is due a rebalance by ``policy`` and the orders that would do it.

        Orders are sized on equity less their own estimated cost, so that sales plus cash pay
        for the purchases and their costs. Bars since the last rebalance are business days.
        """
        policy = policy or RebalancePolicy()
        now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        targets = dict(self._portfolios.summary(name).target_weights)
        if not targets:
            raise PortfolioInputError(
                f"portfolio {name!r} has no target weights: set them on the Allocation page",
                "target_weights",
            )
        ledger = self._portfolios.ledger(name)
        held = {p.symbol: p.quantity for p in ledger.open_positions()}
        prices = self._market.last_prices(list(dict.fromkeys([*targets, *held])))
        missing = [s for s in [*targets, *held] if s not in prices]
        if missing:
            raise PortfolioInputError(
                f"no price known for {', '.join(missing)} in {name!r}", "prices"
            )
        equity = ledger.equity(prices)
        if equity <= 0:
            raise PortfolioInputError(f"portfolio {name!r} has no equity to rebalance", "equity")
        weights = {
            p.symbol: p.market_value(prices[p.symbol]) / equity for p in ledger.open_positions()
        }
        level, scale, vol = self._risk_now(name, equity)
        if policy.drawdown_trigger:
            targets = scaled_targets(targets, scale)
        last = self._last_event(name)
        last_ts = None if last is None else last["ts"].to_pydatetime()
        payload = {} if last is None else last["payload"]
        decision = check_rebalance(
            weights,
            targets,
            None if last_ts is None else int(np.busday_count(last_ts.date(), now.date())),
            now,
            last_ts,
            level,
            last_drawdown_level=payload.get("drawdown_level"),
            volatility=vol,
            last_volatility=payload.get("volatility"),
            policy=policy,
        )
        instruments = {i.symbol: i for i in self._market.instruments()}
        args = (held, prices, equity, targets, instruments, commission, slippage)
        orders = rebalance_orders(*args)
        if orders.total_cost:
            orders = rebalance_orders(held, prices, equity - orders.total_cost, *args[3:])
        return PortfolioPlan(
            name,
            now,
            equity,
            ledger.cash,
            weights,
            targets,
            held,
            decision,
            orders,
            level,
            vol,
            last_ts,
            policy.model_dump(),
        )

    def execute(self, name: str, plan: PortfolioPlan, *, actor: str = "user") -> RebalanceExecution:
        """Book ``plan``'s orders (sales first) at their estimated prices and commissions.

        One transaction per trade, then one audited ``rebalance`` event. Repeating a plan
        books nothing twice (each trade's order id derives from the plan).
        """
        if plan.portfolio != name:
            raise PortfolioInputError(
                f"the plan is for {plan.portfolio!r}, not {name!r}", "portfolio"
            )
        if not plan.orders.orders:
            raise PortfolioInputError(f"the plan for {name!r} has no orders to execute", "orders")
        held = {p.symbol: p.quantity for p in self._portfolios.ledger(name).open_positions()}
        if held != plan.held:
            raise PortfolioConflict(
                f"the holdings of {name!r} changed since the plan was made: plan again", "held"
            )
        ordered = sorted(enumerate(plan.orders.orders), key=lambda o: o[1].side != "sell")
        fills = []
        for k, order in ordered:
            result = self._portfolios.trade(
                name,
                order.symbol,
                order.side,
                order.quantity,
                order.est_price,
                commission=order.commission,
                strategy=EVENT,
                client_order_id=f"rb-{plan.plan_id}-{k}",
            )
            fills.append(result.fill_id)
        executed = RebalanceExecution(
            plan_id=plan.plan_id,
            reasons=plan.decision.reasons or ["manual: not due by the policy"],
            drifts=plan.decision.drifts,
            orders=plan.orders.to_dicts(),
            n_orders=len(plan.orders.orders),
            total_cost=plan.orders.total_cost,
            drawdown_level=plan.drawdown_level,
            volatility=plan.volatility,
            fills=fills,
        )
        with self._sessions.begin() as session:
            done = query_events(session, kind=EVENT, portfolio=name, text=plan.plan_id, limit=1)
            if done.empty:
                append_event(session, EVENT, executed.to_dict(), portfolio=name, actor=actor)
        return executed

    def history(self, name: str) -> pd.DataFrame:
        """The portfolio's executed rebalances, newest first, from the audit log."""
        with self._sessions() as session:
            events = query_events(session, kind=EVENT, portfolio=name)
        rows = [
            [
                e.ts,
                e.actor,
                "; ".join(e.payload.get("reasons", [])),
                e.payload.get("n_orders", 0),
                e.payload.get("total_cost", 0.0),
                e.payload.get("drifts", {}),
                e.payload.get("plan_id", ""),
            ]
            for e in events.itertuples()
        ]
        return pd.DataFrame(rows, columns=HISTORY_COLUMNS)

    def _last_event(self, name: str):
        with self._sessions() as session:
            events = query_events(session, kind=EVENT, portfolio=name, limit=1)
        return None if events.empty else events.iloc[0]

    def _risk_now(self, name: str, equity: float) -> tuple[str, float, float | None]:
        """Drawdown level and scale, and the annualised volatility.

        The drawdown is over the equity snapshots plus equity now; the volatility is of the
        last snapshots' returns (None with fewer than 3).
        """
        curve = [*self._portfolios.equity_curve(name)["equity"].tolist(), equity]
        status = drawdown_series(curve).iloc[-1]
        window = np.asarray(curve[-VOL_WINDOW - 1 :], dtype=float)
        vol = None
        if len(window) >= 4 and (window[:-1] > 0).all():
            returns = np.diff(window[:-1]) / window[:-2]  # snapshots only: the last is not a day
            vol = float(returns.std(ddof=1) * math.sqrt(252))
        return str(status["level"]), float(status["scale"]), vol


class HasRebalance(Protocol):
    """Anything that carries a :class:`RebalanceService` as ``rebalance`` (the workstation)."""

    @property
    def rebalance(self) -> RebalanceService: ...


def plan_portfolio_rebalance(
    owner: HasRebalance, name: str, policy: RebalancePolicy | None = None, **options: Any
) -> PortfolioPlan:
    """``owner.rebalance.plan(...)``; see :meth:`RebalanceService.plan`."""
    return owner.rebalance.plan(name, policy, **options)


def execute_plan(
    owner: HasRebalance, name: str, plan: PortfolioPlan, *, actor: str = "user"
) -> RebalanceExecution:
    """``owner.rebalance.execute(...)``; see :meth:`RebalanceService.execute`."""
    return owner.rebalance.execute(name, plan, actor=actor)


def rebalance_history(owner: HasRebalance, name: str) -> pd.DataFrame:
    """``owner.rebalance.history(name)``; see :meth:`RebalanceService.history`."""
    return owner.rebalance.history(name)
