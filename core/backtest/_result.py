"""A finished backtest as tables and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.analytics import compute_metrics, periods_per_year_for
from core.backtest._config import BacktestConfig
from core.backtest._engine import RawRun
from core.backtest._trades import TRADE_COLUMNS

ORDER_COLUMNS = [
    "id",
    "created",
    "symbol",
    "side",
    "type",
    "quantity",
    "target",
    "limit_price",
    "stop_price",
    "tif",
    "status",
    "filled",
    "reason",
    "tag",
]
EXECUTION_COLUMNS = ["time", "order_id", "symbol", "side", "quantity", "price", "commission", "tag"]


@dataclass
class BacktestResult:
    config: BacktestConfig
    run_id: str
    equity: pd.Series
    exposure: pd.Series
    trades: pd.DataFrame
    orders: pd.DataFrame
    executions: pd.DataFrame
    metrics: dict[str, float]
    periods_per_year: float
    extra: dict[str, Any] = field(default_factory=dict)
    open_trades: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TRADE_COLUMNS))
    """Trades still open at the end, marked at the last close (``status="open"``); the
    metrics use the closed ``trades`` only."""

    def all_trades(self) -> pd.DataFrame:
        """The closed trades, then the open ones (column ``status`` tells them apart)."""
        if self.open_trades.empty:
            return self.trades
        if self.trades.empty:
            return self.open_trades
        return pd.concat([self.trades.astype(object), self.open_trades], ignore_index=True)

    @property
    def final_equity(self) -> float:
        return float(self.equity.iloc[-1])

    @property
    def returns(self) -> pd.Series:
        return self.equity.pct_change().dropna()

    @property
    def drawdown(self) -> pd.Series:
        return self.equity / self.equity.cummax() - 1


def build_result(config: BacktestConfig, raw: RawRun) -> BacktestResult:
    index = raw.market.index
    trades = raw.trades.frame(index)
    executions = _executions(raw, index)
    ppy = config.periods_per_year or periods_per_year_for(index)
    notional = (
        (executions["quantity"] * executions["price"]).to_numpy() if len(executions) else None
    )
    metrics = compute_metrics(
        raw.equity,
        trade_pnls=trades["pnl_net"].to_numpy(),
        position=raw.position,
        traded_notional=notional,
        periods_per_year=ppy,
        risk_free=config.risk_free,
    )
    return BacktestResult(
        config=config,
        run_id=config.run_id(),
        equity=pd.Series(raw.equity, index=index, name="equity"),
        exposure=pd.Series(raw.exposure, index=index, name="exposure"),
        trades=trades,
        orders=_orders(raw, index),
        executions=executions,
        metrics=metrics,
        periods_per_year=ppy,
        open_trades=raw.trades.open_frame(index, _last_closes(raw)),
    )


def _last_closes(raw: RawRun) -> dict[str, float]:
    """Each symbol's last known close (a symbol without a bar at the end keeps its last)."""
    marks = {}
    for j, symbol in enumerate(raw.market.symbols):
        closes = raw.market.close[:, j]
        known = np.flatnonzero(np.isfinite(closes))
        marks[symbol] = float(closes[known[-1]]) if len(known) else float("nan")
    return marks


def _executions(raw: RawRun, index: pd.DatetimeIndex) -> pd.DataFrame:
    rows = [
        (index[x.bar], x.order_id, x.symbol, str(x.side), x.quantity, x.price, x.commission, x.tag)
        for x in raw.broker.executions
    ]
    return pd.DataFrame(rows, columns=EXECUTION_COLUMNS)


def _orders(raw: RawRun, index: pd.DatetimeIndex) -> pd.DataFrame:
    rows = [
        (
            o.id,
            index[o.created_at],
            o.symbol,
            str(o.side),
            str(o.type),
            o.quantity,
            o.target,
            o.limit_price,
            o.stop_price,
            str(o.tif),
            str(o.status),
            o.filled,
            o.reason,
            o.tag,
        )
        for o in raw.broker.orders.values()
    ]
    return pd.DataFrame(rows, columns=ORDER_COLUMNS)


def equity_to_array(equity: pd.Series) -> np.ndarray:
    return equity.to_numpy(dtype=float)
