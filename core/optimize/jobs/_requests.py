"""Optimization job requests: typed models, stored as plain JSON.

A page or a script submits a request; it is checked before it is stored (method,
objective, ranges, strategies).

A request is one of the :data:`JobRequest` union, told apart by its ``method`` (``grid``,
``random``, ``mcmc``, ``de``, ``bayes``), or an :class:`AllocationRequest` when it carries an
``allocation``. :func:`make_request` and :func:`make_allocation_request` build and check one
and return its JSON (what :meth:`~core.optimize.jobs.JobStore.submit` stores);
:func:`parse_request` reads a stored one back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from core.backtest import BacktestConfig
from core.errors import InvalidInputError, describe_validation
from core.optimize._objective import Comparison, Objective
from core.optimize._space import SearchSpace
from core.optimize.jobs._run import METHODS
from core.strategies import get_strategy

Method = Literal["grid", "random", "mcmc", "de", "bayes"]


class InvalidRequest(InvalidInputError):
    """A job request refused before it is stored (invalid input): ``where: what is wrong``."""

    kind = "invalid_input"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObjectiveSpec(_Frozen):
    """What the search maximises: a metric (or weights) under constraints."""

    metric: str | dict[str, float] = "sharpe"
    constraints: dict[str, tuple[Comparison, float]] = {}


class WalkForwardSpec(_Frozen):
    """Walk-forward windows, in bars: ``train`` to optimise on, ``test`` to score on."""

    train: Annotated[int, Field(ge=2)]
    test: Annotated[int, Field(ge=2)]
    anchored: bool = False


class AllocationSpec(_Frozen):
    """The strategies × assets matrix to tune and weight."""

    strategies: tuple[str, ...]
    symbols: tuple[str, ...]
    train_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.7
    risk_aversion: Annotated[float, Field(ge=0)] = 1.0
    diversification: Annotated[float, Field(ge=0)] = 0.1


class _Request(_Frozen):
    """The fields every job request has (stored in this order)."""

    config: BacktestConfig
    method: Method
    objective: ObjectiveSpec = ObjectiveSpec()
    ranges: dict[str, list[float]] = {}
    trials: Annotated[int, Field(ge=1)] = 200
    seed: int = 0
    scheduler: str | None = None
    walk_forward: WalkForwardSpec | None = None
    fixed: dict[str, Any] = {}


class GridRequest(_Request):
    """Every point of the (stepped) ranges; refused when it has more points than ``trials``."""

    method: Literal["grid"] = "grid"


class RandomRequest(_Request):
    """``trials`` points drawn from the ranges with ``seed``."""

    method: Literal["random"] = "random"


class MCMCRequest(_Request):
    """Metropolis–Hastings chains over the ranges (``trials`` steps in all)."""

    method: Literal["mcmc"] = "mcmc"


class DERequest(_Request):
    """Differential evolution within ``trials`` evaluations."""

    method: Literal["de"] = "de"


class BayesRequest(_Request):
    """Optuna's TPE, one point at a time, its study kept beside the database."""

    method: Literal["bayes"] = "bayes"


class AllocationRequest(_Request):
    """Tune each strategy on each asset with ``method``, then weight the matrix."""

    allocation: AllocationSpec


def _kind(value: Any) -> str | None:
    """The tag of a request: ``allocation`` when it has one, else its method."""
    get = value.get if isinstance(value, Mapping) else lambda k: getattr(value, k, None)
    return "allocation" if get("allocation") else get("method")


JobRequest = Annotated[
    Annotated[GridRequest, Tag("grid")]
    | Annotated[RandomRequest, Tag("random")]
    | Annotated[MCMCRequest, Tag("mcmc")]
    | Annotated[DERequest, Tag("de")]
    | Annotated[BayesRequest, Tag("bayes")]
    | Annotated[AllocationRequest, Tag("allocation")],
    Discriminator(_kind),
]
"""A job request, told apart by its method (or by its ``allocation``)."""

_ADAPTER: TypeAdapter = TypeAdapter(JobRequest)


def parse_request(raw: Mapping[str, Any]) -> _Request:
    """A stored request as its typed model.

    Parameters
    ----------
    raw : mapping
        The request's JSON, as :func:`make_request` made it.

    Returns
    -------
    GridRequest, RandomRequest, MCMCRequest, DERequest, BayesRequest or AllocationRequest
        The model its method (or its allocation) selects; pydantic's ``ValidationError``
        when it does not fit.
    """
    return _ADAPTER.validate_python(dict(raw))


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` validated as a job request, as its JSON."""
    try:
        request = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise InvalidRequest(describe_validation(exc, "optimization request")) from None
    return request.model_dump(mode="json")


def make_request(
    config: BacktestConfig,
    *,
    method: str = "grid",
    metric: str = "sharpe",
    constraints: Mapping[str, tuple[str, float]] | None = None,
    ranges: Mapping[str, tuple[float, ...]] | None = None,
    trials: int = 200,
    seed: int = 0,
    scheduler: str | None = None,
    walk_forward: Mapping[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A job request (plain JSON), checked: the method, the objective and the ranges.

    ``scheduler`` is the address of a Dask scheduler to evaluate on (default: a local
    process pool in the worker). ``walk_forward`` (``train`` and ``test`` in bars,
    ``anchored``) runs a walk-forward optimisation instead of one search. ``fixed``
    parameters keep their value and are not searched.
    """
    if method not in METHODS:
        raise InvalidRequest(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if trials < 1:
        raise InvalidRequest("trials must be at least 1")
    objective = Objective(metric=metric, constraints=dict(constraints or {}))
    ranges = {k: [float(v) for v in r] for k, r in (ranges or {}).items()}
    fixed = dict(fixed or {})
    SearchSpace.from_params(get_strategy(config.strategy).Params, overrides=ranges, fixed=fixed)
    if walk_forward is not None:
        train, test = int(walk_forward["train"]), int(walk_forward["test"])
        if train < 2 or test < 2:
            raise InvalidRequest("walk-forward train and test windows need at least 2 bars each")
        walk_forward = {
            "train": train,
            "test": test,
            "anchored": bool(walk_forward.get("anchored")),
        }
    return _checked(
        {
            "config": config,
            "method": method,
            "objective": {"metric": objective.metric, "constraints": objective.constraints},
            "ranges": ranges,
            "trials": int(trials),
            "seed": int(seed),
            "scheduler": (scheduler or "").strip() or None,
            "walk_forward": walk_forward,
            "fixed": fixed,
        }
    )


def make_allocation_request(
    base: BacktestConfig,
    strategies: list[str],
    symbols: list[str],
    *,
    method: str = "random",
    metric: str = "sharpe",
    trials: int = 50,
    seed: int = 0,
    train_fraction: float = 0.7,
    risk_aversion: float = 1.0,
    diversification: float = 0.1,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """A job request for :func:`~core.optimize.optimize_allocation` (plain JSON), checked."""
    if not strategies or not symbols:
        raise InvalidRequest("pick at least one strategy and one asset")
    for name in strategies:
        if get_strategy(name).multi_asset:
            raise InvalidRequest(f"{name} trades several assets at once; pick one-asset strategies")
    if not 0 < train_fraction < 1 or risk_aversion < 0 or diversification < 0:
        raise InvalidRequest("need 0 < train fraction < 1, risk aversion ≥ 0, diversification ≥ 0")
    request = make_request(base, method=method, metric=metric, trials=trials, seed=seed)
    request["scheduler"] = (scheduler or "").strip() or None
    request["allocation"] = {
        "strategies": list(strategies),
        "symbols": list(symbols),
        "train_fraction": float(train_fraction),
        "risk_aversion": float(risk_aversion),
        "diversification": float(diversification),
    }
    return _checked(request)


__all__ = [
    "AllocationRequest",
    "AllocationSpec",
    "BayesRequest",
    "DERequest",
    "GridRequest",
    "InvalidRequest",
    "JobRequest",
    "MCMCRequest",
    "ObjectiveSpec",
    "RandomRequest",
    "WalkForwardSpec",
    "make_allocation_request",
    "make_request",
    "parse_request",
]
