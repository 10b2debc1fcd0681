"""core.errors: one message style — ``where: what is wrong`` — with no pydantic dump or URL."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from core.errors import (
    WorkstationError,
    describe_validation,
    failure_message,
    model_label,
    validation_problems,
)


class WindowParams(BaseModel):
    fast: int = Field(10, ge=2)
    slow: int = Field(50, ge=3)

    @model_validator(mode="after")
    def _order(self):
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        return self


def _error(**values) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        WindowParams(**values)
    return caught.value


def test_field_errors_name_the_field_and_carry_no_url():
    message = describe_validation(_error(fast=1, slow="x"), "parameters")
    assert message == (
        "parameters: fast: Input should be greater than or equal to 2; "
        "slow: Input should be a valid integer, unable to parse string as an integer"
    )
    assert "http" not in message and "[type=" not in message


def test_a_model_error_is_its_message_alone():
    assert validation_problems(_error(fast=60)) == ["fast (60) must be shorter than slow (50)"]


def test_where_of_renames_locations():
    problems = validation_problems(_error(fast=1), where_of=lambda loc: f"--param {loc[0]}")
    assert problems == ["--param fast: Input should be greater than or equal to 2"]


def test_model_label_reads_the_model_name_in_words():
    assert model_label(_error(fast=1)) == "window params"


def test_failure_message_keeps_refusals_and_hides_defects(caplog):
    assert failure_message(WorkstationError("P: no such portfolio")) == "P: no such portfolio"
    assert failure_message(KeyError("no bars for NOPE")) == "no bars for NOPE"
    assert failure_message(_error(fast=1)) == (
        "window params: fast: Input should be greater than or equal to 2"
    )
    with caplog.at_level(logging.ERROR, logger="core"):
        message = failure_message(RuntimeError("pointer soup"))
    match = re.fullmatch(r"unexpected error \(ref ([0-9A-F]{6})\); details in the log", message)
    assert match, message
    (record,) = caplog.records
    assert match.group(1) in record.getMessage() and record.exc_info[0] is RuntimeError
