"""The compliance report of a date range.

Event counts, limit breaches, fills, largest positions, and the chain's verification; exportable as
JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit._log import verify_chain
from core.audit._query import day_bounds, query_events
from core.db import FillRow, InstrumentRow, PortfolioRow
from core.errors import InvalidInputError

BREACH_KINDS = ("pretrade_check", "limit_breach")
PriceAt = Callable[[str, Any], float | None]


def is_breach(kind: str, payload: dict) -> bool:
    """A ``limit_breach`` event, or a pre-trade check that warned or blocked."""
    return kind == "limit_breach" or (
        kind == "pretrade_check" and payload.get("outcome") in ("warn", "block")
    )


def compliance_report(
    session: Session, start, end, *, price_at: PriceAt | None = None, top: int = 10
) -> dict[str, Any]:
    """What happened between ``start`` and ``end`` (dates, both inclusive).

    Largest positions are those held at ``end`` from the fills booked up to it, marked
    by ``price_at(symbol, end)`` when given (else at the last fill price).
    """
    lo, hi = day_bounds(start, end)
    if lo is None or hi is None:
        raise InvalidInputError("a compliance report needs both a start and an end date")
    events = query_events(session, start=lo, end=hi, newest_first=False)
    breaches = [_breach(e) for e in events.itertuples() if is_breach(e.kind, e.payload)]
    fills = _fills(session, lo, hi)
    return {
        "start": lo.date().isoformat(),
        "end": hi.date().isoformat(),
        "n_events": len(events),
        "counts_by_kind": dict(sorted(Counter(events["kind"]).items())),
        "n_breaches": len(breaches),
        "n_blocked": sum(b["outcome"] == "block" for b in breaches),
        "breaches": breaches,
        "fills": fills,
        "largest_positions": _positions(session, hi, price_at, top),
        "chain": verify_chain(session).to_dict(),
    }


def _breach(event) -> dict[str, Any]:
    payload = event.payload
    failed = [r for r in payload.get("results", []) if r.get("outcome") != "pass"]
    rules = ", ".join(r.get("rule", "?") for r in failed) or payload.get("rule", "")
    message = "; ".join(r.get("message", "") for r in failed) or payload.get("message", "")
    return {
        "id": int(event.id),
        "ts": event.ts.isoformat(),
        "portfolio": event.portfolio,
        "kind": event.kind,
        "symbol": payload.get("symbol"),
        "outcome": payload.get("outcome", "breach"),
        "rules": rules,
        "message": message,
    }


def _fill_rows(session: Session, hi, lo=None):
    query = (
        select(
            PortfolioRow.name,
            InstrumentRow.symbol,
            FillRow.side,
            FillRow.quantity,
            FillRow.price,
            InstrumentRow.multiplier,
            FillRow.ts,
        )
        .join(PortfolioRow, FillRow.portfolio_id == PortfolioRow.id)
        .join(InstrumentRow, FillRow.instrument_id == InstrumentRow.id)
        .where(FillRow.ts <= hi)
        .order_by(FillRow.ts, FillRow.id)
    )
    if lo is not None:
        query = query.where(FillRow.ts >= lo)
    return session.execute(query).all()


def _fills(session: Session, lo, hi) -> dict[str, Any]:
    by_portfolio: dict[str, dict[str, float]] = defaultdict(lambda: {"count": 0, "notional": 0.0})
    for name, _, _, qty, price, multiplier, _ in _fill_rows(session, hi, lo):
        by_portfolio[name]["count"] += 1
        by_portfolio[name]["notional"] += abs(qty * price * multiplier)
    return {
        "count": sum(p["count"] for p in by_portfolio.values()),
        "notional": sum(p["notional"] for p in by_portfolio.values()),
        "by_portfolio": dict(sorted(by_portfolio.items())),
    }


def _positions(session: Session, hi, price_at: PriceAt | None, top: int) -> list[dict]:
    held: dict[tuple[str, str], list[float]] = {}
    for name, symbol, side, qty, price, multiplier, _ in _fill_rows(session, hi):
        entry = held.setdefault((name, symbol), [0.0, price, multiplier])
        entry[0] += qty if side == "buy" else -qty
        entry[1] = price
    rows = []
    for (name, symbol), (qty, last_fill, multiplier) in held.items():
        if abs(qty) < 1e-12:
            continue
        mark = price_at(symbol, hi) if price_at else None
        price = mark if mark is not None else last_fill
        rows.append(
            {
                "portfolio": name,
                "symbol": symbol,
                "quantity": qty,
                "price": price,
                "market_value": qty * price * multiplier,
            }
        )
    rows.sort(key=lambda r: -abs(r["market_value"]))
    return rows[:top]


def report_to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)


def report_to_csv(report: dict[str, Any]) -> str:
    """One table: ``section, portfolio, name, value, detail`` rows for every part."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "portfolio", "name", "value", "detail"])
    fills = report["fills"]
    for key in ("start", "end", "n_events", "n_breaches", "n_blocked"):
        writer.writerow(["summary", "", key, report[key], ""])
    writer.writerow(["summary", "", "fills", fills["count"], ""])
    writer.writerow(["summary", "", "fills_notional", round(fills["notional"], 2), ""])
    writer.writerow(["summary", "", "chain_ok", report["chain"]["ok"], report["chain"]["reason"]])
    for kind, count in report["counts_by_kind"].items():
        writer.writerow(["count", "", kind, count, ""])
    for name, part in fills["by_portfolio"].items():
        writer.writerow(["fills", name, "notional", round(part["notional"], 2), part["count"]])
    for b in report["breaches"]:
        writer.writerow(
            [
                "breach",
                b["portfolio"],
                b["rules"],
                b["outcome"],
                f"{b['ts']} {b['symbol'] or ''} {b['message']}".strip(),
            ]
        )
    for p in report["largest_positions"]:
        writer.writerow(
            [
                "position",
                p["portfolio"],
                p["symbol"],
                round(p["market_value"], 2),
                f"{p['quantity']:g} × {p['price']:.4f}",
            ]
        )
    return out.getvalue()
