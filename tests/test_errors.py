"""core.errors: one message style — ``where: what is wrong`` — with no pydantic dump or URL."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from core.errors import (
    WorkstationError,
    describe_validation,
    failure_message,
    model_label,
    validation_problems,
)


class WindowParams(BaseModel):
    fast: int = Field(10, ge=2)
    slow: int = Field(50, ge=3)

    @model_validator(mode="after")
    def _order(self):
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        return self


def _error(**values) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        WindowParams(**values)
    return caught.value


def test_field_errors_name_the_field_and_carry_no_url():
    message = describe_validation(_error(fast=1, slow="x"), "parameters")
    assert message == (
        "parameters: fast: Input should be greater than or equal to 2; "
        "slow: Input should be a valid integer, unable to parse string as an integer"
    )
    assert "http" not in message and "[type=" not in message


def test_a_model_error_is_its_message_alone():
    assert validation_problems(_error(fast=60)) == ["fast (60) must be shorter than slow (50)"]


def test_where_of_renames_locations():
    problems = validation_problems(_error(fast=1), where_of=lambda loc: f"--param {loc[0]}")
    assert problems == ["--param fast: Input should be greater than or equal to 2"]


def test_model_label_reads_the_model_name_in_words():
    assert model_label(_error(fast=1)) == "window params"


def test_failure_message_keeps_refusals_and_hides_defects(caplog):
    assert failure_message(WorkstationError("P: no such portfolio")) == "P: no such portfolio"
    assert failure_message(NotFoundError("no bars for NOPE")) == "no bars for NOPE"
    assert failure_message(_error(fast=1)) == (
        "window params: fast: Input should be greater than or equal to 2"
    )
    with caplog.at_level(logging.ERROR, logger="core"):
        message = failure_message(RuntimeError("pointer soup"))
    match = re.fullmatch(r"unexpected error \(ref ([0-9A-F]{6})\); details in the log", message)
    assert match, message
    (record,) = caplog.records
    assert match.group(1) in record.getMessage() and record.exc_info[0] is RuntimeError
    # a bare ValueError is a defect now that every refusal is a WorkstationError
    assert failure_message(ValueError("invalid literal for int()")).startswith("unexpected error")


# -- one hierarchy: the base, four kinds, every room's class in it ------------------------------
from datetime import datetime  # noqa: E402

from core.allocation import AllocationError  # noqa: E402
from core.cli import main  # noqa: E402
from core.cli._output import CommandError  # noqa: E402
from core.errors import (  # noqa: E402
    KINDS,
    BlockedByRiskError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from core.marketdata import (  # noqa: E402
    BarsValidationError,
    MarketDataConflict,
    MarketDataError,
    MarketDataInputError,
    MarketDataNotFound,
)
from core.marketdata._bundled import load_bundled  # noqa: E402
from core.portfolio import (  # noqa: E402
    LabFormatError,
    LedgerError,
    PortfolioConflict,
    PortfolioError,
    PortfolioInputError,
    PortfolioNotFound,
    parse_document,
)
from core.rebalance import rebalance_orders  # noqa: E402
from core.risk import (  # noqa: E402
    OrderBlocked,
    RiskConflict,
    RiskError,
    RiskInputError,
    RiskNotFound,
    checked_trade,
    set_trading_state,
)
from core.strategies import get_strategy  # noqa: E402


@pytest.mark.parametrize(
    ("cls", "kind", "builtin"),
    [
        (PortfolioInputError, InvalidInputError, ValueError),
        (PortfolioNotFound, NotFoundError, ValueError),
        (PortfolioConflict, ConflictError, ValueError),
        (LedgerError, InvalidInputError, ValueError),
        (LabFormatError, InvalidInputError, ValueError),
        (BarsValidationError, InvalidInputError, ValueError),
        (MarketDataInputError, InvalidInputError, ValueError),
        (MarketDataNotFound, NotFoundError, ValueError),
        (MarketDataConflict, ConflictError, ValueError),
        (AllocationError, InvalidInputError, ValueError),
        (CommandError, InvalidInputError, ValueError),
        (RiskInputError, InvalidInputError, ValueError),
        (RiskNotFound, NotFoundError, KeyError),
        (RiskConflict, ConflictError, ValueError),
        (OrderBlocked, BlockedByRiskError, ValueError),
    ],
)
def test_every_room_class_is_one_kind_of_workstation_error(cls, kind, builtin):
    assert issubclass(cls, kind) and issubclass(cls, WorkstationError)
    assert issubclass(cls, builtin)  # older callers that catch the builtin still do
    others = [k for k in KINDS if k is not kind]
    assert not any(issubclass(cls, k) for k in others), "one kind per class"


def test_room_umbrellas_catch_their_kinds():
    for umbrella, kinds in [
        (PortfolioError, (PortfolioInputError, PortfolioNotFound, PortfolioConflict)),
        (MarketDataError, (MarketDataInputError, MarketDataNotFound, MarketDataConflict)),
        (RiskError, (RiskInputError, RiskNotFound, RiskConflict)),
    ]:
        assert all(issubclass(k, umbrella) for k in kinds)


def test_the_kinds_keep_their_builtin_bases():
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(NotFoundError, KeyError) and issubclass(NotFoundError, LookupError)
    assert not issubclass(ConflictError, ValueError)
    assert not issubclass(BlockedByRiskError, ValueError)


def test_invalid_input_carries_field_line_and_row_only_when_given():
    exc = InvalidInputError("price must be > 0", "price", where="trades[3]", line=7, row=3)
    assert str(exc) == "trades[3]: price must be > 0"
    assert (exc.field, exc.line, exc.row) == ("price", 7, 3)
    bare = InvalidInputError("no name")
    assert (bare.field, bare.line, bare.row) == (None, None, None)
    assert "row" not in vars(bare) and "line" not in vars(bare)  # not a refusal's detail


def test_not_found_reads_as_its_message_not_in_quotes():
    exc = NotFoundError("no portfolio named 'X'")
    assert str(exc) == "no portfolio named 'X'"  # a bare KeyError would show "\"no ...\""
    assert str(KeyError("no portfolio named 'X'")) == "\"no portfolio named 'X'\""


# -- a few refusals of each kind, raised where they happen -------------------------------------
def test_not_found_refusals(ws):
    with pytest.raises(PortfolioNotFound, match="no portfolio named 'nope'") as exc:
        ws.portfolios.summary("nope")
    assert exc.value.field == "portfolio"
    with pytest.raises(NotFoundError, match="'TSLA' is not a bundled symbol"):
        load_bundled("TSLA")
    with pytest.raises(NotFoundError, match="unknown strategy 'nope'"):
        get_strategy("nope")
    with pytest.raises(MarketDataNotFound, match="unknown symbol 'NOPE'"):
        ws.market.bars("NOPE")


def test_conflict_refusals_write_nothing(ws, table_counts):
    ws.portfolios.create("Main", 1000.0)
    with ws.sessions.begin() as session:
        set_trading_state(session, "Main", "halted")
    before = table_counts(ws)
    with pytest.raises(PortfolioConflict, match="a portfolio named 'Main' already exists"):
        ws.portfolios.create("Main", 5.0)
    with pytest.raises(RiskConflict, match="already halted"), ws.sessions.begin() as session:
        set_trading_state(session, "Main", "halted")
    assert table_counts(ws) == before


def test_blocked_by_risk_refusal_books_nothing(ws, table_counts):
    ws.portfolios.create("book", 100_000, created_at=datetime(2022, 1, 3))
    with ws.sessions.begin() as session:
        set_trading_state(session, "book", "halted")
    before = {k: v for k, v in table_counts(ws).items() if k != "audit_log"}
    with pytest.raises(BlockedByRiskError, match="halted"):
        checked_trade(ws, "book", "KO", "buy", 10, 60.0, ts=datetime(2022, 1, 4))
    after = {k: v for k, v in table_counts(ws).items() if k != "audit_log"}
    assert after == before  # the check itself is logged; no fill, no cash


def test_invalid_input_refusals_say_where():
    with pytest.raises(LabFormatError, match="document: not valid JSON at line 2") as exc:
        parse_document(b'{\n  "format": ,\n}')
    assert exc.value.line == 2
    with pytest.raises(InvalidInputError, match="equity must be a finite amount"):
        rebalance_orders({}, {"KO": 60.0}, float("nan"), {"KO": 0.5}, {})


def test_cli_refusals_keep_their_json_keys(db_url, capsys):
    assert main(["--db", db_url, "--json", "portfolio", "show", "nope"]) == 1
    import json

    payload = json.loads(capsys.readouterr().out)
    assert payload == {"error": "no portfolio named 'nope'", "field": "portfolio"}
