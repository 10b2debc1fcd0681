"""``python -m core``: every subcommand with --json, run in-process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.workstation import Workstation

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED = [
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
    "SP500",
    "SPX",
    "IXIC",
    "EURUSD",  # the SYNTHETIC FX pairs (issue 16)
    "USDJPY",
    "GBPUSD",
    "EURGBP",
]
GOOD_CSV = """\
date,open,high,low,close,volume
2020-01-02,10,11,9,10.5,100
2020-01-03,10.5,12,10,11.5,200
2020-01-06,11.5,12.5,11,12,300
"""
BROKEN_CSV = """\
date,close
2020-01-02,10
2020-01-03,-1
2020-01-06,11
"""


pytestmark = pytest.mark.usefixtures("isolated_environment")


# -- data -----------------------------------------------------------------------------------


def test_data_list(cli, raw_closes):
    code, payload = cli("--json", "data", "list")
    assert code == 0
    rows = {r["symbol"]: r for r in payload["symbols"]}
    assert list(rows) == BUNDLED
    aapl = rows["AAPL"]
    assert aapl["bars"] == len(raw_closes.dates)
    assert aapl["start"] == f"{raw_closes.dates[0]}T00:00:00"
    assert aapl["end"] == f"{raw_closes.dates[-1]}T00:00:00"
    assert (aapl["source"], aapl["name"], aapl["asset_class"]) == ("bundled", "Apple", "stock")
    assert rows["SPX"]["ohlc"] is True and aapl["ohlc"] is False
    assert [s for s, r in rows.items() if r["synthetic"]] == [
        "EURUSD",
        "USDJPY",
        "GBPUSD",
        "EURGBP",
    ]


def test_data_show(cli, raw_closes):
    code, payload = cli("data", "show", "AAPL", "--tail", "3", "--json")
    assert code == 0
    assert payload["symbol"] == "AAPL"
    assert payload["bars"] == len(raw_closes.dates)
    assert payload["last_close"] == raw_closes.on("AAPL", raw_closes.dates[-1])
    assert payload["instrument"]["name"] == "Apple"
    assert payload["instrument"]["multiplier"] == 1.0
    assert [r["timestamp"][:10] for r in payload["rows"]] == [str(d) for d in raw_closes.dates[-3:]]
    np.testing.assert_allclose(
        [r["close"] for r in payload["rows"]],
        [raw_closes.on("AAPL", d) for d in raw_closes.dates[-3:]],
    )
    assert all(r["open"] is None for r in payload["rows"])  # close-only: NaN -> null

    code, window = cli(
        "--json", "data", "show", "MSFT", "--start", "2020-03-01", "--end", "2020-03-31"
    )
    assert window["bars"] == len(raw_closes.days_between("2020-03-01", "2020-03-31"))
    assert window["start"] == "2020-03-02T00:00:00" and window["end"] == "2020-03-31T00:00:00"
    assert window["last_close"] == raw_closes.on("MSFT", "2020-03-31")


def test_data_show_unknown_symbol_fails(cli):
    code, payload = cli("--json", "data", "show", "NOPE")
    assert code == 1
    assert "NOPE" in payload["error"]


def test_data_import(cli, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV)
    code, payload = cli("--json", "data", "import", str(good), "--symbol", "myco")
    assert code == 0
    assert payload == {
        "symbol": "MYCO",
        "rows": 3,
        "start": "2020-01-02T00:00:00",
        "end": "2020-01-06T00:00:00",
        "has_ohlc": True,
        "replaced": False,
    }
    code, shown = cli("--json", "data", "show", "MYCO")
    assert (shown["bars"], shown["last_close"]) == (3, 12.0)
    assert [r["volume"] for r in shown["rows"]] == [100.0, 200.0, 300.0]
    code, again = cli("--json", "data", "import", str(good), "--symbol", "MYCO")
    assert code == 1 and "replace" in again["error"]
    code, replaced = cli("--json", "data", "import", str(good), "--symbol", "MYCO", "--replace")
    assert code == 0 and replaced["replaced"] is True
    code, listed = cli("--json", "data", "list")
    myco = next(r for r in listed["symbols"] if r["symbol"] == "MYCO")
    assert (myco["bars"], myco["source"], myco["ohlc"]) == (3, "user", True)
    # the imported symbol can be traded at its last close
    cli("--json", "portfolio", "create", "p", "--cash", "1000")
    code, trade = cli(
        "--json",
        "portfolio",
        "trade",
        "p",
        "--symbol",
        "MYCO",
        "--side",
        "buy",
        "--qty",
        "2",
        "--time",
        "2020-01-03T16:00",
    )
    assert code == 0 and trade["price"] == 11.5


def test_data_import_of_a_broken_csv(cli, tmp_path, db_url, capsys, table_counts):
    broken = tmp_path / "broken.csv"
    broken.write_text(BROKEN_CSV)
    cli("--json", "data", "list")  # create the database first
    ws = Workstation.open(db_url, seed_demo=False)
    before = table_counts(ws)
    code = main(["--db", db_url, "--json", "data", "import", str(broken), "--symbol", "BROKE"])
    captured = capsys.readouterr()
    assert code == 1
    payload = json.loads(captured.out)
    assert payload["row"] == 3  # line 3 of the file (header = line 1)
    assert payload["column"] == "close"
    assert payload["rule"] == "prices > 0"
    assert "broken.csv" in payload["error"] and "line 3" in payload["error"]
    assert captured.err.startswith("data import: broken.csv")  # command: where: what
    assert table_counts(ws) == before
    ws.close()


def test_error_without_json_goes_to_stderr_only(cli, capsys):
    code = main(["--db", "sqlite:///:memory:", "portfolio", "show", "nope"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.strip() == "portfolio show: no portfolio named 'nope'"


# -- options and entry point ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "portfolio", "list"],
        ["portfolio", "--json", "list"],
        ["portfolio", "list", "--json"],
    ],
)
def test_json_flag_before_or_after_the_subcommand(cli, argv):
    cli("--json", "portfolio", "create", "p")
    code, payload = cli(*argv)
    assert code == 0 and [r["name"] for r in payload["portfolios"]] == ["p"]


def test_text_output_without_json(cli):
    code, text = cli("portfolio", "create", "p", "--cash", "1234.5", parse=False)
    assert code == 0 and text.strip() == "created 'p' with 1,234.50"
    code, text = cli("portfolio", "list", parse=False)
    assert "p" in text and "1,234.5000" in text


def test_db_option_wins_over_the_environment(cli, tmp_path, monkeypatch):
    env_url = f"sqlite:///{tmp_path}/env.db"
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", env_url)
    chosen = f"sqlite:///{tmp_path}/chosen.db"
    code, _ = cli("--json", "portfolio", "create", "here", db=chosen)
    assert code == 0
    assert (tmp_path / "chosen.db").exists()
    assert not (tmp_path / "env.db").exists()
    ws = Workstation.open(chosen, seed_demo=False)
    assert ws.portfolios.names() == ["here"]
    ws.close()


def test_environment_database_url_is_honoured(cli, tmp_path, monkeypatch):
    env_url = f"sqlite:///{tmp_path}/env.db"
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", env_url)
    code, _ = cli("--json", "portfolio", "create", "from-env", db=None)
    assert code == 0
    code, listed = cli("--json", "portfolio", "list", db=None)
    assert [r["name"] for r in listed["portfolios"]] == ["from-env"]
    ws = Workstation.open(env_url, seed_demo=False)
    assert ws.portfolios.names() == ["from-env"]
    ws.close()


def test_a_fresh_database_gets_the_demo(cli, monkeypatch):
    monkeypatch.delenv("WORKSTATION_SEED_DEMO")
    code, listed = cli("--json", "portfolio", "list")
    assert code == 0
    assert [r["name"] for r in listed["portfolios"]] == ["Demo — US large caps"]
    assert listed["portfolios"][0]["n_positions"] == 6


def test_module_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "core", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m core")
    assert "data" in result.stdout and "portfolio" in result.stdout
    assert "--db" in result.stdout and "--json" in result.stdout


def test_missing_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["portfolio"])
    assert caught.value.code == 2
    assert "usage" in capsys.readouterr().err


# -- refusals, defects and closed pipes -------------------------------------------------------
RUN = ["--strategy", "sma_crossover", "--symbol", "SPX"]
LEAKS = ("pydantic", "http", "[type=", "validation error for", "input_value", "Traceback")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["backtest", *RUN, "--param", "fast=-1"],
            "backtest: --param fast: Input should be greater than or equal to 2",
        ),
        (
            ["backtest", *RUN, "--param", "fast=abc"],
            "backtest: --param fast: Input should be a valid integer, unable to parse string "
            "as an integer",
        ),
        (
            ["backtest", *RUN, "--param", "nope=1"],
            "backtest: --param nope: Extra inputs are not permitted",
        ),
        (
            ["backtest", *RUN, "--param", "fast=60"],
            "backtest: --param: fast (60) must be shorter than slow (50)",
        ),
        (
            ["backtest", *RUN, "--commission", "-1"],
            "backtest: --commission: Input should be greater than or equal to 0",
        ),
        (
            ["backtest", *RUN, "--commission", "0.5"],
            "backtest: --commission: Input should be less than or equal to 0.1",
        ),
        (["backtest", *RUN, "--cash", "-1"], "backtest: --cash: Input should be greater than 0"),
        (
            ["backtest", *RUN, "--slippage-bps", "-1"],
            "backtest: --slippage-bps: Input should be greater than or equal to 0",
        ),
        (
            ["backtest", *RUN, "--start", "2020-02-30"],
            "backtest: --start: '2020-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            ["backtest", *RUN, "--sizing", "fixed", "--size", "-5"],
            "backtest: --size: Input should be greater than 0",
        ),
        (
            ["data", "show", "SPX", "--start", "xx"],
            "data show: --start: 'xx' is not a date (YYYY-MM-DD)",
        ),
        (
            ["allocate", "--method", "equal", "--symbols", "KO,XOM", "--end", "2020-13-45"],
            "allocate: --end: '2020-13-45' is not a date (YYYY-MM-DD)",
        ),
        (
            ["montecarlo", *RUN, "--paths", "-1"],
            "montecarlo: --paths: Input should be greater than or equal to 1",
        ),
        (
            ["optimize", *RUN, "--range", "fast=a:b"],
            "optimize: --range fast: lo:hi[:step] must be numbers, got 'a:b'",
        ),
        (
            ["rebalance", "--portfolio", "P", "--abs", "-1"],
            "rebalance: --abs: Input should be greater than or equal to 0",
        ),
        (
            ["rebalance", "--portfolio", "P", "--commission", "0.2"],
            "rebalance: --commission: Input should be less than or equal to 0.1",
        ),
        (
            ["risk", "limits", "--portfolio", "P", "--set", "warn_at=2"],
            "risk limits: warn_at: Input should be less than or equal to 1",
        ),
        (
            ["risk", "state", "--portfolio", "P", "active"],
            "risk state: P: trading is already active; nothing changed",
        ),
    ],
)
def test_refusals_read_command_where_what(cli, capsys, db_url, table_counts, argv, expected):
    cli("--json", "portfolio", "create", "P", "--cash", "1000")
    ws = Workstation.open(db_url, seed_demo=False)
    before = table_counts(ws)
    code = main(["--db", db_url, *argv])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.splitlines() == [expected]
    assert not any(leak in captured.err for leak in LEAKS)
    assert table_counts(ws) == before  # a refusal writes nothing
    ws.close()


def test_refusal_with_json_keeps_the_error_key(cli, capsys):
    code = main(["--db", "sqlite:///:memory:", "--json", "backtest", *RUN, "--param", "fast=-1"])
    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out) == {
        "error": "--param fast: Input should be greater than or equal to 2"
    }


def test_an_unexpected_error_prints_a_reference_and_logs_the_traceback(
    capsys, monkeypatch, tmp_path
):
    from core.cli import _output

    def broken(args):
        raise RuntimeError("internal detail the user must not see")

    monkeypatch.setattr(_output, "LOG_DIR", tmp_path / "logs")
    monkeypatch.setattr("core.cli._backtest.list_strategies", broken)  # read at parser build
    code = main(["strategies"])
    captured = capsys.readouterr()
    assert code == 1
    (line,) = captured.err.splitlines()
    match = re.fullmatch(
        r"strategies: unexpected error \(ref ([0-9A-F]{6})\); details in (.+)", line
    )
    assert match, line
    assert "internal detail" not in captured.err and "Traceback" not in captured.err
    log = (tmp_path / "logs" / "cli-errors.log").read_text()
    assert f"ref {match.group(1)}" in log
    assert "Traceback" in log and "RuntimeError: internal detail the user must not see" in log
    assert match.group(2) == str(tmp_path / "logs" / "cli-errors.log")


def test_audit_verify_keeps_its_exit_status_two(cli, capsys, db_url):
    from sqlalchemy import update

    from core.db import AuditEventRow

    cli("--json", "portfolio", "create", "P", "--cash", "1000")
    ws = Workstation.open(db_url, seed_demo=False)
    with ws.sessions.begin() as session:
        session.execute(update(AuditEventRow).values(payload={"tampered": True}))
    ws.close()
    assert main(["--db", db_url, "audit", "verify"]) == 2


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    """``python -m core strategies | head -c1``: the reader leaves before the output is written;
    no "Exception ignored ... BrokenPipeError" and no traceback (Python's SIGPIPE recipe)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "strategies"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "WORKSTATION_DATABASE_URL": f"sqlite:///{tmp_path}/p.db"},
    )
    process.stdout.close()  # the reader is gone before the command prints
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert stderr == ""
    assert code == 1  # as Python's documented recipe exits on EPIPE
