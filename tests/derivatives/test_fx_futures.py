"""Forex and futures calculators against hand-worked figures."""

from __future__ import annotations

import pytest

from core.derivatives import (
    CONTRACTS,
    CurrencyPair,
    futures_pnl,
    futures_spec,
    margin_status,
    pip_value,
    position_size,
)
from core.errors import InvalidInputError, NotFoundError


def test_pip_sizes():
    assert CurrencyPair.parse("EUR/USD").pip_size == 0.0001
    assert CurrencyPair.parse("usdjpy").pip_size == 0.01
    assert CurrencyPair.parse("EUR-JPY").pip_size == 0.01
    assert CurrencyPair.parse("EUR GBP") == CurrencyPair("EUR", "GBP")


def test_eur_usd_pip_value_in_a_usd_account():
    # 100,000 EUR × 0.0001 USD = 10 USD per pip; the account is the quote currency (rate 1)
    v = pip_value("EUR/USD", 100_000, account="USD")
    assert (v.pip_size, v.pip_value_quote, v.conversion, v.pip_value) == (0.0001, 10.0, 1.0, 10.0)


def test_usd_jpy_pip_value_in_a_usd_account():
    # 100,000 USD × 0.01 JPY = 1,000 JPY per pip; at 150.00 JPY per USD that is 6.6667 USD
    v = pip_value("USD/JPY", 100_000, account="USD", price=150.0)
    assert v.pip_value_quote == pytest.approx(1000.0)
    assert v.pip_value == pytest.approx(1000.0 / 150.0)
    same = pip_value("USD/JPY", 100_000, account="USD", conversion=1 / 150.0)
    assert same.pip_value == pytest.approx(6.666666666666667)


def test_eur_gbp_pip_value_in_a_usd_account():
    # 100,000 EUR × 0.0001 GBP = 10 GBP per pip; at GBPUSD 1.25 (USD per GBP) = 12.50 USD
    v = pip_value("EUR/GBP", 100_000, account="USD", conversion=1.25)
    assert v.pip_value_quote == pytest.approx(10.0)
    assert v.pip_value == pytest.approx(12.5)


def test_missing_or_contradictory_conversion_is_refused():
    with pytest.raises(InvalidInputError, match=r"^conversion: give USD per GBP"):
        pip_value("EUR/GBP", 100_000, account="USD")
    with pytest.raises(InvalidInputError, match=r"^conversion: the account is in USD"):
        pip_value("EUR/USD", 100_000, account="USD", conversion=1.1)
    with pytest.raises(InvalidInputError, match=r"^pair:"):
        pip_value("EURO/USD", 1000)
    with pytest.raises(InvalidInputError, match=r"^units:"):
        pip_value("EUR/USD", 0)


def test_position_size_from_stop_and_risk():
    # risk 1 % of 10,000 = 100 USD; a 50-pip stop on EUR/USD costs 50 × 0.0001 = 0.005 USD
    # per unit: 100 / 0.005 = 20,000 units = 0.20 lots, 2 USD per pip
    size = position_size("EUR/USD", equity=10_000, risk_pct=1.0, stop_pips=50)
    assert (size.units, size.lots, size.risk_amount) == (20_000.0, 0.2, 100.0)
    assert size.pip_value == pytest.approx(2.0) and size.risk_at_stop == pytest.approx(100.0)
    # USD/JPY at 150, 2 % of 25,000 = 500 USD over 40 pips: 500 / (40 × 0.01 / 150) units
    # = 187,500 → 1.87 lots rounded down to the micro lot
    jpy = position_size("USD/JPY", 25_000, 2.0, 40, price=150.0)
    assert jpy.lots == 1.87 and jpy.units == 187_000.0
    assert jpy.risk_at_stop == pytest.approx(187_000 * 0.4 / 150) and jpy.risk_at_stop <= 500


def test_es_and_mes_tick_values():
    assert futures_spec("es").tick_value == 12.5
    assert futures_spec("MES").tick_value == 1.25
    assert futures_spec("CL").tick_value == pytest.approx(10.0)
    assert futures_spec("ZN").tick_value == pytest.approx(15.625)
    assert all(spec.tick_value > 0 for spec in CONTRACTS.values())
    with pytest.raises(NotFoundError, match="no futures contract 'XX'"):
        futures_spec("XX")


def test_futures_pnl():
    es = futures_spec("ES")
    assert futures_pnl(es, 5000.0, 5010.25, 2) == pytest.approx(10.25 * 50 * 2)  # 1,025
    assert futures_pnl(es, 5000.0, 5010.0, -3) == -1500.0
    assert futures_pnl(futures_spec("MNQ"), 18000.0, 17950.0, 4) == -400.0


def test_margin_call_arithmetic():
    # 2 ES long at 5,000 with 30,000 posted; initial 12,000 and maintenance 11,000 a contract
    es = futures_spec("ES")
    ok = margin_status(es, 2, 5000.0, 4990.0, 30_000, 12_000, 11_000)
    assert ok.pnl == -1000.0 and ok.equity == 29_000.0 and not ok.margin_call
    assert ok.initial_required == 24_000 and ok.maintenance_required == 22_000
    assert ok.ticks == -40.0 and ok.notional == 2 * 4990 * 50
    # equity hits 22,000 after losing 8,000 = 80 points × 100: the call price is 4,920
    assert ok.call_price == pytest.approx(4920.0)
    called = margin_status(es, 2, 5000.0, 4910.0, 30_000, 12_000, 11_000)
    assert called.equity == 21_000.0 and called.margin_call
    assert called.call_amount == 3000.0  # back to the 24,000 initial requirement
    short = margin_status(es, -2, 5000.0, 5000.0, 30_000, 12_000, 11_000)
    assert short.call_price == pytest.approx(5080.0)
    flat = margin_status(es, 0, 5000.0, 5000.0, 0, 12_000, 11_000)
    assert flat.call_price is None and flat.notional == 0.0 and not flat.margin_call
    with pytest.raises(InvalidInputError, match=r"^maintenance_margin"):
        margin_status(es, 1, 5000.0, 5000.0, 10_000, 10_000, 12_000)
