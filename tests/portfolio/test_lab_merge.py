"""Merging lab portfolios: costs averaged by quantity, opposite positions netted (the difference
realized), fill ids kept unique, futures netted with their multiplier, conflicts reported."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from core.instruments import AssetClass, Instrument, default_instrument
from core.portfolio import (
    LabFormatError,
    LabPortfolio,
    LabPosition,
    PortfolioError,
    PortfolioSummary,
    merge_documents,
)

T0 = datetime(2020, 3, 2, 16, 0)
T1 = datetime(2020, 6, 1, 16, 0)
LAST_DAY = "2022-12-28"


def check_net_pnl_identity(summary: PortfolioSummary) -> None:
    lhs = summary.realized_pnl + summary.unrealized_pnl - summary.commissions - summary.fees
    rhs = summary.equity - summary.starting_cash - summary.net_deposits
    scale = abs(summary.equity) + abs(summary.positions_value) + 1.0
    assert math.isclose(lhs, rhs, abs_tol=1e-9 * scale), (lhs, rhs)


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
