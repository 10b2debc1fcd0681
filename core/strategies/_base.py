"""The strategy API: parameters, callbacks, and the context a strategy trades through.

A strategy never knows whether it runs in a backtest or in live paper trading: it reads
prices and its portfolio from the :class:`Context` and places orders through it. Only the
clock and the feed behind the context differ.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from core.strategies._params import StrategyParams


class Context(Protocol):
    """What a strategy sees and does at the close of each bar."""

    i: int  # bar number, from 0
    symbols: tuple[str, ...]

    def close(self, symbol: str | None = None) -> float: ...
    def bar(self, symbol: str | None = None) -> tuple[float, float, float, float, float]: ...
    def has_bar(self, symbol: str | None = None) -> bool: ...
    def position(self, symbol: str | None = None) -> float: ...
    @property
    def cash(self) -> float: ...
    @property
    def equity(self) -> float: ...
    def go_long(self, symbol: str | None = None, tag: str = "") -> Any: ...
    def go_short(self, symbol: str | None = None, tag: str = "") -> Any: ...
    def go_flat(self, symbol: str | None = None, tag: str = "") -> Any: ...
    def buy(self, quantity: float, symbol: str | None = None, **order: Any) -> Any: ...
    def sell(self, quantity: float, symbol: str | None = None, **order: Any) -> Any: ...
    def bracket(
        self,
        side: str,
        quantity: float,
        *,
        stop_loss: float,
        take_profit: float,
        symbol: str | None = None,
        **entry: Any,
    ) -> Any: ...
    def cancel(self, order_id: int) -> bool: ...
    def target_weights(self, weights: dict[str, float], tag: str = "") -> None: ...
    def marks(self) -> dict[str, float]: ...
    def position_value(self, symbol: str, price: float) -> float: ...
    @property
    def instruments(self) -> dict[str, Any]: ...
    @property
    def execution(self) -> Any: ...
    def volatility(self, symbol: str | None = None) -> float: ...


class Strategy:
    """Base class. Subclasses set ``name``, ``Params`` and implement ``on_bar``.

    Strategies whose decisions depend on prices alone may also implement ``signals``
    (targets per bar as an array) to run on the vectorized path; it must give the same
    decisions as ``on_bar``.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    multi_asset: ClassVar[bool] = False
    needs_models: ClassVar[bool] = False
    """True: the factory passes the runner's model source (``models=``) to ``__init__``."""

    def __init__(
        self, params: StrategyParams | None = None, *, models: Any = None, **overrides: Any
    ):
        self.models = models  # the runner's model source (``needs_models`` strategies)
        if params is None:
            params = self.Params(**overrides)
        elif overrides:
            params = params.model_copy(update=overrides)
            params = self.Params.model_validate(params.model_dump())
        self.params = params

    def rebuilt(self, params: StrategyParams) -> Strategy:
        """A new copy with ``params`` and the collaborators this one was built with."""
        return type(self)(params, models=self.models)

    def on_start(self, ctx: Context) -> None:
        """Called once before the first bar."""

    def on_bar(self, ctx: Context) -> None:
        raise NotImplementedError

    def on_fill(self, ctx: Context, execution: Any) -> None:
        """Called after each of this strategy's fills."""

    def signals(self, close: np.ndarray, high=None, low=None) -> np.ndarray | None:
        """Targets per bar for the vectorized path.

        +1 long, −1 short, 0 flat, NaN no change. None when the strategy cannot state its signals as
        arrays.
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"
