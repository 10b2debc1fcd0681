"""``python -m core ml``: train prints the contract's JSON keys; list, show and predict."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.marketdata import load_bundled

KEYS = {
    "model_id",
    "folds",
    "ic",
    "rank_ic",
    "icir",
    "rank_icir",
    "rank_ic_tstat",
    "quantile_returns",
    "top_n",
    "benchmark",
    "feature_importance",
    "canaries",
}
TINY = [
    "--start",
    "2000-01-01",
    "--end",
    "2003-06-30",
    "--train",
    "252",
    "--test",
    "126",
    "--trees",
    "10",
    "--no-canaries",
]


@pytest.fixture
def cli(capsys, db_url):
    def run(*argv: str):
        code = main(["--db", db_url, "--json", *argv])
        out = capsys.readouterr()
        return code, json.loads(out.out) if out.out.strip() else out.err

    return run


def test_train_list_show_predict(cli):
    code, report = cli("ml", "train", "--symbols", "AAPL,MSFT,JPM,KO,PG,XOM", *TINY)
    assert code == 0, report
    assert set(report) >= KEYS and "series" not in report
    assert report["universe"] == ["AAPL", "MSFT", "JPM", "KO", "PG", "XOM"]
    assert report["span"] == ["2000-01-03", "2003-06-30"]
    assert {"total_return", "sharpe", "max_drawdown"} <= set(report["top_n"])
    code, listing = cli("ml", "list")
    assert [m["model_id"] for m in listing["models"]] == [report["model_id"]]
    code, card = cli("ml", "show", report["model_id"])
    assert card["format"] == "json" and len(card["folds"]) == len(report["folds"])
    assert card["metrics"]["rank_ic"] == pytest.approx(report["rank_ic"])
    day = report["folds"][1]["test_start"]
    code, scores = cli("ml", "predict", report["model_id"], "--as-of", day)
    assert code == 0 and set(scores["scores"]) == set(report["universe"])
    assert scores["as_of"] == day


def test_train_on_a_wide_close_file(cli, tmp_path: Path):
    closes = pd.DataFrame({s: load_bundled(s)["close"] for s in ("AAPL", "KO", "XOM", "PG")})
    path = tmp_path / "closes.csv"
    closes.loc["2000":"2003-06"].rename_axis("Date").to_csv(path)
    code, report = cli("ml", "train", "--data", str(path), *TINY[4:])
    assert code == 0, report
    assert report["universe"] == ["AAPL", "KO", "XOM", "PG"]


def test_refusals_name_the_problem(cli):
    code, err = cli("ml", "train", "--horizon", "0")
    assert code == 1 and err["error"].startswith("ml train request: horizon: ")
    code, err = cli("ml", "show", "nope")
    assert code == 1 and "no model 'nope'" in err["error"]
