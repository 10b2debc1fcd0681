"""The rules a price file must keep, the error that names a broken one, and where it is.

Rule texts (``RULE_*``) are what a refusal quotes; :class:`BarsValidationError` says which
rule broke at which file, line and column; the reader (``_importer.py``) collects row
problems in a ``_Problems`` list, up to ``core.errors.MAX_LISTED`` in one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from core.errors import MAX_LISTED, InvalidInputError, join_problems

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
