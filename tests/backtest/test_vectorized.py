"""The vectorized path gives exactly the event engine's trades, fills and equity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestEngine, MarketFrame, run_vectorized
from core.execution import CommissionModel, ExecutionConfig, SlippageModel
from core.instruments import Instrument
from core.marketdata import SyntheticMarket, load_bundled, preset
from core.strategies import get_strategy

CASES = [
    ("sma_crossover", {"fast": 10, "slow": 50}),
    ("sma_crossover", {"fast": 5, "slow": 30, "long_short": True}),
    ("momentum", {"lookback": 20, "threshold": 0.01}),
    ("momentum", {"lookback": 40, "long_short": True}),
    ("mean_reversion", {"lookback": 20, "entry_z": 1.5, "exit_z": 0.25, "long_short": True}),
    ("donchian", {"entry": 20, "exit": 10, "long_short": True}),
    ("rsi_reversal", {"period": 14}),
    ("rsi_reversal", {"period": 7, "long_short": True}),
]
IDS = [f"{name}-{'ls' if p.get('long_short') else 'long'}" for name, p in CASES]
INSTRUMENTS = {"X": Instrument(symbol="X")}


@pytest.fixture(scope="module")
def markets() -> dict[str, MarketFrame]:
    synthetic = SyntheticMarket(preset("equity"), seed=11).bars("2015-01-02", 750)
    return {
        "SPX": MarketFrame.from_bars({"X": load_bundled("SPX")}),
        "synthetic": MarketFrame.from_bars({"X": synthetic}),
    }


def both_paths(name, params, market, execution):
    cls = get_strategy(name)
    event = BacktestEngine(
        cls(**params), market, INSTRUMENTS, cash=100_000.0, execution=execution
    ).run()
    vector = run_vectorized(cls(**params), market, INSTRUMENTS, cash=100_000.0, execution=execution)
    return event, vector


def assert_same(event, vector):
    assert event.trades.closed, "the case should trade"
    assert vector.trades.closed == event.trades.closed
    assert vector.broker.executions == event.broker.executions
    assert vector.equity[-1] == event.equity[-1]
    np.testing.assert_array_equal(vector.equity, event.equity)
    np.testing.assert_array_equal(vector.cash, event.cash)
    np.testing.assert_array_equal(vector.position, event.position)
    pd.testing.assert_frame_equal(
        vector.trades.frame(vector.market.index), event.trades.frame(event.market.index)
    )


@pytest.mark.parametrize("data", ["SPX", "synthetic"])
@pytest.mark.parametrize("timing", ["next_open", "same_close"])
@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_event_and_vectorized_agree(markets, data, timing, name, params):
    execution = ExecutionConfig(
        fill_timing=timing, commission=CommissionModel(kind="percent", rate=0.0005)
    )
    assert_same(*both_paths(name, params, markets[data], execution))


@pytest.mark.parametrize("timing", ["next_open", "same_close"])
def test_agree_with_per_share_commission_and_percent_sizing(markets, timing):
    execution = ExecutionConfig(
        fill_timing=timing,
        commission=CommissionModel(kind="per_share", per_share=0.01, minimum=1.0),
        sizing={"method": "percent", "percent": 0.5},
    )
    event, vector = both_paths(
        "sma_crossover", {"fast": 5, "slow": 30, "long_short": True}, markets["SPX"], execution
    )
    assert_same(event, vector)


@pytest.mark.parametrize("timing", ["next_open", "same_close"])
def test_agree_with_slippage(markets, timing):
    execution = ExecutionConfig(fill_timing=timing, slippage=SlippageModel(kind="bps", bps=5))
    assert_same(*both_paths("sma_crossover", {"fast": 10, "slow": 50}, markets["SPX"], execution))


def test_vectorized_refuses_what_it_cannot_run(markets):
    frame = load_bundled("SPX").iloc[:50]
    two = MarketFrame.from_bars({"A": frame, "B": frame})
    two_instruments = {s: Instrument(symbol=s) for s in "AB"}
    with pytest.raises(ValueError, match="one instrument"):
        run_vectorized(get_strategy("sma_crossover")(), two, two_instruments, cash=1e5)
    with pytest.raises(ValueError, match="cannot state its signals"):
        run_vectorized(get_strategy("rebalancer")(), markets["synthetic"], INSTRUMENTS, cash=1e5)
