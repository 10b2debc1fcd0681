"""What the operational routes serve: strategies, alerts, regimes, rebalancing, audit, paper.

Like :mod:`core.api._reads`, each function composes the services' answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.api._reads import LIVE_STATUSES, finite, records
from core.errors import InvalidInputError, NotFoundError
from core.regimes import analyze
from core.risk import limit_usage

ALERT_LEVELS = ("warn", "block", "critical")
REGIME_MIN_RETURNS = 10  # per state


def sessions_on(paper, name: str) -> list[str]:
    """The paper sessions that trade portfolio ``name``, newest first."""
    listed = paper.list()
    return list(listed.loc[listed["portfolio"] == name, "session"])


def strategies(portfolios, paper, name: str) -> dict[str, Any]:
    """Realized results of the fills by strategy, and the sleeves of the paper sessions."""
    trades = portfolios.trades(name)
    trades["strategy"] = trades["strategy"].fillna("manual")
    trades["abs_notional"] = trades["notional"].abs()
    grouped = trades.groupby("strategy", sort=True).agg(
        n_fills=("fill_id", "count"),
        traded_notional=("abs_notional", "sum"),
        realized_pnl=("realized_pnl", "sum"),
        commissions=("commission", "sum"),
        fees=("fees", "sum"),
    )
    grouped["net_realized"] = grouped["realized_pnl"] - grouped["commissions"] - grouped["fees"]
    rows = records(grouped.reset_index())
    sleeves = []
    for session in sessions_on(paper, name):
        for key, sleeve in paper.status(session)["strategies"].items():
            sleeves.append(
                finite(
                    {
                        "session": session,
                        "sleeve": key,
                        "strategy": sleeve["strategy"],
                        "equity": sleeve.get("equity"),
                        "pnl": sleeve.get("pnl"),
                        "n_fills": int(sleeve.get("n_fills") or 0),
                        "exposure": sleeve.get("exposure"),
                    }
                )
            )
    return {"portfolio": name, "strategies": rows, "sleeves": sleeves}


def alerts(risk_service, paper, name: str) -> dict[str, Any]:
    """Limits warned or breached, a drawdown past its warning, live sessions' alerts."""
    state = risk_service.state(name)
    found = [
        {"source": "risk_limit", "level": r.outcome, "rule": r.rule, "message": r.message}
        for r in limit_usage(state, risk_service.limits(name))
        if r.outcome != "pass"
    ]
    for session in sessions_on(paper, name):
        snapshot = paper.snapshot(session, points=2, n_fills=1)
        if snapshot.session["status"] not in LIVE_STATUSES:
            continue
        for a in records(snapshot.alerts):
            if a["level"] in ALERT_LEVELS:
                found.append(
                    {
                        "source": "paper",
                        "level": a["level"],
                        "rule": a["rule"],
                        "message": a["message"],
                        "ts": a["ts"],
                        "session": session,
                    }
                )
    return {"portfolio": name, "alerts": found}


_REGIMES: dict[tuple, Any] = {}


def regime(market, symbol: str, states: int) -> dict[str, Any]:
    """The current regime of ``symbol``: a ``states``-state HMM of its daily log returns.

    Fitted on the whole history (as ``python -m core regime``), the current regime is the
    filtered probability at the last bar. A fit is kept until the bars change.
    """
    symbol = symbol.strip().upper()
    if not market.has_symbol(symbol):
        raise NotFoundError(f"no market data for {symbol!r}", where="symbol")
    closes = market.bars(symbol)["close"].dropna()
    if len(closes) - 1 < REGIME_MIN_RETURNS * states:
        raise InvalidInputError(
            f"{len(closes) - 1} returns of {symbol}; {states} states need at least "
            f"{REGIME_MIN_RETURNS * states}",
            where="states",
        )
    key = (symbol, states, len(closes), closes.index[-1], float(closes.iloc[-1]))
    if key not in _REGIMES:
        if len(_REGIMES) >= 16:
            _REGIMES.pop(next(iter(_REGIMES)))
        _REGIMES[key] = _regime_payload(symbol, states, closes)
    return _REGIMES[key]


def _regime_payload(symbol: str, states: int, closes: pd.Series) -> dict[str, Any]:
    analysis = analyze(closes, n_states=states)
    last = analysis.filtered.iloc[-1]
    return finite(
        {
            "symbol": symbol,
            "as_of": analysis.filtered.index[-1].to_pydatetime(),
            "n_states": states,
            "n_observations": len(analysis.filtered),
            "current": analysis.current,
            "probabilities": {str(k): float(v) for k, v in last.items()},
            "states": records(analysis.states),
        }
    )


def rebalance(rebalance_service, portfolios, name: str) -> dict[str, Any]:
    """The default policy's plan for ``name`` and its past rebalances (newest first)."""
    targets = portfolios.summary(name).target_weights
    history = records(rebalance_service.history(name).head(20))
    if not targets:
        message = f"portfolio {name!r} has no target weights: set them on the Allocation page"
        return {
            "portfolio": name,
            "has_targets": False,
            "message": message,
            "plan": None,
            "history": history,
        }
    plan = rebalance_service.plan(name).to_dict()
    return {
        "portfolio": name,
        "has_targets": True,
        "message": None,
        "plan": finite(_plain(plan)),
        "history": history,
    }


def _plain(value: Any) -> Any:
    """Datetimes to ISO text (the plan's dict holds some)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat()
    return value


def compliance(audit, start, end) -> dict[str, Any]:
    """The compliance report from ``start`` to ``end`` (default: the last 30 days)."""
    today = datetime.now(UTC).date()
    end = end or today
    start = start or (end - timedelta(days=30))
    return finite(audit.compliance(start, end))


def audit_page(audit, *, start, end, portfolio, kind, limit: int, before: int | None):
    """A page of the audit trail, newest first, and the cursor of the next one."""
    events = audit.events(
        start=start, end=end, portfolio=portfolio, kind=kind, limit=limit, before_id=before
    )
    rows = records(events)
    more = len(rows) == limit
    return {"events": rows, "next_before": int(rows[-1]["id"]) if rows and more else None}


def paper_sessions(paper) -> dict[str, Any]:
    """Every session, newest first."""
    listed = paper.list().replace({np.nan: None})
    return {"sessions": records(listed)}


def paper_session(paper, name: str) -> dict[str, Any]:
    """One session's status; 404 when there is none of that name."""
    if not paper.exists(name):
        raise NotFoundError(f"no paper session named {name!r}", where="session")
    return finite(_plain_status(paper.status(name)))


def _plain_status(status: dict[str, Any]) -> dict[str, Any]:
    status = dict(status)
    status["positions"] = {k: float(v) for k, v in status["positions"].items()}
    return status
