"""The lab format: export, import, merge; CSV and Excel exports; the published schema."""

from __future__ import annotations

import io
import json
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.instruments import AssetClass, Instrument, default_instrument
from core.portfolio import (
    LabFormatError,
    LabPortfolio,
    LabPosition,
    PortfolioError,
    PortfolioSummary,
    lab_json_schema,
    merge_documents,
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


def check_net_pnl_identity(summary: PortfolioSummary) -> None:
    lhs = summary.realized_pnl + summary.unrealized_pnl - summary.commissions - summary.fees
    rhs = summary.equity - summary.starting_cash - summary.net_deposits
    scale = abs(summary.equity) + abs(summary.positions_value) + 1.0
    assert math.isclose(lhs, rhs, abs_tol=1e-9 * scale), (lhs, rhs)


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


# -- merge --------------------------------------------------------------------------------------


def make_ab(ws) -> None:
    p = ws.portfolios
    p.create("A", 100_000.0, created_at=datetime(2020, 1, 1))
    p.trade("A", "AAPL", "buy", 100, 50.0, ts=T0)
    p.trade("A", "MSFT", "buy", 10, 200.0, ts=T0)
    p.create("B", 50_000.0, created_at=datetime(2020, 2, 1))
    p.trade("B", "AAPL", "buy", 300, 60.0, commission=2.0, ts=T1)


def check_ab_merged(ws, name: str, raw_closes, extra=None) -> None:
    """A + B (+ an optional third book given as (start, cash, aapl_qty, aapl_cost))."""
    start, cash, qty, cost = 150_000.0, 93_000.0 + 31_998.0, 400, 100 * 50.0 + 300 * 60.0
    if extra:
        start, cash, qty, cost = (
            start + extra[0],
            cash + extra[1],
            qty + extra[2],
            cost + extra[2] * extra[3],
        )
    ledger = ws.portfolios.ledger(name)
    assert ledger.starting_cash == start
    assert ledger.cash == pytest.approx(cash)
    assert ledger.quantity("AAPL") == qty
    assert ledger.positions["AAPL"].avg_cost == pytest.approx(cost / qty)
    assert ledger.quantity("MSFT") == 10
    assert ledger.positions["MSFT"].avg_cost == pytest.approx(200.0)
    assert ledger.commissions == pytest.approx(2.0)
    summary = ws.portfolios.summary(name)
    aapl, msft = raw_closes.on("AAPL", LAST_DAY), raw_closes.on("MSFT", LAST_DAY)
    assert summary.equity == pytest.approx(cash + qty * aapl + 10 * msft)
    assert summary.unrealized_pnl == pytest.approx(qty * aapl - cost + 10 * (msft - 200))
    check_net_pnl_identity(summary)


def test_merge_into_a_new_portfolio_averages_costs_by_quantity(ws, table_counts, raw_closes):
    make_ab(ws)
    assert ws.merge_portfolios("A", "B", into="AB") == "AB"
    assert ws.portfolios.names() == ["A", "AB", "B"]
    check_ab_merged(ws, "AB", raw_closes)
    assert ws.portfolios.ledger("AB").positions["AAPL"].avg_cost == pytest.approx(57.5)
    # the sources are untouched
    assert ws.portfolios.ledger("A").quantity("AAPL") == 100
    assert ws.portfolios.ledger("B").cash == pytest.approx(31_998.0)
    merged = ws.export_portfolio("AB")
    assert merged.metadata["merged_from"] == ["A", "B"]
    assert merged.created_at == datetime(2020, 1, 1)
    assert len(merged.trades) == 3


def test_merge_into_one_of_the_two(ws, raw_closes):
    make_ab(ws)
    ws.merge_portfolios("A", "B", into="A")
    assert ws.portfolios.names() == ["A", "B"]
    check_ab_merged(ws, "A", raw_closes)
    assert ws.portfolios.ledger("B").quantity("AAPL") == 300  # B is kept
    assert len(ws.portfolios.trades("A")) == 3


def test_merge_into_the_second_of_the_two(ws, raw_closes):
    make_ab(ws)
    ws.merge_portfolios("A", "B", into="B")
    check_ab_merged(ws, "B", raw_closes)


def test_merge_into_a_third_existing_portfolio(ws, raw_closes):
    make_ab(ws)
    ws.portfolios.create("C", 1_000.0)
    ws.portfolios.trade("C", "AAPL", "buy", 10, 40.0, ts=T0)
    ws.merge_portfolios("A", "B", into="C")
    assert ws.portfolios.names() == ["A", "B", "C"]
    check_ab_merged(ws, "C", raw_closes, extra=(1_000.0, 600.0, 10, 40.0))
    # (10*40 + 100*50 + 300*60) / 410
    assert ws.portfolios.ledger("C").positions["AAPL"].avg_cost == pytest.approx(23_400 / 410)
    assert len(ws.portfolios.trades("C")) == 4


def test_merge_nets_opposite_positions_and_realizes_the_difference(ws, raw_closes):
    p = ws.portfolios
    p.create("S", 20_000.0, allow_short=True)
    p.trade("S", "AAPL", "sell", 40, 70.0, ts=T1)
    p.create("L", 10_000.0)
    p.trade("L", "AAPL", "buy", 100, 50.0, ts=T0)
    ws.merge_portfolios("S", "L", into="SL")
    ledger = p.ledger("SL")
    assert ledger.quantity("AAPL") == 60
    assert ledger.positions["AAPL"].avg_cost == pytest.approx(50.0)  # the long survives
    assert ledger.realized_pnl() == pytest.approx((70 - 50) * 40)  # 800
    assert ledger.cash == pytest.approx(22_800.0 + 5_000.0)
    assert ledger.starting_cash == 30_000.0
    assert ledger.allow_short
    summary = p.summary("SL")
    last = raw_closes.on("AAPL", LAST_DAY)
    assert summary.equity == pytest.approx(27_800 + 60 * last)
    assert summary.net_pnl == pytest.approx(800 + 60 * (last - 50))
    check_net_pnl_identity(summary)


def test_merge_of_exactly_opposite_positions_closes_them(ws):
    p = ws.portfolios
    p.create("S", 20_000.0, allow_short=True)
    p.trade("S", "KO", "sell", 100, 70.0, ts=T1)
    p.create("L", 10_000.0)
    p.trade("L", "KO", "buy", 100, 50.0, ts=T0)
    ws.merge_portfolios("L", "S", into="LS")
    ledger = p.ledger("LS")
    assert ledger.quantity("KO") == 0 and ledger.open_positions() == []
    assert ledger.realized_pnl() == pytest.approx(2_000.0)
    summary = p.summary("LS")
    assert summary.equity == pytest.approx(30_000 + 2_000)
    check_net_pnl_identity(summary)


def test_merge_of_a_portfolio_with_itself_is_refused(ws):
    make_ab(ws)
    with pytest.raises(PortfolioError):
        ws.merge_portfolios("A", "A", into="AA")
    assert ws.portfolios.names() == ["A", "B"]


def test_merge_of_two_copies_with_the_same_fill_ids(demo_ws):
    from core.demo import DEMO_NAME

    demo_ws.import_portfolio(demo_ws.export_portfolio(DEMO_NAME), name="twin")
    demo_ws.merge_portfolios(DEMO_NAME, "twin", into="double")
    one, two = demo_ws.portfolios.ledger(DEMO_NAME), demo_ws.portfolios.ledger("double")
    assert two.cash == pytest.approx(2 * one.cash)
    for position in one.open_positions():
        assert two.quantity(position.symbol) == 2 * position.quantity
        assert two.positions[position.symbol].avg_cost == pytest.approx(position.avg_cost)
    trades = demo_ws.portfolios.trades("double")
    assert len(trades) == 16 and trades["fill_id"].is_unique
    check_net_pnl_identity(demo_ws.portfolios.summary("double"))


def test_merge_renames_clashing_long_fill_ids_uniquely(ws):
    p = ws.portfolios
    p.create("A", 100_000.0)
    p.trade("A", "AAPL", "buy", 1, 10.0, ts=T0, client_order_id="x" * 59 + "1")
    p.trade("A", "AAPL", "buy", 1, 10.0, ts=T1, client_order_id="x" * 59 + "2")
    twin = "B" * 20
    ws.import_portfolio(ws.export_portfolio("A"), name=twin)
    ws.merge_portfolios("A", twin, into="M")
    trades = p.trades("M")
    assert len(trades) == 4 and trades["fill_id"].is_unique
    assert p.ledger("M").quantity("AAPL") == 4


def _lab(
    name: str, instrument: Instrument, quantity: float, avg_cost: float, cash: float = 1_000_000.0
) -> LabPortfolio:
    return LabPortfolio(
        name=name,
        starting_cash=1_000_000.0,
        cash=cash,
        allow_short=True,
        allow_margin=True,
        created_at=datetime(2020, 1, 1),
        instruments=[instrument],
        positions=[LabPosition(symbol=instrument.symbol, quantity=quantity, avg_cost=avg_cost)],
    )


def test_merge_documents_nets_futures_with_the_multiplier():
    es = default_instrument("ES", AssetClass.FUTURE)
    long = _lab("long", es, 3, 4_000.0, cash=1_000_000 - 3 * 4_000 * 50)
    short = _lab("short", es, -1, 4_100.0, cash=1_000_000 + 4_100 * 50)
    merged = merge_documents(long, short, "both")
    [position] = merged.positions
    assert position.quantity == 2 and position.avg_cost == 4_000.0
    assert position.realized_pnl == pytest.approx(1 * (4_100 - 4_000) * 50)
    assert merged.cash == pytest.approx(2_000_000 - 600_000 + 205_000)
    assert merged.starting_cash == 2_000_000.0
    assert merged.trades is None


def test_merge_documents_reports_conflicting_instrument_definitions():
    es50 = default_instrument("ES", AssetClass.FUTURE)
    es20 = es50.model_copy(update={"multiplier": 20.0})
    with pytest.raises(LabFormatError) as caught:
        merge_documents(_lab("a", es50, 1, 4_000.0), _lab("b", es20, 1, 4_000.0), "ab")
    message = str(caught.value)
    assert "ES" in message and "multiplier" in message and "50.0 vs 20.0" in message


def test_merge_documents_reports_a_currency_mismatch():
    es = default_instrument("ES", AssetClass.FUTURE)
    euro = _lab("b", es, 1, 4_000.0).model_copy(update={"base_currency": "EUR"})
    with pytest.raises(LabFormatError) as caught:
        merge_documents(_lab("a", es, 1, 4_000.0), euro, "ab")
    assert "base currency" in str(caught.value) and "USD vs EUR" in str(caught.value)


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
