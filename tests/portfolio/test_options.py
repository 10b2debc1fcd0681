"""Options in portfolios: model marks, portfolio Greeks, expiry settlement, strategy orders.

Expected values come from the Black-Scholes formula written out here with scipy's normal
distribution (r = q = 0), independently of ``core.derivatives``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from core.derivatives import OptionMarket, SmileParams, smile_vol, vertical
from core.instruments import AssetClass, Instrument, OptionRight
from core.instruments import repository as instruments
from core.portfolio import VolSurface
from core.whatif import spot_vol_grid

pytestmark = pytest.mark.both_backends

EXPIRY = date(2021, 3, 19)
CALL = Instrument(
    symbol="XYZ210319C100", asset_class=AssetClass.OPTION, multiplier=100.0, underlying="XYZ",
    strike=100.0, expiry=EXPIRY, option_right=OptionRight.CALL,
)  # fmt: skip
PUT = CALL.model_copy(update={"symbol": "XYZ210319P100", "option_right": OptionRight.PUT})
T0 = datetime(2021, 3, 1, 15)
CLOSES = {"2021-03-01": 100.0, "2021-03-10": 104.0, "2021-03-19": 108.0, "2021-03-22": 109.0}
# a year of seeded history before, so that the risk measures have returns to measure
_DAYS = pd.bdate_range("2020-03-02", "2021-02-26")
HISTORY = dict(
    zip(
        _DAYS.strftime("%Y-%m-%d"),
        100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, len(_DAYS)))),
        strict=True,
    )
)


def bs(right: str, s: float, k: float, t: float, vol: float) -> dict[str, float]:
    """Black-Scholes with r = q = 0: price, delta, gamma, vega per 1 %, theta per day."""
    d1 = (math.log(s / k) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    call = right == "call"
    price = s * norm.cdf(d1) - k * norm.cdf(d2) if call else k * norm.cdf(-d2) - s * norm.cdf(-d1)
    gamma = norm.pdf(d1) / (s * vol * math.sqrt(t))
    return {
        "price": price,
        "delta": norm.cdf(d1) if call else norm.cdf(d1) - 1,
        "gamma": gamma,
        "vega_1pct": s * norm.pdf(d1) * math.sqrt(t) / 100,
        "theta_day": -s * norm.pdf(d1) * vol / (2 * math.sqrt(t)) / 365,
    }


def _bars(ws, symbol: str, closes: dict[str, float]) -> None:
    index = pd.DatetimeIndex(pd.to_datetime(list(closes)), name="timestamp")
    nan = [math.nan] * len(closes)
    frame = {"open": nan, "high": nan, "low": nan, "close": list(closes.values()), "volume": nan}
    ws.market.import_bars(symbol, pd.DataFrame(frame, index=index))


def _setup(ws, cash: float = 100_000.0) -> float:
    """XYZ with bars, the call and put defined, a portfolio that bought 2 calls at 25 % vol."""
    _bars(ws, "XYZ", {**HISTORY, **CLOSES})
    with ws.sessions.begin() as session:
        instruments.upsert(session, CALL)
        instruments.upsert(session, PUT)
    ws.portfolios.create("o", cash, created_at=datetime(2021, 1, 1), allow_short=True)
    premium = round(bs("call", 100.0, 100.0, 18 / 365, 0.25)["price"], 4)
    ws.portfolios.trade("o", CALL.symbol, "buy", 2, premium, ts=T0)
    return premium


def test_the_vol_of_the_last_trade_marks_the_position_by_the_model(ws):
    premium = _setup(ws)
    assert ws.portfolios.ledger("o").options["vols"][CALL.symbol] == pytest.approx(0.25, abs=1e-4)
    [mark] = ws.portfolios.option_marks(ws.portfolios.ledger("o"), "2021-03-10").values()
    assert (mark.source, mark.vol_source, mark.spot) == ("model", "trade", 104.0)
    assert mark.years == pytest.approx(9 / 365)
    expected = bs("call", 104.0, 100.0, 9 / 365, 0.25)["price"]
    assert mark.price == pytest.approx(expected, abs=1e-3)
    summary = ws.portfolios.summary("o", as_of="2021-03-10")
    assert summary.positions_value == pytest.approx(2 * 100 * expected, abs=0.2)
    assert summary.unrealized_pnl == pytest.approx(2 * 100 * (expected - premium), abs=0.2)


def test_a_user_surface_overrides_the_trade_vol_flat_or_smile(ws):
    _setup(ws)
    ws.portfolios.set_vol_surface("o", VolSurface(flat=0.40))
    ledger = ws.portfolios.ledger("o")
    [mark] = ws.portfolios.option_marks(ledger, "2021-03-10").values()
    assert mark.vol_source == "surface" and mark.vol == 0.40
    assert mark.price == pytest.approx(bs("call", 104.0, 100.0, 9 / 365, 0.40)["price"])
    smile = SmileParams(atm_vol=0.3, skew=-0.1, curvature=0.05)
    ws.portfolios.set_vol_surface("o", VolSurface(smile=smile))
    [mark] = ws.portfolios.option_marks(ws.portfolios.ledger("o"), "2021-03-10").values()
    vol = float(smile_vol(smile, 100.0, 104.0, 9 / 365))  # forward = spot at r = 0
    assert mark.vol == pytest.approx(vol)
    assert mark.price == pytest.approx(bs("call", 104.0, 100.0, 9 / 365, vol)["price"])
    assert "vol_surface_set" in list(ws.audit.events(portfolio="o")["kind"])


def test_a_market_price_wins_over_the_model(ws):
    _setup(ws)
    _bars(ws, CALL.symbol, {"2021-03-10": 6.10})
    marks = ws.portfolios.marks(ws.portfolios.ledger("o"), "2021-03-10")
    assert marks[CALL.symbol] == 6.10


def test_portfolio_greeks_in_underlying_shares_and_dollars(ws):
    _setup(ws)
    ws.portfolios.set_vol_surface("o", VolSurface(flat=0.30))
    ws.portfolios.trade("o", "XYZ", "sell", 150, 100.0, ts=datetime(2021, 3, 1, 16))
    ws.portfolios.trade("o", PUT.symbol, "buy", 1, 2.0, ts=datetime(2021, 3, 1, 17))
    report = ws.portfolios.greeks("o", as_of="2021-03-10")
    c, p = bs("call", 104.0, 100.0, 9 / 365, 0.30), bs("put", 104.0, 100.0, 9 / 365, 0.30)
    delta = 2 * 100 * c["delta"] + 100 * p["delta"] - 150
    xyz = report["by_underlying"]["XYZ"]
    assert xyz["delta_shares"] == pytest.approx(delta, rel=1e-6)
    assert xyz["dollar_delta"] == pytest.approx(delta * 104.0, rel=1e-6)
    gamma = (2 * 100 * c["gamma"] + 100 * p["gamma"]) * 104.0**2 * 0.01
    assert xyz["dollar_gamma_1pct"] == pytest.approx(gamma, rel=1e-6)
    # a call and a put of one strike have the same vega: 3 options × 100
    assert xyz["vega_1pct"] == pytest.approx(300 * c["vega_1pct"], rel=1e-6)
    theta = 2 * 100 * c["theta_day"] + 100 * p["theta_day"]  # r = 0: call and put thetas equal
    assert xyz["theta_day"] == pytest.approx(theta, rel=1e-6)
    by_symbol = {r["symbol"]: r for r in report["positions"]}
    assert by_symbol["XYZ"]["delta_shares"] == -150


def test_expiry_settles_at_intrinsic_value_in_one_audited_order(ws):
    premium = _setup(ws)
    ws.portfolios.trade("o", PUT.symbol, "sell", 1, 2.5, ts=datetime(2021, 3, 1, 16))
    cash = ws.portfolios.ledger("o").cash
    before = len(ws.audit.events(portfolio="o"))
    assert ws.portfolios.settle_expiries("o", ts=datetime(2021, 3, 18, 12)) == []  # not yet
    results = ws.portfolios.settle_expiries("o", ts=datetime(2021, 3, 22, 12))
    by_symbol = {r.symbol: r for r in results}
    # XYZ closed at 108 on the expiry day: the call is worth 8, the put 0
    assert by_symbol[CALL.symbol].price == 8.0 and by_symbol[PUT.symbol].price == 0.0
    assert by_symbol[CALL.symbol].realized_pnl == pytest.approx(2 * 100 * (8 - premium))
    assert by_symbol[PUT.symbol].realized_pnl == pytest.approx(1 * 100 * 2.5)  # kept premium
    ledger = ws.portfolios.ledger("o")
    assert ledger.open_positions() == []
    assert ledger.cash == pytest.approx(cash + 2 * 100 * 8)
    kinds = list(ws.audit.events(portfolio="o", newest_first=False)["kind"])[before:]
    assert kinds == ["option_expiry"]
    # the settled history survives the lab format (a trade at 0 for the worthless put)
    document = ws.lab.export_portfolio("o")
    ws.lab.import_portfolio(document.model_dump_json(), name="o2")
    assert ws.portfolios.ledger("o2").cash == pytest.approx(ledger.cash)


def test_a_vertical_is_booked_as_one_multi_leg_order(ws):
    _bars(ws, "XYZ", CLOSES)
    ws.portfolios.create("v", 10_000.0, created_at=datetime(2021, 1, 1), allow_short=True)
    market = OptionMarket(spot=100.0, vol=0.25, rate=0.0)
    spread = vertical(market, "call", 95.0, 105.0, 30 / 365)
    results = ws.portfolios.book_strategy("v", spread, "XYZ", ts=T0)
    assert [(r.symbol, str(r.side)) for r in results] == [
        ("XYZ210331C95", "buy"),
        ("XYZ210331C105", "sell"),
    ]
    debit = (spread.legs[0].premium - spread.legs[1].premium) * 100
    assert ws.portfolios.ledger("v").cash == pytest.approx(10_000 - debit)
    events = ws.audit.events(portfolio="v", kind="multi_leg_order")
    assert len(events) == 1 and len(events.iloc[0]["payload"]["legs"]) == 2
    assert "fill" not in list(ws.audit.events(portfolio="v")["kind"])
    defined = ws.market.instrument("XYZ210331C105")
    assert (defined.strike, defined.option_right, defined.multiplier) == (105.0, "call", 100.0)


def test_risk_report_carries_the_greeks_and_keeps_its_keys(ws):
    _setup(ws)
    report = ws.risk.report("o", n_sims=1_000).to_dict()
    old_keys = ["portfolio", "equity", "cash", "trading_state", "limits", "limit_usage",
                "drawdown", "stress", "as_of", "n_observations", "horizon_days", "var",
                "volatility", "beta", "correlation", "benchmark", "contributions"]  # fmt: skip
    assert [k for k in report if k in old_keys] == old_keys
    assert list(report)[-1] == "greeks"
    expected = ws.portfolios.greeks("o")
    assert report["greeks"]["by_underlying"] == expected["by_underlying"]
    assert set(report["greeks"]["total"]) == {
        "dollar_delta", "dollar_gamma_1pct", "vega_1pct", "theta_day",
    }  # fmt: skip


def test_the_risk_page_shows_the_greeks_panel(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.workstation import Workstation

    url = f"sqlite:///{tmp_path}/page.db"
    page_ws = Workstation.open(url, seed_demo=False)
    try:
        _setup(page_ws)
        expected = page_ws.portfolios.greeks("o")["by_underlying"]["XYZ"]
    finally:
        page_ws.close()
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", url)
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    main = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
    at = AppTest.from_file(main, default_timeout=60).run()
    at.switch_page("../pages/risk.py").run()
    at.selectbox(key="risk_portfolio").set_value("o").run()
    assert not at.exception, at.exception
    shown = next(d.value for d in at.dataframe if "dollar_gamma_1pct" in d.value.columns)
    row = shown.set_index("underlying").loc["XYZ"]
    assert row["delta_shares"] == pytest.approx(expected["delta_shares"])
    assert row["dollar_gamma_1pct"] == pytest.approx(expected["dollar_gamma_1pct"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vega / vol pt"] == f"{expected['vega_1pct']:,.2f}"
    st.cache_resource.clear()


def test_spot_and_vol_shocked_together_reprice_the_options_in_full(ws):
    _setup(ws)  # 2 calls, 25 % vol implied from the trade
    ws.portfolios.trade("o", "XYZ", "sell", 100, 100.0, ts=datetime(2021, 3, 1, 16))
    ws.portfolios.set_vol_surface("o", VolSurface(flat=0.30))
    greeks = ws.portfolios.greeks("o", as_of="2021-03-10")
    positions = greeks["positions"]
    grid = spot_vol_grid(positions, [-0.1, 0.0, 0.1], [0.0, 0.1])
    t = 9 / 365
    now = bs("call", 104.0, 100.0, t, 0.30)["price"]
    for ds in (-0.1, 0.0, 0.1):
        for dv in (0.0, 0.1):
            option = (bs("call", 104.0 * (1 + ds), 100.0, t, 0.30 + dv)["price"] - now) * 200
            stock = -100 * 104.0 * ds
            assert grid.loc[ds, dv] == pytest.approx(option + stock, rel=1e-9, abs=1e-9)
    assert grid.loc[0.0, 0.0] == 0.0
    with pytest.raises(ValueError, match="spot_shocks"):
        spot_vol_grid(positions, [-1.0], [0.0])
