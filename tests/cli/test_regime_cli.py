"""``python -m core regime``: an HMM of regimes on bundled SPX and on a file, run in-process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.marketdata import load_bundled

KEYS = {
    "means",
    "variances",
    "transition_matrix",
    "log_likelihood",
    "labels",
    "expected_durations",
    "state_shares",
    "n_states",
    "n_observations",
    "current_regime",
    "current_probabilities",
}


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/regime.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", "regime", *argv])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def spx_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "spx.csv"
    load_bundled("SPX").reset_index().to_csv(path, index=False)
    return path


def test_three_states_on_bundled_spx(capsys):
    code, payload = run(capsys, "--symbol", "SPX", "--states", "3", "--seed", "0")
    assert code == 0
    assert set(payload) == KEYS
    assert payload["n_states"] == 3
    assert payload["n_observations"] == len(load_bundled("SPX")) - 1
    for key in ("means", "variances", "expected_durations", "state_shares", "labels"):
        assert len(payload[key]) == 3, key
    assert payload["means"] == sorted(payload["means"])  # states ordered by mean
    assert all(v > 0 for v in payload["variances"])
    matrix = np.array(payload["transition_matrix"])
    assert matrix.shape == (3, 3)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    np.testing.assert_allclose(payload["expected_durations"], 1 / (1 - np.diag(matrix)))
    assert sum(payload["state_shares"]) == pytest.approx(1.0)
    assert sum(payload["current_probabilities"]) == pytest.approx(1.0)
    assert payload["labels"] == ["high_volatility", "sideways", "bull"]
    best = int(np.argmax(payload["current_probabilities"]))
    assert payload["current_regime"] == payload["labels"][best]
    assert np.isfinite(payload["log_likelihood"])


def test_same_seed_same_output_and_data_file_equals_symbol(capsys, spx_csv):
    args = ["--states", "2", "--starts", "2", "--start", "2007-01-01", "--end", "2009-12-31"]
    code, by_symbol = run(capsys, "--symbol", "spx", *args)
    assert code == 0
    _, again = run(capsys, "--symbol", "SPX", *args)
    _, by_file = run(capsys, "--data", str(spx_csv), *args)
    assert by_symbol == again
    closes = load_bundled("SPX").loc["2007-01-01":"2009-12-31", "close"]
    assert by_file["n_observations"] == by_symbol["n_observations"] == len(closes) - 1
    np.testing.assert_allclose(by_file["means"], by_symbol["means"], rtol=1e-9)
    assert by_file["labels"] == by_symbol["labels"]


def test_text_output(capsys):
    assert main(["regime", "--symbol", "SPX", "--states", "2", "--starts", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SPX: 2-state Gaussian HMM on 5030 log returns, 1999-01-05 to 2018-12-31")
    assert "transition matrix" in out and "current regime:" in out


def test_too_few_returns_is_an_error(capsys, tmp_path):
    path = tmp_path / "short.csv"
    dates = pd.bdate_range("2024-01-01", periods=12)
    pd.DataFrame({"Date": dates, "Close": np.linspace(100, 110, 12)}).to_csv(path, index=False)
    code, payload = run(capsys, "--data", str(path), "--states", "2")
    assert code == 1
    assert "2 states need at least 20" in payload["error"]


def test_bad_dates_and_starts_are_errors(capsys):
    code, payload = run(capsys, "--symbol", "SPX", "--start", "2030-01-01")
    assert code == 1 and "fewer than two closes" in payload["error"]
    code, payload = run(capsys, "--symbol", "SPX", "--starts", "0")
    assert code == 1 and "n_starts" in payload["error"]
