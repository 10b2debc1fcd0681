"""Commands never hang: refused when they cannot apply, answered when the session ends,
re-applied when a stopped session resumes."""

from __future__ import annotations

import os
import socket

import pytest
from sqlalchemy import select

from core.db import OrderRow, PaperCommandRow
from core.paper import PaperServiceError
from core.paper import _worker as worker_module
from tests.paper.test_worker import fills, replay_config, synthetic_config


def commands(ws) -> list[tuple[str, str, str]]:
    with ws.sessions() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(
                    PaperCommandRow.kind, PaperCommandRow.status, PaperCommandRow.message
                ).order_by(PaperCommandRow.id)
            )
        ]


def test_an_order_for_a_symbol_the_session_does_not_trade_is_refused(ws, table_counts):
    ws.paper.create("one", replay_config(symbols=("SPX",)))
    before = table_counts(ws)
    with pytest.raises(
        PaperServiceError,
        match=r"symbol 'AAPL' is not traded in session 'one' "
        r"\(it trades SPX\)",
    ) as caught:
        ws.paper.send("one", "order", {"side": "buy", "quantity": 1, "symbol": "aapl"})
    assert caught.value.field == "symbol"
    assert table_counts(ws) == before
    # the traded one, in any case, goes through
    ws.paper.send("one", "order", {"side": "buy", "quantity": 1, "symbol": "spx"})
    ws.paper.create("syn", synthetic_config(events=50))
    with pytest.raises(PaperServiceError, match=r"it trades SYN-EQ"):
        ws.paper.send("syn", "order", {"side": "buy", "quantity": 1, "symbol": "SPX"})


def test_cancelling_an_order_that_does_not_exist_or_is_done_is_refused(ws, table_counts):
    ws.paper.create("c", synthetic_config(events=400))
    ws.paper.worker("c").run(max_events=200)
    before = table_counts(ws)
    with pytest.raises(PaperServiceError, match=r"no order 999 in strategy 'fast' of session"):
        ws.paper.send("c", "cancel", {"order_id": 999})
    with ws.sessions() as s:
        key = s.scalar(
            select(OrderRow.client_order_id)
            .where(OrderRow.status == "filled", OrderRow.strategy == "fast")
            .limit(1)
        )
    filled = int(key.rsplit(":", 1)[1])
    with pytest.raises(PaperServiceError, match=rf"order {filled} of 'fast' is filled"):
        ws.paper.send("c", "cancel", {"order_id": filled})
    with pytest.raises(PaperServiceError, match="whole number"):
        ws.paper.send("c", "cancel", {"order_id": "x"})
    assert table_counts(ws) == before
    # an open one is cancelled by the worker
    placed = ws.paper.send(
        "c", "order", {"side": "buy", "quantity": 1, "type": "limit", "limit_price": 0.01}
    )
    ws.paper.worker("c").run(max_events=1)
    open_id = int(ws.paper.command(placed)["message"].split()[1])
    cancel = ws.paper.send("c", "cancel", {"order_id": open_id})
    ws.paper.worker("c").run(max_events=1)
    assert ws.paper.command(cancel)["status"] == "applied"


def test_commands_still_pending_when_the_feed_ends_are_answered(ws, monkeypatch):
    monkeypatch.setattr(worker_module, "FLUSH_SECONDS", 1e9)  # no poll after the start
    ws.paper.create("end", synthetic_config(events=300))
    worker = ws.paper.worker("end")
    process, sent = worker._process, {}

    def process_then_send(event):  # arrive mid-run; the worker never polls again
        process(event)
        if event.seq == 150:
            sent["order"] = ws.paper.send("end", "order", {"side": "buy", "quantity": 2})
            sent["params"] = ws.paper.send("end", "params", {"params": {"slow": 25}})
            sent["stop"] = ws.paper.send("end", "stop")

    worker._process = process_then_send
    assert worker.run()["status"] == "finished"
    answers = {k: ws.paper.command(i) for k, i in sent.items()}
    assert answers["stop"]["status"] == "applied"
    assert answers["stop"]["message"] == "the session had already finished"
    for kind in ("order", "params"):
        assert answers[kind]["status"] == "expired"
        assert "the session finished (its feed ended)" in answers[kind]["message"]
    status = ws.paper.status("end")
    assert status["pending_commands"] == 0
    assert [c["status"] for c in status["commands"]] == ["expired", "expired", "applied"]


def test_a_command_sent_as_the_session_finishes_is_answered_at_once(ws, monkeypatch):
    ws.paper.create("late", synthetic_config(events=200))
    refused = []

    def log(message):  # the worker's last word: its final status is committed
        if "finished after" in message:
            try:
                ws.paper.send("late", "stop")
            except PaperServiceError as exc:
                refused.append(str(exc))

    ws.paper.worker("late", log=log).run()
    assert refused == ["session 'late' has finished (its feed ended): there is nothing to stop"]
    assert commands(ws) == []
    # the other ordering: the service read the session while its worker still ran, the
    # worker then ended (answering what it had), and only then came the insert
    ws.paper.create("race", synthetic_config(events=200))
    ws.paper.worker("race").run(max_events=50)
    stale = ws.paper._row("race")
    stale.status, stale.pid, stale.host = "running", os.getpid(), socket.gethostname()
    ws.paper.worker("race").run()
    real = ws.paper._row
    for kind, payload, answer in (
        ("stop", {}, ("applied", "the session had already finished")),
        ("pause", {}, ("expired", "the session finished (its feed ended)")),
    ):
        first = iter([stale])
        monkeypatch.setattr(ws.paper, "_row", lambda name, f=first: next(f, None) or real(name))
        got = ws.paper.command(ws.paper.send("race", kind, payload))
        assert got["status"] == answer[0] and got["message"].startswith(answer[1])
    assert not [c for c in commands(ws) if c[1] == "pending"]


def test_stop_with_no_worker_is_done_at_once_other_commands_say_they_wait(ws):
    ws.paper.create("idle", synthetic_config(events=300))
    ws.paper.worker("idle").run(max_events=10)
    answer = ws.paper.command(ws.paper.send("idle", "stop"))
    assert answer["status"] == "applied" and "no worker was running" in answer["message"]
    queued = ws.paper.command(ws.paper.send("idle", "order", {"side": "buy", "quantity": 1}))
    assert queued["status"] == "pending" and queued["message"].startswith("queued: no worker")
    # the next run is not stopped by the old stop, and applies the queued order first
    assert ws.paper.worker("idle").run(max_events=20)["events"] == 30
    assert ws.paper.command(queued["id"])["status"] == "applied"


def test_an_accepted_order_that_never_filled_expires_when_the_session_finishes(ws):
    ws.paper.create("lim", synthetic_config(events=300))
    ws.paper.worker("lim").run(max_events=100)
    command = ws.paper.send(
        "lim", "order", {"side": "buy", "quantity": 3, "type": "limit", "limit_price": 0.01}
    )
    ws.paper.worker("lim").run()
    assert ws.paper.command(command)["status"] == "applied"  # accepted into the book …
    order_id = int(ws.paper.command(command)["message"].split()[1])
    with ws.sessions() as s:
        row = s.scalar(select(OrderRow).where(OrderRow.client_order_id.like(f"%:fast:{order_id}")))
        assert row.status == "expired"  # … and, never filled, expired when the feed ended
    state = ws.paper.snapshot_state("lim")
    assert all(not s["open_orders"] for s in state["strategies"].values())


def test_an_order_applied_just_before_a_stop_is_traded_after_the_resume(ws):
    config = synthetic_config(events=600)
    ws.paper.create("ref", config, portfolio="ref")
    ws.paper.worker("ref").run(max_events=100)
    ws.paper.send("ref", "order", {"side": "buy", "quantity": 4, "strategy": "slow"})
    ws.paper.worker("ref").run()  # applied before event 100, filled at its open
    ws.paper.create("gap", config, portfolio="gap")
    ws.paper.worker("gap").run(max_events=100)
    order = ws.paper.send("gap", "order", {"side": "buy", "quantity": 4, "strategy": "slow"})

    def log(message):  # a stop that reaches the worker with the order, before event 100
        if "trading from event" in message:
            ws.paper.send("gap", "stop")

    assert ws.paper.worker("gap", log=log).run()["events"] == 100
    assert (ws.paper.command(order)["status"], ws.paper.command(order)["applied_seq"]) == (
        "applied",
        100,
    )
    ws.paper.worker("gap").run()
    cols = ["ts", "strategy", "side", "quantity", "price"]
    ref, gap = fills(ws, "ref")[cols], fills(ws, "gap")[cols]
    assert ((ref["strategy"] == "slow") & (ref["quantity"] == 4)).any()
    assert ref.equals(gap)
