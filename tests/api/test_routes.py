"""Every route's content against the services and against numbers worked out by hand.

The portfolio ``Known`` (tests/api/conftest.py) holds 60 AAPL and 50 MSFT with 84,397 in
cash; its marks are the bundled last closes, read from the CSV file (``raw_closes``), not
through the workstation.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from core.risk import limit_usage
from tests.api.conftest import AVG_COST, CASH, FILLS, HELD, KNOWN, REALIZED, START_CASH, TARGETS

Q = {"portfolio": KNOWN}


@pytest.fixture(scope="module")
def last_close(raw_closes):
    return {s: raw_closes.last_on_or_before(s, raw_closes.dates[-1]) for s in HELD}


@pytest.fixture(scope="module")
def daily_curve(raw_closes):
    """Equity at each close from the first fill's day, replayed by hand from FILLS."""
    days = raw_closes.days_between(FILLS[0][0].date(), raw_closes.dates[-1])
    curve = []
    for day in days:
        cash, held = START_CASH, dict.fromkeys(HELD, 0.0)
        for ts, symbol, side, qty, price, commission, _ in FILLS:
            if ts.date() <= day:
                sign = 1 if side == "buy" else -1
                held[symbol] += sign * qty
                cash -= sign * qty * price + commission
        curve.append(cash + sum(q * raw_closes.on(s, day) for s, q in held.items()))
    return np.array(curve)


def test_summary_matches_the_hand_worked_ledger(api, last_close, daily_curve):
    body = api.get("/portfolio/summary", params=Q).json()
    value = CASH + sum(HELD[s] * last_close[s] for s in HELD)
    assert body["portfolio"] == KNOWN
    assert body["cash"] == pytest.approx(CASH)
    assert body["total_value"] == pytest.approx(value)
    assert body["pnl_total"] == pytest.approx(value - START_CASH)
    assert body["realized_pnl"] == pytest.approx(REALIZED)
    assert body["commissions"] == pytest.approx(3.0)
    assert body["n_positions"] == 2
    returns = daily_curve[1:] / daily_curve[:-1] - 1
    sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(252)
    peak = np.maximum.accumulate(daily_curve)
    assert body["sharpe"] == pytest.approx(sharpe, rel=1e-9)
    assert body["max_drawdown"] == pytest.approx((daily_curve / peak - 1).min(), rel=1e-9)
    # the last snapshot is before today and the marks are the same closes: nothing moved today
    assert body["pnl_today"] == pytest.approx(value - daily_curve[-1], abs=1e-6)


def test_summary_without_a_portfolio_serves_the_demo_else_the_first_by_name(api, reader):
    from core.demo import DEMO_NAME

    names = reader.portfolios.names()
    expected = DEMO_NAME if DEMO_NAME in names else "Empty"  # "Empty" < "Known" < "zz-..."
    assert api.get("/portfolio/summary").json()["portfolio"] == expected


def test_positions_and_one_position(api, last_close):
    body = api.get("/portfolio/positions", params=Q).json()
    rows = {p["symbol"]: p for p in body["positions"]}
    assert set(rows) == set(HELD)
    for symbol, qty in HELD.items():
        assert rows[symbol]["quantity"] == qty
        assert rows[symbol]["avg_cost"] == pytest.approx(AVG_COST[symbol])
        assert rows[symbol]["market_value"] == pytest.approx(qty * last_close[symbol])
        assert rows[symbol]["weight"] == pytest.approx(qty * last_close[symbol] / body["equity"])
    assert rows["AAPL"]["realized_pnl"] == pytest.approx(REALIZED)
    one = api.get("/portfolio/positions/msft", params=Q)
    assert one.status_code == 200 and one.json() == rows["MSFT"]
    missing = api.get("/portfolio/positions/KO", params=Q)
    assert missing.status_code == 404
    assert missing.json()["error"]["where"] == "symbol"


def test_risk_is_the_risk_services_report(api, reader):
    body = api.get("/portfolio/risk", params=Q).json()
    report = reader.risk.report(KNOWN, n_sims=20_000).to_dict()
    for key in ("equity", "volatility", "var_95", "cvar_95", "var_99", "cvar_99", "beta"):
        assert body[key] == pytest.approx(report[key]), key
    assert body["limit_usage"] == report["limit_usage"]
    assert len(body["var"]) == 8  # four methods at two levels
    assert body["trading_state"] == "active"


def test_performance_and_chart(api, daily_curve, reader):
    body = api.get("/portfolio/performance", params=Q).json()
    assert body["n_days"] == len(daily_curve)
    assert body["metrics"]["total_return"] == pytest.approx(daily_curve[-1] / daily_curve[0] - 1)
    assert body["n_fills"] == 3
    assert body["traded_notional"] == pytest.approx(100 * 100 + 50 * 200 + 40 * 110)
    assert body["realized_pnl"] == pytest.approx(REALIZED)
    chart = api.get("/portfolio/chart", params={**Q, "points": 7}).json()
    assert chart["n_total"] == len(reader.portfolios.equity_curve(KNOWN))
    points = chart["points"]
    assert len(points) == 7
    assert points[0]["equity"] == pytest.approx(daily_curve[0])
    assert points[-1]["equity"] == pytest.approx(daily_curve[-1])
    assert [p["ts"] for p in points] == sorted(p["ts"] for p in points)


def test_recent_trades_newest_first(api):
    body = api.get("/trades/recent", params={**Q, "limit": 2}).json()
    got = [(t["ts"], t["symbol"], t["side"], t["quantity"], t["price"]) for t in body["trades"]]
    want = [(f"{f[0].isoformat()}Z", f[1], f[2], f[3], f[4]) for f in reversed(FILLS)][:2]
    assert got == want


def test_strategies_group_the_fills(api):
    rows = {
        r["strategy"]: r for r in api.get("/strategies/performance", params=Q).json()["strategies"]
    }
    assert set(rows) == {"manual", "swing"}
    assert rows["manual"]["n_fills"] == 1 and rows["swing"]["n_fills"] == 2
    assert rows["swing"]["realized_pnl"] == pytest.approx(REALIZED)
    assert rows["swing"]["net_realized"] == pytest.approx(REALIZED - 2.0)
    assert rows["swing"]["traded_notional"] == pytest.approx(50 * 200 + 40 * 110)


def test_alerts_are_the_limits_not_passed(api, reader):
    body = api.get("/alerts/active", params=Q).json()
    expected = [
        r.rule
        for r in limit_usage(reader.risk.state(KNOWN), reader.risk.limits(KNOWN))
        if r.outcome != "pass"
    ]
    assert expected  # the default limits: cash over 80 % of equity is fine, MSFT over 10 % is not
    assert [a["rule"] for a in body["alerts"] if a["source"] == "risk_limit"] == expected


def test_regime_matches_a_fit_through_core(api, reader):
    from core.regimes import analyze

    body = api.get("/market/regime", params={"symbol": "AAPL", "states": 2}).json()
    analysis = analyze(reader.market.bars("AAPL")["close"].dropna(), n_states=2)
    assert body["current"] == analysis.current
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["n_states"] == 2 and len(body["states"]) == 2
    assert api.get("/market/regime", params={"symbol": "NOPE"}).status_code == 404
    assert api.get("/market/regime", params={"states": 9}).status_code == 422


def test_rebalancing_status_drifts(api, last_close):
    body = api.get("/rebalancing/status", params=Q).json()
    assert body["has_targets"] is True
    equity = CASH + sum(HELD[s] * last_close[s] for s in HELD)
    for symbol, target in TARGETS.items():
        weight = HELD[symbol] * last_close[symbol] / equity
        assert body["plan"]["drifts"][symbol] == pytest.approx(weight - target)
    empty = api.get("/rebalancing/status", params={"portfolio": "Empty"}).json()
    assert empty["has_targets"] is False and empty["plan"] is None


def test_compliance_status_and_audit_trail_pages(api, reader):
    body = api.get("/compliance/status", params={"start": "2022-06-01", "end": "2022-07-31"}).json()
    assert body["fills"]["count"] == 3
    assert body["fills"]["notional"] == pytest.approx(100 * 100 + 50 * 200 + 40 * 110)
    assert body["chain"]["ok"] is True
    events = reader.audit.events()
    seen, before = [], None
    while True:
        params = {"limit": 3, **({"before": before} if before else {})}
        page = api.get("/compliance/audit-trail", params=params).json()
        seen += [e["id"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == list(events["id"])  # every event once, newest first
    bad = api.get("/compliance/audit-trail", params={"start": "2022-02-30"})
    assert bad.status_code == 422 and bad.json()["error"]["where"] == "query.start"
    # an id past a 64-bit integer (schemathesis found it overflowing SQLite: a 500)
    huge = api.get("/compliance/audit-trail", params={"before": 115421512699570777227264})
    assert huge.status_code == 422 and huge.json()["error"]["where"] == "query.before"
    edge = api.get("/compliance/audit-trail", params={"before": 2**63 - 1, "limit": 1})
    assert edge.status_code == 200 and edge.json()["events"][0]["id"] == events["id"].iloc[0]


def test_paper_routes(api, reader):
    listed = api.get("/paper/sessions").json()["sessions"]
    assert [s["session"] for s in listed] == list(reader.paper.list()["session"])
    missing = api.get("/paper/sessions/none-such")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"message": "session: no paper session named 'none-such'", "where": "session"}
    }


def test_unknown_portfolio_is_404_and_bad_parameter_422(api):
    for path in ("/portfolio/summary", "/portfolio/positions", "/trades/recent", "/alerts/active"):
        r = api.get(path, params={"portfolio": "nope"})
        assert r.status_code == 404, path
        assert r.json()["error"]["message"] == "no portfolio named 'nope'"
    r = api.get("/trades/recent", params={**Q, "limit": "many"})
    assert r.status_code == 422
    assert r.json()["error"]["where"] == "query.limit"
    assert "Traceback" not in r.text
    assert api.get("/no/such/route").status_code == 404


def test_health_is_open_and_says_read_only(server):
    import httpx

    body = httpx.get(f"{server.url}/health").json()
    assert body == {"status": "ok", "read_only": True, "database": "sqlite"}
    assert isinstance(datetime.now(), datetime)


def test_curves_are_read_again_when_a_snapshot_is_added(api, reader):
    name = "zz-cache"
    reader.portfolios.create(name, 1_000.0)
    first = api.get("/portfolio/summary", params={"portfolio": name}).json()
    assert first["as_of"] is None and first["total_value"] == 1_000.0
    reader.portfolios.cash_movement(name, 500.0)
    second = api.get("/portfolio/summary", params={"portfolio": name}).json()
    assert second["total_value"] == 1_500.0 and second["as_of"] is not None
    chart = api.get("/portfolio/chart", params={"portfolio": name}).json()
    assert [p["equity"] for p in chart["points"]] == [1_500.0]
    # within the same second the service replaces the snapshot (same time, same count): the
    # stamp's last equity still tells the curve changed
    reader.portfolios.cash_movement(name, -200.0)
    chart = api.get("/portfolio/chart", params={"portfolio": name}).json()
    assert chart["points"][-1]["equity"] == 1_300.0
    assert api.get("/portfolio/summary", params={"portfolio": name}).json()["total_value"] == 1_300


def test_the_server_says_where_it_runs(server):
    from core.api import read_status

    status = read_status(server.status_file)
    assert status["pid"] == server.process.pid
    assert status["url"] == server.url and status["port"] == server.port


def test_status_file_round_trip_and_clear(tmp_path):
    import os

    from core.api import clear_status, read_status, write_status

    path = tmp_path / "status.json"
    write_status("::1", 9001, path)
    status = read_status(path)
    assert status["url"] == "http://[::1]:9001" and status["pid"] == os.getpid()
    clear_status(path)
    assert read_status(path) is None and not path.exists()
