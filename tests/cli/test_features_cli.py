"""``python -m core features``: information ranking of candidate features, run in-process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.marketdata import load_bundled
from core.optimize._information import FEATURE_COLUMNS

ROW_KEYS = {
    "name",
    "mutual_information",
    "normalized_mi",
    "rank",
    "most_redundant_with",
    "redundancy",
    "redundant",
}


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/features.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", "features", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_bundled_symbol_and_file_agree(capsys, tmp_path):
    code, payload = run(capsys, "--symbol", "SPX", "--horizon", "5", "--bins", "10")
    assert code == 0
    assert set(payload) == {"horizon", "n_observations", "features"}
    assert payload["horizon"] == 5
    # 60 warm-up bars for the 60-bar return, 5 final bars without a forward return
    assert payload["n_observations"] == len(load_bundled("SPX")) - 60 - 5
    rows = payload["features"]
    assert {r["name"] for r in rows} == set(FEATURE_COLUMNS)
    assert all(set(r) == ROW_KEYS for r in rows)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    mis = [r["mutual_information"] for r in rows]
    assert mis == sorted(mis, reverse=True) and all(m >= 0 for m in mis)
    assert all(0 <= r["normalized_mi"] <= 1 and 0 <= r["redundancy"] <= 1 for r in rows)
    assert not rows[0]["redundant"]

    path = tmp_path / "spx.csv"
    load_bundled("SPX").reset_index().to_csv(path, index=False)
    code, by_file = run(capsys, "--data", str(path), "--horizon", "5", "--bins", "10")
    assert code == 0
    assert by_file["n_observations"] == payload["n_observations"]
    assert [r["name"] for r in by_file["features"]] == [r["name"] for r in rows]
    np.testing.assert_allclose(
        [r["mutual_information"] for r in by_file["features"]], mis, rtol=1e-9
    )


def test_text_output(capsys):
    assert main(["features", "--symbol", "SPX", "--horizon", "20", "--start", "2010-01-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SPX: ") and "forward return over 20 bars" in out
    assert "most_redundant_with" in out and "rsi_14" in out


def test_errors(capsys, tmp_path):
    code, payload = run(capsys, "--symbol", "SPX", "--horizon", "0")
    assert code == 1 and "--horizon" in payload["error"]
    path = tmp_path / "short.csv"
    dates = pd.bdate_range("2024-01-01", periods=70)
    pd.DataFrame({"Date": dates, "Close": np.linspace(100, 110, 70)}).to_csv(path, index=False)
    code, payload = run(capsys, "--data", str(path))
    assert code == 1 and "observations" in payload["error"]
