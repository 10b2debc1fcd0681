"""Training through ``ws.qlearning``: the report, the two-regime sanity test, the registry,
determinism, no look-ahead, hash refusal, and the ``qlearning_train`` task."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from core.backtest import BacktestConfig
from core.errors import InvalidInputError
from core.models import ArtifactIntegrityError
from core.tasks import TaskStatus
from tests.rl._qlearning_parts import (
    LONG,
    SHORT,
    KnownStrategies,
    open_ws,
    request_for,
    two_regime_closes,
    write_market,
)

METRICS = {"sharpe", "total_return", "max_drawdown", "turnover", "cagr", "volatility"}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    strategies = KnownStrategies(tmp_path_factory.mktemp("strategies"))
    yield
    strategies.remove()


@pytest.fixture(scope="module")
def market_file(tmp_path_factory) -> Path:
    closes, _ = two_regime_closes()
    return write_market(tmp_path_factory.mktemp("market") / "two.csv", closes)


@pytest.fixture(scope="module")
def trained(known, market_file, tmp_path_factory):
    ws = open_ws(tmp_path_factory.mktemp("ws"))
    out = ws.qlearning.train(request_for(market_file))
    yield ws, out
    ws.close()


def test_train_reports_model_policy_and_metrics_of_every_contender(trained):
    _, out = trained
    assert len(out["model_id"]) == 16
    assert set(out["test"]) == {"q_weights", "equal_weight", LONG, SHORT}
    assert all(set(m) == METRICS for m in out["test"].values())
    assert set(out["train"]) == set(out["test"])
    for state, weights in out["policy"].items():
        assert len(state.split("|")) == 3
        assert set(weights) == {LONG, SHORT} and sum(weights.values()) == pytest.approx(1)
    fold = out["folds"][0]
    assert fold["train_end"] < fold["test_start"]
    assert out["episodes"] == 40 and len(out["curve"]) == 40
    json.dumps(out)  # the CLI prints it as it is


def test_two_regimes_the_policy_favours_the_winner_of_each(trained):
    ws, out = trained
    model = ws.qlearning.load(out["model_id"])
    assert sorted(model.encoder.labels) == ["bear", "bull"]
    winner = {"bull": LONG, "bear": SHORT}
    favoured = {"bull": 0.0, "bear": 0.0}
    visits = {"bull": 0, "bear": 0}
    for s, state in enumerate(model.states):
        n = sum(model.visits[s])
        if not n:
            continue
        regime = state.split("|")[0]
        w = dict(zip(model.strategies, model.weights(state), strict=True))[winner[regime]]
        favoured[regime] += n * w
        visits[regime] += n
        if n >= 500:  # every well-visited state, one by one
            assert w > 0.5, (state, n, w)
    for regime in winner:  # and on average over the regime's visits
        assert favoured[regime] / visits[regime] > 0.8, regime


def test_out_of_sample_the_learned_weights_beat_each_strategy_and_equal_weights(trained):
    _, test = trained[0], trained[1]["test"]
    q = test["q_weights"]["total_return"]
    assert q > max(test[LONG]["total_return"], test[SHORT]["total_return"]) + 0.5
    assert test["equal_weight"]["total_return"] == pytest.approx(0.0)  # long + short = flat
    assert test["q_weights"]["sharpe"] > 2


def test_a_sleeves_test_return_is_its_units_times_the_price_change(trained, market_file):
    # by hand: the long sleeve buys q units at the second bar's open and holds them
    ws, out = trained
    closes, _ = two_regime_closes()
    market, _ = ws.backtests.load(BacktestConfig(strategy=LONG, data_file=str(market_file)))
    n_train = int(np.searchsorted(market.index, np.datetime64(out["folds"][0]["test_start"])))
    open1 = closes[0]  # the second bar opens at the first close
    units = np.floor(100_000 / (open1 * (1 + 0.0002) * (1 + 0.0005)))
    spent = units * open1 * (1 + 0.0002) * (1 + 0.0005)
    equity = lambda t: 100_000 - spent + units * closes[t]  # noqa: E731
    expected = equity(len(closes) - 1) / equity(n_train - 1) - 1
    assert out["test"][LONG]["total_return"] == pytest.approx(expected, rel=1e-6)


def test_the_q_table_is_in_the_registry_with_its_hash(trained):
    ws, out = trained
    record = ws.models.require(out["model_id"])
    assert (record.kind, record.fmt) == ("qlearning", "json")
    path = ws.models.models_dir / record.artifact
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.spec["request"]["strategies"] == [LONG, SHORT]
    assert record.metrics["test"]["q_weights"] == out["test"]["q_weights"]
    assert [r.id for r in ws.qlearning.list()] == [out["model_id"]]


def test_same_request_same_model_bytes(trained, market_file, tmp_path):
    ws, out = trained
    other = open_ws(tmp_path / "again")
    again = other.qlearning.train(request_for(market_file))
    assert again["model_id"] == out["model_id"]
    assert other.models.read_artifact(again["model_id"]) == ws.models.read_artifact(out["model_id"])
    assert again["test"] == out["test"]
    other.close()


def test_another_future_changes_no_learned_value(trained, tmp_path):
    ws, out = trained
    closes, _ = two_regime_closes()
    n_test_start = len(closes) - round(len(closes) * 0.3)
    altered = closes.copy()
    altered[n_test_start:] = altered[n_test_start - 1] * np.linspace(
        1.0, 0.4, len(closes) - n_test_start
    )
    path = write_market(tmp_path / "two.csv", altered)
    other = open_ws(tmp_path / "ws")
    result = other.qlearning.train(request_for(path))
    assert result["model_id"] != out["model_id"]  # other bars, another model
    first, second = ws.qlearning.load(out["model_id"]), other.qlearning.load(result["model_id"])
    assert second.q == first.q and second.visits == first.visits
    assert second.encoder == first.encoder
    assert result["train"] == out["train"]
    other.close()


def test_a_modified_artifact_is_refused_by_the_service_and_the_strategy(
    known, market_file, tmp_path
):
    ws = open_ws(tmp_path / "ws")
    out = ws.qlearning.train(request_for(market_file, episodes=2))
    record = ws.models.require(out["model_id"])
    path = ws.models.models_dir / record.artifact
    doc = json.loads(path.read_bytes())
    doc["q"][0][0] += 1.0
    path.write_bytes(json.dumps(doc, sort_keys=True).encode())
    with pytest.raises(ArtifactIntegrityError):
        ws.qlearning.load(out["model_id"])
    config = BacktestConfig(
        strategy="q_weights", params={"model_id": out["model_id"]}, data_file=str(market_file)
    )
    with pytest.raises(ArtifactIntegrityError):
        ws.backtests.run(config, save=False)
    ws.close()


def test_the_task_reports_episodes_and_its_result(known, market_file, tmp_path):
    ws = open_ws(tmp_path / "ws")
    task_id = ws.tasks.submit("qlearning_train", request_for(market_file).model_dump(mode="json"))
    assert ws.tasks.run(task_id) is TaskStatus.DONE
    snap = ws.tasks.get(task_id)
    assert (snap.done, snap.total, snap.unit) == (40, 40, "episodes")
    assert [p["episode"] for p in snap.curve][-1] == 40
    assert snap.result["model_id"] == ws.qlearning.list()[0].id
    ws.close()


def test_cancel_during_training_stops_after_the_episode_and_saves_no_model(
    known, market_file, tmp_path, monkeypatch
):
    ws = open_ws(tmp_path / "ws")
    task_id = ws.tasks.submit("qlearning_train", request_for(market_file).model_dump(mode="json"))
    reads = []
    real = ws.tasks.cancel_requested

    def cancel_at_third_read(tid):  # Stop pressed while episode 3 runs
        reads.append(tid)
        if len(reads) == 3:
            ws.tasks.request_cancel(tid)
        return real(tid)

    monkeypatch.setattr(ws.tasks, "cancel_requested", cancel_at_third_read)
    assert ws.tasks.run(task_id, every=0.0) is TaskStatus.CANCELLED
    snap = ws.tasks.get(task_id)
    assert (snap.done, snap.total) == (3, 40)
    assert ws.qlearning.list() == []
    ws.close()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"step": 0.3}, "step"),
        ({"strategies": ["sma_crossover", "sma_crossover"]}, "must differ"),
        ({"strategies": ["sma_crossover", "q_weights"]}, "cannot be a sleeve"),
        ({"symbol": "SPX", "data": "x.csv"}, "exactly one of symbol and data"),
        ({"params": {"rsi_reversal": {"period": 1}}}, "params of rsi_reversal"),
        ({"epsilon_start": 0.1, "epsilon_end": 0.5}, "epsilon end"),
    ],
)
def test_a_bad_request_is_refused_at_submit_and_writes_nothing(ws, change, problem):
    request = {"strategies": ["sma_crossover", "rsi_reversal"], "symbol": "SPX", **change}
    with pytest.raises(InvalidInputError, match=problem) as caught:
        ws.tasks.submit("qlearning_train", request)
    assert str(caught.value).startswith("qlearning")
    assert ws.tasks.list() == []
