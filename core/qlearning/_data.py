"""The trainer's inputs: the split, every bar's state, the sleeves' backtests, the decisions.

Sleeve returns come from each strategy's own run through the backtest engine on the whole
series (costs included, orders filled at the next open), so a strategy is as warmed up at the
test span's start as the ``q_weights`` strategy's copy of it. Decisions are taken every
``rebalance`` bars; phase ``p`` starts at the ``p``-th bar with a state, and only decisions
whose next period ends inside the training span are training experience.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.backtest import BacktestEngine, MarketFrame
from core.errors import InvalidInputError
from core.qlearning._agent import Experience
from core.qlearning._state import StateEncoder, StateTracker
from core.strategies import build_strategy


@dataclass
class SleeveRuns:
    """Each sleeve's equity and |exposure| per bar, shape (k, n_bars)."""

    equity: np.ndarray
    exposure: np.ndarray
    fills: list[list[tuple[int, float]]]  # per sleeve: (bar, |notional|) of each fill


def split_index(index: pd.DatetimeIndex, train_end: str, fraction: float) -> int:
    """Number of training bars: those on or before ``train_end``, else ``fraction`` of all."""
    n = len(index)
    if train_end:
        day = pd.Timestamp(date.fromisoformat(train_end)) + pd.Timedelta(days=1)
        cut = int(index.searchsorted(day.tz_localize(index.tz) if index.tz else day))
    else:
        cut = round(n * fraction)
    if cut < 100 or n - cut < 20:
        raise InvalidInputError(
            f"train end: {cut} training and {n - cut} test bars; need ≥ 100 and ≥ 20",
            field="train_end",
        )
    return cut


def bar_states(closes: np.ndarray, encoder: StateEncoder) -> list[str | None]:
    """The state after each close (the tracker the q_weights strategy runs)."""
    tracker = StateTracker(encoder)
    return [tracker.update(c) for c in closes.tolist()]


def run_sleeves(
    names, params, market: MarketFrame, instruments, *, cash: float, execution
) -> SleeveRuns:
    """Each strategy alone through the backtest engine on all bars."""
    equity, exposure, fills = [], [], []
    for name, p in zip(names, params, strict=True):
        raw = BacktestEngine(
            build_strategy(name, p), market, instruments, cash=cash, execution=execution
        ).run()
        equity.append(raw.equity)
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure.append(np.abs(np.where(raw.equity > 0, raw.position / raw.equity, 0.0)))
        fills.append([(x.bar, abs(x.quantity * x.price)) for x in raw.broker.executions])
    return SleeveRuns(np.array(equity), np.array(exposure), fills)


def experience(
    states: list[str | None], table: list[str], sleeves: SleeveRuns, *, rebalance: int, n_train: int
) -> Experience:
    """The training decisions of every phase (see the module docstring)."""
    known = [t for t, s in enumerate(states) if s is not None]
    if not known:
        raise InvalidInputError("training span: no bar has a state (windows too long?)")
    first = known[0]
    position = {s: i for i, s in enumerate(table)}
    out = Experience([], [], [])
    for phase in range(rebalance):
        bars = np.arange(first + phase, n_train - rebalance, rebalance)
        bars = np.array([t for t in bars if states[t] is not None], dtype=int)
        out.states.append(np.array([position[states[t]] for t in bars], dtype=int))
        start, end = sleeves.equity[:, bars], sleeves.equity[:, bars + rebalance]
        out.returns.append((end / start - 1.0).T if len(bars) else np.zeros((0, len(start))))
        out.exposure.append(sleeves.exposure[:, bars].T)
    return out
