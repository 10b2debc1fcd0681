"""RLService through the workstation: the report, the registry artifact and its hash check,
weights from data up to ``as_of``, the ``rl_train`` task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidInputError, NotFoundError
from core.marketdata import load_bundled
from core.models import ArtifactIntegrityError
from core.rl import POLICIES, PPOParams, PPOTrainRequest, load_model
from core.tasks import TaskStatus
from tests.rl._rl_parts import drift_market

TINY = {"n_steps": 32, "n_envs": 2, "batch_size": 32, "n_epochs": 1, "net_width": 8}
REQUEST = {
    "symbols": ["AAPL", "KO"],
    "train_start": "2015-01-01",
    "train_end": "2016-12-31",
    "test_end": "2017-06-30",
    "timesteps": 64,
    "seed": 1,
    "ppo": TINY,
    "env": {"episode_steps": 10},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny model on a workstation of its own (shared by the tests here)."""
    from core.config import Settings
    from core.workstation import Workstation

    root = tmp_path_factory.mktemp("rl")
    ws = Workstation(
        Settings(
            database_url=f"sqlite:///{root}/ws.db", models_dir=root / "models", seed_demo=False
        )
    )
    ws.prepare()
    report = ws.rl.train(PPOTrainRequest.model_validate(REQUEST))
    yield ws, report
    ws.close()


def test_the_report_compares_every_policy_on_both_spans(trained):
    _, report = trained
    assert set(report["train"]) == set(report["test"]) == set(POLICIES)
    assert report["timesteps"] == 64
    assert report["split"] == {
        "train_start": "2015-01-02",
        "train_end": "2016-12-30",
        "test_start": "2017-01-03",
        "test_end": "2017-06-30",
    }
    test = report["test"]
    # the test span is every bar after train_end: 2017-01-03 … 2017-06-30
    n_test = len(load_bundled("AAPL").loc["2017-01-01":"2017-06-30"])
    assert {m["bars"] for m in test.values()} == {n_test}
    # buy and hold: one purchase (turnover 1 over half a year: 2 a year), never traded again
    assert test["buy_hold"]["n_rebalances"] == 1
    assert test["buy_hold"]["turnover"] == pytest.approx(252 / n_test, rel=1e-9)
    # buy and hold's return is the equal-weight purchase at the first test open, net of cost
    closes = {s: load_bundled(s)["close"] for s in ("AAPL", "KO")}
    growth = np.mean([closes[s]["2017-06-30"] / closes[s]["2017-01-03"] for s in closes])
    assert test["buy_hold"]["total_return"] == pytest.approx(growth * (1 - 0.0015) - 1, rel=1e-9)
    assert report["turnover"] == {p: test[p]["turnover"] for p in POLICIES}
    dsr = report["deflated_sharpe"]
    assert dsr["n_trials"] == 1 and 0 <= dsr["dsr"] <= 1
    weights = report["test_weights"]
    assert weights["columns"] == ["AAPL", "KO", "CASH"]
    np.testing.assert_allclose(np.sum(weights["rows"], axis=1), 1.0, atol=1e-5)


def test_the_artifact_is_an_sb3_zip_in_the_registry(trained):
    ws, report = trained
    record = ws.models.require(report["model_id"])
    assert (record.kind, record.fmt, record.universe) == ("ppo", "sb3-zip", ["AAPL", "KO"])
    assert record.artifact == f"ppo/{report['model_id']}.zip"
    assert (ws.models.models_dir / record.artifact).read_bytes()[:2] == b"PK"
    assert record.metrics["test"]["ppo"]["sharpe"] == pytest.approx(report["test"]["ppo"]["sharpe"])
    listed = ws.rl.list()
    assert [m["model_id"] for m in listed] == [report["model_id"]]


def test_weights_use_data_up_to_as_of_only(trained):
    ws, report = trained
    model_id = report["model_id"]
    weights = ws.rl.weights(model_id, "2017-03-01", ["KO", "AAPL"])
    assert list(weights.index) == ["KO", "AAPL"]
    assert 0 <= weights.sum() <= 1 + 1e-9 and (weights >= 0).all()
    # a second path: the loaded policy on closes cut at as_of
    policy = ws.rl.policy(model_id)
    closes = np.column_stack(
        [load_bundled(s)["close"].loc[:"2017-03-01"].to_numpy() for s in ("AAPL", "KO")]
    )
    target = policy.target(closes[-policy.history_needed :], np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(weights[["AAPL", "KO"]].to_numpy(), target[:2], rtol=1e-6)
    with pytest.raises(InvalidInputError, match="allocates over AAPL, KO"):
        ws.rl.weights(model_id, "2017-03-01", ["AAPL", "MSFT"])


def test_a_modified_artifact_and_an_unknown_id_are_refused(trained):
    ws, report = trained
    model_id = report["model_id"]
    path = ws.models.models_dir / ws.models.require(model_id).artifact
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        with pytest.raises(ArtifactIntegrityError):
            ws.rl.policy(model_id)  # refused even though an earlier load is cached
        with pytest.raises(ArtifactIntegrityError):
            ws.rl.weights(model_id, "2017-03-01", ["AAPL", "KO"])
    finally:
        path.write_bytes(original)
    with pytest.raises(NotFoundError):
        ws.rl.policy("0123456789abcdef")
    # a zip dropped into the models folder without a record is never loaded
    (path.parent / "feedfacefeedface.zip").write_bytes(original)
    with pytest.raises(NotFoundError):
        ws.rl.policy("feedfacefeedface")
    # the recorded bytes load
    assert load_model(ws.models.read_artifact(model_id)).observation_space.shape


def test_training_runs_as_a_task(ws):
    task_id = ws.tasks.submit("rl_train", REQUEST | {"seed": 2})
    assert ws.tasks.run(task_id) is TaskStatus.DONE
    task = ws.tasks.get(task_id)
    assert task.unit == "timesteps" and task.done == 64
    assert task.curve and {"timesteps", "mean_reward"} <= set(task.curve[0])
    assert ws.models.get(task.result["model_id"]).kind == "ppo"


def test_a_bad_request_is_refused_at_submit(ws):
    with pytest.raises(InvalidInputError, match="symbols: unknown symbol NOPE"):
        ws.tasks.submit("rl_train", REQUEST | {"symbols": ["AAPL", "NOPE"]})
    with pytest.raises(InvalidInputError, match="test span"):
        ws.tasks.submit("rl_train", REQUEST | {"train_end": "2017-06-29"})
    assert ws.tasks.list("rl_train") == []
    with pytest.raises(ValueError, match="batch_size"):
        PPOParams(n_steps=8, n_envs=1, batch_size=64)


def test_a_closes_file_trains_and_a_bad_one_is_refused(ws, tmp_path):
    market = drift_market(n_bars=400)
    frame = pd.DataFrame(market.close, index=market.index.date, columns=list(market.symbols))
    path = tmp_path / "closes.csv"
    frame.to_csv(path, index_label="date")
    request = REQUEST | {"symbols": (), "data": str(path), "train_start": None}
    request |= {"train_end": str(market.index[299].date()), "test_end": None}
    report = ws.rl.train(PPOTrainRequest.model_validate(request))
    assert report["symbols"] == ["A", "B", "C"]
    assert report["split"]["test_end"] == str(market.index[-1].date())
    spec = ws.models.require(report["model_id"]).spec
    assert spec["data"]["file"] == "closes.csv" and len(spec["data"]["sha256"]) == 64
    bad = tmp_path / "bad.csv"
    bad.write_text("date,A\nnot-a-date,1\n")
    with pytest.raises(InvalidInputError, match=r"data file bad\.csv: the first column"):
        ws.rl.train(PPOTrainRequest.model_validate(request | {"data": str(bad)}))


def test_walk_forward_retrains_before_each_fold_and_chains_them(ws):
    request = PPOTrainRequest.model_validate(
        REQUEST | {"test_end": "2017-12-29", "walk_forward": 2, "seed": 4}
    )
    report = ws.rl.train(request)
    folds = report["walk_forward"]["folds"]
    assert len(folds) == 2
    # fold 0 trains to the split's train_end, fold 1 to the day its block starts after
    assert folds[0]["train_end"] == report["split"]["train_end"]
    assert folds[0]["test_start"] == report["split"]["test_start"]
    assert folds[1]["test_end"] == report["split"]["test_end"] == "2017-12-29"
    assert folds[0]["test_end"] == folds[1]["train_end"] < folds[1]["test_start"]
    chained = report["walk_forward"]["test"]
    for name in POLICIES:
        growth = np.prod([1 + f["test"][name]["total_return"] for f in folds])
        assert chained[name]["total_return"] == pytest.approx(growth - 1, rel=1e-9)
        assert chained[name]["bars"] == sum(f["test"][name]["bars"] for f in folds)
    # buy and hold buys again at each fold's start (a fresh portfolio per fold)
    assert chained["buy_hold"]["n_rebalances"] == 2
