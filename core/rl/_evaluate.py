"""Policies run over a span with the environment's arithmetic, marked at every close.

:func:`run_policy` walks decision bars ``first, first + k, …`` and marks the portfolio at
each close in between, with :func:`~core.rl._env.trade_step`'s formulas: every policy (PPO
and the baselines) meets the same costs, fills and rebalance frequency. :func:`baselines`
gives equal weight, minimum variance and maximum Sharpe (``core.allocation``, fitted on the
training span alone) and buy-and-hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.allocation import AllocationSpec, allocate
from core.analytics import cagr, max_drawdown, sharpe, sortino, volatility
from core.rl._arith import trade_step
from core.rl._market import RLMarket
from core.rl._settings import EnvSettings

BARS_PER_YEAR = 252

# (bar, held weights at its close) -> target weights (N + 1), or None: do not trade
Decide = Callable[[int, np.ndarray], "np.ndarray | None"]


@dataclass(frozen=True)
class PolicyRun:
    """One policy over one span.

    Attributes
    ----------
    dates : DatetimeIndex of shape (B + 1,), the decision bar's close first
    equity : ndarray of shape (B + 1,), starting at 1
    decisions : DatetimeIndex of shape (D,)
    weights : ndarray of shape (D, N + 1), the targets set at each decision
    turnover : ndarray of shape (D,), one-way turnover of each rebalance
    costs : ndarray of shape (D,), costs paid (fractions of the starting value)
    """

    dates: pd.DatetimeIndex
    equity: np.ndarray
    decisions: pd.DatetimeIndex
    weights: np.ndarray
    turnover: np.ndarray
    costs: np.ndarray

    def metrics(self) -> dict[str, float]:
        """Return, risk and trading figures (annualised with 252 bars a year)."""
        equity = self.equity
        returns = equity[1:] / equity[:-1] - 1.0
        years = max(len(returns) / BARS_PER_YEAR, 1e-12)
        daily = returns.std(ddof=1) if len(returns) > 1 else float("nan")
        return {
            "total_return": float(equity[-1] - 1.0),
            "cagr": float(cagr(equity, BARS_PER_YEAR)),
            "volatility": float(volatility(returns, BARS_PER_YEAR)),
            "sharpe": float(sharpe(returns, BARS_PER_YEAR)),
            "sortino": float(sortino(returns, BARS_PER_YEAR)),
            "max_drawdown": float(max_drawdown(equity)),
            "turnover": float(self.turnover.sum() / years),
            "costs": float(self.costs.sum()),
            "n_rebalances": int((self.turnover > 1e-12).sum()),
            "sharpe_daily": float(returns.mean() / daily) if daily > 0 else float("nan"),
            "bars": len(returns),
        }

    def returns(self) -> np.ndarray:
        return self.equity[1:] / self.equity[:-1] - 1.0


def run_policy(
    market: RLMarket, settings: EnvSettings, decide: Decide, first: int, last: int
) -> PolicyRun:
    """Run ``decide`` from the close of bar ``first`` (all cash, value 1) to ``last``."""
    k, n = settings.rebalance_every, market.n_assets
    held = np.zeros(n + 1)
    held[-1] = 1.0
    value, t = 1.0, first
    equity, decisions, weights, turnovers, costs = [1.0], [], [], [], []
    close, opened = market.close, market.open
    while t < last:
        end = min(t + k, last)
        gap = opened[t + 1] / close[t]
        target = decide(t, held)
        if target is None:  # hold: the drifted weights at the open
            at_open = np.append(held[:-1] * gap, held[-1])
            target = at_open / at_open.sum()
        ride = close[t + 1 : end + 1] / opened[t + 1]
        new_value, held, turnover, cost = trade_step(
            value, held, target, gap, ride[-1], settings.cost_rate
        )
        path = (new_value / (ride[-1] @ target[:-1] + target[-1])) * (
            ride @ target[:-1] + target[-1]
        )
        equity.extend(path.tolist())
        decisions.append(t)
        weights.append(target)
        turnovers.append(turnover)
        costs.append(cost)
        value, t = new_value, end
    return PolicyRun(
        dates=market.index[first : last + 1],
        equity=np.asarray(equity),
        decisions=market.index[decisions],
        weights=np.asarray(weights).reshape(-1, n + 1),
        turnover=np.asarray(turnovers),
        costs=np.asarray(costs),
    )


def fixed_targets(weights: np.ndarray) -> Decide:
    """A policy that trades back to the same ``weights`` (N + 1) at every decision."""
    target = np.asarray(weights, dtype=float)
    return lambda t, held: target


def buy_and_hold(n_assets: int) -> Decide:
    """Equal weight at the first decision, never traded again."""
    first = np.append(np.full(n_assets, 1.0 / n_assets), 0.0)
    state = {"bought": False}

    def decide(t, held):
        if state["bought"]:
            return None
        state["bought"] = True
        return first

    return decide


def fitted_weights(market: RLMarket, method: str, first: int, last: int) -> np.ndarray:
    """``core.allocation`` weights of ``method`` on the closes of bars ``first..last``, + cash 0."""
    prices = pd.DataFrame(
        market.close[first : last + 1], index=market.index[first : last + 1], columns=market.symbols
    )
    result = allocate(prices, AllocationSpec(method=method))
    weights = np.array([result.weights[s] for s in market.symbols])
    weights = np.clip(weights, 0.0, None)
    weights = weights / weights.sum() if weights.sum() > 1 else weights
    return np.append(weights, max(0.0, 1.0 - weights.sum()))


def baselines(market: RLMarket, train: tuple[int, int]) -> dict[str, Callable[[], Decide]]:
    """Baseline policies (fresh for each run), fitted on the ``train`` bars only."""
    n = market.n_assets
    equal = np.append(np.full(n, 1.0 / n), 0.0)
    min_var = fitted_weights(market, "min_variance", *train)
    max_sharpe = fitted_weights(market, "max_sharpe", *train)
    return {
        "equal_weight": lambda: fixed_targets(equal),
        "min_variance": lambda: fixed_targets(min_var),
        "max_sharpe": lambda: fixed_targets(max_sharpe),
        "buy_hold": lambda: buy_and_hold(n),
    }
