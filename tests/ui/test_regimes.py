from core.marketdata import load_bundled
from core.regimes import analyze


def test_regimes_page_shows_states_current_regime_and_probabilities(app):
    at = app("regimes")
    assert not at.exception, at.exception

    expected = analyze(load_bundled("SPX")["close"], n_states=3, seed=0, n_starts=5)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Current regime"] == expected.current.replace("_", " ")
    shown = [float(v[:-1]) for k, v in metrics.items() if k.startswith("P(")]
    assert len(shown) == 3 and abs(sum(shown) - 100) < 0.2  # filtered probabilities sum to 1
    states = at.dataframe[0].value
    names = [label.replace("_", " ") for label in expected.model.labels_]  # high volatility
    assert list(states["label"]) == names
    assert abs(states["share"].sum() - 100) < 1e-7  # percent
    assert len(at.get("plotly_chart")) == 3
    perf = at.dataframe[1].value
    assert set(perf["regime"]) <= set(names)
    assert perf["bars"].sum() > 4000  # every traded day of 1999–2018 falls in one regime


def test_two_states_refit(app):
    at = app("regimes")
    at.segmented_control(key="rg_states").set_value(2).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2


def test_each_label_is_shown_beside_its_fitted_mean_and_volatility(app):
    at = app("regimes")
    assert not at.exception, at.exception
    expected = analyze(load_bundled("SPX")["close"], n_states=3, seed=0, n_starts=5)
    names = {
        row.label: f"{row.label.replace('_', ' ')} (mean {row.mean_annual * 100:+.1f} %, "
        f"vol {row.vol_annual * 100:.1f} %)"
        for row in expected.states.itertuples()
    }
    helps = {m.label: m.proto.help for m in at.metric}
    for label, name in names.items():
        assert helps[f"P({label.replace('_', ' ')})"] == name
    assert any(all(n in c.value for n in names.values()) for c in at.caption)
    import json

    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = next(c for c in charts if c["data"][0]["type"] == "heatmap")
    assert heat["data"][0]["y"] == [names[label] for label in expected.model.labels_]  # from
    assert heat["data"][0]["x"] == [  # to: the label alone, so the cells keep their room
        label.replace("_", " ") for label in expected.model.labels_
    ]
    assert heat["layout"]["xaxis"]["title"]["text"] == "to"
    legends = {t["name"] for c in charts for t in c["data"] if t.get("type") == "scatter"}
    assert legends == {label.replace("_", " ") for label in expected.model.labels_}


def test_the_number_of_states_cannot_be_clicked_into_nothing(app):
    at = app("regimes")
    states = at.segmented_control(key="rg_states")
    assert states.proto.required and states.value == 3
    at.segmented_control(key="rg_states").set_value(2).run()
    assert at.segmented_control(key="rg_states").value == 2
    at.segmented_control(key="rg_states").set_value(None).run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="rg_states").value == 2  # the last choice, kept
