"""The paper room's typed boundaries.

Session and command states, the commands a worker applies (a discriminated union on ``kind``) and
the session state it commits.

States are ``StrEnum`` members stored as the very strings the database held before
(``"running"``, ``"applied"`` …), so rows and JSON read the same. A command's payload is
stored as sent; :func:`parse_command` reads it back into its model, the one place where a
command is validated (the service before queueing it, the worker before applying it).
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.execution import OrderType, TimeInForce
from core.portfolio import Side


class SessionStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"  # its feed ended: nothing left to run
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # shown only: running or paused, but its worker died


class CommandStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"
    EXPIRED = "expired"


class CommandKind(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    ORDER = "order"
    CANCEL = "cancel"
    PARAMS = "params"


class _Command(BaseModel):
    # extra keys of a stored payload are kept in the row (and the audit), not read here
    model_config = ConfigDict(frozen=True, extra="ignore")

    strategy: str | None = None  # the sleeve's key; None: the session's first


class PauseCommand(_Command):
    kind: Literal[CommandKind.PAUSE] = CommandKind.PAUSE


class ResumeCommand(_Command):
    kind: Literal[CommandKind.RESUME] = CommandKind.RESUME


class StopCommand(_Command):
    kind: Literal[CommandKind.STOP] = CommandKind.STOP


ORDER_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)


class OrderCommand(_Command):
    """A manual order; ``symbol`` None: the session's first instrument."""

    kind: Literal[CommandKind.ORDER] = CommandKind.ORDER
    side: Side = Field(default=None, validate_default=True)
    quantity: float = Field(default=None, validate_default=True)
    type: OrderType = Field(default=OrderType.MARKET, validate_default=True)
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.GTC
    symbol: str | None = None

    @field_validator("side", mode="before")
    @classmethod
    def _side(cls, value: Any) -> Side:
        side = str("" if value is None else value).lower()
        if side not in ("buy", "sell"):
            raise PydanticCustomError("side", "side must be buy or sell")
        return Side(side)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> float:
        try:
            quantity = float(value)
        except (TypeError, ValueError):
            raise PydanticCustomError("quantity", "quantity must be a number") from None
        if not (quantity > 0 and math.isfinite(quantity)):
            raise PydanticCustomError("quantity", "quantity must be a positive number")
        return quantity

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> OrderType:
        if value not in ORDER_TYPES:
            raise PydanticCustomError("type", f"unknown order type {value!r}")
        return OrderType(value)

    @field_validator("limit_price", "stop_price", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> float | None:
        try:
            return None if value in (None, "") else float(value)
        except (TypeError, ValueError):
            return None  # not a price: an order that needs one is refused for it

    @field_validator("symbol", mode="before")
    @classmethod
    def _symbol(cls, value: Any) -> str | None:
        return str(value).strip().upper() if value else None

    @model_validator(mode="after")
    def _prices(self) -> OrderCommand:
        kind = self.type
        for key, needed in (
            ("limit_price", kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)),
            ("stop_price", kind in (OrderType.STOP, OrderType.STOP_LIMIT)),
        ):
            value = getattr(self, key)
            if needed and not (value is not None and value > 0 and math.isfinite(value)):
                raise PydanticCustomError(
                    "price",
                    "a {kind} order needs a positive {key}",
                    {"kind": kind.value, "key": key, "field": key},
                )
        return self


class CancelCommand(_Command):
    kind: Literal[CommandKind.CANCEL] = CommandKind.CANCEL
    order_id: int = Field(default=None, validate_default=True)

    @field_validator("order_id", mode="before")
    @classmethod
    def _order_id(cls, value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise PydanticCustomError(
                "order_id", "cancel needs the order's id (a whole number)"
            ) from None


class ParamsCommand(_Command):
    kind: Literal[CommandKind.PARAMS] = CommandKind.PARAMS
    params: dict[str, Any] = Field(default_factory=dict)


PaperCommand = Annotated[
    PauseCommand | ResumeCommand | StopCommand | OrderCommand | CancelCommand | ParamsCommand,
    Field(discriminator="kind"),
]
_COMMAND = TypeAdapter(PaperCommand)


class CommandError(ValueError):
    """A command that does not parse: ``message`` says why, ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def parse_command(kind: str, payload: dict | None) -> PaperCommand:
    """The command a stored ``kind`` and ``payload`` stand for.

    Raises :class:`CommandError` with the first problem (checked in the order side, quantity, type,
    prices).
    """
    if kind not in CommandKind.__members__.values():
        raise CommandError(f"unknown command {kind!r}", "kind")
    try:
        return _COMMAND.validate_python({**(payload or {}), "kind": kind})
    except ValidationError as exc:
        error = exc.errors()[0]
        ctx = error.get("ctx") or {}
        field = ctx.get("field") or (str(error["loc"][-1]) if error["loc"] else None)
        raise CommandError(error["msg"], field) from None


# -- the session state a worker commits ------------------------------------------------------
class _State(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenOrderState(_State):
    id: int
    symbol: str
    side: str
    quantity: float | None
    type: str
    limit_price: float | None
    stop_price: float | None
    status: str
    filled: float
    tag: str


class SleeveState(_State):
    strategy: str
    allocation: float
    params: dict[str, Any]
    equity: float
    cash: float
    pnl: float
    realized: float
    commissions: float
    n_fills: int
    exposure: float
    positions: dict[str, float]
    open_orders: list[OpenOrderState]


class RegimeState(_State):
    label: str | None
    probabilities: dict[str, float] | None
    true: str | None
    observed: int
    warmup: int | None


class SessionState(_State):
    """``paper_sessions.state``: what the console and ``paper status`` read of a running session.

    A session that never ran holds only ``n_events``, ``equity`` and ``cash``.
    """

    seq: int
    n_events: int | None
    ts: str | None
    equity: float
    cash: float
    n_fills: int
    marks: dict[str, float]
    day_start_equity: float
    drawdown: dict[str, Any]
    risk: dict[str, Any] | None
    regime: RegimeState
    trading_state: str
    strategies: dict[str, SleeveState]

    def to_json(self) -> dict[str, Any]:
        """The JSON-native dict stored in the row (the keys as before)."""
        return self.model_dump()
