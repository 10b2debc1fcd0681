"""Multi-currency portfolios: cash per currency, valuation in the base, the P&L split.

Figures are worked out by hand in the comments; FX closes of the bundled (SYNTHETIC) pairs
are read from the raw file with the standard library, independently of the loader.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from datetime import datetime

import pandas as pd
import pytest

from core import config
from core.instruments import AssetClass, Instrument, bundled_instruments, fx_pair
from core.instruments import repository as instruments
from core.portfolio import Fill, Ledger, LedgerError, PortfolioInputError, Side, parse_document

pytestmark = pytest.mark.both_backends  # the service tests run on PostgreSQL too

SAP = Instrument(symbol="SAP", currency="EUR")
TOYOTA = Instrument(symbol="TM7203", currency="JPY")
USD_STOCK = Instrument(symbol="AAA")
BUY, SELL = Side.BUY, Side.SELL


def raw_fx(pair: str, day: str) -> float:
    with gzip.open(config.BUNDLED_MARKET_DIR / "fx_synthetic_close.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            if row["date"] == day:
                return float(row[pair])
    raise KeyError(day)


# -- the ledger --------------------------------------------------------------------------------
def test_a_deposit_in_euros_counts_at_its_rate_and_the_split_is_by_hand():
    ledger = Ledger(100_000.0)
    ledger.apply_deposit(10_000.0, "EUR", 1.10)  # 11,000 USD put in
    ledger.apply_fill(Fill("SAP", BUY, 50, 100.0), SAP)  # 5,000 EUR spent
    assert ledger.cash == 100_000.0
    assert ledger.foreign_cash == {"EUR": 5_000.0}
    assert ledger.net_deposits == pytest.approx(11_000.0)
    fx, marks = {"EUR": 1.20}, {"SAP": 110.0}
    # 100,000 + 5,000 × 1.2 + 50 × 110 × 1.2 = 112,600
    assert ledger.equity(marks, fx) == pytest.approx(112_600.0)
    split = ledger.pnl_split(marks, fx)
    assert split["total"] == pytest.approx(1_600.0)  # 112,600 − 100,000 − 11,000
    assert split["asset"] == pytest.approx(600.0)  # 50 × (110 − 100) EUR × 1.2
    assert split["fx"] == pytest.approx(1_000.0)  # 10,000 EUR × (1.20 − 1.10)


def test_realized_euro_pnl_is_an_asset_gain_and_the_basis_moves_with_the_rate():
    ledger = Ledger(0.0)
    ledger.apply_deposit(1_000.0, "EUR", 1.10)  # invested 1,100 USD
    ledger.apply_fill(Fill("SAP", BUY, 10, 100.0), SAP)
    assert ledger.apply_fill(Fill("SAP", SELL, 10, 110.0), SAP) == pytest.approx(100.0)  # EUR
    assert ledger.foreign_cash["EUR"] == pytest.approx(1_100.0)
    split = ledger.pnl_split({}, {"EUR": 1.30})
    assert split["total"] == pytest.approx(1_100 * 1.30 - 1_100)  # 330
    assert split["asset"] == pytest.approx(100 * 1.30)  # 130
    assert split["fx"] == pytest.approx(1_000 * (1.30 - 1.10))  # 200


def test_costs_of_a_foreign_trade_are_charged_in_the_base_currency():
    ledger = Ledger(1_000.0)
    ledger.apply_deposit(500.0, "EUR", 1.0)
    ledger.apply_fill(Fill("SAP", BUY, 2, 100.0, commission=3.0, fees=1.0), SAP)
    assert ledger.foreign_cash["EUR"] == pytest.approx(300.0)
    assert ledger.cash == pytest.approx(996.0)
    assert ledger.commissions == 3.0 and ledger.fees == 1.0


def test_an_exchange_moves_money_between_currencies_and_deposits_nothing():
    ledger = Ledger(10_000.0)
    bought = ledger.apply_exchange("USD", 1_500.0, "JPY", 150.0)
    assert bought == pytest.approx(225_000.0)
    assert ledger.cash == pytest.approx(8_500.0)
    assert ledger.foreign_cash == {"JPY": pytest.approx(225_000.0)}
    assert ledger.net_deposits == 0.0
    # at the same rate the equity is unchanged: 8,500 + 225,000 / 150
    assert ledger.equity({}, {"JPY": 1 / 150}) == pytest.approx(10_000.0)


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (lambda l: l.apply_exchange("EUR", 1.0, "USD", 1.1), "amount"),  # no EUR held
        (lambda l: l.apply_exchange("USD", 20_000.0, "EUR", 0.9), "amount"),
        (lambda l: l.apply_exchange("USD", 10.0, "USD", 1.0), "buy"),
        (lambda l: l.apply_exchange("USD", 10.0, "EUR", 0.0), "rate"),
        (lambda l: l.apply_exchange("USD", 10.0, "EUR", math.nan), "rate"),
        (lambda l: l.apply_deposit(-5.0, "EUR", 1.1), "amount"),  # withdraw EUR not held
        (lambda l: l.apply_deposit(5.0, "EUR", -1.0), "rate"),
        (lambda l: l.apply_fill(Fill("SAP", BUY, 1, 10.0), SAP), "quantity"),
    ],
)
def test_broken_currency_rules_are_refused_and_change_nothing(action, field):
    ledger = Ledger(10_000.0)
    before = ledger.cash_balances(), ledger.net_deposits
    with pytest.raises(LedgerError) as caught:
        action(ledger)
    assert caught.value.field == field
    assert (ledger.cash_balances(), ledger.net_deposits) == before


def test_valuing_a_currency_without_a_rate_is_refused_never_taken_as_one():
    ledger = Ledger(0.0, allow_margin=True)
    ledger.apply_fill(Fill("SAP", BUY, 1, 100.0), SAP)
    with pytest.raises(LedgerError, match="no EUR/USD exchange rate") as caught:
        ledger.equity({"SAP": 100.0})
    assert caught.value.field == "fx"
    assert ledger.equity({"SAP": 100.0}, {"EUR": 1.1}) == pytest.approx(0.0)  # −100 + 100


def test_a_single_currency_ledger_has_no_fx_pnl():
    ledger = Ledger(1_000.0)
    ledger.apply_fill(Fill("AAA", BUY, 3, 100.0), USD_STOCK)
    split = ledger.pnl_split({"AAA": 120.0})
    assert split["fx"] == pytest.approx(0.0)
    assert split["asset"] == pytest.approx(60.0) == split["total"]


# -- FX pairs and rates ------------------------------------------------------------------------
def test_bundled_pairs_are_forex_instruments_labelled_synthetic():
    pairs = {i.symbol: i for i in bundled_instruments() if i.asset_class is AssetClass.FOREX}
    assert set(pairs) == {"EURUSD", "USDJPY", "GBPUSD", "EURGBP"}
    assert all("SYNTHETIC" in i.name for i in pairs.values())
    assert pairs["EURUSD"].pip_size == 0.0001 and pairs["EURUSD"].currency == "USD"
    assert pairs["USDJPY"].pip_size == 0.01 and pairs["USDJPY"].currency == "JPY"
    assert pairs["EURGBP"].currency == "GBP"
    assert fx_pair("GBPJPY").pip_size == 0.01


def test_the_generator_reproduces_the_bundled_fx_file():
    from scripts.generate_synthetic_fx import generate

    frame = generate()
    on_disk = pd.read_csv(config.BUNDLED_MARKET_DIR / "fx_synthetic_close.csv.gz", index_col=0)
    pd.testing.assert_frame_equal(frame, on_disk, check_names=False)
    # EURGBP is EURUSD / GBPUSD (rounded): no triangular arbitrage in the bundle
    implied = on_disk["EURUSD"] / on_disk["GBPUSD"]
    assert (implied - on_disk["EURGBP"]).abs().max() < 1e-4


def test_rates_direct_inverse_and_through_usd(ws):
    day = "2020-06-01"
    rates = ws.portfolios.fx_rates(_holding(["EUR", "JPY", "GBP"]), day)
    assert rates["EUR"] == pytest.approx(raw_fx("EURUSD", day))
    assert rates["JPY"] == pytest.approx(1 / raw_fx("USDJPY", day))
    assert rates["GBP"] == pytest.approx(raw_fx("GBPUSD", day))
    euro = _holding(["JPY", "USD"], base="EUR")
    in_euros = ws.portfolios.fx_rates(euro, day)
    assert in_euros["USD"] == pytest.approx(1 / raw_fx("EURUSD", day))
    # JPY→EUR: no JPY/EUR pair, so through USD: (1 / USDJPY) × (1 / EURUSD)
    assert in_euros["JPY"] == pytest.approx(1 / raw_fx("USDJPY", day) / raw_fx("EURUSD", day))


def _holding(currencies, base="USD") -> Ledger:
    ledger = Ledger(0.0, base, allow_margin=True)
    for c in currencies:
        ledger.foreign_cash[c] = 1.0
    return ledger


# -- through the service -----------------------------------------------------------------------
T0, T1 = datetime(2020, 6, 1, 15), datetime(2020, 6, 2, 15)


def _define(ws, instrument: Instrument, closes: dict[str, float]) -> None:
    with ws.sessions.begin() as session:
        instruments.upsert(session, instrument)
    index = pd.DatetimeIndex(pd.to_datetime(list(closes)), name="timestamp")
    bars = pd.DataFrame({"close": list(closes.values())}, index=index)
    for column in ("open", "high", "low", "volume"):
        bars[column] = math.nan
    ws.market.import_bars(instrument.symbol, bars[["open", "high", "low", "close", "volume"]])


def _euro_portfolio(ws) -> None:
    _define(ws, SAP, {"2020-06-01": 100.0, "2020-06-02": 110.0})
    ws.portfolios.create("mc", 100_000.0, created_at=datetime(2020, 1, 1))
    ws.portfolios.cash_movement("mc", 10_000.0, currency="EUR", fx_rate=1.10, ts=T0)
    ws.portfolios.trade("mc", "SAP", "buy", 50, 100.0, ts=T0)


def test_summary_values_euro_holdings_at_the_bundled_rate(ws):
    _euro_portfolio(ws)
    summary = ws.portfolios.summary("mc", as_of="2020-06-02")
    rate = raw_fx("EURUSD", "2020-06-02")
    assert summary.cash_by_currency == {"USD": 100_000.0, "EUR": 5_000.0}
    assert summary.cash == pytest.approx(100_000 + 5_000 * rate)
    assert summary.equity == pytest.approx(100_000 + 5_000 * rate + 50 * 110 * rate)
    assert summary.net_deposits == pytest.approx(11_000.0)
    assert summary.asset_pnl == pytest.approx(50 * 10 * rate)
    assert summary.fx_pnl == pytest.approx(10_000 * (rate - 1.10))
    assert summary.net_pnl == pytest.approx(summary.asset_pnl + summary.fx_pnl)
    positions = ws.portfolios.positions("mc", as_of="2020-06-02").set_index("symbol")
    assert positions.loc["SAP", "currency"] == "EUR"
    assert positions.loc["SAP", "market_value"] == pytest.approx(50 * 110 * rate)


def test_a_deposit_without_a_rate_takes_the_fx_close_of_its_day(ws):
    ws.portfolios.create("d", 0.0, created_at=datetime(2020, 1, 1))
    ws.portfolios.cash_movement("d", 1_000.0, currency="GBP", ts=T0)
    assert ws.portfolios.ledger("d").net_deposits == pytest.approx(
        1_000 * raw_fx("GBPUSD", "2020-06-01")
    )


def test_an_exchange_through_the_service_is_one_audited_transaction(ws):
    ws.portfolios.create("x", 10_000.0, created_at=datetime(2020, 1, 1))
    bought = ws.portfolios.exchange("x", "USD", 1_000.0, "EUR", rate=0.8, ts=T0)
    assert bought == pytest.approx(800.0)
    ledger = ws.portfolios.ledger("x")
    assert ledger.cash_balances() == {"USD": 9_000.0, "EUR": pytest.approx(800.0)}
    events = ws.audit.events(portfolio="x", kind="fx_exchange")
    assert len(events) == 1 and events.iloc[0]["payload"]["bought"] == pytest.approx(800.0)
    with pytest.raises(PortfolioInputError, match="amount"):
        ws.portfolios.exchange("x", "EUR", 900.0, "USD", rate=1.25, ts=T1)
    assert ws.portfolios.ledger("x").cash_balances() == ledger.cash_balances()


def test_bad_currency_codes_are_refused(ws):
    ws.portfolios.create("b", 100.0)
    with pytest.raises(PortfolioInputError, match="currency: a currency is a three-letter"):
        ws.portfolios.cash_movement("b", 10.0, currency="EURO")


def test_revalued_history_is_in_the_base_currency(ws):
    _euro_portfolio(ws)
    ws.portfolios.revalue_history("mc", end="2020-06-02")
    curve = ws.portfolios.equity_curve("mc")
    last = curve.iloc[-1]
    rate = raw_fx("EURUSD", "2020-06-02")
    assert last["equity"] == pytest.approx(100_000 + 5_000 * rate + 50 * 110 * rate)


# -- the lab format, version 2 -----------------------------------------------------------------
def test_v2_round_trip_keeps_cash_per_currency_and_the_movements(ws):
    _euro_portfolio(ws)
    ws.portfolios.exchange("mc", "USD", 2_200.0, "EUR", rate=1 / 1.1, ts=T1)
    document = ws.lab.export_portfolio("mc")
    assert document.version == 2
    assert document.foreign_cash == {"EUR": pytest.approx(7_000.0)}
    text = document.model_dump_json()
    ws.lab.import_portfolio(text, name="copy")
    original, copy = ws.portfolios.ledger("mc"), ws.portfolios.ledger("copy")
    assert copy.cash_balances() == pytest.approx(original.cash_balances())
    assert copy.net_deposits == pytest.approx(original.net_deposits)
    again = ws.lab.export_portfolio("copy")
    assert again.cash_movements == document.cash_movements
    assert [m.kind for m in again.cash_movements] == ["deposit", "exchange"]


def test_a_v2_document_whose_foreign_cash_disagrees_with_its_history_is_refused(ws):
    _euro_portfolio(ws)
    data = json.loads(ws.lab.export_portfolio("mc").model_dump_json())
    data["foreign_cash"]["EUR"] = 6_000.0
    with pytest.raises(ValueError, match="foreign_cash.EUR: 6000 stated, 5000 from the trades"):
        ws.lab.import_portfolio(json.dumps(data), name="bad")
    assert "bad" not in ws.portfolios.names()


def test_a_version_1_document_cannot_carry_currencies():
    data = {
        "version": 1,
        "name": "old",
        "starting_cash": 0,
        "cash": 0,
        "created_at": "2020-01-01T00:00:00",
        "foreign_cash": {"EUR": 5.0},
    }
    with pytest.raises(ValueError, match="need version 2"):
        parse_document(json.dumps(data))
    data.pop("foreign_cash")
    assert parse_document(json.dumps(data)).version == 1  # and without them it reads


def test_a_foreign_deposit_in_a_document_needs_its_rate():
    data = {
        "name": "r",
        "starting_cash": 0,
        "cash": 0,
        "created_at": "2020-01-01T00:00:00",
        "trades": [],
        "cash_movements": [
            {"ts": "2020-02-01T00:00:00", "amount": 5.0, "kind": "deposit", "currency": "EUR"}
        ],
    }
    with pytest.raises(
        ValueError, match=r"cash_movements\[0\]: a deposit in EUR needs its fx_rate"
    ):
        parse_document(json.dumps(data))
