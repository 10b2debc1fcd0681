"""The paper room's typed boundaries: states stored as the strings they always were, one
parser for commands (the service's and the worker's), the session state as a model."""

from __future__ import annotations

import json

import pytest

from core.execution import OrderType, TimeInForce
from core.paper._types import (
    CancelCommand,
    CommandError,
    CommandKind,
    CommandStatus,
    OrderCommand,
    ParamsCommand,
    PauseCommand,
    SessionState,
    SessionStatus,
    parse_command,
)
from core.portfolio import Side


def test_states_are_the_strings_stored_before():
    assert [s.value for s in SessionStatus] == [
        "created",
        "running",
        "paused",
        "stopped",
        "finished",
        "failed",
        "interrupted",
    ]
    assert [s.value for s in CommandStatus] == ["pending", "applied", "rejected", "expired"]
    assert json.dumps({"s": SessionStatus.FINISHED}) == '{"s": "finished"}'
    assert SessionStatus.RUNNING == "running" and "running" in (SessionStatus.RUNNING,)


def test_a_manual_order_parses_into_its_model():
    command = parse_command(
        "order",
        {"side": "BUY", "quantity": "3", "type": "limit", "limit_price": "9.5", "symbol": " xyz "},
    )
    assert command == OrderCommand(
        side=Side.BUY, quantity=3.0, type=OrderType.LIMIT, limit_price=9.5, symbol="XYZ"
    )
    assert command.tif is TimeInForce.GTC and command.strategy is None


@pytest.mark.parametrize(
    ("payload", "message", "field"),
    [
        ({}, "side must be buy or sell", "side"),
        ({"side": "hold", "quantity": 1}, "side must be buy or sell", "side"),
        ({"side": "buy"}, "quantity must be a number", "quantity"),
        ({"side": "buy", "quantity": "x"}, "quantity must be a number", "quantity"),
        ({"side": "buy", "quantity": 0}, "quantity must be a positive number", "quantity"),
        ({"side": "buy", "quantity": "nan"}, "quantity must be a positive number", "quantity"),
        ({"side": "buy", "quantity": 1, "type": "iceberg"}, "unknown order type 'iceberg'", "type"),
        (
            {"side": "buy", "quantity": 1, "type": "limit"},
            "a limit order needs a positive limit_price",
            "limit_price",
        ),
        (
            {"side": "sell", "quantity": 1, "type": "stop_limit", "limit_price": 5},
            "a stop_limit order needs a positive stop_price",
            "stop_price",
        ),
        (
            {"side": "sell", "quantity": 1, "type": "stop", "stop_price": -2},
            "a stop order needs a positive stop_price",
            "stop_price",
        ),
    ],
)
def test_a_bad_order_names_its_first_problem_and_the_field(payload, message, field):
    with pytest.raises(CommandError) as caught:
        parse_command("order", payload)
    assert (caught.value.message, caught.value.field) == (message, field)


def test_the_other_commands_parse_by_their_kind():
    assert parse_command("pause", {}) == PauseCommand()
    assert parse_command("cancel", {"order_id": "12", "strategy": "a"}) == CancelCommand(
        order_id=12, strategy="a"
    )
    assert parse_command("params", {"params": {"fast": 3}}) == ParamsCommand(params={"fast": 3})
    with pytest.raises(CommandError, match="a whole number"):
        parse_command("cancel", {"order_id": "1.5"})
    with pytest.raises(CommandError, match="unknown command 'nap'"):
        parse_command("nap", {})
    assert parse_command("order", {"side": "buy", "quantity": 1}).kind is CommandKind.ORDER


def test_the_session_state_keeps_its_json_keys():
    state = {
        "seq": 3,
        "n_events": None,
        "ts": "2024-01-02T09:30:00",
        "equity": 10.0,
        "cash": 4.0,
        "n_fills": 1,
        "marks": {"XYZ": 6.0},
        "day_start_equity": 10.0,
        "drawdown": {"drawdown": 0.0, "peak": 10.0, "level": "normal", "scale": 1.0},
        "risk": None,
        "regime": {
            "label": None,
            "probabilities": None,
            "true": None,
            "observed": 0,
            "warmup": None,
        },
        "trading_state": "active",
        "strategies": {},
    }
    assert SessionState.model_validate(state).to_json() == state
    with pytest.raises(ValueError, match="extra"):
        SessionState.model_validate({**state, "surprise": 1})
