"""Long-only, fully invested constraints as arrays: per-asset caps and group caps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.allocation._spec import AllocationError, AllocationSpec

TOLERANCE = 1e-8


@dataclass(frozen=True)
class Bounds:
    """``0 ≤ w ≤ upper``, ``Σw = 1`` and ``groups @ w ≤ group_caps``.

    ``upper`` has shape (n_assets,); ``groups`` is a 0/1 matrix of shape (n_groups, n_assets).
    """

    symbols: tuple[str, ...]
    upper: np.ndarray
    groups: np.ndarray
    group_caps: np.ndarray
    group_names: tuple[str, ...]

    @property
    def n_assets(self) -> int:
        return len(self.symbols)

    @property
    def capped(self) -> bool:
        return bool(np.any(self.upper < 1)) or len(self.group_names) > 0

    def check(self, weights: np.ndarray, method: str) -> None:
        """Raise if a method without native constraints broke a cap."""
        over = np.flatnonzero(weights > self.upper + TOLERANCE)
        if over.size:
            i = over[0]
            raise AllocationError(
                f"{method} gives {self.symbols[i]} a weight of {weights[i]:.4f}, above the "
                f"max weight {self.upper[i]:.4f}; this method cannot honour that cap",
                "max_weight",
            )
        sums = self.groups @ weights
        for name, total, cap in zip(self.group_names, sums, self.group_caps, strict=True):
            if total > cap + TOLERANCE:
                raise AllocationError(
                    f"{method} puts {total:.4f} in group {name!r}, above its cap {cap:.4f}; "
                    "use an optimisation method (min_variance, mean_variance, max_sharpe, "
                    "min_cvar) for group caps",
                    "group_caps",
                )


def bounds_for(symbols: tuple[str, ...], spec: AllocationSpec) -> Bounds:
    """Build and sanity-check the constraints of ``spec`` for ``symbols``."""
    n = len(symbols)
    if spec.max_weight * n < 1 - TOLERANCE:
        raise AllocationError(
            f"max weight {spec.max_weight:g} × {n} assets = {spec.max_weight * n:g} < 1: "
            "no fully invested portfolio fits under the cap; raise the max weight or add assets",
            "max_weight",
        )
    position = {s: i for i, s in enumerate(symbols)}
    groups = np.zeros((len(spec.group_caps), n))
    for row, group in enumerate(spec.group_caps):
        unknown = [s for s in group.symbols if s not in position]
        if unknown:
            raise AllocationError(
                f"group {group.name!r} names {', '.join(unknown)}, not among the allocated "
                f"symbols {', '.join(symbols)}",
                "group_caps",
            )
        groups[row, [position[s] for s in group.symbols]] = 1.0
    return Bounds(
        symbols=symbols,
        upper=np.full(n, spec.max_weight),
        groups=groups,
        group_caps=np.array([g.cap for g in spec.group_caps], dtype=float),
        group_names=tuple(g.name for g in spec.group_caps),
    )
