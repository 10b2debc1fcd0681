"""Backtest runs through the workstation: ids, saving, reloading, comparing, stopping."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.analytics.metrics import METRIC_KEYS
from core.backtest import BacktestConfig, StopRequested
from core.execution import CommissionModel, ExecutionConfig
from core.workstation import Workstation


@pytest.fixture
def ws(tmp_path):
    workstation = Workstation.open(f"sqlite:///{tmp_path}/ws.db", seed_demo=False)
    yield workstation
    workstation.close()


def config(**changes) -> BacktestConfig:
    base = {
        "strategy": "sma_crossover",
        "params": {"fast": 10, "slow": 50, "long_short": False},  # defaults spelled out
        "symbols": ("SPX",),
        "start": date(2005, 1, 1),
        "end": date(2008, 12, 31),
        "execution": ExecutionConfig(commission=CommissionModel(rate=0.001)),
    }
    return BacktestConfig(**{**base, **changes})


def same_metrics(a: dict, b: dict, tol: float = 0.0) -> bool:
    """Equal key by key (NaN and None alike), within ``tol``."""
    assert sorted(a) == sorted(b)
    for key in a:
        x, y = a[key], b[key]
        x = math.nan if x is None else x
        y = math.nan if y is None else y
        if math.isnan(x) and math.isnan(y):
            continue
        if x != pytest.approx(y, rel=0, abs=tol):
            return False
    return True


# -- ids -------------------------------------------------------------------------------------------
def test_run_id_is_the_config_hash(ws):
    result = ws.backtests.run(config(), save=False)
    assert result.run_id == config().run_id()
    assert len(result.run_id) == 16
    # the same description gives the same id, whatever the order of the params
    assert config(params={"long_short": False, "slow": 50, "fast": 10}).run_id() == result.run_id
    # any change gives another id
    others = {
        config(params={"fast": 11, "slow": 50}).run_id(),
        config(end=date(2008, 12, 30)).run_id(),
        config(cash=50_000.0).run_id(),
        config(execution=ExecutionConfig(fill_timing="same_close")).run_id(),
        config(symbols=("IXIC",)).run_id(),
    }
    assert result.run_id not in others and len(others) == 5


def test_same_config_same_result_and_one_saved_row(ws):
    first = ws.backtests.run(config())
    again = ws.backtests.run(config())
    assert again.run_id == first.run_id
    pd.testing.assert_series_equal(again.equity, first.equity)
    pd.testing.assert_frame_equal(again.trades, first.trades)
    assert list(ws.backtests.runs()["id"]) == [first.run_id]


# -- results ---------------------------------------------------------------------------------------
def test_result_tables_and_metrics(ws):
    result = ws.backtests.run(config(), save=False)
    assert list(result.metrics) == list(METRIC_KEYS)
    assert result.metrics["n_trades"] == len(result.trades) > 0
    assert result.equity.iloc[0] == 100_000.0
    assert result.final_equity == result.equity.iloc[-1]
    assert result.metrics["total_return"] == pytest.approx(result.final_equity / 100_000 - 1)
    assert result.periods_per_year == pytest.approx(252, rel=0.05)
    assert result.equity.index[0] >= pd.Timestamp("2005-01-01")
    assert result.equity.index[-1] <= pd.Timestamp("2008-12-31")
    # every execution comes from an order; commission is 0.1 % of each fill's notional
    executions = result.executions
    assert set(executions["order_id"]) <= set(result.orders["id"])
    np.testing.assert_allclose(
        executions["commission"], executions["quantity"] * executions["price"] * 0.001
    )
    assert result.trades["commission"].sum() == pytest.approx(executions["commission"].sum())
    assert ws.backtests.runs().empty  # save=False stores nothing


def test_saved_run_reloads(ws):
    result = ws.backtests.run(config())
    saved = ws.backtests.load_run(result.run_id)
    assert saved["id"] == result.run_id
    assert saved["config"] == config()
    # within 1e-10 (the store keeps full precision; see test_saved_run_reloads_bit_for_bit)
    assert same_metrics(saved["metrics"], result.metrics, tol=1e-10)
    np.testing.assert_array_equal(saved["equity"].to_numpy(), result.equity.to_numpy())
    assert saved["equity"].index.equals(result.equity.index)
    trades = saved["trades"].copy()
    for column in ("entry_time", "exit_time"):  # stored as ISO strings
        trades[column] = pd.to_datetime(trades[column])
    pd.testing.assert_frame_equal(trades, result.trades, check_dtype=False, rtol=0, atol=1e-10)


def test_saved_run_reloads_bit_for_bit(ws):
    result = ws.backtests.run(config())
    saved = ws.backtests.load_run(result.run_id)
    assert same_metrics(saved["metrics"], result.metrics)
    np.testing.assert_array_equal(saved["trades"]["pnl"], result.trades["pnl"])


def test_runs_lists_saved_runs_and_compare_puts_them_side_by_side(ws):
    a = ws.backtests.run(config())
    b = ws.backtests.run(config(params={"fast": 20, "slow": 60}))
    runs = ws.backtests.runs()
    assert set(runs["id"]) == {a.run_id, b.run_id}
    row = runs.set_index("id").loc[a.run_id]
    assert row["strategy"] == "sma_crossover" and row["symbols"] == "SPX"
    assert row["params"] == {"fast": 10, "slow": 50, "long_short": False}
    assert row["final_equity"] == a.final_equity
    assert row["n_trades"] == a.metrics["n_trades"]
    table = ws.backtests.compare([a.run_id, b.run_id])
    assert list(table.columns) == [
        f"sma_crossover SPX [{a.run_id[:6]}]",
        f"sma_crossover SPX [{b.run_id[:6]}]",
    ]
    assert list(table.index) == list(METRIC_KEYS)
    assert same_metrics(table.iloc[:, 0].to_dict(), a.metrics, tol=1e-10)
    assert same_metrics(table.iloc[:, 1].to_dict(), b.metrics, tol=1e-10)
    ws.backtests.delete_run(a.run_id)
    assert list(ws.backtests.runs()["id"]) == [b.run_id]
    with pytest.raises(KeyError, match="no saved run"):
        ws.backtests.load_run(a.run_id)


def test_vectorized_run_matches_the_event_run(ws):
    event = ws.backtests.run(config(), save=False)
    vector = ws.backtests.run(config(), vectorized=True, save=False)
    assert vector.run_id == event.run_id
    pd.testing.assert_series_equal(vector.equity, event.equity)
    pd.testing.assert_frame_equal(vector.trades, event.trades)


# -- data files ------------------------------------------------------------------------------------
def test_backtest_on_a_csv_file(ws, tmp_path):
    # a zig-zag: 10 bars up, 10 down, three times, so SMA(2)/SMA(5) crosses both ways
    closes = np.concatenate([np.linspace(100, 120, 10), np.linspace(119, 100, 10)] * 3)
    days = pd.bdate_range("2023-01-02", periods=len(closes))
    path = tmp_path / "zigzag.csv"
    pd.DataFrame(
        {
            "timestamp": days.strftime("%Y-%m-%d"),
            "open": closes - 0.5,
            "high": closes + 1,
            "low": closes - 1,
            "close": closes,
            "volume": 1000,
        }
    ).to_csv(path, index=False)
    params = {"fast": 2, "slow": 5}
    cfg = config(symbols=(), data_file=str(path), params=params, start=None, end=None)
    result = ws.backtests.run(cfg)
    assert set(result.trades["symbol"]) == {"ZIGZAG"}  # the file's stem, upper-cased
    assert len(result.trades) >= 2
    assert len(result.equity) == len(closes)
    # next_open: every fill price is an open of the file (close − 0.5)
    opens = set(np.round(closes - 0.5, 9))
    assert set(np.round(result.executions["price"], 9)) <= opens
    assert ws.backtests.runs().iloc[0]["symbols"] == str(path)


def test_backtest_on_a_close_only_csv_file(ws, tmp_path):
    closes = [100.0, 101, 103, 102, 99, 97, 98, 101, 104, 103, 100, 98]
    path = tmp_path / "closes.csv"
    frame = pd.DataFrame({"date": pd.bdate_range("2023-01-02", periods=12), "close": closes})
    frame.to_csv(path, index=False)
    params = {"fast": 2, "slow": 3}
    cfg = config(symbols=(), data_file=str(path), params=params, start=None, end=None)
    result = ws.backtests.run(cfg, save=False)
    # close-only: o = h = l = c, so a next_open fill is at the next bar's close
    assert len(result.executions) > 0
    assert set(result.executions["price"]) <= set(closes)


# -- errors and stopping ---------------------------------------------------------------------------
def test_stop_requested(ws):
    with pytest.raises(StopRequested, match="stopped at bar 0"):
        ws.backtests.run(config(), should_stop=lambda: True)
    assert ws.backtests.runs().empty


def test_stop_after_some_progress(ws):
    seen: list[float] = []

    def should_stop() -> bool:
        return len(seen) >= 3

    with pytest.raises(StopRequested):
        ws.backtests.run(config(), progress=seen.append, should_stop=should_stop)
    assert seen == sorted(seen) and 0 <= seen[0] < seen[-1] < 1


def test_progress_reaches_one(ws):
    seen: list[float] = []
    ws.backtests.run(config(), save=False, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"symbols": ("SPX", "IXIC")}, "trades one instrument"),
        ({"symbols": ()}, "give symbols or a data file"),
        ({"start": date(2005, 1, 1), "end": date(2005, 1, 3)}, "fewer than two bars"),
    ],
)
def test_invalid_runs_are_refused(ws, changes, message):
    with pytest.raises(ValueError, match=message):
        ws.backtests.run(config(**changes))
    assert ws.backtests.runs().empty


def test_defaults_spelled_out_or_not_give_the_same_run_id(ws):
    short = ws.backtests.run(config(params={"fast": 10, "slow": 50}), save=False)
    full = ws.backtests.run(
        config(params={"fast": 10, "slow": 50, "long_short": False}), save=False
    )
    assert short.run_id == full.run_id


def test_a_rebalancing_run_carries_its_rebalance_history(ws):
    from core.backtest import BacktestConfig

    config = BacktestConfig(
        strategy="rebalancer",
        params={"every": 21},
        symbols=("KO", "MSFT"),
        start="2020-01-01",
        end="2020-12-31",
    )
    result = ws.backtests.run(config, save=False)
    rebalances = result.extra["rebalances"]
    n = len(result.equity)
    # the first bar allocates, then every 21st bar: bars 0, 21, 42, … below n
    assert len(rebalances) == -(-n // 21)
    assert rebalances["reasons"].iloc[0] == "initial allocation"
    assert list(rebalances["ts"]) == list(result.equity.index[::21])
