"""Backtests: the event engine, the vectorized path, results and their storage."""

from core.backtest._config import BacktestConfig
from core.backtest._data import MarketFrame
from core.backtest._engine import BacktestEngine, RawRun, StopRequested

__all__ = ["BacktestConfig", "BacktestEngine", "MarketFrame", "RawRun", "StopRequested"]
