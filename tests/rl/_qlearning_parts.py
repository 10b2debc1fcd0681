"""Shared pieces of the Q-learning tests: a two-regime market, two strategies known by construction.

The market alternates blocks of a calm rising regime (drift +0.3 % a bar, volatility 0.6 %) and
a turbulent falling one (drift −0.3 %, volatility 1.8 %); each block's noise sums to zero,
so the price swings between the same levels. ``test_always_long`` holds a long
position from the first bar, ``test_always_short`` a short one: the first wins every calm
rising block, the second every falling one, by construction.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import Settings
from core.qlearning import QLearningRequest
from core.strategies import reload
from core.workstation import Workstation

STRATEGIES = '''
from core.strategies import Strategy, StrategyParams


class AlwaysLong(Strategy):
    """Long from the first bar on."""

    name = "test_always_long"
    Params = StrategyParams

    def on_bar(self, ctx):
        if ctx.i == 0:
            ctx.go_long(tag="always long")


class AlwaysShort(Strategy):
    """Short from the first bar on."""

    name = "test_always_short"
    Params = StrategyParams

    def on_bar(self, ctx):
        if ctx.i == 0:
            ctx.go_short(tag="always short")


class ScriptA(Strategy):
    """Long at bar 1, flat at bar 5."""

    name = "test_script_a"
    Params = StrategyParams

    def on_bar(self, ctx):
        {1: ctx.go_long, 5: ctx.go_flat}.get(ctx.i, lambda: None)()


class ScriptB(Strategy):
    """Long at bar 3, short at bar 7."""

    name = "test_script_b"
    Params = StrategyParams

    def on_bar(self, ctx):
        {3: ctx.go_long, 7: ctx.go_short}.get(ctx.i, lambda: None)()
'''
LONG, SHORT = "test_always_long", "test_always_short"
BLOCK = 120


def two_regime_closes(n: int = 1500, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Closes and the regime of each bar (True: calm rising) of the synthetic market."""
    rng = np.random.default_rng(seed)
    bull = (np.arange(n) // BLOCK) % 2 == 0
    noise = rng.standard_normal(n)
    block = np.arange(n) // BLOCK
    noise -= (np.bincount(block, noise) / np.bincount(block))[block]  # blocks end where they began
    returns = np.where(bull, 0.003, -0.003) + np.where(bull, 0.006, 0.018) * noise
    closes = 100 * np.exp(np.cumsum(returns))
    return closes, bull


def write_market(path: Path, closes: np.ndarray) -> Path:
    """A price file: open = previous close, high/low around both, volume constant."""
    opens = np.concatenate([[closes[0]], closes[:-1]])
    frame = pd.DataFrame(
        {
            "date": pd.bdate_range("2001-01-01", periods=len(closes)).strftime("%Y-%m-%d"),
            "open": opens,
            "high": np.maximum(opens, closes) * 1.001,
            "low": np.minimum(opens, closes) * 0.999,
            "close": closes,
            "volume": 1_000_000,
        }
    )
    frame.to_csv(path, index=False)
    return path


class KnownStrategies:
    """Put the two strategies in the registry (a user strategy folder) until :meth:`remove`."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "always.py").write_text(STRATEGIES, encoding="utf-8")
        self._before = os.environ.get("WORKSTATION_STRATEGY_DIR")
        os.environ["WORKSTATION_STRATEGY_DIR"] = str(folder)
        reload()

    def remove(self) -> None:
        if self._before is None:
            os.environ.pop("WORKSTATION_STRATEGY_DIR", None)
        else:
            os.environ["WORKSTATION_STRATEGY_DIR"] = self._before
        reload()


def open_ws(folder: Path) -> Workstation:
    """A migrated workstation with its database and models in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{folder}/ws.db", models_dir=folder / "models", seed_demo=False
    )
    ws = Workstation(settings)
    ws.prepare()
    return ws


def request_for(path: Path, **extra) -> QLearningRequest:
    """The two known strategies on the price file ``path``, 40 episodes, seed 0."""
    values = {"strategies": [LONG, SHORT], "data": str(path), "seed": 0, "episodes": 40}
    return QLearningRequest(**(values | extra))
