"""Per-portfolio limits and trading state, kept in the portfolio's ``metadata`` JSON.

Keys ``"risk_limits"`` (a :class:`RiskLimits` as JSON) and ``"trading_state"``. Every change
is recorded in the audit log (``limits_changed``, ``trading_state``) in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core._kv import PairError, split_pair
from core.audit import append_event
from core.errors import describe_validation
from core.portfolio import get_row
from core.risk._errors import RiskConflict, RiskInputError
from core.risk._limits import LIMIT_KEYS, RiskLimits, TradingState
from core.risk._pretrade import PreTradeReport

LIMITS_KEY = "risk_limits"
STATE_KEY = "trading_state"
_NONE = {"", "none", "null", "off"}


def load_limits(session: Session, portfolio_name: str) -> RiskLimits:
    """The portfolio's limits; the defaults when none were saved."""
    stored = (get_row(session, portfolio_name).meta or {}).get(LIMITS_KEY)
    if stored is None:
        return RiskLimits()
    try:
        return RiskLimits.model_validate(stored)
    except ValidationError as exc:
        where = f"stored risk limits of {portfolio_name!r}"
        raise RiskInputError(describe_validation(exc, where)) from None


def limits_saved(session: Session, portfolio_name: str) -> bool:
    """Whether the portfolio has limits of its own (enforced), not the shown defaults."""
    return LIMITS_KEY in (get_row(session, portfolio_name).meta or {})


def save_limits(
    session: Session, portfolio_name: str, limits: RiskLimits, *, actor: str = "user"
) -> dict[str, Any]:
    """Store ``limits``; returns the changes {key: [before, after]} (audited when any)."""
    row = get_row(session, portfolio_name)
    before = load_limits(session, portfolio_name).to_dict()
    after = limits.to_dict()
    changes = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    row.meta = {**(row.meta or {}), LIMITS_KEY: after}
    if changes:
        append_event(
            session, "limits_changed", {"changes": changes}, portfolio=portfolio_name, actor=actor
        )
    return changes


def unenforced_limits() -> RiskLimits:
    """What a portfolio without saved limits enforces: no rule (``warn_at`` at its default)."""
    return RiskLimits(**{k: None for k, f in RiskLimits.model_fields.items() if k != "warn_at"})


def update_limits(
    session: Session, portfolio_name: str, pairs: list[str], *, actor: str = "user"
) -> tuple[RiskLimits, dict[str, Any]]:
    """Apply the ``key=value`` ``pairs`` to what is stored and save: only they change.

    ``pairs`` as :func:`parse_limit_updates` reads them.
    A portfolio without saved limits starts from
    :func:`unenforced_limits`, so saving one limit does not switch on every example default.
    Returns the stored limits and the changes ``{key: [before, after]}`` (audited when any).
    """
    row = get_row(session, portfolio_name)
    base = (
        load_limits(session, portfolio_name)
        if limits_saved(session, portfolio_name)
        else unenforced_limits()
    )
    new = parse_limit_updates(base, pairs)
    before, after = base.to_dict(), new.to_dict()
    changes = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    row.meta = {**(row.meta or {}), LIMITS_KEY: after}
    if changes:
        append_event(
            session, "limits_changed", {"changes": changes}, portfolio=portfolio_name, actor=actor
        )
    return new, changes


def load_trading_state(session: Session, portfolio_name: str) -> TradingState:
    stored = (get_row(session, portfolio_name).meta or {}).get(STATE_KEY, "active")
    return TradingState(stored)


def set_trading_state(
    session: Session,
    portfolio_name: str,
    state: TradingState | str,
    *,
    actor: str = "user",
    reason: str = "",
) -> TradingState:
    """Switch the portfolio's trading state (the kill switch); audited as ``trading_state``.

    Refuses a "switch" to the state the portfolio is already in: nothing is written, so a
    note typed beside an unchanged state can never be recorded as a state change.
    """
    try:
        new = TradingState(str(state).strip().lower())
    except ValueError:
        states = ", ".join(s.value for s in TradingState)
        raise RiskInputError(f"trading state: {state!r} is not one of {states}", "state") from None
    row = get_row(session, portfolio_name)
    old = load_trading_state(session, portfolio_name)
    if new is old:
        raise RiskConflict(
            f"{portfolio_name}: trading is already {old.value}; nothing changed",
            "state",
        )
    row.meta = {**(row.meta or {}), STATE_KEY: new.value}
    payload = {"from": old.value, "to": new.value, "reason": reason}
    append_event(session, "trading_state", payload, portfolio=portfolio_name, actor=actor)
    return new


def record_check(
    session: Session, portfolio_name: str, report: PreTradeReport, *, actor: str = "paper"
) -> None:
    """Log one order's pre-trade results as a ``pretrade_check`` event.

    Every check is logged, so the compliance report can count breaches.
    """
    append_event(session, "pretrade_check", report.to_dict(), portfolio=portfolio_name, actor=actor)


def parse_limit_updates(current: RiskLimits, pairs: list[str]) -> RiskLimits:
    """Apply ``key=value`` strings to ``current``.

    Numbers, ``none`` to switch a rule off, ``trading_hours.<class>=09:30-16:00`` or
    ``trading_hours={json}``.
    """
    data = current.to_dict()
    for pair in pairs:
        try:
            key, text = split_pair(pair)
        except PairError:
            raise RiskInputError(f"risk limits: {pair!r} must look like key=value") from None
        data = _apply(data, key, text, pair)
    try:
        return RiskLimits.model_validate(data)
    except ValidationError as exc:
        raise RiskInputError(describe_validation(exc, "risk limits")) from None


def _apply(data: dict[str, Any], key: str, text: str, pair: str) -> dict[str, Any]:
    if key.startswith("trading_hours."):
        klass = key.split(".", 1)[1].strip().lower()
        hours = dict(data.get("trading_hours") or {})
        if text.lower() in _NONE:
            hours.pop(klass, None)
        else:
            hours[klass] = text
        return {**data, "trading_hours": hours or None}
    if key not in LIMIT_KEYS:
        raise RiskInputError(
            f"risk limits: unknown limit {key!r} in {pair!r}; limits: {', '.join(LIMIT_KEYS)}"
        )
    if text.lower() in _NONE:
        return {**data, key: None}
    if key == "trading_hours":
        try:
            return {**data, key: json.loads(text)}
        except json.JSONDecodeError:
            raise RiskInputError(
                f"risk limits: trading_hours needs a JSON object, got {text!r}"
            ) from None
    try:
        return {**data, key: float(text)}
    except ValueError:
        raise RiskInputError(f"risk limits: {key} needs a number or 'none', got {text!r}") from None
