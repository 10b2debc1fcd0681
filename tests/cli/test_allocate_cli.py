"""``python -m core allocate``: the JSON contract, date bounds, caps, applying, and errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.marketdata import load_bundled
from core.workstation import Workstation

SYMBOLS = ["AAPL", "KO", "XOM"]


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/allocate.db"
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", url)
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")
    return url


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["--json", "allocate", *argv])
    return code, json.loads(capsys.readouterr().out)


def closes(start: str, end: str) -> pd.DataFrame:
    return pd.DataFrame({s: load_bundled(s)["close"] for s in SYMBOLS}).loc[start:end]


def test_equal_weights_and_their_measures(capsys):
    code, payload = run(
        capsys, "--method", "equal", "--symbols", ",".join(SYMBOLS),
        "--start", "2019-01-01", "--end", "2021-12-31",
    )  # fmt: skip
    assert code == 0
    assert {"weights", "expected_return", "volatility", "sharpe", "cvar_95"} <= set(payload)
    assert payload["weights"] == {s: pytest.approx(1 / 3) for s in SYMBOLS}
    # independently: pandas returns from the second price, equal-weighted daily
    returns = closes("2019-01-01", "2021-12-31").pct_change().iloc[1:]
    daily = returns.mean(axis=1).to_numpy()
    assert payload["expected_return"] == pytest.approx(daily.mean() * 252, rel=1e-12)
    assert payload["volatility"] == pytest.approx(daily.std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert payload["sharpe"] == pytest.approx(payload["expected_return"] / payload["volatility"])
    losses = np.sort(-daily)[::-1]
    k = 0.05 * len(losses)
    tail_weights = np.clip(k - np.arange(len(losses)), 0, 1)  # 1, 1, ..., fraction, 0, ...
    assert payload["cvar_95"] == pytest.approx(tail_weights @ losses / k, rel=1e-12)
    assert payload["cvar_95"] > 0


def test_start_and_end_bound_the_prices_and_returns_start_at_the_second(capsys):
    code, payload = run(
        capsys, "--method", "inverse_vol", "--symbols", "AAPL,KO,XOM",
        "--start", "2020-03-02", "--end", "2020-06-30",
    )  # fmt: skip
    assert code == 0
    prices = closes("2020-03-02", "2020-06-30")
    assert payload["start"] == "2020-03-03"
    assert payload["end"] == "2020-06-30"
    assert payload["n_returns"] == len(prices) - 1
    sigma = prices.pct_change().iloc[1:].std()
    expected = (1 / sigma) / (1 / sigma).sum()
    assert payload["weights"] == {s: pytest.approx(expected[s], rel=1e-10) for s in SYMBOLS}


@pytest.mark.parametrize("method", ["min_variance", "max_sharpe", "min_cvar", "hrp"])
def test_max_weight_is_respected(capsys, method):
    code, payload = run(
        capsys, "--method", method, "--symbols", "AAPL,AMD,KO,XOM,JNJ",
        "--start", "2018-01-01", "--end", "2022-12-31", "--max-weight", "0.3",
    )  # fmt: skip
    assert code == 0
    weights = payload["weights"]
    assert max(weights.values()) <= 0.3 + 1e-9
    assert sum(weights.values()) == pytest.approx(1.0)
    assert max(weights.values()) == pytest.approx(0.3)  # every one of these binds at 0.3


def test_mean_variance_target_return(capsys):
    code, payload = run(
        capsys, "--method", "mean_variance", "--symbols", "AAPL,KO,XOM,JNJ",
        "--start", "2018-01-01", "--end", "2022-12-31", "--target-return", "0.2",
    )  # fmt: skip
    assert code == 0
    assert payload["expected_return"] == pytest.approx(0.2, abs=1e-7)


def test_apply_to_sets_target_weights(capsys, isolated_database):
    ws = Workstation.open(isolated_database, seed_demo=False)
    ws.portfolios.create("Income", 50_000)
    ws.close()
    code, payload = run(
        capsys, "--method", "risk_parity", "--symbols", "KO,PEP,PG",
        "--start", "2015-01-01", "--end", "2019-12-31", "--apply-to", "Income",
    )  # fmt: skip
    assert code == 0
    assert payload["applied_to"] == "Income"
    ws = Workstation.open(isolated_database, seed_demo=False)
    try:
        stored = ws.export_portfolio("Income").target_weights
    finally:
        ws.close()
    assert stored == pytest.approx(payload["weights"], abs=1e-11)
    shares = np.array(list(payload["risk_contributions"].values())) / payload["volatility"]
    np.testing.assert_allclose(shares, 1 / 3, rtol=1e-8)


def test_text_output_lists_weights(capsys):
    code = main(["allocate", "--method", "equal", "--symbols", "KO,PEP", "--end", "2000-12-31"])
    out = capsys.readouterr().out
    assert code == 0
    assert "KO         50.00%" in out
    assert "CVaR 95%" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--symbols", "AAPL,NOPE"], "unknown symbol NOPE"),
        (
            ["--symbols", "AAPL,KO", "--start", "2020-01-02", "--end", "2020-01-03"],
            "2 common prices of AAPL, KO; allocation needs at least 3",
        ),
        (
            ["--symbols", "AAPL,KO,XOM", "--max-weight", "0.3"],
            "max weight 0.3 × 3 assets = 0.9 < 1",
        ),
        (["--symbols", "AAPL,KO", "--target-return", "0.1"], "applies to mean_variance only"),
        (["--symbols", "AAPL,KO", "--max-weight", "0"], "--max-weight: Input should be greater"),
        (["--symbols", "AAPL,KO", "--group-cap", "tech=AAPL"], "expected NAME=A,B:CAP"),
        (["--symbols", "AAPL,KO", "--apply-to", "Ghost"], "no portfolio named 'Ghost'"),
    ],
)
def test_errors_name_what_is_wrong(capsys, argv, message):
    code = main(["--json", "allocate", "--method", "min_variance", *argv])
    assert code == 1
    assert message in json.loads(capsys.readouterr().out)["error"]


def test_group_cap_from_the_command_line(capsys):
    code, payload = run(
        capsys, "--method", "min_variance", "--symbols", "KO,PEP,PG,AAPL,XOM",
        "--start", "2018-01-01", "--end", "2022-12-31", "--group-cap", "staples=KO,PEP,PG:0.3",
    )  # fmt: skip
    assert code == 0
    staples = sum(payload["weights"][s] for s in ("KO", "PEP", "PG"))
    assert staples == pytest.approx(0.3, abs=1e-8)
