"""Filtering the log and the compliance report of a date range, with hand-counted figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest

from core.audit import (
    append_event,
    compliance_report,
    query_events,
    report_to_csv,
    report_to_json,
)
from core.risk import OrderIntent, PortfolioState, RiskLimits, check_order, record_check

pytestmark = pytest.mark.both_backends


@pytest.fixture
def log(ws):
    with ws.sessions.begin() as s:
        append_event(s, "fill", {"symbol": "AAPL"}, portfolio="A", ts=datetime(2024, 1, 2, 10))
        append_event(s, "fill", {"symbol": "KO"}, portfolio="B", ts=datetime(2024, 1, 3, 23, 59))
        append_event(s, "deposit", {"note": "Bonus"}, portfolio="A", ts=datetime(2024, 1, 4))
        append_event(s, "session_start", {}, actor="paper", ts=datetime(2024, 1, 5))
    return ws


def ids(frame) -> list[str]:
    return [f"{k}:{p}" for k, p in zip(frame["kind"], frame["portfolio"], strict=True)]


def test_filters(log):
    with log.sessions() as s:
        assert ids(query_events(s, kind="fill")) == ["fill:B", "fill:A"]  # newest first
        assert ids(query_events(s, portfolio="A", newest_first=False)) == ["fill:A", "deposit:A"]
        # a date end covers its whole day (23:59 on the 3rd is in)
        assert ids(query_events(s, start="2024-01-03", end=date(2024, 1, 3))) == ["fill:B"]
        assert ids(query_events(s, text="bonus")) == ["deposit:A"]  # payload, any case
        assert ids(query_events(s, text="PAPER")) == ["session_start:None"]  # actor
        assert len(query_events(s, kind=["fill", "deposit"], limit=2)) == 2
        assert query_events(s, kind="nothing").empty


def test_bad_dates_are_named(log):
    with log.sessions() as s:
        with pytest.raises(ValueError, match="start must be a date"):
            query_events(s, start="yesterday")
        with pytest.raises(ValueError, match="is after end"):
            query_events(s, start="2024-02-01", end="2024-01-01")


@pytest.fixture
def traded(ws):
    p = ws.portfolios
    p.create("P", 100_000.0, created_at=datetime(2020, 1, 1))
    p.trade("P", "AAPL", "buy", 100, 100.0, ts=datetime(2020, 1, 2, 16), client_order_id="1")
    p.trade("P", "AAPL", "sell", 40, 110.0, ts=datetime(2020, 2, 3, 16), client_order_id="2")
    p.trade("P", "KO", "buy", 10, 50.0, ts=datetime(2020, 3, 2, 16), client_order_id="3")
    state = PortfolioState(equity=100_000.0, cash=90_000.0)
    with ws.sessions.begin() as s:
        for qty in (10, 2000):  # 1 % passes; 20 % of equity breaches the 10 % weight limit
            report = check_order(OrderIntent("MSFT", "buy", qty, 10.0), state, RiskLimits())
            record_check(s, "P", report)
    return ws


def test_compliance_report_of_the_fills_period(traded):
    with traded.sessions() as s:
        report = compliance_report(s, "2020-01-01", "2020-02-29")
    assert report["fills"]["count"] == 2
    assert report["fills"]["notional"] == pytest.approx(100 * 100 + 40 * 110)  # 14,400
    # held at the end: 60 AAPL, marked at the last fill price 110
    assert report["largest_positions"] == [
        {"portfolio": "P", "symbol": "AAPL", "quantity": 60, "price": 110.0, "market_value": 6600.0}
    ]
    assert report["n_events"] == 0  # the events were logged today, not in 2020
    assert report["chain"]["ok"]


def test_compliance_report_counts_and_breaches_today(traded):
    today = datetime.now(UTC).date()
    with traded.sessions() as s:
        report = compliance_report(s, "2020-01-01", today, price_at=lambda sym, ts: 120.0)
    assert report["counts_by_kind"] == {"fill": 3, "portfolio_created": 1, "pretrade_check": 2}
    assert report["n_breaches"] == 1 and report["n_blocked"] == 1
    breach = report["breaches"][0]
    assert (breach["symbol"], breach["outcome"]) == ("MSFT", "block")
    assert "max_position_weight" in breach["rules"] and "20.00%" in breach["message"]
    assert report["fills"]["notional"] == pytest.approx(14_400 + 500)
    values = {p["symbol"]: p["market_value"] for p in report["largest_positions"]}
    assert values == {"AAPL": 60 * 120.0, "KO": 10 * 120.0}

    assert json.loads(report_to_json(report))["n_breaches"] == 1
    rows = list(csv.DictReader(io.StringIO(report_to_csv(report))))
    summary = {r["name"]: r["value"] for r in rows if r["section"] == "summary"}
    assert summary["fills"] == "3" and summary["fills_notional"] == "14900.0"
    assert summary["n_breaches"] == "1" and summary["chain_ok"] == "True"
    assert {r["name"]: r["value"] for r in rows if r["section"] == "count"}["fill"] == "3"
    assert [r["name"] for r in rows if r["section"] == "position"] == ["AAPL", "KO"]
    assert [r["value"] for r in rows if r["section"] == "breach"] == ["block"]


def test_report_needs_both_dates(traded):
    with traded.sessions() as s, pytest.raises(ValueError, match="start and an end"):
        compliance_report(s, None, "2020-01-01")


def test_audit_service_reads_what_the_audit_page_shows(ws):
    ws.portfolios.create("A", 1000.0)
    kinds = ws.audit.kinds()
    assert "portfolio_created" in kinds and kinds == sorted(kinds)
    events = ws.audit.events(kind="portfolio_created")
    assert list(events["portfolio"]) == ["A"]
    assert ws.audit.verify().ok
    first = int(events["id"].iloc[0])
    event = ws.audit.event(first)
    assert (event.id, event.kind, event.portfolio) == (first, "portfolio_created", "A")
    assert list(event.to_dict()) == [
        "id",
        "ts",
        "kind",
        "portfolio",
        "actor",
        "payload",
        "prev_hash",
        "hash",
    ]
    assert ws.audit.event(first + 10_000) is None
    from datetime import UTC
    from datetime import datetime as dt

    today = dt.now(UTC).date()  # the log is stamped in UTC
    assert ws.audit.compliance(today, today)["counts_by_kind"]["portfolio_created"] == 1
