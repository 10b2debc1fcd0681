"""Derive the compact market-data files bundled under ``data/market/``.

Run once, by hand, in an environment that has ``skfolio`` and ``arch`` installed
(they are *not* dependencies of the workstation)::

    pip install skfolio arch
    python scripts/derive_bundled_data.py

The script only reads the CSV files those packages ship, normalises dates to ISO
8601 and column names to lower case, checks the values, and writes gzip CSVs.
Provenance and licences are recorded in ``data/README.md``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "market"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed: pip install {name}")
    return Path(spec.origin).parent


def _write(frame: pd.DataFrame, name: str) -> None:
    frame.index.name = "date"
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.to_csv(OUT / name, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {name}: {len(frame)} rows, columns {list(frame.columns)}")


def _closes(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col="Date", parse_dates=True)
    assert frame.index.is_monotonic_increasing and not frame.index.has_duplicates
    assert np.isfinite(frame.to_numpy()).all() and (frame.to_numpy() > 0).all()
    return frame


def _ohlcv(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    raw.index = pd.to_datetime(raw.pop("Date"), format="%m/%d/%Y")
    assert np.allclose(raw["Close"], raw["Adj Close"]), "index closes are unadjusted"
    frame = raw[["Open", "High", "Low", "Close", "Volume"]].rename(columns=str.lower)
    assert frame.index.is_monotonic_increasing and not frame.index.has_duplicates
    return frame


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    skfolio_data = _package_dir("skfolio") / "datasets" / "data"
    arch_data = _package_dir("arch") / "data"
    _write(_closes(skfolio_data / "sp500_dataset.csv.gz"), "sp500_stocks_close.csv.gz")
    _write(_closes(skfolio_data / "sp500_index.csv.gz"), "sp500_index_close.csv.gz")
    _write(_ohlcv(arch_data / "sp500" / "sp500.csv.gz"), "spx_ohlcv.csv.gz")
    _write(_ohlcv(arch_data / "nasdaq" / "nasdaq.csv.gz"), "ixic_ohlcv.csv.gz")


if __name__ == "__main__":
    main()
