"""``python -m core risk``: the report, limits and trading state, run in-process."""

from __future__ import annotations

import json

import pytest

from core.cli import main

EQUITY_CASH = 100_000 - 200 * 100.0  # after buying 200 AAPL at 100


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/risk.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", *argv])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def portfolio(capsys):
    assert main(["portfolio", "create", "P", "--cash", "100000"]) == 0
    assert (
        main(
            [
                "portfolio",
                "trade",
                "P",
                "--symbol",
                "AAPL",
                "--side",
                "buy",
                "--qty",
                "200",
                "--price",
                "100",
                "--time",
                "2022-12-28T16:00:00",
            ]
        )
        == 0
    )
    capsys.readouterr()
    return "P"


def test_risk_report_json(capsys, portfolio, raw_closes):
    code, payload = run(capsys, "risk", "--portfolio", portfolio)
    assert code == 0
    last = raw_closes._closes["AAPL"][-1]  # 2022-12-28 close, the mark
    equity = EQUITY_CASH + 200 * last
    assert payload["equity"] == pytest.approx(equity)
    usage = {u["rule"]: u for u in payload["limit_usage"]}
    assert usage["max_position_weight"]["value"] == pytest.approx(200 * last / equity)
    assert usage["min_cash"]["value"] == pytest.approx(EQUITY_CASH / equity)
    stress = {s["scenario"]: s["pnl"] for s in payload["stress"]}
    assert stress["covid_2020"] == pytest.approx(-0.34 * 200 * last)
    assert (
        len(payload["var"]) == 8
        and payload["var_95"] > 0
        and payload["cvar_99"] >= (payload["var_99"])
    )
    assert payload["contributions"][0]["share"] == pytest.approx(1.0)  # one asset


def test_limits_set_and_show(capsys, portfolio):
    code, payload = run(
        capsys,
        "risk",
        "limits",
        "--portfolio",
        portfolio,
        "--set",
        "max_position_weight=0.5",
        "min_adv=none",
    )
    assert code == 0
    # a portfolio without saved limits enforces none: only the limit named is switched on
    assert payload["changes"] == {"max_position_weight": [None, 0.5]}  # min_adv was None already
    _, shown = run(capsys, "risk", "limits", "--portfolio", portfolio)
    assert shown["limits"]["max_position_weight"] == 0.5 and shown["changes"] == {}
    others = {k: v for k, v in shown["limits"].items() if k != "max_position_weight"}
    # no example default came with it (warn_at is the share of a limit that warns, not a rule)
    assert others == {**{k: None for k in others}, "warn_at": 0.8}


def test_bad_limit_is_an_error_and_writes_nothing(capsys, portfolio):
    code, payload = run(capsys, "risk", "limits", "--portfolio", portfolio, "--set", "min_cash=2")
    assert code == 1
    assert "min_cash" in payload["error"] and "less than 1" in payload["error"]
    _, listed = run(capsys, "audit", "list", "--kind", "limits_changed")
    assert listed["n_events"] == 0


def test_state_switch_is_audited(capsys, portfolio):
    code, payload = run(
        capsys, "risk", "state", "--portfolio", portfolio, "halted", "--reason", "manual stop"
    )
    assert (code, payload["previous"], payload["trading_state"]) == (0, "active", "halted")
    _, report = run(capsys, "risk", "--portfolio", portfolio)
    assert report["trading_state"] == "halted"
    assert report["limit_usage"][0]["outcome"] == "block"
    _, listed = run(capsys, "audit", "list", "--kind", "trading_state")
    assert listed["events"][0]["payload"] == {
        "from": "active",
        "to": "halted",
        "reason": "manual stop",
    }


def test_unknown_portfolio_and_missing_name(capsys):
    code, payload = run(capsys, "risk", "--portfolio", "nope")
    assert code == 1 and "no portfolio named 'nope'" in payload["error"]
    code, payload = run(capsys, "risk")
    assert code == 1 and "--portfolio" in payload["error"]


def test_text_output(capsys, portfolio):
    assert main(["risk", "--portfolio", portfolio]) == 0
    out = capsys.readouterr().out
    assert "historical    95%" in out and "max_position_weight" in out and "gfc_2008" in out
