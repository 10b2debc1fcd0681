"""Printing results as JSON or as readable text, and opening the workstation."""

from __future__ import annotations

import json
import sys
from typing import Any

import pandas as pd

from core._json import plain as jsonable
from core.errors import WorkstationError
from core.workstation import Workstation


class CommandError(WorkstationError):
    """A command that cannot run as asked; the message is shown to the user."""


def open_workstation(args) -> Workstation:
    return Workstation.open(args.db)


def emit(args, payload: dict[str, Any], text: str | None = None) -> None:
    if args.json:
        print(json.dumps(jsonable(payload), indent=2))
    else:
        print(text if text is not None else _plain(payload))


def emit_error(exc: BaseException, as_json: bool) -> int:
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if as_json:
        detail = {k: getattr(exc, k) for k in ("row", "column", "rule", "field") if hasattr(exc, k)}
        print(json.dumps({"error": message, **jsonable(detail)}))
    print(f"error: {message}", file=sys.stderr)
    return 1


def table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)"
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.float_format", "{:,.4f}".format
    ):
        return frame.to_string(index=False)


def _plain(payload: dict[str, Any]) -> str:
    width = max((len(k) for k in payload), default=0)
    return "\n".join(f"{k:<{width}}  {jsonable(v)}" for k, v in payload.items())
