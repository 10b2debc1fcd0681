"""``python -m core metrics``: metrics of a file's price or equity column."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from core.analytics import METRIC_KEYS
from core.cli import main

# Closes 100, 110, 99, 108.9, 119.79: returns 0.1, -0.1, 0.1, 0.1 (mean 0.05, sample
# std 0.1), downside deviation √(0.01 / 4) = 0.05, peak 110 → trough 99 = -10 %.
CLOSES = ["100", "110", "99", "108.9", "119.79"]
WEEKDAYS = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]  # Mon-Fri


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", "metrics", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_text(header: str, rows: list[list[str]], sep: str = ",") -> str:
    return "\n".join([header, *(sep.join(r) for r in rows)]) + "\n"


@pytest.fixture
def closes_csv(tmp_path):
    rows = [[d, c] for d, c in zip(WEEKDAYS, CLOSES, strict=True)]
    return write(tmp_path, "prices.csv", csv_text("Date,Close", rows))


def test_close_column_of_weekday_bars(capsys, closes_csv):
    code, payload = run(capsys, "--data", str(closes_csv))
    assert code == 0
    assert set(payload) == {"metrics", "periods_per_year", "start", "end", "n_periods"}
    assert tuple(payload["metrics"]) == METRIC_KEYS
    assert payload["periods_per_year"] == 252  # weekdays only
    assert payload["start"] == "2024-01-01T00:00:00"
    assert payload["end"] == "2024-01-05T00:00:00"
    assert payload["n_periods"] == 4
    m = payload["metrics"]
    root = math.sqrt(252)
    assert m["total_return"] == pytest.approx(0.1979)
    assert m["cagr"] == pytest.approx(1.1979**63 - 1)  # 4 returns = 4/252 years
    assert m["volatility"] == pytest.approx(0.1 * root)
    assert m["sharpe"] == pytest.approx(0.05 / 0.1 * root)
    assert m["sortino"] == pytest.approx(0.05 / 0.05 * root)
    assert m["max_drawdown"] == pytest.approx(-0.1)
    assert m["calmar"] == pytest.approx((1.1979**63 - 1) / 0.1)
    assert m["var_95"] == pytest.approx(-0.07)  # -0.1 + 0.15 · 0.2
    assert m["cvar_95"] == pytest.approx(-0.1)
    assert m["var_99"] == pytest.approx(-0.094)  # -0.1 + 0.03 · 0.2
    assert m["cvar_99"] == pytest.approx(-0.1)
    for key in ("win_rate", "profit_factor", "average_trade", "exposure", "turnover"):
        assert m[key] is None, key
    assert m["n_trades"] == 0


def test_periods_per_year_and_risk_free_from_the_command_line(capsys, closes_csv):
    code, payload = run(
        capsys, "--data", str(closes_csv), "--periods-per-year", "4", "--risk-free", "0.04"
    )
    assert code == 0
    assert payload["periods_per_year"] == 4
    m = payload["metrics"]
    assert m["cagr"] == pytest.approx(0.1979)  # exactly one year
    assert m["volatility"] == pytest.approx(0.2)
    # 1 % a quarter risk-free: excess mean 0.04, std 0.1
    assert m["sharpe"] == pytest.approx(0.04 / 0.1 * 2)
    # shortfall below 1 %: [0, -0.11, 0, 0] → √(0.0121 / 4) = 0.055
    assert m["sortino"] == pytest.approx(0.04 / 0.055 * 2)
    assert m["calmar"] == pytest.approx(1.979)


def test_an_equity_column_any_case_with_calendar_days(capsys, tmp_path):
    # a 7-day curve (Saturday 6 January onwards), semicolon-separated, column "Equity"
    days = pd.date_range("2024-01-06", periods=8).strftime("%Y-%m-%d")
    equity = ["1000", "1010", "1005", "990", "1020", "1030", "1000", "1040"]
    rows = [[d, e, "x"] for d, e in zip(days, equity, strict=True)]
    path = write(tmp_path, "run.csv", csv_text("timestamp;Equity;note", rows, sep=";"))
    code, payload = run(capsys, "--data", str(path), "--column", "EQUITY")
    assert code == 0
    assert payload["periods_per_year"] == 365
    assert payload["n_periods"] == 7
    m = payload["metrics"]
    assert m["total_return"] == pytest.approx(0.04)
    # peaks 1010 then 1030: 990/1010 - 1 = -1.98 %, 1000/1030 - 1 = -2.91 %
    assert m["max_drawdown"] == pytest.approx(1000 / 1030 - 1)
    assert m["cagr"] == pytest.approx(1.04 ** (365 / 7) - 1)


def test_a_column_outside_the_bars_is_read_as_it_is(capsys, tmp_path):
    # Yahoo layout: "Adj Close" is read directly; "open" goes through the bars importer
    header = "Date,Open,High,Low,Close,Adj Close,Volume"
    rows = [
        ["2024-01-01", "10", "11", "9", "10", "5", "100"],
        ["2024-01-02", "10", "12", "10", "11", "6", "100"],
        ["2024-01-03", "11", "12", "10", "12", "4.5", "100"],
    ]
    path = write(tmp_path, "yahoo.csv", csv_text(header, rows))
    code, payload = run(capsys, "--data", str(path), "--column", "adj_close")
    assert code == 0
    assert payload["metrics"]["total_return"] == pytest.approx(4.5 / 5 - 1)
    assert payload["metrics"]["max_drawdown"] == pytest.approx(4.5 / 6 - 1)
    code, payload = run(capsys, "--data", str(path), "--column", "Open")
    assert code == 0
    assert payload["metrics"]["total_return"] == pytest.approx(0.1)  # 11 / 10 - 1


def test_a_parquet_equity_curve(capsys, tmp_path):
    index = pd.DatetimeIndex(WEEKDAYS, name="timestamp")
    frame = pd.DataFrame({"equity": [float(c) for c in CLOSES]}, index=index)
    path = tmp_path / "curve.parquet"
    frame.to_parquet(path)
    code, payload = run(capsys, "--data", str(path), "--column", "equity")
    assert code == 0
    assert payload["periods_per_year"] == 252
    assert payload["metrics"]["sharpe"] == pytest.approx(0.5 * math.sqrt(252))


def test_text_output_is_a_table(capsys, closes_csv):
    assert main(["metrics", "--data", str(closes_csv), "--periods-per-year", "4"]) == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0] == "prices.csv [close]: 2024-01-01 to 2024-01-05, 4 periods, 4 a year"
    )
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert list(lines) == list(METRIC_KEYS)
    assert lines["total_return"] == "19.79%"
    assert lines["sharpe"] == "1.000"
    assert lines["max_drawdown"] == "-10.00%"
    assert lines["win_rate"] == "n/a"
    assert lines["n_trades"] == "0"


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        ("Date,Close\n2024-01-01,100\n2024-01-02,101\n", ["--column", "equity"], "no column"),
        ("Date,Close\n2024-01-01,100\n2024-01-02,101\n", ["--column", "high"], "no 'high'"),
        ("Date,Equity\n2024-01-01,100\n2024-01-02,abc\n", ["--column", "equity"], "row 2"),
        ("Date,Equity\n2024-01-01,100\n2024-01-02,0\n", ["--column", "equity"], "positive"),
        ("Date,Equity\n2024-01-01,100\n", ["--column", "equity"], "at least 2"),
        ("Date,Equity\n2024-01-02,100\n2024-01-01,99\n", ["--column", "equity"], "increasing"),
        ("Day,Equity\n2024-01-01,100\n2024-01-02,99\n", ["--column", "equity"], "timestamp"),
        ("Date,Close\n2024-01-01,100\n2024-01-02,101\n", ["--periods-per-year", "0"], "positive"),
        ("Date,Close\n2024-01-01,100\n2024-01-02,-1\n", [], "prices > 0"),
    ],
)
def test_bad_input_is_a_clear_error(capsys, tmp_path, text, argv, message):
    path = write(tmp_path, "bad.csv", text)
    code, payload = run(capsys, "--data", str(path), *argv)
    assert code == 1
    assert message in payload["error"]


def test_a_missing_file_is_an_error(capsys, tmp_path):
    code, payload = run(capsys, "--data", str(tmp_path / "nope.csv"), "--column", "equity")
    assert code == 1
    assert "nope.csv" in payload["error"]
    code, payload = run(capsys, "--data", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "nope.csv" in payload["error"]
