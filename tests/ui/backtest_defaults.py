"""The Backtest page's default run, written out by hand for the page tests to compare with."""

from __future__ import annotations

from core.backtest import BacktestConfig
from core.execution import CommissionModel, ExecutionConfig


def page_default_config(**overrides) -> BacktestConfig:
    """What the Backtest page runs with its defaults, written out by hand (SMA 10/50 on SPX
    1999–2018 at 0.1 % commission), with ``overrides``."""
    return BacktestConfig(
        strategy="sma_crossover",
        params={"fast": 10, "slow": 50, "long_short": False},
        symbols=("SPX",),
        start="1999-01-04",
        end="2018-12-31",
        execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
        **overrides,
    )
