"""Fuzzing lab-JSON imports (issue 10): mutate a valid document in every way hypothesis can
think of; each import is either accepted — and then the stored portfolio is the document's
(re-export round trip, and an independent replay of cash and quantities agrees) — or refused
with a one-line WorkstationError and not a single row written. Never a traceback."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime
from itertools import count

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.config import Settings
from core.errors import WorkstationError
from core.portfolio import LabPortfolio, parse_document
from core.workstation import Workstation
from tests.conftest import count_rows
from tests.portfolio.lab_documents import base_document

NOW = datetime(2026, 12, 2, 12, 0)
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),  # more for a deeper local run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_names = count()


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(database_url=f"sqlite:///{folder}/ws.db", seed_demo=False)
    workstation = Workstation(settings_, clock=lambda: NOW)
    workstation.prepare()
    yield workstation
    workstation.close()


# -- values and mutations ------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\nb", "\x1b[2J", "\u202e", "NaN", "1e400", "2100-01-01", "0001-01-01"]
)
ODD_NUMBERS = st.sampled_from([0, -1, 1e-300, 1e15, 1e16, -1e308, 1e308, 2**63, 10**400])
ODD_DATES = st.sampled_from(
    [
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59",
        "2100-01-01T00:00:00",
        "2020-02-30T00:00:00",
        "2020-01-05T10:00:00+14:00",
        "2020-01-05T10:00:00-12:00",
        "2020-01-05",
        "yesterday",
        "",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    ODD_TEXT,
    ODD_NUMBERS,
    ODD_DATES,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
LITERALS = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 400])


def leaf_paths(value, path=()):
    """Every path to a leaf (and to every container) of a JSON value."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))


PATHS = [p for p in leaf_paths(base_document()) if p]


def put(document, path, value):
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def drop(document, path):
    target = document
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]


@st.composite
def mutated(draw) -> tuple[str, bool]:
    """(raw JSON text, must be refused)."""
    document = base_document()
    kind = draw(
        st.sampled_from(["value", "drop", "history", "literal", "duplicate", "nest", "cut", "none"])
    )
    if kind == "value":
        put(document, draw(st.sampled_from(PATHS)), draw(VALUES))
    elif kind == "drop":
        drop(document, draw(st.sampled_from(PATHS)))
    elif kind == "history":
        trade = draw(st.sampled_from(document["trades"]))
        field = draw(st.sampled_from(["quantity", "price", "side", "ts", "commission", "symbol"]))
        trade[field] = draw(
            {
                "quantity": st.sampled_from([1.0, 5.0, 30.0, 10.5, 1e9]),
                "price": st.sampled_from([0.01, 99.99, 1e6]),
                "side": st.sampled_from(["buy", "sell"]),
                "ts": st.sampled_from(["2019-12-31T00:00:00", "2020-01-10T00:00:00"]),
                "commission": st.sampled_from([0.0, 3.0, 1e4]),
                "symbol": st.sampled_from(["AAPL", "KO", "MSFT"]),
            }[field]
        )
    raw = json.dumps(document)
    must_refuse = False
    if kind == "literal":
        numbers = [p for p in PATHS if isinstance(_get(document, p), float)]
        path = draw(st.sampled_from(numbers))
        put(document, path, "__LITERAL__")
        raw = json.dumps(document).replace('"__LITERAL__"', draw(LITERALS))
        must_refuse = True
    elif kind == "duplicate":
        key = draw(st.sampled_from(['"cash": ', '"price": ', '"kind": ', '"symbol": ']))
        raw = raw.replace(key, f"{key}1, {key}", 1)
        must_refuse = True
    elif kind == "nest":
        depth = draw(st.integers(33, 3_000))
        raw = raw.replace(
            '"metadata": {', '"metadata": {"deep": ' + "[" * depth + "]" * depth + ", "
        )
        must_refuse = True
    elif kind == "cut":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
        must_refuse = True
    return raw, must_refuse


def _get(document, path):
    for part in path:
        document = document[part]
    return document


# -- the oracle ------------------------------------------------------------------------------------


def independent_replay(document: LabPortfolio) -> tuple[float, dict[str, float]]:
    """Cash and quantities from the history, with plain arithmetic (no ledger code)."""
    cash, quantities = document.starting_cash, {}
    multiplier = {i.symbol: i.multiplier for i in document.instruments}
    events = [(m.ts, 0, m) for m in document.cash_movements or []]
    events += [(t.ts, 1, t) for t in document.trades or []]
    for _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            cash += item.amount
            continue
        sign = 1 if item.side == "buy" else -1
        cash -= sign * item.quantity * item.price * multiplier[item.symbol]
        cash -= item.commission + item.fees
        quantities[item.symbol] = quantities.get(item.symbol, 0.0) + sign * item.quantity
    return cash, quantities


def import_and_judge(ws, raw: str | bytes, must_refuse: bool) -> str:
    before = count_rows(ws)
    name = f"fuzz-{next(_names)}"
    try:
        ws.import_portfolio(raw, name=name)
    except WorkstationError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        assert "Traceback" not in message and "http" not in message, message
        assert count_rows(ws) == before, message
        return "refused"
    assert not must_refuse, raw[:300]
    document = parse_document(raw)
    exported = ws.export_portfolio(name)
    assert exported.cash == document.cash and exported.starting_cash == document.starting_cash
    assert exported.totals == document.totals
    assert (exported.allow_short, exported.allow_margin) == (
        document.allow_short,
        document.allow_margin,
    )
    stated = {p.symbol: p for p in document.positions}
    assert {p.symbol: p for p in exported.positions} == stated
    same = ("base_currency", "description", "created_at", "target_weights", "metadata")
    assert {f: getattr(exported, f) for f in same} == {f: getattr(document, f) for f in same}
    if document.trades is not None:  # stored in time order, ties in document order
        assert exported.trades == sorted(document.trades, key=lambda t: t.ts)
        moves = sorted(document.cash_movements or [], key=lambda m: m.ts)
        assert exported.cash_movements == moves
        cash, quantities = independent_replay(document)
        assert math.isclose(cash, document.cash, rel_tol=1e-9, abs_tol=1e-4)
        for symbol in set(quantities) | set(stated):
            held = stated[symbol].quantity if symbol in stated else 0.0
            assert math.isclose(quantities.get(symbol, 0.0), held, abs_tol=1e-6)
        if not document.allow_short:
            assert all(p.quantity >= -1e-6 for p in document.positions)
    ws.portfolios.delete(name)
    return "accepted"


# -- the fuzz tests ---------------------------------------------------------------------------


def test_the_base_document_is_accepted(fuzz_ws):
    assert import_and_judge(fuzz_ws, json.dumps(base_document()), False) == "accepted"


@FUZZ
@given(mutated())
def test_mutated_documents_never_raise_a_traceback_nor_write_on_refusal(fuzz_ws, case):
    raw, must_refuse = case
    event(import_and_judge(fuzz_ws, raw, must_refuse))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_and_text_are_refused_cleanly(fuzz_ws, raw):
    import_and_judge(fuzz_ws, raw, False)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.recursive(VALUES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["name", "cash", "trades", "positions", "x"]), inner, max_size=3),
    max_leaves=20))  # fmt: skip
def test_arbitrary_json_values_are_refused_cleanly(fuzz_ws, value):
    import_and_judge(fuzz_ws, json.dumps(value), False)
