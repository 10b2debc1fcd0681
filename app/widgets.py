"""Shared widgets: headline metrics, table column formats, errors shown by their input, the
error guard every page runs under, plain-text rendering of names and binding controls to
what is stored."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app import format as fmt
from core.errors import (
    WorkstationError,
    describe_validation,
    error_reference,
    model_label,
)
from core.portfolio import PortfolioSummary

ERRORS_KEY = "_field_errors"
UNEXPECTED = "Something went wrong (ref {ref}). Details are in the log."
WORD_JOINER = "\u2060"  # invisible; breaks a pattern without showing
MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-=.!|~:$&^@")

log = logging.getLogger("app")


# -- names and messages as plain text ----------------------------------------------------------
def plain(text: Any) -> str:
    """``text`` as Streamlit's Markdown shows it literally: for names and messages inside
    ``st.markdown``, ``st.success``, ``st.subheader``, widget labels and the like.

    Every Markdown punctuation character is backslash-escaped (emphasis, links, code, HTML,
    ``:color[...]``, math) and line breaks become spaces. Some rewriting happens after the
    escapes are read — links made of bare ``www.x.com``, ``http://...`` or ``a@b.co`` and
    ``:material/icon:`` codes — so an invisible word joiner (U+2060) also goes after a colon
    followed by a letter, ``_`` or ``/`` (not ``09:30``), after ``@`` followed by a letter or
    digit, and before a dot between a letter or digit and a letter (``evil.com``, not ``0.5``).
    """
    chars = " ".join(str(text).splitlines())
    out = []
    for i, char in enumerate(chars):
        after = chars[i + 1] if i + 1 < len(chars) else ""
        before = chars[i - 1] if i else ""
        if char == "." and before.isalnum() and after.isalpha():
            out.append(WORD_JOINER)
        out.append("\\" + char if char in MARKDOWN_SPECIAL else char)
        link_like = after.isalpha() or after in "/_" if char == ":" else after.isalnum()
        if char in ":@" and link_like:
            out.append(WORD_JOINER)
    return "".join(out)


# -- the error guard ---------------------------------------------------------------------------
def error_message(
    exc: BaseException, expected: tuple[type[BaseException], ...] = (), where: str | None = None
) -> str:
    """What a user is told about ``exc``.

    The workstation's own errors (and ``expected`` ones a panel chose to catch) by their
    message, a pydantic error as ``where: field: problem`` without URLs; anything else as a
    short reference, its traceback going to the log (never to the browser).
    """
    if isinstance(exc, ValidationError):
        return describe_validation(exc, where or model_label(exc))
    if isinstance(exc, (WorkstationError, *expected)):
        if isinstance(exc, KeyError) and exc.args:
            return str(exc.args[0])
        return str(exc)
    ref = error_reference()
    log.error("unexpected error (ref %s)", ref, exc_info=exc)
    return UNEXPECTED.format(ref=ref)


def show_error(
    exc: BaseException, expected: tuple[type[BaseException], ...] = (), where: str | None = None
) -> None:
    """``st.error`` with :func:`error_message` of ``exc``, shown as plain text; ``where``
    names the input a pydantic error is about (default: its model's name)."""
    st.error(plain(error_message(exc, expected, where)), icon=":material/error:")


@contextmanager
def guard() -> Iterator[None]:
    """Run a page (or a fragment, or a callback) so that no traceback reaches the browser: an
    error is shown as a message (see :func:`error_message`). Streamlit's own rerun and stop
    signals are not ``Exception``\\s and pass through."""
    try:
        yield
    except Exception as exc:
        show_error(exc)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`guard` as a decorator, for fragments and widget callbacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with guard():
            return func(*args, **kwargs)
        return None

    return wrapper


# -- controls bound to what is stored ----------------------------------------------------------
def bind(scope: str, stored: Any, values: dict[str, Any]) -> bool:
    """Set the widgets ``values`` (key → value) from what is stored whenever ``stored`` (which
    record, and its stored content) differs from what they were last set from.

    Call before the widgets are created, and create them without ``value``/``default``: the
    controls then always show the selected record's stored state — never a choice left over
    from another record, or from before someone else changed it. Every key must belong to a
    widget drawn on each run that calls this. True when they were reset.
    """
    marker = f"_bound_{scope}"
    state = st.session_state
    if state.get(marker) == stored and all(key in state for key in values):
        return False  # (a widget's value is dropped on a run that does not draw it)
    for key, value in values.items():
        state[key] = value
    state[marker] = stored
    return True


def required_choice(
    container: Any, label: str, options: list[Any], key: str, fallback: Any, **kwargs: Any
) -> Any:
    """A single choice that cannot be clicked into "nothing": a ``segmented_control`` with
    ``required=True`` (the browser ignores a click on the selected option), and a guard that
    restores the last choice (else ``fallback``, e.g. the stored value) should its state be
    empty or unknown anyway (a client that sends none). Call :func:`bind` for ``key`` first
    when it shows a stored state; create no ``default``: the value lives in session state."""
    state, last_key = st.session_state, f"_last_{key}"
    if state.get(key) not in options:  # back to the last choice, as the browser would keep it
        state[key] = state[last_key] if state.get(last_key) in options else fallback
    value = container.segmented_control(label, options, key=key, required=True, **kwargs)
    state[last_key] = value
    return value


def view_tabs(labels: list[str], key: str) -> list[Any]:
    """``st.tabs`` whose selected tab lives in ``st.session_state[key]`` (its label): an
    action's rerun keeps the user in the tab where they acted, where its result or refusal
    shows, even when elements above the tabs come and go.

    Each tab's ``.open`` says whether it is the one shown. A page skips a hidden tab's
    charts and tables (the browser then draws only what the user looks at; choosing a tab
    reruns the page to fill it in), and draws its inputs where they should keep their values
    while the user looks elsewhere."""
    return list(st.tabs(labels, key=key, on_change="rerun"))


def scenario_label(scenario: Any) -> str:
    """A stress scenario as a choice reads: ``gfc_2008 · -45 % over 120 days`` (its id, as
    ``--scenario`` takes it, and what it does)."""
    days = scenario.shock_days
    shock = fmt.pct(scenario.price_shock, 0, signed=True)
    return f"{scenario.name} · {shock} over {days} day{'' if days == 1 else 's'}"


def history_dates(
    first: Any,
    last: Any,
    keys: tuple[str, str],
    scope: Any,
    defaults: tuple[Any, Any] | None = None,
) -> tuple[Any, Any]:
    """From/To date inputs bounded by the chosen instruments' history (``first``..``last``).

    They start at ``defaults`` (clipped to the history; the whole history when None) and are
    reset whenever ``scope`` (which instruments) or their history changes, so they never show
    a range left over from another instrument. One above the other: the forms that hold them
    are narrow columns, where two abreast cut a date to ``1999/01/``."""
    lo, hi = defaults or (first, last)
    lo, hi = min(max(lo, first), last), max(min(hi, last), first)
    bind(f"dates_{keys[0]}", (scope, first, last), {keys[0]: lo, keys[1]: hi})
    start = st.date_input("From", min_value=first, max_value=last, key=keys[0])
    end = st.date_input("To", min_value=first, max_value=last, key=keys[1])
    return start, end


def money(value: float, currency: str = "USD") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{abs(value):,.2f}"
    sign = "-" if value < 0 and any(c in "123456789" for c in text) else ""
    return f"{sign}{text} {currency}"


def amount(value: float) -> str:
    """A compact money figure for metrics: cents only below 100,000."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100_000 else f"{value:,.2f}"
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def pct(value: float) -> str:
    """A signed percentage for a metric's delta; one that rounds to zero has no sign (a
    "-0.00%" would show as a red loss)."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:+.2%}"
    return text[1:] if not any(c in "123456789" for c in text) else text


def portfolio_metrics(summary: PortfolioSummary) -> None:
    """Equity, cash, net P&L and positions as a row of metrics."""
    ccy = summary.base_currency
    cols = st.columns(5)
    cols[0].metric(f"Equity ({ccy})", amount(summary.equity))
    cols[1].metric(f"Cash ({ccy})", amount(summary.cash))
    cols[2].metric(f"Net P&L ({ccy})", amount(summary.net_pnl), pct(summary.net_pnl_pct))
    cols[3].metric(f"Unrealized ({ccy})", amount(summary.unrealized_pnl))
    cols[4].metric("Positions", summary.n_positions)


POSITION_COLUMNS = {
    "symbol": st.column_config.TextColumn("Symbol"),
    "quantity": st.column_config.NumberColumn("Qty", format="%.8g"),
    "avg_cost": st.column_config.NumberColumn("Avg cost", format="%.4f"),
    "last_price": st.column_config.NumberColumn("Last", format="%.4f"),
    "cost_basis": st.column_config.NumberColumn("Cost basis", format="%,.2f"),
    "market_value": st.column_config.NumberColumn("Value", format="%,.2f"),
    "unrealized_pnl": st.column_config.NumberColumn("Unrealized", format="%,.2f"),
    "unrealized_pct": st.column_config.NumberColumn("Unrl. %", format="percent"),
    "realized_pnl": st.column_config.NumberColumn("Realized", format="%,.2f"),
    "weight": st.column_config.ProgressColumn("Weight", format="percent", min_value=0, max_value=1),
}

TRADE_COLUMNS = {
    "fill_id": None,
    "ts": st.column_config.DatetimeColumn("Time", format="YYYY-MM-DD HH:mm"),
    "symbol": st.column_config.TextColumn("Symbol"),
    "side": st.column_config.TextColumn("Side"),
    "quantity": st.column_config.NumberColumn("Qty", format="%.8g"),
    "price": st.column_config.NumberColumn("Price", format="%.4f"),
    "notional": st.column_config.NumberColumn("Notional", format="%,.2f"),
    "commission": st.column_config.NumberColumn("Commission", format="%,.2f"),
    "fees": st.column_config.NumberColumn("Fees", format="%,.2f"),
    "realized_pnl": st.column_config.NumberColumn("Realized", format="%,.2f"),
    "strategy": st.column_config.TextColumn("Strategy"),
}


def positions_table(positions: pd.DataFrame, key: str) -> None:
    if positions.empty:
        st.info("No open positions.")
        return
    fmt.dataframe(positions, column_config=POSITION_COLUMNS, hide_index=True, key=key)


def trades_table(trades: pd.DataFrame, key: str) -> None:
    if trades.empty:
        st.info("No trades yet.")
        return
    fmt.dataframe(trades.iloc[::-1], column_config=TRADE_COLUMNS, hide_index=True, key=key)


# -- errors shown next to the input that caused them ------------------------------------------
def set_error(form: str, field: str | None, message: str) -> None:
    st.session_state[ERRORS_KEY] = {"form": form, "field": field or "_form", "message": message}


def clear_errors(form: str) -> None:
    current = st.session_state.get(ERRORS_KEY)
    if current and current["form"] == form:
        del st.session_state[ERRORS_KEY]


def field_error(form: str, field: str) -> None:
    """Render the stored error if it belongs to this form's ``field``."""
    current = st.session_state.get(ERRORS_KEY)
    if current and current["form"] == form and current["field"] == field:
        st.error(plain(current["message"]), icon=":material/error:")


def run_action(form: str, action, success: str | None = None, fields: tuple[str, ...] = ()) -> bool:
    """Run ``action``; on a domain error store it against the field at fault.

    Errors whose field is not among ``fields`` are shown at the form level; an unexpected
    error as a reference (details in the log). Usable from widget callbacks, which run
    outside the page's guard.
    """
    clear_errors(form)
    try:
        action()
    except Exception as exc:
        field = getattr(exc, "field", None)
        message = error_message(exc)
        set_error(form, field if field in fields else None, message)
        return False
    if success:
        st.session_state["_flash"] = success
    return True


def flash() -> None:
    """Show (once) the success message left by the last action."""
    message = st.session_state.pop("_flash", None)
    if message:
        st.toast(plain(message), icon=":material/check_circle:")
        st.success(plain(message))
