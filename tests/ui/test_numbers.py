"""Numbers read by a person: the formatting helper (worked by hand) and a scan of every page
for raw float reprs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from app import format as fmt


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
    assert fmt.format_for("fast") == "%,.4g"


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


def test_tidy_sets_near_zero_to_zero():
    frame = pd.DataFrame({"pnl": [-0.000000000005, 2.5, math.nan]})
    tidied = fmt.tidy(frame)
    assert tidied["pnl"].iloc[0] == 0.0 and not math.copysign(1, tidied["pnl"].iloc[0]) < 0
    assert tidied["pnl"].iloc[1] == 2.5 and math.isnan(tidied["pnl"].iloc[2])
