"""Issue 11: core raises the workstation's kinds to users; the CLI and the UI catch the base."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import core
from core import cli
from core.errors import InvalidInputError, NotFoundError, WorkstationError
from core.optimize import Dimension, Objective, walk_forward_splits
from core.paper import parse_speed
from core.strategies import get_strategy

BARE = {"ValueError", "KeyError", "LookupError"}
VALIDATORS = {"field_validator", "model_validator"}  # pydantic wraps what these raise


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for deco in node.decorator_list:
        deco = deco.func if isinstance(deco, ast.Call) else deco
        names.add(deco.attr if isinstance(deco, ast.Attribute) else getattr(deco, "id", ""))
    return names


def _bare_raises(node: ast.AST, path: Path, in_validator: bool = False) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        in_validator = in_validator or bool(_decorators(node) & VALIDATORS)
    found = []
    if isinstance(node, ast.Raise) and node.exc is not None and not in_validator:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in BARE:
            found.append(f"{path}:{node.lineno} raises {exc.id}")
    for child in ast.iter_child_nodes(node):
        found += _bare_raises(child, path, in_validator)
    return found


def test_core_raises_no_bare_value_or_lookup_error_outside_pydantic_validators():
    root = Path(core.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        found += _bare_raises(ast.parse(path.read_text(encoding="utf-8")), path.relative_to(root))
    assert found == []


def test_the_command_line_catches_the_base_class_never_bare_value_or_lookup_errors():
    assert issubclass(InvalidInputError, cli.REFUSALS)
    assert not issubclass(ValueError, cli.REFUSALS)
    assert not issubclass(KeyError, cli.REFUSALS)
    assert issubclass(OSError, cli.REFUSALS)  # a file that cannot be read stays a refusal
    assert not hasattr(core.errors, "NOT_YET_CONVERTED")


def test_a_speed_that_is_not_a_number_is_invalid_input_on_the_speed_field():
    with pytest.raises(InvalidInputError) as caught:
        parse_speed("fast")
    assert str(caught.value) == "speed must be 'max' or a positive number, got 'fast'"
    assert caught.value.field == "speed"


def test_optimisation_inputs_raise_invalid_input_with_their_messages():
    with pytest.raises(InvalidInputError, match=r"^train, test and step must be at least 1$"):
        walk_forward_splits(100, 0, 10)
    with pytest.raises(InvalidInputError, match=r"^x: kind must be one of"):
        Dimension("x", "bogus", 0, 1)


def test_unknown_names_are_not_found_and_read_as_the_plain_message():
    with pytest.raises(NotFoundError) as caught:
        Objective(metric="nope")({"sharpe": 1.0})
    assert str(caught.value) == "the metrics have no 'nope' (they have sharpe)"
    assert caught.value.field == "metric"
    with pytest.raises(NotFoundError) as caught:
        get_strategy("nope")
    assert str(caught.value).startswith("unknown strategy 'nope'; available: ")
    assert isinstance(caught.value, WorkstationError)
