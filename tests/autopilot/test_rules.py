"""The rules table: defaults by regime, order, conditions, hysteresis, stored and edited."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from core.autopilot import DEFAULT_RULES, Condition, Held, Rule, RulesTable, select
from core.autopilot._rules import match
from tests.autopilot.helpers import reading


@pytest.mark.parametrize(
    ("trend", "bucket", "strategy"),
    [
        ("bull", "high", "min_variance"),  # high volatility wins over the trend
        ("bear", "extreme", "min_variance"),
        ("bear", "low", "contrarian_cash"),
        ("bull", "low", "ml_top_n"),
        ("bull", "medium", "ml_top_n"),
        ("sideways", "medium", "low_vol_income"),
    ],
)
def test_default_rules_map_each_regime_to_its_strategy(trend, bucket, strategy):
    assert match(DEFAULT_RULES, reading(trend, bucket))[0] == strategy


def test_confidence_is_rule_times_regime_and_the_fallback_applies_when_nothing_matches():
    table = RulesTable(
        rules=(
            Rule(
                name="calm",
                when=Condition(volatility=("low",)),
                strategy="ml_top_n",
                confidence=0.8,
            ),
        ),  # fmt: skip
        fallback="equal_weight",
    )
    chosen = select(table, reading("bull", "low", confidence=0.5), None, date(2024, 1, 2))
    assert (chosen.strategy, chosen.confidence) == ("ml_top_n", pytest.approx(0.4))
    other = select(table, reading("bull", "high", confidence=0.5), None, date(2024, 1, 2))
    assert other.strategy == "equal_weight" and other.confidence == pytest.approx(0.25)


def test_breadth_conditions_bound_the_share():
    rule = Rule(name="broad", when=Condition(min_breadth=0.6, max_breadth=0.8), strategy="ml_top_n")
    assert rule.when.holds(reading(share=0.6)) and rule.when.holds(reading(share=0.8))
    assert not rule.when.holds(reading(share=0.59)) and not rule.when.holds(reading(share=0.81))


def test_hysteresis_keeps_the_strategy_until_min_hold_days_have_passed():
    held = Held("ml_top_n", date(2024, 1, 1))  # a Monday
    bear = reading("bear", "low")
    # 2024-01-12 is 9 business days after 01-01: the switch waits
    kept = select(DEFAULT_RULES, bear, held, date(2024, 1, 12))
    assert kept.strategy == "ml_top_n" and not kept.switched
    assert kept.since == date(2024, 1, 1) and "hysteresis" in kept.reason
    # 2024-01-15 is 10 business days after: it switches and the new strategy starts today
    switched = select(DEFAULT_RULES, bear, held, date(2024, 1, 15))
    assert (switched.strategy, switched.since, switched.switched) == (
        "contrarian_cash",
        date(2024, 1, 15),
        True,
    )


def test_the_same_strategy_keeps_its_start_day():
    held = Held("ml_top_n", date(2024, 1, 1))
    chosen = select(DEFAULT_RULES, reading("bull", "low"), held, date(2024, 3, 1))
    assert chosen.since == date(2024, 1, 1) and not chosen.switched


def test_a_rules_table_rejects_unknown_strategies_and_keys():
    with pytest.raises(ValidationError):
        Rule(name="x", strategy="yolo")
    with pytest.raises(ValidationError):
        RulesTable.model_validate({"rules": [], "minimum_hold": 3})


def test_rules_are_stored_edited_and_audited(ws):
    assert ws.autopilot.rules() == DEFAULT_RULES
    edited = DEFAULT_RULES.model_copy(update={"min_hold_days": 3, "rules": DEFAULT_RULES.rules[:2]})
    ws.autopilot.save_rules(edited.model_dump(mode="json"))
    assert ws.autopilot.rules() == edited
    events = ws.audit.events(kind="autopilot_rules")
    assert len(events) == 1 and events.iloc[0]["payload"]["min_hold_days"] == 3
