"""What defines a model, declared once: features, label, booster, walk-forward, the request.

Every model here is a frozen pydantic model that refuses unknown keys; the form on the ML lab
page, validation, the model id and what the registry stores all derive from them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.marketdata import STOCK_SYMBOLS

BUNDLED_UNIVERSE: tuple[str, ...] = STOCK_SYMBOLS
"""The twenty bundled stocks (1990-2022, closes only): not the indices, nor the SYNTHETIC FX
pairs bundled for the currency tools (a stock-selection model must not rank those)."""
INDEX_BENCHMARK = "SP500"
"""The bundled index whose buy-and-hold every report shows (S&P 500 closes, 1990-2022)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureSet(_Frozen):
    """An Alpha158-style feature set on closes (and volumes when the data has them).

    Per symbol and window ``w`` (every value at bar t uses bars t−w…t only):
    ``ret`` close/close[t−w] − 1; ``vol`` std of the last w daily returns; ``ma``
    mean close / close; ``max`` and ``min`` window max / min close over close; ``rank`` the
    share of the window's closes at or below the close; ``rsi`` 100 × gains / (gains +
    losses) of the last w changes (50 when flat); with volume ``vma`` mean volume / volume,
    ``vstd`` volume std / volume and ``corr`` the correlation of close and log volume.
    ``cross_section`` then replaces (``rank``) or supplements (``both``) each feature by its
    cross-sectional rank on that date, scaled to [−0.5, 0.5].
    """

    windows: str = Field("5,10,20,60", description="look-back windows in bars, comma-separated")
    returns: bool = Field(True, description="returns over each window")
    volatility: bool = Field(True, description="volatility of daily returns over each window")
    moving_average: bool = Field(True, description="moving average / close")
    max_min: bool = Field(True, description="window max / close and window min / close")
    rank: bool = Field(True, description="rank of the close in its window")
    rsi: bool = Field(True, description="relative strength index over each window")
    volume: bool = Field(True, description="volume features (only when the data has volume)")
    cross_section: Literal["rank", "raw", "both"] = Field(
        "rank", description="cross-sectional ranks per date instead of (or besides) raw values"
    )

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise ValueError("windows must be whole numbers, e.g. 5,10,20,60") from None
        if not numbers or any(n < 2 or n > 252 for n in numbers) or len(set(numbers)) < len(parts):
            raise ValueError("windows must be distinct whole numbers from 2 to 252")
        return ",".join(str(n) for n in sorted(numbers))

    @property
    def window_list(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.windows.split(","))

    @property
    def lookback(self) -> int:
        """Bars a feature at t reads: t − max window … t (returns need one more close)."""
        return max(self.window_list) + 1


class LabelSpec(_Frozen):
    """The target: ``close[t+1+h] / close[t+1] − 1``, ranked across symbols per date."""

    horizon: int = Field(5, ge=1, le=63, description="bars h of the forward return")
    cross_section: Literal["rank", "raw"] = Field(
        "rank", description="train on the cross-sectional rank of the return, or the return"
    )


class BoosterParams(_Frozen):
    """XGBoost's parameters (the search space of the inner-validation tuning)."""

    objective: Literal["reg:squarederror", "rank:pairwise"] = Field(
        "reg:squarederror", description="regression, or pairwise ranking within each date"
    )
    n_estimators: int = Field(60, ge=5, le=2000, description="boosting rounds (trees)")
    max_depth: int = Field(3, ge=1, le=10, description="depth of each tree")
    learning_rate: float = Field(
        0.05, ge=0.001, le=1.0, description="shrinkage", json_schema_extra={"step": 0.01}
    )
    subsample: float = Field(
        0.8, ge=0.1, le=1.0, description="rows per tree", json_schema_extra={"step": 0.05}
    )
    colsample_bytree: float = Field(
        0.8, ge=0.1, le=1.0, description="features per tree", json_schema_extra={"step": 0.05}
    )
    min_child_weight: float = Field(
        50.0,
        ge=0.0,
        le=10_000,
        description="least hessian in a leaf",
        json_schema_extra={"step": 1},
    )
    reg_lambda: float = Field(
        1.0, ge=0.0, le=100.0, description="L2 penalty", json_schema_extra={"step": 0.1}
    )
    max_bin: int = Field(64, ge=8, le=256, description="histogram bins per feature")

    def xgb(self, seed: int, nthread: int) -> dict:
        """The ``xgboost.train`` parameter dict (deterministic: seed, threads, ``hist``)."""
        params = self.model_dump()
        params.pop("n_estimators")
        params.update(
            tree_method="hist", seed=seed, nthread=nthread, eta=params.pop("learning_rate")
        )
        params["lambda"] = params.pop("reg_lambda")
        return params


class MLTrainRequest(_Frozen):
    """One walk-forward training run: universe, span, features, label, booster, folds.

    ``symbols`` empty with no ``data_file`` means the bundled twenty stocks. Data after
    ``end`` is never read (train and evaluate on data up to it only).
    """

    symbols: tuple[str, ...] = Field((), description="universe; empty = the bundled 20 stocks")
    data_file: str | None = Field(None, description="wide CSV of closes or long OHLCV + symbol")
    start: date | None = Field(None, description="first date read")
    end: date | None = Field(None, description="last date read (nothing after it is used)")
    horizon: int = Field(5, ge=1, le=63, description="label horizon h in bars")
    train: int = Field(756, ge=20, le=10_000, description="bars in each training window")
    test: int = Field(63, ge=1, le=2520, description="bars in each test window")
    step: int | None = Field(None, ge=1, le=2520, description="bars between retrains (= test)")
    window: Literal["rolling", "expanding"] = Field("rolling", description="train window kind")
    top: int = Field(5, ge=1, le=500, description="stocks held by the top-N portfolio")
    weighting: Literal["equal", "score"] = Field("equal", description="top-N weights")
    every: int | None = Field(None, ge=1, le=252, description="bars between rebalances (= h)")
    cost_bps: float = Field(10.0, ge=0, le=500, description="cost per unit of turnover, bps")
    quantiles: int = Field(5, ge=2, le=20, description="score quantiles in the report")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of XGBoost and the canaries")
    nthread: int = Field(1, ge=1, le=64, description="XGBoost threads (fixed: determinism)")
    workers: int = Field(1, ge=1, le=64, description="fold processes (1 = this process)")
    scheduler: str | None = Field(None, description="Dask scheduler address for the folds")
    tune_trials: int = Field(0, ge=0, le=500, description="Optuna trials per fold (0 = off)")
    canaries: bool = Field(True, description="run the leak canaries with the training")
    name: str = Field("", max_length=120, description="a name for the registry")
    features: FeatureSet = Field(default_factory=FeatureSet)
    label: LabelSpec | None = Field(None, description="label (default: horizon, ranked)")
    model: BoosterParams = Field(default_factory=BoosterParams)

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        return tuple(dict.fromkeys(str(s).strip().upper() for s in value if str(s).strip()))

    @model_validator(mode="after")
    def _coherent(self) -> MLTrainRequest:
        if self.label is not None and self.label.horizon != self.horizon:
            raise ValueError("label.horizon must equal horizon")
        if self.start and self.end and self.start >= self.end:
            raise ValueError("start must be before end")
        if self.symbols and self.data_file:
            raise ValueError("give symbols or a data file, not both")
        return self

    @property
    def label_spec(self) -> LabelSpec:
        return self.label or LabelSpec(horizon=self.horizon)

    @property
    def step_bars(self) -> int:
        return self.step or self.test

    @property
    def rebalance_every(self) -> int:
        return self.every or self.horizon

    @property
    def universe(self) -> tuple[str, ...]:
        return self.symbols or (() if self.data_file else BUNDLED_UNIVERSE)
