"""The model registry: trained models, their metrics and their artifacts' hashes.

Every model the workstation trains (an XGBoost booster, a stable-baselines3 zip, a Q-table)
is recorded here: a row of ``ml_models`` says what defines the model, how it scored and where
its artifact lies under the models directory, with the artifact's sha256. An artifact is read
only through :meth:`ModelRegistry.read_artifact`, which checks the bytes against the recorded
hash before handing them out; callers load the model from those very bytes (never from the
path), so what was checked is what is loaded. A file the workstation did not record, or one
changed since, is never loaded: a stable-baselines3 zip carries cloudpickled objects, and a
pickle runs code.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core._json import plain
from core.db import ModelRow
from core.errors import InvalidInputError, NotFoundError

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ArtifactIntegrityError(InvalidInputError):
    """A model's artifact is missing or its bytes no longer hash to the recorded sha256."""


def model_id_for(payload: Mapping[str, Any]) -> str:
    """A model's id: 16 hex digits of the sha256 of ``payload``'s canonical JSON.

    Parameters
    ----------
    payload : mapping
        What defines the model (kind, features, label, parameters, data span, seed, universe);
        dates become ISO text, numpy scalars Python numbers.

    Returns
    -------
    str
        The same id for the same payload, whatever its key order.

    Raises
    ------
    InvalidInputError
        When the payload holds a non-finite number (it would not define one model).
    """
    _check_finite(payload, "payload")
    values = plain(payload)
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_finite(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_finite(item, f"{where}[{i}]")
    elif isinstance(value, numbers.Real) and not math.isfinite(float(value)):
        raise InvalidInputError("not a finite number", where=f"model id: {where}")


def sha256_of(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ModelRecord:
    """One registry row: what defines a model, its metrics, where its artifact lies."""

    id: str
    kind: str
    name: str
    created_at: datetime
    universe: list[str]
    spec: dict[str, Any]
    folds: list[dict[str, Any]]
    metrics: dict[str, Any]
    artifact: str
    sha256: str
    fmt: str
    size: int

    def card(self) -> dict[str, Any]:
        """The model card: every field, JSON-safe."""
        return plain(
            {
                "model_id": self.id,
                "kind": self.kind,
                "name": self.name,
                "created_at": self.created_at,
                "universe": self.universe,
                "spec": self.spec,
                "folds": self.folds,
                "metrics": self.metrics,
                "artifact": self.artifact,
                "sha256": self.sha256,
                "format": self.fmt,
                "size": self.size,
            }
        )


def _record(row: ModelRow) -> ModelRecord:
    return ModelRecord(
        id=row.id,
        kind=row.kind,
        name=row.name,
        created_at=row.created_at,
        universe=list(row.universe or []),
        spec=dict(row.spec or {}),
        folds=list(row.folds or []),
        metrics=dict(row.metrics or {}),
        artifact=row.artifact,
        sha256=row.sha256,
        fmt=row.fmt,
        size=int(row.size or 0),
    )


class ModelRegistry:
    """Trained models on one database, their artifacts under one directory.

    Parameters
    ----------
    sessions : sessionmaker
        The database's sessions (rows in ``ml_models``).
    models_dir : path
        Where artifacts are written (``<kind>/<id><suffix>``); created on the first save.
    """

    def __init__(self, sessions: sessionmaker[Session], models_dir: Path | str):
        self.sessions = sessions
        self.models_dir = Path(models_dir)

    def save(
        self,
        *,
        model_id: str,
        kind: str,
        artifact: bytes,
        fmt: str,
        suffix: str,
        universe: Sequence[str] = (),
        spec: Mapping[str, Any] | None = None,
        folds: Sequence[Mapping[str, Any]] = (),
        metrics: Mapping[str, Any] | None = None,
        name: str = "",
    ) -> ModelRecord:
        """Write ``artifact`` and record it; saving an id again replaces both.

        Parameters
        ----------
        model_id : str
            The model's id (see :func:`model_id_for`); letters, digits, ``_``, ``.``, ``-``.
        kind : str
            The model's kind (``xgboost``, ``ppo``, ``qlearning``), its folder.
        artifact : bytes
            The model in its library's own format (never a pickle of ours).
        fmt : str
            The format's name (``xgboost-ubj``, ``sb3-zip``, ``json``).
        suffix : str
            The file's suffix (``.ubj``, ``.zip``, ``.json``).
        universe, spec, folds, metrics, name
            What the card shows: the symbols, what defines the model, its walk-forward folds,
            its metrics (JSON-safe after :func:`core._json.plain`), a display name.

        Returns
        -------
        ModelRecord
            The recorded row.

        Raises
        ------
        InvalidInputError
            When the id, kind or suffix is not a safe file name or the artifact is empty.
        """
        for label, value in (("model_id", model_id), ("kind", kind)):
            if not isinstance(value, str) or not _SAFE.match(value):
                raise InvalidInputError(f"{value!r} is not a safe name", where=f"model: {label}")
        if not re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix):
            raise InvalidInputError(f"{suffix!r} is not a file suffix", where="model: suffix")
        if not isinstance(artifact, (bytes, bytearray)) or not artifact:
            raise InvalidInputError("the artifact is empty", where=f"model {model_id}")
        data = bytes(artifact)
        relative = f"{kind}/{model_id}{suffix}"
        self._write(self.models_dir / relative, data)
        row = ModelRow(
            id=model_id,
            kind=kind,
            name=name,
            created_at=datetime.now(UTC).replace(tzinfo=None),
            universe=[str(s) for s in universe],
            spec=plain(dict(spec or {})),
            folds=plain([dict(f) for f in folds]),
            metrics=plain(dict(metrics or {})),
            artifact=relative,
            sha256=sha256_of(data),
            fmt=fmt,
            size=len(data),
        )
        with self.sessions.begin() as session:
            session.merge(row)
        return self.require(model_id)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically (a temporary file renamed over it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, model_id: str) -> ModelRecord | None:
        """The record of ``model_id``, or None."""
        with self.sessions() as session:
            row = session.get(ModelRow, model_id)
            return None if row is None else _record(row)

    def require(self, model_id: str) -> ModelRecord:
        """The record of ``model_id``.

        Raises
        ------
        NotFoundError
            When no model has that id.
        """
        record = self.get(model_id)
        if record is None:
            raise NotFoundError(f"no model {model_id!r}", field="model_id", where="model")
        return record

    def list(self, kind: str | None = None) -> list[ModelRecord]:
        """The recorded models, newest first; only ``kind``'s when given."""
        query = select(ModelRow).order_by(ModelRow.created_at.desc(), ModelRow.id)
        if kind is not None:
            query = query.where(ModelRow.kind == kind)
        with self.sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    def read_artifact(self, model_id: str) -> bytes:
        """The bytes of ``model_id``'s artifact, after checking them against its sha256.

        Load the model from these bytes, not from the path.

        Raises
        ------
        NotFoundError
            When no model has that id.
        ArtifactIntegrityError
            When the file is missing, lies outside the models directory, or hashes otherwise.
        """
        record = self.require(model_id)
        root = self.models_dir.resolve()
        path = (self.models_dir / record.artifact).resolve()
        where = f"model {model_id}"
        if root not in path.parents:
            raise ArtifactIntegrityError("its artifact lies outside the models folder", where=where)
        try:
            data = path.read_bytes()
        except OSError:
            raise ArtifactIntegrityError(
                f"its artifact {record.artifact} is missing", where=where
            ) from None
        if sha256_of(data) != record.sha256:
            raise ArtifactIntegrityError(
                f"its artifact {record.artifact} was changed since it was saved (sha256 "
                f"{sha256_of(data)[:12]}…, recorded {record.sha256[:12]}…); it is not loaded",
                where=where,
            )
        return data

    def update_metrics(self, model_id: str, metrics: Mapping[str, Any]) -> None:
        """Merge ``metrics`` into the model's recorded metrics."""
        with self.sessions.begin() as session:
            row = session.get(ModelRow, model_id)
            if row is None:
                raise NotFoundError(f"no model {model_id!r}", field="model_id", where="model")
            row.metrics = {**(row.metrics or {}), **plain(dict(metrics))}

    def delete(self, model_id: str) -> None:
        """Forget ``model_id`` and remove its artifact (no error when there is none)."""
        record = self.get(model_id)
        with self.sessions.begin() as session:
            session.execute(delete(ModelRow).where(ModelRow.id == model_id))
        if record is not None:
            path = (self.models_dir / record.artifact).resolve()
            if self.models_dir.resolve() in path.parents:
                path.unlink(missing_ok=True)
