"""Read a user's price file (CSV or Parquet) into a validated bars frame.

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from core.errors import MAX_LISTED, InvalidInputError, join_problems
from core.marketdata._frames import BAR_COLUMNS

TIMESTAMP_NAMES = ("timestamp", "date", "datetime", "time")
CLOSE_NAMES = ("close", "price", "adj close")
ADJ_CLOSE_NAME = "adj close"
OHL = ("open", "high", "low")
_DATE_FORMATS = ("ISO8601", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
_KINDS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
_SEPARATORS = (",", ";", "\t", "|")

RULE_FILE_TYPE = "file type .csv, .txt, .parquet or .pq"
RULE_READABLE = "file must be readable"
RULE_NOT_EMPTY = "file must contain at least one row of data"
RULE_TIMESTAMP_COLUMN = "a timestamp column is required"
RULE_CLOSE_COLUMN = "a close column is required"
RULE_OHL_TOGETHER = "open, high and low come together"
RULE_TIMESTAMP_PARSE = "timestamps must be dates"
RULE_INCREASING = "timestamps strictly increasing"
RULE_UNIQUE = "timestamps unique"
RULE_NUMERIC = "values numeric"
RULE_FINITE = "prices present and finite"
RULE_POSITIVE = "prices > 0"
RULE_HIGH = "high ≥ max(open, close)"
RULE_LOW = "low ≤ min(open, close)"
RULE_VOLUME = "volume ≥ 0 and finite"
RULE_FIELDS = "no line has more fields than the header"
RULE_DATE_RANGE = "timestamps from 1800-01-01 to now"

EARLIEST_BAR = np.datetime64("1800-01-01")
FUTURE_TOLERANCE = timedelta(days=2)  # a daily bar stamped in a timezone ahead of UTC

Source = str | Path | bytes | bytearray | IO[bytes]


class BarsValidationError(InvalidInputError):
    """A price file or frame that breaks a rule; says where and which rule."""

    def __init__(
        self,
        rule: str,
        detail: str = "",
        *,
        filename: str | None = None,
        row: int | None = None,
        column: str | None = None,
        row_word: str = "row",
        others: tuple[BarsValidationError, ...] = (),
        more: int = 0,
    ) -> None:
        self.rule, self.detail, self.filename = rule, detail, filename
        self.row, self.column, self.row_word = row, column, row_word
        self.others, self.more = others, more  # further problems listed, and not listed
        super().__init__(self._message(), line=row if row_word == "line" else None)

    @property
    def problems(self) -> list[BarsValidationError]:
        """The first problem (this one) and the others listed with it."""
        return [self, *self.others]

    def _message(self) -> str:
        if not self.others and not self.more:
            return self._one(self.filename)
        parts = [p._one(None) for p in self.problems]
        tail = f" (and {self.more} more)" if self.more else ""
        if self.filename:
            return join_problems(self.filename, parts, limit=len(parts)) + tail
        return "; ".join(parts) + tail

    def _one(self, filename: str | None) -> str:
        place = " ".join(
            part
            for part in (filename, None if self.row is None else f"{self.row_word} {self.row}")
            if part
        )
        if self.column is not None:
            place = f"{place}, column {self.column!r}" if place else f"column {self.column!r}"
        text = f"{self.detail} (rule: {self.rule})" if self.detail else self.rule
        return f"{place}: {text}" if place else text


@dataclass(frozen=True)
class _Where:
    """How to name a position in the user's input: file, row numbers, column names."""

    filename: str | None
    row_word: str  # "line" for CSV (header = line 1), "row" otherwise
    rows: np.ndarray  # user-facing number of each data row
    names: dict[str, str]  # canonical column -> column as written

    def error(self, rule: str, detail: str = "", pos: int | None = None, column: str | None = None):
        return BarsValidationError(
            rule,
            detail,
            filename=self.filename,
            row=None if pos is None else int(self.rows[pos]),
            column=None if column is None else self.names.get(column, column),
            row_word=self.row_word,
        )


class _Problems:
    """The row-rule problems of one input: the first ``limit`` kept, the rest counted."""

    def __init__(self, where: _Where, limit: int = MAX_LISTED) -> None:
        self.where, self.limit = where, limit
        self.found: list[BarsValidationError] = []
        self.total = 0

    def add(self, rule: str, positions, detail, column=None) -> None:
        """One problem per position (in order).

        ``detail(pos)`` and ``column`` (a name or a function of ``pos``) say what is wrong.
        """
        positions = [int(p) for p in positions]
        self.total += len(positions)
        for pos in positions[: max(self.limit - len(self.found), 0)]:
            col = column(pos) if callable(column) else column
            self.found.append(self.where.error(rule, detail(pos), pos, col))

    def add_cells(self, rule: str, mask: pd.DataFrame, detail) -> None:
        """One problem per True cell of ``mask``, row by row; ``detail(pos, column)``."""
        rows, cols = np.nonzero(mask.to_numpy(dtype=bool))
        self.total += len(rows)
        room = max(self.limit - len(self.found), 0)
        for pos, j in zip(rows[:room], cols[:room], strict=True):
            column = mask.columns[int(j)]
            self.found.append(self.where.error(rule, detail(int(pos), column), int(pos), column))

    def raise_any(self) -> None:
        if not self.found:
            return
        first, others = self.found[0], tuple(self.found[1:])
        raise BarsValidationError(
            first.rule,
            first.detail,
            filename=first.filename,
            row=first.row,
            column=first.column,
            row_word=first.row_word,
            others=others,
            more=self.total - len(self.found),
        )


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
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)


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
