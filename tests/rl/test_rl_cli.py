"""``python -m core rl``: the PPO report's keys, list and show, refusals, the Q-learning flags."""

from __future__ import annotations

import json

import pytest

from core.cli import build_parser, main
from core.cli._rl import qlearning_request

POLICIES = {"ppo", "equal_weight", "min_variance", "max_sharpe", "buy_hold"}


def run(capsys, *argv) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_rl_train_ppo_prints_the_comparison(db_url, capsys):
    code, report = run(
        capsys,
        "--db", db_url, "rl", "train", "--agent", "ppo", "--symbols", "AAPL,KO",
        "--train-start", "2015-01-01", "--train-end", "2016-12-31", "--test-end", "2017-03-31",
        "--timesteps", "64", "--seed", "3", "--json",
    )  # fmt: skip
    assert code == 0
    assert {"model_id", "timesteps", "train", "test", "turnover", "deflated_sharpe"} <= set(report)
    assert set(report["train"]) == set(report["test"]) == set(report["turnover"]) == POLICIES
    assert {"sharpe", "cagr", "max_drawdown", "turnover"} <= set(report["test"]["ppo"])
    assert report["timesteps"] == 1024  # one full rollout: 4 environments × 256 steps
    assert "test_curves" not in report  # only with --curves
    code, listed = run(capsys, "--db", db_url, "rl", "list", "--json")
    assert [m["model_id"] for m in listed["models"]] == [report["model_id"]]
    code, shown = run(capsys, "--db", db_url, "rl", "show", report["model_id"], "--json")
    assert shown["spec"]["seed"] == 3 and shown["spec"]["universe"] == ["AAPL", "KO"]


def test_refusals_name_the_option(db_url, capsys):
    code = main(["--db", db_url, "rl", "train", "--agent", "ppo", "--symbols", "AAPL", "--json"])
    assert code == 1
    assert "--train-end: required" in json.loads(capsys.readouterr().out)["error"]
    code = main(["--db", db_url, "rl", "show", "0123456789abcdef", "--json"])
    assert code == 1 and "no model" in json.loads(capsys.readouterr().out)["error"]


def test_qlearning_flags_become_its_request():
    pytest.importorskip("core.qlearning", reason="the Q-learning package is not merged yet")
    argv = [
        "rl", "train", "--agent", "qlearning", "--strategies", "sma_crossover, momentum",
        "--symbol", "SPX", "--seed", "4",
    ]  # fmt: skip
    request = qlearning_request(build_parser(argv).parse_args(argv))
    assert request.strategies == ("sma_crossover", "momentum")
    assert (request.symbol, request.seed, request.data) == ("SPX", 4, None)
