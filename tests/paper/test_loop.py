"""The worker's loop alone: given its parts (a tiny book, a feed of hand-made events, a
fake session writer), no database — what it commits, when it stops, what it answers."""

from __future__ import annotations

import dataclasses

from core.paper._commands import CommandApplier, RunControls
from core.paper._config import FeedConfig, SessionConfig, SleeveConfig
from core.paper._records import Pending
from core.paper._regimes import RegimeTracker
from core.paper._reporting import StateReporter
from core.paper._resume import Resumer
from core.paper._worker import PaperWorker, SessionInfo, SessionParts
from tests.paper._parts import SYMBOL, Counting, World, event


class Feed:
    live = False
    regime_names = None

    def __init__(self, n: int):
        self.symbols = (SYMBOL,)
        self.instruments = {SYMBOL: None}
        self._events = [event(i, 10.0 + i, 10.0 + i) for i in range(n)]
        self._events[-1] = dataclasses.replace(self._events[-1], last=True)

    def __len__(self) -> int:
        return len(self._events)

    def events(self, start: int = 0):
        return iter(self._events[start:])


class Writer:
    """Records what the loop asks of the session writer; serves queued commands once."""

    def __init__(self, commands=()):
        self.instrument_ids = {SYMBOL: 1}
        self.queued = list(commands)
        self.calls: list[tuple] = []
        self.committed: list[dict] = []

    def claim(self, name):
        self.calls.append(("claim", name))
        return True

    def set_status(self, status, error=None, audit=None, settle=None):
        self.calls.append(("status", str(status), settle))

    def heartbeat(self):
        pass

    def pending_commands(self):
        queued, self.queued = self.queued, []
        return queued

    def commit(self, pending: Pending, ledger, *, events, last_ts, state):
        self.committed.append(
            {
                "events": events,
                "bars": [b["seq"] for b in pending.bars],
                "commands": list(pending.commands),
                "fills": len(pending.fills),
            }
        )
        pending.__init__()


def worker(n_events: int, commands=(), strategy=None):
    world = World(strategy=strategy or Counting(buy_every=2), live=False)
    world.engine.broker.order_filter = None
    config = SessionConfig(
        sleeves=(SleeveConfig(key="k", strategy="sma_crossover"),),
        feed=FeedConfig(kind="synthetic", preset="equity", events=n_events),
        cash=10_000.0,
        speed=None,
    )
    feed, writer, controls = Feed(n_events), Writer(commands), RunControls()
    regimes = RegimeTracker(None, 50, None, world.journal.alert)
    parts = SessionParts(
        info=SessionInfo("s", 7, 1, "P", "created", 0, config),
        feed=feed,
        writer=writer,
        cursor=world.cursor,
        journal=world.journal,
        book=world.book,
        risk=world.risk,
        regimes=regimes,
        tracker=world.tracker,
        controls=controls,
        commands=CommandApplier(
            world.book, world.journal, world.tracker, controls, writer.set_status
        ),
        reporter=StateReporter(
            config, world.book, world.risk, regimes, world.journal, n_events=n_events
        ),
        resumer=Resumer("s", feed),
        limits=(None, "active"),
        read_limits=lambda: (None, "active"),
    )
    return PaperWorker(None, "s", parts=parts), writer, world


def test_the_loop_trades_every_event_and_finishes_with_one_final_status():
    w, writer, world = worker(6)
    summary = w.run()
    assert summary == {
        "session": "s",
        "status": "finished",
        "events": 6,
        "equity": world.book.equity,
        "cash": world.book.cash,
        "n_fills": world.book.n_fills,
    }
    # bought 1 at the open after every 2nd bar: bars 2 and 4 (bar 6 never comes)
    assert world.book.n_fills == 2 and world.book.ledger.quantity(SYMBOL) == 2
    assert sorted(b for c in writer.committed for b in c["bars"]) == [0, 1, 2, 3, 4, 5]
    assert writer.committed[-1]["events"] == 6
    assert writer.calls[0] == ("claim", "s")
    assert writer.calls[1] == ("status", "running", None)
    assert writer.calls[-1] == ("status", "finished", "finished")


def test_a_fill_is_committed_with_its_event():
    w, writer, _ = worker(6)
    w.run()
    with_fills = [c for c in writer.committed if c["fills"]]
    assert [(c["fills"], c["bars"][-1]) for c in with_fills] == [(1, 2), (1, 4)]


def test_max_events_stops_the_run_there():
    w, writer, _ = worker(6)
    assert w.run(max_events=3)["status"] == "stopped"
    assert writer.calls[-1] == ("status", "stopped", "stopped")
    assert writer.committed[-1]["events"] == 3


def test_a_stop_queued_before_the_start_is_answered_and_ends_the_run_at_once():
    w, writer, _ = worker(6, commands=[(41, "stop", {})])
    assert w.run()["status"] == "stopped" and w.next_seq == 0
    (answered,) = [c for c in writer.committed if c["commands"]]
    assert answered["commands"] == [(41, "applied", "stopping", 0)]
