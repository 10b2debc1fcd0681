"""Read a user's price file (CSV or Parquet) into a validated bars frame (the rules: _bar_rules.py).

Accepted layouts: a timestamp column (``timestamp``, ``date``, ``datetime`` or
``time``, any case) with ``open, high, low, close`` and optionally ``volume``, or a
timestamp with a single price column (``close``, ``price`` or ``adj close``).
Yahoo-style exports (``Date, Open, High, Low, Close, Adj Close, Volume``) load as
they are. A broken rule raises :class:`BarsValidationError` naming the file, the
offending row (the line number for CSV, header = line 1) and the column as written in
the file; the row rules (dates, order, numbers, prices, volume) are all checked and up to
``core.errors.MAX_LISTED`` of their problems listed in one message ("and N more" after).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import MAX_LISTED
from core.marketdata._bar_rules import (
    _DATE_FORMATS,
    _KINDS,
    _SEPARATORS,
    ADJ_CLOSE_NAME,
    CLOSE_NAMES,
    EARLIEST_BAR,
    FUTURE_TOLERANCE,
    OHL,
    RULE_CLOSE_COLUMN,
    RULE_DATE_RANGE,
    RULE_FIELDS,
    RULE_FILE_TYPE,
    RULE_FINITE,
    RULE_HIGH,
    RULE_INCREASING,
    RULE_LOW,
    RULE_NOT_EMPTY,
    RULE_NUMERIC,
    RULE_OHL_TOGETHER,
    RULE_POSITIVE,
    RULE_READABLE,
    RULE_TIMESTAMP_COLUMN,
    RULE_TIMESTAMP_PARSE,
    RULE_UNIQUE,
    RULE_VOLUME,
    TIMESTAMP_NAMES,
    BarsValidationError,
    Source,
    _Problems,
    _Where,
)
from core.marketdata._frames import BAR_COLUMNS

# --- reading -------------------------------------------------------------------------------


def read_bars_file(
    source: Source,
    *,
    filename: str | None = None,
    use_adjusted: bool = False,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Read a CSV/Parquet price file (path, bytes or binary file-like) into a bars frame.

    The format follows the extension of ``filename`` (or of the path / the file-like's
    ``name``): ``.csv``, ``.txt`` (optionally ``.gz``), ``.parquet``, ``.pq``. With
    ``use_adjusted`` and an ``Adj Close`` column, prices are back-adjusted. Bars dated
    before 1800 or after ``now`` (UTC, default the clock) plus two days are refused.
    """
    name = _source_name(source, filename)
    kind, compressed = _file_kind(name)
    data = _read_bytes(source, name)
    if kind == "csv":
        raw, rows = _parse_csv(data, compressed, name)
        return _validated(raw, _Where(name, "line", rows, {}), use_adjusted, now)
    raw = _parse_parquet(data, name)
    return bars_from_frame(raw, source=name, use_adjusted=use_adjusted, now=now)


def bars_from_frame(
    frame: pd.DataFrame,
    *,
    source: str | None = None,
    use_adjusted: bool = False,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Validate an in-memory table in any accepted layout and return a bars frame.

    A ``DatetimeIndex`` (or any named index) is treated as the timestamp column.
    Rows are reported 1-based; ``source`` names the data in error messages.
    """
    if isinstance(frame.index, pd.DatetimeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True)
    rows = np.arange(1, len(frame) + 1)
    return _validated(frame, _Where(source, "row", rows, {}), use_adjusted, now)


def _source_name(source: Source, filename: str | None) -> str | None:
    if filename is not None:
        return Path(filename).name
    if isinstance(source, str | Path):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else None


def _file_kind(name: str | None) -> tuple[str, bool]:
    lower = (name or "").lower()
    compressed = lower.endswith(".gz")
    kind = _KINDS.get(Path(lower.removesuffix(".gz")).suffix)
    if kind is None or (compressed and kind != "csv"):
        detail = (
            f"cannot tell the format of {name!r}" if name else "no file name to tell the format"
        )
        raise BarsValidationError(RULE_FILE_TYPE, detail, filename=name)
    return kind, compressed


def _read_bytes(source: Source, name: str | None) -> bytes:
    try:
        if isinstance(source, bytes | bytearray):
            return bytes(source)
        if isinstance(source, str | Path):
            return Path(source).read_bytes()
        if hasattr(source, "seek"):
            source.seek(0)
        return source.read()
    except OSError as exc:
        raise BarsValidationError(RULE_READABLE, str(exc), filename=name) from exc


def _parse_csv(data: bytes, compressed: bool, name: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        text = (gzip.decompress(data) if compressed else data).decode("utf-8-sig")
        frame = _read_csv_text(text)
    except pd.errors.EmptyDataError as exc:
        raise BarsValidationError(RULE_NOT_EMPTY, "the file is empty", filename=name) from exc
    except (pd.errors.ParserWarning, pd.errors.ParserError) as exc:
        raise _too_many_fields(text, exc, name) from exc
    except (OSError, EOFError, ValueError, zlib.error, csv.Error) as exc:
        raise BarsValidationError(RULE_READABLE, _first_line(exc), filename=name) from exc
    keep = frame.notna().any(axis=1).to_numpy()  # blank lines still count as lines
    rows = np.arange(2, len(frame) + 2)[keep]
    return frame[keep].reset_index(drop=True), rows


def _read_csv_text(text: str) -> pd.DataFrame:
    """All cells as text; a line with more fields than the header is an error, not data."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(
            io.StringIO(text),
            sep=_sniff_separator(text),
            dtype=str,
            index_col=False,
            skip_blank_lines=False,
            skipinitialspace=True,
        )


def _too_many_fields(text: str, exc: Exception, name: str | None) -> BarsValidationError:
    """The first line with more fields than the header, found with the csv module."""
    separator = _sniff_separator(text)
    reader = csv.reader(io.StringIO(text), delimiter=separator, skipinitialspace=True)
    header = None
    try:
        for fields in reader:
            if not fields:
                continue
            if header is None:
                header = len(fields)
            elif len(fields) > header:
                detail = f"{len(fields)} fields, the header has {header}"
                return BarsValidationError(
                    RULE_FIELDS, detail, filename=name, row=reader.line_num, row_word="line"
                )
    except csv.Error:
        pass
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match:
        header, line, seen = (int(g) for g in match.groups())
        detail = f"{seen} fields, the header has {header}"
        return BarsValidationError(RULE_FIELDS, detail, filename=name, row=line, row_word="line")
    return BarsValidationError(RULE_READABLE, _first_line(exc), filename=name)


def _first_line(exc: Exception) -> str:
    """A library's message, first line only (never a multi-line dump)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sniff_separator(text: str) -> str:
    header = text.lstrip("\r\n").partition("\n")[0]
    return max(_SEPARATORS, key=header.count)


def _parse_parquet(data: bytes, name: str | None) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises its own types for a broken file
        raise BarsValidationError(RULE_READABLE, _first_line(exc), filename=name) from exc


# --- validation ------------------------------------------------------------------------------


def _validated(
    raw: pd.DataFrame, where: _Where, use_adjusted: bool, now: datetime | None
) -> pd.DataFrame:
    if raw.empty:
        raise where.error(RULE_NOT_EMPTY, "no data rows")
    where = replace(where, names=_resolve_columns(raw, where))
    problems = _Problems(where)
    timestamps = _parse_timestamps(raw[where.names["timestamp"]], where, problems)
    if not problems.found:  # order and range need every date
        _check_range(timestamps, where, now, problems)
        _check_order(timestamps, where, problems)
    numbers, not_numbers = _numbers(raw, where, problems)
    _check_prices(numbers, where, problems, not_numbers)
    problems.raise_any()
    if use_adjusted and "adj" in numbers:
        numbers = _back_adjust(numbers)
    return _assemble(timestamps, numbers)


def _resolve_columns(raw: pd.DataFrame, where: _Where) -> dict[str, str]:
    """Map canonical names (timestamp, open, ..., adj) to the columns as written."""
    written = {}
    for column in raw.columns:
        written.setdefault(" ".join(str(column).lower().replace("_", " ").split()), column)
    found = f"columns found: {[str(c) for c in raw.columns]}"
    timestamp = next((written[n] for n in TIMESTAMP_NAMES if n in written), None)
    if timestamp is None:
        raise where.error(RULE_TIMESTAMP_COLUMN, f"no {'/'.join(TIMESTAMP_NAMES)} column; {found}")
    close = next((written[n] for n in CLOSE_NAMES if n in written), None)
    if close is None:
        raise where.error(RULE_CLOSE_COLUMN, f"no close/price/adj close column; {found}")
    names = {"timestamp": timestamp, "close": close}
    names.update({n: written[n] for n in (*OHL, "volume") if n in written})
    if ADJ_CLOSE_NAME in written and written[ADJ_CLOSE_NAME] != close:
        names["adj"] = written[ADJ_CLOSE_NAME]
    present = [n for n in OHL if n in names]
    if present and len(present) < len(OHL):
        missing = [n for n in OHL if n not in names]
        raise where.error(RULE_OHL_TOGETHER, f"missing {', '.join(missing)}; {found}")
    return names


def _parse_timestamps(column: pd.Series, where: _Where, problems: _Problems) -> np.ndarray:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        parsed = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(column.dtype):
        parsed = column
    else:
        parsed = _parse_timestamp_text(column.astype(str).str.strip().where(column.notna()))
    bad = parsed.isna().to_numpy()
    problems.add(
        RULE_TIMESTAMP_PARSE,
        np.flatnonzero(bad),
        lambda pos: f"{column.iloc[pos]!r} is not a date (ISO 2020-01-31 or US 1/31/2020)",
        "timestamp",
    )
    return parsed.to_numpy(dtype="datetime64[us]")


def _parse_timestamp_text(text: pd.Series) -> pd.Series:
    """Try each accepted date format; keep the one that parses the most rows."""
    best = None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True).dt.tz_localize(None)
        if best is None or parsed.isna().sum() < best.isna().sum():
            best = parsed
        if not best.isna().any():
            break
    return best


def latest_bar_time(now: datetime | None = None) -> np.datetime64:
    """The latest plausible bar time: ``now`` (naive or aware; default the clock) + 2 days."""
    now = datetime.now(UTC) if now is None else now
    now = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    return np.datetime64(now + FUTURE_TOLERANCE, "us")


def _check_range(
    timestamps: np.ndarray, where: _Where, now: datetime | None, problems: _Problems | None = None
) -> None:
    latest = latest_bar_time(now)
    bad = (timestamps < EARLIEST_BAR) | (timestamps > latest)

    def detail(pos: int) -> str:
        when = "before 1800-01-01" if timestamps[pos] < EARLIEST_BAR else "in the future"
        text = np.datetime_as_string(timestamps[pos], unit="s").removesuffix("T00:00:00")
        return f"{text} is {when}"

    own = problems or _Problems(where)
    own.add(RULE_DATE_RANGE, np.flatnonzero(bad), detail, "timestamp")
    if problems is None:
        own.raise_any()


def check_bar_range(index: pd.DatetimeIndex, now: datetime | None = None) -> None:
    """Refuse a bars frame (already validated otherwise) with a bar outside the plausible range.

    For frames that reach the database without going through a file.
    """
    stamps = index.to_numpy(dtype="datetime64[us]")
    where = _Where(None, "row", np.arange(1, len(stamps) + 1), {})
    _check_range(stamps, where, now)


def _check_order(timestamps: np.ndarray, where: _Where, problems: _Problems) -> None:
    step = np.diff(timestamps)
    bad = np.flatnonzero(step <= np.timedelta64(0)) + 1
    for pos in bad[: MAX_LISTED + 1]:  # rule by rule, in row order
        this, before = _stamp(timestamps[pos]), _stamp(timestamps[pos - 1])
        earlier = f"{where.row_word} {where.rows[pos - 1]}"
        if this == before:
            detail = f"{this} repeats {earlier}"
            problems.add(RULE_UNIQUE, [pos], lambda _, d=detail: d, "timestamp")
        else:
            detail = f"{this} comes after {before} ({earlier}); is the file sorted newest first?"
            problems.add(RULE_INCREASING, [pos], lambda _, d=detail: d, "timestamp")
    problems.total += max(len(bad) - (MAX_LISTED + 1), 0)


def _stamp(value: np.datetime64) -> str:
    # str(), not strftime: a year outside 1..9999 (refused by the date-range rule, still
    # named in the order rule's message) has no strftime
    stamp = pd.Timestamp(value)
    text = str(stamp)
    return text.split(" ")[0] if stamp == stamp.normalize() else text


def _numbers(
    raw: pd.DataFrame, where: _Where, problems: _Problems
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The value columns under canonical names, as float64, and the cells that are no number.

    Each such cell is a problem.
    """
    original = pd.DataFrame(
        {c: raw[where.names[c]] for c in (*BAR_COLUMNS, "adj") if c in where.names}
    )
    numbers = original.apply(pd.to_numeric, errors="coerce").astype(float)
    not_numbers = original.notna() & numbers.isna()
    problems.add_cells(
        RULE_NUMERIC,
        not_numbers,
        lambda pos, column: f"{original[column].iloc[pos]!r} is not a number",
    )
    return numbers, not_numbers


def _check_prices(
    numbers: pd.DataFrame, where: _Where, problems: _Problems, not_numbers: pd.DataFrame
) -> None:
    columns = [c for c in numbers.columns if c != "volume"]
    prices = numbers[columns]
    _cells(problems, ~np.isfinite(prices) & ~not_numbers[columns], RULE_FINITE, prices,
           "{} is not a finite number")  # fmt: skip
    _cells(problems, prices <= 0, RULE_POSITIVE, prices, "{} is not above 0")
    if "open" in numbers:
        _check_ranges(numbers, problems)
    if "volume" in numbers:
        volume = numbers[["volume"]]
        bad = (~np.isfinite(volume) | (volume < 0)) & ~not_numbers[["volume"]]
        _cells(problems, bad, RULE_VOLUME, volume, "{} is not a finite number ≥ 0")


def _check_ranges(numbers: pd.DataFrame, problems: _Problems) -> None:
    top = np.maximum(numbers["open"], numbers["close"])
    bottom = np.minimum(numbers["open"], numbers["close"])
    _bound(problems, numbers["high"] < top, RULE_HIGH, numbers["high"], top, "below max")
    _bound(problems, numbers["low"] > bottom, RULE_LOW, numbers["low"], bottom, "above min")


def _bound(
    problems: _Problems, bad: pd.Series, rule: str, values: pd.Series, bound: pd.Series, word: str
) -> None:
    def detail(pos: int) -> str:
        return f"{_num(values.iloc[pos])} is {word}(open, close) = {_num(bound.iloc[pos])}"

    problems.add(rule, np.flatnonzero(bad.to_numpy()), detail, values.name)


def _cells(problems: _Problems, mask: pd.DataFrame, rule: str, values: pd.DataFrame, text: str):
    def detail(pos: int, column: str) -> str:
        value = values[column].iloc[pos]
        return "the value is missing" if np.isnan(value) else text.format(_num(value))

    problems.add_cells(rule, mask, detail)


def _num(value: float) -> str:
    return f"{value:.10g}"


def _back_adjust(numbers: pd.DataFrame) -> pd.DataFrame:
    """Scale open/high/low/close by adj/close (close becomes adj close, to rounding).

    Scaling all four prices by the same factor keeps high ≥ max(open, close) and
    low ≤ min(open, close) exact in floating point.
    """
    factor = numbers["adj"] / numbers["close"]
    prices = [c for c in ("open", "high", "low", "close") if c in numbers]
    return numbers.assign(**{c: numbers[c] * factor for c in prices})


def _assemble(timestamps: np.ndarray, numbers: pd.DataFrame) -> pd.DataFrame:
    index = pd.DatetimeIndex(timestamps, name="timestamp")
    columns = {
        c: numbers[c].to_numpy(dtype=float) if c in numbers else np.full(len(index), np.nan)
        for c in BAR_COLUMNS
    }
    return pd.DataFrame(columns, index=index)
