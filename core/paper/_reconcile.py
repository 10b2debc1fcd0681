"""Reconciliation: a session's recorded bars through the backtester, fill by fill."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sqlalchemy import select

from core.backtest import BacktestEngine
from core.db import (
    FillRow,
    InstrumentRow,
    PaperAlertRow,
    PaperCommandRow,
    PaperSessionRow,
)
from core.paper._config import SessionConfig
from core.paper._console import _frame
from core.paper._deps import PaperDeps
from core.paper._feeds import build_feed, recorded_market
from core.strategies import build_strategy


def reconcile(deps: PaperDeps, row: PaperSessionRow) -> dict[str, Any]:
    """Replay the session's recorded bars through the backtester, fill by fill.

    Each strategy is backtested from its starting parameters on its share of the cash;
    where a paper fill differs from the backtest's, the first intervention before it
    (a manual order, a parameter change, a cancel, a pre-trade block, the drawdown
    controller) is given as the reason.
    """
    config = SessionConfig.model_validate(row.config)
    with deps.sessions() as s:
        fills = _frame(
            s,
            select(
                FillRow.fill_id,
                FillRow.ts,
                FillRow.strategy,
                InstrumentRow.symbol,
                FillRow.side,
                FillRow.quantity,
                FillRow.price,
                FillRow.commission,
            )
            .join(InstrumentRow, InstrumentRow.id == FillRow.instrument_id)
            .where(
                FillRow.portfolio_id == row.portfolio_id,
                FillRow.fill_id.like(f"P{row.id}-%"),
            )
            .order_by(FillRow.id),
        )
        interventions = [
            (
                c.applied_seq,
                f"{c.kind} command #{c.id} ({c.status}) before event {c.applied_seq}: {c.message}",
            )
            for c in s.scalars(
                select(PaperCommandRow).where(
                    PaperCommandRow.session_id == row.id,
                    PaperCommandRow.applied_seq.is_not(None),
                    PaperCommandRow.kind.in_(("order", "cancel", "params")),
                )
            )
        ] + [
            (a.seq, f"{a.rule} {a.level} at event {a.seq}: {a.message}")
            for a in s.scalars(
                select(PaperAlertRow).where(
                    PaperAlertRow.session_id == row.id,
                    PaperAlertRow.level.in_(("block", "critical")),
                )
            )
        ]
    interventions.sort(key=lambda x: x[0])
    if not row.events:
        return {"session": row.name, "events": 0, "match": True, "strategies": {}, "fills": []}
    feed = build_feed(config.feed, deps.backtests, allow_network=True)
    with deps.engine.connect() as conn:
        market, seq_of = recorded_market(conn, row.id, feed.symbols, row.events)
    rows, report = [], {}
    for sleeve in config.sleeves:
        engine = BacktestEngine(
            build_strategy(sleeve.strategy, sleeve.params, models=deps.strategy_models),
            market,
            feed.instruments,
            cash=config.cash * sleeve.allocation,
            execution=config.execution,
        )
        raw = engine.run()
        ours = fills[fills["strategy"] == sleeve.key].reset_index(drop=True)
        theirs = raw.broker.executions
        n = max(len(ours), len(theirs))
        matched = 0
        for k in range(n):
            p = ours.iloc[k] if k < len(ours) else None
            b = theirs[k] if k < len(theirs) else None
            p_seq = None if p is None else seq_of.get(pd.Timestamp(p["ts"]))
            same = (
                p is not None
                and b is not None
                and p_seq == b.bar
                and p["symbol"] == b.symbol
                and p["side"] == b.side.value
                and math.isclose(p["quantity"], b.quantity, rel_tol=1e-9, abs_tol=1e-12)
                and math.isclose(p["price"], b.price, rel_tol=1e-12, abs_tol=1e-12)
            )
            matched += same
            at = min(x for x in (p_seq, None if b is None else b.bar) if x is not None)
            reason = "" if same else _reason(interventions, at)
            rows.append(
                {
                    "strategy": sleeve.key,
                    "n": k + 1,
                    "event": at,
                    "paper": None
                    if p is None
                    else f"{p['side']} {p['quantity']:g} {p['symbol']} @ {p['price']:.6g}",
                    "backtest": None
                    if b is None
                    else f"{b.side.value} {b.quantity:g} {b.symbol} @ {b.price:.6g}",
                    "match": bool(same),
                    "reason": reason,
                }
            )
        state = (row.state or {}).get("strategies", {}).get(sleeve.key, {})
        report[sleeve.key] = {
            "paper_fills": len(ours),
            "backtest_fills": len(theirs),
            "matched": int(matched),
            "paper_equity": state.get("equity"),
            "backtest_equity": float(raw.equity[-1]),
        }
    return {
        "session": row.name,
        "events": int(market.n_bars),
        "match": all(r["match"] for r in rows),
        "strategies": report,
        "fills": rows,
    }


def _reason(interventions: list[tuple[int, str]], at: int) -> str:
    before = [text for seq, text in interventions if seq is not None and seq <= at]
    if before:
        return before[0] if len(before) == 1 else f"{before[0]} (and {len(before) - 1} more)"
    return "no intervention recorded before this fill"
