"""The lab format: export and import; CSV and Excel exports; the published schema (merging is
tested in test_lab_merge.py)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.instruments import Instrument
from core.portfolio import (
    LabFormatError,
    LabPortfolio,
    LabPosition,
    PortfolioError,
    lab_json_schema,
    parse_document,
    to_csv,
    to_excel,
    to_json,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO_ROOT / "docs" / "portfolio-lab-format.schema.json"

T0 = datetime(2020, 3, 2, 16, 0)
T1 = datetime(2020, 6, 1, 16, 0)
T2 = datetime(2021, 1, 4, 16, 0)
LAST_DAY = "2022-12-28"


def comparable(document: LabPortfolio) -> dict:
    return document.model_dump(mode="json", exclude={"exported_at", "name"})


def make_sample(ws, name: str = "sample") -> None:
    """A portfolio with a long, a short, a closed position, costs and cash movements."""
    p = ws.portfolios
    p.create(
        name,
        100_000.0,
        allow_short=True,
        description="sample book",
        created_at=datetime(2020, 1, 1, 9, 30),
    )
    p.trade(name, "AAPL", "buy", 10, 100.0, commission=1.0, ts=datetime(2020, 1, 2, 16))
    p.trade(name, "KO", "sell", 10, 50.0, fees=0.25, ts=datetime(2020, 1, 3, 16))
    p.cash_movement(name, 1_000.0, ts=datetime(2020, 1, 4))
    p.trade(name, "MSFT", "buy", 5, 150.0, ts=datetime(2020, 1, 6, 16))
    p.trade(name, "MSFT", "sell", 5, 160.0, commission=1.0, ts=datetime(2020, 1, 7, 16))
    p.cash_movement(name, -250.0, ts=datetime(2020, 1, 8))
    p.set_target_weights(name, {"AAPL": 0.5, "KO": 0.25})


SAMPLE_CASH = 100_000 - 1_000 - 1 + 500 - 0.25 - 750 + 800 - 1 + 1_000 - 250  # 100,297.75


# -- export / import --------------------------------------------------------------------------


def test_sample_numbers(ws):
    make_sample(ws)
    ledger = ws.portfolios.ledger("sample")
    assert ledger.cash == pytest.approx(SAMPLE_CASH)
    assert ledger.realized_pnl() == pytest.approx(50.0)  # MSFT: 5 * (160 - 150)


def test_export_import_round_trip_with_trades(ws, table_counts):
    make_sample(ws)
    original = ws.export_portfolio("sample")
    assert len(original.trades) == 4 and len(original.cash_movements) == 2
    assert original.cash == pytest.approx(SAMPLE_CASH)
    assert ws.import_portfolio(to_json(original), name="copy") == "copy"
    copy = ws.export_portfolio("copy")
    assert copy.name == "copy"
    assert comparable(copy) == comparable(original)
    # the copy values and trades like the original
    a, b = ws.portfolios.summary("sample"), ws.portfolios.summary("copy")
    for key in ("cash", "equity", "realized_pnl", "unrealized_pnl", "net_pnl", "commissions"):
        assert getattr(a, key) == pytest.approx(getattr(b, key)), key
    # fills of the copy carry the realized P&L of the original
    np.testing.assert_allclose(
        ws.portfolios.trades("copy")["realized_pnl"].to_numpy(), [0.0, 0.0, 0.0, 50.0]
    )
    ws.portfolios.trade("copy", "AAPL", "sell", 10, 110.0, ts=T0)
    assert ws.portfolios.ledger("copy").realized_pnl() == pytest.approx(150.0)


def test_export_import_round_trip_without_trades(ws):
    make_sample(ws)
    original = ws.export_portfolio("sample", include_trades=False)
    assert original.trades is None and original.cash_movements is None
    ws.import_portfolio(to_json(original).encode(), name="copy")
    copy = ws.export_portfolio("copy", include_trades=False)
    assert comparable(copy) == comparable(original)
    assert ws.portfolios.trades("copy").empty


def test_export_import_round_trip_of_an_empty_portfolio(ws):
    ws.portfolios.create("empty", 5_000.0, created_at=datetime(2021, 5, 5))
    original = ws.export_portfolio("empty")
    ws.import_portfolio(original, name="copy")
    assert comparable(ws.export_portfolio("copy")) == comparable(original)


def test_demo_round_trip(demo_ws):
    from core.demo import DEMO_NAME

    original = demo_ws.export_portfolio(DEMO_NAME)
    demo_ws.import_portfolio(to_json(original), name="demo copy")
    assert comparable(demo_ws.export_portfolio("demo copy")) == comparable(original)


def test_csv_export_reads_back_with_the_right_numbers(ws):
    make_sample(ws)
    frame = pd.read_csv(io.BytesIO(to_csv(ws.export_portfolio("sample"))))
    assert frame.columns.tolist() == ["symbol", "quantity", "avg_cost", "realized_pnl"]
    rows = frame.set_index("symbol")
    assert rows.index.tolist() == ["AAPL", "KO", "MSFT", "CASH"]
    np.testing.assert_allclose(rows.loc["AAPL"].to_numpy(), [10.0, 100.0, 0.0])
    np.testing.assert_allclose(rows.loc["KO"].to_numpy(), [-10.0, 50.0, 0.0])
    np.testing.assert_allclose(rows.loc["MSFT"].to_numpy(), [0.0, 0.0, 50.0])
    assert rows.loc["CASH", "quantity"] == pytest.approx(SAMPLE_CASH)


def test_excel_export_reads_back_with_the_right_numbers(ws):
    make_sample(ws)
    sheets = pd.read_excel(io.BytesIO(to_excel(ws.export_portfolio("sample"))), sheet_name=None)
    assert {"Summary", "Positions", "Trades", "Target weights", "Instruments"} <= set(sheets)
    summary = dict(zip(sheets["Summary"]["field"], sheets["Summary"]["value"], strict=True))
    assert float(summary["cash"]) == pytest.approx(SAMPLE_CASH)
    assert float(summary["starting_cash"]) == 100_000.0
    assert float(summary["commissions"]) == 2.0 and float(summary["fees"]) == 0.25
    assert float(summary["net_deposits"]) == 750.0
    positions = sheets["Positions"].set_index("symbol")
    np.testing.assert_allclose(positions.loc[["AAPL", "KO", "MSFT"], "quantity"], [10, -10, 0])
    np.testing.assert_allclose(positions.loc[["AAPL", "KO"], "avg_cost"], [100.0, 50.0])
    trades = sheets["Trades"]
    assert trades["symbol"].tolist() == ["AAPL", "KO", "MSFT", "MSFT"]
    assert trades["side"].tolist() == ["buy", "sell", "buy", "sell"]
    np.testing.assert_allclose(trades["price"], [100.0, 50.0, 150.0, 160.0])
    np.testing.assert_allclose(trades["quantity"], [10, 10, 5, 5])
    weights = sheets["Target weights"].set_index("symbol")["weight"]
    assert weights.to_dict() == {"AAPL": 0.5, "KO": 0.25}
    multipliers = sheets["Instruments"].set_index("symbol")["multiplier"]
    assert multipliers.to_dict() == {"AAPL": 1.0, "KO": 1.0, "MSFT": 1.0}


def test_export_with_a_target_weight_on_a_symbol_not_held(ws):
    make_sample(ws)
    ws.portfolios.set_target_weights("sample", {"AAPL": 0.5, "PEP": 0.3})
    document = ws.export_portfolio("sample")
    assert "PEP" in {i.symbol for i in document.instruments}
    ws.import_portfolio(to_json(document), name="copy")
    assert comparable(ws.export_portfolio("copy")) == comparable(document)


# -- malformed imports --------------------------------------------------------------------------


def sample_json(ws) -> dict:
    make_sample(ws)
    return json.loads(to_json(ws.export_portfolio("sample")))


def import_fails(ws, table_counts, raw: str | bytes) -> str:
    """Import must fail with a ValueError and write nothing; returns the message."""
    before = table_counts(ws)
    names = ws.portfolios.names()
    with pytest.raises(ValueError) as caught:
        ws.import_portfolio(raw, name="imported")
    assert ws.portfolios.names() == names
    assert table_counts(ws) == before
    return str(caught.value)


def test_import_of_text_that_is_not_json_names_line_and_column(ws, table_counts):
    lines = to_json(
        LabPortfolio(name="x", starting_cash=1.0, cash=1.0, created_at=datetime(2020, 1, 1))
    ).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith('  "cash"'))
    lines[at] = '  "cash": ,'  # the value is missing: column 11 holds the comma
    message = import_fails(ws, table_counts, "\n".join(lines))
    assert "not valid JSON" in message
    assert f"line {at + 1}, column 11" in message


def test_import_of_bytes_that_are_not_utf8(ws, table_counts):
    message = import_fails(ws, table_counts, b'{"name": "\xff\xfe"}')
    assert "not valid JSON" in message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(version=3), ["version"]),
        (lambda d: d.update(format="something/else"), ["format"]),
        (lambda d: d.update(colour="red"), ["colour", "Extra inputs"]),
        (lambda d: d["positions"][0].update(colour="red"), ["positions[0].colour"]),
        (
            lambda d: d.update(instruments=[i for i in d["instruments"] if i["symbol"] != "KO"]),
            ["without an instrument definition", "KO"],
        ),
        (
            lambda d: d["trades"][1].update(price=-5.0),
            ["trades[1].price", "greater than or equal to 0"],
        ),
        (lambda d: d["trades"][2].update(quantity=0), ["trades[2].quantity"]),
        (lambda d: d.pop("starting_cash"), ["starting_cash", "required"]),
        (lambda d: d.update(target_weights={"AAPL": 0.8, "KO": 0.5}), ["sum to more than 1"]),
        (
            lambda d: d["trades"][1].update(fill_id=d["trades"][0]["fill_id"]),
            ["duplicate", "fill_id"],
        ),
    ],
    ids=[
        "version",
        "format",
        "unknown-field",
        "unknown-nested-field",
        "no-instrument",
        "negative-price",
        "zero-quantity",
        "missing-field",
        "weights",
        "duplicate-fill",
    ],
)
def test_invalid_document_says_what_and_where(ws, table_counts, mutate, expected):
    document = sample_json(ws)
    mutate(document)
    message = import_fails(ws, table_counts, json.dumps(document))
    assert message.startswith("invalid portfolio document")
    for part in expected:
        assert part in message, (part, message)
    with pytest.raises(LabFormatError):
        parse_document(json.dumps(document))


def test_history_that_does_not_reproduce_cash(ws, table_counts):
    document = sample_json(ws)
    document["cash"] += 100.0
    message = import_fails(ws, table_counts, json.dumps(document))
    assert message == "cash: 100397.75 stated, 100297.75 from the trades"


def test_history_that_does_not_reproduce_a_quantity(ws, table_counts):
    document = sample_json(ws)
    document["positions"][0]["quantity"] = 12.0  # AAPL: the trades give 10
    message = import_fails(ws, table_counts, json.dumps(document))
    assert message == "positions[0].quantity: 12 stated, 10 from the trades"


def test_history_with_an_off_step_quantity(ws, table_counts):
    document = sample_json(ws)
    document["trades"][0]["quantity"] = 10.5
    message = import_fails(ws, table_counts, json.dumps(document))
    assert message.startswith("trades[0] (2020-01-02 16:00): AAPL: quantity 10.5")
    assert "step" in message


@pytest.mark.parametrize(("field", "value"), [("price_tick", 0.05), ("multiplier", 10.0)])
def test_instrument_that_differs_from_the_workstations(ws, table_counts, field, value):
    make_sample(ws)
    # without the history, so that the definition check is what fails
    document = json.loads(to_json(ws.export_portfolio("sample", include_trades=False)))
    for instrument in document["instruments"]:
        if instrument["symbol"] == "AAPL":
            instrument[field] = value
    message = import_fails(ws, table_counts, json.dumps(document))
    assert "instrument definitions differ" in message
    assert "AAPL" in message and field in message


def test_import_under_an_existing_name_writes_nothing(ws, table_counts):
    document = sample_json(ws)
    before = table_counts(ws)
    with pytest.raises(PortfolioError) as caught:
        ws.import_portfolio(json.dumps(document))  # its own name, "sample", exists
    assert caught.value.field == "name"
    assert table_counts(ws) == before


@pytest.mark.parametrize("broken", ["short", "negative-cash"])
def test_import_refuses_a_state_its_own_rules_forbid(ws, table_counts, broken):
    aapl = Instrument(symbol="AAPL", name="Apple")
    if broken == "short":
        positions, cash = [LabPosition(symbol="AAPL", quantity=-10, avg_cost=100.0)], 11_000.0
    else:
        positions, cash = [LabPosition(symbol="AAPL", quantity=10, avg_cost=100.0)], -500.0
    document = LabPortfolio(
        name="x",
        starting_cash=10_000.0 if broken == "short" else 500.0,
        cash=cash,
        created_at=datetime(2020, 1, 1),
        instruments=[aapl],
        positions=positions,
    )
    assert not document.allow_short and not document.allow_margin
    import_fails(ws, table_counts, to_json(document))


# -- the published schema -----------------------------------------------------------------------


def test_published_schema_matches_the_model():
    assert SCHEMA_FILE.exists(), f"{SCHEMA_FILE.relative_to(REPO_ROOT)} is missing"
    assert json.loads(SCHEMA_FILE.read_text()) == lab_json_schema()


def test_schema_describes_the_format():
    schema = lab_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert {"name", "starting_cash", "cash", "created_at"} <= set(schema["required"])
    json.dumps(schema)  # serializable
