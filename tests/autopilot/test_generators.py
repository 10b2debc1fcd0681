"""The hybrid generator with fake models, its fallbacks, and the registry resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.autopilot import (
    AutopilotConfig,
    Models,
    RegistryModels,
    ServiceWeighter,
    generate,
    momentum,
    train_end,
)
from core.marketdata import load_bundled

AS_OF = date(2021, 6, 30)


@pytest.fixture(scope="module")
def closes():
    config = AutopilotConfig()
    frame = pd.DataFrame({s: load_bundled(s)["close"] for s in config.universe})
    return frame.loc[: pd.Timestamp(AS_OF)]


class FakeScorer:
    def __init__(self, scores):
        self.scores, self.calls = scores, []

    def score(self, as_of, symbols):
        self.calls.append((as_of, list(symbols)))
        return pd.Series(self.scores)


class FakeWeighter:
    def __init__(self, fail=False):
        self.fail, self.calls = fail, []

    def weights(self, as_of, symbols):
        self.calls.append((as_of, list(symbols)))
        if self.fail:
            raise RuntimeError("policy not loaded")
        n = len(symbols)
        return pd.Series({s: (i + 1) / (n * (n + 1) / 2) * 0.9 for i, s in enumerate(symbols)})


def test_ml_scores_pick_the_top_n_and_rl_weights_them(closes):
    config = AutopilotConfig(top_n=3)
    scorer = FakeScorer({s: float(i) for i, s in enumerate(config.universe)})
    weighter = FakeWeighter()
    proposal = generate("ml_top_n", closes, AS_OF, config, Models(scorer, weighter))
    top = list(config.universe[-3:])[::-1]  # the three highest scores, best first
    assert weighter.calls == [(AS_OF, top)] and scorer.calls[0][0] == AS_OF
    assert proposal.weights == pytest.approx({top[0]: 0.15, top[1]: 0.3, top[2]: 0.45})
    assert proposal.fallbacks == () and proposal.source == "ml:model+rl:model"


def test_missing_models_fall_back_to_momentum_and_equal_weight_with_the_reason(closes):
    config = AutopilotConfig(top_n=4)
    proposal = generate("ml_top_n", closes, AS_OF, config, Models())
    by_hand = {
        s: closes[s].iloc[-22] / closes[s].iloc[-253] - 1 for s in config.universe
    }  # 12-1 month momentum
    best = sorted(by_hand, key=lambda s: -by_hand[s])[:4]
    assert proposal.weights == pytest.approx({s: 0.25 for s in best})
    assert proposal.fallbacks == ("no ML model: momentum top 4", "no RL model: equal weight")
    assert proposal.source == "momentum+equal"
    assert momentum(closes, config.universe)[best[0]] == pytest.approx(by_hand[best[0]])


def test_a_failing_rl_model_falls_back_to_equal_weight_over_the_ml_top_n(closes):
    config = AutopilotConfig(top_n=2)
    scorer = FakeScorer({"KO": 2.0, "PG": 1.0, "XOM": 0.5})
    proposal = generate("ml_top_n", closes, AS_OF, config, Models(scorer, FakeWeighter(True)))
    assert proposal.weights == {"KO": 0.5, "PG": 0.5}
    assert proposal.fallbacks == ("RL model failed (policy not loaded): equal weight",)


def test_weights_summing_above_one_are_refused_and_replaced(closes):
    class Greedy:
        def weights(self, as_of, symbols):
            return pd.Series(1.0, index=list(symbols))

    config = AutopilotConfig(top_n=2)
    scorer = FakeScorer({"KO": 2.0, "PG": 1.0})
    proposal = generate("ml_top_n", closes, AS_OF, config, Models(scorer, Greedy()))
    assert proposal.weights == {"KO": 0.5, "PG": 0.5}
    assert "sum to 2.0000 > 1" in proposal.fallbacks[0]


def test_low_vol_income_weights_are_inverse_252_day_volatility(closes):
    config = AutopilotConfig(top_n=3)
    proposal = generate("low_vol_income", closes, AS_OF, config, Models())
    window = closes.iloc[-253:].to_numpy()
    logs = np.log(window[1:] / window[:-1])  # 252 daily log returns per symbol
    vol = pd.Series(logs.std(axis=0, ddof=1), index=closes.columns)  # √252 cancels out
    calm = vol.sort_values().index[:3]
    inverse = 1 / vol[calm]
    assert proposal.weights == pytest.approx((inverse / inverse.sum()).to_dict())


def test_contrarian_holds_30_percent_in_the_five_worst_month_performers(closes):
    proposal = generate("contrarian_cash", closes, AS_OF, AutopilotConfig(), Models())
    change = closes.iloc[-1] / closes.iloc[-22] - 1
    assert set(proposal.weights) == set(change.sort_values().index[:5])
    assert sum(proposal.weights.values()) == pytest.approx(0.30)


@dataclass
class Record:
    id: str
    spec: dict
    folds: list = field(default_factory=list)


class Catalog:
    def __init__(self, records):
        self.records = records

    def list(self, kind=None):
        return self.records.get(kind, [])


class Labs:
    def predict(self, model_id, as_of, symbols=None):
        return pd.Series(1.0, index=symbols)

    def weights(self, model_id, as_of, symbols):
        return pd.Series(0.5 / len(symbols), index=symbols)


def test_the_resolver_picks_the_newest_model_trained_before_the_day():
    catalog = Catalog({"xgboost": [Record("old", {"end": "2021-01-29"}),
                                   Record("new", {"data_span": ["2010-01-01", "2021-05-28"]}),
                                   Record("future", {"end": "2021-12-31"})]})  # fmt: skip
    models = RegistryModels(catalog, ml=Labs(), rl=Labs()).resolve(AS_OF, ["KO"])
    assert models.ids == {"ml": "new"} and models.scorer.model_id == "new"
    assert (
        models.weighter is None
        and models.weighter_note == f"no ppo model trained on data up to {AS_OF}"
    )


def test_a_stale_model_is_not_used_and_says_why():
    catalog = Catalog({"xgboost": [Record("x", {"train_end": "2020-06-30"})]})
    models = RegistryModels(catalog, ml=Labs(), max_age_days=190).resolve(AS_OF, ["KO"])
    assert models.scorer is None
    assert (
        models.scorer_note
        == f"stale xgboost model x: trained to 2020-06-30, 365 days before {AS_OF}"
    )
    assert RegistryModels(catalog).resolve(AS_OF, ["KO"]).scorer_note == "no ML service"


def test_a_trainer_retrains_a_missing_model_on_data_up_to_the_day():
    class Trainer:
        calls = []

        def train(self, kind, end, symbols):
            self.calls.append((kind, end))
            return f"{kind}-{end}"

    trainer = Trainer()
    models = RegistryModels(Catalog({}), ml=Labs(), rl=Labs(), trainer=trainer).resolve(
        AS_OF, ["KO"]
    )
    assert trainer.calls == [("ml", AS_OF), ("rl", AS_OF)]
    assert models.ids == {"ml": f"ml-{AS_OF}", "rl": f"rl-{AS_OF}"}


def test_train_end_reads_the_fold_in_force_or_the_spec():
    folds = [
        {"train_end": "2019-12-31", "test_start": "2020-01-10"},
        {"train_end": "2020-03-31", "test_start": "2020-04-09"},
    ]
    walk_forward = Record("wf", {"data_span": ["2010-01-04", "2022-12-28"]}, folds)
    assert train_end(walk_forward, date(2020, 1, 9)) is None  # no fold tested yet
    assert train_end(walk_forward, date(2020, 2, 3)) == date(2019, 12, 31)
    assert train_end(walk_forward, date(2021, 6, 1)) == date(2020, 3, 31)
    ppo = Record("p", {"train": ["2010-01-04", "2018-12-31"], "data_span": ["2010", "2022"]})
    assert train_end(ppo) == date(2018, 12, 31)  # the training span, not the test's end
    assert train_end(Record("a", {"end": "2020-01-31"})) == date(2020, 1, 31)
    assert train_end(Record("c", {})) is None


def test_the_rl_weights_are_kept_on_the_ml_picks_and_rescaled_to_what_the_policy_invests():
    class Policy:
        def weights(self, model_id, as_of, symbols):
            assert list(symbols) == ["A", "B", "C", "D"]  # the policy's own universe
            return pd.Series({"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.0})  # 90 % invested

    weighter = ServiceWeighter(Policy(), "p", ("A", "B", "C", "D"))
    np.testing.assert_allclose(weighter.weights(AS_OF, ["A", "C"]).to_numpy(), [0.6, 0.3])
    np.testing.assert_allclose(weighter.weights(AS_OF, ["D"]).to_numpy(), [0.9])
