"""The autopilot over history: the same :func:`~core.autopilot.decide` day by day, in memory.

:func:`simulate` walks the index's trading days from ``start`` to ``end``. On each rebalance
day (the config's cadence: every day, the week's or the month's first trading day) it cuts
the data at that day, resolves the models fresh on it (a resolver that retrains does so on
data up to that day only: walk-forward), builds the account view exactly as a run does
(holdings at the day's closes, the peak of earlier rebalance values, the strategy in force)
and books the orders the checks let through in a :class:`core.portfolio.Ledger` at their
estimated prices and commissions — the arithmetic of paper fills. Between rebalances the
holdings are marked at each day's close.

Costs are the config's commission and slippage; metrics are from daily equity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.autopilot._approval import Account
from core.autopilot._config import AutopilotConfig
from core.autopilot._generators import ModelResolver
from core.autopilot._loop import MarketCut, decide
from core.autopilot._rules import Held, RulesTable
from core.errors import InvalidInputError, describe_validation
from core.instruments import Instrument
from core.portfolio import Fill, Ledger, Side
from core.risk import RiskLimits

Progress = Callable[[int, int, str], None]


class BacktestRequest(BaseModel):
    """What ``autopilot backtest`` (and its task) is asked: the span, mock or not, compare."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date
    mock: bool = False
    compare: bool = False  # also the mock run, for "ML vs mock"
    starting_cash: float = Field(100_000.0, gt=0, allow_inf_nan=False)
    account: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> BacktestRequest:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


def backtest_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A task request checked and normalised (refused with ``backtest: ...`` when bad)."""
    try:
        return BacktestRequest.model_validate(dict(request)).model_dump(mode="json")
    except ValidationError as exc:
        raise InvalidInputError(describe_validation(exc, "backtest")) from None


def rebalance_days(days: pd.DatetimeIndex, cadence: str) -> pd.DatetimeIndex:
    """The days of ``days`` a ``cadence`` rebalances on (first of its week or month)."""
    if cadence == "daily":
        return days
    keys = days.to_period("W") if cadence == "weekly" else days.to_period("M")
    first = ~pd.Series(keys, index=days).duplicated().to_numpy()
    return days[first]


@dataclass(frozen=True)
class Simulation:
    """Daily equity, one record per rebalance, and the metrics."""

    equity: pd.Series
    runs: list[dict[str, Any]]
    metrics: dict[str, Any]

    def to_dict(self, *, points: int = 600) -> dict[str, Any]:
        """JSON-ready; the equity thinned to at most ``points`` (the last day kept)."""
        step = max(1, math.ceil(len(self.equity) / points))
        thinned = self.equity.iloc[::step]
        if len(self.equity) and thinned.index[-1] != self.equity.index[-1]:
            thinned = pd.concat([thinned, self.equity.iloc[-1:]])
        return {
            "metrics": self.metrics,
            "equity": [
                {"date": d.date().isoformat(), "value": float(v)} for d, v in thinned.items()
            ],
            "strategies": [
                {"as_of": r["as_of"], "strategy": r["strategy"], "regime": r["regime"]}
                for r in self.runs
            ],
            "runs": self.runs,
        }


def simulate(
    full: MarketCut,
    start,
    end,
    *,
    config: AutopilotConfig,
    rules: RulesTable,
    limits: RiskLimits,
    instruments: Mapping[str, Instrument],
    models: ModelResolver,
    starting_cash: float = 100_000.0,
    cache: MutableMapping | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Simulate the loop from ``start`` to ``end`` on ``full`` (data up to ``end`` at least)."""
    days = full.index_close.loc[pd.Timestamp(start) : pd.Timestamp(end)].index
    if len(days) < 2:
        raise InvalidInputError(f"backtest: fewer than two trading days from {start} to {end}")
    rebalances = set(rebalance_days(days, config.cadence))
    ledger = Ledger(starting_cash, "USD")
    held: Held | None = None
    peak = 0.0
    closes = full.closes.ffill()
    equity, runs = [], []
    for n, day in enumerate(days):
        if day in rebalances:
            run = _rebalance(full.cut(day.date()), ledger, held, peak, config, rules, limits,
                             instruments, models, cache)  # fmt: skip
            held = Held(run["strategy"], pd.Timestamp(run["since"]).date())
            peak = max(peak, run["value_before"], run["value_after"])
            runs.append(run)
            if progress:
                progress(n + 1, len(days), f"{day.date()}: {run['strategy']}")
        marks = closes.loc[day]
        equity.append(
            ledger.cash + sum(p.quantity * marks[p.symbol] for p in ledger.open_positions())
        )
    curve = pd.Series(equity, index=days, name="equity")
    return Simulation(curve, runs, performance(curve, runs))


def _rebalance(cut, ledger, held, peak, config, rules, limits, instruments, models, cache):
    positions = {p.symbol: p.quantity for p in ledger.open_positions()}
    prices = cut.prices()
    account = Account(
        cash=ledger.cash,
        positions=positions,
        prices=prices,
        peak_equity=peak,
        multipliers={s: instruments[s].multiplier for s in prices if s in instruments},
    )
    resolved = models.resolve(cut.as_of, config.universe)
    decision = decide(cut, account, rules, held, resolved, config, limits, instruments, cache=cache)
    for order in sorted(decision.orders, key=lambda o: o.side != "sell"):
        fill = Fill(
            order.symbol, Side(order.side), order.quantity, order.est_price, order.commission
        )
        ledger.apply_fill(fill, instruments[order.symbol])
    payload = decision.to_dict()
    return {
        "as_of": payload["as_of"],
        "strategy": payload["strategy"],
        "since": payload["selection"]["since"],
        "regime": payload["regime"]["label"],
        "confidence": payload["confidence"],
        "status": decision.approval.status if not decision.orders else "executed",
        "target_weights": payload["target_weights"],
        "trades": payload["trades"],
        "fallbacks": payload["proposal"]["fallbacks"],
        "n_buys": payload["n_buys"],
        "n_sells": payload["n_sells"],
        "turnover": payload["turnover"],
        "costs": float(sum(o.est_cost for o in decision.orders)),
        "value_before": payload["value_before"],
        "value_after": payload["value_after"],
    }


def performance(equity: pd.Series, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Total return, CAGR, volatility, Sharpe (rf 0), max drawdown, costs, turnover, choices."""
    returns = equity.pct_change().dropna()
    years = max((equity.index[-1] - equity.index[0]).days / 365.25, 1e-9)
    total = float(equity.iloc[-1] / equity.iloc[0] - 1)
    vol = float(returns.std(ddof=1) * math.sqrt(252)) if len(returns) > 1 else 0.0
    mean = float(returns.mean() * 252) if len(returns) else 0.0
    drawdown = float((1 - equity / equity.cummax()).max())
    counts: dict[str, int] = {}
    for run in runs:
        counts[run["strategy"]] = counts.get(run["strategy"], 0) + 1
    return {
        "start": equity.index[0].date().isoformat(),
        "end": equity.index[-1].date().isoformat(),
        "final_equity": float(equity.iloc[-1]),
        "total_return": total,
        "cagr": float((1 + total) ** (1 / years) - 1) if total > -1 else -1.0,
        "volatility": vol,
        "sharpe": mean / vol if vol > 0 else 0.0,
        "max_drawdown": drawdown,
        "costs": float(sum(r.get("costs", 0.0) for r in runs)),
        "mean_turnover": float(np.mean([r["turnover"] for r in runs])) if runs else 0.0,
        "n_rebalances": len(runs),
        "n_fallbacks": sum(bool(r.get("fallbacks")) for r in runs),
        "strategies": counts,
    }


def index_performance(index_close: pd.Series, start, end) -> dict[str, Any]:
    """Buy and hold of the index over the same span (no costs)."""
    curve = index_close.loc[pd.Timestamp(start) : pd.Timestamp(end)].astype(float)
    return performance(curve / curve.iloc[0] * 100_000.0, [])
