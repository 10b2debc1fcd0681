"""The Autopilot page: regime now, rules, the decision, a dry run, schedule, log, simulation."""

from __future__ import annotations

from core.workstation import Workstation

DEMO = "Demo — US large caps"


def test_autopilot_page_shows_the_regime_rules_and_decision(app):
    at = app("autopilot")
    assert not at.exception, at.exception
    ws = Workstation.open()
    expected = ws.autopilot.regime("2022-12-28").to_dict()
    metrics = {m.label: m.value for m in at.metric}
    # the label bear_medium_vol: its trend, with its volatility bucket beneath
    assert metrics["Regime"] == expected["trend"]["state"]
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Regime"] == f"{expected['volatility']['bucket']} volatility"
    assert expected["label"] == f"{metrics['Regime']}_{expected['volatility']['bucket']}_vol"
    assert metrics["HMM (filtered)"] == expected["hmm"]["label"].replace("_", " ")
    assert deltas["HMM (filtered)"] == f"{expected['hmm']['probability']:.0%} probability"
    # these deltas describe the reading, they are not changes: no ↑/↓ beside them
    none = 2  # Metric.MetricDirection.NONE
    assert {m.label: m.proto.direction for m in at.metric if m.delta} == {
        "Regime": none,
        "Volatility": none,
        "Above SMA50": none,
        "HMM (filtered)": none,
    }
    assert metrics["Confidence"] == f"{expected['confidence']:.0%}"
    rules = at.dataframe  # the rules editor is a data editor (a dataframe element)
    assert any("strategy" in d.value.columns for d in rules)
    texts = " ".join(m.value for m in at.markdown)
    plan = ws.autopilot.decide(DEMO, "2022-12-28").to_dict()
    assert plan["strategy"] in texts.replace("\\", "") and "Risk: **approved**" in texts
    assert any(c.value == "No run yet." for c in at.caption)
    assert any(c.value == "No simulation yet." for c in at.caption)
    ws.close()


def test_a_dry_run_from_the_page_is_logged_without_fills(app):
    at = app("autopilot")
    at.button(key="ap_dry").click().run()
    assert not at.exception, at.exception
    ws = Workstation.open()
    log = ws.autopilot.log(DEMO)
    assert list(log["status"]) == ["dry_run"] and list(log["mode"]) == ["dry-run"]
    assert (
        ws.audit.events(kind="fill", portfolio=DEMO)["payload"]
        .map(lambda p: p.get("strategy") == "autopilot")
        .sum()
        == 0
    )
    texts = " ".join(m.value for m in at.markdown)
    assert "status **dry\\_run**" in texts
    assert len(at.dataframe) >= 4  # weights, checks, trades, log (and the rules editor)
    ws.close()


def test_saving_edited_rules_from_the_page(app):
    at = app("autopilot")
    at.number_input(key="ap_hold").set_value(3).run()
    at.button(key="ap_save_rules").click().run()
    assert not at.exception, at.exception
    assert any("Rules saved" in s.value for s in at.success)
    ws = Workstation.open()
    assert ws.autopilot.rules().min_hold_days == 3
    ws.close()


def test_the_regime_history_is_drawn_as_bands_over_the_index(app):
    at = app("autopilot")
    assert not at.get("plotly_chart")  # nothing stored yet: a button offers to compute it
    at.button(key="ap_history").click().run()
    assert not at.exception, at.exception
    import json

    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bands = charts[0]
    assert {t["name"] for t in bands["data"]} <= {"bull", "bear", "sideways"}
    ws = Workstation.open()
    stored = ws.autopilot.stored_regimes("2021-01-01", "2022-12-28")
    assert len(stored) >= 480  # two years of trading days
    high = (stored["volatility"].isin(["high", "extreme"])).sum()
    assert high == 0 or bands["layout"].get("shapes")  # high-volatility days are shaded
    ws.close()


def test_a_finished_simulation_is_shown_against_its_baselines(app):
    app()  # the app opens (and migrates) its database first
    ws = Workstation.open()
    request = {"start": "2022-10-03", "end": "2022-11-30", "mock": True}
    task_id = ws.tasks.submit("autopilot_backtest", request)
    ws.tasks.run(task_id)
    expected = ws.tasks.get(task_id).result["main"]
    ws.close()
    at = app("autopilot")
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "n_fallbacks" in d.value.columns)
    assert list(table.index) == ["mock", "equal_weight", "index"]
    # the table shows percentages
    assert table.loc["mock", "total_return"] == 100 * expected["metrics"]["total_return"]
    assert table.loc["index", "total_return"] == (
        100 * expected["baselines"]["index"]["total_return"]
    )
