"""``python -m core autopilot``: the JSON keys of run and backtest, rules, log, refusals."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.workstation import Workstation

RUN_KEYS = {"as_of", "regime", "strategy", "confidence", "target_weights", "trades", "risk",
            "mode", "status", "n_fills"}  # fmt: skip


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/autopilot.db"
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", url)
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")
    ws = Workstation.open(url)
    ws.portfolios.create("ap", 50_000.0)
    ws.close()
    return url


def cli(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", "autopilot", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_run_json_has_the_contract_keys(capsys):
    code, out = cli(capsys, "run", "--account", "ap", "--mode", "paper", "--as-of", "2022-03-01")
    assert code == 0 and RUN_KEYS <= set(out)
    assert {"label", "confidence", "volatility", "trend", "breadth", "hmm"} <= set(out["regime"])
    assert {"approved", "checks"} <= set(out["risk"])
    assert out["mode"] == "paper" and out["n_fills"] == len(out["trades"]) > 0
    code, again = cli(capsys, "run", "--account", "ap", "--mode", "paper", "--as-of", "2022-03-01")
    assert again["status"] == "already_done" and again["n_fills"] == 0
    code, log = cli(capsys, "log", "--account", "ap")
    assert [r["status"] for r in log["runs"]] == ["executed"]


def test_backtest_mock_json_reports_metrics_equity_and_strategies(capsys):
    code, out = cli(capsys, "backtest", "--start", "2022-10-03", "--end", "2022-11-30", "--mock")
    assert code == 0 and out["mock"] is True
    assert {"metrics", "equity", "strategies", "baselines", "runs"} <= set(out)
    assert [s["as_of"] for s in out["strategies"]] == ["2022-10-03", "2022-11-01"]
    assert out["equity"][0]["date"] == "2022-10-03" and out["equity"][-1]["date"] == "2022-11-30"
    assert {"total_return", "sharpe", "max_drawdown", "costs"} <= set(out["metrics"])


def test_rules_show_set_and_reset(capsys, tmp_path):
    code, shown = cli(capsys, "rules")
    assert code == 0 and shown["min_hold_days"] == 10 and len(shown["rules"]) == 4
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({**shown, "min_hold_days": 2}))
    assert cli(capsys, "rules", "--set", str(path))[1]["min_hold_days"] == 2
    assert cli(capsys, "rules", "--reset")[1]["min_hold_days"] == 10
    path.write_text(json.dumps({**shown, "rules": [{"name": "x", "strategy": "moon"}]}))
    code, refused = cli(capsys, "rules", "--set", str(path))
    assert code == 1 and "strategy" in refused["error"]


def test_refusals_name_what_is_wrong(capsys):
    code, out = cli(capsys, "run", "--account", "nobody", "--as-of", "2022-03-01")
    assert code == 1 and "nobody" in out["error"]
    code, out = cli(capsys, "run", "--account", "ap", "--as-of", "yesterday-ish")
    assert code == 1 and out["error"].startswith("as_of:")
    code, out = cli(capsys, "backtest", "--start", "2022-05-01", "--end", "2022-04-01", "--mock")
    assert code == 1 and "after start" in out["error"]
    code, out = cli(capsys, "status", "--account", "ap")
    assert code == 1 and "no schedule" in out["error"]
