"""Walk-forward models in the registry (``ws.models``) and the scorer that loads them.

One training gives one record of kind ``xgboost`` (the parent: its artifact is a JSON
manifest of the feature set, the label, the feature names and each fold's span, id and
sha256, plus the report's series) and one record of kind ``xgboost-fold`` per fold, id
``<parent>-f<k>``, whose artifact is the booster in XGBoost's own UBJ format. Boosters are
loaded only from :meth:`~core.models.ModelRegistry.read_artifact` bytes, whose sha256 is
checked, never from a path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core._json import plain
from core.errors import InvalidInputError
from core.ml._features import compute_features
from core.ml._folds import predict
from core.ml._pipeline import Dataset, WalkForwardRun
from core.ml._spec import FeatureSet, MLTrainRequest
from core.models import ModelRegistry, model_id_for

PARENT_KIND = "xgboost"
FOLD_KIND = "xgboost-fold"


def identity(request: MLTrainRequest, dataset: Dataset) -> dict[str, Any]:
    """What the model id hashes: features, label, parameters, data span, seed, universe."""
    return plain(
        {
            "kind": PARENT_KIND,
            "features": request.features.model_dump(mode="json"),
            "label": request.label_spec.model_dump(mode="json"),
            "params": {
                "booster": request.model.model_dump(mode="json"),
                "walk_forward": {
                    "train": request.train,
                    "test": request.test,
                    "step": request.step_bars,
                    "window": request.window,
                    "tune_trials": request.tune_trials,
                },
                "nthread": request.nthread,
                "has_volume": dataset.universe.volume is not None,
            },
            "data_span": list(dataset.universe.span),
            "seed": request.seed,
            "universe": list(dataset.universe.symbols),
        }
    )


def save_walk_forward(
    models: ModelRegistry,
    request: MLTrainRequest,
    dataset: Dataset,
    run: WalkForwardRun,
    report: dict,
) -> str:
    """Save the fold boosters and the parent record; the parent's id."""
    spec = identity(request, dataset)
    model_id = model_id_for(spec)
    dates = dataset.universe.dates
    folds = []
    for fold, outcome, summary in zip(run.folds, run.outcomes, report["folds"], strict=True):
        fold_id = f"{model_id}-f{fold.k:03d}"
        span = {k: summary[k] for k in ("train_start", "train_end", "test_start", "test_end")}
        record = models.save(
            model_id=fold_id,
            kind=FOLD_KIND,
            artifact=outcome.booster,
            fmt="xgboost-ubj",
            suffix=".ubj",
            universe=list(dataset.universe.symbols),
            spec={"parent": model_id, "fold": fold.k, "params": outcome.params},
            folds=[span],
            metrics={"rank_ic": summary["rank_ic"], "seconds": summary["seconds"]},
            name=f"{request.name or model_id} fold {fold.k}",
        )
        folds.append({"k": fold.k, "id": fold_id, "sha256": record.sha256, **span})
    manifest = {
        "features": request.features.model_dump(mode="json"),
        "label": request.label_spec.model_dump(mode="json"),
        "feature_names": list(dataset.features.names),
        "has_volume": dataset.universe.volume is not None,
        "nthread": request.nthread,
        "folds": folds,
        "series": report.get("series", {}),
        "curves": report.get("curves", {}),
    }
    models.save(
        model_id=model_id,
        kind=PARENT_KIND,
        artifact=json.dumps(plain(manifest), sort_keys=True).encode(),
        fmt="json",
        suffix=".json",
        universe=list(dataset.universe.symbols),
        spec={**spec, "request": request.model_dump(mode="json")},
        folds=[{k: f[k] for k in f if k != "sha256"} for f in folds],
        metrics=summary_metrics(report),
        name=request.name
        or f"xgboost top-{request.top} h={request.horizon} {dates[0]:%Y}-{dates[-1]:%Y}",
    )
    return model_id


def summary_metrics(report: dict) -> dict:
    """The report without its long series (what the registry row keeps)."""
    skip = {"series", "curves", "folds", "feature_importance"}
    out = {k: v for k, v in report.items() if k not in skip}
    importance = report.get("feature_importance", {})
    out["feature_importance"] = {k: importance.get(k, {}) for k in ("gain", "shap")}
    return plain(out)


@dataclass
class Scorer:
    """Scores of a walk-forward model: each date by the newest fold tested from it or before.

    Built by :meth:`core.ml.MLService.scorer`; boosters are loaded on first use, from the
    registry's hash-checked bytes.
    """

    model_id: str
    features: FeatureSet
    names: tuple[str, ...]
    has_volume: bool
    folds: list[dict]
    _models: ModelRegistry = field(repr=False)
    _boosters: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def lookback(self) -> int:
        """Bars of history a score at t reads (t − lookback + 1 … t)."""
        return self.features.lookback

    @property
    def first_date(self) -> pd.Timestamp:
        """The first date a fold model exists for."""
        return pd.Timestamp(self.folds[0]["test_start"])

    def fold_for(self, when) -> dict | None:
        """The newest fold whose test window starts on or before ``when`` (None: none yet)."""
        day = pd.Timestamp(when).normalize()
        chosen = None
        for fold in self.folds:
            if pd.Timestamp(fold["test_start"]) <= day:
                chosen = fold
        return chosen

    def booster(self, fold: dict):
        """The fold's booster, from the registry's checked bytes (cached)."""
        if fold["id"] not in self._boosters:
            import xgboost as xgb

            booster = xgb.Booster()
            booster.load_model(bytearray(self._models.read_artifact(fold["id"])))
            booster.set_param({"nthread": 1})  # one thread: scoring a date is a few rows
            self._boosters[fold["id"]] = booster
        return self._boosters[fold["id"]]

    def score(self, close: np.ndarray, when, volume: np.ndarray | None = None) -> np.ndarray | None:
        """Scores of the symbols (columns) on the last row of ``close`` (a date ``when``).

        Parameters
        ----------
        close, volume : ndarray of shape (n_bars, n_symbols)
            History up to and including ``when`` (at least :attr:`lookback` bars are used).
        when : date-like
            The date of the last row; picks the fold.

        Returns
        -------
        ndarray of shape (n_symbols,) or None
            None when no fold was trained before ``when``.
        """
        fold = self.fold_for(when)
        if fold is None:
            return None
        tail = close[-self.lookback :]
        vol = volume[-self.lookback :] if (self.has_volume and volume is not None) else None
        if self.has_volume and vol is None:
            raise InvalidInputError(f"model {self.model_id}: trained with volume; give volumes")
        panel = compute_features(tail, self.features, vol, last_only=True)
        return predict(self.booster(fold), panel.values[-1], self.names, 1)


def load_scorer(models: ModelRegistry, model_id: str) -> Scorer:
    """The :class:`Scorer` of a saved walk-forward model (NotFoundError when there is none)."""
    record = models.require(model_id)
    if record.kind != PARENT_KIND:
        raise InvalidInputError(
            f"model {model_id}: a {record.kind} record, not a walk-forward XGBoost model",
            field="model_id",
        )
    manifest = json.loads(models.read_artifact(model_id))
    return Scorer(
        model_id,
        FeatureSet.model_validate(manifest["features"]),
        tuple(manifest["feature_names"]),
        bool(manifest["has_volume"]),
        list(manifest["folds"]),
        models,
    )
