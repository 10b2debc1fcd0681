import math

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestEngine, MarketFrame
from core.execution import CommissionModel, ExecutionConfig
from core.instruments import Instrument
from core.marketdata import SyntheticMarket, preset
from core.strategies import InvalidParams, get_strategy

EXECUTION = ExecutionConfig(commission=CommissionModel(rate=0.001))
FAST = {"min_train": 300, "refit_every": 150}


def bars(seed: int = 5, n: int = 900) -> pd.DataFrame:
    return SyntheticMarket(preset("equity"), seed=seed).bars("2010-01-04", n)


def run(strategy, frame: pd.DataFrame):
    market = MarketFrame.from_bars({"X": frame})
    engine = BacktestEngine(
        strategy, market, {"X": Instrument(symbol="X")}, cash=100_000.0, execution=EXECUTION
    )
    return engine.run()


def test_without_overrides_it_trades_exactly_like_the_plain_strategy():
    frame = bars()
    wrapped = get_strategy("regime_adaptive")(regime_params="{}", size_scale="{}", **FAST)
    plain = get_strategy("sma_crossover")()
    a, b = run(wrapped, frame), run(plain, frame)
    assert a.trades.closed == b.trades.closed
    np.testing.assert_array_equal(a.equity, b.equity)


def test_changing_data_after_t_changes_nothing_up_to_t():
    frame = bars(seed=8)
    t = 650
    changed = frame.copy()
    shock = np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.04, len(frame) - t - 1)))
    for column in ("open", "high", "low", "close"):
        changed.iloc[t + 1 :, changed.columns.get_loc(column)] *= shock
    strategy = get_strategy("regime_adaptive")
    a, b = run(strategy(**FAST), frame), run(strategy(**FAST), changed)
    before = [x for x in a.broker.executions if x.bar <= t]
    assert before and before == [x for x in b.broker.executions if x.bar <= t]
    np.testing.assert_array_equal(a.equity[: t + 1], b.equity[: t + 1])


def test_size_scale_halves_the_all_in_quantity_once_a_regime_is_known():
    frame = bars(seed=3, n=1200)
    scales = '{"bull": 0.5, "bear": 0.5, "sideways": 0.5, "high_volatility": 0.5}'
    raw = run(get_strategy("regime_adaptive")(regime_params="{}", size_scale=scales, **FAST), frame)
    opening = [x for x in raw.broker.executions if x.bar > FAST["min_train"] + 1]
    checked = 0
    for x in opening:
        held_before = sum(
            (e.quantity if e.side == "buy" else -e.quantity)
            for e in raw.broker.executions
            if e.bar < x.bar
        )
        if held_before != 0 or x.side != "buy":
            continue
        cash_before = raw.cash[x.bar - 1]
        all_in = math.floor(cash_before / (x.price * 1.001) + 1e-9)
        assert x.quantity == math.floor(all_in * 0.5)  # by hand: half the all-in units
        checked += 1
    assert checked >= 1


def test_a_bad_regime_override_is_refused_as_invalid_params():
    strategy = get_strategy("regime_adaptive")(regime_params='{"0": {"fast": 1}}', **FAST)
    with pytest.raises(InvalidParams, match="sma crossover params: fast: Input should be"):
        strategy.on_start(object())
