"""Adapters from the ML and RL labs to the autopilot's :class:`Scorer` / :class:`Weighter`.

The labs' services (``ws.ml``, ``ws.rl``) are used only through the calls they publish:

* ``ml.predict(model_id, as_of, symbols) -> Series`` (a score per symbol, data up to as_of);
* ``rl.weights(model_id, as_of, symbols) -> Series`` (target weights summing to ≤ 1);
* ``ml.train(request) -> {"model_id": ...}`` and ``rl.train(request) -> {"model_id": ...}``.

:class:`RegistryModels` resolves, for a day, the newest model of each kind in the registry
(``ws.models``) whose training data ends on or before that day (a model trained later would
look ahead). A model whose training ended more than ``max_age_days`` before the day is stale.
A missing or stale model is retrained on data up to the day when a :class:`Trainer` is
given (the walk-forward of ``autopilot backtest`` and a run use this same code), else the
generator falls back and the note says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Protocol

import pandas as pd

from core.autopilot._generators import MODEL_ERRORS, Models
from core.errors import NotFoundError

END_KEYS = ("end", "train_end", "end_date", "as_of")


class Predictor(Protocol):
    """The ML lab's prediction call."""

    def predict(self, model_id: str, as_of, symbols=None) -> pd.Series: ...


class Allocator(Protocol):
    """The RL lab's weights call."""

    def weights(self, model_id: str, as_of, symbols) -> pd.Series: ...


class Catalog(Protocol):
    """The model registry's listing (``ModelRegistry`` fits)."""

    def list(self, kind: str | None = None) -> list: ...


class Trainer(Protocol):
    """Trains a model of ``kind`` (``"ml"`` or ``"rl"``) on data up to ``end``; its id."""

    def train(self, kind: str, end: date, symbols: Sequence[str]) -> str: ...


class ServiceScorer:
    """A :class:`~core.autopilot.Scorer` on ``ml.predict`` with one model."""

    def __init__(self, ml: Predictor, model_id: str):
        self._ml, self.model_id = ml, model_id

    def score(self, as_of: date, symbols: Sequence[str]) -> pd.Series:
        """The model's scores on ``as_of``."""
        return self._ml.predict(self.model_id, as_of, list(symbols))


class ServiceWeighter:
    """A :class:`~core.autopilot.Weighter` on ``rl.weights`` with one model.

    The policy allocates over its own universe (``universe``; the symbols asked when empty).
    Its weights are kept on the symbols asked (the ML top N) and rescaled so they add up to
    what the policy invests in its whole universe: the policy decides how much is invested
    and how the picks are tilted, the ML model which names are held. When the policy gives
    the picks nothing, they share its invested total equally.
    """

    def __init__(self, rl: Allocator, model_id: str, universe: Sequence[str] = ()):
        self._rl, self.model_id, self.universe = rl, model_id, tuple(universe)

    def weights(self, as_of: date, symbols: Sequence[str]) -> pd.Series:
        """The policy's weights on ``as_of``, restricted to ``symbols``."""
        wanted = list(symbols)
        full = pd.Series(self._rl.weights(self.model_id, as_of, list(self.universe or wanted)))
        full = full.astype(float).clip(lower=0.0)
        invested = float(full.sum())
        picked = full.reindex(wanted).fillna(0.0)
        if picked.sum() <= 0:
            return pd.Series(invested / len(wanted), index=wanted)
        return picked * (invested / float(picked.sum()))


def train_end(record: Any, as_of: date | None = None) -> date | None:
    """The last day of data the model a record stands for was trained on (None: unknown).

    A walk-forward record (folds with ``test_start`` and ``train_end``, the ML lab's) is used
    on ``as_of`` through its newest fold tested from ``as_of`` or before: that fold's
    ``train_end`` (None when no fold is in force yet). Otherwise, from its ``spec``: the end
    of ``train`` (the RL lab's ``[start, end]``), then ``end``, ``train_end``, ``end_date``,
    ``as_of``, then the end of ``data_span``.
    """
    folds = [f for f in list(getattr(record, "folds", []) or []) if isinstance(f, dict)]
    if folds and all("test_start" in f and "train_end" in f for f in folds):
        day = pd.Timestamp(as_of) if as_of is not None else None
        live = [f for f in folds if day is None or pd.Timestamp(f["test_start"]) <= day]
        return _day(live[-1]["train_end"]) if live else None
    spec = dict(getattr(record, "spec", {}) or {})
    values = []
    for key in ("train", "data_span"):
        span = spec.get(key)
        if isinstance(span, list | tuple) and span:
            values.append((key, span[-1]))
    ordered = [v for k, v in values if k == "train"] + [spec.get(k) for k in END_KEYS]
    ordered += [v for k, v in values if k == "data_span"]
    for value in ordered:
        day = _day(value)
        if day is not None:
            return day
    return None


def _day(value) -> date | None:
    if not value:
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return None


class RegistryModels:
    """Resolves the ML scorer and RL weighter fresh on a day (see the module doc)."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        ml: Predictor | None = None,
        rl: Allocator | None = None,
        trainer: Trainer | None = None,
        max_age_days: int = 190,
        kinds: tuple[str, str] = ("xgboost", "ppo"),
    ):
        self._catalog = catalog
        self._ml, self._rl, self._trainer = ml, rl, trainer
        self.max_age_days = max_age_days
        self.kinds = kinds

    def resolve(self, as_of: date, symbols: Sequence[str]) -> Models:
        """The :class:`~core.autopilot.Models` for ``as_of``."""
        ml_id, ml_note = (
            (None, "no ML service")
            if self._ml is None
            else self._pick("ml", self.kinds[0], as_of, symbols)
        )
        rl_id, rl_note = (
            (None, "no RL service")
            if self._rl is None
            else self._pick("rl", self.kinds[1], as_of, symbols)
        )
        ids = {k: v for k, v in (("ml", ml_id), ("rl", rl_id)) if v}
        return Models(
            scorer=ServiceScorer(self._ml, ml_id) if ml_id else None,
            weighter=ServiceWeighter(self._rl, rl_id, self._universe(rl_id)) if rl_id else None,
            scorer_note=ml_note,
            weighter_note=rl_note,
            ids=ids,
        )

    def _universe(self, model_id: str) -> tuple[str, ...]:
        for record in self._catalog.list(self.kinds[1]):
            if record.id == model_id:
                return tuple(getattr(record, "universe", ()) or ())
        return ()

    def _pick(self, role: str, kind: str, as_of: date, symbols) -> tuple[str | None, str]:
        usable = [(train_end(r, as_of), r) for r in self._catalog.list(kind)]
        usable = [(end, r) for end, r in usable if end is not None and end <= as_of]
        if usable:
            end, record = max(usable, key=lambda er: (er[0], er[1].id))
            age = (as_of - end).days
            if age <= self.max_age_days:
                return record.id, f"{kind} model {record.id} trained to {end}"
            note = f"stale {kind} model {record.id}: trained to {end}, {age} days before {as_of}"
        else:
            note = f"no {kind} model trained on data up to {as_of}"
        if self._trainer is None:
            return None, note
        try:
            return self._trainer.train(role, as_of, symbols), f"{note}; retrained to {as_of}"
        except MODEL_ERRORS as exc:
            return None, f"{note}; retraining failed ({exc})"


class ServiceTrainer:
    """A :class:`Trainer` on ``ml.train`` / ``rl.train`` with requests built by callables.

    ``ml_request(end, symbols)`` and ``rl_request(end, symbols)`` build the labs' request
    objects (the composition root gives them); each training returns ``{"model_id": ...}``.
    """

    def __init__(
        self,
        ml: Any = None,
        rl: Any = None,
        *,
        ml_request: Callable[[date, Sequence[str]], Any] | None = None,
        rl_request: Callable[[date, Sequence[str]], Any] | None = None,
    ):
        self._services = {"ml": (ml, ml_request), "rl": (rl, rl_request)}

    def train(self, kind: str, end: date, symbols: Sequence[str]) -> str:
        """Train and return the new model's id."""
        service, build = self._services[kind]
        if service is None or build is None:
            raise NotFoundError(f"no {kind} trainer", where="autopilot")
        return str(service.train(build(end, symbols))["model_id"])
