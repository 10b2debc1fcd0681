"""Live paper trading: sessions run by a worker process on a replayed or synthetic feed.

- :class:`SessionConfig` — strategies with their cash shares, the feed, costs, risk;
- :class:`PaperWorker` — the process that trades a session (``python -m core paper run``);
- :class:`PaperService` — create sessions, send commands, read the console, reconcile.
"""

from core.paper._config import FeedConfig, SessionConfig, SleeveConfig, parse_speed
from core.paper._feeds import SYNTHETIC_SYMBOLS, Clock, Event, Feed, build_feed
from core.paper._sending import COMMAND_KINDS
from core.paper._service import ConsoleSnapshot, PaperService, PaperServiceError
from core.paper._worker import PaperError, PaperWorker

__all__ = [
    "COMMAND_KINDS",
    "SYNTHETIC_SYMBOLS",
    "Clock",
    "ConsoleSnapshot",
    "Event",
    "Feed",
    "FeedConfig",
    "PaperError",
    "PaperService",
    "PaperServiceError",
    "PaperWorker",
    "SessionConfig",
    "SleeveConfig",
    "build_feed",
    "parse_speed",
]
