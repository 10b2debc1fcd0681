"""Rebalance section of the Allocation page: drift, due or not and why, orders, execute,
history."""

from __future__ import annotations

import os
import re

import pytest

from core.demo import DEMO_NAME
from core.workstation import Workstation
from tests.ui.plain_text import text


def open_ws() -> Workstation:
    return Workstation.open(os.environ["WORKSTATION_DATABASE_URL"])


TABLES = {  # AppTest does not expose a dataframe's key: tell them by their columns
    "rb_drifts": ["symbol", "weight", "target", "drift_pp"],
    "rb_orders": ["symbol", "side", "quantity", "price", "est_price"],
    "rb_history": ["ts", "actor", "reasons", "n_orders"],
}


def by_key(at, key):
    columns = TABLES[key]
    return next(d for d in at.dataframe if list(d.value.columns[: len(columns)]) == columns)


def test_demo_portfolio_drift_orders_and_execute(app):
    at = app("allocation")
    assert at.selectbox(key="rb_portfolio").value == DEMO_NAME
    ws = open_ws()
    try:
        positions = ws.portfolios.positions(DEMO_NAME).set_index("symbol")
        held = {s: ws.portfolios.ledger(DEMO_NAME).quantity(s) for s in positions.index}
    finally:
        ws.close()
    # weights from the portfolio's own valuation, targets 1/6 each (set by the demo)
    drifts = by_key(at, "rb_drifts").value.set_index("symbol")
    expected = positions["weight"] - 1 / 6
    assert sorted(drifts.index) == sorted(expected.index)
    for symbol, drift in expected.items():
        assert drifts.loc[symbol, "drift_pp"] == pytest.approx(drift * 100, abs=1e-9)
        # weights and targets in percent, as the drift in percentage points beside them
        assert drifts.loc[symbol, "weight"] == pytest.approx(positions["weight"][symbol] * 100)
        assert drifts.loc[symbol, "target"] == pytest.approx(100 / 6)
    out_of_band = sorted(s for s, d in expected.items() if abs(d) >= 0.05 or abs(d) * 6 >= 0.2)
    assert out_of_band, "the demo has drifted: at least one asset is outside its band"
    due = next(text(w) for w in at.warning if text(w).startswith("Rebalance due"))
    named = sorted(re.search(r"drift (\S+)", r)[1] for r in due.split("; "))
    assert named == out_of_band

    at.number_input(key="rb_comm").set_value(0.001).run()
    orders = by_key(at, "rb_orders").value
    assert len(orders) > 0
    assert orders["est_cost"].tolist() == pytest.approx(
        (orders["quantity"] * orders["est_price"] * 0.001).tolist()
    )
    shown = {m.label: m.value for m in at.metric}["Estimated cost"]
    assert shown == f"{orders['est_cost'].sum():,.2f}"

    at.button(key="rb_execute").click().run()
    assert not at.exception, at.exception
    assert text(at.success[0]).startswith(f"Rebalanced {DEMO_NAME!r}: {len(orders)} orders")
    ws = open_ws()
    try:
        for o in orders.itertuples():
            sign = 1 if o.side == "buy" else -1
            assert ws.portfolios.ledger(DEMO_NAME).quantity(o.symbol) == pytest.approx(
                held.get(o.symbol, 0) + sign * o.quantity
            )
    finally:
        ws.close()
    history = by_key(at, "rb_history").value
    assert len(history) == 1 and history.iloc[0]["n_orders"] == len(orders)
    assert next(text(w) for w in at.info).startswith("No rebalance due")


def test_a_portfolio_without_targets_is_explained(app):
    ws = open_ws()
    try:
        ws.portfolios.create("Empty", 1000)
    finally:
        ws.close()
    at = app("allocation")
    at.selectbox(key="rb_portfolio").set_value("Empty").run()
    assert not at.exception, at.exception
    assert any("'Empty' has no target weights" in text(w) for w in at.warning)
    with pytest.raises(StopIteration):
        by_key(at, "rb_orders")
