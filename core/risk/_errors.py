"""The risk package's refusals: bad limits, states, orders or measure inputs."""

from __future__ import annotations

from core.errors import ConflictError, InvalidInputError, NotFoundError, WorkstationError


class RiskError(WorkstationError, ValueError):
    """A risk request the workstation refuses; the message reads ``where: what is wrong``.

    The room's umbrella: raise sites raise one of its kinds below.
    """


class RiskInputError(RiskError, InvalidInputError):
    """Limits, a state, an order or a measure's input that breaks a rule."""


class RiskNotFound(RiskError, NotFoundError):
    """A pre-trade rule or result that does not exist."""


class RiskConflict(RiskError, ConflictError):
    """A trading state that is already set (nothing changed)."""
