"""Demo seeding is given the portfolios and the market, not the workstation."""

from __future__ import annotations

import math

from core.demo import COMMISSION, INITIAL, START, seed_demo


def test_seed_demo_books_on_the_services_it_is_given(ws, raw_closes):
    assert seed_demo(ws.portfolios, ws.market, name="Second demo") == "Second demo"

    budget = 1_000_000.0 / len(INITIAL) - COMMISSION
    held = ws.portfolios.ledger("Second demo")
    for symbol in ("AAPL", "JNJ", "JPM", "PG", "KO"):
        assert held.quantity(symbol) == math.floor(budget / raw_closes.on(symbol, START.date()))
    assert held.quantity("XOM") == 0
    assert held.quantity("MSFT") > 0
    assert len(ws.portfolios.trades("Second demo")) == 8
    assert ws.portfolios.summary("Second demo").target_weights["MSFT"] == 1 / 6
