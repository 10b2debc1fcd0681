"""The demo portfolio: seeded by hand-checkable rules, deterministic, seeded once."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from sqlalchemy import select, text

from core.db import PortfolioRow
from core.demo import DEMO_NAME
from core.workstation import Workstation

pytestmark = pytest.mark.both_backends  # as in test_service.py, where these tests came from

DEMO_START, DEMO_ROTATION = date(2019, 1, 2), date(2020, 6, 1)
DEMO_INITIAL = ("AAPL", "JNJ", "JPM", "PG", "XOM", "KO")


def demo_by_hand(raw) -> tuple[float, dict[str, int], float]:
    """The demo worked out from its description and the raw CSV: cash, quantities, realized."""
    cash, qty = 1_000_000.0, {}
    budget = 1_000_000.0 / 6 - 1.0
    for symbol in DEMO_INITIAL:
        price = raw.on(symbol, DEMO_START)
        qty[symbol] = math.floor(budget / price)
        cash -= qty[symbol] * price + 1.0
    xom = raw.on("XOM", DEMO_ROTATION)
    realized = qty["XOM"] * (xom - raw.on("XOM", DEMO_START))
    cash += qty.pop("XOM") * xom - 1.0
    msft = raw.on("MSFT", DEMO_ROTATION)
    qty["MSFT"] = math.floor((cash - 1.0) / msft)
    cash -= qty["MSFT"] * msft + 1.0
    return cash, qty, realized


def test_demo_portfolio_is_seeded_with_eight_fills(demo_ws, raw_closes):
    p = demo_ws.portfolios
    assert p.names() == [DEMO_NAME]
    trades = p.trades(DEMO_NAME)
    assert len(trades) == 8
    assert trades["commission"].tolist() == [1.0] * 8
    cash, qty, realized = demo_by_hand(raw_closes)
    ledger = p.ledger(DEMO_NAME)
    assert ledger.cash == pytest.approx(cash, abs=1e-6)
    assert {q.symbol: q.quantity for q in ledger.open_positions()} == qty
    assert ledger.realized_pnl() == pytest.approx(realized)
    assert ledger.commissions == 8.0
    summary = p.summary(DEMO_NAME)
    last = {s: raw_closes.on(s, "2022-12-28") for s in qty}
    assert summary.equity == pytest.approx(cash + sum(q * last[s] for s, q in qty.items()))

    curve = p.equity_curve(DEMO_NAME)
    assert len(curve) == len(raw_closes.days_between(DEMO_START, "2022-12-28"))
    assert curve.index[0] == datetime(2019, 1, 2)
    assert curve["equity"].iloc[0] == pytest.approx(1_000_000 - 6, abs=1e-6)  # bought at close
    for day in ("2020-06-01", "2021-03-01", "2022-12-28"):
        value = sum(q * raw_closes.on(s, day) for s, q in qty.items())
        assert curve.loc[day, "equity"] == pytest.approx(cash + value, rel=1e-12)
    # the Friday before the rotation: the six initial holdings, cash after six buys
    budget = 1_000_000.0 / 6 - 1.0
    initial = {s: math.floor(budget / raw_closes.on(s, DEMO_START)) for s in DEMO_INITIAL}
    cash0 = 1_000_000.0 - sum(q * raw_closes.on(s, DEMO_START) for s, q in initial.items()) - 6
    value = sum(q * raw_closes.on(s, "2020-05-29") for s, q in initial.items())
    assert curve.loc["2020-05-29", "equity"] == pytest.approx(cash0 + value, rel=1e-12)


def _export_without_time(ws: Workstation, name: str) -> dict:
    return ws.export_portfolio(name).model_dump(mode="json", exclude={"exported_at"})


def test_demo_is_deterministic(tmp_path):
    documents = []
    for folder in ("one", "two"):
        ws = Workstation.open(f"sqlite:///{tmp_path}/{folder}.db", seed_demo=True)
        try:
            documents.append(_export_without_time(ws, DEMO_NAME))
        finally:
            ws.close()
    assert documents[0] == documents[1]
    assert len(documents[0]["trades"]) == 8


def test_demo_is_seeded_once_and_not_recreated_after_deletion(db_url):
    ws = Workstation.open(db_url, seed_demo=True)
    ws.close()
    ws = Workstation.open(db_url, seed_demo=True)
    try:
        assert ws.portfolios.names() == [DEMO_NAME]
        assert len(ws.portfolios.trades(DEMO_NAME)) == 8
        ws.portfolios.delete(DEMO_NAME)
    finally:
        ws.close()
    ws = Workstation.open(db_url, seed_demo=True)
    try:
        assert ws.portfolios.names() == []
        with ws.engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM fills")) == 0
            assert connection.scalar(select(PortfolioRow.id).limit(1)) is None
    finally:
        ws.close()
