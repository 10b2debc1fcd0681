"""Reading untrusted lab JSON: size and depth limits, duplicate keys, non-finite numbers.

:func:`load_json` returns plain Python data or raises :class:`LabFormatError` with a
``where: what`` message. The size limit is checked on the raw bytes and the nesting depth by
a non-recursive scan *before* the text reaches :mod:`json` (whose decoder recurses, so a
100,000-deep ``[[[[…`` would otherwise raise ``RecursionError``). Duplicate keys and the
literals ``NaN``/``Infinity`` and overflowing numbers such as ``1e400`` are marked while
parsing and reported with the field path where they occur.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from core.errors import InvalidInputError, location

MAX_DOCUMENT_BYTES = 50_000_000  # a 100,000-trade export is about 16 MB
MAX_DEPTH = 32  # a lab document nests 4 levels; metadata may add a few

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class LabFormatError(InvalidInputError):
    """A lab document that cannot be read or does not hold together; nothing was written."""


class _Bad:
    """A value the parser refused; found with its path after parsing."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class _Pairs(dict):
    """A JSON object that repeated some keys (kept as ``duplicates``)."""

    duplicates: list[str]


def load_json(raw: str | bytes) -> object:
    """The JSON value in ``raw``; every refusal is a LabFormatError naming where."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise LabFormatError(
            f"{len(data):,} bytes is over the limit of {MAX_DOCUMENT_BYTES:,} bytes",
            where="document",
        )
    depth = nesting_depth(data)
    if depth > MAX_DEPTH:
        raise LabFormatError(
            f"nested {depth:,} levels deep; the limit is {MAX_DEPTH}", where="document"
        )
    flagged: list[bool] = []  # set when a hook marks a value: only then is the tree walked

    def bad(text: str) -> _Bad:
        flagged.append(True)
        return _Bad(text)

    def pairs(items: list[tuple[str, object]]) -> dict:
        result = dict(items)
        if len(result) != len(items):
            flagged.append(True)
            return _duplicates(result, items)
        return result

    try:
        text = data.decode("utf-8-sig")
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=bad,
            parse_float=lambda t: _float(t, bad),
            parse_int=lambda t: _int(t, bad),
        )
    except UnicodeDecodeError as exc:
        raise LabFormatError(
            f"not valid JSON: not UTF-8 text at byte {exc.start}", where="document"
        ) from exc
    except json.JSONDecodeError as exc:
        raise LabFormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            where="document",
            line=exc.lineno,
        ) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise LabFormatError(f"not readable JSON: {exc}", where="document") from exc
    problem = first_problem(value) if flagged else None
    if problem:
        raise LabFormatError(problem)
    return value


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside strings, without recursion."""
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return 0  # cannot be deeper than the limit: skip the scan
    bare = np.frombuffer(_without_strings(data), dtype=np.uint8)
    step = np.isin(bare, (ord("["), ord("{"))).astype(np.int32)
    step -= np.isin(bare, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _without_strings(data: bytes) -> bytes:
    """The JSON text with every string literal removed."""
    if b"\\" in data:  # escapes: a quote may be part of a string
        return _STRINGS.sub(b"", data)
    return b"".join(data.split(b'"')[::2])  # strings are the odd pieces between quotes


def first_problem(value: object) -> str | None:
    """``path: what`` for the first refused literal or duplicate key (iterative walk)."""
    stack: list[tuple[tuple, object]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Bad):
            return f"{location(path) or 'document'}: {item.text} is not a finite number"
        if isinstance(item, _Pairs):
            keys = ", ".join(repr(k) for k in item.duplicates)
            return f"{location(path) or 'document'}: duplicate key {keys}"
        if isinstance(item, dict):
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
    return None


def _duplicates(result: dict, pairs: list[tuple[str, object]]) -> _Pairs:
    seen: set[str] = set()
    marked = _Pairs(result)
    marked.duplicates = sorted({k for k, _ in pairs if k in seen or seen.add(k)})
    return marked


def _float(text: str, bad) -> float | _Bad:
    value = float(text)
    return value if math.isfinite(value) else bad(text if len(text) <= 24 else text[:20] + "…")


def _int(text: str, bad) -> int | _Bad:
    if len(text.lstrip("-")) > 308:  # beyond any float: would overflow where a number is due
        return bad(f"{text[:20]}… ({len(text)} digits)")
    return int(text)
