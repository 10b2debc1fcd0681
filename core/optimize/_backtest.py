"""Backtests as ``evaluate`` callables: the bridge from the optimisers to :mod:`core.backtest`.

A :class:`BacktestEvaluator` holds a base :class:`~core.backtest.BacktestConfig` and the
market data it was loaded with, and runs one backtest per parameter set (the vectorized path
by default). It can be pickled, so the searches can evaluate in worker processes.

On a *window* of bars ``[start, stop)`` the backtest runs on every bar before ``stop`` (the
strategy warms up on earlier data and may enter a position before the window, as it would
live) and the metrics measure the window only: the equity from the close before ``start``
to the last bar of the window, the trades closed and the fills made in the window and the
position held in it.

The SMA crossover on one instrument with the default execution also evaluates many
parameter sets at once (:meth:`BacktestEvaluator.evaluate_batch`): their fills come from
:func:`core.backtest.sma_crossover_paths`, their metrics from
:func:`~core.optimize._batch_metrics.batch_metrics`, equal to the one-by-one results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from core.analytics import compute_metrics, periods_per_year_for
from core.backtest import (
    BacktestConfig,
    BacktestEngine,
    MarketFrame,
    run_vectorized,
    sma_crossover_paths,
)
from core.errors import InvalidInputError, WorkstationError
from core.instruments import Instrument
from core.optimize._batch_metrics import batch_metrics
from core.optimize._fast_sma import FastRun, FastSmaCrossover, supports
from core.optimize._objective import Objective
from core.strategies import build_strategy, get_strategy, validate_params


class Measured(dict):
    """A metrics dict that carries the equity curve it was measured on.

    ``equity`` has shape ``(n_window + 1,)``; :class:`~core.optimize.Trials` keeps the curves of the
    best trials, so the overfitting guard does not run them again.
    """

    def __init__(self, metrics: dict[str, Any], *, equity: np.ndarray):
        super().__init__(metrics)
        self.equity = equity


BATCH_CELLS = 20_000_000
"""Bars × parameter sets per batch of a search (4,000 sets of 20 years of daily bars, about
a third of a second)."""
METRIC_ROWS = 64
"""Runs measured in one array pass of :meth:`BacktestEvaluator.evaluate_batch` (their
``METRIC_ROWS × n_bars`` curves stay in the processor's cache)."""


@dataclass(frozen=True)
class BacktestEvaluator:
    """``evaluate(params) -> metrics`` of a backtest of ``config`` with other parameters.

    Parameters
    ----------
    config : BacktestConfig
        Strategy, cash, execution, ``periods_per_year`` and ``risk_free``; its ``params``
        are the base the searched parameters are laid over.
    market : MarketFrame
        The bars (e.g. from ``BacktestService.load(config)``).
    instruments : dict of str to Instrument
    vectorized : bool, default True
        Use :func:`core.backtest.run_vectorized` (one instrument, array signals) rather
        than the event engine.
    window : slice, optional
        Bar positions to measure (default all bars).
    fast : bool, default True
        With ``vectorized``, run the SMA crossover through
        :class:`~core.optimize._fast_sma.FastSmaCrossover` when it reproduces the backtest
        exactly (:func:`~core.optimize._fast_sma.supports`); its moving averages are cached
        and shared by the evaluators :meth:`on` derives.
    batch : bool, default True
        With the fast SMA crossover, let searches evaluate in batches
        (:meth:`evaluate_batch`, :attr:`batched`) rather than point by point.
    """

    config: BacktestConfig
    market: MarketFrame
    instruments: dict[str, Instrument]
    vectorized: bool = True
    window: slice | None = None
    fast: bool = True
    batch: bool = True
    simulator: FastSmaCrossover | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        wanted = self.simulator is None and self.fast and self.vectorized
        if wanted and supports(self.config, self.instruments):
            simulator = FastSmaCrossover.for_backtest(self.config, self.market)
            object.__setattr__(self, "simulator", simulator)

    @classmethod
    def from_service(cls, service, config: BacktestConfig, **options: Any) -> BacktestEvaluator:
        """An evaluator on the data ``service`` (a ``BacktestService``) loads for ``config``."""
        market, instruments = service.load(config)
        return cls(config, market, instruments, **options)

    @cached_property
    def periods_per_year(self) -> float:
        return float(self.config.periods_per_year or periods_per_year_for(self.market.index))

    def on(self, window: slice | None) -> BacktestEvaluator:
        """The same evaluator measuring ``window`` (bar positions)."""
        return replace(self, window=window)

    def __call__(self, params: dict[str, Any]) -> Measured:
        """The metrics of a backtest with ``params`` (keys of ``compute_metrics``).

        Its equity curve is attached (``.equity``) for the searches to keep the best ones.
        """
        metrics, equity = self.run(params)
        return Measured(metrics, equity=equity.to_numpy(float))

    def run(self, params: dict[str, Any]) -> tuple[dict[str, float | int], pd.Series]:
        """Metrics and equity curve of the measured window.

        Returns
        -------
        metrics : dict
        equity : Series of shape (n_window + 1,) or (n_bars,)
            From the close before the window (its opening value) to its last bar; all
            bars when the window starts at bar 0.
        """
        start, stop = self._bounds()
        run = self._simulate(params, stop)
        first = max(start - 1, 0)
        equity = run.equity[first:stop]
        trades = [t for t in run.closed if start <= t[3] < stop]
        fills = [q * p for bar, q, p in run.fills if start <= bar < stop]
        metrics = compute_metrics(
            equity,
            trade_pnls=np.array([t[8] for t in trades], dtype=float),
            position=run.position[start:stop],
            traded_notional=np.array(fills, dtype=float) if fills else None,
            periods_per_year=self.periods_per_year,
            risk_free=self.config.risk_free,
        )
        index = self.market.index[first:stop]
        return metrics, pd.Series(equity, index=index, name="equity")

    @property
    def batch_size(self) -> int:
        """Parameter sets per :meth:`evaluate_batch` call of a search.

        About :data:`BATCH_CELLS` bars in all (a search reads its stop flag between calls).
        """
        return max(1, BATCH_CELLS // max(self.market.n_bars, 1))

    @property
    def batched(self) -> bool:
        """True when :meth:`evaluate_batch` runs many parameter sets in one array pass.

        That is the SMA crossover, through :func:`core.backtest.sma_crossover_paths`.
        """
        return self.batch and self.simulator is not None

    def evaluate_batch(
        self, params: Sequence[dict[str, Any]], *, checked: bool = False
    ) -> list[dict[str, float | int] | Exception]:
        """The metrics of each parameter set, as ``[self(p) for p in params]`` gives them.

        ``checked`` says the caller has validated every complete parameter set with the
        strategy's params model (as a search's feasibility check does), so it is not done
        again.

        With :attr:`batched`, the runs are simulated together and their metrics computed
        by :func:`~core.optimize._batch_metrics.batch_metrics`; otherwise one by one. A
        parameter set whose backtest cannot be measured (its equity falls to zero or below)
        gets the ``ValueError`` the single evaluation raises, in its place.
        """
        if self.simulator is None:
            return [self._outcome(p) for p in params]
        if not params:
            return []
        start, stop = self._bounds()
        paths = self._paths(params, checked)
        size = len(params)
        seen = (paths.bar >= start) & (paths.bar < stop)
        closed = seen & ~np.isnan(paths.pnl_net)
        counts = np.bincount(paths.pair[closed], minlength=size)
        pnls = np.split(paths.pnl_net[closed], np.cumsum(counts)[:-1])
        fills = np.bincount(paths.pair[seen], weights=paths.n_fills[seen], minlength=size)
        notional = np.bincount(paths.pair[seen], weights=paths.notional[seen], minlength=size)
        out: list[Any] = []
        for lo in range(0, size, METRIC_ROWS):
            rows = slice(lo, min(lo + METRIC_ROWS, size))
            equity, qty = paths.curves(rows, stop)
            out.extend(
                self._measure(
                    equity[:, max(start - 1, 0) :],
                    pnls[rows],
                    qty[:, start:],
                    notional[rows],
                    fills[rows],
                )
            )
        return out

    def equity_batch(self, params: Sequence[dict[str, Any]]) -> list[np.ndarray]:
        """The equity curve of the measured window of each parameter set, as :meth:`run` gives it.

        In one array pass with :attr:`batched`.
        """
        if self.simulator is None:
            return [self.run(p)[1].to_numpy(float) for p in params]
        if not params:
            return []
        start, stop = self._bounds()
        equity, _ = self._paths(params).curves(slice(None), stop)
        return list(equity[:, max(start - 1, 0) :])

    def _paths(self, params: Sequence[dict[str, Any]], checked: bool = False):
        """:func:`sma_crossover_paths` of the parameter sets.

        They are validated by the model unless ``checked``.
        """
        cls = get_strategy(self.config.strategy)
        if checked and all(len(p) == len(cls.Params.model_fields) for p in params):
            values = [SimpleNamespace(**p) for p in params]
        else:
            name, base = self.config.strategy, self.config.params
            values = [validate_params(name, {**base, **p}) for p in params]
        sim = self.simulator
        return sma_crossover_paths(
            sim.open,
            sim.close,
            np.array([v.fast for v in values], dtype=np.int64),
            np.array([v.slow for v in values], dtype=np.int64),
            np.array([v.long_short for v in values], dtype=bool),
            cash=sim.cash,
            commission_rate=sim.rate,
            sma=sim.sma,
        )

    def _measure(self, equity, pnls, qty, notional, fills) -> list[Any]:
        """:func:`batch_metrics` of the rows whose equity stays positive.

        The others get the error of a single evaluation.
        """
        good = equity.min(axis=1) > 0
        out: list[Any] = [None] * len(equity)
        for i in np.flatnonzero(~good):
            out[i] = _bad_equity(equity[i])
        rows = np.flatnonzero(good)
        if len(rows) == 0:
            return out
        metrics = batch_metrics(
            equity if len(rows) == len(equity) else equity[rows],
            trade_pnls=[pnls[i] for i in rows],
            position=qty if len(rows) == len(equity) else qty[rows],
            traded_notional=notional[rows],
            n_fills=fills[rows],
            periods_per_year=self.periods_per_year,
            risk_free=self.config.risk_free,
        )
        for i, m in zip(rows, metrics, strict=True):
            out[i] = m
        return out

    def _outcome(self, params: dict[str, Any]) -> dict[str, float | int] | Exception:
        try:
            return self(params)
        except (WorkstationError, ValueError) as error:
            return error

    def evaluate_on(
        self, params: dict[str, Any], window: slice, objective: Objective
    ) -> tuple[float, pd.Series]:
        """``(score, equity)`` on ``window``: the ``evaluate_on`` of a walk-forward run."""
        metrics, equity = self.on(window).run(params)
        return objective(metrics), equity

    def _bounds(self) -> tuple[int, int]:
        window = self.window or slice(None)
        start, stop, _ = window.indices(self.market.n_bars)
        if stop - start < 1 or (start == 0 and stop < 2):
            raise InvalidInputError(f"window {window} has too few bars to measure")
        return start, stop

    def _simulate(self, params: dict[str, Any], stop: int) -> FastRun:
        values = validate_params(self.config.strategy, {**self.config.params, **params})
        if self.simulator is not None:
            return self.simulator.run(values.fast, values.slow, values.long_short, stop)
        strategy = build_strategy(self.config.strategy, values)
        market = _head(self.market, stop)
        options = {"cash": self.config.cash, "execution": self.config.execution}
        if self.vectorized:
            raw = run_vectorized(strategy, market, self.instruments, **options)
        else:
            raw = BacktestEngine(strategy, market, self.instruments, **options).run()
        fills = [(x.bar, x.quantity, x.price) for x in raw.broker.executions]
        return FastRun(raw.equity, raw.position, raw.trades.closed, fills)


def _bad_equity(equity: np.ndarray) -> ValueError:
    """The error ``compute_metrics`` raises for a curve that is not positive throughout."""
    pos = int(np.argmax(~(equity > 0)))
    return ValueError(f"equity must be positive; element {pos} is {equity[pos]}")


def _head(market: MarketFrame, stop: int) -> MarketFrame:
    """The first ``stop`` bars of ``market``."""
    if stop >= market.n_bars:
        return market
    fields = ("open", "high", "low", "close", "volume")
    return replace(
        market, index=market.index[:stop], **{f: getattr(market, f)[:stop] for f in fields}
    )
