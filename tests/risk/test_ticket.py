"""Manual orders through the pre-trade checks: the kill switch always, saved limits once saved;
every check logged, blocked orders never booked."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from core.db import AuditEventRow, FillRow
from core.risk import (
    OrderBlocked,
    RiskLimits,
    checked_trade,
    portfolio_state,
    save_limits,
    set_trading_state,
)

T0 = datetime(2022, 12, 28, 16, 0)


def _fills(ws) -> int:
    with ws.sessions() as s:
        return s.scalar(select(func.count()).select_from(FillRow))


def _checks(ws) -> list[dict]:
    with ws.sessions() as s:
        return [
            e.payload
            for e in s.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.kind == "pretrade_check")
                .order_by(AuditEventRow.id)
            )
        ]


def test_kill_switch_halts_and_reducing_only_lets_positions_shrink(ws):
    ws.portfolios.create("book", 100_000, created_at=datetime(2022, 1, 3))
    checked_trade(ws, "book", "KO", "buy", 100, 60.0, ts=T0)
    with ws.sessions.begin() as s:
        set_trading_state(s, "book", "halted")
    with pytest.raises(OrderBlocked, match="halted") as blocked:
        checked_trade(ws, "book", "KO", "sell", 10, 60.0, ts=T0)
    assert blocked.value.field == "quantity"
    assert _fills(ws) == 1  # nothing booked
    with ws.sessions.begin() as s:
        set_trading_state(s, "book", "reducing_only")
    with pytest.raises(OrderBlocked, match="reducing"):
        checked_trade(ws, "book", "KO", "buy", 1, 60.0, ts=T0)
    result, report = checked_trade(ws, "book", "KO", "sell", 40, 60.0, ts=T0)
    assert report.outcome in ("pass", "warn") and result.quantity == 40
    assert _fills(ws) == 2
    # every check was logged, the blocked ones too
    outcomes = [c["outcome"] for c in _checks(ws)]
    assert outcomes[1:3] == ["block", "block"] and len(outcomes) == 4


def test_saved_limits_apply_at_their_boundaries(ws):
    ws.portfolios.create("capped", 200_000, created_at=datetime(2022, 1, 3))
    # without saved limits only the kill switch applies: a third in one name books
    checked_trade(ws, "capped", "KO", "buy", 1000, 60.0, ts=T0)
    with ws.sessions.begin() as s:
        save_limits(
            s,
            "capped",
            RiskLimits(
                max_position_weight=0.2,
                max_top3_weight=None,
                min_cash=None,
                max_daily_turnover=None,
                max_drawdown=None,
                daily_loss_limit=None,
            ),
        )

    # post-trade weight = quantity × price / equity, everything at the last known closes
    def buy(symbol: str, weight: float):
        price = ws.market.last_price(symbol, T0)
        quantity = int(weight * portfolio_state(ws, "capped").equity / price)
        return checked_trade(ws, "capped", symbol, "buy", quantity, price, ts=T0)

    _, report = buy("MSFT", 0.15)
    assert report.result("max_position_weight").outcome == "pass"  # < 0.8 × 20 %
    _, report = buy("JNJ", 0.18)
    assert report.result("max_position_weight").outcome == "warn"  # 16 % ≤ 18 % ≤ 20 %
    before = _fills(ws)
    with pytest.raises(OrderBlocked, match="weight"):
        buy("XOM", 0.25)
    assert _fills(ws) == before


def test_a_retried_order_returns_its_fill_and_a_malformed_one_names_its_field(ws):
    ws.portfolios.create("retry", 10_000, created_at=datetime(2022, 1, 3))
    first, _ = checked_trade(ws, "retry", "KO", "buy", 10, 60.0, ts=T0, client_order_id="o-1")
    again, report = checked_trade(ws, "retry", "KO", "buy", 10, 60.0, ts=T0, client_order_id="o-1")
    assert again.duplicate and again.fill_id == first.fill_id and report is None
    assert len(_checks(ws)) == 1
    with pytest.raises(ValueError, match="NOPE") as bad:
        checked_trade(ws, "retry", "NOPE", "buy", 1, 10.0, ts=T0)
    assert getattr(bad.value, "field", None) == "symbol"
    assert len(_checks(ws)) == 1 and _fills(ws) == 1
