import json
import math

import pytest

from core.cli import main

METRIC_KEYS = {
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "var_95",
    "cvar_95",
    "var_99",
    "cvar_99",
    "win_rate",
    "profit_factor",
    "n_trades",
}
TRADE_KEYS = {
    "entry_time",
    "exit_time",
    "qty",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_net",
    "commission",
}


@pytest.fixture(autouse=True)
def temp_db(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_backtest_json_contract_and_ledger_reconciliation(capsys):
    out = run_json(
        capsys,
        "backtest",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "SPX",
        "--param",
        "fast=10",
        "--param",
        "slow=50",
        "--commission",
        "0.001",
    )

    assert set(out["metrics"]) >= METRIC_KEYS
    assert all(set(t) >= TRADE_KEYS for t in out["trades"])
    assert out["metrics"]["n_trades"] == len(out["trades"])
    # Flat at the end (the last trade is closed): final equity = cash + Σ net trade P&L.
    assert math.isclose(
        out["final_equity"], 100_000 + sum(t["pnl_net"] for t in out["trades"]), rel_tol=1e-12
    )
    for t in out["trades"]:
        # commission on entry and on exit, each 0.1 % of that leg's notional
        expected = 0.001 * t["qty"] * (t["entry_price"] + t["exit_price"])
        assert math.isclose(t["commission"], expected, rel_tol=1e-9)
        assert math.isclose(t["pnl"], t["qty"] * (t["exit_price"] - t["entry_price"]), rel_tol=1e-9)


def test_backtest_on_a_data_file_with_same_close_fills(tmp_path, capsys):
    closes = [10, 9, 8, 9, 11, 12, 11, 9, 8]
    rows = ["date,close"] + [f"2024-01-{d:02d},{p}" for d, p in enumerate(closes, start=1)]
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(rows))
    out = run_json(
        capsys,
        "backtest",
        "--strategy",
        "sma_crossover",
        "--data",
        str(path),
        "--param",
        "fast=2",
        "--param",
        "slow=3",
        "--fill",
        "same_close",
    )
    # SMA2 − SMA3 by hand (bars from 0): bar2 8.5−9 < 0; bar3 8.5−8.67 < 0;
    # bar4 (close 11) 10−9.33 > 0 → buy at 11: floor(100000 / 11) = 9090 shares;
    # bar5, bar6 > 0; bar7 (close 9) 10−10.67 < 0 → sell at 9 (bar8 still follows).
    assert len(out["trades"]) == 1
    trade = out["trades"][0]
    assert (trade["qty"], trade["entry_price"], trade["exit_price"]) == (9090, 11, 9)
    assert trade["status"] == "closed"
    assert math.isclose(out["final_equity"], 100_000 - 9090 * 2)


def test_a_signal_on_the_last_bar_is_never_filled(tmp_path, capsys):
    closes = [10, 9, 8, 9, 11, 12, 11, 9]  # the exit signal falls on the last bar
    rows = ["date,close"] + [f"2024-01-{d:02d},{p}" for d, p in enumerate(closes, start=1)]
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(rows))
    out = run_json(
        capsys,
        "backtest",
        "--strategy",
        "sma_crossover",
        "--data",
        str(path),
        "--param",
        "fast=2",
        "--param",
        "slow=3",
        "--fill",
        "same_close",
    )
    # still holding 9090 shares bought at 11, marked at 9: listed as the open trade
    (trade,) = out["trades"]
    assert trade["status"] == "open"
    assert trade["exit_time"] is None and trade["exit_price"] is None
    assert (trade["qty"], trade["entry_price"]) == (9090, 11)
    assert trade["pnl"] == trade["pnl_net"] == (9 - 11) * 9090  # no commission configured
    assert out["metrics"]["n_trades"] == 0  # metrics count closed trades only
    assert math.isclose(out["final_equity"], 100_000 - 9090 * 11 + 9090 * 9)


def test_unknown_strategy_is_a_clear_error(capsys):
    assert main(["backtest", "--strategy", "nope", "--symbol", "SPX", "--json"]) == 1
    assert "unknown strategy 'nope'" in json.loads(capsys.readouterr().out)["error"]


def test_montecarlo_json(capsys):
    out = run_json(
        capsys,
        "montecarlo",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "SPX",
        "--paths",
        "500",
        "--horizon",
        "21",
        "--seed",
        "7",
    )
    assert out["n_paths"] == 500 and out["horizon"] == 21
    assert 0 <= out["probability_of_profit"] <= 1
    assert out["cvar_95"] <= out["var_95"]
    again = run_json(
        capsys,
        "montecarlo",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "SPX",
        "--paths",
        "500",
        "--horizon",
        "21",
        "--seed",
        "7",
    )
    assert again == out  # same seed, same numbers


def test_run_option_defaults_are_the_config_models_defaults():
    from core.backtest import BacktestConfig
    from core.cli import build_parser
    from core.cli._backtest import execution_from_args
    from core.execution import CommissionModel, ExecutionConfig, Sizing, SlippageModel

    def default(model, field):
        return model.model_fields[field].default

    for command in ("backtest", "montecarlo", "optimize"):
        args = build_parser().parse_args([command, "--strategy", "sma_crossover", "--symbol", "X"])
        assert args.cash == default(BacktestConfig, "cash") == 100_000.0
        assert args.commission == default(CommissionModel, "rate") == 0.0
        assert args.slippage_bps == default(SlippageModel, "bps") == 0.0
        assert args.fill == default(ExecutionConfig, "fill_timing") == "next_open"
        assert args.sizing == default(Sizing, "method") == "all_in"
        assert args.allow_short is default(ExecutionConfig, "allow_short") is True
        assert args.size is None
        assert execution_from_args(args) == ExecutionConfig()
