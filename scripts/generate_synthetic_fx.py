"""Write ``data/market/fx_synthetic_close.csv.gz``: SYNTHETIC daily FX closes (not market data).

Run from the repository root: ``python scripts/generate_synthetic_fx.py``. Deterministic (seed
20261202): the same file every run. No network.

EURUSD, USDJPY and GBPUSD follow mean-reverting log processes (Ornstein-Uhlenbeck, half-life
three years) with plausible annual volatilities (8 %, 9 %, 8.5 %) and correlated daily shocks
(EURUSD/GBPUSD +0.6, EURUSD/USDJPY −0.3, GBPUSD/USDJPY −0.2), on weekdays from 1999-01-04 to
2022-12-30. EURGBP is EURUSD / GBPUSD, so the three European rates are consistent (no
triangular arbitrage). Closes are rounded to 5 decimals (3 for USDJPY).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261202
OUT = Path("data/market/fx_synthetic_close.csv.gz")
PAIRS = ("EURUSD", "USDJPY", "GBPUSD")
START = {"EURUSD": 1.17, "USDJPY": 112.0, "GBPUSD": 1.65}
MEAN = {"EURUSD": 1.20, "USDJPY": 110.0, "GBPUSD": 1.50}
VOL = {"EURUSD": 0.08, "USDJPY": 0.09, "GBPUSD": 0.085}
CORR = np.array([[1.0, -0.3, 0.6], [-0.3, 1.0, -0.2], [0.6, -0.2, 1.0]])
DAYS_PER_YEAR = 260
HALF_LIFE_YEARS = 3.0


def generate() -> pd.DataFrame:
    dates = pd.bdate_range("1999-01-04", "2022-12-30")
    rng = np.random.default_rng(SEED)
    shocks = rng.standard_normal((len(dates), 3)) @ np.linalg.cholesky(CORR).T
    kappa = np.log(2) / (HALF_LIFE_YEARS * DAYS_PER_YEAR)
    columns = {}
    for j, pair in enumerate(PAIRS):
        sigma = VOL[pair] / np.sqrt(DAYS_PER_YEAR)
        log_mean, x = np.log(MEAN[pair]), np.empty(len(dates))
        x[0] = np.log(START[pair])
        for t in range(1, len(dates)):
            x[t] = x[t - 1] + kappa * (log_mean - x[t - 1]) + sigma * shocks[t, j]
        columns[pair] = np.exp(x)
    table = pd.DataFrame(columns, index=pd.Index(dates.strftime("%Y-%m-%d"), name="date"))
    table["EURGBP"] = table["EURUSD"] / table["GBPUSD"]
    decimals = {"EURUSD": 5, "USDJPY": 3, "GBPUSD": 5, "EURGBP": 5}
    return table.round(decimals)


if __name__ == "__main__":
    frame = generate()
    frame.to_csv(OUT, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {OUT}: {len(frame)} rows, {frame.index[0]} .. {frame.index[-1]}")
    print(frame.describe().loc[["min", "mean", "max"]])
