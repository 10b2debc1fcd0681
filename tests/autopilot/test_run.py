"""A run on an account: dry-run, paper, idempotence, kill switch, stale data, causality, log."""

from __future__ import annotations

import pandas as pd
import pytest

from core.autopilot import AutopilotService
from core.db import FillRow, OrderRow, RebalancingLogRow
from core.risk import TradingState

pytestmark = pytest.mark.both_backends

AS_OF = "2022-06-01"
KEYS = {"as_of", "regime", "strategy", "confidence", "target_weights", "trades", "risk", "mode",
        "status", "n_fills"}  # fmt: skip


@pytest.fixture
def account(ws):
    ws.portfolios.create("ap", 100_000.0)
    return "ap"


def counts(ws, table_counts):
    c = table_counts(ws)
    return c[FillRow.__tablename__], c[OrderRow.__tablename__], c[RebalancingLogRow.__tablename__]


def test_dry_run_logs_the_plan_and_writes_no_fill(ws, account, table_counts):
    result = ws.autopilot.run(account, "dry-run", AS_OF)
    assert KEYS <= set(result)
    assert {"label", "confidence", "volatility", "trend", "breadth", "hmm"} <= set(result["regime"])
    assert {"approved", "checks"} <= set(result["risk"])
    assert result["status"] == "dry_run" and result["n_fills"] == 0 and result["trades"]
    assert counts(ws, table_counts) == (0, 0, 1)
    assert ws.portfolios.ledger(account).open_positions() == []
    orders = ws.audit.events(kind="autopilot_order", portfolio=account)
    decisions = ws.audit.events(kind="autopilot_decision", portfolio=account)
    assert len(orders) == len(result["trades"]) and len(decisions) == 1
    assert not any(o["booked"] for o in orders["payload"])


def test_paper_books_the_trades_and_a_rerun_books_nothing_new(ws, account, table_counts):
    first = ws.autopilot.run(account, "paper", AS_OF)
    n = len(first["trades"])
    assert first["status"] == "executed" and first["n_fills"] == n > 0
    held = {p.symbol: p.quantity for p in ws.portfolios.ledger(account).open_positions()}
    bought = {t["symbol"]: t["quantity"] for t in first["trades"] if t["side"] == "buy"}
    assert held == bought
    closes = {s: ws.market.last_price(s, AS_OF) for s in held}
    ledger = ws.portfolios.ledger(account)
    equity = ledger.cash + sum(q * closes[s] for s, q in held.items())
    assert first["value_after"] == pytest.approx(equity, rel=1e-12)
    assert counts(ws, table_counts) == (n, n, 1)

    again = ws.autopilot.run(account, "paper", AS_OF)
    assert again["status"] == "already_done" and again["n_fills"] == 0
    assert counts(ws, table_counts) == (n, n, 1)  # nothing booked, nothing logged

    forced = ws.autopilot.run(account, "paper", AS_OF, force=True)
    assert forced["attempt"] == 2
    fills, _, logs = counts(ws, table_counts)
    assert fills == n + forced["n_fills"] and logs == 2
    assert ws.audit.verify().ok  # the decision, order and check events keep the chain whole


def test_the_kill_switch_stops_the_run(ws, account, table_counts):
    ws.risk.set_trading_state(account, TradingState.HALTED, reason="test")
    result = ws.autopilot.run(account, "paper", AS_OF)
    assert result["status"] == "halted" and result["n_fills"] == 0 and result["trades"] == []
    assert result["reason"] == "trading is halted"
    assert counts(ws, table_counts)[:2] == (0, 0)
    ws.risk.set_trading_state(account, TradingState.ACTIVE)
    assert ws.autopilot.run(account, "paper", AS_OF)["status"] == "executed"  # not settled


def test_stale_data_is_refused(ws, account, table_counts):
    # the bundled history ends 2022-12-28; 2023-01-06 is 7 business days later
    result = ws.autopilot.run(account, "paper", "2023-01-06")
    assert result["status"] == "stale" and result["n_fills"] == 0
    assert "2022-12-28, 7 business days before 2023-01-06" in result["reason"]
    assert ws.autopilot.run(account, "paper", "2023-01-03")["status"] == "executed"  # 4 days


class FutureChanged:
    """The market with every close after ``cut`` doubled, and ``end`` ignored."""

    def __init__(self, market, cut):
        self._market, self._cut = market, pd.Timestamp(cut)

    def closes(self, symbols, start=None, end=None):
        frame = self._market.closes(symbols, start)
        frame.loc[frame.index > self._cut] *= 2.0
        return frame

    def instruments(self):
        return self._market.instruments()


def test_the_decision_at_t_is_the_decision_on_data_cut_at_t(ws, account):
    changed = AutopilotService(
        ws.sessions,
        FutureChanged(ws.market, AS_OF),
        ws.portfolios,
        ws.risk,
        models=ws.autopilot.models,
    )
    for day in ("2022-03-01", AS_OF):
        assert changed.decide(account, day).to_dict() == ws.autopilot.decide(account, day).to_dict()


def test_the_log_holds_one_row_per_run_with_its_numbers(ws, account):
    result = ws.autopilot.run(account, "paper", AS_OF)
    log = ws.autopilot.log(account)
    row = log.iloc[0]
    assert len(log) == 1 and row["status"] == "executed" and row["strategy"] == result["strategy"]
    assert row["regime"] == result["regime"]["label"]
    assert (row["n_buys"], row["n_sells"]) == (result["n_buys"], result["n_sells"])
    assert row["value_before"] == 100_000.0
    assert ws.autopilot.run_record(int(row["id"]))["trades"] == result["trades"]
    assert ws.autopilot.stored_regimes()["label"].tolist() == [result["regime"]["label"]]
