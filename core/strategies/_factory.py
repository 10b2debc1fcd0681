"""The one way to turn a strategy's name and parameters into a strategy.

:func:`validate_params` checks parameters against the strategy's params model and refuses
them as ``where: field: problem`` (:class:`InvalidParams`); :func:`build_strategy` builds the
strategy from them. The backtests, the optimizer and paper trading all build through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Protocol

from pydantic import TypeAdapter, ValidationError

from core.errors import (
    InvalidInputError,
    describe_validation,
    model_label,
    validation_problems,
)
from core.strategies._base import Strategy
from core.strategies._params import StrategyParams
from core.strategies._registry import get_strategy


class InvalidParams(InvalidInputError):
    """Parameters a strategy's params model refuses (invalid input).

    The message reads ``where: field: problem; field: problem``; ``problems`` holds the
    ``field: problem`` parts and ``field`` the first field at fault.
    """

    kind = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        problems: list[str] = (),
        unknown: bool = False,
    ):
        super().__init__(message, field)
        self.problems = list(problems)
        self.unknown = unknown  # True: ``field`` is no parameter of the strategy


def validate_params(
    name: str, params: Mapping[str, Any] | StrategyParams | None = None, *, where: str = ""
) -> StrategyParams:
    """Strategy ``name``'s parameters from ``params``, defaults filled in.

    Parameters
    ----------
    name : str
        A registered strategy name (see :func:`~core.strategies.registry`).
    params : mapping or StrategyParams, optional
        Parameter values; missing ones take their defaults, unknown ones are refused.
    where : str, optional
        The text before the colon of a refusal (default: the params model's name in
        words, e.g. ``sma crossover params``).

    Returns
    -------
    StrategyParams
        An instance of the strategy's ``Params`` model.

    Raises
    ------
    InvalidParams
        ``where: field: problem`` for each value the model refuses.
    KeyError
        When no strategy is named ``name`` (the message lists those available).
    """
    model = get_strategy(name).Params
    if isinstance(params, model):
        return params
    values = params.model_dump() if isinstance(params, StrategyParams) else dict(params or {})
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = [e["loc"] for e in exc.errors(include_url=False) if e.get("loc")]
        raise InvalidParams(
            describe_validation(exc, where or model_label(exc)),
            field=str(fields[0][0]) if fields else None,
            problems=validation_problems(exc),
        ) from None


def validate_field(name: str, key: str, value: Any) -> Any:
    """One parameter's value, checked by its field alone.

    Its bounds and type are checked, not the model's rules across fields: a fixed value may
    need a searched one to be feasible.

    Parameters
    ----------
    name : str
        A registered strategy name.
    key : str
        The parameter's name.
    value : Any
        Its value (``"5"`` or 5 for an integer field).

    Returns
    -------
    Any
        The value as the field holds it (``5`` for ``"5"``).

    Raises
    ------
    InvalidParams
        ``key: problem``; with ``unknown`` set when the strategy has no parameter ``key``.
    """
    model = get_strategy(name).Params
    if key not in model.model_fields:
        problem = (
            f"{name} has no parameter {key!r}; its parameters are {', '.join(model.model_fields)}"
        )
        raise InvalidParams(f"{key}: {problem}", field=key, problems=[problem], unknown=True)
    field = model.model_fields[key]
    try:
        return TypeAdapter(Annotated[field.annotation, field]).validate_python(value)
    except ValidationError as exc:
        problems = [str(e["msg"]) for e in exc.errors(include_url=False)]
        raise InvalidParams(
            f"{key}: " + "; ".join(problems), field=key, problems=problems
        ) from None


def build_strategy(
    name: str,
    params: Mapping[str, Any] | StrategyParams | None = None,
    *,
    models: ModelSource | None = None,
) -> Strategy:
    """Strategy ``name`` built from ``params`` (validated by :func:`validate_params`).

    Parameters
    ----------
    name : str
        A registered strategy name.
    params : mapping or StrategyParams, optional
        Parameter values; missing ones take their defaults.
    models : ModelSource, optional
        Where a strategy that trades a trained model (``needs_models``) gets it by id; the
        runner's composition root gives it (``ws.ml``). Other strategies ignore it.

    Returns
    -------
    Strategy
        A new instance of the strategy class.

    Raises
    ------
    InvalidParams
        When the params model refuses a value.
    KeyError
        When no strategy is named ``name``.
    """
    cls = get_strategy(name)
    if cls.needs_models:
        return cls(validate_params(name, params), models=models)
    return cls(validate_params(name, params))


class ModelSource(Protocol):
    """What a model-trading strategy reads: a scorer by model id (``core.ml.MLService`` fits)."""

    def scorer(self, model_id: str) -> Any: ...


__all__ = ["InvalidParams", "ModelSource", "build_strategy", "validate_field", "validate_params"]
