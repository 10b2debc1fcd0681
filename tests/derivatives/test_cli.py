"""``python -m core options|fx|futures``: the JSON contracts, run in-process."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.derivatives import OptionMarket, analyze, bsm, iron_condor

GREEK_KEYS = [
    "price",
    "delta",
    "gamma",
    "theta_per_year",
    "theta_per_day",
    "theta_per_trading_day",
    "vega_per_1",
    "vega_per_1pct",
    "rho_per_1",
    "rho_per_1pct",
]


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_options_price_prints_the_ten_keys(capsys):
    code, out = run(
        capsys, "options", "price", "--type", "call", "--spot", "100", "--strike", "100",
        "--expiry", "1", "--rate", "0.05", "--vol", "0.2",
    )  # fmt: skip
    assert code == 0
    assert list(out) == GREEK_KEYS
    assert out["price"] == pytest.approx(10.450583572185565, abs=1e-12)
    assert out["theta_per_day"] == pytest.approx(out["theta_per_year"] / 365)
    assert out["vega_per_1pct"] == pytest.approx(out["vega_per_1"] / 100)


def test_options_price_with_dividend_and_black76(capsys):
    _, out = run(
        capsys, "options", "price", "--type", "put", "--spot", "95", "--strike", "100",
        "--expiry", "0.5", "--rate", "0.03", "--vol", "0.3", "--dividend", "0.02",
    )  # fmt: skip
    assert out == pytest.approx(bsm("put", 95, 100, 0.5, 0.03, 0.3, 0.02).as_dict())
    _, b76 = run(
        capsys, "options", "price", "--type", "put", "--spot", "95", "--strike", "100",
        "--expiry", "0.5", "--rate", "0.03", "--vol", "0.3", "--model", "black76",
    )  # fmt: skip
    assert b76["price"] == pytest.approx(bsm("put", 95, 100, 0.5, 0.03, 0.3, 0.03).price)


def test_options_iv_and_the_reason_when_there_is_none(capsys):
    code, out = run(
        capsys, "options", "iv", "--type", "call", "--price", "10.450583572185565",
        "--spot", "100", "--strike", "100", "--expiry", "1", "--rate", "0.05",
    )  # fmt: skip
    assert code == 0 and list(out) == ["iv"]
    assert out["iv"] == pytest.approx(0.2, abs=1e-12)
    _, below = run(
        capsys, "options", "iv", "--type", "call", "--price", "1", "--spot", "100",
        "--strike", "50", "--expiry", "1", "--rate", "0.05",
    )  # fmt: skip
    assert below == {"iv": None, "reason": "below intrinsic (no-arbitrage lower bound)"}


def test_options_strategy_matches_the_core_analysis(capsys):
    code, out = run(
        capsys, "options", "strategy", "--kind", "iron-condor", "--strikes", "80,90,110,120",
        "--expiry", "0.5", "--spot", "100", "--vol", "0.25", "--rate", "0.03",
    )  # fmt: skip
    market = OptionMarket(spot=100, vol=0.25, rate=0.03)
    expected = analyze(iron_condor(market, (80, 90, 110, 120), 0.5, multiplier=100), market)
    assert code == 0 and len(out["legs"]) == 4
    assert out["breakevens"] == pytest.approx(list(expected.breakevens))
    assert out["max_loss"] == pytest.approx(expected.max_loss)
    assert out["greeks"]["delta"] == pytest.approx(expected.greeks["delta"])


def test_fx_pip_contract(capsys):
    code, out = run(capsys, "fx", "pip", "--pair", "EUR/USD", "--units", "100000")
    assert code == 0 and (out["pip_size"], out["pip_value"]) == (0.0001, 10.0)
    _, jpy = run(capsys, "fx", "pip", "--pair", "USD/JPY", "--units", "100000", "--price", "150")
    assert jpy["pip_size"] == 0.01 and jpy["pip_value"] == pytest.approx(1000 / 150)
    _, gbp = run(
        capsys, "fx", "pip", "--pair", "EUR/GBP", "--units", "100000", "--account", "USD",
        "--conversion", "1.25",
    )  # fmt: skip
    assert gbp["pip_value"] == pytest.approx(12.5)


def test_fx_size_and_refusals(capsys):
    _, out = run(
        capsys, "fx", "size", "--pair", "EUR/USD", "--equity", "10000", "--risk-pct", "1",
        "--stop-pips", "50",
    )  # fmt: skip
    assert out["units"] == 20_000 and out["lots"] == 0.2
    code, err = run(capsys, "fx", "pip", "--pair", "EUR/GBP", "--units", "100000")
    assert code == 1 and err["error"].startswith("conversion: give USD per GBP")


def test_futures_calc_and_specs(capsys):
    code, out = run(
        capsys, "futures", "calc", "--symbol", "ES", "--contracts", "2", "--entry", "5000",
        "--price", "4910", "--deposit", "30000", "--initial", "12000", "--maintenance", "11000",
    )  # fmt: skip
    assert code == 0
    assert out["tick_value"] == 12.5 and out["pnl"] == -9000.0 and out["ticks"] == -360
    assert out["margin_call"] is True and out["call_amount"] == 3000.0
    _, specs = run(capsys, "futures", "specs")
    mes = next(c for c in specs["contracts"] if c["symbol"] == "MES")
    assert (mes["multiplier"], mes["tick_value"]) == (5.0, 1.25)


def test_bad_option_input_is_a_refusal_not_a_traceback(capsys):
    code, err = run(
        capsys, "options", "price", "--type", "call", "--spot", "100", "--strike", "0",
        "--expiry", "1", "--rate", "0.05", "--vol", "0.2",
    )  # fmt: skip
    assert code == 1 and err["error"] == "strike: must be greater than 0"
