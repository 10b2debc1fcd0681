"""Numbers read by a person: the formatting helper (worked by hand) and a scan of every page
for raw float reprs."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from app import format as fmt
from app.registry import PAGES
from tests.ui.tabs import open_tab


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-0.000000000005, "0.00"),  # within 1e-9 of zero: 0, no sign
        (-0.004, "0.00"),  # rounds to zero: no sign either
        (0.34956775200000006, "0.35"),
        (1234567.891, "1,234,567.89"),
        (-1234.5, "-1,234.50"),
        (None, "—"),
        (math.nan, "—"),
        (math.inf, "—"),
    ],
)
def test_number(value, expected):
    assert fmt.number(value) == expected


def test_number_decimals():
    assert fmt.number(0.34956775200000006, 4) == "0.3496"
    assert fmt.number(-0.000000000005, 4) == "0.0000"


def test_param():
    assert fmt.param(0.34956775200000006) == "0.3496"
    assert fmt.param(-0.000000000005) == "0"
    assert fmt.param(20) == "20" and fmt.param(True) == "True"


def test_money():
    assert fmt.money(-1234.5, "USD") == "-1,234.50 USD"
    assert fmt.money(1e6) == "1,000,000.00"
    assert fmt.money(-0.000000000005, "USD") == "0.00 USD"
    assert fmt.money(None, "USD") == "—"


def test_pct():
    assert fmt.pct(0.34956775200000006) == "35.0 %"
    assert fmt.pct(0.34956775200000006, 2) == "34.96 %"
    assert fmt.pct(-0.000000000005) == "0.0 %"
    assert fmt.pct(-0.0001) == "0.0 %"  # -0.01 % rounds to zero at 1 decimal: no sign
    assert fmt.pct(0.0123, 2, signed=True) == "+1.23 %"
    assert fmt.pct(0.0, 2, signed=True) == "0.00 %"
    assert fmt.pct(-0.25) == "-25.0 %"


def test_format_for_by_column_name():
    assert fmt.format_for("total_return") == "percent"
    assert fmt.format_for("weight") == "percent"
    assert fmt.format_for("Unrl. %") == "percent"
    assert fmt.format_for("sharpe") == "%.2f"
    assert fmt.format_for("in-sample score") == "%.2f"
    assert fmt.format_for("realized_pnl") == "%,.2f"
    assert fmt.format_for("market_value") == "%,.2f"
    assert fmt.format_for("fast") == "localized"
    assert fmt.format_for("quantity") == "localized"


def test_column_config_for_covers_float_columns_only():
    frame = pd.DataFrame(
        {
            "symbol": ["SPX"],
            "n": [3],
            "total_return": [0.34956775200000006],
            "pnl": [-0.000000000005],
            "x": [1.5],
        }
    )
    config = fmt.column_config_for(frame, {"x": None})
    assert set(config) == {"total_return", "pnl", "x"}
    assert config["total_return"]["type_config"]["format"] == "percent"
    assert config["pnl"]["type_config"]["format"] == "%,.2f"
    assert config["x"] is None  # an override wins


def test_widget_deltas_round_to_an_unsigned_zero():
    from app import widgets

    assert widgets.pct(-0.000000000005) == "0.00%"  # not a red "-0.00%"
    assert widgets.pct(-0.0123) == "-1.23%" and widgets.pct(0.0123) == "+1.23%"
    assert widgets.amount(-0.000000000005) == "0.00"
    assert widgets.amount(-1234.5) == "-1,234.50" and widgets.amount(-250_000.4) == "-250,000"
    assert widgets.money(-0.000000000005) == "0.00 USD"


def test_tidy_sets_near_zero_to_zero():
    frame = pd.DataFrame({"pnl": [-0.000000000005, 2.5, math.nan]})
    tidied = fmt.tidy(frame)
    assert tidied["pnl"].iloc[0] == 0.0 and not math.copysign(1, tidied["pnl"].iloc[0]) < 0
    assert tidied["pnl"].iloc[1] == 2.5 and math.isnan(tidied["pnl"].iloc[2])


def test_fixed_percentages_show_percent_columns_to_two_fixed_decimals():
    import streamlit as st

    frame = pd.DataFrame(
        {
            "var": [0.023, 0.0249, math.nan],
            "weight": [0.3523, 0.0, 0.6477],
            "note": ["a", "b", "c"],
            "mixed": [0.1, "n/a", 0.2],
            "pnl": [1.5, 2.5, 3.5],
        }
    )
    config = {
        "var": st.column_config.NumberColumn("VaR", format="percent"),
        "weight": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
        "mixed": st.column_config.NumberColumn(format="percent"),
        "pnl": st.column_config.NumberColumn(format="%,.2f"),
        "absent": st.column_config.NumberColumn(format="percent"),
    }
    before = (frame.copy(), json.dumps(config))
    shown, fixed = fmt.fixed_percentages(frame, config)
    assert shown["var"].iloc[:2].tolist() == pytest.approx([2.3, 2.49], abs=1e-12)
    assert math.isnan(shown["var"].iloc[2])
    assert shown["weight"].tolist() == pytest.approx([35.23, 0.0, 64.77], abs=1e-12)
    assert fixed["var"]["type_config"]["format"] == "%.2f%%"  # 2.30%, not the preset's 2.3%
    assert fixed["var"]["label"] == "VaR"
    bar = fixed["weight"]["type_config"]
    assert (bar["type"], bar["format"], bar["min_value"], bar["max_value"]) == (
        "progress",
        "%.2f%%",
        0,
        100,
    )
    assert shown["mixed"].tolist() == [0.1, "n/a", 0.2] and fixed["mixed"] == config["mixed"]
    assert shown["pnl"].tolist() == [1.5, 2.5, 3.5] and fixed["pnl"] == config["pnl"]
    pd.testing.assert_frame_equal(frame, before[0])  # the caller's frame and config: untouched
    assert json.dumps(config) == before[1]


def test_the_allocation_donut_labels_to_one_fixed_decimal():
    from app import charts

    positions = pd.DataFrame({"symbol": ["AAPL", "KO"], "market_value": [551_206.16, 255_820.37]})
    pie = charts.allocation_figure(positions, cash=171.58).data[0]
    assert pie.texttemplate == "%{label}<br>%{percent:.1%}"  # Cash 0.0%, not 0.00965%
    assert list(pie.values) == [551_206.16, 255_820.37, 171.58]


def test_snake_case_columns_get_a_heading_unless_they_have_a_label():
    import streamlit as st

    names = ("est_cost", "call_iv", "n_orders", "vega_per_1pct", "cagr", "var_95", "ts")
    assert [fmt.heading(n) for n in names] == [
        "Est. cost",
        "Call IV",
        "# orders",
        "Vega per 1 %",
        "CAGR",
        "VaR 95",
        "Time",
    ]
    frame = pd.DataFrame(
        columns=["market_value", "pnl_net", "fill_id", "note_text", "symbol", "Return", "VaR"]
    )
    config = {
        "market_value": st.column_config.NumberColumn(format="%,.2f"),
        "pnl_net": st.column_config.NumberColumn("Net", format="%,.2f"),
        "fill_id": None,  # hidden
        "note_text": "Note",
    }
    out = fmt.headings(frame, config)
    assert out["market_value"]["label"] == "Market value"
    assert out["market_value"]["type_config"] == config["market_value"]["type_config"]
    assert out["pnl_net"]["label"] == "Net" and out["fill_id"] is None
    assert out["note_text"] == "Note" and out["symbol"] == {"label": "Symbol"}
    assert "Return" not in out and "VaR" not in out  # already written for a person
    assert config["market_value"]["label"] is None  # the caller's config: untouched


def test_every_table_goes_through_format_dataframe():
    """``fmt.dataframe`` fixes the percent columns' decimals; a bare ``st.dataframe`` would not."""
    root = Path(__file__).resolve().parents[2]
    bare = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("app", "pages")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "format.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.dataframe\(", line) and "fmt.dataframe(" not in line
    ]
    assert not bare, bare


def test_chart_tooltips_format_money_and_percentages():
    from app import charts

    curve = pd.DataFrame(
        {"equity": [100_000.0, 101_234.5678, 99_000.0]},
        index=pd.date_range("2020-01-01", periods=3),
    )
    fig = charts.equity_figure(curve)
    assert [t.hovertemplate for t in fig.data] == ["%{y:,.2f}", "%{y:.2%}"]
    bands = charts.drawdown_bands_figure(pd.DataFrame({"drawdown": [0.0, 0.05]}), 0.1, 0.2)
    assert bands.data[0].hovertemplate == "%{y:.2%}"
    assert fig.layout.yaxis.hoverformat == ",.2f" and fig.layout.yaxis2.hoverformat == ".2%"
    frontier = charts.frontier_figure(
        pd.DataFrame({"volatility": [0.1534567], "expected_return": [0.0712345]}),
        pd.DataFrame({"volatility": [0.2], "expected_return": [0.05]}, index=["SPX"]),
        (0.15, 0.07),
        "chosen",
    )
    assert frontier.layout.xaxis.hoverformat == ".2%" == frontier.layout.yaxis.hoverformat


# -- every page, scanned for raw float reprs ---------------------------------------------------
RAW_FLOAT = re.compile(r"\d\.\d{7,}|\de-\d\d|[−-]0\.0+(?![0-9]*[1-9])")


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("0.34956775200000006", True),
        ("-0.000000000005", True),
        ("5e-12", True),
        ("−0.00", True),
        ("-0.00%", True),
        ("-0.01%", False),
        ("35.0 %", False),
        ("1,234.57", False),
        ("2010-01-04", False),
    ],
)
def test_the_scan_pattern(text, raw):
    assert bool(RAW_FLOAT.search(text)) is raw


def _rendered_texts(at) -> list[tuple[str, str]]:
    texts = [(f"metric {m.label}", str(m.value)) for m in at.metric]
    texts += [(f"delta {m.label}", str(m.proto.delta)) for m in at.metric]
    texts += [(f"help {m.label}", str(m.proto.help)) for m in at.metric]
    texts += [("markdown", m.value) for m in at.markdown]
    texts += [("caption", c.value) for c in at.caption]
    for frame in at.dataframe:
        for name, column in frame.value.items():
            if column.dtype == object:  # text cells are shown as they are
                texts += [(f"table {name}", str(v)) for v in column.dropna()]
    return texts


def _unformatted_float_columns(at) -> list[str]:
    """Float columns of the page's tables without a NumberColumn format."""
    missing = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for name, column in frame.value.items():
            if column.dtype.kind != "f":
                continue
            entry = config.get(str(name)) or config.get(f"col:{name}") or {}
            if entry is None or not (entry.get("type_config") or {}).get("format"):
                if entry.get("hidden"):
                    continue
                missing.append(f"{frame.proto.id or '?'}:{name}")
    return missing


def _preset_percents(at) -> list[str]:
    """Columns shown with Streamlit's "percent" preset (its decimals vary row to row)."""
    return [
        f"{frame.proto.id or '?'}:{name}"
        for frame in at.dataframe
        for name, entry in json.loads(frame.proto.columns or "{}").items()
        if ((entry or {}).get("type_config") or {}).get("format") == "percent"
        and name in frame.value.columns  # a shared config may name columns a table leaves out
    ]


@pytest.mark.slow
def test_no_page_shows_a_raw_float(app):
    at = app()
    problems = []
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, (spec.title, at.exception)
        problems += [
            f"{spec.title}: {where}: {text!r}"
            for where, text in _rendered_texts(at)
            if RAW_FLOAT.search(text)
        ]
        problems += [
            f"{spec.title}: unformatted column {c}" for c in _unformatted_float_columns(at)
        ]
        problems += [f"{spec.title}: preset percent column {c}" for c in _preset_percents(at)]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_backtest_results_show_no_raw_float(app):
    at = app("backtest")
    at.button(key="bt_run").click().run()
    problems = []
    for label in ("Chart", "Metrics", "Trades", "Monte Carlo", "Stress", "Compare runs"):
        open_tab(at, "bt_view", label)  # a hidden tab's tables are not drawn
        if label == "Monte Carlo":
            at.button(key="mc_run").click().run()
        assert not at.exception, at.exception
        assert at.metric or at.dataframe, label  # results are on the page
        problems += [f"{label}: {w}: {t!r}" for w, t in _rendered_texts(at) if RAW_FLOAT.search(t)]
        problems += [f"{label}: unformatted column {c}" for c in _unformatted_float_columns(at)]
    assert not problems, "\n".join(problems)


def test_backtest_metrics_round_to_an_unsigned_zero():
    from app import backtest_panels as panels

    assert panels._fmt("total_return", -0.000000000005) == "0.00%"
    assert panels._fmt("sharpe", -0.000000000005) == "0.000"
    assert panels._fmt("total_return", -0.0123) == "-1.23%"
    table = pd.DataFrame({"run [abc123]": {"total_return": 0.34956775200000006, "sharpe": 1.23456}})
    shown = panels.compare_table(table)
    assert list(shown["run [abc123]"]) == ["34.96%", "1.235"]
    assert list(shown.index) == [
        panels.METRIC_LABELS["total_return"],
        panels.METRIC_LABELS["sharpe"],
    ]
