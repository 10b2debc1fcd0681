"""``metrics``: performance metrics of a price or equity column in a CSV/Parquet file."""

from __future__ import annotations

import gzip
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from core.analytics import compute_metrics, periods_per_year_for
from core.cli._output import CommandError, emit
from core.marketdata import TIMESTAMP_NAMES, read_bars_file

BAR_PRICE_COLUMNS = ("open", "high", "low", "close")
_SEPARATORS = (",", ";", "\t", "|")
# How each metric reads in the text table: percent, ratio, currency or count.
_FORMATS = {
    "total_return": "pct",
    "cagr": "pct",
    "volatility": "pct",
    "sharpe": "ratio",
    "sortino": "ratio",
    "max_drawdown": "pct",
    "calmar": "ratio",
    "var_95": "pct",
    "cvar_95": "pct",
    "var_99": "pct",
    "cvar_99": "pct",
    "win_rate": "pct",
    "profit_factor": "ratio",
    "average_trade": "money",
    "exposure": "pct",
    "turnover": "ratio",
    "n_trades": "count",
}


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "metrics",
        help="performance metrics of a price or equity column in a CSV/Parquet file",
        description="Treat one column as an equity curve held from its first row and print "
        "total return, CAGR, volatility, Sharpe, Sortino, drawdown, VaR/CVaR (docs/METRICS.md).",
        parents=[shared],
    )
    parser.add_argument("--data", required=True, type=Path, metavar="FILE", help="CSV or Parquet")
    parser.add_argument(
        "--column",
        default="close",
        help="price or equity column, any case (default: close); "
        "open/high/low/close go through the bars importer, others are read as they are",
    )
    parser.add_argument(
        "--periods-per-year",
        type=float,
        metavar="N",
        help="bars per year (default: inferred from the timestamps)",
    )
    parser.add_argument(
        "--risk-free",
        type=float,
        default=0.0,
        metavar="R",
        help="annual risk-free rate as a fraction, e.g. 0.04 (default: 0)",
    )
    parser.set_defaults(handler=show_metrics)


def show_metrics(args) -> None:
    series = read_column(args.data, args.column)
    ppy = _periods_per_year(args.periods_per_year, series.index)
    metrics = compute_metrics(series.to_numpy(), periods_per_year=ppy, risk_free=args.risk_free)
    payload = {
        "metrics": metrics,
        "periods_per_year": ppy,
        "start": series.index[0],
        "end": series.index[-1],
        "n_periods": len(series) - 1,
    }
    emit(args, payload, _text(args, payload))


# --- reading the column ----------------------------------------------------------------------


def _key(name) -> str:
    """Column names compare in lower case, ``_`` as a space, runs of spaces as one."""
    return " ".join(str(name).lower().replace("_", " ").split())


def read_column(path: Path, column: str) -> pd.Series:
    """The named column as a float Series on a timestamp index, oldest first."""
    if _key(column) in BAR_PRICE_COLUMNS:
        bars = read_bars_file(path)
        series = bars[_key(column)]
        if series.isna().all():
            raise CommandError(f"{path.name} has no {column!r} prices (a close-only file?)")
        return series
    return _read_plain_column(path, column)


def _read_plain_column(path: Path, column: str) -> pd.Series:
    frame = _read_table(path)
    names = {_key(c): c for c in reversed(frame.columns)}
    if _key(column) not in names:
        found = [str(c) for c in frame.columns]
        raise CommandError(f"{path.name} has no column {column!r}; columns found: {found}")
    stamp = next((names[n] for n in TIMESTAMP_NAMES if n in names), None)
    if stamp is None:
        raise CommandError(f"{path.name} has no {'/'.join(TIMESTAMP_NAMES)} column")
    index = _timestamps(frame[stamp], path.name)
    values = _numbers(frame[names[_key(column)]], path.name)
    return pd.Series(values, index=index, name=_key(column))


def _read_table(path: Path) -> pd.DataFrame:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        frame = pd.read_parquet(path)
        named_index = isinstance(frame.index, pd.DatetimeIndex) or frame.index.name is not None
        return frame.reset_index() if named_index else frame
    if name.endswith((".csv", ".txt")):
        text = _open_text(path)
        header = text.lstrip("\r\n").partition("\n")[0]
        sep = max(_SEPARATORS, key=header.count)
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True)
    raise CommandError(f"cannot tell the format of {path.name!r}: use .csv, .txt or .parquet")


def _open_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.lower().endswith(".gz") else data).decode(
        "utf-8-sig"
    )


def _timestamps(column: pd.Series, filename: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        parsed = pd.to_datetime(column, utc=True)
    else:
        parsed = pd.to_datetime(column.str.strip(), utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = int(bad.argmax())
        raise CommandError(
            f"{filename} row {pos + 1}: {column.iloc[pos]!r} is not an ISO date "
            f"in column {column.name!r}"
        )
    index = pd.DatetimeIndex(parsed).tz_localize(None)
    if not (index[1:] > index[:-1]).all():
        raise CommandError(f"{filename}: timestamps must be strictly increasing")
    return index.rename("timestamp")


def _numbers(column: pd.Series, filename: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        pos = int(bad.argmax())
        raise CommandError(
            f"{filename} row {pos + 1}: {column.iloc[pos]!r} in column {column.name!r} "
            "is not a positive number"
        )
    return values


# --- output ----------------------------------------------------------------------------------


def _periods_per_year(given: float | None, index: pd.DatetimeIndex) -> float | int:
    if given is None:
        return periods_per_year_for(index)
    if not (math.isfinite(given) and given > 0):
        raise CommandError(f"--periods-per-year must be a positive number, got {given}")
    return int(given) if given.is_integer() else given


def _format(value: float | int, kind: str) -> str:
    if kind == "count":
        return str(value)
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:.3f}"


def _stamp(stamp: pd.Timestamp) -> str:
    return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else str(stamp)


def _text(args, payload: dict) -> str:
    metrics = payload["metrics"]
    width = max(len(k) for k in metrics)
    head = (
        f"{args.data.name} [{args.column}]: {_stamp(payload['start'])} to "
        f"{_stamp(payload['end'])}, "
        f"{payload['n_periods']} periods, {payload['periods_per_year']} a year"
    )
    rows = [f"  {k:<{width}}  {_format(v, _FORMATS[k]):>12}" for k, v in metrics.items()]
    return "\n".join([head, *rows])
