"""Commission, slippage and sizing, by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from core.backtest import BacktestEngine, MarketFrame
from core.execution import CommissionModel, ExecutionConfig, Sizing, SlippageModel
from core.instruments import Instrument
from core.strategies import Strategy

STOCK = Instrument(symbol="X")


# -- commission ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "quantity", "price", "expected"),
    [
        # percent: 100 × 10 × 0.001 = 1.00
        (CommissionModel(kind="percent", rate=0.001), 100, 10.0, 1.0),
        # … never less than the minimum 5
        (CommissionModel(kind="percent", rate=0.001, minimum=5.0), 100, 10.0, 5.0),
        # … above the minimum: 1000 × 10 × 0.001 = 10
        (CommissionModel(kind="percent", rate=0.001, minimum=5.0), 1000, 10.0, 10.0),
        # per share: 100 × 0.005 = 0.50, whatever the price
        (CommissionModel(kind="per_share", per_share=0.005), 100, 123.0, 0.5),
        (CommissionModel(kind="per_share", per_share=0.005, minimum=1.0), 100, 10.0, 1.0),
        (CommissionModel(kind="per_share", per_share=0.005, minimum=1.0), 1000, 10.0, 5.0),
        # a sale counts its absolute quantity
        (CommissionModel(kind="per_share", per_share=0.005), -100, 10.0, 0.5),
        # fixed per order, whatever the size
        (CommissionModel(kind="fixed", fixed=2.5), 1, 10.0, 2.5),
        (CommissionModel(kind="fixed", fixed=2.5), 10_000, 10.0, 2.5),
        (CommissionModel(kind="fixed", fixed=2.5, minimum=4.0), 10, 10.0, 4.0),
        # no fill, no commission (even with a minimum)
        (CommissionModel(kind="fixed", fixed=2.5, minimum=4.0), 0, 10.0, 0.0),
    ],
)
def test_commission(model, quantity, price, expected):
    assert model.cost(quantity, price) == pytest.approx(expected, abs=1e-12)


def test_percent_commission_counts_the_multiplier():
    # 2 contracts × 100 × multiplier 50 × 0.001 = 10
    assert CommissionModel(rate=0.001).cost(2, 100.0, 50.0) == pytest.approx(10.0)


def test_only_percent_commission_is_reserved_by_the_sizer():
    assert CommissionModel(kind="percent", rate=0.002).notional_rate == 0.002
    assert CommissionModel(kind="per_share", per_share=0.01, rate=0.05).notional_rate == 0.0
    assert CommissionModel(kind="fixed", fixed=1.0).notional_rate == 0.0


def test_cost_models_reject_negative_rates():
    with pytest.raises(ValidationError):
        CommissionModel(rate=-0.001)
    with pytest.raises(ValidationError):
        SlippageModel(bps=-1)


# -- slippage --------------------------------------------------------------------------------------
def test_slippage_in_bps():
    model = SlippageModel(kind="bps", bps=10)
    # 10 bp: a buy at 100 pays 100.10, a sell receives 99.90
    assert model.adjust(100.0, buying=True) == pytest.approx(100.1)
    assert model.adjust(100.0, buying=False) == pytest.approx(99.9)


def test_slippage_as_a_fraction_of_volatility():
    model = SlippageModel(kind="volatility", vol_fraction=0.5)
    # half of a 2 % volatility: ±1 %
    assert model.adjust(50.0, buying=True, volatility=0.02) == pytest.approx(50.5)
    assert model.adjust(50.0, buying=False, volatility=0.02) == pytest.approx(49.5)
    # unknown volatility (too few bars): no slippage
    assert model.adjust(50.0, buying=True, volatility=math.nan) == 50.0


# Closes 100, 102, 101, 103, 102, 104 and lookback 3: at bar 4 the last three returns are
#   101/102 − 1 = −0.0098039, 103/101 − 1 = +0.0198020, 102/103 − 1 = −0.0097087
# mean = 0.00009644; deviations −0.0099004, +0.0197055, −0.0098052
# var (ddof 1) = (9.8018e-5 + 3.88308e-4 + 9.6142e-5) / 2 = 2.91234e-4 → vol = 0.0170656
CLOSES = [100.0, 102.0, 101.0, 103.0, 102.0, 104.0]
OPENS = [100.0, 101.0, 102.0, 101.0, 103.0, 102.0]
RETURNS = [101 / 102 - 1, 103 / 101 - 1, 102 / 103 - 1]
MEAN = sum(RETURNS) / 3
VOL = math.sqrt(sum((r - MEAN) ** 2 for r in RETURNS) / 2)


def test_hand_volatility():
    assert abs(VOL - 0.0170656) < 1e-7
    assert abs(MEAN - 0.00009644) < 1e-8


class BuyAt(Strategy):
    """Buys ``quantity`` (None: go long with the sizer) at the close of bar ``bar``."""

    def __init__(self, bar, quantity=None):
        super().__init__()
        self.bar, self.quantity = bar, quantity

    def on_bar(self, ctx) -> None:
        if ctx.i == self.bar:
            ctx.go_long() if self.quantity is None else ctx.buy(self.quantity)


def run(strategy, *, closes=CLOSES, opens=OPENS, cash=10_000.0, **execution):
    index = pd.DatetimeIndex(pd.date_range("2024-01-01", periods=len(closes)), name="timestamp")
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": [max(o, c) for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) for o, c in zip(opens, closes, strict=True)],
            "close": closes,
            "volume": 1e6,
        },
        index=index,
    )
    market = MarketFrame.from_bars({"X": frame})
    engine = BacktestEngine(
        strategy, market, {"X": STOCK}, cash=cash, execution=ExecutionConfig(**execution)
    )
    return engine.run()


VOL_SLIPPAGE = SlippageModel(kind="volatility", vol_fraction=0.5, lookback=3)


def test_volatility_slippage_in_the_engine_same_close():
    # bar 4's close 102 × (1 + 0.5 × 0.0170656) = 102.87034
    raw = run(BuyAt(4, 10), fill_timing="same_close", slippage=VOL_SLIPPAGE)
    (fill,) = raw.broker.executions
    assert fill.bar == 4
    assert fill.price == pytest.approx(102 * (1 + 0.5 * VOL), rel=1e-12)
    assert fill.price == pytest.approx(102.87034, abs=1e-5)


def test_volatility_slippage_next_open_uses_only_known_closes():
    # signal at bar 4's close, fill at bar 5's open 102: only closes up to bar 4 are known,
    # so the volatility is the same 0.0170656 → 102 × (1 + 0.5 × 0.0170656)
    raw = run(BuyAt(4, 10), fill_timing="next_open", slippage=VOL_SLIPPAGE)
    (fill,) = raw.broker.executions
    assert fill.bar == 5
    assert fill.price == pytest.approx(102 * (1 + 0.5 * VOL), rel=1e-12)


def test_bps_slippage_in_the_engine_on_both_sides():
    # 20 bp: buy at bar 1's open 101 → 101.202; sell at bar 3's open 101 → 100.798
    class RoundTrip(Strategy):
        def on_bar(self, ctx):
            if ctx.i == 0:
                ctx.go_long()
            elif ctx.i == 2:
                ctx.go_flat()

    raw = run(RoundTrip(), slippage=SlippageModel(bps=20), cash=1000.0)
    buy, sell = raw.broker.executions
    assert buy.price == pytest.approx(101.202) and buy.quantity == 9  # floor(1000 / 101.202)
    assert sell.price == pytest.approx(100.798) and sell.quantity == 9


def test_per_share_commission_with_minimum_in_the_engine():
    # 50 shares × 0.005 = 0.25 → minimum 1.00 on the fill at bar 1's open 101
    # cash after: 10 000 − 50 × 101 − 1 = 4949
    raw = run(
        BuyAt(0, 50), commission=CommissionModel(kind="per_share", per_share=0.005, minimum=1)
    )
    (fill,) = raw.broker.executions
    assert (fill.price, fill.commission) == (101.0, 1.0)
    assert raw.cash[1] == pytest.approx(4949.0)


@pytest.mark.parametrize(
    ("commission", "cash"),
    [
        # 10 100 / 101 = 100 shares exactly; + 1.00 fixed > cash → should buy 99 (9999 + 1)
        (CommissionModel(kind="fixed", fixed=1.0), 10_100.0),
        # 100 × 0.01 = 1.00 on top of 10 100 → should buy 99 (9999 + 0.99)
        (CommissionModel(kind="per_share", per_share=0.01), 10_100.0),
        # floor(10 102 / (101 × 1.0001)) = 100 → 10 100 + minimum 5 > 10 102 → should buy 99
        (CommissionModel(kind="percent", rate=0.0001, minimum=5.0), 10_102.0),
    ],
    ids=["fixed", "per_share", "percent-minimum"],
)
def test_all_in_leaves_room_for_any_commission(commission, cash):
    raw = run(BuyAt(0), commission=commission, cash=cash)
    assert [x.quantity for x in raw.broker.executions] == [99]


# -- sizing ----------------------------------------------------------------------------------------
def units(sizing: Sizing, **kwargs) -> float:
    args = {"price": 100.0, "cash": 10_000.0, "equity": 10_000.0, "instrument": STOCK}
    return sizing.units(**{**args, **kwargs})


def test_fixed_sizing():
    assert units(Sizing(method="fixed", quantity=7)) == 7
    # on the quantity step: 7.9 whole shares → 7
    assert units(Sizing(method="fixed", quantity=7.9)) == 7


def test_percent_sizing():
    # 25 % of 10 000 at 50 = 50 units; keeping 1 % commission: 2500 / 50.5 = 49.5 → 49
    assert units(Sizing(method="percent", percent=0.25), price=50.0) == 50
    assert units(Sizing(method="percent", percent=0.25), price=50.0, commission_rate=0.01) == 49


def test_all_in_sizing():
    # floor(1000 / (12.5 × 1.01)) = floor(79.2) = 79
    assert units(Sizing(method="all_in"), price=12.5, cash=1000.0, commission_rate=0.01) == 79
    # exactly affordable: 1000 / 10 = 100 (no float shortfall)
    assert units(Sizing(method="all_in"), price=10.0, cash=1000.0) == 100
    # negative cash buys nothing
    assert units(Sizing(method="all_in"), cash=-5.0) == 0


def test_vol_target_sizing():
    # daily vol 1 % → annual 0.01 × √252 = 0.158745; target 15 % of 10 000 at 100:
    # 1500 / (0.158745 × 100) = 94.49 → 94
    sizing = Sizing(method="vol_target", vol_target=0.15)
    assert units(sizing, volatility=0.01) == 94
    # capped at all-in: cash 5000 buys 50
    assert units(sizing, volatility=0.01, cash=5000.0) == 50
    # unknown or zero volatility: nothing
    assert units(sizing, volatility=math.nan) == 0
    assert units(sizing, volatility=0.0) == 0


def test_kelly_sizing():
    # μ = 0.001, σ = 0.02: Kelly = 0.001 / 0.0004 = 2.5; half-Kelly 1.25
    assert units(Sizing(method="kelly", kelly_fraction=0.5, kelly_cap=2.0), **KELLY) == 125
    # capped at 100 % of equity: 10 000 / 100 = 100
    assert units(Sizing(method="kelly", kelly_fraction=0.5, kelly_cap=1.0), **KELLY) == 100
    # a negative edge is never traded
    negative = {"mean_return": -0.001, "volatility": 0.02}
    assert units(Sizing(method="kelly"), **negative) == 0
    assert units(Sizing(method="kelly"), volatility=math.nan, mean_return=math.nan) == 0


KELLY = {"mean_return": 0.001, "volatility": 0.02}


def test_sizing_follows_the_quantity_step_and_multiplier():
    crypto = Instrument(symbol="BTC", asset_class="crypto", quantity_step=0.001)
    # 1000 / 30 000 = 0.0333… → 0.033
    assert units(Sizing(), price=30_000.0, cash=1000.0, instrument=crypto) == pytest.approx(0.033)
    future = Instrument(symbol="ES", asset_class="future", multiplier=50.0)
    # 100 000 / (4000 × 50) = 0.5 → 0 contracts; 250 000 → 1
    assert units(Sizing(), price=4000.0, cash=100_000.0, instrument=future) == 0
    assert units(Sizing(), price=4000.0, cash=250_000.0, instrument=future) == 1


def test_vol_target_and_kelly_in_the_engine_use_recent_returns():
    # same_close at bar 4 (close 102, equity 10 000, vol 0.0170656, mean 0.00009644):
    # vol target: annual 0.0170656 × √252 = 0.270907; 1500 / (0.270907 × 102) = 54.28 → 54
    # half Kelly: 0.00009644 / 0.0170656² = 0.33114; × 0.5 × 10 000 / 102 = 16.23 → 16
    # (the window is the slippage lookback, 3 returns)
    common = {"fill_timing": "same_close", "slippage": SlippageModel(lookback=3)}
    vol = run(BuyAt(4), sizing=Sizing(method="vol_target", vol_target=0.15), **common)
    kelly = run(BuyAt(4), sizing=Sizing(method="kelly", kelly_fraction=0.5), **common)
    assert [x.quantity for x in vol.broker.executions] == [54]
    assert [x.quantity for x in kelly.broker.executions] == [16]
    assert round(0.15 * 10_000 / (VOL * math.sqrt(252) * 102), 2) == 54.28
    assert round(0.5 * MEAN / VOL**2 * 10_000 / 102, 2) == 16.23
