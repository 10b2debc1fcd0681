"""Issue 10: lab imports and ledger writes under hostile input — each refusal says where
and what, and writes nothing; accepted documents are stored as stated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import core.portfolio._lab_json as lab_json
from core.config import Settings
from core.db import EquitySnapshotRow
from core.errors import WorkstationError
from core.portfolio import LabFormatError, PortfolioError, parse_document, to_json
from core.workstation import Workstation
from tests.portfolio.lab_documents import CASH, base_document

NOW = datetime(2026, 12, 2, 12, 0)


@pytest.fixture
def clocked(db_url):
    """A workstation whose clock is fixed at NOW (naive UTC)."""
    workstation = Workstation(Settings(database_url=db_url, seed_demo=False), clock=lambda: NOW)
    workstation.prepare()
    yield workstation
    workstation.close()


def refused(ws, table_counts, raw, kind=LabFormatError) -> str:
    """Import must be refused with ``kind`` and write nothing; returns the one-line message."""
    before = table_counts(ws)
    with pytest.raises(kind) as caught:
        ws.import_portfolio(raw if isinstance(raw, str | bytes) else json.dumps(raw))
    assert table_counts(ws) == before
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message and "http" not in message
    return message


def test_the_hand_made_document_is_accepted_as_stated(clocked):
    name = clocked.import_portfolio(json.dumps(base_document()))
    ledger = clocked.portfolios.ledger(name)
    assert ledger.cash == pytest.approx(CASH)
    aapl = ledger.positions["AAPL"]
    assert (aapl.quantity, aapl.avg_cost, aapl.realized_pnl) == pytest.approx((15, 150.1, 49.5))
    assert (ledger.commissions, ledger.fees, ledger.net_deposits) == (2.0, 0.5, 300.0)
    assert clocked.portfolios.trades(name)["realized_pnl"].tolist() == pytest.approx(
        [0, 0, 49.5, 0]
    )


# -- time -----------------------------------------------------------------------------------


def test_a_trade_dated_in_the_future_is_refused_and_does_not_lock_the_portfolio(
    clocked, table_counts
):
    p = clocked.portfolios
    p.create("p", 10_000.0)
    before = table_counts(clocked)
    with pytest.raises(PortfolioError) as caught:
        p.trade("p", "AAPL", "buy", 1, 100.0, ts=datetime(2100, 1, 1))
    assert caught.value.field == "ts"
    assert str(caught.value).startswith("ts: 2100-01-01 00:00:00 is in the future")
    assert table_counts(clocked) == before
    # still open for business: a trade now books
    p.trade("p", "AAPL", "buy", 1, 100.0, ts=NOW)
    assert p.ledger("p").quantity("AAPL") == 1


def test_a_cash_movement_in_the_future_is_refused(clocked, table_counts):
    clocked.portfolios.create("p", 10_000.0)
    before = table_counts(clocked)
    with pytest.raises(PortfolioError, match="in the future"):
        clocked.portfolios.cash_movement("p", 100.0, ts=NOW + timedelta(hours=1))
    assert table_counts(clocked) == before


def test_a_trade_a_minute_ahead_of_the_clock_is_within_the_tolerance(clocked):
    clocked.portfolios.create("p", 10_000.0)
    clocked.portfolios.trade("p", "AAPL", "buy", 1, 100.0, ts=NOW + timedelta(minutes=1))
    assert clocked.portfolios.ledger("p").quantity("AAPL") == 1


def test_an_aware_time_in_the_future_is_compared_in_utc(clocked):
    clocked.portfolios.create("p", 10_000.0)
    # 13:00 at UTC+2 is 11:00 UTC: one hour before NOW, not after
    plus_two = timezone(timedelta(hours=2))
    clocked.portfolios.trade(
        "p", "AAPL", "buy", 1, 100.0, ts=datetime(2026, 12, 2, 13, tzinfo=plus_two)
    )
    assert clocked.portfolios.trades("p")["ts"].iloc[0] == datetime(2026, 12, 2, 11)


def test_an_imported_trade_in_the_future_is_refused(clocked, table_counts):
    document = base_document()
    document["trades"][3]["ts"] = "2100-01-01T00:00:00"
    message = refused(clocked, table_counts, document)
    assert message.startswith("trades[3] (2100-01-01 00:00): dated 2100-01-01 00:00, in the future")


def test_an_imported_cash_movement_in_the_future_is_refused(clocked, table_counts):
    document = base_document()
    document["cash_movements"][1]["ts"] = "2027-01-01T00:00:00+00:00"
    message = refused(clocked, table_counts, document)
    assert message.startswith("cash_movements[1] (2027-01-01 00:00): dated")


def test_naive_and_aware_times_mix_in_one_document(clocked):
    document = base_document()
    # 2020-01-03 18:00 at UTC+2 is 16:00 UTC, the same instant as the naive original
    document["trades"][1]["ts"] = "2020-01-03T18:00:00+02:00"
    name = clocked.import_portfolio(json.dumps(document))
    assert clocked.portfolios.trades(name)["ts"].iloc[1] == datetime(2020, 1, 3, 16)
    assert clocked.portfolios.ledger(name).cash == pytest.approx(CASH)


# -- every stated figure against the replay --------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["positions"][0].update(avg_cost=999.0),
            "positions[0].avg_cost: 999 stated, 150.1 from the trades",
        ),
        (
            lambda d: d["positions"][0].update(realized_pnl=0.0),
            "positions[0].realized_pnl: 0 stated, 49.5 from the trades",
        ),
        (
            lambda d: d["totals"].update(commissions=5.0),
            "totals.commissions: 5 stated, 2 from the trades",
        ),
        (lambda d: d["totals"].update(fees=0.0), "totals.fees: 0 stated, 0.5 from the trades"),
        (
            lambda d: d["totals"].update(net_deposits=500.0),
            "totals.net_deposits: 500 stated, 300 from the trades",
        ),
        (lambda d: d.update(cash=8_000.0), "cash: 8000 stated, 7945.5 from the trades"),
        (
            lambda d: d["positions"].pop(1),
            "positions: no KO position stated, but the trades give quantity 3",
        ),
    ],
    ids=["avg-cost", "realized", "commissions", "fees", "net-deposits", "cash", "missing"],
)
def test_a_stated_figure_the_trades_do_not_give_is_refused(clocked, table_counts, edit, expected):
    document = base_document()
    edit(document)
    assert refused(clocked, table_counts, document).startswith(expected)


def test_a_history_that_goes_short_without_allow_short_is_refused(clocked, table_counts):
    document = base_document()
    document["trades"][2]["quantity"] = 25.0  # sells 25 AAPL but holds 20
    message = refused(clocked, table_counts, document)
    assert message.startswith("trades[2] (2020-01-06 16:00): cannot sell 25 AAPL")
    assert "holds 20" in message and "short" in message


def test_a_history_that_borrows_cash_without_allow_margin_is_refused(clocked, table_counts):
    document = base_document()
    document["trades"][1]["quantity"] = 50.0  # 50 × 200.2 = 10 010 > 8 999 cash
    message = refused(clocked, table_counts, document)
    assert message.startswith("trades[1] (2020-01-03 16:00): insufficient cash")


def test_a_withdrawal_beyond_cash_names_the_cash_movement(clocked, table_counts):
    document = base_document()
    document["cash_movements"][1]["amount"] = -50_000.0
    message = refused(clocked, table_counts, document)
    assert message.startswith("cash_movements[1] (2020-01-07 00:00): cannot withdraw 50,000.00")


def test_an_instrument_conflict_is_reported_as_such_not_as_a_cash_mismatch(clocked, table_counts):
    document = base_document()
    document["instruments"][0]["multiplier"] = 10.0  # the figures were made with 1
    message = refused(clocked, table_counts, document)
    assert message.startswith("instruments: instrument definitions differ")
    assert "AAPL (multiplier: 1.0 vs 10.0)" in message


# -- hostile JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize(
    ("path", "place"),
    [
        ("cash", f'"cash": {CASH}'),
        ("trades[2].price", '"price": 160.0'),
        ("metadata.source", '"source": "tests"'),
        ("instruments[0].multiplier", '"multiplier": 1.0'),
    ],
)
def test_a_non_finite_number_anywhere_is_refused_naming_its_path(
    clocked, table_counts, literal, path, place
):
    raw = json.dumps(base_document())
    assert place in raw
    raw = raw.replace(place, f"{place.partition(': ')[0]}: {literal}", 1)
    message = refused(clocked, table_counts, raw)
    assert message == f"{path}: {literal} is not a finite number"


def test_nan_in_a_parsed_model_is_refused_before_the_database(clocked, table_counts):
    document = parse_document(json.dumps(base_document()))
    with pytest.raises(ValueError):  # pydantic refuses it: the model forbids inf/nan
        type(document).model_validate({**document.model_dump(), "cash": float("nan")})


def test_a_deeply_nested_document_is_refused_with_the_limit(clocked, table_counts):
    message = refused(clocked, table_counts, "[" * 100_000 + "]" * 100_000)
    assert message == "document: nested 100,000 levels deep; the limit is 32"
    deep_metadata = base_document()
    deep_metadata["metadata"] = {"a": json.loads("[" * 40 + "]" * 40)}
    assert "the limit is 32" in refused(clocked, table_counts, deep_metadata)


def test_brackets_inside_strings_do_not_count_as_nesting(clocked):
    document = base_document()
    document["description"] = "[[[[" * 50 + ' \\" {{{{' * 50
    assert clocked.import_portfolio(json.dumps(document)) == "hand"


def test_a_document_over_the_size_limit_is_refused_with_the_limit(
    clocked, table_counts, monkeypatch
):
    monkeypatch.setattr(lab_json, "MAX_DOCUMENT_BYTES", 1_000)
    raw = json.dumps(base_document())
    message = refused(clocked, table_counts, raw)
    assert message == f"document: {len(raw):,} bytes is over the limit of 1,000 bytes"


@pytest.mark.parametrize(
    ("raw_edit", "expected"),
    [
        (('"cash": ', '"cash": 1.0, "cash": '), "document: duplicate key 'cash'"),
        (('"price": 160.0', '"price": 160.0, "price": 1.0'), "trades[2]: duplicate key 'price'"),
    ],
)
def test_duplicate_keys_are_refused(clocked, table_counts, raw_edit, expected):
    raw = json.dumps(base_document()).replace(*raw_edit, 1)
    assert refused(clocked, table_counts, raw) == expected


@pytest.mark.parametrize(
    ("index", "amount", "expected"),
    [
        (1, 200.0, "a withdrawal needs a negative amount, got 200"),
        (0, -500.0, "a deposit needs a positive amount, got -500"),
        (0, 0.0, "amount must not be 0"),
    ],
)
def test_a_cash_movement_with_the_wrong_sign_is_refused(
    clocked, table_counts, index, amount, expected
):
    document = base_document()
    document["cash_movements"][index]["amount"] = amount
    message = refused(clocked, table_counts, document)
    assert message.startswith(f"invalid portfolio document: cash_movements[{index}]: ")
    assert expected in message


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d.update(name="   "), "name"),
        (lambda d: d.update(name="bad\x00name"), "name"),
        (lambda d: d.update(name="two\nlines"), "name"),
        (lambda d: d["trades"][0].update(fill_id="F\x1b[31m"), "trades[0].fill_id"),
        (lambda d: d["trades"][0].update(strategy="\u202etxt"), "trades[0].strategy"),
        (lambda d: d.update(description="bell\x07"), "description"),
    ],
    ids=["blank", "nul", "newline", "escape", "bidi-override", "description"],
)
def test_names_that_are_blank_or_hold_control_characters_are_refused(
    clocked, table_counts, edit, where
):
    document = base_document()
    edit(document)
    message = refused(clocked, table_counts, document)
    assert message.startswith(f"invalid portfolio document: {where}: ")


@pytest.mark.parametrize("name", ["  ", "tab\there", "x" * 101])
def test_an_import_or_create_name_is_checked_too(clocked, table_counts, name):
    before = table_counts(clocked)
    with pytest.raises(PortfolioError) as caught:
        clocked.import_portfolio(json.dumps(base_document()), name=name)
    assert str(caught.value).startswith("name: ")
    with pytest.raises(PortfolioError):
        clocked.portfolios.create(name, 1_000.0)
    assert table_counts(clocked) == before


@pytest.mark.parametrize("amount", [1e16, -1e16])
def test_amounts_beyond_the_bound_are_refused(clocked, table_counts, amount):
    document = base_document()
    document["starting_cash"] = amount
    message = refused(clocked, table_counts, document)
    assert message.startswith("invalid portfolio document: starting_cash: ")


# -- large imports: one transaction, a bounded curve -------------------------------------------


def test_the_equity_curve_is_part_of_the_same_all_or_nothing_import(
    clocked, table_counts, monkeypatch
):
    import core.portfolio._lab_service as lab_service

    def boom(*args, **kwargs):
        raise WorkstationError("audit: refused for the test")

    monkeypatch.setattr(lab_service, "append_event", boom)  # the last write of the import
    before = table_counts(clocked)
    with pytest.raises(WorkstationError):
        clocked.import_portfolio(json.dumps(base_document()))
    assert table_counts(clocked) == before


def test_one_old_trade_writes_month_ends_then_the_last_two_years_daily(clocked, raw_closes):
    document = base_document()
    document.update(
        created_at="1990-01-01T00:00:00",
        cash=10_000.0 - 1_000.0 - 1.0,
        positions=[{"symbol": "AAPL", "quantity": 10.0, "avg_cost": 100.0, "realized_pnl": 0}],
        totals={"commissions": 1.0, "fees": 0.0, "net_deposits": 0.0},
        trades=document["trades"][:1],
        cash_movements=[],
    )
    document["trades"][0]["ts"] = "1990-01-02T16:00:00"
    name = clocked.import_portfolio(json.dumps(document))
    # by hand: every trading day from 1990-01-02 to the last close, month ends only before
    # the two years (730 days) that end on the last close; plus one snapshot now
    days = raw_closes.days_between("1990-01-02", "2022-12-28")
    cutoff = days[-1] - timedelta(days=730)
    month_ends = {
        d
        for d, nxt in zip(days, [*days[1:], None], strict=True)
        if nxt is None or nxt.month != d.month
    }
    expected = [d for d in days if d >= cutoff or d in month_ends]
    curve = clocked.portfolios.equity_curve(name)
    assert len(curve) == len(expected) + 1 < 900  # not one per day: 8,313
    assert [t.date() for t in curve.index[:-1]] == expected
    assert curve.index[-1] == NOW
    first = curve.iloc[0]
    assert first["positions_value"] == pytest.approx(10 * raw_closes.on("AAPL", "1990-01-31"))
    with clocked.sessions() as session:
        count = session.scalar(select(func.count()).select_from(EquitySnapshotRow))
    assert count == len(curve)


def test_merging_books_that_traded_a_symbol_in_turn_follows_the_replay(clocked):
    p = clocked.portfolios
    p.create("A", 10_000.0, created_at=datetime(2020, 1, 1))
    p.create("B", 10_000.0, created_at=datetime(2020, 1, 1))
    p.trade("A", "AAPL", "buy", 10, 100.0, ts=datetime(2020, 1, 2, 16))
    p.trade("B", "AAPL", "buy", 10, 200.0, ts=datetime(2020, 1, 3, 16))
    p.trade("A", "AAPL", "sell", 10, 150.0, ts=datetime(2020, 1, 6, 16))
    clocked.merge_portfolios("A", "B", into="AB")
    # one book replaying the three trades: 20 @ 150 after the buys, sell 10 @ 150 realizes 0
    aapl = p.ledger("AB").positions["AAPL"]
    assert (aapl.quantity, aapl.avg_cost, aapl.realized_pnl) == pytest.approx((10, 150, 0))
    assert p.ledger("AB").cash == pytest.approx(20_000 - 1_000 - 2_000 + 1_500)
    exported = clocked.export_portfolio("AB")
    assert clocked.import_portfolio(to_json(exported), name="copy") == "copy"


def test_the_round_trip_keeps_aware_times_as_utc(clocked):
    document = base_document()
    document["created_at"] = datetime(2020, 1, 1, 9, tzinfo=UTC).isoformat()
    name = clocked.import_portfolio(json.dumps(document))
    assert clocked.export_portfolio(name).created_at == datetime(2020, 1, 1, 9)
