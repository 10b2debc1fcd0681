"""Reading and checking a lab document before anything is written.

:func:`parse_document` turns untrusted bytes into a validated :class:`LabPortfolio`;
:func:`check_history` holds the document to its own rules and, when it carries its trade
history, replays that history on the ledger and compares every stated figure (cash,
totals, each position's quantity, average cost and realized P&L) with the replay.
Every refusal is a :class:`LabFormatError` whose message starts with the field path or
trade at fault: ``trades[3] (2021-04-01 14:30): ...``, ``positions[0].avg_cost: ...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from core.errors import describe_validation, join_problems
from core.portfolio._lab_format import LabCashMovement, LabPortfolio, LabTrade
from core.portfolio._lab_json import LabFormatError, load_json
from core.portfolio._ledger import Fill, Ledger, LedgerError, apply_movement

QTY_TOLERANCE = 1e-6
CASH_TOLERANCE = 1e-4
REL_TOLERANCE = 1e-9
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of two machines may differ a little


@dataclass
class Replay:
    """The ledger a document's history produces and what was found on the way."""

    ledger: Ledger
    realized: list[float] = field(default_factory=list)  # per trade, in document order
    events: list[tuple] = field(default_factory=list)  # (ts, kind, item) in booking order


def parse_document(raw: str | bytes) -> LabPortfolio:
    """Parse and validate a lab JSON document; errors say where and what."""
    data = load_json(raw)
    try:
        return LabPortfolio.model_validate(data)
    except ValidationError as exc:
        raise LabFormatError(describe_validation(exc, "invalid portfolio document")) from exc


def check_history(document: LabPortfolio, now: datetime | None = None) -> Replay | None:
    """Hold ``document`` to its own rules and, with a history, to its replay.

    ``now`` (naive UTC) bounds the dates: nothing may be dated after it (plus a few minutes).
    Returns the replay, or None for a document without a trade history.
    """
    _check_rules(document)
    if now is not None:
        _check_not_future(document, now + FUTURE_TOLERANCE)
    if document.trades is None:
        if document.cash_movements:
            raise LabFormatError(
                "given without trades; a history needs both lists (use [] for no trades)",
                where="cash_movements",
            )
        return None
    replay = replay_history(document)
    _compare(document, replay.ledger)
    return replay


def replay_history(document: LabPortfolio, *, permissive: bool = False) -> Replay:
    """Book the document's cash movements and trades in time order on a fresh ledger.

    The ledger follows the document's short and margin rules (all allowed when
    ``permissive``); a broken rule names the trade or cash movement and its time.
    """
    defined = {i.symbol: i for i in document.instruments}
    ledger = Ledger(
        document.starting_cash,
        document.base_currency,
        allow_short=permissive or document.allow_short,
        allow_margin=permissive or document.allow_margin,
    )
    replay = Replay(ledger, [0.0] * len(document.trades or []))
    for ts, kind, index, item in _ordered(document):
        try:
            if kind == 0:
                apply_movement(ledger, item)
                replay.events.append((ts, 0, item))
            else:
                fill, instrument = _fill(item), defined[item.symbol]
                replay.realized[index] = ledger.apply_fill(fill, instrument)
                replay.events.append((ts, 1, (fill, instrument)))
        except LedgerError as exc:
            raise LabFormatError(str(exc), where=_event_where(kind, index, ts)) from exc
    return replay


def event_time(ts: datetime) -> str:
    """``2021-04-01 14:30`` (with seconds when they are not zero)."""
    return ts.isoformat(sep=" ", timespec="minutes" if ts.second == 0 else "seconds")[:19]


def number(value: float) -> str:
    """A figure for a message: up to 10 significant digits, no exponent below 1e10."""
    return f"{value:.10g}"


# -- internals ---------------------------------------------------------------------------------
def _ordered(document: LabPortfolio):
    """(ts, kind, index, item): cash movements before trades at the same time, stable."""
    events = [(m.ts, 0, i, m) for i, m in enumerate(document.cash_movements or [])]
    events += [(t.ts, 1, i, t) for i, t in enumerate(document.trades or [])]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events


def _fill(trade: LabTrade) -> Fill:
    return Fill(
        trade.symbol,
        trade.side,
        trade.quantity,
        trade.price,
        trade.commission,
        trade.fees,
        trade.ts,
    )


def _event_where(kind: int, index: int, ts: datetime) -> str:
    return f"{'trades' if kind else 'cash_movements'}[{index}] ({event_time(ts)})"


def _check_not_future(document: LabPortfolio, latest: datetime) -> None:
    dated: list[tuple[str, datetime]] = [("created_at", document.created_at)]
    dated += [(_event_where(1, i, t.ts), t.ts) for i, t in enumerate(document.trades or [])]
    moves: list[LabCashMovement] = document.cash_movements or []
    dated += [(_event_where(0, i, m.ts), m.ts) for i, m in enumerate(moves)]
    for where, ts in dated:
        if ts > latest:
            raise LabFormatError(
                f"dated {event_time(ts)}, in the future (now is {event_time(latest)} UTC "
                "with the tolerance)",
                where=where,
            )


def _check_rules(document: LabPortfolio) -> None:
    if not document.allow_short:
        for i, p in enumerate(document.positions):
            if p.quantity < -QTY_TOLERANCE:
                raise LabFormatError(
                    f"{p.symbol} is short {number(-p.quantity)}, but allow_short is false",
                    where=f"positions[{i}].quantity",
                )
    if not document.allow_margin and document.cash < -CASH_TOLERANCE:
        raise LabFormatError(
            f"{number(document.cash)} is negative, but allow_margin is false", where="cash"
        )
    for currency, amount in document.foreign_cash.items():
        if not document.allow_margin and amount < -CASH_TOLERANCE:
            raise LabFormatError(
                f"{number(amount)} is negative, but allow_margin is false",
                where=f"foreign_cash.{currency}",
            )


def _compare(document: LabPortfolio, ledger: Ledger) -> None:
    """Every stated figure against the replay; all differences in one message."""
    problems = []

    def differs(where: str, stated: float, replayed: float, abs_tol: float) -> None:
        if not math.isclose(stated, replayed, rel_tol=REL_TOLERANCE, abs_tol=abs_tol):
            problems.append(f"{where}: {number(stated)} stated, {number(replayed)} from the trades")

    differs("cash", document.cash, ledger.cash, CASH_TOLERANCE)
    for currency in sorted(set(document.foreign_cash) | set(ledger.foreign_cash)):
        stated_cash = document.foreign_cash.get(currency, 0.0)
        differs(f"foreign_cash.{currency}", stated_cash, ledger.cash_in(currency), CASH_TOLERANCE)
    differs("totals.commissions", document.totals.commissions, ledger.commissions, CASH_TOLERANCE)
    differs("totals.fees", document.totals.fees, ledger.fees, CASH_TOLERANCE)
    differs("totals.net_deposits", document.totals.net_deposits, ledger.net_deposits, 1e-4)
    stated = {p.symbol: i for i, p in enumerate(document.positions)}
    for i, p in enumerate(document.positions):
        replayed = ledger.positions.get(p.symbol)
        quantity, cost, realized = (
            (replayed.quantity, replayed.avg_cost, replayed.realized_pnl) if replayed else (0, 0, 0)
        )
        differs(f"positions[{i}].quantity", p.quantity, quantity, QTY_TOLERANCE)
        if abs(p.quantity) > QTY_TOLERANCE:
            differs(f"positions[{i}].avg_cost", p.avg_cost, cost, 1e-9)
        differs(f"positions[{i}].realized_pnl", p.realized_pnl, realized, CASH_TOLERANCE)
    for symbol, position in sorted(ledger.positions.items()):
        if symbol not in stated and (
            abs(position.quantity) > QTY_TOLERANCE or abs(position.realized_pnl) > CASH_TOLERANCE
        ):
            problems.append(
                f"positions: no {symbol} position stated, but the trades give quantity "
                f"{number(position.quantity)}, realized P&L {number(position.realized_pnl)}"
            )
    if problems:
        first, _, rest = problems[0].partition(": ")
        raise LabFormatError(join_problems(first, [rest, *problems[1:]]))
