"""Walk-forward training: folds and purge gap, determinism, the registry and its hash check,
scores from the registry equal to the out-of-sample scores, the task with progress and Cancel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import InvalidInputError
from core.ml import MLTrainRequest, fold_splits, newey_west_tstat, quantile_returns
from core.models import ArtifactIntegrityError
from core.tasks import TaskStatus


def test_the_default_universe_is_the_twenty_bundled_stocks():
    """Not the indices, nor the synthetic FX pairs bundled later for the currency tools."""
    universe = MLTrainRequest().universe
    assert len(universe) == 20 and {"AAPL", "XOM"} <= set(universe)
    assert not {"SP500", "SPX", "IXIC", "EURUSD", "USDJPY", "GBPUSD", "EURGBP"} & set(universe)


def test_folds_leave_a_purge_gap_of_h_plus_one_bars():
    folds = fold_splits(400, 60, horizon=5, train=100, test=50, step=50)
    first = folds[0]
    assert (first.train_start, first.train_end, first.test_start, first.test_end) == (
        60,
        160,
        166,
        216,
    )
    for f in folds:
        # the last training label (t = train_end − 1) ends at t + 1 + h < test_start
        assert (f.train_end - 1) + 1 + 5 < f.test_start
        assert f.train_end - f.train_start == 100
    assert folds[-1].test_end == 400 and [f.test_start for f in folds] == [166, 216, 266, 316, 366]
    expanding = fold_splits(400, 60, horizon=5, train=100, test=50, step=50, window="expanding")
    assert all(f.train_start == 60 for f in expanding)
    with pytest.raises(InvalidInputError, match="too few"):
        fold_splits(150, 60, horizon=5, train=100, test=50, step=50)


def test_newey_west_tstat_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    d = x - 2.5  # −1.5, −0.5, 0.5, 1.5
    gamma0, gamma1 = (d @ d) / 4, (d[1:] @ d[:-1]) / 4  # 1.25, 0.3125
    var = gamma0 + 2 * (1 - 1 / 2) * gamma1
    assert newey_west_tstat(x, 1) == pytest.approx(2.5 / math.sqrt(var / 4))


def test_quantile_returns_by_hand():
    scores = np.array([[1.0, 2.0, 3.0, 4.0]])
    returns = np.array([[0.01, 0.02, 0.03, 0.04]])
    assert quantile_returns(scores, returns, 2) == pytest.approx([0.015, 0.035])


def test_two_runs_give_the_same_model_id_bytes_and_metrics(ws, tiny_request):
    first = ws.ml.train(tiny_request)
    fold_id = f"{first['model_id']}-f000"
    bytes_first = ws.models.read_artifact(fold_id)
    second = ws.ml.train(tiny_request)
    assert second["model_id"] == first["model_id"]
    assert ws.models.read_artifact(fold_id) == bytes_first
    skip = {"timings", "folds", "name"}
    assert {k: v for k, v in second.items() if k not in skip} == {
        k: v for k, v in first.items() if k not in skip
    }
    assert [f["rank_ic"] for f in second["folds"]] == [f["rank_ic"] for f in first["folds"]]
    other = ws.ml.train({**tiny_request, "seed": 1})
    assert other["model_id"] != first["model_id"]


def test_report_has_the_contract_keys_and_honest_counts(tiny_model):
    for key in (
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
        "index",
        "feature_importance",
        "canaries",
        "configurations_tried",
        "hit_rate",
        "top_minus_bottom",
    ):
        assert key in tiny_model
    assert tiny_model["configurations_tried"] == 1
    assert len(tiny_model["quantile_returns"]) == 5
    assert set(tiny_model["feature_importance"]["gain"]) == set(
        tiny_model["feature_importance"]["shap"]
    )
    # the series' cumulative Rank IC ends at the sum of the daily values
    series = tiny_model["series"]
    assert series["cum_rank_ic"][-1] == pytest.approx(sum(series["rank_ic"]))
    assert tiny_model["rank_ic"] == pytest.approx(np.mean(series["rank_ic"]))


def test_registry_scores_equal_the_out_of_sample_scores(ws, tiny_model, tiny_request):
    """``predict`` on a test date (data up to it, fold from the registry) = the walk-forward's."""
    from core.ml import build_dataset, run_walk_forward

    request = MLTrainRequest(**tiny_request)
    universe = ws.ml.universe(request)
    dataset = build_dataset(universe, request)
    run = run_walk_forward(dataset, request)
    for fold in run.folds[:3]:
        t = fold.test_start + 7
        scores = ws.ml.predict(tiny_model["model_id"], universe.dates[t])
        expected = dict(zip(universe.symbols, run.scores[t], strict=True))
        assert {s: pytest.approx(v, rel=1e-6) for s, v in expected.items()} == scores.to_dict()
    with pytest.raises(InvalidInputError, match="before the model's first fold"):
        ws.ml.predict(tiny_model["model_id"], "2000-06-01")


def test_a_modified_artifact_is_refused_through_the_load_path(ws, tiny_model):
    fold = ws.ml.scorer(tiny_model["model_id"]).folds[0]
    record = ws.models.require(fold["id"])
    path = ws.models.models_dir / record.artifact
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    scorer = ws.ml.scorer(tiny_model["model_id"])
    with pytest.raises(ArtifactIntegrityError):
        scorer.booster(fold)
    with pytest.raises(ArtifactIntegrityError):
        ws.ml.predict(tiny_model["model_id"], fold["test_start"])


def test_a_bad_request_is_refused_at_submit_and_writes_nothing(ws, table_counts):
    before = table_counts(ws)
    with pytest.raises(InvalidInputError, match="horizon"):
        ws.tasks.submit("ml_train", {"horizon": 0})
    with pytest.raises(InvalidInputError, match="NOPE"):
        ws.tasks.submit("ml_train", {"symbols": ["AAPL", "NOPE"]})
    assert table_counts(ws) == before


def test_training_as_a_task_reports_folds_and_trees(ws, tiny_request):
    task = ws.tasks.submit("ml_train", tiny_request)
    assert ws.tasks.run(task, every=0) is TaskStatus.DONE
    snap = ws.tasks.get(task)
    assert snap.unit == "folds" and snap.total == len(snap.result["folds"])
    assert snap.result["model_id"] and ws.models.get(snap.result["model_id"])
    assert len(snap.curve) == len(snap.result["folds"])  # one Rank IC point per fold


def test_cancel_stops_between_trees(ws, tiny_request):
    task = ws.tasks.submit("ml_train", tiny_request)
    ws.tasks.request_cancel(task)  # a queued task is cancelled at once
    assert ws.tasks.run(task) is TaskStatus.CANCELLED
    # a running training stops at the next tree once asked
    calls = []

    class Ctx:
        def progress(self, *a, **k):
            calls.append(a)

        def point(self, **k):
            pass

        def should_stop(self):
            return len(calls) > 25  # after the first fold and a few trees of the second

    report = ws.ml.train(tiny_request, Ctx())
    assert report["stopped"] is True and len(report["folds"]) >= 1
    assert len(report["folds"]) < 4


def test_daily_ic_equals_scipy_pearson_and_spearman_per_date():
    from scipy.stats import pearsonr, spearmanr

    from core.ml import daily_ic

    rng = np.random.default_rng(8)
    scores = rng.normal(size=(30, 12))
    returns = 0.3 * scores + rng.normal(size=scores.shape)
    scores[rng.random(scores.shape) < 0.15] = np.nan
    returns[3, :10] = np.nan  # two names left: no IC that day
    ic, ric = daily_ic(scores, returns)
    for t in range(30):
        ok = np.isfinite(scores[t]) & np.isfinite(returns[t])
        if ok.sum() < 3:
            assert np.isnan(ic[t]) and np.isnan(ric[t])
            continue
        assert ic[t] == pytest.approx(pearsonr(scores[t, ok], returns[t, ok])[0])
        assert ric[t] == pytest.approx(spearmanr(scores[t, ok], returns[t, ok])[0])


@pytest.mark.slow
def test_the_worker_process_trains_and_saves_the_model(ws, tiny_request):
    """``start_worker``: a separate process runs the task and writes the result and models."""
    import time

    task = ws.tasks.submit("ml_train", tiny_request)
    ws.tasks.start_worker(task)
    deadline = time.monotonic() + 120
    while not (snap := ws.tasks.get(task)).finished and time.monotonic() < deadline:
        time.sleep(0.5)
    assert snap.status is TaskStatus.DONE, snap.error
    model_id = snap.result["model_id"]
    assert ws.ml.predict(model_id, snap.result["folds"][0]["test_start"]).size == 6


@pytest.mark.slow
def test_optuna_tuning_runs_on_inner_windows_and_is_counted(ws, tiny_request):
    report = ws.ml.train({**tiny_request, "tune_trials": 3})
    assert report["configurations_tried"] == 3
    assert report["tuning_trials_run"] == 3 * len(report["folds"])
    assert report["top_n"]["n_trials"] == 3
    # the tuned folds use parameters from the search space, not only the defaults
    tuned = {f["params"]["n_estimators"] for f in report["folds"]}
    assert tuned and all(20 <= n <= 200 for n in tuned) and tuned != {10}
    # deterministic: tuning again gives the same model
    assert ws.ml.train({**tiny_request, "tune_trials": 3})["model_id"] == report["model_id"]


@pytest.mark.slow
def test_folds_on_a_process_pool_give_the_same_model_as_serially(ws, tiny_request):
    serial = ws.ml.train(tiny_request)
    fold_bytes = ws.models.read_artifact(f"{serial['model_id']}-f001")
    pooled = ws.ml.train({**tiny_request, "workers": 2})
    assert pooled["model_id"] == serial["model_id"]
    assert pooled["rank_ic"] == serial["rank_ic"] and pooled["top_n"] == serial["top_n"]
    assert ws.models.read_artifact(f"{serial['model_id']}-f001") == fold_bytes
