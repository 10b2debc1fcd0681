"""Printing results as JSON or as readable text, and opening the workstation."""

from __future__ import annotations

import json
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from core._json import plain as jsonable
from core.config import DATA_DIR
from core.errors import (
    InvalidInputError,
    describe_validation,
    error_reference,
    location,
    model_label,
)
from core.workstation import Workstation

LOG_DIR = DATA_DIR / "logs"
ERROR_LOG = "cli-errors.log"
SUBCOMMANDS = ("action", "audit_action", "paper_command", "risk_action")
# The option behind a config field, so a refusal names what the user typed:
# (model, field) → option. A strategy's parameters (models named ``...Params``) are --param.
OPTIONS = {
    ("CommissionModel", "rate"): "--commission",
    ("SlippageModel", "bps"): "--slippage-bps",
    ("Sizing", "quantity"): "--size",
    ("Sizing", "percent"): "--size",
    ("BacktestConfig", "cash"): "--cash",
    ("BacktestConfig", "start"): "--start",
    ("BacktestConfig", "end"): "--end",
    ("BacktestConfig", "symbols"): "--symbol",
    ("BacktestConfig", "data_file"): "--data",
    ("MonteCarloConfig", "n_paths"): "--paths",
    ("MonteCarloConfig", "horizon"): "--horizon",
    ("MonteCarloConfig", "block_size"): "--block-size",
    ("MonteCarloConfig", "seed"): "--seed",
    ("RebalancePolicy", "abs_threshold"): "--abs",
    ("RebalancePolicy", "rel_threshold"): "--rel",
    ("RebalancePolicy", "min_interval_bars"): "--min-interval",
    ("RebalancePolicy", "vol_bound"): "--vol-bound",
}


class CommandError(InvalidInputError):
    """A command that cannot run as asked; the message is shown to the user."""


def open_workstation(args) -> Workstation:
    return Workstation.open(args.db)


def emit(args, payload: dict[str, Any], text: str | None = None) -> None:
    if args.json:
        print(json.dumps(jsonable(payload), indent=2))
    else:
        print(text if text is not None else _plain(payload))


def command_name(args) -> str:
    """The command as typed: ``portfolio show``, ``risk state``, ``backtest``."""
    parts = [str(args.command)]
    parts += [str(getattr(args, k)) for k in SUBCOMMANDS if getattr(args, k, None)]
    return " ".join(parts)


def check_dates(args) -> None:
    """``--start``/``--end`` of any command.

    A date, or a refusal naming the option (rather than the date parser's message deep inside a
    command).
    """
    for option in ("start", "end"):
        value = getattr(args, option, None)
        if not isinstance(value, str):
            continue
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            raise CommandError(f"--{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def error_message(exc: BaseException) -> str:
    """A refusal's message: ``where: what is wrong``, never a pydantic dump or a URL."""
    if isinstance(exc, ValidationError):
        return validation_message(exc)
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc)


def validation_message(exc: ValidationError) -> str:
    """A pydantic refusal by the options at fault.

    ``--commission: Input should be ...``, ``--param fast: ...``; a field with no option as ``model
    label: field: ...``.
    """
    title = str(exc.title)
    if title.endswith("Params"):
        return describe_validation(exc, "", where_of=lambda loc: f"--param {location(loc)}".strip())
    fields = {str(error["loc"][0]) for error in exc.errors() if error.get("loc")}
    if fields and all((title, f) in OPTIONS for f in fields):
        return describe_validation(exc, "", where_of=lambda loc: _option(title, loc))
    return describe_validation(exc, model_label(exc))


def _option(title: str, loc: tuple) -> str:
    rest = location(loc[1:])
    return OPTIONS[(title, str(loc[0]))] + (f" {rest}" if rest else "") if loc else ""


def emit_error(exc: BaseException, as_json: bool, command: str = "error") -> int:
    """``command: message`` on stderr (and ``{"error": message, ...}`` with ``--json``)."""
    message = error_message(exc)
    if as_json:
        detail = {k: getattr(exc, k) for k in ("row", "column", "rule", "field") if hasattr(exc, k)}
        print(json.dumps({"error": message, **jsonable(detail)}))
    already = message.startswith(f"{command}: ")  # e.g. "risk limits: ..." from core
    print(message if already else f"{command}: {message}", file=sys.stderr)
    return 1


def emit_unexpected(exc: BaseException, as_json: bool, command: str) -> int:
    """One line with a reference for the user; the traceback goes to the log file."""
    ref = error_reference()
    where = _log_traceback(exc, ref, command)
    message = f"unexpected error (ref {ref}); details in {where}"
    if as_json:
        print(json.dumps({"error": message, "ref": ref}))
    print(f"{command}: {message}", file=sys.stderr)
    return 1


def _log_traceback(exc: BaseException, ref: str, command: str) -> str:
    path = Path(LOG_DIR) / ERROR_LOG
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} ref {ref} command {command!r}\n{text}\n")
    except OSError:
        return "the terminal's standard error (the log could not be written)"
    return str(path)


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
