"""Checkpoints go to the registry; a stopped training is evaluated and saved as stopped."""

from __future__ import annotations

from core.rl import PPOTrainRequest, load_model
from tests.rl.test_ppo_training import StopAfter

REQUEST = {
    "symbols": ["AAPL", "KO"],
    "train_start": "2015-01-01",
    "train_end": "2016-12-31",
    "test_end": "2017-03-31",
    "timesteps": 128,
    "seed": 7,
    "env": {"episode_steps": 10},
    "ppo": {"n_steps": 32, "n_envs": 2, "batch_size": 32, "n_epochs": 1, "net_width": 8},
    "checkpoint_every": 64,
}


def test_checkpoints_are_registry_records(ws):
    report = ws.rl.train(PPOTrainRequest.model_validate(REQUEST))
    # at 64 timesteps (128 is the end: the model itself, not a checkpoint)
    assert len(report["checkpoints"]) == 1
    record = ws.models.require(report["checkpoints"][0])
    assert (record.kind, record.fmt, record.metrics["timesteps"]) == (
        "ppo_checkpoint",
        "sb3-zip",
        64,
    )
    assert record.spec["checkpoint"] == 64 and record.spec["seed"] == 7
    assert load_model(ws.models.read_artifact(record.id)).num_timesteps == 64
    assert [r.id for r in ws.models.list("ppo")] == [report["model_id"]]


def test_a_stopped_training_is_saved_as_stopped(ws):
    request = PPOTrainRequest.model_validate(REQUEST | {"timesteps": 10_000, "checkpoint_every": 0})
    report = ws.rl.train(request, ctx=StopAfter(40))  # 2 environments: ~80 timesteps
    assert report["stopped"] is True and report["timesteps"] == 82
    record = ws.models.require(report["model_id"])
    assert record.spec["stopped_at"] == 82 and record.metrics["stopped"] is True
    full = ws.rl.train(PPOTrainRequest.model_validate(REQUEST | {"checkpoint_every": 0}))
    assert full["model_id"] != report["model_id"]  # a partial model never takes a full one's id
