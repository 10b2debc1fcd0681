"""Strategy parameters: declared once as a pydantic model, used everywhere.

Every field has a default, bounds (``ge``/``le``), a one-line description and, when it is
discrete, a ``step`` (``Field(json_schema_extra={"step": 1})``). The UI form, validation,
the optimizer's search space and persistence all derive from the model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ConfigDict

from core.errors import InvalidInputError


class StrategyParams(BaseModel):
    """Base of every parameters model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def digest(self) -> str:
        """A stable content hash of the parameter values."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ParamSpec:
    """One dimension of a strategy's parameter space."""

    name: str
    kind: str  # "int", "float", "bool", "choice" or "text" (not searchable)
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()


def param_space(model: type[StrategyParams]) -> list[ParamSpec]:
    """The parameter space declared by ``model``, in field order."""
    return [_spec(name, field) for name, field in model.model_fields.items()]


def _spec(name: str, field) -> ParamSpec:
    annotation = field.annotation
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    description = field.description or ""
    if annotation is bool:
        return ParamSpec(name, "bool", field.default, description)
    if annotation is str:
        return ParamSpec(name, "text", field.default, description)
    choices = getattr(annotation, "__args__", ())
    if choices and all(isinstance(c, str) for c in choices):
        return ParamSpec(name, "choice", field.default, description, choices=tuple(choices))
    low = high = None
    for meta in field.metadata:
        if isinstance(meta, Ge | Gt):
            low = meta.ge if isinstance(meta, Ge) else meta.gt
        if isinstance(meta, Le | Lt):
            high = meta.le if isinstance(meta, Le) else meta.lt
    kind = "int" if annotation is int else "float"
    step = extra.get("step", 1 if kind == "int" else None)
    return ParamSpec(name, kind, field.default, description, low, high, step)


def parse_overrides(model: type[StrategyParams], pairs: list[str]) -> StrategyParams:
    """Build parameters from ``key=value`` strings (the command line's ``--param``)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise InvalidInputError(f"--param expects key=value, got {pair!r}")
        values[key.strip()] = _coerce(raw.strip())
    return model.model_validate(values)


def _coerce(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
