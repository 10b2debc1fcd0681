"""What the routes serve, worked out from the services' answers (no query of its own).

Each function takes the workstation's services (duck-typed: ``portfolios``, ``risk``,
``paper``...) and returns plain dicts the response models validate. Undefined numbers
(NaN, ±inf) become None.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.analytics import compute_metrics, max_drawdown, sharpe
from core.errors import NotFoundError
from core.portfolio import positions_frame

TRADING_DAYS = 252
LIVE_STATUSES = ("running", "paused")


def finite(value: Any) -> Any:
    """``value`` with NaN and ±inf (also inside dicts and lists) replaced by None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts of plain, finite values."""
    return [finite(dict(zip(frame.columns, row, strict=True))) for row in frame.itertuples(False)]


def default_portfolio(portfolios, demo_name: str | None) -> str:
    """The demo portfolio when it exists, else the first by name; 404 when there is none."""
    names = portfolios.names()
    if not names:
        raise NotFoundError("no portfolio in this workstation", where="portfolio")
    return demo_name if demo_name in names else names[0]


def daily_equity(curve: pd.DataFrame) -> pd.Series:
    """The last equity snapshot of each UTC day."""
    if curve.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    equity = curve["equity"]
    return equity.groupby(equity.index.normalize()).last()


@dataclass(frozen=True)
class Curve:
    """A portfolio's equity snapshots, their daily curve, its Sharpe ratio and drawdown."""

    snapshots: pd.DataFrame
    daily: pd.Series
    sharpe: float | None
    max_drawdown: float | None


class CurveCache:
    """Equity curves kept until they change (:meth:`PortfolioService.curve_stamp` says).

    Reading 20,000 snapshots takes ~150 ms; the stamp, two indexed reads, ~1 ms. At most
    ``size`` curves are kept (least recently used out first); thread-safe.
    """

    def __init__(self, portfolios, size: int = 8):
        self._portfolios, self._size = portfolios, size
        self._kept: OrderedDict[str, tuple[tuple, Curve]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str) -> Curve:
        """The curve of portfolio ``name`` now."""
        stamp = self._portfolios.curve_stamp(name)
        with self._lock:
            kept = self._kept.get(name)
            if kept is not None and kept[0] == stamp:
                self._kept.move_to_end(name)
                return kept[1]
        snapshots = self._portfolios.equity_curve(name)
        daily = daily_equity(snapshots)
        curve = Curve(snapshots, daily, *_curve_measures(daily))
        with self._lock:
            self._kept[name] = (stamp, curve)
            self._kept.move_to_end(name)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return curve


def _curve_measures(daily: pd.Series) -> tuple[float | None, float | None]:
    """Sharpe ratio (annualised, 252 days) and maximum drawdown of a daily curve."""
    values = daily.to_numpy(dtype=float)
    if len(values) < 2 or not (values > 0).all():
        return None, None
    returns = values[1:] / values[:-1] - 1.0
    ratio = sharpe(returns, TRADING_DAYS) if len(returns) >= 2 else math.nan
    return finite(float(ratio)), finite(float(max_drawdown(values)))


def summary(portfolios, curves: CurveCache, name: str, now=None) -> dict[str, Any]:
    """Total value, cash, P&L today and in total, Sharpe and maximum drawdown.

    P&L today is equity now less the last snapshot before today's UTC date (None when the
    portfolio has none before today); Sharpe (annualised, 252 days) and maximum drawdown are
    those of the daily equity snapshots (the last of each UTC day).
    """
    s = portfolios.summary(name)
    curve = curves.get(name)
    daily, snapshots = curve.daily, curve.snapshots
    now = now or datetime.now(UTC).replace(tzinfo=None)
    before = daily[daily.index < pd.Timestamp(now.date())]
    return finite(
        {
            "portfolio": s.name,
            "base_currency": s.base_currency,
            "as_of": snapshots.index[-1].to_pydatetime() if len(snapshots) else None,
            "total_value": s.equity,
            "cash": s.cash,
            "positions_value": s.positions_value,
            "n_positions": s.n_positions,
            "starting_cash": s.starting_cash,
            "net_deposits": s.net_deposits,
            "pnl_today": s.equity - float(before.iloc[-1]) if len(before) else None,
            "pnl_total": s.net_pnl,
            "pnl_total_pct": s.net_pnl_pct,
            "realized_pnl": s.realized_pnl,
            "unrealized_pnl": s.unrealized_pnl,
            "commissions": s.commissions,
            "fees": s.fees,
            "sharpe": curve.sharpe,
            "max_drawdown": curve.max_drawdown,
        }
    )


def positions(portfolios, name: str) -> dict[str, Any]:
    """The open positions and the equity their weights are of (one ledger read, one marking)."""
    ledger = portfolios.ledger(name)
    marks = portfolios.marks(ledger)
    frame = positions_frame(ledger, marks)
    return {"portfolio": name, "equity": ledger.equity(marks), "positions": records(frame)}


def position(portfolios, name: str, symbol: str) -> dict[str, Any]:
    """One open position; 404 when the portfolio holds none of ``symbol``."""
    frame = portfolios.positions(name)
    match = frame[frame["symbol"] == symbol.strip().upper()]
    if match.empty:
        raise NotFoundError(f"{name!r} holds no {symbol}", where="symbol")
    return records(match)[0]


def risk(risk_service, curves: CurveCache, name: str, n_sims: int) -> dict[str, Any]:
    """The Risk page's report, with the Sharpe ratio of the daily equity curve."""
    report = risk_service.report(name, n_sims=n_sims).to_dict()
    keys = (
        "portfolio",
        "equity",
        "trading_state",
        "volatility",
        "var_95",
        "cvar_95",
        "var_99",
        "cvar_99",
        "beta",
        "n_observations",
        "horizon_days",
        "var",
        "drawdown",
        "limits",
        "limit_usage",
    )
    out = {k: report.get(k) for k in keys}
    return finite({**out, "sharpe": curves.get(name).sharpe})


def performance(portfolios, curves: CurveCache, name: str) -> dict[str, Any]:
    """:func:`core.analytics.compute_metrics` of the daily curve, and the fills' totals."""
    daily = curves.get(name).daily
    trades = portfolios.trades(name)
    values = daily.to_numpy(dtype=float)
    usable = len(values) >= 2 and bool((values > 0).all())
    metrics = (
        compute_metrics(values, traded_notional=trades["notional"].abs().to_numpy())
        if usable
        else {}
    )
    metrics.pop("n_trades", None)  # closed trades are not tracked per portfolio
    return finite(
        {
            "portfolio": name,
            "start": daily.index[0].to_pydatetime() if len(daily) else None,
            "end": daily.index[-1].to_pydatetime() if len(daily) else None,
            "n_days": len(daily),
            "metrics": {k: v for k, v in metrics.items() if k not in ("exposure",)},
            "n_fills": len(trades),
            "traded_notional": float(trades["notional"].abs().sum()),
            "realized_pnl": float(trades["realized_pnl"].sum()),
            "commissions": float(trades["commission"].sum()),
        }
    )


def downsample(frame: pd.DataFrame, points: int) -> pd.DataFrame:
    """At most ``points`` rows, evenly spaced, the first and the last always kept."""
    if len(frame) <= points:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, points).round().astype(int))
    return frame.iloc[keep]


def chart(curves: CurveCache, name: str, points: int) -> dict[str, Any]:
    """The equity curve, downsampled."""
    curve = curves.get(name).snapshots
    sampled = downsample(curve, points).reset_index().rename(columns={"timestamp": "ts"})
    return {"portfolio": name, "n_total": len(curve), "points": records(sampled)}


def recent_trades(portfolios, name: str, limit: int) -> dict[str, Any]:
    """The last ``limit`` fills, newest first."""
    latest = portfolios.recent_trades(name, limit)
    return {"portfolio": name, "trades": records(latest)}
