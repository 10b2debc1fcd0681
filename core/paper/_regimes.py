"""The session's market regime: an HMM on the first instrument's log returns.

It is fitted causally once enough returns have been seen, then filtered event by event.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core.paper._feeds import Event
from core.regimes import RegimeFilter, RegimeHMM


class RegimeTracker:
    """The session's market regime model, fitted causally and filtered event by event.

    ``n_states`` None: no regimes. ``names``: the feed's true regime names (synthetic feeds), shown
    beside the filtered one. ``alert(level, rule, message)`` is told when the model cannot be fitted
    (regimes are then off).
    """

    def __init__(
        self,
        n_states: int | None,
        warmup: int,
        names: tuple[str, ...] | list[str] | None,
        alert: Callable[[str, str, str], None],
    ):
        self.n_states, self.warmup, self.names, self.alert = n_states, warmup, names, alert
        self.returns: list[float] = []
        self.filter: RegimeFilter | None = None
        self.probs: tuple[float, ...] | None = None
        self.label: str | None = None
        self.true: str | None = None
        self.last_close = math.nan

    def update(self, event: Event) -> None:
        if event.regime is not None and self.names:
            self.true = self.names[event.regime]
        if self.n_states is None:
            return
        close = event.row["close"][0]
        if not (close > 0):
            return
        if self.last_close == self.last_close:
            r = math.log(close / self.last_close)
            self.returns.append(r)
            if self.filter is not None:
                self.probs = self.filter.update(r)
                self.label = self.filter.regime
            elif len(self.returns) >= self.warmup:
                self._fit()
        self.last_close = close

    def _fit(self) -> None:
        """Fit on the returns seen so far (no look-ahead) and filter them."""
        x = np.asarray(self.returns, dtype=float)
        try:
            model = RegimeHMM(self.n_states, n_starts=2, seed=0).fit(x)
        except ValueError as exc:
            self.alert("info", "regime", f"regime model not fitted: {exc}")
            self.n_states = None
            return
        self.filter = RegimeFilter(model)
        for r in self.returns:
            self.probs = self.filter.update(r)
        self.label = self.filter.regime

    def probabilities(self) -> dict[str, float] | None:
        if self.filter is None or self.probs is None:
            return None
        return dict(zip(self.filter.labels, map(float, self.probs), strict=True))
