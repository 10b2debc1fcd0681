"""``python -m core paper``: the contract scripts rely on (shapes and JSON keys)."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.marketdata import load_bundled
from core.portfolio import parse_document


@pytest.fixture(autouse=True)
def temp_db(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def run(capsys, *argv) -> dict:
    code = main(["--json", *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_run_from_a_file_resumes_on_rerun_and_reports_the_contract_keys(capsys, tmp_path):
    bars = load_bundled("SPX").loc["2010":"2012"]
    path = tmp_path / "spx.csv"
    bars.rename_axis("Date").rename(columns=str.title).to_csv(path)
    first = run(
        capsys,
        "paper",
        "run",
        "--session",
        "file",
        "--strategy",
        "sma_crossover",
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--data",
        str(path),
        "--feed",
        "replay",
        "--speed",
        "max",
        "--cash",
        "50000",
        "--commission",
        "0.001",
        "--sizing",
        "percent",
        "--size",
        "0.5",
        "--max-events",
        "300",
    )
    assert first["created"] is True and first["status"] == "stopped" and first["events"] == 300
    status = run(capsys, "paper", "status", "--session", "file")
    assert {"equity", "cash", "positions", "n_fills"} <= set(status)
    assert status["events"] == 300 and status["n_events"] == len(bars)
    # the same command again resumes where it stopped and runs to the end
    second = run(
        capsys,
        "paper",
        "run",
        "--session",
        "file",
        "--strategy",
        "sma_crossover",
        "--data",
        str(path),
        "--feed",
        "replay",
    )
    assert second["created"] is False and second["status"] == "finished"
    assert second["events"] == len(bars)
    # and equals a backtest of the same bars with the same options
    backtest = run(
        capsys,
        "backtest",
        "--strategy",
        "sma_crossover",
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--data",
        str(path),
        "--cash",
        "50000",
        "--commission",
        "0.001",
        "--sizing",
        "percent",
        "--size",
        "0.5",
        "--no-save",
    )
    assert second["equity"] == pytest.approx(backtest["final_equity"], rel=1e-12)
    assert second["n_fills"] > 10
    report = run(capsys, "paper", "reconcile", "--session", "file")
    assert report["match"] is True


def test_commands_export_and_errors(capsys, tmp_path):
    run(
        capsys,
        "paper",
        "run",
        "--session",
        "syn",
        "--strategy",
        "momentum",
        "--feed",
        "synthetic",
        "--events",
        "600",
        "--portfolio",
        "Paper book",
        "--max-events",
        "100",
    )
    order = run(capsys, "paper", "order", "--session", "syn", "--side", "sell", "--quantity", "2")
    assert order["command"] == "order" and order["id"] > 0
    changed = run(capsys, "paper", "params", "--session", "syn", "--param", "lookback=30")
    assert changed["payload"] == {"strategy": "momentum", "params": {"lookback": 30}}
    done = run(capsys, "paper", "run", "--session", "syn")
    assert done["status"] == "finished" and done["events"] == 600
    assert done["strategies"]["momentum"]["n_fills"] == done["n_fills"] > 0
    out = tmp_path / "book.json"
    run(capsys, "paper", "export", "--session", "syn", "--out", str(out))
    document = parse_document(out.read_text())
    assert document.name == "Paper book"
    assert len(document.trades) == done["n_fills"]
    listing = run(capsys, "paper", "list")
    assert [s["session"] for s in listing["sessions"]] == ["syn"]
    # errors name what is wrong and exit non-zero
    assert main(["paper", "order", "--session", "syn", "--side", "buy", "--quantity", "-1"]) != 0
    assert "quantity" in capsys.readouterr().err
    assert main(["paper", "params", "--session", "syn", "--param", "nope=3"]) != 0
    assert "no parameter 'nope'" in capsys.readouterr().err
    assert main(["paper", "status", "--session", "missing"]) != 0
    assert "no paper session named 'missing'" in capsys.readouterr().err


def test_a_session_from_a_saved_strategy_configuration(capsys):
    from core.strategies import save_strategy_config
    from core.workstation import Workstation

    ws = Workstation.open()
    save_strategy_config(ws.sessions, "tuned", "sma_crossover", {"fast": 4, "slow": 9})
    out = run(
        capsys,
        "paper",
        "run",
        "--session",
        "cfg",
        "--config",
        "tuned",
        "--param",
        "slow=12",
        "--feed",
        "synthetic",
        "--events",
        "300",
        "--create-only",
    )
    assert out["created"] is True
    assert ws.paper.config("cfg").sleeves[0].params == {"fast": 4, "slow": 12, "long_short": False}
    assert (
        main(["paper", "run", "--session", "x", "--config", "missing", "--feed", "synthetic"]) != 0
    )
    assert "no saved strategy configuration 'missing'" in capsys.readouterr().err


SPX_0409 = ["--symbol", "SPX", "--start", "2004-01-01", "--end", "2009-12-31"]
SMA = ["--strategy", "sma_crossover", "--param", "fast=10", "--param", "slow=50"]


def test_paper_run_with_a_backtests_flags_ends_at_its_equity_overlay_off_or_on(capsys):
    backtest = run(capsys, "backtest", *SMA, *SPX_0409, "--no-save")
    paper = run(capsys, "paper", "run", "--session", "plain", *SMA, *SPX_0409)
    assert paper["status"] == "finished"
    assert paper["equity"] == backtest["final_equity"]  # same code, same defaults: exact
    assert paper["risk"] is None and "risk" not in backtest
    # the same overlay on both sides: again equal, and the 2008 drawdown made it bite
    overlay = ["--drawdown-control", "--critical-scale", "0.5"]
    guarded = run(capsys, "backtest", *SMA, *SPX_0409, *overlay, "--no-save")
    paper_guarded = run(capsys, "paper", "run", "--session", "guarded", *SMA, *SPX_0409, *overlay)
    assert paper_guarded["equity"] == guarded["final_equity"] != backtest["final_equity"]
    assert guarded["risk"] == paper_guarded["risk"]
    assert guarded["risk"] == {
        "drawdown": True,
        "drawdown_warning": 0.10,
        "drawdown_critical": 0.20,
        "critical_scale": 0.5,
        "pre_trade": False,
        "limits": None,
    }
    assert backtest["run_id"] != guarded["run_id"]


def test_a_refused_run_writes_nothing_and_the_corrected_rerun_uses_its_flags(capsys):
    from core.workstation import Workstation
    from tests.conftest import count_rows

    ws = Workstation.open()
    before = count_rows(ws)
    bad = ["paper", "run", "--session", "mix", "--strategy", "sma_crossover", "--max-events", "5"]
    assert main([*bad, "--symbol", "SPX,AAPL"]) != 0
    err = capsys.readouterr().err
    assert "paper run: sma_crossover trades one instrument; the feed has 2 (SPX, AAPL)" in err
    assert "Traceback" not in err
    assert count_rows(ws) == before  # no session, no portfolio, no audit event
    out = run(capsys, *bad, "--symbol", "SPX")
    assert out["created"] is True and out["events"] == 5
    assert ws.paper.config("mix").feed.symbols == ("SPX",)


def test_a_session_that_never_traded_takes_corrected_flags_one_that_traded_keeps_its_own(capsys):
    from core.workstation import Workstation

    base = ["paper", "run", "--session", "s", "--strategy", "sma_crossover", "--symbol"]
    run(capsys, *base, "SPX", "--create-only")
    out = run(capsys, *base, "IXIC", "--cash", "50000", "--max-events", "3")
    assert out["created"] is False and out["events"] == 3
    ws = Workstation.open()
    config = ws.paper.config("s")
    assert (config.feed.symbols, config.cash) == (("IXIC",), 50_000.0)
    assert ws.portfolios.summary(out["portfolio"]).cash == 50_000.0
    again = run(capsys, *base, "SPX", "--max-events", "2")
    assert again["events"] == 5 and ws.paper.config("s").feed.symbols == ("IXIC",)


def test_max_events_must_be_at_least_one(capsys):
    argv = ["paper", "run", "--session", "m", "--strategy", "momentum", "--feed", "synthetic"]
    for bad in ("0", "-3"):
        assert main([*argv, "--max-events", bad]) != 0
        assert f"--max-events: must be at least 1, got {bad}" in capsys.readouterr().err
    assert run(capsys, "paper", "list")["sessions"] == []


def test_paper_run_defaults_are_the_config_models_defaults():
    from core.cli import build_parser
    from core.cli._backtest import execution_from_args
    from core.execution import CommissionModel, ExecutionConfig, Sizing, SlippageModel
    from core.paper import FeedConfig, SessionConfig, parse_speed

    def default(model, field):
        return model.model_fields[field].default

    args = build_parser().parse_args(["paper", "run", "--session", "s"])
    assert args.cash == default(SessionConfig, "cash") == 100_000.0
    assert args.commission == default(CommissionModel, "rate") == 0.0
    assert args.slippage_bps == default(SlippageModel, "bps") == 0.0
    assert args.fill == default(ExecutionConfig, "fill_timing") == "next_open"
    assert args.sizing == default(Sizing, "method") == "all_in"
    assert args.allow_short is default(ExecutionConfig, "allow_short") is True
    assert execution_from_args(args) == ExecutionConfig()
    assert args.feed == default(FeedConfig, "kind") == "replay"
    assert args.interval == default(FeedConfig, "interval") == "1m"
    assert args.poll_seconds == default(FeedConfig, "poll_seconds") == 30.0
    assert args.preset == default(FeedConfig, "preset") == "equity"
    assert args.seed == default(FeedConfig, "seed") == 7
    assert args.events == default(FeedConfig, "events") == 20_000
    assert args.regime_states == default(SessionConfig, "regime_states") == 2
    assert args.speed == "max" and parse_speed(args.speed) is default(SessionConfig, "speed")


def test_sent_params_are_read_as_key_value_pairs_and_bad_ones_are_refused(capsys):
    # issue 11: `--param` goes through core._kv; a pair without "=" or with broken JSON is a
    # refusal naming it (it was json.loads("")'s bare "Expecting value" error)
    created = ["paper", "run", "--session", "kv", "--strategy", "momentum", "--feed", "synthetic"]
    run(capsys, *created, "--events", "300", "--create-only")
    sent = run(capsys, "paper", "params", "--session", "kv", "--param", " lookback = 30 ")
    assert sent["payload"] == {"strategy": "momentum", "params": {"lookback": 30}}
    assert main(["paper", "params", "--session", "kv", "--param", "lookback"]) == 1
    err = capsys.readouterr().err
    assert "--param expects key=value, got 'lookback'" in err and "ref" not in err
    assert main(["paper", "params", "--session", "kv", "--param", "lookback=[1,"]) == 1
    err = capsys.readouterr().err
    assert "--param lookback: not valid JSON" in err and "ref" not in err
