"""Backtests: the event engine, the vectorized path, results and their storage."""

from core.backtest._config import BacktestConfig, RiskOverlay
from core.backtest._data import GrowingMarket, MarketFrame
from core.backtest._engine import BacktestEngine, RawRun, StopRequested
from core.backtest._overlay import RiskGate
from core.backtest._result import BacktestResult, build_result
from core.backtest._service import BacktestService, build_strategy
from core.backtest._sweep import SweepPaths, sma_crossover_paths, sma_crossover_sweep
from core.backtest._trades import TradeTracker
from core.backtest._vectorized import run_vectorized

__all__ = [
    "BacktestConfig",
    "BacktestEngine",
    "BacktestResult",
    "BacktestService",
    "GrowingMarket",
    "MarketFrame",
    "RawRun",
    "RiskGate",
    "RiskOverlay",
    "StopRequested",
    "SweepPaths",
    "TradeTracker",
    "build_result",
    "build_strategy",
    "run_vectorized",
    "sma_crossover_paths",
    "sma_crossover_sweep",
]
