"""``RLService`` (``ws.rl``): train PPO as a task, evaluate it out of sample, serve weights.

Given the market (closes of bundled and imported symbols) and the model registry (where
every artifact is written and hash-checked). Training: the request's data, split at
``train_end``; PPO learns on the training bars only; every policy is then evaluated on the
training span and on the later held-out span (:mod:`core.rl._report`); the SB3 zip is saved
to the registry with the report's figures. Models are loaded only from registry bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core._json import plain
from core.errors import InvalidInputError
from core.models import model_id_for
from core.rl._market import RLMarket, read_closes_file
from core.rl._policy import KIND, TrainedPolicy, policy_from
from core.rl._ppo import build_ppo, model_bytes, train_ppo
from core.rl._report import POLICIES, compare, curves, deflated, weights_table
from core.rl._settings import PPOTrainRequest
from core.rl._walkforward import walk_forward

CHECKPOINT_KIND = "ppo_checkpoint"
FMT = "sb3-zip"


class RLService:
    """PPO portfolio weights: training, out-of-sample comparison, weights from a model.

    Parameters
    ----------
    market : MarketDataService
        Bars of bundled and imported symbols (``has_symbol``, ``bars``, ``closes``).
    models : ModelRegistry
        Where artifacts are saved and read back after their hash check.
    """

    def __init__(self, market, models):
        self._market = market
        self._models = models

    # -- data ------------------------------------------------------------------------------
    def market_for(self, request: PPOTrainRequest) -> RLMarket:
        """The request's opens and closes on common bars (from ``train_start`` on)."""
        if request.data:
            closes = read_closes_file(request.data)
            opens = closes
        else:
            unknown = [s for s in request.symbols if not self._market.has_symbol(s)]
            if unknown:
                raise InvalidInputError(
                    f"symbols: unknown symbol {', '.join(unknown)}", field="symbols"
                )
            bars = {s: self._market.bars(s) for s in request.symbols}
            closes = pd.DataFrame({s: b["close"] for s, b in bars.items()}).dropna()
            opens = pd.DataFrame({s: b["open"] for s, b in bars.items()})
        if request.train_start:
            closes = closes.loc[pd.Timestamp(request.train_start) :]
        if request.test_end:
            closes = closes.loc[
                : pd.Timestamp(request.test_end) + pd.Timedelta(days=1, microseconds=-1)
            ]
        if closes.empty:
            raise InvalidInputError("data: no common bars in the span asked", field="train_end")
        return RLMarket.from_frames(opens, closes)

    def spans(
        self, market: RLMarket, request: PPOTrainRequest
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        """Bar indices (first, last) of the training and the test span."""
        k = request.env.rebalance_every
        train_last = market.bar_at_or_before(request.train_end)
        if train_last < request.env.lookback + k:
            raise InvalidInputError(
                f"train_end: {train_last + 1} bars up to {request.train_end}; training needs "
                f"more than {request.env.lookback + k}",
                field="train_end",
            )
        if market.n_bars - 1 - train_last < k + 1:
            raise InvalidInputError(
                f"train_end: {market.n_bars - 1 - train_last} bars after {request.train_end}; "
                f"the test span needs at least {k + 1}",
                field="train_end",
            )
        return (0, train_last), (train_last, market.n_bars - 1)

    def validate(self, request: dict) -> dict:
        """The request checked without training (the task's submit check)."""
        parsed = PPOTrainRequest.model_validate(request)
        self.spans(self.market_for(parsed), parsed)
        return parsed.model_dump(mode="json")

    # -- training --------------------------------------------------------------------------
    def train(self, request: PPOTrainRequest, ctx=None) -> dict[str, Any]:
        """Train, evaluate out of sample, save; the report (JSON-safe, with ``model_id``)."""
        market = self.market_for(request)
        train, test = self.spans(market, request)
        spec = self._spec(request, market, train, test)
        model_id = self._id(spec)
        started = time.perf_counter()
        model = build_ppo(market, request.env, request.ppo, train, request.seed)
        trained = train_ppo(
            model,
            request.timesteps,
            ctx,
            checkpoint_every=request.checkpoint_every,
            save_checkpoint=lambda m, steps: self._checkpoint(m, steps, spec, market.symbols),
        )
        seconds = time.perf_counter() - started
        if trained.stopped:
            spec = {**spec, "stopped_at": trained.timesteps}
            model_id = self._id(spec)
        policy = TrainedPolicy(model_id, market.symbols, request.env, trained.model)
        runs = compare(policy, market, train, test)
        report = self._report(model_id, request, market, train, test, runs, trained, seconds)
        self._models.save(
            model_id=model_id,
            kind=KIND,
            artifact=model_bytes(trained.model),
            fmt=FMT,
            suffix=".zip",
            universe=market.symbols,
            spec=spec,
            folds=[report["split"]],
            metrics={k: report[k] for k in ("train", "test", "turnover", "deflated_sharpe")}
            | {"timesteps": trained.timesteps, "stopped": trained.stopped, "seconds": seconds},
            name=request.name or f"PPO {len(market.symbols)} assets, seed {request.seed}",
        )
        if request.walk_forward and not trained.stopped:
            report["walk_forward"] = walk_forward(request, market, test, policy, ctx)
        report["deflated_sharpe"] = self._deflated(model_id, spec, runs["test"]["ppo"].returns())
        self._models.update_metrics(model_id, {"deflated_sharpe": report["deflated_sharpe"]})
        return plain(report)

    def run_task(self, request: dict, ctx) -> dict[str, Any]:
        """The ``rl_train`` task handler: ``request`` is a :class:`PPOTrainRequest` as JSON."""
        return self.train(PPOTrainRequest.model_validate(request), ctx)

    def _spec(self, request, market, train, test) -> dict[str, Any]:
        day = lambda i: market.index[i].date().isoformat()  # noqa: E731
        data = (
            {"file": Path(request.data).name, "sha256": _file_sha(request.data)}
            if request.data
            else {"symbols": list(market.symbols)}
        )
        return {
            "kind": KIND,
            "universe": list(market.symbols),
            "data": data,
            "data_span": [day(train[0]), day(test[1])],
            "train": [day(train[0]), day(train[1])],
            "test": [day(test[0]), day(test[1])],
            "env": request.env.model_dump(mode="json"),
            "ppo": request.ppo.model_dump(mode="json"),
            "timesteps": request.timesteps,
            "seed": request.seed,
            "walk_forward": request.walk_forward,
        }

    @staticmethod
    def _id(spec: dict) -> str:
        return model_id_for(spec)

    def _checkpoint(self, model, steps: int, spec: dict, symbols) -> str:
        checkpoint_spec = {**spec, "checkpoint": steps}
        record = self._models.save(
            model_id=self._id(checkpoint_spec),
            kind=CHECKPOINT_KIND,
            artifact=model_bytes(model),
            fmt=FMT,
            suffix=".zip",
            universe=symbols,
            spec=checkpoint_spec,
            metrics={"timesteps": steps},
            name=f"checkpoint at {steps:,} timesteps",
        )
        return record.id

    def _report(self, model_id, request, market, train, test, runs, trained, seconds) -> dict:
        day = lambda i: market.index[i].date().isoformat()  # noqa: E731
        return {
            "model_id": model_id,
            "agent": "ppo",
            "symbols": list(market.symbols),
            "timesteps": trained.timesteps,
            "timesteps_requested": request.timesteps,
            "seed": request.seed,
            "stopped": trained.stopped,
            "seconds": round(seconds, 2),
            "steps_per_second": round(trained.timesteps / seconds, 1) if seconds else None,
            "split": {
                "train_start": day(train[0]),
                "train_end": day(train[1]),
                "test_start": day(test[0] + 1),
                "test_end": day(test[1]),
            },
            "train": {p: runs["train"][p].metrics() for p in POLICIES},
            "test": {p: runs["test"][p].metrics() for p in POLICIES},
            "turnover": {p: runs["test"][p].metrics()["turnover"] for p in POLICIES},
            "deflated_sharpe": {},
            "learning_curve": trained.curve,
            "checkpoints": trained.checkpoints,
            "test_curves": curves(runs["test"]),
            "test_weights": weights_table(runs["test"]["ppo"], market.symbols),
        }

    def _deflated(self, model_id: str, spec: dict, returns: np.ndarray) -> dict[str, Any]:
        """DSR among the PPO configurations recorded on the same universe and split."""
        trials = []
        for record in self._models.list(KIND):
            same = (
                record.spec.get("universe") == spec["universe"]
                and record.spec.get("train") == spec["train"]
                and record.spec.get("test") == spec["test"]
            )
            if same:
                trials.append(
                    ((record.metrics.get("test") or {}).get("ppo") or {}).get("sharpe_daily")
                )
        return deflated(returns, trials)

    # -- using a model -------------------------------------------------------------------
    def policy(self, model_id: str) -> TrainedPolicy:
        """The PPO of ``model_id``, loaded from registry bytes after their hash check."""
        return policy_from(self._models, model_id)

    def weights(self, model_id: str, as_of, symbols: Sequence[str], current=None) -> pd.Series:
        """Target weights of ``model_id`` at the close of ``as_of`` (data up to it only).

        Parameters
        ----------
        model_id : str
        as_of : date-like
            The decision date; bars after it are never read.
        symbols : sequence of str
            The model's universe (any order); the Series follows this order.
        current : mapping of str to float, optional
            Weights held now (default: all cash).

        Returns
        -------
        pandas.Series
            Weight per symbol, summing to at most 1 (the rest is cash).
        """
        policy = self.policy(model_id)
        wanted = [s.strip().upper() for s in symbols]
        if sorted(wanted) != sorted(policy.symbols):
            raise InvalidInputError(
                f"symbols: model {model_id} allocates over {', '.join(policy.symbols)}",
                field="symbols",
            )
        end = pd.Timestamp(as_of) + pd.Timedelta(days=1, microseconds=-1)
        closes = self._market.closes(list(policy.symbols), None, end).dropna()
        if len(closes) < policy.history_needed:
            raise InvalidInputError(
                f"as_of: {len(closes)} common closes up to {as_of}; the model needs "
                f"{policy.history_needed}",
                field="as_of",
            )
        held = np.zeros(len(policy.symbols) + 1)
        if current:
            held[:-1] = [float(current.get(s, 0.0)) for s in policy.symbols]
        held[-1] = max(0.0, 1.0 - held[:-1].sum())
        target = policy.target(closes.to_numpy(float)[-policy.history_needed :], held)
        series = pd.Series(target[:-1], index=list(policy.symbols), name=model_id)
        return series.reindex(wanted)

    def list(self) -> list[dict[str, Any]]:
        """The PPO models recorded, newest first (id, name, universe, test Sharpe)."""
        return [_card(r) for r in self._models.list(KIND)]

    def show(self, model_id: str) -> dict[str, Any]:
        """A PPO model's record: spec, split and metrics."""
        record = self._models.require(model_id)
        return plain(
            {**_card(record), "spec": record.spec, "folds": record.folds, "metrics": record.metrics}
        )


def _card(record) -> dict[str, Any]:
    test = record.metrics.get("test") or {}
    return plain(
        {
            "model_id": record.id,
            "name": record.name,
            "created_at": record.created_at,
            "universe": record.universe,
            "timesteps": record.metrics.get("timesteps"),
            "test_sharpe": {p: (test.get(p) or {}).get("sharpe") for p in POLICIES},
            "sha256": record.sha256,
        }
    )


def _file_sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
