"""The paper console's read path: everything one refresh shows, in one go."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from core.db import (
    InstrumentRow,
    PaperAlertRow,
    PaperBarRow,
    PaperCommandRow,
    PaperEquityRow,
    PaperSessionRow,
    PositionRow,
)
from core.paper._config import SessionConfig
from core.portfolio import fills_query

# the fills table and the chart's trade markers (newest first)
FILL_COLUMNS = (
    "fill_id",
    "ts",
    "strategy",
    "symbol",
    "side",
    "quantity",
    "price",
    "commission",
    "realized_pnl",
)
MARKER_COLUMNS = ("ts", "side", "quantity", "price", "strategy")
COSTS_DOMINATE = 0.5
"""Costs dominate when commissions exceed this share of a net loss, or the absolute net P&L."""


def cost_summary(pnl: float, commissions: float) -> dict[str, Any]:
    """Commissions beside the P&L they ate into, and whether they dominate it.

    Parameters
    ----------
    pnl : float
        Net P&L (after commissions), summed over the sleeves.
    commissions : float
        Commissions paid (≥ 0).

    Returns
    -------
    dict
        ``pnl``, ``commissions``, ``gross_pnl`` (before commissions: ``pnl + commissions``),
        ``share_of_loss`` (commissions / net loss when ``pnl < 0``, else ``None``),
        ``dominate`` (commissions above :data:`COSTS_DOMINATE` of a net loss, or above the
        absolute net P&L) and ``message`` (a warning when they dominate, else ``None``).
    """
    pnl, commissions = float(pnl), max(float(commissions), 0.0)
    share = commissions / -pnl if pnl < 0 else None
    dominate = commissions > 0 and (
        (share is not None and share > COSTS_DOMINATE) or commissions > abs(pnl)
    )
    message = None
    if dominate:
        message = (
            f"Commissions of {commissions:,.2f} are "
            + (
                f"{share:.1%} of the {-pnl:,.2f} lost"
                if share is not None
                else f"more than the {pnl:+,.2f} net P&L"
            )
            + f" (before costs: {pnl + commissions:+,.2f}): the strategy trades too often for "
            "its edge; use slower signals, fewer trades or a cheaper venue."
        )
    return {
        "pnl": pnl,
        "commissions": commissions,
        "gross_pnl": pnl + commissions,
        "share_of_loss": share,
        "dominate": dominate,
        "message": message,
    }


@dataclass
class ConsoleSnapshot:
    """Everything one console refresh shows, read in one go."""

    session: dict[str, Any]
    state: dict[str, Any]
    positions: pd.DataFrame
    fills: pd.DataFrame
    open_orders: pd.DataFrame
    equity: pd.DataFrame
    prices: pd.DataFrame
    alerts: pd.DataFrame
    commands: pd.DataFrame
    strategies: pd.DataFrame
    markers: pd.DataFrame  # the chart symbol's latest fills, for trade markers


def read_snapshot(
    engine,
    row: PaperSessionRow,
    status: str,
    *,
    symbol: str | None = None,
    points: int = 1000,
    n_fills: int = 50,
) -> ConsoleSnapshot:
    """One console refresh of session ``row``.

    A few indexed queries on Core rows (no ORM overhead), curves sampled to about ``points`` points
    plus the last 200 events.
    """
    state = row.state or {}
    cfg = row.config
    symbols = list(state.get("marks") or cfg["feed"].get("symbols") or [])
    symbol = symbol or (symbols[0] if symbols else None)
    stride = max(1, row.events // points)
    recent = max(row.events - 200, 0)
    with engine.connect() as s:  # Core rows: no ORM overhead per refresh
        positions = _frame(
            s,
            (
                select(
                    InstrumentRow.symbol,
                    PositionRow.quantity,
                    PositionRow.avg_cost,
                    PositionRow.realized_pnl,
                    InstrumentRow.multiplier,
                )
                .join(InstrumentRow, InstrumentRow.id == PositionRow.instrument_id)
                .where(PositionRow.portfolio_id == row.portfolio_id, PositionRow.quantity != 0)
            ),
        )
        fills = _frame(
            s,
            fills_query(row.portfolio_id, columns=FILL_COLUMNS, order="newest", limit=n_fills),
        )
        sampled = (PaperEquityRow.seq % stride == 0) | (PaperEquityRow.seq >= recent)
        equity = _frame(
            s,
            (
                select(
                    PaperEquityRow.seq,
                    PaperEquityRow.ts,
                    PaperEquityRow.equity,
                    PaperEquityRow.cash,
                    PaperEquityRow.drawdown,
                    PaperEquityRow.regime,
                )
                .where(PaperEquityRow.session_id == row.id, sampled)
                .order_by(PaperEquityRow.seq)
            ),
        )
        bar_sample = (PaperBarRow.seq % stride == 0) | (PaperBarRow.seq >= recent)
        prices = _frame(
            s,
            (
                select(PaperBarRow.seq, PaperBarRow.ts, PaperBarRow.close)
                .where(PaperBarRow.session_id == row.id, PaperBarRow.symbol == symbol, bar_sample)
                .order_by(PaperBarRow.seq)
            ),
        )
        markers = _frame(
            s,
            fills_query(
                row.portfolio_id, columns=MARKER_COLUMNS, symbol=symbol, order="newest", limit=300
            ),
        )
        alerts = _frame(
            s,
            (
                select(
                    PaperAlertRow.id,
                    PaperAlertRow.ts,
                    PaperAlertRow.level,
                    PaperAlertRow.rule,
                    PaperAlertRow.message,
                )
                .where(PaperAlertRow.session_id == row.id)
                .order_by(PaperAlertRow.id.desc())
                .limit(30)
            ),
        )
        commands = _frame(
            s,
            (
                select(
                    PaperCommandRow.id,
                    PaperCommandRow.created_at.label("created"),
                    PaperCommandRow.kind,
                    PaperCommandRow.payload,
                    PaperCommandRow.status,
                    PaperCommandRow.message,
                )
                .where(PaperCommandRow.session_id == row.id)
                .order_by(PaperCommandRow.id.desc())
                .limit(20)
            ),
        )
    marks = state.get("marks") or {}
    if len(positions):
        positions["price"] = positions["symbol"].map(marks).astype(float)
        positions["value"] = positions["quantity"] * positions["price"] * positions["multiplier"]
        positions["unrealized_pnl"] = (
            (positions["price"] - positions["avg_cost"])
            * positions["quantity"]
            * positions["multiplier"]
        )
        eq = state.get("equity") or math.nan
        positions["weight"] = positions["value"] / eq
        positions = positions.drop(columns="multiplier")
    orders = [
        {"strategy": key, **o}
        for key, sleeve in (state.get("strategies") or {}).items()
        for o in sleeve.get("open_orders", [])
    ]
    open_orders = pd.DataFrame.from_records(
        orders,
        columns=[
            "strategy",
            "id",
            "symbol",
            "side",
            "quantity",
            "type",
            "limit_price",
            "stop_price",
            "status",
            "filled",
            "tag",
        ],
    )
    strategies = pd.DataFrame.from_records(
        [
            {
                "strategy": k,
                "kind": v["strategy"],
                "allocation": v["allocation"],
                "equity": v["equity"],
                "pnl": v["pnl"],
                "realized": v["realized"],
                "commissions": v["commissions"],
                "fills": v["n_fills"],
                "exposure": v["exposure"],
            }
            for k, v in (state.get("strategies") or {}).items()
        ],
        columns=[
            "strategy",
            "kind",
            "allocation",
            "equity",
            "pnl",
            "realized",
            "commissions",
            "fills",
            "exposure",
        ],
    )
    config = SessionConfig.model_validate(cfg)
    session = {
        "name": row.name,
        "status": status,
        "events": row.events,
        "n_events": state.get("n_events"),
        "symbol": symbol,
        "symbols": symbols,
        "error": row.error,
        "cash0": config.cash,
        "warning": config.risk.drawdown_warning,
        "critical": config.risk.drawdown_critical,
        "risk": config.risk.describe() if config.risk.active else None,
        "sleeves": [s["key"] for s in cfg["sleeves"]],
        "heartbeat": row.heartbeat,
        "costs": cost_summary(strategies["pnl"].sum(), strategies["commissions"].sum()),
    }
    return ConsoleSnapshot(
        session,
        state,
        positions,
        fills,
        open_orders,
        equity,
        prices,
        alerts,
        commands,
        strategies,
        markers,
    )


def _frame(conn, statement) -> pd.DataFrame:
    """Rows as a frame whose columns are the statement's column names (labels)."""
    result = conn.execute(statement)
    return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))
