"""Execution settings shared by backtests and paper trading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidInputError, describe_validation, model_label
from core.execution._costs import CommissionModel, SlippageModel
from core.execution._sizing import Sizing


class ExecutionConfig(BaseModel):
    """How orders become fills.

    ``fill_timing``: a market order placed on a bar's close fills at the next bar's open
    (``next_open``, default) or at the same bar's close (``same_close``).
    ``participation``: the largest share of a bar's volume one order may take (partial
    fills); None for no cap.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fill_timing: Literal["next_open", "same_close"] = "next_open"
    commission: CommissionModel = CommissionModel()
    slippage: SlippageModel = SlippageModel()
    sizing: Sizing = Sizing()
    participation: float | None = Field(default=None, gt=0, le=1)
    allow_short: bool = True
    allow_margin: bool = False


class ExecutionConfigError(InvalidInputError):
    """Execution options that do not make an :class:`ExecutionConfig`.

    ``field`` names the :func:`execution_config` argument at fault.
    """


# (model, field) of a refusal → the execution_config argument that set it
_ARGUMENTS = {
    ("CommissionModel", "rate"): "commission",
    ("SlippageModel", "bps"): "slippage_bps",
    ("Sizing", "method"): "sizing",
    ("Sizing", "quantity"): "size",
    ("Sizing", "percent"): "size",
    ("ExecutionConfig", "fill_timing"): "fill_timing",
    ("ExecutionConfig", "allow_short"): "allow_short",
}


def execution_config(
    *,
    fill_timing: str = ExecutionConfig.model_fields["fill_timing"].default,
    commission: float = CommissionModel.model_fields["rate"].default,
    slippage_bps: float = SlippageModel.model_fields["bps"].default,
    sizing: str = Sizing.model_fields["method"].default,
    size: float | None = None,
    allow_short: bool = ExecutionConfig.model_fields["allow_short"].default,
    options: Mapping[str, str] | None = None,
) -> ExecutionConfig:
    """The execution config of a run form's or a command line's options (one builder for all).

    Parameters
    ----------
    fill_timing : {"next_open", "same_close"}
        When a market order fills.
    commission : float
        Commission as a fraction of notional (0.001 = 10 bp).
    slippage_bps : float
        Slippage in basis points.
    sizing : str
        The sizing method (see :class:`Sizing`).
    size : float or None
        Units for ``fixed`` sizing, the share of equity for any other method; None keeps
        the sizing rule's default.
    allow_short : bool
        Whether a strategy may go short.
    options : mapping of str to str, optional
        What the user typed for each argument (``{"commission": "--commission"}``): a refusal
        then reads ``--commission: problem``; without it, ``commission model: rate: problem``.

    Returns
    -------
    ExecutionConfig
        The validated config.

    Raises
    ------
    ExecutionConfigError
        ``where: what is wrong`` for the first option that does not validate.
    """
    rule: dict = {"method": sizing}
    if size is not None:
        rule["quantity" if sizing == "fixed" else "percent"] = size
    try:
        return ExecutionConfig(
            fill_timing=fill_timing,
            commission=CommissionModel(rate=commission),
            slippage=SlippageModel(bps=slippage_bps),
            sizing=Sizing(**rule),
            allow_short=allow_short,
        )
    except ValidationError as exc:
        raise _refusal(exc, options) from None


def _refusal(exc: ValidationError, options: Mapping[str, str] | None) -> ExecutionConfigError:
    title = str(exc.title)

    def argument(loc: tuple) -> str | None:
        return _ARGUMENTS.get((title, str(loc[0]))) if loc else None

    arguments = [argument(tuple(e.get("loc", ()))) for e in exc.errors(include_url=False)]
    if options and arguments and all(a in options for a in arguments):
        message = describe_validation(exc, "", where_of=lambda loc: options[argument(loc)])
    else:
        message = describe_validation(exc, model_label(exc))
    return ExecutionConfigError(message, arguments[0] if arguments else None)
