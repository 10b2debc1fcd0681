"""The optional live Yahoo feed, on a sample in yfinance's shape served poll by poll (no test
touches the network)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from core.instruments import default_instrument
from core.paper import FeedConfig, SessionConfig, SleeveConfig
from core.paper import _feeds as feeds
from core.paper._feeds import IDLE, PollingFeed, recent_bars
from core.workstation import Workstation
from tests.paper.test_worker import fills

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "yahoo_spy_1m_sample.csv"


def sample() -> pd.DataFrame:
    frame = pd.read_csv(SAMPLE, index_col="Datetime")
    frame.index = pd.to_datetime(frame.index, utc=True).tz_convert("America/New_York")
    return frame


def test_recent_bars_are_stamped_in_utc_and_bad_prices_are_named():
    bars = recent_bars(sample().head(3), "SPY")
    # 09:30 New York (UTC−5 in January) is 14:30 UTC
    assert list(bars.index) == [
        pd.Timestamp("2026-01-05 14:30"),
        pd.Timestamp("2026-01-05 14:31"),
        pd.Timestamp("2026-01-05 14:32"),
    ]
    assert bars.loc["2026-01-05 14:30", "close"] == 589.53
    broken = sample().head(5)
    broken.iloc[3, broken.columns.get_loc("Low")] = -1.0
    with pytest.raises(ValueError, match=r"SPY: a bar at 2026-01-05 14:33:00 has a missing"):
        recent_bars(broken, "SPY")


def test_each_completed_bar_is_emitted_once_in_order():
    full = sample()
    served = {"n": 10}

    def source(symbol, interval):  # every poll sees the last bars so far, forming one included
        assert interval == "1m"
        return full.iloc[max(0, served["n"] - 6) : served["n"]]

    clock = {"now": pd.Timestamp("2026-01-05 14:39:30")}  # 09:39 is still forming
    feed = PollingFeed(
        FeedConfig(kind="yahoo", symbols=("SPY",), poll_seconds=1),
        {"SPY": default_instrument("SPY")},
        source,
        now=lambda: clock["now"],
        sleep=lambda s: None,
    )
    first = feed.poll()
    assert [t.strftime("%H:%M") for t, _ in first] == ["14:34", "14:35", "14:36", "14:37", "14:38"]
    feed.resume_after(first[-1][0])
    served["n"], clock["now"] = 14, pd.Timestamp("2026-01-05 14:43:30")
    second = feed.poll()  # overlapping window: only the new completed bars
    assert [t.strftime("%H:%M") for t, _ in second] == ["14:39", "14:40", "14:41", "14:42"]
    assert second[0][1]["close"] == [float(full["Close"].iloc[9])]
    # the generator numbers events on from where it is told and idles when nothing is new
    feed.resume_after(second[-1][0])
    events = feed.events(start=9)
    assert next(events) is IDLE  # nothing completed since
    assert feed.polls == 3


def test_two_symbols_are_aligned_by_time_with_gaps_as_nan():
    full = sample()
    other = full.drop(full.index[2])  # QQQ misses the 09:32 bar

    def source(symbol, interval):
        return (full if symbol == "SPY" else other).iloc[:5]

    feed = PollingFeed(
        FeedConfig(kind="yahoo", symbols=("SPY", "QQQ"), poll_seconds=1),
        {s: default_instrument(s) for s in ("SPY", "QQQ")},
        source,
        now=lambda: pd.Timestamp("2026-01-06"),
        sleep=lambda s: None,
    )
    rows = feed.poll()
    assert len(rows) == 5
    gap = rows[2][1]
    assert gap["close"][0] == full["Close"].iloc[2] and math.isnan(gap["close"][1])


def _config() -> SessionConfig:
    return SessionConfig(
        sleeves=(SleeveConfig(key="sma", strategy="sma_crossover", params={"fast": 3, "slow": 8}),),
        feed=FeedConfig(kind="yahoo", symbols=("SPY",), poll_seconds=1),
        cash=100_000,
        regime_states=None,
    )


def test_a_live_session_resumes_from_its_recorded_bars(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_ALLOW_NETWORK", "1")
    full = sample()
    monkeypatch.setitem(feeds.LIVE_SOURCES, "yahoo", lambda symbol, interval: full)
    ws = Workstation.open(f"sqlite:///{tmp_path}/live.db", seed_demo=False)
    ws.paper.create("whole", _config(), portfolio="whole")
    ws.paper.worker("whole").run(max_events=len(full))
    ws.paper.create("split", _config(), portfolio="split")
    ws.paper.worker("split").run(max_events=60)
    # a new worker cannot ask the feed for the past: it re-runs the recorded bars
    monkeypatch.setitem(feeds.LIVE_SOURCES, "yahoo", lambda symbol, interval: full.iloc[40:])
    ws.paper.worker("split").run(max_events=len(full) - 60)
    a, b = fills(ws, "whole"), fills(ws, "split")
    assert len(a) > 5
    pd.testing.assert_frame_equal(a.drop(columns="fill_id"), b.drop(columns="fill_id"))
    assert ws.paper.status("split")["events"] == len(full)
    assert ws.paper.status("split")["equity"] == ws.paper.status("whole")["equity"]
    assert ws.paper.reconcile("split")["match"]
    ws.close()


def test_the_live_feed_needs_the_network_setting(ws):
    with pytest.raises(ValueError, match="WORKSTATION_ALLOW_NETWORK=1"):
        ws.paper.create("offline", _config())
    assert ws.paper.names() == []
