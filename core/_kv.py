"""``key=value`` text, read one way everywhere.

The command line's ``--param``, ``--range`` and similar options, and any form that takes
pairs, read them here.

:func:`split_pair` cuts one pair at its first ``=`` (both sides stripped) and refuses text
without one; :func:`parse_value` reads a value as the command line always has: ``true`` /
``false`` (any case), else JSON (numbers, lists, objects, quoted text), else the text itself;
:func:`parse_pairs` does both for a list of pairs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from core.errors import InvalidInputError


class PairError(InvalidInputError):
    """A ``key=value`` text without its ``=`` (or, when a key is required, without a key)."""


def split_pair(
    text: str, *, option: str = "--param", form: str = "key=value", require_key: bool = False
) -> tuple[str, str]:
    """Cut ``text`` at its first ``=`` into a stripped key and value.

    Parameters
    ----------
    text : str
        One pair, e.g. ``"fast=10"``.
    option : str, default "--param"
        The option the pair came from, named in the refusal.
    form : str, default "key=value"
        The expected shape, named in the refusal (``"KEY=VALUE"``, ``"key=lo:hi[:step]"``).
    require_key : bool, default False
        Refuse an empty key too (``"=5"``).

    Returns
    -------
    tuple of (str, str)
        The key and the value, each stripped of surrounding white space.

    Raises
    ------
    PairError
        ``{option} expects {form}, got '{text}'`` when there is no ``=`` (or no key).
    """
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or (require_key and not key):
        raise PairError(f"{option} expects {form}, got {text!r}", option)
    return key, value


def parse_value(raw: str) -> Any:
    """A value as the command line reads it.

    Parameters
    ----------
    raw : str
        The text after ``=``.

    Returns
    -------
    Any
        ``True``/``False`` for ``true``/``false`` in any case, else the JSON value the text
        spells (``10`` → 10, ``0.5`` → 0.5, ``[1, 2]`` → a list), else the text unchanged.
    """
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def parse_pairs(
    pairs: Iterable[str],
    *,
    option: str = "--param",
    form: str = "key=value",
    value: Callable[[str], Any] = parse_value,
) -> dict[str, Any]:
    """``key=value`` texts as a dict (a repeated key keeps its last value).

    Parameters
    ----------
    pairs : iterable of str
        The pairs, e.g. ``["fast=10", "long_short=true"]``.
    option, form : str
        Named in the refusal of a pair without ``=`` (see :func:`split_pair`).
    value : callable, default :func:`parse_value`
        Reads each value's text.

    Returns
    -------
    dict of str to Any
        Key → value read, in the order first given.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        key, raw = split_pair(pair, option=option, form=form)
        values[key] = value(raw)
    return values


__all__ = ["PairError", "parse_pairs", "parse_value", "split_pair"]
