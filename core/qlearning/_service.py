"""``ws.qlearning``: train a Q-table over strategies' sleeves, save it, compare it out of sample.

:meth:`QLearningService.train` is the whole run (also the ``qlearning_train`` task's handler):
load the bars, split them, fit the state encoder on the training span, backtest every sleeve,
learn, save the Q-table in the model registry (JSON, sha256 recorded), then backtest the
``q_weights`` strategy with the saved model (read back through the registry's hash check),
equal weights and each sleeve alone, and report the training and test spans' metrics.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from core.analytics import periods_per_year_for
from core.backtest import BacktestConfig, BacktestService
from core.errors import InvalidInputError, NotFoundError, describe_validation
from core.execution import execution_config
from core.models import ModelRecord, ModelRegistry, model_id_for
from core.qlearning._agent import QModel, action_labels, epsilon_schedule, learn, simplex_grid
from core.qlearning._data import bar_states, experience, run_sleeves, split_index
from core.qlearning._evaluate import contenders, curves, span_metrics
from core.qlearning._request import QLearningRequest
from core.qlearning._state import fit_encoder
from core.tasks import Stopped

KIND = "qlearning"
CURVE_CAP = 500


class QLearningService:
    """Q-learning of strategy weights (see the module docstring).

    Parameters
    ----------
    backtests : BacktestService
        Loads bars and instruments (symbol or price file).
    models : ModelRegistry
        Where Q-tables are saved and read back (hash checked).
    """

    def __init__(self, backtests: BacktestService, models: ModelRegistry):
        self.backtests, self.models = backtests, models

    def validate(self, request: Mapping[str, Any] | QLearningRequest) -> dict[str, Any]:
        """The request checked and normalised (the task's submit-time check)."""
        return self.request(request).model_dump(mode="json")

    @staticmethod
    def request(request: Mapping[str, Any] | QLearningRequest) -> QLearningRequest:
        """``request`` as a :class:`QLearningRequest`; ``qlearning: field: problem`` if not."""
        if isinstance(request, QLearningRequest):
            return request
        try:
            return QLearningRequest.model_validate(dict(request))
        except ValidationError as exc:
            raise InvalidInputError(describe_validation(exc, "qlearning")) from None

    def run_task(self, request: dict[str, Any], ctx) -> dict[str, Any]:
        """The ``qlearning_train`` task handler: :meth:`train` with progress and cancel."""
        return self.train(request, ctx)

    def train(self, request: Mapping[str, Any] | QLearningRequest, ctx=None) -> dict[str, Any]:
        """Train, save and evaluate (see the module docstring).

        Parameters
        ----------
        request : QLearningRequest or mapping
        ctx : TaskContext, optional
            Progress in episodes, the learning curve, and Cancel (raises ``Stopped``).

        Returns
        -------
        dict
            ``model_id``, ``policy`` (state → strategy → weight), ``test`` and ``train``
            metrics per contender (``q_weights``, ``equal_weight``, each strategy), spans,
            the learning curve, test equity curves and timings.
        """
        req = self.request(request)
        started = time.perf_counter()
        market, instruments = self._market(req)
        execution = execution_config(commission=req.commission, slippage_bps=req.slippage_bps)
        closes = market.close[:, 0]
        n_train = split_index(market.index, req.train_end, req.train_fraction)
        encoder = fit_encoder(
            closes[:n_train],
            regime_states=req.regime_states,
            vol_buckets=req.vol_buckets,
            return_buckets=req.return_buckets,
            vol_window=req.vol_window,
            return_window=req.return_window,
            seed=req.seed,
        )
        table = encoder.states
        states = bar_states(closes, encoder)
        params = req.sleeve_params()
        sleeves = run_sleeves(
            req.strategies, params, market, instruments, cash=req.cash, execution=execution
        )
        data = experience(states, table, sleeves, rebalance=req.rebalance, n_train=n_train)
        actions = simplex_grid(len(req.strategies), req.step)
        cost_rate = req.commission + req.slippage_bps / 1e4
        learn_started = time.perf_counter()
        q, visits, curve = learn(
            data,
            actions,
            len(table),
            episodes=req.episodes,
            learning_rate=req.learning_rate,
            discount=req.discount,
            epsilon=epsilon_schedule(req.epsilon_start, req.epsilon_end, req.epsilon_decay),
            risk_aversion=req.risk_aversion,
            cost_rate=cost_rate,
            seed=req.seed,
            averaging=req.lr_schedule == "visits",
            on_episode=None if ctx is None else _reporter(ctx, req.episodes),
        )
        learn_seconds = time.perf_counter() - learn_started
        if len(curve) < req.episodes:
            raise Stopped(f"qlearning: stopped after {len(curve)} of {req.episodes} episodes")
        model = QModel(
            strategies=list(req.strategies),
            params=params,
            actions=actions.tolist(),
            states=table,
            q=q.tolist(),
            visits=visits.tolist(),
            encoder=encoder,
            rebalance=req.rebalance,
            learning_rate=req.learning_rate,
            discount=req.discount,
            risk_aversion=req.risk_aversion,
            cost_rate=cost_rate,
            symbol=market.symbols[0],
        )
        span = [market.index[0].isoformat(), market.index[-1].isoformat()]
        spec = {
            "kind": KIND,
            "request": req.model_dump(mode="json"),
            "data_span": span,
            "data_sha256": _digest(market),
        }
        model_id = model_id_for({**spec, "universe": list(market.symbols)})
        folds = [
            {
                "train_start": span[0],
                "train_end": market.index[n_train - 1].isoformat(),
                "test_start": market.index[n_train].isoformat(),
                "test_end": span[1],
            }
        ]
        self._save(model_id, model, req, market.symbols, spec, folds)
        saved = self.load(model_id)  # what is evaluated is what the registry hands out
        if ctx is not None:
            ctx.progress(req.episodes, req.episodes, unit="episodes", message="evaluating")
        runs = contenders(saved, market, instruments, cash=req.cash, execution=execution)
        for k, name in enumerate(req.strategies):
            runs[name] = (sleeves.equity[k], sleeves.fills[k])
        ppy = periods_per_year_for(market.index)
        n = market.n_bars
        test = {k: span_metrics(eq, f, n_train, n, ppy) for k, (eq, f) in runs.items()}
        train = {k: span_metrics(eq, f, 1, n_train, ppy) for k, (eq, f) in runs.items()}
        self.models.update_metrics(model_id, {"test": test, "train": train})
        return {
            "model_id": model_id,
            "agent": "qlearning",
            "symbol": market.symbols[0],
            "strategies": list(req.strategies),
            "folds": folds,
            "episodes": len(curve),
            "states_visited": int((visits.sum(axis=1) > 0).sum()),
            "n_states": len(table),
            "n_actions": len(actions),
            "actions": action_labels(actions.tolist()),
            "policy": saved.policy(),
            "test": test,
            "train": train,
            "curve": _thin(curve),
            "equity_test": curves(runs, market.index, n_train),
            "learn_seconds": round(learn_seconds, 4),
            "seconds": round(time.perf_counter() - started, 3),
        }

    # -- the registry --------------------------------------------------------------------
    def load(self, model_id: str) -> QModel:
        """A saved Q-table, from the registry's hash-checked bytes.

        Raises
        ------
        NotFoundError
            No model ``model_id``, or it is no Q-learning model.
        ArtifactIntegrityError
            Its file was changed or removed since it was saved.
        """
        record = self.models.require(model_id)
        if record.kind != KIND:
            raise NotFoundError(f"qlearning: model {model_id!r} is a {record.kind} model")
        return QModel.from_bytes(self.models.read_artifact(model_id))

    def list(self) -> list[ModelRecord]:
        """The saved Q-learning models, newest first."""
        return self.models.list(KIND)

    def _save(self, model_id, model: QModel, req, symbols, spec, folds) -> ModelRecord:
        return self.models.save(
            model_id=model_id,
            kind=KIND,
            artifact=model.to_bytes(),
            fmt="json",
            suffix=".json",
            universe=list(symbols),
            spec=spec,
            folds=folds,
            name=req.name or f"qlearning {'+'.join(req.strategies)} {symbols[0]}",
        )

    def _market(self, req: QLearningRequest):
        config = BacktestConfig(
            strategy=req.strategies[0],
            symbols=(req.symbol,) if req.symbol else (),
            data_file=req.data,
        )
        market, instruments = self.backtests.load(config)
        if len(market.symbols) != 1:
            raise InvalidInputError("qlearning: the sleeves trade one instrument", field="symbol")
        return market, instruments


def _digest(market) -> str:
    """sha256 of the bars (a changed price file is another model)."""
    h = hashlib.sha256()
    for field in ("open", "high", "low", "close", "volume"):
        h.update(np.ascontiguousarray(getattr(market, field), dtype=float).tobytes())
    h.update("|".join(t.isoformat() for t in market.index).encode())
    return h.hexdigest()


def _reporter(ctx, episodes: int):
    def on_episode(episode: int, reward: float) -> bool:
        ctx.progress(episode + 1, episodes, unit="episodes", message=f"mean reward {reward:.3g}")
        ctx.point(episode=episode + 1, reward=reward)
        return ctx.should_stop()

    return on_episode


def _thin(values: list[float], cap: int = CURVE_CAP) -> list[list[float]]:
    step = max(1, -(-len(values) // cap))
    return [
        [i + 1, round(v, 8)] for i, v in enumerate(values) if i % step == 0 or i == len(values) - 1
    ]
