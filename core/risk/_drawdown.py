"""The drawdown controller: a status and a position scale from the equity's fall off its peak.

Drawdown is a fraction ≥ 0: ``(peak - equity) / peak`` with ``peak`` the highest equity seen so far.
A drawdown at or above ``warning`` is level ``"warning"``, at or above ``critical`` it is
``"critical"``; the scale (``warning_scale``, ``critical_scale``, else 1) is what strategies
and the paper engine multiply their target positions by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.risk._errors import RiskInputError

LEVELS = ("normal", "warning", "critical")


@dataclass(frozen=True)
class DrawdownStatus:
    """One reading of the controller.

    drawdown : fraction ≥ 0 below the peak (0.12 = 12 % below it)
    peak : highest equity seen, currency
    level : ``"normal"``, ``"warning"`` or ``"critical"``
    scale : factor on target positions (1 in normal)
    """

    drawdown: float
    peak: float
    level: str
    scale: float

    def to_dict(self) -> dict:
        return {
            "drawdown": self.drawdown,
            "peak": self.peak,
            "level": self.level,
            "scale": self.scale,
        }


class DrawdownController:
    """Incremental (O(1) per update) drawdown status of an equity stream.

    Parameters
    ----------
    warning, critical : float
        Drawdown fractions, 0 < warning ≤ critical < 1, where the levels start (inclusive).
    critical_scale : float, default 0.5
        Position scale at the critical level, in [0, 1].
    warning_scale : float, default 1.0
        Position scale at the warning level, in [critical_scale, 1].
    peak : float, optional
        A peak carried over from an earlier run (recovery after a restart).
    """

    def __init__(
        self,
        warning: float = 0.10,
        critical: float = 0.20,
        critical_scale: float = 0.5,
        *,
        warning_scale: float = 1.0,
        peak: float | None = None,
    ):
        _check_thresholds(warning, critical, critical_scale, warning_scale)
        if peak is not None and not math.isfinite(peak):
            raise RiskInputError(f"the starting peak must be a finite number, got {peak}")
        self.warning = float(warning)
        self.critical = float(critical)
        self.critical_scale = float(critical_scale)
        self.warning_scale = float(warning_scale)
        self.peak = None if peak is None else float(peak)

    def update(self, equity: float) -> DrawdownStatus:
        """Take the latest equity and return the status after it."""
        if not math.isfinite(equity):
            raise RiskInputError(f"equity must be a finite number, got {equity}")
        if self.peak is None or equity > self.peak:
            self.peak = float(equity)
        return self.status(equity)

    def status(self, equity: float) -> DrawdownStatus:
        """The status of ``equity`` against the current peak (the peak is not moved)."""
        peak = self.peak if self.peak is not None else float(equity)
        drawdown = max(0.0, (peak - equity) / peak) if peak > 0 else 0.0
        level = self.level_of(drawdown)
        return DrawdownStatus(drawdown, peak, level, self.scale_of(level))

    def level_of(self, drawdown: float) -> str:
        if drawdown >= self.critical:
            return "critical"
        return "warning" if drawdown >= self.warning else "normal"

    def scale_of(self, level: str) -> float:
        return {"normal": 1.0, "warning": self.warning_scale, "critical": self.critical_scale}[
            level
        ]


def drawdown_series(
    equity,
    warning: float = 0.10,
    critical: float = 0.20,
    critical_scale: float = 0.5,
    *,
    warning_scale: float = 1.0,
) -> pd.DataFrame:
    """The controller's status at every point of an equity array, vectorized.

    Parameters
    ----------
    equity : array-like of shape (n_observations,)
        Equity in currency, finite; a Series keeps its index.

    Returns
    -------
    DataFrame with columns ``equity``, ``peak``, ``drawdown``, ``level``, ``scale``; row ``t``
    equals ``DrawdownController(...).update(equity[t])`` after updates ``0..t``.
    """
    _check_thresholds(warning, critical, critical_scale, warning_scale)
    index = equity.index if isinstance(equity, pd.Series) else None
    values = np.asarray(equity, dtype=float)
    if values.ndim != 1:
        raise RiskInputError(f"equity must be one-dimensional, got shape {values.shape}")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise RiskInputError(f"equity must be finite; position {bad[0]} is {values[bad[0]]}")
    peak = np.maximum.accumulate(values) if values.size else values
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, np.maximum(0.0, (peak - values) / peak), 0.0)
    level_index = (drawdown >= warning).astype(int) + (drawdown >= critical).astype(int)
    scales = np.array([1.0, warning_scale, critical_scale])
    return pd.DataFrame(
        {
            "equity": values,
            "peak": peak,
            "drawdown": drawdown,
            "level": np.array(LEVELS, dtype=object)[level_index],
            "scale": scales[level_index],
        },
        index=index,
    )


def _check_thresholds(warning, critical, critical_scale, warning_scale) -> None:
    if not (0 < warning <= critical < 1):
        raise RiskInputError(
            f"drawdown thresholds need 0 < warning ≤ critical < 1, got warning={warning}, "
            f"critical={critical}"
        )
    if not (0 <= critical_scale <= warning_scale <= 1):
        raise RiskInputError(
            f"scales need 0 ≤ critical_scale ≤ warning_scale ≤ 1, got "
            f"critical_scale={critical_scale}, warning_scale={warning_scale}"
        )
