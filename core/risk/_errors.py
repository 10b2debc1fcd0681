"""The risk package's refusals: bad limits, states, orders or measure inputs."""

from __future__ import annotations

from core.errors import WorkstationError


class RiskError(WorkstationError, ValueError):
    """A risk request the workstation refuses; the message reads ``where: what is wrong``."""
