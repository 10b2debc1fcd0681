"""``python -m core rl train --agent qlearning`` (the command lives in wt-ppo's core/cli/_rl.py;
this file is skipped until that module is merged)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from core.cli import main
from tests.rl._qlearning_parts import LONG, SHORT, KnownStrategies, two_regime_closes, write_market

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("core.cli._rl") is None, reason="core/cli/_rl.py is not merged yet"
)


@pytest.fixture
def known(tmp_path):
    strategies = KnownStrategies(tmp_path / "strategies")
    yield
    strategies.remove()


def test_train_prints_the_model_its_policy_and_the_test_metrics(
    known, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")
    closes, _ = two_regime_closes(900)
    path = write_market(tmp_path / "two.csv", closes)
    argv = ["rl", "train", "--agent", "qlearning", "--strategies", f"{LONG},{SHORT}"]
    code = main(["--json", *argv, "--data", str(path), "--seed", "0"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert len(out["model_id"]) == 16
    assert set(out["test"]) == {"q_weights", "equal_weight", LONG, SHORT}
    bull = [w for s, w in out["policy"].items() if s.startswith("bull")]
    assert bull and all(set(w) == {LONG, SHORT} for w in bull)

    code = main(["--json", "rl", "train", "--agent", "qlearning", "--strategies", LONG])
    refused = json.loads(capsys.readouterr().out)
    assert code == 1 and "strategies" in refused["error"]
