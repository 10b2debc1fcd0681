"""The ML lab's use cases (``ws.ml``): train a walk-forward model, score with it, list, show.

:meth:`MLService.train` is the one training path; the task handler (:meth:`run_task`, kind
``ml_train``), the command line and the autopilot all call it. A training always saves its
models in the registry (the same inputs give the same id, so training again replaces them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from core._json import plain
from core.errors import InvalidInputError, describe_validation, model_label
from core.marketdata import MarketDataService
from core.ml._data import Universe, load_universe
from core.ml._evaluate import daily_ic
from core.ml._report import train_and_evaluate
from core.ml._spec import INDEX_BENCHMARK, MLTrainRequest
from core.ml._store import PARENT_KIND, Scorer, load_scorer, save_walk_forward
from core.models import ModelRegistry


def parse_request(request: Mapping[str, Any] | MLTrainRequest) -> MLTrainRequest:
    """``request`` as an :class:`MLTrainRequest` (InvalidInputError ``ml train: field: …``)."""
    if isinstance(request, MLTrainRequest):
        return request
    try:
        return MLTrainRequest.model_validate(dict(request))
    except ValidationError as exc:
        raise InvalidInputError(describe_validation(exc, model_label(exc))) from None


class MLService:
    """Walk-forward XGBoost stock selection on the market data, models in the registry.

    Parameters
    ----------
    market : MarketDataService
        Bars of the universe and of the index benchmark.
    models : ModelRegistry
        Where models are saved and loaded (hash-checked).
    """

    def __init__(self, market: MarketDataService, models: ModelRegistry):
        self.market, self.models = market, models

    # -- training --------------------------------------------------------------------------
    def validate(self, request: Mapping[str, Any]) -> dict:
        """The normalized request (the task's validator: a bad request is refused at submit)."""
        parsed = parse_request(request)
        for symbol in parsed.universe:
            if not self.market.has_symbol(symbol):
                raise InvalidInputError(
                    f"ml train: symbols: no data for {symbol!r}", field="symbols"
                )
        return parsed.model_dump(mode="json")

    def universe(self, request: MLTrainRequest) -> Universe:
        """The bars ``request`` trains on (nothing after ``request.end``)."""
        return load_universe(
            self.market, request.universe, request.data_file, request.start, request.end
        )

    def train(self, request: MLTrainRequest | Mapping[str, Any], ctx=None) -> dict:
        """Train, evaluate on the test folds, save; the report (with ``model_id``).

        Parameters
        ----------
        request : MLTrainRequest or mapping
        ctx : core.tasks.TaskContext, optional
            Progress by fold and tree, the fold Rank ICs as curve points, and Cancel
            (a run stopped after some folds reports and saves those folds, ``stopped`` True).

        Returns
        -------
        dict
            ``model_id``, ``folds``, ``ic``, ``rank_ic``, ``icir``, ``rank_icir``,
            ``rank_ic_tstat``, ``quantile_returns``, ``top_n``, ``benchmark``, ``index``,
            ``feature_importance``, ``canaries`` and more (see :mod:`core.ml._report`).
        """
        request = parse_request(request)
        universe = self.universe(request)
        index = self._index_close(universe)
        trees = request.model.n_estimators
        executor = None
        if request.workers > 1 or request.scheduler:
            from core.optimize import make_executor  # the optimizer's executor: pool or Dask

            executor = make_executor(request.workers, request.scheduler)

        def progress(done: int, total: int, tree: int) -> None:
            if ctx is not None:
                where = f"fold {done + 1}/{total}: tree {tree}/{trees}" if tree else f"{done} folds"
                ctx.progress(done, total, unit="folds", message=where)

        def on_fold(dataset, fold, outcome) -> None:
            if ctx is not None:
                scores = outcome.predictions.reshape(-1, len(universe.symbols))
                _, ric = daily_ic(scores, dataset.forward[fold.test_start : fold.test_end])
                ctx.point(
                    fold=fold.k, rank_ic=float(np.nanmean(ric)) if np.isfinite(ric).any() else 0.0
                )

        try:
            report, dataset, run = train_and_evaluate(
                universe,
                request,
                executor=executor,
                index_close=index,
                progress=progress,
                should_stop=ctx.should_stop if ctx is not None else None,
                on_fold=on_fold,
            )
        finally:
            if executor is not None:
                executor.close()
        began = time.perf_counter()
        model_id = save_walk_forward(self.models, request, dataset, run, report)
        report["timings"]["save_s"] = time.perf_counter() - began
        return plain(
            {
                "model_id": model_id,
                "name": self.models.require(model_id).name,
                "universe": list(universe.symbols),
                "span": list(universe.span),
                **report,
            }
        )

    def run_task(self, request: dict, ctx) -> dict:
        """The ``ml_train`` task handler: :meth:`train` with the task's progress and Cancel."""
        return self.train(parse_request(request), ctx)

    def _index_close(self, universe: Universe) -> pd.Series | None:
        try:
            return self.market.bars(INDEX_BENCHMARK)["close"]
        except (KeyError, LookupError):
            return None

    # -- using models ----------------------------------------------------------------------
    def scorer(self, model_id: str) -> Scorer:
        """The scorer of a saved model (what ``ml_selection`` trades with)."""
        return load_scorer(self.models, model_id)

    def predict(self, model_id: str, as_of, symbols=None) -> pd.Series:
        """Score per symbol on ``as_of`` from data up to ``as_of`` only.

        Parameters
        ----------
        model_id : str
            A walk-forward model (kind ``xgboost``).
        as_of : date-like
            The scoring date: the newest fold tested from it or before scores the last bar
            on or before it.
        symbols : sequence of str, optional
            Symbols to score (default the model's universe); ranks are across these.

        Returns
        -------
        pandas.Series
            Score per symbol (higher: expected to do better), sorted descending; named by the
            date of the bar scored.
        """
        scorer = self.scorer(model_id)
        record = self.models.require(model_id)
        chosen = tuple(s.strip().upper() for s in (symbols or record.universe))
        day = pd.Timestamp(as_of)
        if scorer.fold_for(day) is None:
            raise InvalidInputError(
                f"ml predict: {day.date()} is before the model's first fold "
                f"({scorer.first_date.date()}): no fold was trained before it",
                field="as_of",
            )
        universe = load_universe(self.market, chosen, end=day.date())
        scores = scorer.score(universe.close, universe.dates[-1], universe.volume)
        series = pd.Series(scores, index=list(universe.symbols), name=universe.dates[-1].date())
        return series.sort_values(ascending=False)

    def list(self) -> list[dict]:
        """Saved walk-forward models, newest first (id, name, universe, span, headline metrics)."""
        out = []
        for r in self.models.list(PARENT_KIND):
            m = r.metrics
            out.append(
                plain(
                    {
                        "model_id": r.id,
                        "name": r.name,
                        "created_at": r.created_at,
                        "universe": r.universe,
                        "data_span": r.spec.get("data_span"),
                        "folds": len(r.folds),
                        "rank_ic": m.get("rank_ic"),
                        "rank_ic_tstat": m.get("rank_ic_tstat"),
                        "top_n_total_return": (m.get("top_n") or {}).get("total_return"),
                        "equal_weight_total_return": (m.get("benchmark") or {}).get("total_return"),
                    }
                )
            )
        return out

    def show(self, model_id: str) -> dict:
        """The model card: the registry record (spec, folds, metrics, artifact, sha256)."""
        return self.models.require(model_id).card()

    def series(self, model_id: str) -> dict:
        """The saved series of a model (daily ICs, equity curves) from its manifest."""
        manifest = json.loads(self.models.read_artifact(model_id))
        return {"series": manifest.get("series", {}), "curves": manifest.get("curves", {})}
