"""The one ``key=value`` parser (core/_kv.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core._kv import PairError, parse_pairs, parse_value, split_pair
from core.errors import WorkstationError


def test_split_pair_cuts_at_the_first_equals_and_strips():
    assert split_pair(" fast = 10 ") == ("fast", "10")
    assert split_pair("expr=a=b") == ("expr", "a=b")
    assert split_pair("=5") == ("", "5")  # a key is only required on request
    assert split_pair("key=") == ("key", "")


def test_split_pair_refuses_text_without_equals_naming_the_option():
    with pytest.raises(PairError) as caught:
        split_pair("fast", option="--param", form="KEY=VALUE")
    assert str(caught.value) == "--param expects KEY=VALUE, got 'fast'"
    assert isinstance(caught.value, WorkstationError) and isinstance(caught.value, ValueError)
    with pytest.raises(PairError, match="--range expects key=lo:hi, got '=5'"):
        split_pair("=5", option="--range", form="key=lo:hi", require_key=True)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("true", True),
        ("FALSE", False),
        ("10", 10),
        ("0.25", 0.25),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ('"quoted"', "quoted"),
        ("SPX:0.5,IXIC:0.5", "SPX:0.5,IXIC:0.5"),
        ("", ""),
    ],
)
def test_parse_value_reads_bools_then_json_then_text(raw, value):
    assert parse_value(raw) == value
    assert type(parse_value(raw)) is type(value)


def test_parse_pairs_keeps_the_last_of_a_repeated_key():
    assert parse_pairs(["fast=5", "long_short=true", "fast=7"]) == {"fast": 7, "long_short": True}
    assert parse_pairs(["a=1"], value=str) == {"a": "1"}
    with pytest.raises(PairError, match="--param expects key=value, got 'oops'"):
        parse_pairs(["a=1", "oops"])


KEYS = st.text(st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), max_size=8)


@given(key=KEYS, value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
def test_split_pair_inverts_joining(key, value):
    assert split_pair(f"{key}={value}") == (key.strip(), value.strip())


@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans())
def test_parse_value_reads_back_what_json_writes(value):
    assert parse_value(json.dumps(value)) == value
