"""Reading the pricing functions' inputs: option rights, float arrays and their ranges.

Every pricing function accepts scalars or numpy arrays that broadcast together; these helpers
turn a right (``"call"``/``"put"``, an array of them, or booleans meaning *is call*) into a
sign array (+1 call, -1 put) and refuse values outside a parameter's domain with a
``where: what is wrong`` message. NaN inputs are not refused: they give NaN outputs.
"""

from __future__ import annotations

import numpy as np

from core.errors import InvalidInputError

_CALLS = frozenset({"call", "c"})
_PUTS = frozenset({"put", "p"})


def _right_word(value: object) -> float:
    word = str(value).strip().lower()
    if word in _CALLS:
        return 1.0
    if word in _PUTS:
        return -1.0
    raise InvalidInputError(f"right: {value!r} is not 'call' or 'put'", "right")


def right_sign(right: object) -> np.ndarray | float:
    """+1.0 for a call, -1.0 for a put.

    Parameters
    ----------
    right : str, bool, or array-like of str or bool
        ``"call"``/``"put"`` (also ``"c"``/``"p"``, any case), or booleans meaning *is call*.

    Returns
    -------
    float or ndarray of float64
        The sign θ, shaped like ``right``.
    """
    if isinstance(right, str):
        return _right_word(right)
    if isinstance(right, (bool, np.bool_)):
        return 1.0 if right else -1.0
    arr = np.asarray(right)
    if arr.dtype == np.bool_:
        return np.where(arr, 1.0, -1.0)
    if arr.dtype.kind in "US" or arr.dtype == object:
        words = np.char.lower(np.char.strip(arr.astype(str)))
        is_call = np.isin(words, list(_CALLS))
        is_put = np.isin(words, list(_PUTS))
        if not np.all(is_call | is_put):
            bad = arr[~(is_call | is_put)].ravel()[0]
            raise InvalidInputError(f"right: {bad!r} is not 'call' or 'put'", "right")
        return np.where(is_call, 1.0, -1.0)
    raise InvalidInputError("right: give 'call'/'put' or booleans (True = call)", "right")


def as_float(value: object, name: str) -> np.ndarray | float:
    """A float (scalar input) or a float64 array; a refusal naming ``name`` otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: not a number ({value!r})", name) from exc
    return arr if arr.ndim else float(arr)


def check_positive(value: np.ndarray | float, name: str) -> None:
    """Refuse a value ≤ 0 (NaN passes and propagates)."""
    if np.any(np.less_equal(value, 0.0)):
        raise InvalidInputError(f"{name}: must be greater than 0", name)


def check_non_negative(value: np.ndarray | float, name: str) -> None:
    """Refuse a value < 0 (NaN passes and propagates)."""
    if np.any(np.less(value, 0.0)):
        raise InvalidInputError(f"{name}: must be 0 or more", name)


def is_scalar(*values: object) -> bool:
    """Whether every input is a scalar (then the outputs are floats)."""
    return all(np.ndim(v) == 0 for v in values)


def parse_strikes(text: str) -> tuple[float, ...]:
    """Strikes typed as ``"95, 100; 105"`` (commas or semicolons) as floats.

    Raises
    ------
    InvalidInputError
        ``strikes: not numbers (...)`` when an entry is not a number.
    """
    try:
        return tuple(float(x) for x in text.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise InvalidInputError(f"strikes: not numbers ({text!r})", "strikes") from None
