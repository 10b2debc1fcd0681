"""The model registry: ids from what defines a model, artifacts loaded only when intact."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from core.errors import InvalidInputError, NotFoundError
from core.models import ArtifactIntegrityError, model_id_for

pytestmark = pytest.mark.both_backends


def test_model_id_is_the_sha256_of_canonical_json():
    payload = {"seed": 0, "kind": "xgboost", "span": ["2000-01-03", "2010-12-31"]}
    text = '{"kind":"xgboost","seed":0,"span":["2000-01-03","2010-12-31"]}'
    expected = hashlib.sha256(text.encode()).hexdigest()[:16]
    assert model_id_for(payload) == expected
    # key order and numpy scalars do not change it; a changed value does
    assert model_id_for({"span": payload["span"], "seed": np.int64(0), "kind": "xgboost"}) == (
        expected
    )
    assert model_id_for({**payload, "seed": 1}) != expected


def test_model_id_refuses_a_non_finite_number():
    with pytest.raises(InvalidInputError, match=r"payload\.params\.eta"):
        model_id_for({"params": {"eta": float("nan")}})


def test_save_records_the_artifact_and_its_hash(ws):
    data = b"\x00binary model\xff" * 10
    record = ws.models.save(
        model_id="abc123",
        kind="xgboost",
        artifact=data,
        fmt="xgboost-ubj",
        suffix=".ubj",
        universe=["AAPL", "MSFT"],
        spec={"horizon": 5},
        folds=[{"train_start": "2000-01-03", "test_end": "2001-01-02"}],
        metrics={"rank_ic": 0.031, "bad": float("nan")},
        name="demo",
    )
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.size == len(data)
    path = ws.models.models_dir / "xgboost" / "abc123.ubj"
    assert path.read_bytes() == data
    assert record.artifact == "xgboost/abc123.ubj"
    assert record.metrics == {"rank_ic": 0.031, "bad": None}
    assert ws.models.read_artifact("abc123") == data
    card = record.card()
    assert card["model_id"] == "abc123" and card["universe"] == ["AAPL", "MSFT"]
    json.dumps(card)  # JSON-safe
    assert [r.id for r in ws.models.list()] == ["abc123"]
    assert ws.models.list("ppo") == []


def test_a_modified_artifact_is_refused(ws):
    ws.models.save(model_id="m1", kind="ppo", artifact=b"PK-zip", fmt="sb3-zip", suffix=".zip")
    path = ws.models.models_dir / "ppo" / "m1.zip"
    path.write_bytes(b"PK-zip but changed")
    with pytest.raises(ArtifactIntegrityError, match=r"model m1: .* changed since it was saved"):
        ws.models.read_artifact("m1")
    path.unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        ws.models.read_artifact("m1")


def test_unknown_and_unsafe_ids_are_refused(ws):
    with pytest.raises(NotFoundError, match="model: no model 'nope'"):
        ws.models.read_artifact("nope")
    for bad in ("../escape", "a/b", ""):
        with pytest.raises(InvalidInputError, match="model: model_id"):
            ws.models.save(model_id=bad, kind="x", artifact=b"1", fmt="json", suffix=".json")
    with pytest.raises(InvalidInputError, match="empty"):
        ws.models.save(model_id="ok", kind="x", artifact=b"", fmt="json", suffix=".json")
    assert ws.models.list() == []


def test_saving_again_replaces_and_metrics_merge(ws):
    ws.models.save(model_id="q", kind="qlearning", artifact=b"[1]", fmt="json", suffix=".json")
    ws.models.save(
        model_id="q",
        kind="qlearning",
        artifact=b"[2]",
        fmt="json",
        suffix=".json",
        metrics={"a": 1},
    )
    assert ws.models.read_artifact("q") == b"[2]"
    ws.models.update_metrics("q", {"b": 2})
    assert ws.models.require("q").metrics == {"a": 1, "b": 2}
    ws.models.delete("q")
    assert ws.models.get("q") is None
    assert not (ws.models.models_dir / "qlearning" / "q.json").exists()
