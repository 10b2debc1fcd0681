"""The Derivatives page: each panel's shown figures equal core.derivatives' for its inputs."""

from __future__ import annotations

import numpy as np
import pytest

from core.derivatives import (
    DAYS_PER_YEAR,
    OptionMarket,
    PricerParams,
    SmileParams,
    analyze,
    black76,
    bsm,
    implied_vol,
    iron_condor,
    smile_vol,
    vertical,
)


@pytest.fixture
def page(app):
    at = app("derivatives")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_pricer_shows_the_core_price_and_greeks(page):
    p = PricerParams()
    g = bsm(p.right, p.spot, p.strike, p.expiry, p.rate, p.vol, p.dividend)
    shown = metrics(page)
    assert shown["Price"] == f"{g.price:,.4f}"
    assert shown["Delta"] == f"{g.delta:.4f}"
    assert shown["Theta / day"] == f"{g.theta_per_day:.4f}"
    assert shown["Vega / 1 %"] == f"{g.vega_per_1pct:.4f}"
    table = page.dataframe[0].value
    assert list(table["greek"]) == list(g.as_dict())
    assert table.set_index("greek").loc["rho_per_1pct", "value"] == f"{g.rho_per_1pct:.6f}"
    assert len(page.get("plotly_chart")) >= 3  # against spot, vol and time


def test_pricer_follows_its_inputs(page):
    page.selectbox(key="dv_pr_right").set_value("put")
    page.number_input(key="dv_pr_strike").set_value(110.0)
    page.number_input(key="dv_pr_expiry_days").set_value(182.0).run()
    assert not page.exception
    g = bsm("put", 100.0, 110.0, 182 / 365, 0.03, 0.2)
    assert metrics(page)["Price"] == f"{g.price:.4f}"
    assert metrics(page)["Gamma"] == f"{g.gamma:.4f}"


def test_pricer_black76_and_implied_vol(page):
    page.selectbox(key="dv_pr_model").set_value("black76").run()
    g = black76("call", 100.0, 100.0, 91 / 365, 0.03, 0.2)
    assert metrics(page)["Price"] == f"{g.price:.4f}"
    page.number_input(key="dv_pr_market").set_value(round(g.price, 4)).run()
    iv = implied_vol("call", round(g.price, 4), 100.0, 100.0, 91 / 365, 0.03, black76=True).iv
    assert metrics(page)["Implied vol"] == f"{iv * 100:.4f} %"
    page.number_input(key="dv_pr_market").set_value(200.0).run()
    assert metrics(page)["Implied vol"] == "—"
    assert any("above the upper bound" in c.value for c in page.caption)


def test_chain_prices_each_strike_at_the_smile(page):
    page.number_input(key="dv_ch_atm_vol").set_value(0.3).run()
    chain = page.dataframe[1].value
    assert list(chain["strike"]) == list(np.arange(80.0, 120.1, 5.0))
    smile = SmileParams(atm_vol=0.3)
    t = 30 / DAYS_PER_YEAR
    forward = 100 * np.exp(0.03 * t)
    vol = chain["vol"] / 100  # the table shows percentages
    np.testing.assert_allclose(vol, smile_vol(smile, chain["strike"], forward, t))
    expected = bsm("call", 100.0, chain["strike"].to_numpy(), t, 0.03, vol.to_numpy())
    np.testing.assert_allclose(chain["call_price"], expected.price, atol=1e-9)
    np.testing.assert_allclose(chain["call_iv"], chain["vol"], atol=1e-7)


def test_strategy_builder_shows_the_core_analysis(page):
    market = OptionMarket()
    a = analyze(vertical(market, "call", 95, 105, 30 / 365, multiplier=100), market)
    shown = metrics(page)
    assert shown["Net debit"] == f"{a.net_premium:,.2f}"
    assert shown["Max profit"] == f"{a.max_profit:,.2f}"
    assert shown["Max loss"] == f"{a.max_loss:,.2f}"
    assert shown["Breakevens"] == f"{a.breakevens[0]:,.2f}"
    page.selectbox(key="dv_st_kind").set_value("iron condor").run()
    condor = analyze(iron_condor(market, (80, 90, 110, 120), 30 / 365, multiplier=100), market)
    shown = metrics(page)
    assert shown["Net credit"] == f"{-condor.net_premium:,.2f}"
    assert shown["Max profit"] == f"{condor.max_profit:,.2f}"
    page.selectbox(key="dv_st_kind").set_value("straddle").run()
    assert metrics(page)["Max profit"] == "unlimited"
    assert any(c.proto.spec for c in page.get("plotly_chart"))


def test_pip_values_for_three_pairs_in_a_usd_account(page):
    assert metrics(page)["Pip value (USD)"] == "10.00"  # EUR/USD, 100,000 units
    page.selectbox(key="dv_fx_pair").set_value("USD/JPY")
    page.number_input(key="dv_fx_px").set_value(150.0).run()
    shown = metrics(page)
    assert shown["Pip size (JPY)"] == "0.01" and shown["Pip value (USD)"] == "6.67"
    assert shown["Pip value (JPY)"] == "1,000.00"
    page.selectbox(key="dv_fx_pair").set_value("EUR/GBP").run()
    page.number_input(key="dv_fx_conv").set_value(1.25).run()
    assert metrics(page)["Pip value (USD)"] == "12.50"


def test_position_sizer(page):
    shown = metrics(page)  # 1 % of 10,000 over 50 pips on EUR/USD
    assert (shown["Lots"], shown["Units"], shown["Loss at stop (USD)"]) == (
        "0.20",
        "20,000",
        "100.00",
    )


def test_futures_calculator_and_margin_call(page):
    shown = metrics(page)
    assert shown["Tick value (USD)"] == "12.50" and shown["P&L (USD)"] == "500.00"  # 10 × 50
    assert shown["Leverage"] == "16.2×"  # 250,500 notional / 15,500 equity
    page.number_input(key="dv_fu_price").set_value(4900.0).run()
    assert metrics(page)["Equity (USD)"] == "10,000.00"  # 15,000 - 100 × 50
    assert any("deposit 2,000.00 USD" in e.value for e in page.error)
    page.selectbox(key="dv_fu_symbol").set_value("MES").run()
    assert metrics(page)["Tick value (USD)"] == "1.25"
