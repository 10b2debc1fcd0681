"""The rebalancer strategy under a drift policy, a calendar schedule and risk triggers."""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest import BacktestEngine
from core.backtest._data import MarketFrame
from core.instruments import Instrument
from core.strategies import get_strategy


def flat_bars(closes, start="2024-01-01", freq="D"):
    index = pd.DatetimeIndex(pd.date_range(start, periods=len(closes), freq=freq), name="timestamp")
    frame = pd.DataFrame({c: closes for c in ("open", "high", "low", "close")}, index=index)
    frame["volume"] = 1e6
    return frame.astype(float)


def run(bars, cash=1000.0, **params):
    engine = BacktestEngine(
        get_strategy("rebalancer")(**params),
        MarketFrame.from_bars(bars),
        {s: Instrument(symbol=s) for s in bars},
        cash=cash,
    )
    raw = engine.run()
    return raw, engine.strategy.rebalance_history_


DRIFTING = {"A": [10, 10, 10, 16, 16, 16], "B": [10, 10, 10, 10, 10, 10]}


def test_drift_band_rebalances_by_hand():
    # bar 0: 500 / 10 = 50 A and 50 B, filled at bar 1's open; cash 0
    # bar 3: A 16 → equity 800 + 500 = 1300, weight of A 800 / 1300 = 61.54 % → +11.54 pp
    #        ≥ 10 pp: A floor(650 / 16) = 40 (sell 10), B floor(650 / 10) = 65 (buy 15)
    # bars 4, 5: A 640 / 1300 = 49.2 %: inside the band
    bars = {s: flat_bars(c) for s, c in DRIFTING.items()}
    raw, history = run(bars, schedule="none", abs_drift=0.10)
    fills = [(x.bar, x.symbol, x.side.value, x.quantity, x.price) for x in raw.broker.executions]
    assert fills == [
        (1, "A", "buy", 50, 10.0),
        (1, "B", "buy", 50, 10.0),
        (4, "A", "sell", 10, 16.0),
        (4, "B", "buy", 15, 10.0),
    ]
    assert [(r.bar, r.n_orders) for r in history] == [(0, 2), (3, 2)]
    assert history[0].reasons == ["initial allocation"]
    assert history[1].reasons == ["drift A +11.54 pp ≥ 10.00 pp", "drift B -11.54 pp ≥ 10.00 pp"]
    assert history[1].drifts == pytest.approx({"A": 800 / 1300 - 0.5, "B": 500 / 1300 - 0.5})
    assert history[1].ts == pd.Timestamp("2024-01-04")
    assert raw.cash[-1] == pytest.approx(10.0)  # 160 from A − 150 for B


def test_minimum_interval_defers_the_drift_rebalance():
    # the band is crossed at bar 3 but 5 bars must pass: the rebalance waits for bar 5
    bars = {s: flat_bars(c) for s, c in DRIFTING.items()}
    _, history = run(bars, schedule="none", abs_drift=0.10, min_interval=5)
    assert [r.bar for r in history] == [0, 5]


def test_default_parameters_keep_the_every_n_bars_schedule():
    bars = {s: flat_bars(c) for s, c in DRIFTING.items()}
    _, history = run(bars, every=2)
    assert [r.bar for r in history] == [0, 2, 4]
    assert history[1].reasons == ["schedule: 2 bars since the last (every 2)"]


def test_monthly_schedule_rebalances_on_the_first_bar_of_a_month():
    # daily bars from 29 January: 1 February is bar 3, 1 March is bar 32
    closes = [10.0] * 40
    bars = {"A": flat_bars(closes, "2024-01-29"), "B": flat_bars(closes, "2024-01-29")}
    _, history = run(bars, schedule="monthly")
    assert [(r.bar, r.reasons) for r in history] == [
        (0, ["initial allocation"]),
        (3, ["schedule: first bar of 2024-02"]),
        (32, ["schedule: first bar of 2024-03"]),
    ]
    assert [r.n_orders for r in history] == [2, 0, 0]  # flat prices: already on target


def test_drawdown_trigger_scales_the_targets():
    # all in A: buy 100 at 10. Bar 2: equity 900, drawdown 10 % → warning (scale 1: no order).
    # Bar 3: equity 750, drawdown 25 % → critical, scale 0.5: hold 375 / 7.5 = 50 → sell 50
    bars = {"A": flat_bars([10, 10, 9, 7.5, 7.5])}
    raw, history = run(bars, weights="A:1", schedule="none", drawdown_trigger=True)
    assert [(r.bar, r.reasons, r.n_orders) for r in history] == [
        (0, ["initial allocation"], 1),
        (2, ["drawdown level normal → warning"], 0),
        (3, ["drawdown level warning → critical"], 1),
    ]
    assert raw.ledger.quantity("A") == 50


def test_volatility_trigger_fires_when_the_bound_is_crossed():
    # equity 1000 at bars 0-3, 1100 at bar 4: returns (0, 0, 0, 0.1), mean 0.025, sample
    # variance (3 × 0.025² + 0.075²) / 3 = 0.0025, std 0.05, × √252 = 79.4 % ≥ 50 % at bar 4;
    # earlier windows are flat (0 %), and at bar 5 it was already above at the last rebalance
    bars = {"A": flat_bars([10, 10, 10, 10, 11, 11])}
    _, history = run(bars, weights="A:1", schedule="none", vol_bound=0.5)
    assert [r.bar for r in history] == [0, 4]
    assert history[1].reasons == ["volatility 79.4% ≥ bound 50.0%"]
