"""The resumer alone: a feed of hand-made events, fake apply and process — the order in
which committed commands and events are re-run, and the divergence check."""

from __future__ import annotations

import pytest

from core.paper._resume import Replay, Resumer, StoredCommand
from core.paper._sleeve import PaperError
from tests.paper._parts import event


class ListFeed:
    live = False

    def __init__(self, n: int):
        self._events = [event(i) for i in range(n)]

    def __len__(self) -> int:
        return len(self._events)

    def events(self, start: int = 0):
        return iter(self._events[start:])


def run(target: int, commands: dict, stored: int, fills_per_event: int = 1, n: int = 5):
    log, calls = [], []
    produced = []

    def process(ev):
        calls.append(("event", ev.seq))
        produced.extend([ev.seq] * fills_per_event)

    Resumer("s", ListFeed(n), log=log.append).catch_up(
        target,
        Replay(commands=commands, stored_fills=stored),
        apply=lambda cid, kind, payload: calls.append((kind, cid)),
        process=process,
        fills=lambda: len(produced),
    )
    return calls, log


def cmd(cid: int, kind: str, seq: int) -> StoredCommand:
    return StoredCommand(cid, kind, {}, seq)


def test_commands_are_reapplied_before_the_event_they_preceded():
    commands = {1: [cmd(7, "pause", 1), cmd(8, "order", 1)], 3: [cmd(9, "params", 3)]}
    calls, log = run(3, commands, stored=3)
    assert calls == [
        ("event", 0),
        ("pause", 7),
        ("order", 8),
        ("event", 1),
        ("event", 2),
        ("params", 9),  # applied after the last committed event: back in the book
    ]
    assert log == ["session 's': re-ran 3 events, 3 fills match"]


def test_after_the_last_event_only_book_changing_commands_are_reapplied():
    commands = {2: [cmd(1, "pause", 2), cmd(2, "cancel", 2), cmd(3, "stop", 2)]}
    calls, _ = run(2, commands, stored=2)
    assert calls == [("event", 0), ("event", 1), ("cancel", 2)]


def test_other_fills_than_the_stored_ones_stop_the_resume():
    with pytest.raises(PaperError, match="re-running 2 events gave 4 fills, the database holds 2"):
        run(2, {}, stored=2, fills_per_event=2)


def test_a_feed_shorter_than_what_was_committed_is_refused():
    with pytest.raises(PaperError, match="committed 9 events but its feed has 5"):
        run(9, {}, stored=0)


def test_nothing_committed_nothing_rerun():
    calls, log = run(0, {0: [cmd(1, "order", 0)]}, stored=0)
    assert (calls, log) == ([], [])
