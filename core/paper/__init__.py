"""Live paper trading: sessions run by a worker process on a replayed or synthetic feed.

- :class:`SessionConfig` — strategies with their cash shares, the feed, costs, risk;
- :class:`PaperWorker` — the process that trades a session (``python -m core paper run``);
- :class:`PaperService` — create sessions, send commands, read the console, reconcile, and
  build a worker (:meth:`PaperService.worker`);
- :class:`PaperDeps` — what both read of the rest of the workstation (database, bars, network);
- :class:`SessionStatus`, :class:`CommandStatus`, :data:`PaperCommand` (:func:`parse_command`),
  :class:`SessionState` — the room's typed boundaries.
"""

from core.paper._config import (
    SYNTHETIC_COMMISSION,
    SYNTHETIC_PARAMS,
    FeedConfig,
    SessionConfig,
    SleeveConfig,
    parse_speed,
)
from core.paper._deps import BarSource, PaperDeps, PortfolioOpener
from core.paper._feeds import SYNTHETIC_SYMBOLS, Clock, Event, Feed, build_feed
from core.paper._sending import COMMAND_KINDS
from core.paper._service import ConsoleSnapshot, PaperService, PaperServiceError
from core.paper._types import (
    CommandKind,
    CommandStatus,
    PaperCommand,
    SessionState,
    SessionStatus,
    parse_command,
)
from core.paper._worker import PaperError, PaperWorker

__all__ = [
    "COMMAND_KINDS",
    "SYNTHETIC_COMMISSION",
    "SYNTHETIC_PARAMS",
    "SYNTHETIC_SYMBOLS",
    "BarSource",
    "Clock",
    "CommandKind",
    "CommandStatus",
    "ConsoleSnapshot",
    "Event",
    "Feed",
    "FeedConfig",
    "PaperCommand",
    "PaperDeps",
    "PaperError",
    "PaperService",
    "PaperServiceError",
    "PaperWorker",
    "PortfolioOpener",
    "SessionConfig",
    "SessionState",
    "SessionStatus",
    "SleeveConfig",
    "build_feed",
    "parse_command",
    "parse_speed",
]
