"""``python -m core audit``: verify (intact and tampered), list with filters, report to files."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime

import pytest

from core.cli import main


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    path = tmp_path / "audit.db"
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")
    return path


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", *argv])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def busy(db_path, capsys):
    for argv in (
        ["portfolio", "create", "A", "--cash", "10000"],
        [
            "portfolio",
            "trade",
            "A",
            "--symbol",
            "KO",
            "--side",
            "buy",
            "--qty",
            "10",
            "--price",
            "50",
        ],
        ["portfolio", "create", "B", "--cash", "500"],
        ["risk", "state", "--portfolio", "B", "reducing_only"],
    ):
        assert main(argv) == 0
    capsys.readouterr()
    return db_path


def test_verify_intact(capsys, busy):
    code, payload = run(capsys, "audit", "verify")
    assert code == 0
    # created A, the trade's pre-trade check, its fill, created B, the state change
    assert payload == {
        "ok": True,
        "n_events": 5,
        "checked": 5,
        "first_bad_id": None,
        "reason": None,
    }


@pytest.mark.parametrize("column", ["kind", "actor", "payload", "ts", "prev_hash", "hash"])
def test_verify_names_the_tampered_event(capsys, busy, column):
    with sqlite3.connect(busy) as connection:
        # event 3 is the fill (1: A created, 2: the trade's pre-trade check)
        value = connection.execute(f"SELECT {column} FROM audit_log WHERE id = 3").fetchone()[0]
        changed = {
            "payload": value.replace("50", "5"),
            "ts": value[:-1] + ("1" if value[-1] != "1" else "2"),
            "prev_hash": "1" * 64,  # not the genesis hash: event 1 holds that link (unique)
            "hash": "a" * 64,
        }.get(column, value + "!")
        connection.execute(f"UPDATE audit_log SET {column} = ? WHERE id = 3", (changed,))
    code, payload = run(capsys, "audit", "verify")
    assert code == 2  # scripts can test the exit status
    assert (payload["ok"], payload["n_events"], payload["first_bad_id"]) == (False, 5, 3)
    assert "event 3" in payload["reason"]
    assert main(["audit", "verify"]) == 2
    assert capsys.readouterr().out.startswith("BROKEN at event 3")


def test_list_filters(capsys, busy):
    _, payload = run(capsys, "audit", "list", "--portfolio", "A")
    assert [e["kind"] for e in payload["events"]] == [
        "fill",
        "pretrade_check",
        "portfolio_created",
    ]
    _, payload = run(capsys, "audit", "list", "--kind", "fill", "--kind", "trading_state")
    assert [e["portfolio"] for e in payload["events"]] == ["B", "A"]
    _, payload = run(capsys, "audit", "list", "--text", "reducing_only")
    assert payload["n_events"] == 1 and payload["events"][0]["actor"] == "cli"
    _, payload = run(capsys, "audit", "list", "--end", "2000-01-01")
    assert payload["n_events"] == 0


def test_report_json_and_csv_files(capsys, busy, tmp_path):
    today = datetime.now(UTC).date().isoformat()
    out = tmp_path / "report.csv"
    code, payload = run(
        capsys, "audit", "report", "--start", today, "--end", today, "--out", str(out)
    )
    assert code == 0
    assert payload["counts_by_kind"] == {
        "fill": 1,
        "portfolio_created": 2,
        "pretrade_check": 1,
        "trading_state": 1,
    }
    assert payload["fills"]["count"] == 1 and payload["fills"]["notional"] == 500.0
    rows = list(csv.DictReader(out.open()))
    assert {r["name"]: r["value"] for r in rows if r["section"] == "count"}["fill"] == "1"
    position = next(r for r in rows if r["section"] == "position")
    assert (position["portfolio"], position["name"]) == ("A", "KO")
    out_json = tmp_path / "report.json"
    run(capsys, "audit", "report", "--start", today, "--end", today, "--out", str(out_json))
    assert json.loads(out_json.read_text())["n_events"] == 5


def test_report_bad_input_writes_nothing(capsys, busy, tmp_path):
    code, payload = run(
        capsys,
        "audit",
        "report",
        "--start",
        "2024-02-01",
        "--end",
        "2024-01-01",
        "--out",
        str(tmp_path / "r.csv"),
    )
    assert code == 1 and "after end" in payload["error"]
    assert not (tmp_path / "r.csv").exists()
    code, payload = run(
        capsys,
        "audit",
        "report",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
        "--out",
        str(tmp_path / "r.txt"),
    )
    assert code == 1 and ".csv or .json" in payload["error"]
