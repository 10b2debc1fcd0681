"""The search space of an optimisation: one numeric dimension per searchable parameter.

A point of the space is a float vector of shape ``(n_dims,)`` in *value coordinates*:
an ``int`` or ``float`` dimension holds the parameter's value, a ``bool`` holds 0 or 1 and
a ``choice`` holds the index of the chosen string. A dimension with a ``step`` only takes
the values ``low + k * step`` (``k = 0, 1, …`` up to ``high``); a float dimension without
a step is continuous on ``[low, high]``. Text parameters, and parameters pinned by the
caller, are not dimensions: they are *fixed* and added back by :meth:`SearchSpace.to_params`.

Feasibility is the parameters model's own: a point is infeasible when
``Params.model_validate`` rejects it (out of the declared bounds, or a model validator such
as "fast must be shorter than slow"). Optimisers score infeasible points as ``-inf``
without evaluating them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from core.errors import InvalidInputError
from core.strategies import param_space

KINDS = ("int", "float", "bool", "choice")
"""The kinds of searchable dimensions."""


class GridTooLarge(InvalidInputError):
    """A grid with more points than allowed: ``size`` points, at most ``limit``."""

    def __init__(self, size: int, limit: int, message: str):
        super().__init__(message, field="trials")
        self.size, self.limit = size, limit


@dataclass(frozen=True)
class Dimension:
    """One searchable parameter.

    Parameters
    ----------
    name : str
        The parameter's name in the params model.
    kind : {"int", "float", "bool", "choice"}
        How a coordinate is turned back into a parameter value (:meth:`decode`).
    low, high : float
        Inclusive bounds in value coordinates (``0, 1`` for a bool, ``0, k - 1`` for
        ``k`` choices).
    step : float or None
        Spacing of the allowed values from ``low``; ``None`` only for a continuous float.
    choices : tuple
        The values of a ``choice`` dimension, indexed by its coordinate.
    default : float or None
        The model's default in value coordinates, when it lies in the space.
    """

    name: str
    kind: str
    low: float
    high: float
    step: float | None = None
    choices: tuple[Any, ...] = ()
    default: float | None = None
    _decimals: int = field(init=False, repr=False, compare=False)
    _top: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInputError(f"{self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise InvalidInputError(f"{self.name}: need finite bounds low <= high")
        if self.step is None and self.kind != "float":
            raise InvalidInputError(f"{self.name}: a {self.kind} dimension needs a step")
        if self.step is not None and not self.step > 0:
            raise InvalidInputError(f"{self.name}: step must be positive")
        if self.kind == "int" and (self.low % 1 or self.step % 1):
            raise InvalidInputError(f"{self.name}: an int dimension needs integer low and step")
        places = [_places(v) for v in (self.low, self.step) if v is not None]
        object.__setattr__(self, "_decimals", max(places))
        top = self.high if self.step is None else self.low + (self.n_values - 1) * self.step
        object.__setattr__(self, "_top", self._tidy(top))

    @property
    def discrete(self) -> bool:
        """True when the dimension only takes the values on its steps."""
        return self.step is not None

    @property
    def n_values(self) -> int | None:
        """Number of allowed values (``None`` when continuous)."""
        if self.step is None:
            return None
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1

    @property
    def top(self) -> float:
        """The largest allowed value (``high`` itself, or the last step below it)."""
        return self._top

    @property
    def span(self) -> float:
        """Width of the range, at least one step: the scale of random-walk proposals."""
        return max(self.top - self.low, self.step or 0.0)

    def values(self) -> np.ndarray:
        """The allowed values, shape ``(n_values,)``; raises for a continuous dimension."""
        if self.step is None:
            raise InvalidInputError(f"{self.name} is continuous; give it a step to grid it")
        return self._tidy(self.low + self.step * np.arange(self.n_values))

    def round(self, x: np.ndarray | float) -> np.ndarray:
        """Nearest allowed value(s) of ``x``, clipped to the bounds."""
        clipped = np.clip(np.asarray(x, dtype=float), self.low, self.top)
        if self.step is None:
            return clipped
        return self._tidy(self.low + np.round((clipped - self.low) / self.step) * self.step)

    def contains(self, x: float) -> bool:
        """True when ``x`` is inside the bounds (steps are not checked)."""
        tol = 1e-9 * max(1.0, abs(self.top - self.low))
        return self.low - tol <= x <= self.top + tol

    def decode(self, x: float) -> Any:
        """The parameter value of coordinate ``x`` (an int, float, bool or choice)."""
        return self._value(float(self.round(x)))

    def _value(self, x: float) -> Any:
        if self.kind == "int":
            return round(x)
        if self.kind == "bool":
            return bool(round(x))
        if self.kind == "choice":
            return self.choices[round(x)]
        return x

    def encode(self, value: Any) -> float:
        """The coordinate of parameter value ``value`` (inverse of :meth:`decode`)."""
        if self.kind == "choice":
            return float(self.choices.index(value))
        return float(value)

    def _tidy(self, x):
        """Round away float noise of ``low + k * step`` (e.g. 0.30000000000000004)."""
        return np.round(x, self._decimals) if np.ndim(x) else float(round(x, self._decimals))


def _places(value: float) -> int:
    """Decimal places needed to write ``value`` (at most 12)."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return min(12, max(0, -int(exponent)))


class SearchSpace:
    """The dimensions an optimiser moves in, the fixed parameters and the model to validate.

    Parameters
    ----------
    dimensions : sequence of Dimension
        The searchable parameters, in order (the coordinates of a point).
    fixed : mapping, optional
        Parameters that keep one value (text parameters, pinned parameters).
    model : type of pydantic.BaseModel, optional
        The params model that decides feasibility; without it every point is feasible.
    """

    def __init__(
        self,
        dimensions: Sequence[Dimension],
        fixed: Mapping[str, Any] | None = None,
        model: type[BaseModel] | None = None,
    ):
        self.dimensions = tuple(dimensions)
        self.fixed = dict(fixed or {})
        self.model = model
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names) or set(names) & set(self.fixed):
            raise InvalidInputError("dimension and fixed names must be unique")
        dims = self.dimensions
        self._low = np.array([d.low for d in dims], dtype=float)
        self._top = np.array([d.top for d in dims], dtype=float)
        self._step = np.array([d.step or 1.0 for d in dims], dtype=float)
        self._discrete = np.array([d.discrete for d in dims], dtype=bool)
        self._scale = np.array([10.0**d._decimals for d in dims], dtype=float)
        self._names = [d.name for d in dims]
        self._plain = all(d.kind in ("int", "bool", "float") for d in dims)
        self._kinds = [d.kind for d in dims]

    @classmethod
    def from_params(
        cls,
        model: type[BaseModel],
        overrides: Mapping[str, Sequence[float | None]] | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> SearchSpace:
        """The space of a strategy's params model.

        Parameters
        ----------
        model : type of StrategyParams
            Its fields give the dimensions (see :func:`core.strategies.param_space`).
        overrides : mapping of name to ``(low, high)`` or ``(low, high, step)``, optional
            Narrower ranges and other steps; ``step=None`` keeps the declared step (a
            float then stays continuous). ``low == high`` pins the parameter.
        fixed : mapping of name to value, optional
            Parameters that are not searched.

        Returns
        -------
        SearchSpace
            Ints with their steps, floats with or without a step, bools as ``{0, 1}``,
            choices as indices; text parameters fixed at their defaults.
        """
        overrides, fixed = dict(overrides or {}), dict(fixed or {})
        specs = {s.name: s for s in param_space(model)}
        unknown = (set(overrides) | set(fixed)) - set(specs)
        if unknown:
            raise InvalidInputError(
                f"{model.__name__} has no parameter {', '.join(sorted(unknown))}"
            )
        dims, pinned = [], {}
        for name, spec in specs.items():
            if name in fixed:
                pinned[name] = fixed[name]
            elif spec.kind == "text":
                pinned[name] = spec.default
            else:
                dim = _dimension(spec, overrides.get(name))
                if dim.low == dim.top:
                    pinned[name] = dim.decode(dim.low)
                else:
                    dims.append(dim)
        return cls(dims, pinned, model)

    # -- shape -------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    @property
    def n_dims(self) -> int:
        return len(self.dimensions)

    @property
    def size(self) -> int | None:
        """Number of grid points (``None`` when a dimension is continuous)."""
        counts = [d.n_values for d in self.dimensions]
        return None if None in counts else math.prod(counts)

    def bounds(self) -> list[tuple[float, float]]:
        """``(low, high)`` of every dimension, as ``scipy.optimize`` expects them."""
        return [(d.low, d.top) for d in self.dimensions]

    def default(self) -> np.ndarray | None:
        """The model's defaults as a point, shape ``(n_dims,)``; ``None`` if one is outside."""
        values = [d.default for d in self.dimensions]
        return None if None in values else np.array(values, dtype=float)

    # -- points ------------------------------------------------------------------------------
    def grid(self, max_points: int = 10_000) -> np.ndarray:
        """Every combination of allowed values (the first dimension varies slowest).

        Returns
        -------
        ndarray of shape (size, n_dims)

        Raises
        ------
        ValueError
            When a dimension is continuous or the grid has more than ``max_points`` points.
        """
        axes = [d.values() for d in self.dimensions]
        size = math.prod(len(a) for a in axes)
        if size > max_points:
            raise GridTooLarge(
                size,
                max_points,
                f"the grid has {size:,} points, more than max_points={max_points:,}; "
                "narrow the ranges or coarsen the steps",
            )
        if not axes:
            return np.empty((1, 0))
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.column_stack([m.ravel() for m in mesh])

    def sample(self, rng: np.random.Generator | int | None, n: int) -> np.ndarray:
        """``n`` points drawn uniformly: over the steps, or over ``[low, high]`` if continuous.

        Returns
        -------
        ndarray of shape (n, n_dims)
        """
        rng = np.random.default_rng(rng)
        columns = []
        for d in self.dimensions:
            if d.step is None:
                columns.append(rng.uniform(d.low, d.high, n))
            else:
                columns.append(d.round(d.low + d.step * rng.integers(0, d.n_values, n)))
        return np.column_stack(columns) if columns else np.empty((n, 0))

    def clip(self, x: np.ndarray) -> np.ndarray:
        """``x`` (shape ``(n_dims,)`` or ``(n, n_dims)``) clipped to the bounds."""
        return np.clip(np.asarray(x, dtype=float), self._low, self._top)

    def round(self, x: np.ndarray) -> np.ndarray:
        """``x`` (shape ``(n_dims,)`` or ``(n, n_dims)``) moved to the nearest allowed values."""
        clipped = np.minimum(np.maximum(np.asarray(x, dtype=float), self._low), self._top)
        stepped = self._low + np.round((clipped - self._low) / self._step) * self._step
        tidy = np.round(stepped * self._scale) / self._scale
        return np.where(self._discrete, tidy, clipped)

    def contains(self, x: np.ndarray) -> bool:
        """True when every coordinate of ``x`` (shape ``(n_dims,)``) is inside its bounds."""
        tol = 1e-9 * np.maximum(1.0, self._top - self._low)
        return bool(np.all((x >= self._low - tol) & (x <= self._top + tol)))

    def to_params(self, x: np.ndarray) -> dict[str, Any]:
        """The parameters of point ``x`` (shape ``(n_dims,)``), fixed ones included."""
        return self._decode(self.round(x))

    def _decode(self, rounded: np.ndarray) -> dict[str, Any]:
        """:meth:`to_params` of a point already on the steps."""
        coords = rounded.tolist()
        if self._plain:  # ints round, bools are 0.0 or 1.0, floats stay (Dimension._value)
            values = [
                round(v) if k == "int" else bool(v) if k == "bool" else v
                for k, v in zip(self._kinds, coords, strict=True)
            ]
            return {**dict(zip(self._names, values, strict=True)), **self.fixed}
        values = zip(self.dimensions, coords, strict=True)
        return {**{d.name: d._value(v) for d, v in values}, **self.fixed}

    def vector(self, params: Mapping[str, Any] | BaseModel) -> np.ndarray:
        """The point of ``params`` (a dict or a params model), shape ``(n_dims,)``."""
        if isinstance(params, BaseModel):
            params = params.model_dump()
        return np.array([d.encode(params[d.name]) for d in self.dimensions], dtype=float)

    # -- feasibility -------------------------------------------------------------------------
    def check(self, x: np.ndarray, params: Mapping[str, Any] | None = None) -> str | None:
        """Why the params model rejects point ``x``, or ``None`` when it is feasible.

        ``params`` may give ``to_params(x)`` when the caller already has it.
        """
        if self.model is None:
            return None
        try:
            self.model.model_validate(self.to_params(x) if params is None else params)
        except ValidationError as error:
            return "; ".join(_message(e) for e in error.errors())
        return None

    def is_feasible(self, x: np.ndarray) -> bool:
        """True when the params model accepts point ``x`` (shape ``(n_dims,)``)."""
        return self.check(x) is None

    def feasible(self, points: np.ndarray) -> np.ndarray:
        """Feasibility of each row of ``points`` (shape ``(n, n_dims)``) → bool ``(n,)``."""
        return np.array([self.is_feasible(p) for p in np.atleast_2d(points)], dtype=bool)

    def __repr__(self) -> str:
        dims = ", ".join(f"{d.name}∈[{d.low:g}, {d.top:g}]" for d in self.dimensions)
        return f"SearchSpace({dims}; fixed={self.fixed})"


def _dimension(spec, override: Sequence[float | None] | None) -> Dimension:
    if spec.kind == "bool":
        low, high, _ = _override_bounds(spec.name, 0, 1, 1, override, (0, 1))
        default = float(spec.default) if low <= spec.default <= high else None
        return Dimension(spec.name, "bool", float(low), float(high), 1, default=default)
    if spec.kind == "choice":
        if override is not None:
            raise InvalidInputError(f"{spec.name}: pin a choice with fixed= instead of a range")
        index = float(spec.choices.index(spec.default)) if spec.default in spec.choices else None
        return Dimension(
            spec.name, "choice", 0, len(spec.choices) - 1, 1, spec.choices, default=index
        )
    if override is None and (spec.low is None or spec.high is None):
        raise InvalidInputError(f"{spec.name} has no declared bounds; give a range in overrides")
    low, high, step = _override_bounds(
        spec.name, spec.low, spec.high, spec.step, override, (spec.low, spec.high)
    )
    if spec.kind == "int" and step is None:
        step = 1
    dim = Dimension(spec.name, spec.kind, float(low), float(high), step)
    default = spec.default
    inside = isinstance(default, int | float) and dim.contains(float(default))
    return replace(dim, default=float(dim.round(default)) if inside else None)


def _override_bounds(name, low, high, step, override, declared):
    if override is None:
        return low, high, step
    if len(override) not in (2, 3):
        raise InvalidInputError(f"{name}: an override is (low, high) or (low, high, step)")
    new_low, new_high = override[0], override[1]
    new_step = override[2] if len(override) == 3 and override[2] is not None else step
    lo, hi = declared
    if (lo is not None and new_low < lo) or (hi is not None and new_high > hi):
        raise InvalidInputError(
            f"{name}: range [{new_low}, {new_high}] leaves the declared [{lo}, {hi}]"
        )
    if new_low > new_high:
        raise InvalidInputError(f"{name}: low {new_low} is above high {new_high}")
    return new_low, new_high, new_step


def _message(error: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()))
    text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {text}" if where else text
