"""Properties of the multi-currency ledger under random deposits, exchanges and fills.

* cash per currency is conserved: each balance is the sum of the flows in that currency
  (an independent shadow book), and a refused operation changes nothing;
* valuation is linear in each exchange rate: scaling one rate by k moves equity by
  (k − 1) × rate × the exposure in that currency;
* total P&L = asset part + FX part, and when rates never moved, the FX part is zero.
"""

from __future__ import annotations

import copy
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.instruments import Instrument
from core.portfolio import Fill, Ledger, LedgerError, Side

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INSTRUMENTS = {
    "AAA": Instrument(symbol="AAA"),
    "SAP": Instrument(symbol="SAP", currency="EUR"),
    "TM": Instrument(symbol="TM", currency="JPY", multiplier=10.0),
}
CURRENCIES = ("USD", "EUR", "JPY")
RATES = {"USD": 1.0, "EUR": 1.1, "JPY": 0.0067}  # USD per unit: the rates that never move
START = 50_000.0

amounts = st.integers(1, 2_000_000).map(lambda c: c / 100)  # 0.01 .. 20,000
rate_moves = st.floats(0.5, 2.0)


@st.composite
def operations(draw):
    kind = draw(st.sampled_from(["deposit", "exchange", "fill", "fill"]))
    if kind == "deposit":
        sign = draw(st.sampled_from([1, 1, -1]))
        return ("deposit", draw(st.sampled_from(CURRENCIES)), sign * draw(amounts))
    if kind == "exchange":
        sell, buy = draw(st.permutations(CURRENCIES))[:2]
        return ("exchange", sell, draw(amounts), buy)
    symbol = draw(st.sampled_from(sorted(INSTRUMENTS)))
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    price = draw(st.integers(100, 50_000)) / 100
    return (
        "fill",
        symbol,
        side,
        float(draw(st.integers(1, 50))),
        price,
        draw(st.sampled_from([0.0, 1.5])),
    )


def _apply(ledger: Ledger, shadow: dict[str, float], op) -> None:
    """Apply ``op`` to the ledger and, when it is accepted, its flows to the shadow."""
    before = copy.deepcopy(ledger)
    try:
        if op[0] == "deposit":
            _, currency, amount = op
            ledger.apply_deposit(amount, currency, RATES[currency])
            shadow[currency] += amount
        elif op[0] == "exchange":
            _, sell, amount, buy = op
            rate = RATES[sell] / RATES[buy]
            ledger.apply_exchange(sell, amount, buy, rate)
            shadow[sell] -= amount
            shadow[buy] += amount * rate
        else:
            _, symbol, side, qty, price, commission = op
            instrument = INSTRUMENTS[symbol]
            ledger.apply_fill(Fill(symbol, side, qty, price, commission), instrument)
            shadow[instrument.currency] -= side.sign * qty * price * instrument.multiplier
            shadow["USD"] -= commission
    except LedgerError:
        assert ledger == before, "a refused operation changed the ledger"


def _exposure(ledger: Ledger, currency: str, marks: dict[str, float]) -> float:
    """Cash plus positions value in ``currency``, in its own units."""
    positions = sum(
        p.quantity * marks[p.symbol] * p.multiplier
        for p in ledger.open_positions()
        if INSTRUMENTS[p.symbol].currency == currency
    )
    return ledger.cash_in(currency) + positions


@SETTINGS
@given(
    margin=st.booleans(),
    ops=st.lists(operations(), max_size=30),
)
def test_cash_per_currency_is_the_sum_of_its_flows(margin, ops):
    ledger = Ledger(START, allow_short=True, allow_margin=margin)
    shadow = {"USD": START, "EUR": 0.0, "JPY": 0.0}
    for op in ops:
        _apply(ledger, shadow, op)
        for currency in CURRENCIES:
            held = ledger.cash_in(currency)
            assert math.isclose(held, shadow[currency], rel_tol=1e-9, abs_tol=1e-6), currency
            if not margin:
                assert held >= -1e-6, (currency, held)


@SETTINGS
@given(
    ops=st.lists(operations(), max_size=30),
    k=rate_moves,
    moved=st.sampled_from(["EUR", "JPY"]),
    eur=rate_moves,
    jpy=rate_moves,
)
def test_equity_is_linear_in_each_rate(ops, k, moved, eur, jpy):
    ledger = Ledger(START, allow_short=True, allow_margin=True)
    shadow = {"USD": START, "EUR": 0.0, "JPY": 0.0}
    for op in ops:
        _apply(ledger, shadow, op)
    marks = {s: 10.0 + i for i, s in enumerate(sorted(INSTRUMENTS))}
    fx = {"EUR": RATES["EUR"] * eur, "JPY": RATES["JPY"] * jpy}
    scaled = {**fx, moved: fx[moved] * k}
    change = ledger.equity(marks, scaled) - ledger.equity(marks, fx)
    expected = (k - 1) * fx[moved] * _exposure(ledger, moved, marks)
    scale = 1e-9 * (START + sum(abs(v) for v in shadow.values()) + 1e6)
    assert math.isclose(change, expected, abs_tol=scale)


@SETTINGS
@given(ops=st.lists(operations(), max_size=30), eur=rate_moves, jpy=rate_moves)
def test_the_split_adds_up_and_unmoved_rates_give_no_fx_pnl(ops, eur, jpy):
    ledger = Ledger(START, allow_short=True, allow_margin=True)
    shadow = {"USD": START, "EUR": 0.0, "JPY": 0.0}
    for op in ops:
        _apply(ledger, shadow, op)
    marks = {s: 20.0 for s in INSTRUMENTS}
    tol = 1e-8 * (START + sum(abs(v) for v in shadow.values()) + 1e6)
    unmoved = ledger.pnl_split(marks, {"EUR": RATES["EUR"], "JPY": RATES["JPY"]})
    assert math.isclose(unmoved["fx"], 0.0, abs_tol=tol)
    moved = ledger.pnl_split(marks, {"EUR": RATES["EUR"] * eur, "JPY": RATES["JPY"] * jpy})
    assert math.isclose(moved["total"], moved["asset"] + moved["fx"], abs_tol=tol)
    equity = ledger.equity(marks, {"EUR": RATES["EUR"] * eur, "JPY": RATES["JPY"] * jpy})
    assert math.isclose(
        moved["total"], equity - ledger.starting_cash - ledger.net_deposits, abs_tol=tol
    )
