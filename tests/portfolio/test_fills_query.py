"""The one query of a portfolio's fills, on three fills booked by hand."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from core.db import PortfolioRow
from core.portfolio import fills_query


@pytest.fixture
def booked(ws):
    p = ws.portfolios
    p.create("F", 100_000.0, created_at=datetime(2020, 1, 1))
    p.trade("F", "AAPL", "buy", 10, 100.0, ts=datetime(2020, 1, 2, 16), client_order_id="a")
    p.trade("F", "KO", "buy", 20, 50.0, ts=datetime(2020, 1, 3, 16), client_order_id="b")
    p.trade("F", "AAPL", "sell", 4, 110.0, ts=datetime(2020, 1, 6, 16), client_order_id="c")
    with ws.sessions() as s:
        portfolio_id = s.scalar(select(PortfolioRow.id).where(PortfolioRow.name == "F"))
    return ws, portfolio_id


def rows(ws, query) -> list[tuple]:
    with ws.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def test_whole_fills_oldest_first(booked):
    ws, pid = booked
    with ws.sessions() as s:
        fills = list(s.scalars(fills_query(pid)))
        assert [(f.fill_id, f.side, f.quantity) for f in fills] == [
            ("F-a", "buy", 10),
            ("F-b", "buy", 20),
            ("F-c", "sell", 4),
        ]


def test_columns_with_the_symbol_newest_first_and_a_limit(booked):
    ws, pid = booked
    query = fills_query(pid, columns=("fill_id", "symbol", "price"), order="newest", limit=2)
    assert rows(ws, query) == [("F-c", "AAPL", 110.0), ("F-b", "KO", 50.0)]


def test_one_symbol_and_one_fill_id(booked):
    ws, pid = booked
    aapl = fills_query(pid, columns=("fill_id", "quantity"), symbol="AAPL", order="newest")
    assert rows(ws, aapl) == [("F-c", 4), ("F-a", 10)]
    one = fills_query(pid, columns=("fill_id",), fill_id="F-b", order=None)
    assert rows(ws, one) == [("F-b",)]
    assert rows(ws, fills_query(pid + 1, columns=("fill_id",))) == []  # another portfolio
