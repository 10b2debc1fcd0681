"""Numbers for a person: one place that decides how money, percentages and plain figures
read in metrics, tables and chart tooltips.

Rules: a value within :data:`ZERO` of zero is shown as 0 without a sign (never ``-0.00``
or ``-0.000000000005``); money has thousands separators and two decimals; a fraction is
shown as a percentage; missing or non-finite values show as an em dash. ``column_config_for``
gives every float column of a frame a ``NumberColumn`` format by its name, so no table shows
a raw float repr such as ``0.34956775200000006``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import streamlit as st

ZERO = 1e-9
MISSING = "—"

# st.column_config.NumberColumn formats (printf-style, with "," for separators)
MONEY_FORMAT = "%,.2f"
PERCENT_FORMAT = "percent"  # a column's meaning; a table shows it as TABLE_PERCENT_FORMAT
TABLE_PERCENT_FORMAT = "%.2f%%"
RATIO_FORMAT = "%.2f"
NUMBER_FORMAT = "localized"  # separators, at most 3 decimals

# column names (lower case, words split on space, _ or -) that hold fractions shown as %
_PERCENT_WORDS = {
    "return", "returns", "pct", "percent", "weight", "share", "drawdown", "cagr", "vol",
    "volatility", "rate", "var", "cvar", "dsr", "pbo", "exposure",
    "win", "used", "probability", "prob", "allocation", "turnover", "annual", "hit",
}  # fmt: skip
_MONEY_WORDS = {
    "pnl", "equity", "cash", "value", "notional", "commission", "commissions", "fees", "fee",
    "cost", "basis", "price", "amount", "balance", "profit", "loss", "capital", "exposure_usd",
    "realized", "unrealized", "gross", "net", "close", "open", "high", "low", "limit",
}  # fmt: skip
_RATIO_WORDS = {"sharpe", "sortino", "calmar", "score", "rhat", "r-hat", "factor", "beta"}


def _clean(value: Any) -> float | None:
    """``value`` as a finite float, 0.0 when within :data:`ZERO` of zero; None if missing."""
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return 0.0 if abs(number) < ZERO else number


def unsigned_zero(text: str) -> str:
    """``-0.00`` (or ``-0.0 %``) reads as ``0.00``: rounding to zero drops the sign."""
    if text.startswith("-") and not re.search(r"[1-9]", text):
        return text[1:]
    return text


def number(value: Any, decimals: int = 2) -> str:
    """``1,234.57`` for ``number(1234.5678)``; ``0.00`` for ``-0.000000000005``."""
    x = _clean(value)
    if x is None:
        return MISSING
    return unsigned_zero(f"{x:,.{decimals}f}")


def money(value: Any, currency: str | None = None, decimals: int = 2) -> str:
    """``-1,234.50 USD`` for ``money(-1234.5, "USD")``; no currency when none is given."""
    text = number(value, decimals)
    return text if currency is None or text == MISSING else f"{text} {currency}"


def pct(value: Any, decimals: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: ``pct(0.34956775200000006)`` → ``35.0 %``."""
    x = _clean(value)
    if x is None:
        return MISSING
    text = unsigned_zero(f"{x * 100:{'+' if signed else ''},.{decimals}f}")
    if text.startswith("+") and not re.search(r"[1-9]", text):
        text = text[1:]
    return f"{text} %"


def ratio(value: Any, decimals: int = 2) -> str:
    """A dimensionless figure (Sharpe, score) to ``decimals`` places."""
    return number(value, decimals)


def param(value: Any) -> str:
    """A parameter's value: a float to 4 significant digits (``0.34956775200000006`` →
    ``0.3496``), anything else as it is."""
    if isinstance(value, float):
        x = _clean(value)
        return MISSING if x is None else f"{x:.4g}"
    return str(value)


def _words(name: str) -> set[str]:
    return set(re.split(r"[\s_\-()./]+", str(name).lower())) - {""}


def format_for(name: str) -> str:
    """The NumberColumn format of a float column called ``name``."""
    words = _words(name)
    if words & _RATIO_WORDS:
        return RATIO_FORMAT
    if words & _PERCENT_WORDS or "%" in str(name):
        return PERCENT_FORMAT
    if words & _MONEY_WORDS:
        return MONEY_FORMAT
    return NUMBER_FORMAT


def column_config_for(
    frame: pd.DataFrame, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``column_config`` giving every float column of ``frame`` a NumberColumn format by
    its name (percent, money, ratio or a localized number), then ``overrides``.

    Columns that ``overrides`` names keep their own configuration.
    """
    config: dict[str, Any] = {}
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_float_dtype(dtype) or (
            pd.api.types.is_object_dtype(dtype) and _mostly_floats(frame[name])
        ):
            config[str(name)] = st.column_config.NumberColumn(format=format_for(str(name)))
    config.update(overrides or {})
    return config


def _mostly_floats(column: pd.Series) -> bool:
    values = column.dropna()
    return bool(len(values)) and all(
        isinstance(v, float) and not isinstance(v, bool) for v in values
    )


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with float values within :data:`ZERO` of zero set to exactly 0 (no ``-0``)."""
    out = frame.copy()
    for name, dtype in out.dtypes.items():
        if pd.api.types.is_float_dtype(dtype):
            col = out[name]
            out[name] = col.where(~(col.abs() < ZERO), 0.0)
    return out


def dataframe(frame: pd.DataFrame, column_config: dict[str, Any] | None = None, **kwargs) -> Any:
    """``st.dataframe`` with every float column formatted (see :func:`column_config_for`),
    near-zero values shown as 0 and percentages to a fixed two decimals
    (:func:`fixed_percentages`). Every table of the app goes through here."""
    shown, config = fixed_percentages(tidy(frame), column_config_for(frame, column_config))
    return st.dataframe(shown, column_config=headings(shown, config), **kwargs)


_HEADING_WORDS = {
    "pnl": "P&L",
    "iv": "IV",
    "est": "est.",
    "n": "#",
    "1pct": "1 %",
    "id": "id",
    "ts": "time",
    "cagr": "CAGR",
    "var": "VaR",
    "cvar": "CVaR",
    "dsr": "DSR",
    "pbo": "PBO",
    "ic": "IC",
}


def heading(name: str) -> str:
    """A snake_case column name as a heading: ``est_cost`` → ``Est. cost``, ``call_iv`` →
    ``Call IV``, ``n_orders`` → ``# orders``."""
    words = [_HEADING_WORDS.get(w, w) for w in str(name).split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def headings(frame: pd.DataFrame, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with a :func:`heading` for every snake_case or lower-case column that has
    no label of its own (hidden columns stay hidden): no table shows ``market_value`` as its
    heading, nor ``symbol`` beside ``Market value``."""
    out = dict(config)
    for name in map(str, frame.columns):
        if name.startswith("_") or not ("_" in name or name.islower()):
            continue
        column = out.get(name, {})
        if column is None or isinstance(column, str):
            continue  # hidden, or labelled by a plain string
        if not column.get("label"):
            out[name] = {**column, "label": heading(name)}
    return out


def fixed_percentages(
    frame: pd.DataFrame, config: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Columns configured with Streamlit's ``"percent"`` format, shown ×100 as ``%.2f%%``.

    The preset drops trailing zeros, so one column read ``2.3%`` under ``2.49%`` and ``0%``
    beside ``35.23%``; a trader reads a column by its aligned decimals. Progress bars keep
    their scale (their bounds are multiplied too). Only what is displayed changes: ``frame``
    and ``config`` are not modified.
    """
    out, fixed = frame, dict(config)
    for name, column in config.items():
        spec = column.get("type_config") if isinstance(column, dict) else None
        if not spec or spec.get("format") != PERCENT_FORMAT or name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().sum() < frame[name].notna().sum():
            continue  # text among the numbers: leave the column as it is
        if out is frame:
            out = frame.copy()
        out[name] = values * 100.0
        scaled = {
            key: (
                value * 100.0 if key in ("min_value", "max_value") and value is not None else value
            )
            for key, value in spec.items()
        }
        fixed[name] = {**column, "type_config": {**scaled, "format": TABLE_PERCENT_FORMAT}}
    return out, fixed


# plotly hovertemplate fragments
HOVER_MONEY = "%{y:,.2f}"
HOVER_PCT = "%{y:.2%}"
