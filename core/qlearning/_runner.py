"""What the ``q_weights`` strategy does each bar: state, sleeves, weights, orders, online updates.

The strategy class (``core/strategies/builtin/q_weights.py``) holds only its parameters and
hands every bar to a :class:`QWeightsRunner`, so the same code trades in a backtest, in a
paper session and in the trainer's out-of-sample evaluation.

Online updates (``online=True``) learn from the sleeves' realised returns, measured on the
closes as ``direction × simple return`` per bar less ``cost_rate`` per unit of direction
change (the sleeves are virtual here, so their own backtests' equity is not available): a
greedy action each decision, no exploration.
"""

from __future__ import annotations

import math
from typing import Any

from core.errors import InvalidInputError
from core.models import model_id_for
from core.qlearning._agent import QModel
from core.qlearning._mixer import SleeveMixer
from core.qlearning._state import StateTracker
from core.strategies import ModelStore, require_models


class QWeightsRunner:
    """One q_weights run: the model (or fixed equal weights), the tracker and the mixer."""

    def __init__(self, model: QModel | None, strategies, params, *, online=False, save_every=20):
        self.model = model
        self.mixer = SleeveMixer(strategies, params)
        self.tracker = StateTracker(model.encoder) if model else None
        k = len(self.mixer.sleeves)
        self.weights = [1 / k] * k
        self.online, self.save_every = online and model is not None, save_every
        self.decisions: list[tuple[int, str | None, list[float]]] = []
        self.model_id = ""
        self.store: ModelStore | None = None
        self._since = -1  # bars since the first state (decision when % rebalance == 0)
        self._pending: tuple[str, int] | None = None  # (state, action) of the last decision
        self._period = [0.0] * k  # sleeves' realised returns since that decision
        self._prev_close = math.nan
        self._dirs = [0] * k

    @classmethod
    def build(
        cls,
        params,
        given: QModel | None = None,
        *,
        equal: bool = False,
        store: ModelStore | None = None,
    ) -> QWeightsRunner:
        """From q_weights parameters: the given model, the registry's ``model_id``, or none.

        ``equal``: the model's sleeves (with their parameters) at equal weights. ``store``: the
        runner's model source (reads ``model_id``; an online learner saves versions there).
        """
        model = given
        if model is None and params.model_id:
            store = require_models(store, "q_weights")
            model = QModel.from_bytes(store.read_artifact(params.model_id))
        if model is not None and equal:
            runner = cls(None, model.strategies, model.params)
        elif model is None:
            names = [s for s in params.strategies.split(",") if s]
            if not names:
                raise InvalidInputError(
                    "q_weights: give a model id or strategies", field="model_id"
                )
            runner = cls(None, names, [{}] * len(names))
        else:
            given_names = [s for s in params.strategies.split(",") if s]
            if given_names and given_names != model.strategies:
                raise InvalidInputError(
                    f"q_weights: the model trades {','.join(model.strategies)}, "
                    f"not {params.strategies}",
                    field="strategies",
                )
            runner = cls(
                model,
                model.strategies,
                model.params,
                online=params.online,
                save_every=params.save_every,
            )
        runner.model_id = params.model_id
        runner.store = store
        return runner

    def start(self, ctx) -> None:
        self.mixer.start(ctx)

    def on_bar(self, ctx) -> None:
        close = ctx.close()
        state = self.tracker.update(close) if self.tracker else None
        if self.online:
            self._accrue(close)
        dirs = self.mixer.step(ctx)
        if self.online:
            cost = self.model.cost_rate
            self._period = [
                p - cost * abs(d - o)
                for p, d, o in zip(self._period, dirs, self._dirs, strict=True)
            ]
        self._dirs = dirs
        if state is not None:
            self._since += 1
            if self._since % self.model.rebalance == 0:
                self._decide(ctx.i, state)
        self.mixer.trade(ctx, self.weights)

    def _decide(self, bar: int, state: str) -> None:
        model = self.model
        if self.online and self._pending is not None:
            self._learn(state)
        self._period = [0.0] * len(self._period)
        action = model.best_action(state)
        self.weights = model.weights(state)
        self._pending = None if action is None else (state, action)
        self.decisions.append((bar, state, list(self.weights)))

    def _accrue(self, close: float) -> None:
        prev, self._prev_close = self._prev_close, close
        if prev > 0 and close > 0:
            r = close / prev - 1
            self._period = [p + d * r for p, d in zip(self._period, self._dirs, strict=True)]

    def _learn(self, next_state: str) -> None:
        state, action = self._pending
        model = self.model
        weights = model.actions[action]
        r = sum(w * p for w, p in zip(weights, self._period, strict=True))
        r -= model.risk_aversion * r * r
        self.model = model.updated(state, action, r, next_state)
        if self.model.updates % self.save_every == 0:
            self._save()

    def _save(self) -> None:
        model = self.model
        root = model.parent or self.model_id
        model.parent = root
        payload: dict[str, Any] = {"kind": "qlearning", "parent": root, "q": model.digest()}
        new_id = model_id_for(payload)
        require_models(self.store, "q_weights").save(
            model_id=new_id,
            kind="qlearning",
            artifact=model.to_bytes(),
            fmt="json",
            suffix=".json",
            universe=[model.symbol] if model.symbol else [],
            spec={"parent": root, "online_updates": model.updates},
            name=f"q_weights online {root[:8]} +{model.updates}",
        )
        self.model_id = new_id
