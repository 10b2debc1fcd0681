"""The rebalancer strategy: target weights by hand, symbol order, start, synthetic assets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestEngine, MarketFrame
from core.instruments import Instrument
from core.marketdata import SyntheticMarket, preset
from core.strategies import get_strategy


def flat_bars(closes, start=0):
    """o = h = l = c; ``start`` drops the first bars (the instrument starts later)."""
    index = pd.DatetimeIndex(pd.date_range("2024-01-01", periods=len(closes)), name="timestamp")
    frame = pd.DataFrame({c: closes for c in ("open", "high", "low", "close")}, index=index)
    frame["volume"] = 1e6
    return frame.iloc[start:].astype(float)


def rebalance(bars: dict[str, pd.DataFrame], cash=1000.0, **params):
    engine = BacktestEngine(
        get_strategy("rebalancer")(**params),
        MarketFrame.from_bars(bars),
        {s: Instrument(symbol=s) for s in bars},
        cash=cash,
    )
    return engine.run()


def test_rebalancer_by_hand():
    # equal weights, every 2 bars, cash 1000; A: 10, 10, 20, 20, 20; B: 20, 20, 10, 10, 10
    # bar 0: 500 / 10 = 50 A, 500 / 20 = 25 B → filled at bar 1's open; cash 0
    # bar 2: equity 50 × 20 + 25 × 10 = 1250 → A: floor(625 / 20) = 31 (sell 19),
    #        B: floor(625 / 10) = 62 (buy 37); filled at bar 3: cash 380 − 370 = 10
    # bar 4: A 31 and B 62 are already on target → no order
    raw = rebalance(
        {"A": flat_bars([10, 10, 20, 20, 20]), "B": flat_bars([20, 20, 10, 10, 10])}, every=2
    )
    fills = [(x.bar, x.symbol, str(x.side), x.quantity, x.price) for x in raw.broker.executions]
    assert fills == [
        (1, "A", "buy", 50, 10.0),
        (1, "B", "buy", 25, 20.0),
        (3, "A", "sell", 19, 20.0),
        (3, "B", "buy", 37, 10.0),
    ]
    assert [o.created_at for o in raw.broker.orders.values()] == [0, 0, 2, 2]
    assert {o.tag for o in raw.broker.orders.values()} == {"rebalance"}
    assert (raw.ledger.quantity("A"), raw.ledger.quantity("B")) == (31, 62)
    np.testing.assert_allclose(raw.equity, [1000, 1000, 1250, 1250, 1250])
    assert raw.cash[-1] == pytest.approx(10.0)


def test_rebalancer_does_not_depend_on_symbol_order():
    # the same example with B listed first: the bar-3 buy of 37 B needs the A sale's cash
    raw = rebalance(
        {"B": flat_bars([20, 20, 10, 10, 10]), "A": flat_bars([10, 10, 20, 20, 20])}, every=2
    )
    assert (raw.ledger.quantity("A"), raw.ledger.quantity("B")) == (31, 62)


def test_rebalancer_starts_when_every_instrument_has_a_price():
    # B has no bar 0: the schedule starts at bar 1 and repeats every 2 bars (1, 3, 5)
    closes = [10.0] * 7
    raw = rebalance({"A": flat_bars(closes), "B": flat_bars(closes, start=1)}, every=2)
    assert sorted({o.created_at for o in raw.broker.orders.values()}) == [1]
    # 500 / 10 = 50 of each, filled at bar 2; later rebalances find nothing to trade
    assert (raw.ledger.quantity("A"), raw.ledger.quantity("B")) == (50, 50)


def test_rebalancer_on_synthetic_assets_holds_target_weights():
    model = preset("equity")
    a = SyntheticMarket(model, seed=1).bars("2020-01-02", 120)
    b = SyntheticMarket(model, seed=2).bars("2020-01-02", 120)
    raw = rebalance({"A": a, "B": b}, cash=1e6, every=20, weights="A:0.6,B:0.3")
    closes = {"A": a["close"].to_numpy(), "B": b["close"].to_numpy()}
    orders = list(raw.broker.orders.values())
    assert {o.created_at for o in orders} <= set(range(0, 120, 20))
    assert all(str(o.status) == "filled" for o in orders if o.created_at < 119)
    # after each rebalance (filled at the next open) the holdings are floor(w × E_t / close_t)
    quantities = {"A": 0.0, "B": 0.0}
    by_bar = {}
    for x in raw.broker.executions:
        quantities[x.symbol] += x.quantity if str(x.side) == "buy" else -x.quantity
        by_bar[x.bar] = dict(quantities)
    for t in range(0, 119, 20):
        held = by_bar.get(t + 1)
        if held is None:
            continue
        for symbol, weight in (("A", 0.6), ("B", 0.3)):
            assert held[symbol] == math.floor(weight * raw.equity[t] / closes[symbol][t])


def test_rebalancer_refuses_unknown_weights():
    with pytest.raises(ValueError, match="not in the backtest"):
        rebalance({"A": flat_bars([10.0] * 3)}, weights="Z:0.5")


def test_rebalancer_weights_parse_to_a_dict():
    from core.strategies.builtin.rebalancer import parse_weights

    assert parse_weights(" spx:0.5 , ixic:0.25 ") == {"SPX": 0.5, "IXIC": 0.25}
    assert parse_weights("") == {}
