"""Backtest use cases: load data, run, save, reload and compare runs."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.analytics import compute_metrics
from core.backtest._config import BacktestConfig
from core.backtest._data import MarketFrame
from core.backtest._engine import BacktestEngine
from core.backtest._result import BacktestResult, build_result
from core.backtest._vectorized import run_vectorized
from core.db import BacktestRunRow
from core.errors import InvalidInputError, NotFoundError
from core.instruments import Instrument, default_instrument
from core.marketdata import MarketDataService, read_bars_file
from core.strategies import ModelSource, Strategy
from core.strategies import build_strategy as _build


def build_strategy(config: BacktestConfig, models: ModelSource | None = None) -> Strategy:
    """The strategy ``config`` names, built from its parameters.

    Parameters
    ----------
    config : BacktestConfig
        Names the strategy and gives its parameters.
    models : ModelSource, optional
        The model source of a strategy that trades a trained model (``ml_selection``).

    Returns
    -------
    Strategy
        Built by :func:`core.strategies.build_strategy` (which refuses bad parameters with
        :class:`~core.strategies.InvalidParams`).
    """
    return _build(config.strategy, config.params, models=models)


class BacktestService:
    """Backtests on the market data; ``strategy_models``: the model source of model strategies."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        market: MarketDataService,
        *,
        strategy_models: ModelSource | None = None,
    ):
        self._sessions, self.market = sessions, market
        self.strategy_models = strategy_models

    # -- data -----------------------------------------------------------------------------
    def load(self, config: BacktestConfig) -> tuple[MarketFrame, dict[str, Instrument]]:
        """Bars and instrument definitions for ``config`` within its date range."""
        if config.data_file:
            path = Path(config.data_file)
            bars = {path.stem.upper(): read_bars_file(path, filename=path.name)}
        elif config.symbols:
            bars = {s: self.market.bars(s) for s in config.symbols}
        else:
            raise InvalidInputError("give symbols or a data file to backtest on", field="symbols")
        bars = {s: b.loc[_ts(config.start) : _ts(config.end, end=True)] for s, b in bars.items()}
        empty = [s for s, b in bars.items() if len(b) < 2]
        if empty:
            raise InvalidInputError(
                f"fewer than two bars in the chosen range for {', '.join(empty)}"
            )
        instruments = {s: self.market.instrument(s) or default_instrument(s) for s in bars}
        return MarketFrame.from_bars(bars), instruments

    # -- runs ----------------------------------------------------------------------------------
    def run(
        self,
        config: BacktestConfig,
        *,
        vectorized: bool = False,
        save: bool = True,
        progress: Callable[[float], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> BacktestResult:
        strategy = build_strategy(config, self.strategy_models)
        # the id hashes every parameter, defaults spelled out, so equal runs share an id
        config = config.model_copy(update={"params": strategy.params.model_dump(mode="json")})
        market, instruments = self.load(config)
        if len(market.symbols) > 1 and not strategy.multi_asset:
            raise InvalidInputError(
                f"{strategy.name} trades one instrument; pick one symbol", field="symbols"
            )
        if vectorized and config.risk.active:
            raise InvalidInputError(
                "vectorized: the risk overlay vets orders one by one on the event engine; "
                "run without the vectorized path"
            )
        if vectorized:
            raw = run_vectorized(
                strategy, market, instruments, cash=config.cash, execution=config.execution
            )
        else:
            engine = BacktestEngine(
                strategy,
                market,
                instruments,
                cash=config.cash,
                execution=config.execution,
                risk=config.risk,
            )
            raw = engine.run(progress=progress, should_stop=should_stop)
        result = build_result(config, raw)
        history = getattr(strategy, "rebalance_history_", None)
        if history:  # a rebalancing strategy's decisions: when, why, drift, orders, cost
            result.extra["rebalances"] = pd.DataFrame(
                [
                    {
                        "ts": r.ts,
                        "reasons": "; ".join(r.reasons),
                        "max_drift": max(map(abs, r.drifts.values()), default=0.0),
                        "orders": r.n_orders,
                        "est_cost": r.est_cost,
                    }
                    for r in history
                ]
            )
        if save:
            self.save(result)
        return result

    def save(self, result: BacktestResult, name: str = "") -> str:
        equity = result.equity
        row = BacktestRunRow(
            id=result.run_id,
            name=name
            or f"{result.config.strategy} {','.join(result.trades['symbol'].unique()[:3])}",
            strategy=result.config.strategy,
            config=result.config.model_dump(mode="json"),
            params=dict(result.config.params),
            symbols=",".join(result.config.symbols) or (result.config.data_file or ""),
            start=equity.index[0].to_pydatetime(),
            end=equity.index[-1].to_pydatetime(),
            final_equity=result.final_equity,
            metrics=_clean(result.metrics),
            trades=_clean(result.trades.to_dict("records")),
            equity={"index": [t.isoformat() for t in equity.index], "values": equity.tolist()},
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        with self._sessions.begin() as session:
            session.merge(row)
        return row.id

    def runs(self) -> pd.DataFrame:
        """Saved runs, newest first, with their headline metrics."""
        with self._sessions() as session:
            rows = session.scalars(
                select(BacktestRunRow).order_by(BacktestRunRow.created_at.desc())
            ).all()
            records = [
                {
                    "id": r.id,
                    "name": r.name,
                    "strategy": r.strategy,
                    "symbols": r.symbols,
                    "params": r.params,
                    "start": r.start,
                    "end": r.end,
                    "final_equity": r.final_equity,
                    **{
                        k: r.metrics.get(k)
                        for k in ("total_return", "cagr", "sharpe", "max_drawdown", "n_trades")
                    },
                    "created_at": r.created_at,
                }
                for r in rows
            ]
        return pd.DataFrame(records)

    def load_run(self, run_id: str) -> dict:
        """A saved run: its config, metrics, trades and equity curve."""
        with self._sessions() as session:
            row = session.get(BacktestRunRow, run_id)
            if row is None:
                raise NotFoundError(f"no saved run {run_id!r}", field="run_id")
            equity = pd.Series(
                row.equity["values"], index=pd.DatetimeIndex(row.equity["index"]), name=row.id
            )
            return {
                "id": row.id,
                "name": row.name,
                "config": BacktestConfig.model_validate(row.config),
                "metrics": dict(row.metrics),
                "trades": pd.DataFrame(row.trades),
                "equity": equity,
            }

    def delete_run(self, run_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(BacktestRunRow).where(BacktestRunRow.id == run_id))

    def compare(self, run_ids: list[str]) -> pd.DataFrame:
        """Metrics of several runs side by side (one column per run)."""
        runs = [self.load_run(r) for r in run_ids]
        return pd.DataFrame({f"{r['name']} [{r['id'][:6]}]": r["metrics"] for r in runs})


def metrics_of_series(values: pd.Series, periods_per_year: float, risk_free: float = 0.0) -> dict:
    return compute_metrics(
        values.to_numpy(float), periods_per_year=periods_per_year, risk_free=risk_free
    )


def _ts(value, end: bool = False):
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if end else stamp


def _clean(value):
    """Plain JSON types at full precision (NaN and ±inf → None, times → ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
