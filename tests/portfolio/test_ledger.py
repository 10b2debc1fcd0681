"""The ledger: hand-worked cases, then invariants over random fill sequences."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.instruments import AssetClass, Instrument, default_instrument
from core.portfolio import Fill, Ledger, LedgerError, Side

STOCK = Instrument(symbol="AAA")
STOCK2 = Instrument(symbol="BBB")
FUTURE = default_instrument("ES", AssetClass.FUTURE)  # multiplier 50
COIN = default_instrument("BTC", AssetClass.CRYPTO)  # quantity step 1e-8
EURO_STOCK = Instrument(symbol="SAP", currency="EUR")
# a multiplier-50 contract that pays its notional (futures settle variation: test_futures.py)
CONTRACT = Instrument(symbol="ESX", asset_class=AssetClass.INDEX, multiplier=50.0)
INSTRUMENTS = {i.symbol: i for i in (STOCK, STOCK2, CONTRACT, COIN)}

BUY, SELL = Side.BUY, Side.SELL


def fill(symbol, side, qty, price, commission=0.0, fees=0.0) -> Fill:
    return Fill(symbol, side, qty, price, commission, fees)


def book(ledger: Ledger, symbol, side, qty, price, commission=0.0, fees=0.0) -> float:
    return ledger.apply_fill(fill(symbol, side, qty, price, commission, fees), INSTRUMENTS[symbol])


def rejected(ledger: Ledger, f: Fill, instrument: Instrument, field: str) -> LedgerError:
    """Assert ``f`` is rejected, naming ``field``, and that the ledger did not change."""
    before = copy.deepcopy(ledger)
    with pytest.raises(LedgerError) as caught:
        ledger.apply_fill(f, instrument)
    assert caught.value.field == field
    assert ledger == before
    return caught.value


# -- hand-worked cases ------------------------------------------------------------------


def test_instrument_fixtures_have_the_expected_conventions():
    assert FUTURE.multiplier == 50.0
    assert COIN.quantity_step == 1e-8


def test_buys_average_the_cost_and_spend_cash():
    ledger = Ledger(starting_cash=100_000.0)
    assert ledger.cash == 100_000.0
    assert book(ledger, "AAA", BUY, 10, 100.0) == 0.0
    assert book(ledger, "AAA", BUY, 10, 110.0) == 0.0
    position = ledger.positions["AAA"]
    assert position.quantity == 20
    assert position.avg_cost == pytest.approx(105.0)  # (10*100 + 10*110) / 20
    assert ledger.cash == pytest.approx(100_000 - 1_000 - 1_100)
    # marked at 120: 20 * 120 = 2,400 of stock; unrealized 20 * (120 - 105) = 300
    marks = {"AAA": 120.0}
    assert ledger.positions_value(marks) == pytest.approx(2_400.0)
    assert ledger.equity(marks) == pytest.approx(97_900 + 2_400)
    assert ledger.unrealized_pnl(marks) == pytest.approx(300.0)
    assert ledger.net_pnl(marks) == pytest.approx(300.0)


def test_partial_close_realizes_price_minus_average_cost():
    ledger = Ledger(starting_cash=100_000.0)
    book(ledger, "AAA", BUY, 10, 100.0)
    book(ledger, "AAA", BUY, 10, 110.0)
    realized = book(ledger, "AAA", SELL, 5, 120.0)
    assert realized == pytest.approx((120 - 105) * 5)  # 75
    position = ledger.positions["AAA"]
    assert position.quantity == 15
    assert position.avg_cost == pytest.approx(105.0)  # unchanged by a reduction
    assert position.realized_pnl == pytest.approx(75.0)
    assert ledger.cash == pytest.approx(100_000 - 2_100 + 600)
    # close the rest at 100: (100 - 105) * 15 = -75; total realized 0
    assert book(ledger, "AAA", SELL, 15, 100.0) == pytest.approx(-75.0)
    assert ledger.quantity("AAA") == 0
    assert ledger.positions["AAA"].avg_cost == 0.0
    assert ledger.realized_pnl() == pytest.approx(0.0)
    assert ledger.open_positions() == []
    assert ledger.cash == pytest.approx(100_000 - 2_100 + 600 + 1_500)


def test_short_then_cover():
    ledger = Ledger(starting_cash=10_000.0, allow_short=True)
    assert book(ledger, "AAA", SELL, 10, 50.0) == 0.0
    assert ledger.quantity("AAA") == -10
    assert ledger.positions["AAA"].avg_cost == pytest.approx(50.0)
    assert ledger.cash == pytest.approx(10_500.0)  # short sale proceeds
    marks = {"AAA": 45.0}
    assert ledger.positions_value(marks) == pytest.approx(-450.0)
    assert ledger.unrealized_pnl(marks) == pytest.approx(50.0)  # -10 * (45 - 50)
    assert ledger.equity(marks) == pytest.approx(10_050.0)
    assert book(ledger, "AAA", BUY, 4, 40.0) == pytest.approx((50 - 40) * 4)  # 40
    assert ledger.quantity("AAA") == -6
    assert ledger.positions["AAA"].avg_cost == pytest.approx(50.0)
    assert book(ledger, "AAA", BUY, 6, 55.0) == pytest.approx((50 - 55) * 6)  # -30
    assert ledger.quantity("AAA") == 0
    assert ledger.realized_pnl() == pytest.approx(10.0)
    assert ledger.cash == pytest.approx(10_000 + 500 - 160 - 330)  # = start + 10


def test_crossing_through_zero_closes_then_opens_at_the_fill_price():
    ledger = Ledger(starting_cash=10_000.0, allow_short=True)
    book(ledger, "AAA", BUY, 10, 100.0)
    realized = book(ledger, "AAA", SELL, 15, 120.0)
    assert realized == pytest.approx((120 - 100) * 10)  # only the 10 held are closed
    assert ledger.quantity("AAA") == -5
    assert ledger.positions["AAA"].avg_cost == pytest.approx(120.0)
    # and back through zero: cover 5 at 110 (+50), open 3 long at 110
    realized = book(ledger, "AAA", BUY, 8, 110.0)
    assert realized == pytest.approx((120 - 110) * 5)
    assert ledger.quantity("AAA") == 3
    assert ledger.positions["AAA"].avg_cost == pytest.approx(110.0)
    assert ledger.realized_pnl() == pytest.approx(250.0)
    assert ledger.cash == pytest.approx(10_000 - 1_000 + 1_800 - 880)


def test_crossing_through_zero_is_rejected_without_short_selling():
    ledger = Ledger(starting_cash=10_000.0)
    book(ledger, "AAA", BUY, 10, 100.0)
    rejected(ledger, fill("AAA", SELL, 15, 120.0), STOCK, "quantity")


def test_a_multiplier_scales_cash_value_and_pnl():
    ledger = Ledger(starting_cash=1_000_000.0)
    book(ledger, "ESX", BUY, 2, 4_000.0)
    assert ledger.cash == pytest.approx(1_000_000 - 2 * 4_000 * 50)  # 600,000
    assert book(ledger, "ESX", SELL, 1, 4_010.0) == pytest.approx(1 * 10 * 50)  # 500
    assert ledger.cash == pytest.approx(600_000 + 4_010 * 50)  # 800,500
    marks = {"ESX": 4_020.0}
    assert ledger.positions_value(marks) == pytest.approx(4_020 * 50)
    assert ledger.equity(marks) == pytest.approx(800_500 + 201_000)
    assert ledger.unrealized_pnl(marks) == pytest.approx(20 * 50)
    assert ledger.net_pnl(marks) == pytest.approx(1_500.0)


def test_crypto_fractional_quantity_on_its_step():
    ledger = Ledger(starting_cash=10_000.0)
    book(ledger, "BTC", BUY, 0.12345678, 30_000.0)
    assert ledger.quantity("BTC") == pytest.approx(0.12345678, abs=1e-12)
    assert ledger.cash == pytest.approx(10_000 - 3_703.7034)
    realized = book(ledger, "BTC", SELL, 0.02345678, 31_000.0)
    assert realized == pytest.approx(0.02345678 * 1_000)  # 23.45678
    assert ledger.quantity("BTC") == pytest.approx(0.1, abs=1e-12)
    assert ledger.positions["BTC"].avg_cost == pytest.approx(30_000.0)
    # sell what is left: the float remainder must come out as an exact zero
    book(ledger, "BTC", SELL, 0.1, 30_000.0)
    assert ledger.quantity("BTC") == 0.0
    assert ledger.cash == pytest.approx(10_000 + 23.45678)


@pytest.mark.parametrize(
    ("instrument", "qty"),
    [
        (COIN, 0.123456789),
        (COIN, 1.5e-8),
        (STOCK, 1.5),
        (FUTURE, 0.25),
        (STOCK, 0.0),
        (STOCK, -1.0),
    ],
)
def test_off_step_or_non_positive_quantity_is_rejected(instrument, qty):
    ledger = Ledger(starting_cash=1_000_000.0, allow_short=True, allow_margin=True)
    rejected(ledger, fill(instrument.symbol, BUY, qty, 10.0), instrument, "quantity")


@pytest.mark.parametrize("price", [math.nan, math.inf, -1.0, 0.0])
def test_bad_price_is_rejected(price):
    ledger = Ledger(starting_cash=100_000.0, allow_short=True, allow_margin=True)
    book(ledger, "AAA", BUY, 1, 10.0)
    error = rejected(ledger, fill("AAA", BUY, 1, price), STOCK, "price")
    assert "price" in str(error)


@pytest.mark.parametrize("name", ["commission", "fees"])
@pytest.mark.parametrize("value", [-1.0, math.nan])
def test_bad_commission_or_fees_are_rejected(name, value):
    ledger = Ledger(starting_cash=100_000.0)
    kwargs = {"commission": 0.0, "fees": 0.0, name: value}
    rejected(ledger, fill("AAA", BUY, 1, 10.0, **kwargs), STOCK, name)


def test_selling_more_than_held_long_only_is_rejected_and_changes_nothing():
    ledger = Ledger(starting_cash=10_000.0)
    book(ledger, "AAA", BUY, 10, 100.0)
    error = rejected(ledger, fill("AAA", SELL, 11, 100.0), STOCK, "quantity")
    assert "short" in str(error)
    rejected(ledger, fill("BBB", SELL, 1, 100.0), STOCK2, "quantity")  # nothing held
    assert ledger.quantity("AAA") == 10 and ledger.cash == pytest.approx(9_000.0)


def test_buying_beyond_cash_is_rejected_unless_margin():
    ledger = Ledger(starting_cash=1_000.0)
    error = rejected(ledger, fill("AAA", BUY, 11, 100.0), STOCK, "quantity")
    assert "insufficient cash" in str(error)
    # commissions count too: 10 * 100 + 1 > 1000
    rejected(ledger, fill("AAA", BUY, 10, 100.0, commission=1.0), STOCK, "quantity")
    book(ledger, "AAA", BUY, 10, 100.0)  # exactly the cash
    assert ledger.cash == pytest.approx(0.0)

    margin = Ledger(starting_cash=1_000.0, allow_margin=True)
    book(margin, "AAA", BUY, 11, 100.0)
    assert margin.cash == pytest.approx(-100.0)
    assert margin.equity({"AAA": 100.0}) == pytest.approx(1_000.0)


def test_commission_and_fees_reduce_cash_and_net_pnl():
    ledger = Ledger(starting_cash=100_000.0)
    book(ledger, "AAA", BUY, 10, 100.0, commission=1.0, fees=0.5)
    assert ledger.cash == pytest.approx(100_000 - 1_000 - 1.5)
    assert ledger.commissions == pytest.approx(1.0)
    assert ledger.fees == pytest.approx(0.5)
    realized = book(ledger, "AAA", SELL, 10, 110.0, commission=2.0, fees=0.25)
    assert realized == pytest.approx(100.0)  # realized P&L is gross
    assert ledger.commissions == pytest.approx(3.0)
    assert ledger.fees == pytest.approx(0.75)
    assert ledger.cash == pytest.approx(100_000 + 100 - 3.75)
    assert ledger.net_pnl({}) == pytest.approx(100 - 3.75)


def test_a_foreign_stock_needs_cash_in_its_currency():
    ledger = Ledger(starting_cash=100_000.0)  # USD only: buying a EUR stock needs EUR first
    rejected(ledger, fill("SAP", BUY, 1, 100.0), EURO_STOCK, "quantity")


def test_fill_booked_against_another_instrument_is_rejected():
    ledger = Ledger(starting_cash=100_000.0)
    rejected(ledger, fill("AAA", BUY, 1, 100.0), STOCK2, "symbol")


def test_deposits_and_withdrawals():
    ledger = Ledger(starting_cash=1_000.0)
    ledger.apply_cash(500.0)
    ledger.apply_cash(-1_200.0)
    assert ledger.cash == pytest.approx(300.0)
    assert ledger.net_deposits == pytest.approx(-700.0)
    for amount in (0.0, math.nan, math.inf, -300.01):
        before = copy.deepcopy(ledger)
        with pytest.raises(LedgerError) as caught:
            ledger.apply_cash(amount)
        assert caught.value.field == "amount"
        assert ledger == before
    margin = Ledger(starting_cash=1_000.0, allow_margin=True)
    margin.apply_cash(-1_500.0)
    assert margin.cash == pytest.approx(-500.0)


def test_missing_mark_falls_back_to_cost():
    ledger = Ledger(starting_cash=10_000.0)
    book(ledger, "AAA", BUY, 10, 100.0)
    assert ledger.equity({}) == pytest.approx(10_000.0)
    assert ledger.equity({"AAA": math.nan}) == pytest.approx(10_000.0)
    assert ledger.unrealized_pnl({}) == 0.0


# -- properties ------------------------------------------------------------------------------

SYMBOLS = sorted(INSTRUMENTS)
STARTING_CASH = 1_000_000.0
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def quantities(draw, symbol: str) -> float:
    instrument = INSTRUMENTS[symbol]
    if instrument is COIN:
        return draw(st.integers(1, 300_000_000)) * COIN.quantity_step
    if instrument is CONTRACT:
        return float(draw(st.integers(1, 5)))
    return float(draw(st.integers(1, 500)))


prices = st.integers(1, 100_000).map(lambda cents: cents / 100)  # 0.01 .. 1,000


@st.composite
def fill_ops(draw):
    symbol = draw(st.sampled_from(SYMBOLS))
    commission = draw(st.sampled_from([0.0, 0.0, 1.0, 4.95]))
    fees = draw(st.sampled_from([0.0, 0.0, 0.01, 2.5]))
    side = draw(st.sampled_from([BUY, SELL]))
    if draw(st.integers(0, 9)) == 0:  # close whatever is held (exercise exact zeroing)
        return ("close", symbol, None, None, draw(prices), commission, fees)
    return ("fill", symbol, side, draw(quantities(symbol)), draw(prices), commission, fees)


@st.composite
def move_ops(draw):
    return ("move", draw(st.sampled_from(SYMBOLS)), draw(prices))


@st.composite
def bad_fill_ops(draw):
    symbol = draw(st.sampled_from(SYMBOLS))
    kind = draw(st.sampled_from(["price", "quantity"]))
    if kind == "price":
        price = draw(st.sampled_from([0.0, -1.0, -0.01, math.nan, math.inf]))
        return ("bad", symbol, draw(st.sampled_from([BUY, SELL])), 1.0, price, "price")
    step = INSTRUMENTS[symbol].quantity_step
    qty = draw(st.sampled_from([step / 2, step * 1.5, 0.0, -step]))
    return ("bad", symbol, draw(st.sampled_from([BUY, SELL])), qty, 10.0, "quantity")


cash_ops = (
    st.integers(-40_000_000, 40_000_000)
    .filter(lambda c: c != 0)
    .map(lambda cents: ("cash", cents / 100))
)


class Shadow:
    """An independent book of quantities and cash (no cost basis), for comparison."""

    def __init__(self, allow_short: bool, allow_margin: bool):
        self.allow_short, self.allow_margin = allow_short, allow_margin
        self.cash = STARTING_CASH
        self.deposits = 0.0
        self.qty = dict.fromkeys(SYMBOLS, 0.0)
        self.marks: dict[str, float] = {}
        self.scale = STARTING_CASH  # total money that has moved, for tolerances

    def equity(self) -> float:
        return self.cash + sum(
            self.qty[s] * self.marks[s] * INSTRUMENTS[s].multiplier
            for s in SYMBOLS
            if self.qty[s] != 0
        )


def _check_invariants(ledger: Ledger, shadow: Shadow) -> None:
    tol = 1e-9 * shadow.scale + 1e-6
    marks = dict(shadow.marks)
    for symbol in SYMBOLS:
        assert math.isclose(ledger.quantity(symbol), shadow.qty[symbol], abs_tol=1e-9), symbol
    assert math.isclose(ledger.cash, shadow.cash, abs_tol=tol)
    equity = ledger.equity(marks)
    assert math.isclose(equity, shadow.equity(), abs_tol=tol)
    assert math.isclose(
        equity,
        ledger.cash
        + sum(p.quantity * marks[p.symbol] * p.multiplier for p in ledger.open_positions()),
        abs_tol=tol,
    )
    lhs = ledger.realized_pnl() + ledger.unrealized_pnl(marks) - ledger.commissions - ledger.fees
    rhs = equity - ledger.starting_cash - ledger.net_deposits
    assert math.isclose(lhs, rhs, abs_tol=tol), (lhs, rhs)
    assert math.isclose(ledger.net_deposits, shadow.deposits, abs_tol=tol)
    if not ledger.allow_margin:
        assert ledger.cash >= -1e-6
    if not ledger.allow_short:
        assert all(p.quantity >= 0 for p in ledger.positions.values())
    for p in ledger.positions.values():
        if p.quantity == 0:
            assert p.avg_cost == 0.0
        else:
            assert p.avg_cost > 0


def _run(ledger: Ledger, shadow: Shadow, ops) -> None:
    for op in ops:
        before = copy.deepcopy(ledger)
        kind = op[0]
        if kind == "move":
            _, symbol, price = op
            shadow.marks[symbol] = price
            _check_invariants(ledger, shadow)
            continue
        if kind == "bad":
            _, symbol, side, qty, price, field = op
            with pytest.raises(LedgerError) as caught:
                ledger.apply_fill(Fill(symbol, side, qty, price), INSTRUMENTS[symbol])
            assert caught.value.field == field
            assert ledger == before
            continue
        if kind == "cash":
            amount = op[1]
            violates = shadow.cash + amount < -CASH_TOL and not ledger.allow_margin
            near = abs(shadow.cash + amount) < 1e-6 * shadow.scale + 1e-3
            try:
                ledger.apply_cash(amount)
            except LedgerError as exc:
                assert exc.field == "amount"
                assert ledger == before
                assert violates or near
            else:
                assert not violates or near
                shadow.cash += amount
                shadow.deposits += amount
                shadow.scale += abs(amount)
            _check_invariants(ledger, shadow)
            continue
        _, symbol, side, qty, price, commission, fees = op
        instrument = INSTRUMENTS[symbol]
        if kind == "close":
            held = ledger.quantity(symbol)
            if held == 0:
                continue
            side, qty = (SELL if held > 0 else BUY), abs(held)
        signed = side.sign * qty
        notional = qty * price * instrument.multiplier
        after = shadow.qty[symbol] + signed
        cash_after = shadow.cash - side.sign * notional - commission - fees
        short_violation = not ledger.allow_short and after < -instrument.quantity_step * 1e-6
        cash_violation = not ledger.allow_margin and cash_after < -CASH_TOL
        near = abs(cash_after) < 1e-6 * (shadow.scale + notional) + 1e-3
        try:
            ledger.apply_fill(Fill(symbol, side, qty, price, commission, fees), instrument)
        except LedgerError as exc:
            assert ledger == before, "a rejected fill changed the ledger"
            assert exc.field == "quantity"
            assert short_violation or cash_violation or near, exc
        else:
            assert not (short_violation or (cash_violation and not near))
            shadow.qty[symbol] = after if abs(after) > instrument.quantity_step * 1e-6 else 0.0
            shadow.cash = cash_after
            shadow.scale += notional + commission + fees
            shadow.marks[symbol] = price
        shadow.marks.setdefault(symbol, price)
        _check_invariants(ledger, shadow)


CASH_TOL = 1e-6
flags = st.tuples(st.booleans(), st.booleans())


@PROPERTY_SETTINGS
@given(
    flags=flags,
    ops=st.lists(st.one_of(fill_ops(), fill_ops(), move_ops(), bad_fill_ops()), max_size=40),
)
def test_random_fills_keep_equity_and_pnl_identities(flags, ops):
    allow_short, allow_margin = flags
    ledger = Ledger(STARTING_CASH, allow_short=allow_short, allow_margin=allow_margin)
    _run(ledger, Shadow(allow_short, allow_margin), ops)


@PROPERTY_SETTINGS
@given(
    flags=flags,
    ops=st.lists(st.one_of(fill_ops(), fill_ops(), move_ops(), cash_ops), max_size=40),
)
def test_random_fills_with_deposits_and_withdrawals(flags, ops):
    allow_short, allow_margin = flags
    ledger = Ledger(STARTING_CASH, allow_short=allow_short, allow_margin=allow_margin)
    _run(ledger, Shadow(allow_short, allow_margin), ops)


@PROPERTY_SETTINGS
@given(
    ops=st.lists(st.one_of(fill_ops(), move_ops()), max_size=30),
)
def test_long_only_cash_account_never_goes_short_or_negative(ops):
    ledger = Ledger(50_000.0)
    shadow = Shadow(False, False)
    shadow.cash = shadow.scale = 50_000.0
    _run(ledger, shadow, ops)
    assert ledger.cash >= -1e-6
    assert all(p.quantity >= 0 for p in ledger.positions.values())
