"""The paper-trading console: it shows what the worker committed and sends commands.

``run_every`` never fires in AppTest: the live fragment is driven by explicit reruns
while the worker is advanced in-process between them.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from core.db import PaperCommandRow
from core.execution import CommissionModel, ExecutionConfig
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from tests.ui.plain_text import unescape
from tests.ui.tabs import open_tab


def _ws():
    from app.services import workstation

    return workstation()


def _config(events=3000):
    return SessionConfig(
        sleeves=(
            SleeveConfig(
                key="fast", strategy="sma_crossover", params={"fast": 5, "slow": 20}, allocation=0.5
            ),
            SleeveConfig(key="trend", strategy="momentum", allocation=0.5),
        ),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=5, events=events),
        cash=40_000,
        execution=ExecutionConfig(commission=CommissionModel(rate=0.0005)),
    )


def _metrics(at):
    return {m.label: m for m in at.metric}


def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def test_empty_console_offers_to_create_a_session(app):
    at = app("paper")
    assert any("No paper sessions yet" in i.value for i in at.info)
    at.text_input(key="paper_name").set_value("ui session")
    at.checkbox(key="paper_start_now").uncheck()
    at.radio(key="paper_feed").set_value("Synthetic market")
    at.button[-1].click()  # the form's submit button
    at.run()
    assert not at.exception, at.exception
    ws = _ws()
    assert ws.paper.names() == ["ui session"]
    status = ws.paper.status("ui session")
    assert status["status"] == "created" and status["n_fills"] == 0
    assert at.selectbox(key="paper_pick").value == "ui session"


def test_live_panel_shows_the_workers_state_and_refreshes(app):
    ws = _ws()
    ws.paper.create("live", _config())
    ws.paper.worker("live").run(max_events=1200)
    at = app("paper")
    status = ws.paper.status("live")
    metrics = _metrics(at)
    assert metrics["Equity"].value == f"{status['equity']:,.0f}"
    assert metrics["Equity"].delta == f"{status['equity'] - 40_000:+,.2f}"
    assert metrics["Events"].value == "1,200"
    assert metrics["Fills"].value == f"{status['n_fills']:,}" and status["n_fills"] > 0
    progress = at.get("progress")[0].proto.text
    stamp = progress.rsplit("last event ", 1)[1]  # to the second, not ISO microseconds
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamp), progress
    assert len(at.get("plotly_chart")) == 2  # price with fills, equity with bands
    assert not at.dataframe  # hidden tabs and collapsed expanders are not drawn
    fills = open_tab(at, "paper_live_tab", "Positions & orders").dataframe
    recent = fills[-1].value
    assert len(recent) == min(status["n_fills"], 50) > 0
    assert not at.get("plotly_chart")  # the Chart tab is hidden now
    strategies = open_tab(at, "paper_live_tab", "Strategies").dataframe[0].value
    assert set(strategies["strategy"]) == {"fast", "trend"}
    state = ws.paper.snapshot_state("live")
    assert (
        strategies.set_index("strategy").loc["fast", "fills"]
        == (state["strategies"]["fast"]["n_fills"])
    )
    # the worker trades on; the next refresh shows the new state
    ws.paper.worker("live").run(max_events=800)
    at.run()
    assert _metrics(at)["Events"].value == "2,000"
    assert _metrics(at)["Equity"].value == f"{ws.paper.status('live')['equity']:,.0f}"


def test_order_ticket_and_params_reach_the_worker(app):
    ws = _ws()
    ws.paper.create("cmds", _config())
    ws.paper.worker("cmds").run(max_events=300)
    at = app("paper")
    at.selectbox(key="ticket_sleeve").set_value("trend")
    at.radio(key="ticket_side").set_value("sell")
    at.number_input(key="ticket_qty").set_value(3)
    next(b for b in at.button if b.label == "Send order").click()
    at.run()
    assert not at.exception, at.exception
    open_tab(at, "paper_view", "Parameters")
    at.number_input(key="live_cmds_fast_slow").set_value(30)
    next(b for b in at.button if b.label == "Apply parameters").click()
    at.run()
    assert not at.exception, at.exception
    with ws.sessions() as s:
        commands = s.execute(
            select(PaperCommandRow.kind, PaperCommandRow.payload, PaperCommandRow.status)
        ).all()
    assert [(k, st) for k, _, st in commands] == [("order", "pending"), ("params", "pending")]
    assert commands[1][1] == {"strategy": "fast", "params": {"slow": 30}}
    assert commands[0][1]["quantity"] == 3 and commands[0][1]["strategy"] == "trend"
    worker = ws.paper.worker("cmds")
    worker.run(max_events=5)
    with ws.sessions() as s:
        statuses = s.execute(select(PaperCommandRow.status)).scalars().all()
    assert statuses == ["applied", "applied"]
    at.run()
    assert ws.paper.snapshot_state("cmds")["strategies"]["fast"]["params"]["slow"] == 30
    assert at.number_input(key="live_cmds_fast_slow").value == 30  # the form shows the live value
    strategies = open_tab(at, "paper_live_tab", "Strategies")
    trend = strategies.dataframe[0].value.set_index("strategy").loc["trend"]
    assert trend["fills"] >= 1


def test_bad_ticket_is_refused_next_to_its_input(app):
    ws = _ws()
    ws.paper.create("bad", _config())
    at = app("paper")
    at.number_input(key="ticket_qty").set_value(0)
    next(b for b in at.button if b.label == "Send order").click()
    at.run()
    assert any("quantity must be a positive number" in e.value for e in at.error)
    with ws.sessions() as s:
        assert s.scalars(select(PaperCommandRow)).all() == []


def test_equity_chart_draws_the_controller_bands_under_the_drawdown():
    import pandas as pd

    from app.charts import equity_drawdown_bands_figure

    equity = pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-05", periods=4, freq="s"),
            "equity": [100.0, 110.0, 88.0, 99.0],
            "drawdown": [0.0, 0.0, 0.2, 0.1],
        }
    )
    fig = equity_drawdown_bands_figure(equity, 0.10, 0.20)
    bands = [(s.y0, s.y1, s.yref) for s in fig.layout.shapes]
    assert bands == [(-0.0, -0.10, "y2"), (-0.10, -0.20, "y2"), (-0.20, -0.25, "y2")]
    drawdown = next(t for t in fig.data if t.name == "Drawdown")
    assert list(drawdown.y) == [-0.0, -0.0, -0.2, -0.1]


def test_the_risk_overlay_is_off_by_default_and_shown_when_on(app):
    at = app("paper")
    at.text_input(key="paper_name").set_value("guarded")
    at.checkbox(key="paper_start_now").uncheck()
    at.radio(key="paper_feed").set_value("Synthetic market")
    assert at.checkbox(key="paper_drawdown").value is False  # as in a backtest
    assert at.checkbox(key="paper_risk").value is False
    at.checkbox(key="paper_drawdown").check()
    at.button[-1].click()
    at.run()
    assert not at.exception, at.exception
    ws = _ws()
    assert ws.paper.config("guarded").risk.drawdown is True
    captions = [c.value for c in at.caption]
    assert any(
        "Risk overlay on · drawdown controller: warning at 10%, critical at 20% → new "
        "positions × 0.5" in c
        for c in captions
    ), captions
    ws.paper.create("plain", _config(events=200))
    at.run()
    at.selectbox(key="paper_pick").set_value("plain")
    at.run()
    assert not at.exception, at.exception
    assert not any("Risk overlay" in c.value for c in at.caption)


def test_the_console_warns_when_commissions_dominate_the_pnl(app):
    ws = _ws()
    ws.paper.create("costly", _config())  # SMA 5/20 on ticks at 0.05 %: costs eat everything
    ws.paper.worker("costly").run(max_events=1200)
    sleeves = ws.paper.snapshot_state("costly")["strategies"].values()
    pnl = sum(s["pnl"] for s in sleeves)
    paid = sum(s["commissions"] for s in sleeves)
    assert paid > 0.5 * -pnl > 0  # worked out from the sleeves: over half of the loss
    at = app("paper")
    assert not at.exception, at.exception
    warnings = [unescape(w.value)[0] for w in at.warning if w.value.startswith("Commissions of")]
    assert warnings == [
        f"Commissions of {paid:,.2f} are {paid / -pnl:.1%} of the {-pnl:,.2f} lost (before "
        f"costs: {pnl + paid:+,.2f}): the strategy trades too often for its edge; use slower "
        "signals, fewer trades or a cheaper venue."
    ]
    assert any(
        f"Commissions {paid:,.2f} · {paid / -pnl:.1%} of the loss" in c.value for c in at.caption
    )

    free = _config().model_copy(update={"execution": ExecutionConfig()})  # no commission
    ws.paper.create("free", free)
    ws.paper.worker("free").run(max_events=1200)
    at.run()  # the new session is listed
    at.selectbox(key="paper_pick").set_value("free")
    at.run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if w.value.startswith("Commissions of")]


def test_a_synthetic_feed_defaults_to_minute_windows_and_a_one_bp_commission(app):
    at = app("paper")
    at.checkbox(key="paper_start_now").uncheck()
    at.text_input(key="paper_name").set_value("replayed")
    at.button[-1].click()
    at.run()  # the replay default: SMA 10/50 on daily bars at 0.05 %
    ws = _ws()
    replayed = ws.paper.config("replayed")
    assert replayed.feed.kind == "replay"
    assert replayed.sleeves[0].params == {"fast": 10, "slow": 50, "long_short": False}
    assert replayed.execution.commission.rate == 0.0005

    assert not at.text_input  # the form closed once its session was created
    at.session_state["paper_new_open"] = True  # the user opens it again
    at.run()
    at.radio(key="paper_feed").set_value("Synthetic market").run()
    assert at.number_input(key="paper_commission_synthetic").value == 0.01  # percent
    at.text_input(key="paper_name").set_value("ticks")
    at.button[-1].click()
    at.run()
    assert not at.exception, at.exception
    ticks = ws.paper.config("ticks")
    assert ticks.feed.kind == "synthetic"
    # one tick a second: windows of 100 s and 400 s, not 10 s and 50 s; 1 bp of notional
    assert ticks.sleeves[0].params == {"fast": 100, "slow": 400, "long_short": False}
    assert ticks.execution.commission.rate == 0.0001


def test_a_refresh_updates_the_charts_in_place_and_caps_its_toasts(app):
    import json

    from app import paper_live

    ws = _ws()
    ws.paper.create("busy", _config())
    ws.paper.worker("busy").run(max_events=1200)
    at = app("paper")
    charts = at.get("plotly_chart")
    keys = [c.proto.id.rsplit("-", 1)[-1] for c in charts]  # Streamlit ends the id with the key
    assert keys == ["paper_price", "paper_equity"]
    revisions = [json.loads(c.proto.spec)["layout"]["uirevision"] for c in charts]
    assert revisions == ["paper_price SYN-EQ", "paper_equity busy"]  # equity preset
    assert not at.toast  # the first look shows no backlog

    before = ws.paper.status("busy")["n_fills"]
    ws.paper.worker("busy").run(max_events=1800)
    new = min(ws.paper.status("busy")["n_fills"] - before, 50)  # the snapshot's 50 latest
    assert new > paper_live.MAX_TOASTS  # enough to need the cap
    at.run()
    assert not at.exception, at.exception
    texts = [t.value for t in at.toast]
    assert len(texts) == paper_live.MAX_TOASTS + 1
    assert all(t.startswith("Fill ") for t in texts[:3])
    assert texts[-1] == f"…and {new - 3} more (see the Alerts and fills tabs)"
    # same keys in the same places, same revisions: plotly updates the figures in place
    assert [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")] == keys
    assert [json.loads(c.proto.spec)["layout"]["uirevision"] for c in at.get("plotly_chart")] == (
        revisions
    )


def test_toasts_keep_the_first_three_and_count_the_rest():
    from app.paper_live import toasts

    messages = [(f"m{i}", "i") for i in range(7)]
    assert toasts(messages[:3]) == messages[:3]
    assert toasts(messages) == [
        *messages[:3],
        ("…and 4 more (see the Alerts and fills tabs)", ":material/more_horiz:"),
    ]


def test_a_new_session_becomes_the_selected_one(app):
    """The page said "created" and kept showing the previously selected session."""
    ws = _ws()
    ws.paper.create("old", _config(events=200))
    at = app("paper")
    assert at.selectbox(key="paper_pick").value == "old"
    assert not at.text_input  # the New session form is collapsed, and not drawn
    at.session_state["paper_new_open"] = True  # the user opens it
    at.run()
    at.text_input(key="paper_name").set_value("newer")
    at.checkbox(key="paper_start_now").uncheck()
    at.radio(key="paper_feed").set_value("Synthetic market")
    at.button[-1].click()  # the form's submit button
    at.run()
    assert not at.exception, at.exception
    assert sorted(ws.paper.names()) == ["newer", "old"]
    assert at.selectbox(key="paper_pick").value == "newer"
    # the panels below show the new session, and the selector still works afterwards
    at.selectbox(key="paper_pick").set_value("old").run()
    assert at.selectbox(key="paper_pick").value == "old"
    at.run()
    assert at.selectbox(key="paper_pick").value == "old"


def test_parameters_shown_are_the_selected_sessions(app):
    """Two sessions with a sleeve of the same name: the form showed the other one's values."""
    ws = _ws()
    ws.paper.create("one", _config(events=200))
    other = _config(events=200).model_copy(
        update={
            "sleeves": (
                SleeveConfig(
                    key="fast",
                    strategy="sma_crossover",
                    params={"fast": 7, "slow": 40},
                    allocation=0.5,
                ),
                SleeveConfig(key="trend", strategy="momentum", allocation=0.5),
            )
        }
    )
    ws.paper.create("two", other)
    at = app("paper")
    open_tab(at, "paper_view", "Parameters")
    at.selectbox(key="paper_pick").set_value("one").run()
    assert at.number_input(key="live_one_fast_slow").value == 20
    at.selectbox(key="paper_pick").set_value("two").run()
    assert not at.exception, at.exception
    assert at.number_input(key="live_two_fast_slow").value == 40
    assert at.number_input(key="live_two_fast_fast").value == 7


def _refresh_intervals(monkeypatch) -> list:
    """The ``run_every`` of each live-panel fragment the page draws, in order."""
    from app import paper_live

    intervals = []
    real_fragment = paper_live.st.fragment

    def fragment(*args, run_every=None, **kwargs):
        intervals.append(run_every)
        return real_fragment(*args, run_every=run_every, **kwargs)

    monkeypatch.setattr(paper_live.st, "fragment", fragment)
    return intervals


def test_a_just_launched_worker_is_polled_fast_until_it_runs(app, monkeypatch):
    """Create and start, with a worker slower than the click's wait: the live panel refreshes
    every 0.25 s (not the chosen 2 s) until the worker has claimed the session, so "running"
    shows within a refresh of it starting."""
    from app import paper_live, paper_panels
    from app.paper_panels import STARTING

    monkeypatch.setattr(paper_panels, "START_WAIT", 0.2)  # the click's wait for a claim ends
    ws = _ws()
    launched = []
    monkeypatch.setattr(
        type(ws.paper), "start_worker", lambda self, name, url, **_: launched.append(name) or 1
    )
    intervals = _refresh_intervals(monkeypatch)
    at = app("paper")
    at.text_input(key="paper_name").set_value("quick")
    at.radio(key="paper_feed").set_value("Synthetic market")
    at.button[-1].click()  # the form's submit button, "start now" checked by default
    at.run()
    assert not at.exception, at.exception
    assert launched == ["quick"] and at.session_state[STARTING][0] == "quick"
    assert intervals[-1] == f"{paper_live.FAST_REFRESH}s"
    at.run()  # not claimed yet: still fast
    assert intervals[-1] == f"{paper_live.FAST_REFRESH}s"
    ws.paper.worker("quick").run(max_events=5)  # the worker claims the session and trades
    at.run()
    assert STARTING not in at.session_state
    assert intervals[-1] == "2s"  # back to the chosen interval


def test_a_worker_that_claims_within_the_wait_shows_running_at_once(app, monkeypatch):
    """Create and start: the click waits for the worker's claim (at most START_WAIT), so the
    page it leads to shows the session running, with no fast polling and the form closed."""
    import threading
    import time

    from app.paper_panels import NEW_OPEN, STARTING

    ws = _ws()
    waited = []

    def start_worker(self, name, url, **_):  # a worker that claims the session 0.3 s later
        threading.Timer(0.3, lambda: self.worker(name).writer.claim(name)).start()
        waited.append(time.monotonic())
        return 1

    monkeypatch.setattr(type(ws.paper), "start_worker", start_worker)
    monkeypatch.setattr(type(ws.paper), "worker_alive", lambda self, row: True)
    intervals = _refresh_intervals(monkeypatch)
    at = app("paper")
    at.text_input(key="paper_name").set_value("claimed")
    at.radio(key="paper_feed").set_value("Synthetic market")
    at.button[-1].click()
    at.run()
    assert not at.exception, at.exception
    assert time.monotonic() - waited[0] >= 0.3  # the click waited for the claim
    assert ws.paper.status("claimed")["status"] == "running"
    assert STARTING not in at.session_state and intervals[-1] == "2s"
    assert any("running · last" in p.proto.text for p in at.get("progress"))
    assert at.session_state[NEW_OPEN] is False  # the form closed: the new session shows
