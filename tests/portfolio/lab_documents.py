"""A small valid lab document with its figures worked out by hand (no workstation code)."""

from __future__ import annotations

import copy

from core.instruments import bundled_instruments

AAPL = next(i for i in bundled_instruments() if i.symbol == "AAPL").model_dump(mode="json")
KO = next(i for i in bundled_instruments() if i.symbol == "KO").model_dump(mode="json")

# 10 000 start; buy 10 @ 100 (+1), buy 10 @ 200.2 (+1) → 20 @ 150.1; deposit 500;
# sell 5 @ 160 (fees 0.5) → realized 5 × (160 − 150.1) = 49.5; withdraw 200; buy 3 KO @ 50.
CASH = 10_000 - 1_000 - 1 - 2_002 - 1 + 500 + 800 - 0.5 - 200 - 150  # 7 945.5
_BASE = {
    "format": "quant-workstation/portfolio",
    "version": 1,
    "name": "hand",
    "base_currency": "USD",
    "starting_cash": 10_000.0,
    "cash": CASH,
    "allow_short": False,
    "allow_margin": False,
    "description": "worked out by hand",
    "created_at": "2020-01-01T09:00:00",
    "instruments": [AAPL, KO],
    "positions": [
        {"symbol": "AAPL", "quantity": 15.0, "avg_cost": 150.1, "realized_pnl": 49.5},
        {"symbol": "KO", "quantity": 3.0, "avg_cost": 50.0, "realized_pnl": 0.0},
    ],
    "target_weights": {"AAPL": 0.5},
    "totals": {"commissions": 2.0, "fees": 0.5, "net_deposits": 300.0},
    "metadata": {"source": "tests"},
    "trades": [
        {"fill_id": "F-1", "ts": "2020-01-02T16:00:00", "symbol": "AAPL", "side": "buy",
         "quantity": 10.0, "price": 100.0, "commission": 1.0, "fees": 0.0, "strategy": None},
        {"fill_id": "F-2", "ts": "2020-01-03T16:00:00", "symbol": "AAPL", "side": "buy",
         "quantity": 10.0, "price": 200.2, "commission": 1.0, "fees": 0.0, "strategy": None},
        {"fill_id": "F-3", "ts": "2020-01-06T16:00:00", "symbol": "AAPL", "side": "sell",
         "quantity": 5.0, "price": 160.0, "commission": 0.0, "fees": 0.5, "strategy": "manual"},
        {"fill_id": "F-4", "ts": "2020-01-08T16:00:00", "symbol": "KO", "side": "buy",
         "quantity": 3.0, "price": 50.0, "commission": 0.0, "fees": 0.0, "strategy": None},
    ],
    "cash_movements": [
        {"ts": "2020-01-04T00:00:00", "amount": 500.0, "kind": "deposit", "note": ""},
        {"ts": "2020-01-07T00:00:00", "amount": -200.0, "kind": "withdrawal", "note": "fees"},
    ],
}  # fmt: skip


def base_document() -> dict:
    """A fresh copy of the hand-made document (valid; replays to its stated figures)."""
    return copy.deepcopy(_BASE)
