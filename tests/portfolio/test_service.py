"""The portfolio service against a real (temporary) SQLite database."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest
from sqlalchemy import select

from core.db import AuditEventRow, EquitySnapshotRow, FillRow, OrderRow
from core.portfolio import LedgerError, PortfolioError, PortfolioInputError
from core.portfolio import _repository as repo
from core.workstation import Workstation

T0 = datetime(2020, 3, 2, 16, 0)  # a Monday
T1 = datetime(2020, 6, 1, 16, 0)
T2 = datetime(2021, 1, 4, 16, 0)


def diff(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


# -- lifecycle ------------------------------------------------------------------------------


def test_create_rename_delete(ws):
    p = ws.portfolios
    p.create("alpha", 10_000.0, description="first")
    assert p.names() == ["alpha"]
    summary = p.summary("alpha")
    assert summary.cash == 10_000.0 and summary.equity == 10_000.0
    assert summary.description == "first" and summary.n_positions == 0

    for duplicate in ("alpha", "  alpha  "):
        with pytest.raises(PortfolioError) as caught:
            p.create(duplicate, 5.0)
        assert caught.value.field == "name"
        assert "already exists" in str(caught.value)
    for bad_name in ("", "   ", "x" * 101):
        with pytest.raises(PortfolioError) as caught:
            p.create(bad_name, 5.0)
        assert caught.value.field == "name"
    for bad_cash in (-1.0, math.nan, math.inf):
        with pytest.raises(PortfolioError) as caught:
            p.create("beta", bad_cash)
        assert caught.value.field == "starting_cash"
    assert p.names() == ["alpha"]

    p.create("gamma", 1.0)
    with pytest.raises(PortfolioError) as caught:
        p.rename("alpha", "gamma")
    assert caught.value.field == "name"
    p.rename("alpha", "beta")
    assert p.names() == ["beta", "gamma"]
    assert p.summary("beta").cash == 10_000.0

    p.delete("beta")
    assert p.names() == ["gamma"]
    with pytest.raises(PortfolioError) as caught:
        p.delete("beta")
    assert caught.value.field == "portfolio"
    with pytest.raises(PortfolioError):
        p.rename("beta", "delta")


def test_delete_removes_the_history_but_keeps_the_audit_trail(ws, table_counts):
    p = ws.portfolios
    empty = table_counts(ws)
    p.create("p", 10_000.0)
    p.trade("p", "AAPL", "buy", 10, 50.0, ts=T0)
    p.cash_movement("p", 500.0, ts=T1)
    p.delete("p")
    left = diff(empty, table_counts(ws))
    assert left == {"audit_log": 4}  # created, fill, deposit, deleted
    with ws.sessions() as session:
        kinds = list(session.scalars(select(AuditEventRow.kind).order_by(AuditEventRow.id)))
    assert kinds == ["portfolio_created", "fill", "deposit", "portfolio_deleted"]


# -- trades ---------------------------------------------------------------------------------


def test_trade_writes_order_fill_position_cash_snapshot_and_audit_together(ws, table_counts):
    p = ws.portfolios
    p.create("p", 10_000.0)
    before = table_counts(ws)
    result = p.trade(
        "p",
        "AAPL",
        "buy",
        10,
        100.0,
        commission=1.0,
        fees=0.5,
        ts=T0,
        client_order_id="order-1",
        strategy="manual",
    )
    assert diff(before, table_counts(ws)) == {
        "orders": 1,
        "fills": 1,
        "positions": 1,
        "equity_snapshots": 1,
        "audit_log": 1,
    }
    assert result.duplicate is False
    assert result.fill_id == "F-order-1"
    assert result.cash_after == pytest.approx(10_000 - 1_000 - 1.5)
    assert result.ts == T0 and result.price == 100.0 and result.realized_pnl == 0.0

    with ws.sessions() as session:
        row = repo.get_row(session, "p")
        assert row.cash == pytest.approx(8_998.5)
        assert row.commissions == pytest.approx(1.0) and row.fees == pytest.approx(0.5)
        [position] = row.positions
        assert (position.instrument.symbol, position.quantity, position.avg_cost) == (
            "AAPL",
            10.0,
            100.0,
        )
        order = session.scalars(select(OrderRow)).one()
        assert (order.client_order_id, order.side, order.quantity, order.status) == (
            "order-1",
            "buy",
            10.0,
            "filled",
        )
        assert order.filled_quantity == 10.0 and order.strategy == "manual"
        fill = session.scalars(select(FillRow)).one()
        assert fill.order_id == order.id and fill.fill_id == "F-order-1"
        assert (fill.price, fill.quantity, fill.commission, fill.fees) == (100.0, 10.0, 1.0, 0.5)
        snapshot = session.scalars(select(EquitySnapshotRow)).one()
        assert snapshot.ts == T0
        assert snapshot.cash == pytest.approx(8_998.5)
        assert snapshot.positions_value == pytest.approx(1_000.0)  # marked at the fill price
        assert snapshot.equity == pytest.approx(9_998.5)
        event = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id.desc())).first()
        assert event.kind == "fill" and event.portfolio == "p"
        assert event.payload["fill_id"] == "F-order-1" and event.payload["quantity"] == 10.0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "field"),
    [
        (("p", "AAPL", "buy", 1_000, 100.0), {}, LedgerError, "quantity"),  # beyond cash
        (("p", "AAPL", "sell", 11, 100.0), {}, LedgerError, "quantity"),  # more than held
        (("p", "MSFT", "sell", 1, 100.0), {}, LedgerError, "quantity"),  # short, long-only
        (("p", "AAPL", "buy", 1.5, 100.0), {}, LedgerError, "quantity"),  # off step
        (("p", "AAPL", "buy", 1, -5.0), {}, LedgerError, "price"),
        (("p", "AAPL", "buy", 1, 0.0), {}, LedgerError, "price"),
        (("p", "AAPL", "buy", 1, 10.0), {"commission": -1.0}, LedgerError, "commission"),
        (("p", "NOPE", "buy", 1, 10.0), {}, PortfolioError, "symbol"),
        (("p", "NOPE", "buy", 1, None), {}, PortfolioError, "symbol"),
        (("nobody", "AAPL", "buy", 1, 10.0), {}, PortfolioError, "portfolio"),
        (("p", "AAPL", "hold", 1, 10.0), {}, ValueError, None),
    ],
)
def test_a_rejected_trade_writes_nothing(ws, table_counts, args, kwargs, error, field):
    p = ws.portfolios
    p.create("p", 10_000.0)
    p.trade("p", "AAPL", "buy", 10, 100.0, ts=T0)
    before = table_counts(ws)
    cash = p.ledger("p").cash
    with pytest.raises(error) as caught:
        p.trade(*args, ts=T1, **kwargs)
    if field is not None:
        assert caught.value.field == field
    assert table_counts(ws) == before
    assert p.ledger("p").cash == cash
    assert p.ledger("p").quantity("AAPL") == 10


def test_a_rejected_withdrawal_writes_nothing(ws, table_counts):
    p = ws.portfolios
    p.create("p", 1_000.0)
    before = table_counts(ws)
    with pytest.raises(PortfolioError) as caught:
        p.cash_movement("p", -1_000.01)
    assert caught.value.field == "amount"
    assert table_counts(ws) == before
    p.cash_movement("p", -1_000.0, ts=T0)
    assert p.ledger("p").cash == pytest.approx(0.0)
    assert diff(before, table_counts(ws)) == {
        "cash_movements": 1,
        "equity_snapshots": 1,
        "audit_log": 1,
    }


def test_repeated_client_order_id_is_not_booked_twice(ws, table_counts):
    p = ws.portfolios
    p.create("p", 10_000.0)
    p.create("q", 10_000.0)
    first = p.trade("p", "AAPL", "buy", 10, 100.0, ts=T0, client_order_id="abc")
    before = table_counts(ws)
    again = p.trade("p", "AAPL", "buy", 10, 100.0, ts=T0, client_order_id="abc")
    assert again.duplicate is True
    assert again.fill_id == first.fill_id
    assert (again.quantity, again.price, again.symbol) == (10.0, 100.0, "AAPL")
    assert again.cash_after == pytest.approx(9_000.0)
    # a repeat with different terms still returns the original, books nothing
    changed = p.trade("p", "MSFT", "buy", 3, 50.0, ts=T1, client_order_id="abc")
    assert changed.duplicate is True and changed.symbol == "AAPL" and changed.quantity == 10
    assert table_counts(ws) == before
    assert p.ledger("p").cash == pytest.approx(9_000.0)
    # the id is per portfolio
    other = p.trade("q", "AAPL", "buy", 10, 100.0, ts=T0, client_order_id="abc")
    assert other.duplicate is False
    assert len(p.trades("p")) == 1 and len(p.trades("q")) == 1


def test_price_defaults_to_the_last_close_at_the_trade_time(ws, raw_closes):
    p = ws.portfolios
    p.create("p", 100_000.0)
    monday = p.trade("p", "AAPL", "buy", 10, ts=T0)
    assert monday.price == raw_closes.on("AAPL", "2020-03-02")
    assert monday.price == 73.145  # typed from data/market/sp500_stocks_close.csv.gz
    saturday = p.trade("p", "MSFT", "buy", 5, ts=datetime(2020, 3, 7, 12, 0))
    assert saturday.price == raw_closes.on("MSFT", "2020-03-06")  # Friday's close
    assert saturday.price == raw_closes.last_on_or_before("MSFT", "2020-03-07")
    cash = (
        100_000 - 10 * raw_closes.on("AAPL", "2020-03-02") - 5 * raw_closes.on("MSFT", "2020-03-06")
    )
    assert p.ledger("p").cash == pytest.approx(cash)


def test_trade_without_price_and_without_market_data_is_rejected(ws, table_counts):
    from core.instruments import Instrument
    from core.instruments import repository as instruments

    with ws.sessions.begin() as session:
        instruments.ensure(session, Instrument(symbol="NODATA"))
    p = ws.portfolios
    p.create("p", 1_000.0)
    before = table_counts(ws)
    with pytest.raises(PortfolioError) as caught:
        p.trade("p", "NODATA", "buy", 1, ts=T0)
    assert caught.value.field == "price"
    assert table_counts(ws) == before


def _stored_and_replayed(ws: Workstation, name: str):
    with ws.sessions() as session:
        row = repo.get_row(session, name)
        stored, _ = repo.load_ledger(session, row)
        replayed, _ = repo.replay(session, row)
    return stored, replayed


def _assert_same_ledger(stored, replayed):
    assert stored.cash == pytest.approx(replayed.cash)
    assert stored.commissions == pytest.approx(replayed.commissions)
    assert stored.fees == pytest.approx(replayed.fees)
    assert stored.net_deposits == pytest.approx(replayed.net_deposits)
    assert set(stored.positions) == set(replayed.positions)
    for symbol, position in stored.positions.items():
        other = replayed.positions[symbol]
        assert position.quantity == pytest.approx(other.quantity, abs=1e-9), symbol
        assert position.avg_cost == pytest.approx(other.avg_cost), symbol
        assert position.realized_pnl == pytest.approx(other.realized_pnl, abs=1e-9), symbol


def test_stored_positions_equal_a_replay_of_the_fills(ws):
    p = ws.portfolios
    p.create("p", 50_000.0, allow_short=True)
    trades = [
        ("AAPL", "buy", 100, T0),
        ("MSFT", "buy", 20, T0),
        ("AAPL", "buy", 50, T1),
        ("AAPL", "sell", 120, T2),
        ("MSFT", "sell", 30, T2),
        ("KO", "sell", 40, T2),
        ("MSFT", "buy", 25, datetime(2021, 3, 1, 16)),
        ("AAPL", "sell", 30, datetime(2021, 3, 1, 16)),
    ]
    for i, (symbol, side, qty, ts) in enumerate(trades):
        if i == 3:  # books in time order: the deposit falls between T1 and T2
            p.cash_movement("p", 2_500.0, ts=datetime(2020, 9, 1))
        p.trade("p", symbol, side, qty, commission=1.0, fees=0.1 * i, ts=ts)
    stored, replayed = _stored_and_replayed(ws, "p")
    _assert_same_ledger(stored, replayed)
    assert stored.quantity("AAPL") == 0 and stored.quantity("MSFT") == 15
    assert stored.quantity("KO") == -40
    # the fill rows carry the realized P&L of their own booking
    realized = p.trades("p")["realized_pnl"].sum()
    assert realized == pytest.approx(stored.realized_pnl())


def test_back_dated_trade_is_refused_and_the_ledger_stays_its_replay(ws, table_counts):
    p = ws.portfolios
    p.create("p", 100_000.0, created_at=datetime(2020, 1, 1))
    p.trade("p", "AAPL", "buy", 10, 100.0, ts=datetime(2020, 1, 2, 16))
    p.trade("p", "AAPL", "buy", 10, 200.0, ts=datetime(2020, 1, 3, 16))
    before = table_counts(ws)
    # dated before both buys: in time order this sale would open a short
    with pytest.raises(PortfolioInputError, match="before the portfolio's latest event") as exc:
        p.trade("p", "AAPL", "sell", 10, 150.0, ts=datetime(2020, 1, 1, 16))
    assert exc.value.field == "ts"
    assert table_counts(ws) == before  # nothing written
    stored, replayed = _stored_and_replayed(ws, "p")
    _assert_same_ledger(stored, replayed)
    # by hand: 100,000 - 10 x 100 - 10 x 200, no commission; 20 held at an average of 150
    assert stored.cash == pytest.approx(97_000.0)
    assert stored.quantity("AAPL") == 20
    assert stored.positions["AAPL"].avg_cost == pytest.approx(150.0)


@pytest.mark.parametrize("length", [60, 62, 63, 64, 200])
def test_a_long_client_order_id_is_refused_or_exportable(ws, table_counts, length):
    """fill_id is "F-" + the order id and must fit LabTrade.fill_id (64 characters)."""
    p = ws.portfolios
    p.create("p", 10_000.0)
    before = table_counts(ws)
    if length > 60:  # "F-" + 60 characters is the most the 64-character fill id holds
        with pytest.raises(PortfolioInputError, match="client order id") as exc:
            p.trade("p", "AAPL", "buy", 1, 10.0, ts=T0, client_order_id="x" * length)
        assert exc.value.field == "order_id"
        assert table_counts(ws) == before
        return
    p.trade("p", "AAPL", "buy", 1, 10.0, ts=T0, client_order_id="x" * length)
    document = ws.export_portfolio("p")
    assert len(document.trades) == 1
    assert len(document.trades[0].fill_id) <= 64


def test_repeated_client_order_id_after_an_import_is_not_booked_twice(ws, table_counts):
    p = ws.portfolios
    p.create("p", 10_000.0)
    p.trade("p", "AAPL", "buy", 10, 100.0, ts=T0, client_order_id="abc")
    ws.import_portfolio(ws.export_portfolio("p"), name="copy")
    before = table_counts(ws)
    result = p.trade("copy", "AAPL", "buy", 10, 100.0, ts=T0, client_order_id="abc")
    assert result.duplicate is True
    assert table_counts(ws) == before


def test_base_currency_must_be_a_three_letter_code(ws, table_counts):
    before = table_counts(ws)
    with pytest.raises(PortfolioError) as caught:
        ws.portfolios.create("eu", 1_000.0, base_currency="EURO")
    assert caught.value.field in ("base_currency", "currency")
    assert table_counts(ws) == before


# -- valuation ------------------------------------------------------------------------------


def test_revalue_history_matches_closes_from_the_raw_file(ws, raw_closes):
    p = ws.portfolios
    p.create("p", 100_000.0)
    p.trade("p", "AAPL", "buy", 100, ts=T0, commission=1.0)
    p.trade("p", "MSFT", "buy", 20, ts=T1, commission=1.0)
    p.cash_movement("p", 5_000.0, ts=datetime(2020, 9, 1))
    p.trade("p", "AAPL", "sell", 40, ts=T2, commission=1.0)
    days = p.revalue_history("p", end="2021-06-30")
    assert days == len(raw_closes.days_between("2020-03-02", "2021-06-30"))
    curve = p.equity_curve("p")
    assert len(curve) == days
    assert curve.index[0] == datetime(2020, 3, 2) and curve.index[-1] == datetime(2021, 6, 30)

    aapl0, msft1, aapl2 = (
        raw_closes.on(s, d)
        for s, d in [("AAPL", "2020-03-02"), ("MSFT", "2020-06-01"), ("AAPL", "2021-01-04")]
    )

    def by_hand(day: str) -> tuple[float, float]:
        d = date.fromisoformat(day)
        cash, qty = 100_000.0 - 100 * aapl0 - 1, {"AAPL": 100, "MSFT": 0}
        if d >= date(2020, 6, 1):
            cash -= 20 * msft1 + 1
            qty["MSFT"] = 20
        if d >= date(2020, 9, 1):
            cash += 5_000.0
        if d >= date(2021, 1, 4):
            cash += 40 * aapl2 - 1
            qty["AAPL"] = 60
        value = sum(q * raw_closes.on(s, d) for s, q in qty.items() if q)
        return cash, value

    for day in [
        "2020-03-02",
        "2020-03-03",
        "2020-06-01",
        "2020-08-31",
        "2020-09-01",
        "2020-12-31",
        "2021-01-04",
        "2021-06-30",
    ]:
        cash, value = by_hand(day)
        row = curve.loc[day]
        np.testing.assert_allclose(
            [row["cash"], row["positions_value"], row["equity"]],
            [cash, value, cash + value],
            rtol=1e-12,
            err_msg=day,
        )


def test_revalue_history_of_a_cash_only_portfolio_keeps_a_curve(ws):
    p = ws.portfolios
    p.create("p", 1_000.0)
    p.cash_movement("p", 500.0, ts=datetime(2020, 1, 2))
    assert p.equity_curve("p")["equity"].tolist() == [1_500.0]
    p.revalue_history("p")
    curve = p.equity_curve("p")
    assert not curve.empty
    assert curve["equity"].iloc[-1] == pytest.approx(1_500.0)


def test_summary_values_at_the_last_known_close(ws, raw_closes):
    p = ws.portfolios
    p.create("p", 100_000.0)
    p.trade("p", "AAPL", "buy", 100, 50.0, ts=T0, commission=2.0, fees=1.0)
    p.trade("p", "AAPL", "sell", 30, 60.0, ts=T1)
    last = raw_closes.on("AAPL", "2022-12-28")  # the last bundled day
    s = p.summary("p")
    cash = 100_000 - 5_000 - 3 + 1_800
    assert s.cash == pytest.approx(cash)
    assert s.positions_value == pytest.approx(70 * last)
    assert s.equity == pytest.approx(cash + 70 * last)
    assert s.realized_pnl == pytest.approx(300.0)
    assert s.unrealized_pnl == pytest.approx(70 * (last - 50))
    assert s.net_pnl == pytest.approx(300 + 70 * (last - 50) - 3)
    assert s.net_pnl_pct == pytest.approx(s.net_pnl / 100_000)
    positions = p.positions("p")
    assert positions["symbol"].tolist() == ["AAPL"]
    assert positions["weight"].iloc[0] == pytest.approx(70 * last / (cash + 70 * last))
    as_of = p.summary("p", as_of="2020-06-01")
    assert as_of.positions_value == pytest.approx(70 * raw_closes.on("AAPL", "2020-06-01"))


def test_the_typed_summary_keeps_the_json_keys_of_portfolio_show(ws):
    ws.portfolios.create("keys", 1_000.0, description="d")
    summary = ws.portfolios.summary("keys")
    assert list(summary.to_dict()) == [
        "name",
        "base_currency",
        "created_at",
        "allow_short",
        "allow_margin",
        "description",
        "target_weights",
        "cash",
        "positions_value",
        "equity",
        "starting_cash",
        "net_deposits",
        "realized_pnl",
        "unrealized_pnl",
        "commissions",
        "fees",
        "net_pnl",
        "net_pnl_pct",
        "n_positions",
        "cash_by_currency",  # issue 16: appended, the keys before are unchanged
        "asset_pnl",
        "fx_pnl",
    ]
    assert summary.to_dict()["equity"] == summary.equity == 1_000.0
    with pytest.raises(AttributeError):
        summary.cash = 0.0  # frozen
    with pytest.raises(TypeError):  # typed: attributes, not keys
        summary["cash"]
